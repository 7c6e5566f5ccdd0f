"""People who use the platform."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..modelbase import TimestampMixin, UTCDateTime

FORMER_MEMBER_NAME = "Former member"


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, TimestampMixin, db.Model):
    """An account. Deleting an account anonymises it, so contributions keep an author."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Always stored lower-cased (see accounts.services.normalise_email).
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_site_admin: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # Rotated on password change and account deletion: every signed-in session
    # (and "remember me" cookie) carries it, so rotating it signs them all out.
    session_token: Mapped[str] = mapped_column(
        String(64), default=new_session_token, nullable=False
    )
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.deleted_at is None

    @property
    def is_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def display_name(self) -> str:
        return FORMER_MEMBER_NAME if self.deleted_at else self.name

    def __repr__(self) -> str:
        return f"<User {self.id}>"
