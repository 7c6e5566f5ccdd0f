"""Signed, single-purpose, expiring tokens for emailed links.

Each purpose has its own salt, so a confirmation token can never be used as a
reset token. A reset token also carries a fingerprint of the current password
hash: once the password changes, every earlier reset link stops working, which
makes reset links single-use without storing them.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .models import User

CONFIRM_SALT = "account-confirm-email"
RESET_SALT = "account-reset-password"


class TokenError(Exception):
    """A link that is expired, altered, or already used."""

    def __init__(self, message: str, expired: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.expired = expired


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _fingerprint(user: User) -> str:
    material = f"{user.password_hash or ''}|{user.session_token}".encode()
    return hashlib.sha256(material).hexdigest()[:16]


def make_confirm_token(user: User) -> str:
    return _serializer(CONFIRM_SALT).dumps({"uid": user.id, "email": user.email})


def make_reset_token(user: User) -> str:
    return _serializer(RESET_SALT).dumps({"uid": user.id, "fp": _fingerprint(user)})


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


def reset_fingerprint_matches(user: User, fingerprint: str) -> bool:
    import hmac

    return hmac.compare_digest(_fingerprint(user), fingerprint)
