"""Secondments, shadowing and other cross-sector exchanges.

An ``Opportunity`` is offered by a host organisation. Staff send an ``Application``,
which their line manager approves by a signed, single-use emailed link (only a hash
of the link's secret is stored); the host then shortlists, accepts or declines it.
Accepting takes one of the opportunity's places: ``places_taken`` is raised by a
conditional UPDATE in the same transaction that creates the ``Placement``, and the
database refuses ``places_taken > places``, so two hosts accepting at once can never
overbook. A placement has up to five objectives, a checklist agreed before starting,
and one reflection each from the participant and the host; the host may cancel it
with a reason (it is kept, marked cancelled). An ``OpportunityPoster`` is a member
an organisation's admins allow to post and manage its opportunities.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..enums import LabelledEnum
from ..modelbase import Model, TimestampMixin, UTCDateTime, str_enum
from ..organisations.models import Organisation, Sector
from ..partnership.models import Partnership

# Shadowing this short may be offered without the line manager's approval.
NO_APPROVAL_MAX_DAYS = 2
MAX_OBJECTIVES = 5

# Length limits, in characters, each beside the column it protects: the column (where
# it is a VARCHAR), the form's MaxLength and the service's check all read it. A person's
# name and email address (the host's contact, an applicant's line manager):
NAME_MAX = 120
EMAIL_MAX = 254


class OpportunityKind(LabelledEnum):
    SECONDMENT = ("secondment", "Secondment",
                  "Working in the host's team for a period, usually part-time or full-time "
                  "for months.")
    SHADOWING = ("shadowing", "Shadowing",
                 "Spending a few days alongside someone to see how they work.")
    PLACEMENT = ("placement", "Placement",
                 "A fixed piece of work in the host's team, such as a project.")
    REVERSE_MENTORING = ("reverse_mentoring", "Reverse mentoring",
                         "A more junior colleague from the host mentors a senior leader.")
    BOARD_OBSERVER = ("board_observer", "Board observer",
                      "Attending the host's board or committee meetings as an observer.")


class LocationKind(LabelledEnum):
    IN_PERSON = "in_person", "In person"
    HYBRID = "hybrid", "Hybrid"
    REMOTE = "remote", "Remote"


class OpenTo(LabelledEnum):
    """Whose staff may apply, by the sector of the applicant's organisation."""

    PUBLIC = "public", "Public-sector staff"
    VCSE = "vcse", "Voluntary and community sector (VCSE) staff"
    BOTH = "both", "Public-sector and VCSE staff"

    def accepts(self, sector: Sector) -> bool:
        if self is OpenTo.BOTH:
            return sector in (Sector.PUBLIC, Sector.VCSE)
        return sector.value == self.value


class OpportunityStatus(LabelledEnum):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ManagerDecision(LabelledEnum):
    PENDING = "pending", "Waiting for line manager"
    APPROVED = "approved", "Line manager approved"
    DECLINED = "declined", "Line manager declined"
    NOT_NEEDED = "not_needed", "No line manager approval needed"

    @property
    def lets_host_see(self) -> bool:
        """The host sees an application only once the manager approved (or need not)."""
        return self in (ManagerDecision.APPROVED, ManagerDecision.NOT_NEEDED)


class ApplicationStatus(LabelledEnum):
    SUBMITTED = "submitted", "Submitted"
    SHORTLISTED = "shortlisted", "Shortlisted"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Not accepted"
    WITHDRAWN = "withdrawn", "Withdrawn"
    RESERVE = "reserve", "On the reserve list"

    @property
    def is_open(self) -> bool:
        """Still waiting for the host's decision."""
        return self in (ApplicationStatus.SUBMITTED, ApplicationStatus.SHORTLISTED,
                        ApplicationStatus.RESERVE)


class PlacementStatus(LabelledEnum):
    AGREED = "agreed", "Agreed, not started"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class ReflectionRole(LabelledEnum):
    PARTICIPANT = "participant", "Participant"
    HOST = "host", "Host"


class _ShowsStatus:
    """``repr`` as ``<Class id status>``, for the models that move through statuses."""

    if TYPE_CHECKING:  # declared by each model
        id: int
        status: LabelledEnum

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} {self.status.value}>"


# What a host writes about an opportunity.
TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
SKILLS_MAX = 3000
TEAM_MAX = 160
PLACE_MAX = 160
COMMITMENT_MAX = 200
DURATION_MAX = 200
PLACES_MAX = 100  # Opportunity.places
DAYS_MAX = 1000  # Opportunity.total_days
SENIORITY_MAX = 200
PAY_MAX = 3000
REASON_MAX = 2000  # why it was withdrawn


class Opportunity(_ShowsStatus, TimestampMixin, Model):
    """An offer of a secondment, shadowing or similar from a host organisation."""

    __tablename__ = "opportunities"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False
    )
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The partnership it is offered within (for the browse filter and the figures).
    partnership_id: Mapped[int | None] = mapped_column(
        ForeignKey("partnerships.id", ondelete="SET NULL")
    )
    kind: Mapped[OpportunityKind] = mapped_column(str_enum(OpportunityKind), nullable=False)
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    # Markdown, up to DESCRIPTION_MAX.
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    skills_sought: Mapped[str] = mapped_column(Text, nullable=False, default="")
    host_team: Mapped[str] = mapped_column(String(TEAM_MAX), nullable=False, default="")
    location_kind: Mapped[LocationKind] = mapped_column(str_enum(LocationKind), nullable=False)
    place: Mapped[str] = mapped_column(String(PLACE_MAX), nullable=False, default="")
    time_commitment: Mapped[str] = mapped_column(String(COMMITMENT_MAX), nullable=False,
                                                 default="")
    # Days in all, when known (always for short shadowing): the "up to 5 days" filter.
    total_days: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[str] = mapped_column(String(DURATION_MAX), nullable=False, default="")
    starts_earliest: Mapped[date] = mapped_column(Date, nullable=False)
    starts_latest: Mapped[date] = mapped_column(Date, nullable=False)
    places: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    places_taken: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    open_to: Mapped[OpenTo] = mapped_column(str_enum(OpenTo), nullable=False,
                                            default=OpenTo.BOTH)
    seniority: Mapped[str] = mapped_column(String(SENIORITY_MAX), nullable=False, default="")
    pay_and_backfill: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Applications close at the end of this day, UK time.
    closing_date: Mapped[date] = mapped_column(Date, nullable=False)
    contact_name: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False)
    contact_email: Mapped[str] = mapped_column(String(EMAIL_MAX), nullable=False)
    status: Mapped[OpportunityStatus] = mapped_column(
        str_enum(OpportunityStatus), nullable=False, default=OpportunityStatus.DRAFT
    )
    manager_approval_required: Mapped[bool] = mapped_column(Boolean, nullable=False,
                                                            default=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")

    organisation: Mapped[Organisation] = relationship()
    partnership: Mapped[Partnership | None] = relationship()
    posted_by: Mapped[User | None] = relationship()
    applications: Mapped[list[Application]] = relationship(
        back_populates="opportunity", cascade="all, delete-orphan",
        order_by="Application.id",
    )

    __table_args__ = (
        CheckConstraint("places >= 1", name="places_positive"),
        CheckConstraint("places_taken >= 0 AND places_taken <= places",
                        name="never_overbooked"),
        CheckConstraint("starts_latest >= starts_earliest", name="start_window"),
        CheckConstraint("total_days IS NULL OR total_days >= 1", name="total_days_positive"),
        CheckConstraint(
            f"manager_approval_required OR (kind = 'shadowing' AND total_days IS NOT NULL "
            f"AND total_days <= {NO_APPROVAL_MAX_DAYS})",
            name="approval_only_optional_for_short_shadowing",
        ),
        Index("ix_opportunities_status_closing", "status", "closing_date"),
        Index("ix_opportunities_organisation_id", "organisation_id"),
        Index("ix_opportunities_partnership_id", "partnership_id"),
        Index("ix_opportunities_posted_by_id", "posted_by_id"),
        Index("ix_opportunities_kind", "kind"),
    )

    @property
    def is_filled(self) -> bool:
        return self.places_taken >= self.places

    @property
    def places_left(self) -> int:
        return max(0, self.places - self.places_taken)



# What an applicant, their line manager and the host write.
STATEMENT_MAX = 3000
AVAILABILITY_MAX = 1000
COMMENT_MAX = 2000  # the line manager's
MESSAGE_MAX = 2000  # the host's, with their decision


class Application(_ShowsStatus, TimestampMixin, Model):
    """Someone's application for an opportunity, for one of their organisations."""

    __tablename__ = "opportunity_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), nullable=False
    )
    applicant_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    # The organisation the applicant works for (one they belong to): gives the direction.
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False
    )
    statement: Mapped[str] = mapped_column(Text, nullable=False)
    availability: Mapped[str] = mapped_column(Text, nullable=False, default="")
    manager_name: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False, default="")
    manager_email: Mapped[str] = mapped_column(String(EMAIL_MAX), nullable=False, default="")
    manager_decision: Mapped[ManagerDecision] = mapped_column(
        str_enum(ManagerDecision), nullable=False, default=ManagerDecision.PENDING
    )
    manager_comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    manager_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # SHA-256 of the current link's secret; None once used (or no longer needed).
    manager_token_hash: Mapped[str | None] = mapped_column(String(64))
    manager_link_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[ApplicationStatus] = mapped_column(
        str_enum(ApplicationStatus), nullable=False, default=ApplicationStatus.SUBMITTED
    )
    host_message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    opportunity: Mapped[Opportunity] = relationship(back_populates="applications")
    applicant: Mapped[User] = relationship(foreign_keys=[applicant_id])
    organisation: Mapped[Organisation] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    placement: Mapped[Placement | None] = relationship(
        back_populates="application", uselist=False, cascade="all, delete-orphan",
        passive_deletes=True,
    )

    __table_args__ = (
        # One application per person per opportunity (applying again reuses it).
        UniqueConstraint("opportunity_id", "applicant_id"),
        Index("ix_opportunity_applications_opportunity_status", "opportunity_id", "status"),
        Index("ix_opportunity_applications_applicant_id", "applicant_id"),
        Index("ix_opportunity_applications_organisation_id", "organisation_id"),
        Index("ix_opportunity_applications_manager_token_hash", "manager_token_hash"),
    )

    @property
    def host_can_see(self) -> bool:
        return self.manager_decision.lets_host_see



# What the host writes when cancelling, and what each side reflects.
CANCEL_REASON_MAX = 2000
REFLECTION_MAX = 3000


class Placement(_ShowsStatus, TimestampMixin, Model):
    """An accepted application: agreed dates, objectives, a checklist and reflections."""

    __tablename__ = "placements"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity_applications.id", ondelete="CASCADE"), nullable=False,
        unique=True,
    )
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[PlacementStatus] = mapped_column(
        str_enum(PlacementStatus), nullable=False, default=PlacementStatus.AGREED
    )
    confidentiality_agreed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    expenses_agreed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    insurance_agreed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    data_access_agreed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    supervision_agreed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who marked it started: the participant or someone at the host, on or after the
    # agreed start date (None for placements started before this was recorded).
    started_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The host's reason when they cancelled it ("" when the participant withdrew).
    cancelled_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")

    application: Mapped[Application] = relationship(back_populates="placement")
    started_by: Mapped[User | None] = relationship()
    objectives: Mapped[list[PlacementObjective]] = relationship(
        back_populates="placement", cascade="all, delete-orphan",
        order_by="PlacementObjective.position",
    )
    reflections: Mapped[list[Reflection]] = relationship(
        back_populates="placement", cascade="all, delete-orphan", order_by="Reflection.role",
    )

    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on",
                        name="ends_after_start"),
        Index("ix_placements_status", "status"),
    )

    CHECKLIST = (
        ("confidentiality_agreed", "Confidentiality",
         "What the participant may and may not share, during and after."),
        ("expenses_agreed", "Expenses", "What is paid, by whom, and how to claim."),
        ("insurance_agreed", "Insurance",
         "Whose insurance covers the participant while with the host."),
        ("data_access_agreed", "Data access",
         "Which systems and personal data the participant may see, and on what terms."),
        ("supervision_agreed", "Supervision",
         "Who supervises the participant day to day, and how often you meet."),
    )

    @property
    def checklist_done(self) -> bool:
        return all(getattr(self, name) for name, _label, _hint in self.CHECKLIST)

    def reflection_by(self, role: ReflectionRole) -> Reflection | None:
        return next((r for r in self.reflections if r.role is role), None)



OBJECTIVE_MAX = 300


class PlacementObjective(TimestampMixin, Model):
    """One of up to five things the participant means to achieve."""

    __tablename__ = "placement_objectives"

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(
        ForeignKey("placements.id", ondelete="CASCADE"), nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    text: Mapped[str] = mapped_column(String(OBJECTIVE_MAX), nullable=False)

    placement: Mapped[Placement] = relationship(back_populates="objectives")

    __table_args__ = (
        UniqueConstraint("placement_id", "position"),
        CheckConstraint(f"position >= 1 AND position <= {MAX_OBJECTIVES}",
                        name="position_in_range"),
    )


class Reflection(TimestampMixin, Model):
    """What the participant (or the host) learned, and would they recommend it."""

    __tablename__ = "placement_reflections"

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(
        ForeignKey("placements.id", ondelete="CASCADE"), nullable=False
    )
    role: Mapped[ReflectionRole] = mapped_column(str_enum(ReflectionRole), nullable=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    learned: Mapped[str] = mapped_column(Text, nullable=False)
    changes: Mapped[str] = mapped_column(Text, nullable=False)
    would_recommend: Mapped[bool] = mapped_column(Boolean, nullable=False)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    placement: Mapped[Placement] = relationship(back_populates="reflections")
    author: Mapped[User | None] = relationship()

    __table_args__ = (UniqueConstraint("placement_id", "role"),)


class OpportunityPoster(TimestampMixin, Model):
    """A member whom the organisation's admins allow to post and manage its
    opportunities (say, the HR or secondments lead) without making them an admin.

    The row alone grants nothing: ``permissions`` also asks for the person's active
    membership, so someone who leaves the organisation loses the right at once, and
    it comes back only if they rejoin and the row is still there. Withdrawing the
    right deletes the row (the audit log keeps who granted and withdrew it, and when).
    """

    __tablename__ = "opportunity_posters"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         nullable=False)
    granted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    organisation: Mapped[Organisation] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    granted_by: Mapped[User | None] = relationship(foreign_keys=[granted_by_id])

    __table_args__ = (
        UniqueConstraint("organisation_id", "user_id"),
        Index("ix_opportunity_posters_user_id", "user_id"),
    )

    def __repr__(self) -> str:
        return f"<OpportunityPoster {self.organisation_id}:{self.user_id}>"
