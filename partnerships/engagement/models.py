"""A partnership's engagement plan for one calendar year: the rhythm it commits to
(meetings of the partnership and of each forum, agenda notice, minutes deadline) and a
named senior accountable person for each member public body.

The plan is public: the record page sets what happened against it, and naming who is
accountable in each public body is the point of it."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..forums.models import Forum
from ..modelbase import Model, TimestampMixin
from ..organisations.models import Organisation

# Bounds beside the columns they protect; forms and services read them here.
YEAR_MIN, YEAR_MAX = 2000, 2100
MEETINGS_MAX = 366  # meetings a year: at most one a day
NOTICE_DAYS_MAX = 20  # clear working days, as Partnership.notice_days
MINUTES_DAYS_MAX = 60  # working days after the meeting
DEFAULT_MINUTES_DAYS = 10
PERSON_MAX = 160
ROLE_MAX = 160


class EngagementPlan(TimestampMixin, Model):
    """What a partnership commits to for one calendar year."""

    __tablename__ = "engagement_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    # Meetings of the partnership itself (its board, an assembly) in the year.
    partnership_meetings: Mapped[int] = mapped_column(Integer, nullable=False)
    # Clear working days between publishing an agenda and the meeting (as
    # Partnership.notice_days: neither the publishing day nor the meeting day counts).
    notice_days: Mapped[int] = mapped_column(Integer, nullable=False)
    # Minutes published within this many working days after the meeting day.
    minutes_days: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    forums: Mapped[list[PlanForum]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanForum.id")
    accountable: Mapped[list[AccountablePerson]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="AccountablePerson.id")

    __table_args__ = (
        UniqueConstraint("partnership_id", "year"),
        CheckConstraint("partnership_meetings >= 0", name="meetings_not_negative"),
        CheckConstraint("notice_days >= 0", name="notice_not_negative"),
        CheckConstraint("minutes_days >= 0", name="minutes_not_negative"),
    )


class PlanForum(Model):
    """Meetings a year committed to for one forum."""

    __tablename__ = "engagement_plan_forums"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("engagement_plans.id", ondelete="CASCADE"), nullable=False)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"),
                                          nullable=False)
    meetings: Mapped[int] = mapped_column(Integer, nullable=False)

    plan: Mapped[EngagementPlan] = relationship(back_populates="forums")
    forum: Mapped[Forum] = relationship()

    __table_args__ = (
        UniqueConstraint("plan_id", "forum_id"),
        Index("ix_engagement_plan_forums_forum_id", "forum_id"),
        CheckConstraint("meetings >= 0", name="meetings_not_negative"),
    )


class AccountablePerson(Model):
    """The named senior person accountable for one member public body's engagement."""

    __tablename__ = "engagement_accountable_people"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("engagement_plans.id", ondelete="CASCADE"), nullable=False)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(PERSON_MAX), nullable=False)
    role: Mapped[str] = mapped_column(String(ROLE_MAX), nullable=False)

    plan: Mapped[EngagementPlan] = relationship(back_populates="accountable")
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (
        UniqueConstraint("plan_id", "organisation_id"),
        Index("ix_engagement_accountable_people_organisation_id", "organisation_id"),
    )
