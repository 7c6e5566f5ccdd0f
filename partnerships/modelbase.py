"""Shared column types and mixins for the models.

SQLite has no time zone type, so ``UTCDateTime`` stores naive UTC and hands back
aware UTC datetimes; PostgreSQL gets ``timestamp with time zone``. Code therefore
only ever sees aware datetimes, whatever the database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column

# Every model module imports this one, so importing the models registers the session's
# guard against control characters in single-line (String) columns.
from . import (
    clock,
    textguard,  # noqa: F401
)

# Models subclass ``Model`` (``db.Model`` typed for mypy; see ``extensions``).
from .extensions import Model as Model


def utcnow() -> datetime:
    """The current time as an aware UTC datetime, from the one clock (``clock.py``)."""
    return clock.now()


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, always stored and returned in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column; attach a time zone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class TimestampMixin:
    """``created_at`` and ``updated_at`` for every record that users edit."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class StoredFileMixin:
    """The columns of an uploaded file kept by ``uploads.store`` (MoU attachments,
    meeting papers): the name the person gave, the random name on disk, the content
    type identified from the bytes, size and hash, and who uploaded it when."""

    original_filename: Mapped[str] = mapped_column(String(255), nullable=False)
    stored_name: Mapped[str] = mapped_column(String(80), nullable=False)
    content_type: Mapped[str] = mapped_column(String(120), nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    @property
    def kind_label(self) -> str:
        """PDF, DOCX, ... from the content type identified on upload."""
        from .uploads import CONTENT_TYPES

        return next((kind.label for kind, content_type in CONTENT_TYPES.items()
                     if content_type == self.content_type), "File")


def str_enum(enum_cls: type, length: int = 40) -> Any:
    """Store a ``StrEnum`` by its value in a plain VARCHAR (portable; no native enum)."""
    from sqlalchemy import Enum

    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
