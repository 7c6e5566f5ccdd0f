"""A partnership's engagement plan for one calendar year: the rhythm it commits to
(meetings of the partnership and of each forum, agenda notice, minutes deadline) and a
named senior accountable person for each member public body.

The plan is public: the record page sets what happened against it, and naming who is
accountable in each public body is the point of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..forums.models import Forum
from ..modelbase import Model, TimestampMixin, UTCDateTime
from ..organisations.models import Organisation
from ..partnership.models import Partnership

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


# The annual report's narrative: bounded like the other long texts (Markdown).
INTRODUCTION_MAX = 5000
SECTION_MAX = 10000


class AnnualReport(TimestampMixin, Model):
    """A partnership's annual report for one calendar year: the officers' narrative
    (an introduction, what went well, what will change) around the engagement record.

    A draft (``published_at`` None) is the officers' alone. Publishing freezes the
    record's figures as they stand (``figures``, JSON written by ``snapshot.dump``, and
    ``figures_at``): a report is a document of record, so what it said on the day it
    was published must not shift when a meeting is later corrected. Officers may still
    revise the words of a published report; ``revised_at`` says when they last did."""

    __tablename__ = "annual_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    introduction: Mapped[str] = mapped_column(Text, nullable=False, default="")
    went_well: Mapped[str] = mapped_column(Text, nullable=False, default="")
    will_change: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    revised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    figures: Mapped[str | None] = mapped_column(Text)  # snapshot.dump at publication
    figures_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    partnership: Mapped[Partnership] = relationship()

    __table_args__ = (
        UniqueConstraint("partnership_id", "year"),
        CheckConstraint("(published_at IS NULL) = (figures IS NULL)",
                        name="published_with_figures"),
    )

    @property
    def is_published(self) -> bool:
        return self.published_at is not None
