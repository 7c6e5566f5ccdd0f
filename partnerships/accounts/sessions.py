"""Device sessions: one ``UserSession`` row per signed-in browser.

Flask-Login's id is ``"<user id>:<session key>"``. The key is random and only its
hash is stored; the session cookie and the "remember me" cookie both carry it, so
deleting the row (signing out) ends both at once. Sessions end at the latest
``REMEMBER_COOKIE_DURATION`` after sign-in, when a "remember me" cookie would have
expired anyway, so forgotten rows do not count as devices for ever.

Like the other services, these take the user explicitly, flush but never commit.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select

from ..extensions import db
from ..modelbase import utcnow
from .models import DEVICE_MAX_LENGTH, User, UserSession, hash_session_key, new_session_token

# (what the user agent contains, what to call it), first match wins: Edge and Opera
# also say "Chrome", and Chrome also says "Safari".
_BROWSERS = [
    ("Edg/", "Edge"), ("OPR/", "Opera"), ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"), ("FxiOS/", "Firefox"), ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"), ("Safari/", "Safari"),
]
_SYSTEMS = [
    ("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("CrOS", "ChromeOS"),
    ("Windows", "Windows"), ("Mac OS X", "Mac"), ("Macintosh", "Mac"), ("Linux", "Linux"),
]


def describe_device(user_agent: str | None) -> str:
    """A short, human description of a browser, e.g. "Firefox on Windows"."""
    agent = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in agent), "")
    system = next((name for marker, name in _SYSTEMS if marker in agent), "")
    if browser and system:
        text = f"{browser} on {system}"
    else:
        text = browser or system or "An unknown browser"
    return text[:DEVICE_MAX_LENGTH]


def lifetime() -> timedelta:
    duration = current_app.config["REMEMBER_COOKIE_DURATION"]
    return duration if isinstance(duration, timedelta) else timedelta(seconds=int(duration))


def is_expired(row: UserSession, now: datetime | None = None) -> bool:
    return row.created_at <= (now or utcnow()) - lifetime()


def start(user: User, user_agent: str | None) -> UserSession:
    """Begin a device session for ``user`` and attach it, so ``user.get_id()`` carries
    its key. Also clears the user's expired sessions."""
    now = utcnow()
    db.session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id, UserSession.created_at <= now - lifetime()
        )
    )
    key = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id, key_hash=hash_session_key(key),
        device=describe_device(user_agent), created_at=now,
    )
    db.session.add(row)
    db.session.flush()
    attach(user, row, key)
    return row


def attach(user: User, row: UserSession | None, key: str | None) -> None:
    user.current_session = row
    user._session_key = key


def end(user: User) -> None:
    """Sign this session out on the server: delete its row. A session made without a
    device row (see ``User.session_token``) can only be ended by rotating the token."""
    row = user.current_session
    if row is not None:
        db.session.execute(delete(UserSession).where(UserSession.id == row.id))
    else:
        user.session_token = new_session_token()
    attach(user, None, None)


def end_others(user: User, user_agent: str | None) -> int:
    """Sign out every other session of ``user``, keeping this one; return how many
    device sessions ended. If this session has no device row, it gets one, since
    rotating the token ends it too (the caller signs the browser in again)."""
    ended = len(others(user))
    current = user.current_session
    stmt = delete(UserSession).where(UserSession.user_id == user.id)
    if current is not None:
        stmt = stmt.where(UserSession.id != current.id)
    db.session.execute(stmt)
    user.session_token = new_session_token()
    if current is None:
        start(user, user_agent)
    db.session.flush()
    return ended


def end_all(user: User) -> None:
    """Sign out every session of ``user``, this one included."""
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    user.session_token = new_session_token()
    attach(user, None, None)
    db.session.flush()


def others(user: User) -> list[UserSession]:
    """The user's other signed-in devices, newest first."""
    stmt = (
        select(UserSession)
        .where(UserSession.user_id == user.id,
               UserSession.created_at > utcnow() - lifetime())
        .order_by(UserSession.created_at.desc(), UserSession.id.desc())
    )
    current = user.current_session
    if current is not None:
        stmt = stmt.where(UserSession.id != current.id)
    return list(db.session.scalars(stmt))
