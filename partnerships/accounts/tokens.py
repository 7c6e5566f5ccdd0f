"""Signed, single-purpose, expiring tokens for emailed links.

Each purpose has its own salt, so a confirmation token can never be used as a
reset token. A reset token also carries a fingerprint of the current password
hash: once the password changes, every earlier reset link stops working, which
makes reset links single-use without storing them. An email-change token carries
the new address and a fingerprint of the current address too, so it works once:
after the change (or a password change, or signing out other devices) it is dead.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .models import User

CONFIRM_SALT = "account-confirm-email"
RESET_SALT = "account-reset-password"
EMAIL_CHANGE_SALT = "account-change-email"
# How long a link to confirm a new email address works, unless the app's config
# sets EMAIL_CHANGE_TOKEN_MAX_AGE (seconds).
EMAIL_CHANGE_MAX_AGE = 24 * 3600


class TokenError(Exception):
    """A link that is expired, altered, or already used."""

    def __init__(self, message: str, expired: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.expired = expired


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _fingerprint(user: User, *extra: str) -> str:
    material = "|".join([user.password_hash or "", user.session_token, *extra]).encode()
    return hashlib.sha256(material).hexdigest()[:16]


def make_confirm_token(user: User) -> str:
    return _serializer(CONFIRM_SALT).dumps({"uid": user.id, "email": user.email})


def make_reset_token(user: User) -> str:
    return _serializer(RESET_SALT).dumps({"uid": user.id, "fp": _fingerprint(user)})


def make_email_change_token(user: User, new_email: str) -> str:
    return _serializer(EMAIL_CHANGE_SALT).dumps(
        {"uid": user.id, "email": new_email, "fp": _fingerprint(user, user.email)}
    )


def _load(salt: str, token: str, max_age: int) -> dict[str, Any]:
    try:
        data = _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise TokenError("This link has expired.", expired=True) from exc
    except BadSignature as exc:
        raise TokenError("This link is not valid. Check you copied the whole link.") from exc
    if not isinstance(data, dict):
        raise TokenError("This link is not valid. Check you copied the whole link.")
    return data


def read_confirm_token(token: str) -> tuple[int, str]:
    data = _load(CONFIRM_SALT, token, current_app.config["CONFIRM_TOKEN_MAX_AGE"])
    return int(data["uid"]), str(data["email"])


def read_reset_token(token: str) -> tuple[int, str]:
    data = _load(RESET_SALT, token, current_app.config["RESET_TOKEN_MAX_AGE"])
    return int(data["uid"]), str(data["fp"])


def read_email_change_token(token: str) -> tuple[int, str, str]:
    max_age = current_app.config.get("EMAIL_CHANGE_TOKEN_MAX_AGE", EMAIL_CHANGE_MAX_AGE)
    data = _load(EMAIL_CHANGE_SALT, token, max_age)
    return int(data["uid"]), str(data["email"]), str(data["fp"])


def reset_fingerprint_matches(user: User, fingerprint: str) -> bool:
    return hmac.compare_digest(_fingerprint(user).encode(), fingerprint.encode())


def email_change_fingerprint_matches(user: User, fingerprint: str) -> bool:
    return hmac.compare_digest(_fingerprint(user, user.email).encode(), fingerprint.encode())
