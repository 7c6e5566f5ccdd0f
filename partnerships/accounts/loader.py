"""Flask-Login's user loader: the session id is ``"<user id>:<session token>"``."""

from __future__ import annotations

import hmac

from ..extensions import db
from .models import User


def load_user(session_id: str) -> User | None:
    """Return the user for a session, or None if it was signed out everywhere."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active:
        return None
    if not hmac.compare_digest(user.session_token, token):
        return None
    return user
