"""Place-based partnerships, their officers and their member organisations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..enums import LabelledEnum
from ..modelbase import Model, TimestampMixin, UTCDateTime, str_enum
from ..organisations.models import NAME_MAX as ORGANISATION_NAME_MAX
from ..organisations.models import Organisation, RequestStatus


class Principle(LabelledEnum):
    """The Civil Society Covenant's principles a partnership can commit to."""

    RECOGNITION = (
        "recognition", "Recognition and respect",
        "A strong and independent civil society, respected when it challenges.",
    )
    PARTNERSHIP = (
        "partnership", "Partnership and collaboration",
        "Effective services and policy made together, sharing what works.",
    )
    PARTICIPATION = (
        "participation", "Participation and inclusion",
        "People and communities can be heard and make a difference.",
    )
    TRANSPARENCY = (
        "transparency", "Transparency and data",
        "Open information, data and reporting, so partners can hold each other to account.",
    )


# Length limits sit beside the columns they protect; forms and services read them here.
NAME_MAX = PLACE_MAX = 160
DESCRIPTION_MAX = 20000
CONTACT_EMAIL_MAX = 254
NOTICE_DAYS_MAX = 20  # clear working days of agenda notice, from 0 (as a forum's)


class Partnership(TimestampMixin, Model):
    """A place-based partnership, e.g. a borough or an integrated care system footprint."""

    __tablename__ = "partnerships"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False)
    place: Mapped[str] = mapped_column(String(PLACE_MAX), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")  # DESCRIPTION_MAX
    contact_email: Mapped[str | None] = mapped_column(String(CONTACT_EMAIL_MAX))
    # Clear working days between publishing the agenda of one of the partnership's own
    # meetings (not its forums') and the meeting; officers set it.
    notice_days: Mapped[int] = mapped_column(Integer, nullable=False, default=5,
                                             server_default="5")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    principle_rows: Mapped[list[PartnershipPrinciple]] = relationship(
        cascade="all, delete-orphan", order_by="PartnershipPrinciple.principle"
    )
    officers: Mapped[list[PartnershipOfficer]] = relationship(
        back_populates="partnership", cascade="all, delete-orphan"
    )
    members: Mapped[list[PartnershipMember]] = relationship(
        back_populates="partnership", cascade="all, delete-orphan"
    )

    @property
    def principles(self) -> list[Principle]:
        order = list(Principle)
        return sorted((row.principle for row in self.principle_rows), key=order.index)

    def __repr__(self) -> str:
        return f"<Partnership {self.slug}>"


class PartnershipPrinciple(Model):
    """One Covenant principle that a partnership commits to."""

    __tablename__ = "partnership_principles"

    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), primary_key=True
    )
    principle: Mapped[Principle] = mapped_column(str_enum(Principle), primary_key=True)


ROLE_TITLE_MAX = 120


class PartnershipOfficer(TimestampMixin, Model):
    """A person appointed by the site administrator to run a partnership."""

    __tablename__ = "partnership_officers"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    role_title: Mapped[str] = mapped_column(String(ROLE_TITLE_MAX), nullable=False)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    appointed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    partnership: Mapped[Partnership] = relationship(back_populates="officers")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    organisation: Mapped[Organisation | None] = relationship()

    __table_args__ = (
        UniqueConstraint("partnership_id", "user_id"),
        Index("ix_partnership_officers_user_id", "user_id"),
    )


MESSAGE_MAX = REASON_MAX = 1000


class PartnershipMember(TimestampMixin, Model):
    """An organisation's membership of a partnership, from request to decision."""

    __tablename__ = "partnership_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), nullable=False
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[RequestStatus] = mapped_column(
        str_enum(RequestStatus), nullable=False, default=RequestStatus.PENDING
    )
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")  # MESSAGE_MAX
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decline_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")  # REASON_MAX
    # Copies of the organisation's sector group (``services.SECTOR_GROUPS`` key), whether
    # it is small and its sort name, kept by ``listing.py`` in the same transaction as
    # any change to them, so the partnership page counts its members and lists the first
    # of each sector from ``ix_partnership_members_listing`` alone, however many.
    sector: Mapped[str] = mapped_column(String(10), nullable=False, default="other",
                                        server_default="other")
    is_small: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                           server_default=false())
    sort_name: Mapped[str] = mapped_column(String(ORGANISATION_NAME_MAX), nullable=False,
                                           default="",
                                           server_default="")

    partnership: Mapped[Partnership] = relationship(back_populates="members")
    organisation: Mapped[Organisation] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        UniqueConstraint("partnership_id", "organisation_id"),
        Index("ix_partnership_members_listing", "partnership_id", "status", "sector",
              "sort_name", "organisation_id", "is_small"),
        Index("ix_partnership_members_organisation_id", "organisation_id"),
    )
