"""People who use the platform."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..modelbase import Model, TimestampMixin, UTCDateTime, utcnow

FORMER_MEMBER_NAME = "Former member"
# Length limits, each beside (and used by) the column it protects; forms and services
# use the same numbers.
EMAIL_MAX = 254
NAME_MAX = 120
DEVICE_MAX_LENGTH = 80


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


def hash_session_key(key: str) -> str:
    """What the database keeps of a device session's key (SHA-256, hex)."""
    return hashlib.sha256(key.encode()).hexdigest()


class User(UserMixin, TimestampMixin, Model):
    """An account. Deleting an account anonymises it, so contributions keep an author."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Always stored lower-cased (see accounts.services.normalise_email).
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_site_admin: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # Rotated whenever every session ends (password change or reset, "sign out of all
    # other devices", account deletion). Sign-ins made through the app use a device
    # session (``UserSession``); this token is the session key only of sessions made
    # without one (from before device sessions, and test helpers that call
    # ``get_id()`` directly), and emailed reset and email-change links carry a
    # fingerprint of it, so rotating it also ends those.
    session_token: Mapped[str] = mapped_column(
        String(64), default=new_session_token, nullable=False
    )
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # The device session this request is signed in with, and its key: set by the user
    # loader and by ``accounts.sessions.start``. Plain attributes, not columns: their
    # types are declared for mypy only, since SQLAlchemy refuses a class annotation that
    # is not ``Mapped[...]``.
    if TYPE_CHECKING:
        current_session: UserSession | None
        _session_key: str | None
    current_session = None
    _session_key = None

    def get_id(self) -> str:
        """Flask-Login's id, kept in the session and "remember me" cookies."""
        return f"{self.id}:{self._session_key or self.session_token}"

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None

    @property
    def is_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def display_name(self) -> str:
        return FORMER_MEMBER_NAME if self.deleted_at else self.name

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class UserSession(Model):
    """One signed-in browser or device. Signing out deletes the row, so the session
    cookie and the "remember me" cookie, which both carry the key, stop working at once.
    Only a hash of the key is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    # A short description of the browser, e.g. "Firefox on Windows".
    device: Mapped[str] = mapped_column(String(DEVICE_MAX_LENGTH), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    __table_args__ = (Index("ix_user_sessions_user_id", "user_id"),)

    def __repr__(self) -> str:
        return f"<UserSession {self.id} of user {self.user_id}>"
