"""A concern raised about how a partnership engages, and what its officers did about it.

The raiser is an account (``raised_by_id``) or, signed out, a name and an address to
reply to (``email``) with a private link to follow the concern (only its SHA-256,
``token_hash``, is stored). Each step an officer takes has its own timestamp, so the
engagement record can say how long answers took (``stats``).

Publication is never a column of its own: a concern is public exactly when the raiser
consented, an officer has responded and no officer withheld it
(``permissions.concerns_published``), so nothing is published by a forgotten flag.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import EMAIL_MAX, NAME_MAX, User
from ..modelbase import Model, TimestampMixin, UTCDateTime, str_enum, utcnow
from ..partnership.models import Partnership

DETAILS_MAX = 5000
RESPONSE_MAX = 5000
REASON_MAX = 1000
TOKEN_HASH_LENGTH = 64


class ConcernCategory(StrEnum):
    NOT_ACCESSIBLE = "not_accessible"
    NOT_ENOUGH_NOTICE = "not_enough_notice"
    NOT_LISTENED_TO = "not_listened_to"
    FUNDING_PROCESS = "funding_process"
    OTHER = "other"

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS = {
    ConcernCategory.NOT_ACCESSIBLE: "Consultation or meeting not accessible",
    ConcernCategory.NOT_ENOUGH_NOTICE: "Not enough notice",
    ConcernCategory.NOT_LISTENED_TO: "Not listened to",
    ConcernCategory.FUNDING_PROCESS: "Funding process",
    ConcernCategory.OTHER: "Something else",
}


class ConcernStatus(StrEnum):
    """Open (just raised) -> acknowledged -> responded -> closed. Responding to an open
    concern acknowledges it at the same moment."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESPONDED = "responded"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"open": "Open", "acknowledged": "Acknowledged", "responded": "Responded",
                "closed": "Closed"}[self.value]


class Concern(TimestampMixin, Model):
    __tablename__ = "concerns"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), nullable=False)
    raised_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    # The raiser's name as given (signed in: their account's name then); may be empty
    # for a signed-out raiser who keeps their name off the public record.
    name: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False, default="")
    # Signed out only: where to reply. Never shown publicly.
    email: Mapped[str | None] = mapped_column(String(EMAIL_MAX))
    token_hash: Mapped[str | None] = mapped_column(String(TOKEN_HASH_LENGTH), unique=True)
    category: Mapped[ConcernCategory] = mapped_column(str_enum(ConcernCategory),
                                                      nullable=False)
    details: Mapped[str] = mapped_column(Text, nullable=False)  # DETAILS_MAX
    forum_id: Mapped[int | None] = mapped_column(ForeignKey("forums.id", ondelete="SET NULL"))
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="SET NULL"))
    consent_to_publish: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    status: Mapped[ConcernStatus] = mapped_column(str_enum(ConcernStatus), nullable=False,
                                                  default=ConcernStatus.OPEN)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    response: Mapped[str | None] = mapped_column(Text)  # RESPONSE_MAX
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    responded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # An officer kept it off the public list (it names a person, say), and why.
    withheld_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withheld_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    withheld_reason: Mapped[str | None] = mapped_column(Text)  # REASON_MAX

    partnership: Mapped[Partnership] = relationship()
    raised_by: Mapped[User | None] = relationship(foreign_keys=[raised_by_id])

    __table_args__ = (
        Index("ix_concerns_partnership_status_raised", "partnership_id", "status", "raised_at"),
        Index("ix_concerns_partnership_raised", "partnership_id", "raised_at"),
        Index("ix_concerns_raised_by_id", "raised_by_id"),
    )

    @property
    def is_published(self) -> bool:
        """Shown publicly: consented, responded to, not withheld (the SQL form is
        ``permissions.concerns_published``)."""
        return (self.consent_to_publish and self.responded_at is not None
                and self.withheld_at is None)

    @property
    def public_name(self) -> str:
        """What the public sees for the raiser: their name, unless they asked not."""
        return "" if self.anonymous else self.name
