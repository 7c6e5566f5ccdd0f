"""Flask-Login's user loader: the session id is ``"<user id>:<session key>"``.

The key is a device session's (``UserSession``), so signing out, which deletes the
row, ends the session and "remember me" cookies at once. The user and the device
session come back in one query. A key that matches no device session may still be
the user's ``session_token``: sessions made without a device row (see
``User.session_token``) end when that token is rotated.
"""

from __future__ import annotations

import hmac

from sqlalchemy import and_, select

from ..bounds import identifier
from ..extensions import db
from . import sessions
from .models import User, UserSession, hash_session_key


def load_user(session_id: str) -> User | None:
    """Return the user for a session, or None if it has been signed out."""
    user_id, _, key = session_id.partition(":")
    number = identifier(user_id)
    if number is None or not key:
        return None
    row = db.session.execute(
        select(User, UserSession)
        .outerjoin(UserSession, and_(UserSession.user_id == User.id,
                                     UserSession.key_hash == hash_session_key(key)))
        .where(User.id == number)
    ).first()
    if row is None:
        return None
    # ``_tuple()`` (SQLAlchemy's documented name; the row itself at run time) keeps the
    # row's types; ``device`` is None when no device session matched (the outer join).
    user, device = row._tuple()
    if not user.is_active:
        return None
    if device is not None:
        if sessions.is_expired(device):
            return None
        sessions.attach(user, device, key)
        return user
    if hmac.compare_digest(user.session_token.encode(), key.encode()):
        return user
    return None
