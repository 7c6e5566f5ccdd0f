"""Opportunity rules: posting, editing, publishing, closing, reopening, withdrawing and
browsing. Applications are in ``applications``; placements and figures in ``placements``.

Every function takes the acting user, checks the rule with ``permissions``, records
what it did in the audit log (subject ("opportunity", id)) and flushes; the caller
commits. Dates are calendar dates: an opportunity takes applications up to the end of
its closing date in UK time (``timeutil.today_uk``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from flask import url_for
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from .. import audit, conditional, mail, permissions
from ..accounts.models import User
from ..errors import Conflict, PermissionDenied, ValidationError
from ..extensions import db
from ..mail.kinds import Kind
from ..modelbase import utcnow
from ..organisations.models import (
    MemberRole,
    Organisation,
    OrganisationMember,
    OrgType,
    RequestStatus,
    Sector,
)
from ..partnership.models import Partnership, PartnershipMember
from ..timeutil import format_day, today_uk
from .models import (
    COMMITMENT_MAX,
    DAYS_MAX,
    DESCRIPTION_MAX,
    DURATION_MAX,
    EMAIL_MAX,
    NAME_MAX,
    NO_APPROVAL_MAX_DAYS,
    PAY_MAX,
    PLACE_MAX,
    PLACES_MAX,
    REASON_MAX,
    SENIORITY_MAX,
    SKILLS_MAX,
    TEAM_MAX,
    TITLE_MAX,
    Application,
    ApplicationStatus,
    LocationKind,
    ManagerDecision,
    OpenTo,
    Opportunity,
    OpportunityKind,
    OpportunityPoster,
    OpportunityStatus,
)

PAGE_SIZE = 20
CLOSING_SOON_DAYS = 14
SHORT_DAYS = 5  # the "up to 5 days" filter


@dataclass
class OpportunityDetails:
    """What a host enters about an opportunity."""

    kind: OpportunityKind
    title: str
    description: str
    skills_sought: str
    host_team: str
    location_kind: LocationKind
    place: str
    time_commitment: str
    total_days: int | None
    duration: str
    starts_earliest: date | None
    starts_latest: date | None
    places: int | None
    open_to: OpenTo
    seniority: str
    pay_and_backfill: str
    closing_date: date | None
    contact_name: str
    contact_email: str
    manager_approval_required: bool = True
    partnership_id: int | None = None


# --- Who can host, and where ------------------------------------------------------------


def _hosted_by(user: User) -> Select[tuple[int]]:
    """Ids of the organisations the user hosts for: an active admin, or an active member
    its admins allowed to post (the same rule as ``permissions.can_post_opportunity``)."""
    allowed = select(OpportunityPoster.id).where(
        OpportunityPoster.organisation_id == OrganisationMember.organisation_id,
        OpportunityPoster.user_id == user.id,
    ).exists()
    return select(OrganisationMember.organisation_id).where(
        OrganisationMember.user_id == user.id,
        OrganisationMember.status == RequestStatus.ACTIVE,
        or_(OrganisationMember.role == MemberRole.ADMIN, allowed),
    )


def host_organisations(user: User) -> list[Organisation]:
    """Organisations the user may post opportunities for (site admins: every one)."""
    if permissions.is_site_admin(user):
        return list(db.session.scalars(select(Organisation).order_by(Organisation.name)))
    if not getattr(user, "is_authenticated", False):
        return []
    return list(db.session.scalars(
        select(Organisation).where(Organisation.id.in_(_hosted_by(user)))
        .order_by(Organisation.name)
    ))


def partnerships_of(organisation_ids: list[int]) -> list[Partnership]:
    """Partnerships any of these organisations is an active member of (one query)."""
    if not organisation_ids:
        return []
    return list(db.session.scalars(
        select(Partnership).where(Partnership.id.in_(
            select(PartnershipMember.partnership_id).where(
                PartnershipMember.organisation_id.in_(organisation_ids),
                PartnershipMember.status == RequestStatus.ACTIVE,
            )
        )).order_by(Partnership.name)
    ))


def all_partnerships() -> list[Partnership]:
    return list(db.session.scalars(select(Partnership).order_by(Partnership.name)))


@dataclass(frozen=True)
class PartnershipChoice:
    """A partnership as the filters offer it: read as three columns, not as objects."""

    id: int
    slug: str
    name: str


@cache
def _partnership_choices_statement() -> Any:
    return select(Partnership.id, Partnership.slug, Partnership.name).order_by(Partnership.name)


def partnership_choices() -> list[PartnershipChoice]:
    """Every partnership by name, to filter by (one query, built once)."""
    return [PartnershipChoice(*row)
            for row in db.session.execute(_partnership_choices_statement()).tuples()]


def _is_partnership_member(partnership_id: int, organisation_id: int) -> bool:
    return db.session.scalar(
        select(PartnershipMember.id).where(
            PartnershipMember.partnership_id == partnership_id,
            PartnershipMember.organisation_id == organisation_id,
            PartnershipMember.status == RequestStatus.ACTIVE,
        )
    ) is not None


# --- Checking what the host entered -----------------------------------------------------


def _required(value: str, limit: int, field: str, missing: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(missing, field=field)
    return _limited(value, limit, field, what)


def _limited(value: str, limit: int, field: str, what: str) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ValidationError(f"{what} must be {limit} characters or fewer", field=field)
    return value


PLACE_NEEDED = "Enter where the person will work, such as the town or building"
DAYS_NEEDED = "Enter how many days of shadowing there are in total"
LATEST_BEFORE_EARLIEST = ("The latest start date must be the same as or after the earliest "
                          "start date")
PAY_NEEDED = "Say how pay and backfill will work for this secondment"
APPROVAL_NEEDED = ("Only shadowing of under 3 days can be offered without the line "
                   "manager's approval")


def choice_problems(kind: OpportunityKind | None, location_kind: LocationKind | None,
                    place: str, total_days: int | None, starts_earliest: date | None,
                    starts_latest: date | None, pay_and_backfill: str,
                    manager_approval_required: bool) -> list[tuple[str, str]]:
    """What the chosen type and place still need, and the start dates in order, as
    (field, message) pairs in page order. The form shows them all at once (a choice not
    yet made is None and checks nothing); ``check_details`` refuses the first."""
    problems = []
    if location_kind is not None and location_kind is not LocationKind.REMOTE and not place:
        problems.append(("place", PLACE_NEEDED))
    if kind is OpportunityKind.SHADOWING and total_days is None:
        problems.append(("total_days", DAYS_NEEDED))
    if (starts_earliest is not None and starts_latest is not None
            and starts_latest < starts_earliest):
        problems.append(("starts_latest", LATEST_BEFORE_EARLIEST))
    if kind is OpportunityKind.SECONDMENT and not pay_and_backfill:
        problems.append(("pay_and_backfill", PAY_NEEDED))
    if kind is not None and not manager_approval_required and not (
        kind is OpportunityKind.SHADOWING and total_days is not None
        and total_days <= NO_APPROVAL_MAX_DAYS
    ):
        problems.append(("no_manager_approval", APPROVAL_NEEDED))
    return problems


def check_details(details: OpportunityDetails, organisation: Organisation,
           opportunity: Opportunity | None, today: date) -> OpportunityDetails:
    """Apply every rule to what the host entered; the first problem names its field."""
    d = details
    d.title = _required(d.title, TITLE_MAX, "title", "Enter a title", "Title")
    d.description = _required(d.description, DESCRIPTION_MAX, "description",
                              "Say what the person will do and gain", "What they will do")
    d.skills_sought = _limited(d.skills_sought, SKILLS_MAX, "skills_sought", "Skills sought")
    d.host_team = _limited(d.host_team, TEAM_MAX, "host_team", "Host team")
    d.place = _limited(d.place, PLACE_MAX, "place", "Where")
    if d.location_kind is not LocationKind.REMOTE and not d.place:
        raise ValidationError(PLACE_NEEDED, field="place")
    d.time_commitment = _required(d.time_commitment, COMMITMENT_MAX, "time_commitment",
                                  "Enter the time commitment, such as 1 day a week",
                                  "Time commitment")
    if d.total_days is not None and not 1 <= d.total_days <= DAYS_MAX:
        raise ValidationError(f"Total days must be between 1 and {DAYS_MAX}",
                              field="total_days")
    if d.kind is OpportunityKind.SHADOWING and d.total_days is None:
        raise ValidationError(DAYS_NEEDED, field="total_days")
    d.duration = _limited(d.duration, DURATION_MAX, "duration", "Duration")
    if d.starts_earliest is None:
        raise ValidationError("Enter the earliest start date", field="starts_earliest")
    if d.starts_latest is None:
        raise ValidationError("Enter the latest start date", field="starts_latest")
    if d.starts_latest < d.starts_earliest:
        raise ValidationError(LATEST_BEFORE_EARLIEST, field="starts_latest")
    if d.places is None or not 1 <= d.places <= PLACES_MAX:
        raise ValidationError(f"Number of places must be between 1 and {PLACES_MAX}",
                              field="places")
    if opportunity is not None and d.places < opportunity.places_taken:
        raise ValidationError(
            f"{opportunity.places_taken} places are already taken, so there must be at "
            f"least {opportunity.places_taken}", field="places")
    d.seniority = _limited(d.seniority, SENIORITY_MAX, "seniority", "Seniority")
    d.pay_and_backfill = _limited(d.pay_and_backfill, PAY_MAX, "pay_and_backfill",
                                  "Pay and backfill")
    if d.kind is OpportunityKind.SECONDMENT and not d.pay_and_backfill:
        raise ValidationError(PAY_NEEDED, field="pay_and_backfill")
    if d.closing_date is None:
        raise ValidationError("Enter the closing date", field="closing_date")
    unchanged = opportunity is not None and opportunity.closing_date == d.closing_date
    if d.closing_date < today and not unchanged:
        raise ValidationError("The closing date must be today or in the future",
                              field="closing_date")
    d.contact_name = _required(d.contact_name, NAME_MAX, "contact_name",
                               "Enter the name of the person to contact", "Contact name")
    d.contact_email = _required(d.contact_email, EMAIL_MAX, "contact_email",
                                "Enter the contact's email address", "Contact email").lower()
    if "@" not in d.contact_email:
        raise ValidationError("Enter an email address in the correct format, like "
                              "name@example.org", field="contact_email")
    if not d.manager_approval_required and not (
        d.kind is OpportunityKind.SHADOWING and d.total_days is not None
        and d.total_days <= NO_APPROVAL_MAX_DAYS
    ):
        raise ValidationError(APPROVAL_NEEDED, field="no_manager_approval")
    if d.partnership_id is not None and not _is_partnership_member(d.partnership_id,
                                                                   organisation.id):
        raise ValidationError(f"{organisation.name} is not a member of that partnership",
                              field="partnership_id")
    return d


def _apply(opportunity: Opportunity, d: OpportunityDetails) -> None:
    for name in ("kind", "title", "description", "skills_sought", "host_team",
                 "location_kind", "place", "time_commitment", "total_days", "duration",
                 "starts_earliest", "starts_latest", "places", "open_to", "seniority",
                 "pay_and_backfill", "closing_date", "contact_name", "contact_email",
                 "manager_approval_required", "partnership_id"):
        setattr(opportunity, name, getattr(d, name))
    if opportunity.location_kind is LocationKind.REMOTE and not opportunity.place:
        opportunity.place = ""


# --- Posting and the life of an opportunity -----------------------------------------------


def create_opportunity(actor: User, organisation: Organisation, details: OpportunityDetails,
                       today: date | None = None) -> Opportunity:
    """A draft, seen only by the host until it is published."""
    if not permissions.can_post_opportunity(actor, organisation):
        raise PermissionDenied(f"Only admins of {organisation.name}, and the people they "
                               "allow, can post opportunities for it.")
    d = check_details(details, organisation, None, today or today_uk())
    opportunity = Opportunity(organisation_id=organisation.id, posted_by_id=actor.id,
                              status=OpportunityStatus.DRAFT)
    _apply(opportunity, d)
    db.session.add(opportunity)
    db.session.flush()
    audit.record(actor, "opportunity.created", "opportunity", opportunity.id,
                 organisation_id=organisation.id)
    return opportunity


def update_opportunity(actor: User, opportunity: Opportunity, details: OpportunityDetails,
                       today: date | None = None) -> None:
    _require_manager(actor, opportunity)
    # Read again with it locked: the places taken, checked below, cannot then change.
    conditional.lock(opportunity)
    if opportunity.status is OpportunityStatus.WITHDRAWN:
        raise Conflict("This opportunity has been withdrawn, so it cannot be changed.")
    d = check_details(details, opportunity.organisation, opportunity, today or today_uk())
    _apply(opportunity, d)
    db.session.flush()
    audit.record(actor, "opportunity.updated", "opportunity", opportunity.id)


def _require_manager(actor: User, opportunity: Opportunity) -> None:
    if not permissions.can_manage_opportunity(actor, opportunity):
        raise PermissionDenied("Only the host organisation's admins, and the people they "
                               "allow to post its opportunities, can do that.")


def _open(actor: User, opportunity: Opportunity, was: OpportunityStatus, refusal: str,
          verb: str, today: date | None) -> None:
    """Open an opportunity that is ``was`` (publish a draft, reopen a closed one), unless
    its closing date has passed."""
    _require_manager(actor, opportunity)
    conditional.lock(opportunity)  # read again: another manager may be changing it
    if opportunity.status is not was:
        raise Conflict(refusal)
    if opportunity.closing_date < (today or today_uk()):
        raise Conflict("The closing date has passed. Edit the opportunity to set a later "
                       f"closing date, then {verb} it.")
    opportunity.status = OpportunityStatus.OPEN


def publish(actor: User, opportunity: Opportunity, today: date | None = None) -> None:
    """Draft -> open: anyone can now find it and apply."""
    _open(actor, opportunity, OpportunityStatus.DRAFT,
          "This opportunity has already been published.", "publish", today)
    opportunity.published_at = utcnow()
    audit.record(actor, "opportunity.published", "opportunity", opportunity.id)


def close(actor: User, opportunity: Opportunity) -> None:
    """Stop taking applications before the closing date; decisions carry on."""
    _require_manager(actor, opportunity)
    conditional.lock(opportunity)
    if opportunity.status is not OpportunityStatus.OPEN:
        raise Conflict("Only an open opportunity can be closed.")
    opportunity.status = OpportunityStatus.CLOSED
    audit.record(actor, "opportunity.closed", "opportunity", opportunity.id)


def reopen(actor: User, opportunity: Opportunity, today: date | None = None) -> None:
    _open(actor, opportunity, OpportunityStatus.CLOSED,
          "Only a closed opportunity can be reopened.", "reopen", today)
    audit.record(actor, "opportunity.reopened", "opportunity", opportunity.id)


def withdraw(actor: User, opportunity: Opportunity, reason: str) -> int:
    """Take the offer back. Applications still waiting are declined with the reason, their
    line manager links stop working, and each applicant is emailed. Placements already
    agreed carry on. Returns how many applicants were told."""
    _require_manager(actor, opportunity)
    # As every change to its applications' states: lock it, then read them.
    conditional.lock(opportunity)
    if opportunity.status is OpportunityStatus.WITHDRAWN:
        raise Conflict("This opportunity has already been withdrawn.")
    reason = _required(reason, REASON_MAX, "reason",
                       "Say why you are withdrawing it: we tell the applicants", "Reason")
    opportunity.status = OpportunityStatus.WITHDRAWN
    opportunity.withdrawn_reason = reason
    now = utcnow()
    waiting = list(db.session.scalars(
        select(Application).where(
            Application.opportunity_id == opportunity.id,
            Application.status.in_([s for s in ApplicationStatus if s.is_open]),
        ).options(joinedload(Application.applicant))
        .execution_options(populate_existing=True)
    ))
    url = url_for("opportunities.show", opportunity_id=opportunity.id, _external=True)
    for application in waiting:
        application.status = ApplicationStatus.DECLINED
        application.host_message = f"The host withdrew this opportunity: {reason}"
        application.decided_at = now
        application.decided_by_id = actor.id
        application.manager_token_hash = None
        mail.queue(application.applicant.email,
                   f"Opportunity withdrawn: {opportunity.title}", "opportunity_withdrawn",
                   kind=Kind.MY_APPLICATION, recipient=application.applicant,
                   user=application.applicant, opportunity=opportunity, reason=reason,
                   url=url)
    db.session.flush()
    audit.record(actor, "opportunity.withdrawn", "opportunity", opportunity.id, reason=reason,
                 applicants_told=len(waiting))
    return len(waiting)


# --- Loading ------------------------------------------------------------------------------


def get(opportunity_id: int) -> Opportunity | None:
    """One opportunity with its host and partnership (one query)."""
    return db.session.scalar(
        select(Opportunity).where(Opportunity.id == opportunity_id)
        .options(joinedload(Opportunity.organisation), joinedload(Opportunity.partnership))
    )


def closing_note(opportunity: Opportunity, today: date | None = None) -> str:
    """Why an opportunity is not taking applications, in plain English ('' if it is)."""
    today = today or today_uk()
    if opportunity.status is OpportunityStatus.WITHDRAWN:
        return "The host has withdrawn this opportunity. It is no longer taking applications."
    if opportunity.status is OpportunityStatus.DRAFT:
        return "This opportunity has not been published yet."
    if opportunity.status is OpportunityStatus.CLOSED:
        return "The host has closed this opportunity early. It is no longer taking " \
               "applications."
    if opportunity.closing_date < today:
        return (f"This opportunity closed at the end of "
                f"{format_day(opportunity.closing_date)}. It is no longer taking "
                "applications.")
    return ""


# --- Browsing -----------------------------------------------------------------------------


@dataclass
class BrowseFilters:
    """The browse page's filters; None (or False) means any."""

    kind: OpportunityKind | None = None
    sector: Sector | None = None
    partnership_id: int | None = None
    location_kind: LocationKind | None = None
    commitment: str | None = None  # "short": up to 5 days in all; "long": more, or ongoing
    closing_soon: bool = False

    @property
    def any(self) -> bool:
        return bool(self.kind or self.sector or self.partnership_id or self.location_kind
                    or self.commitment or self.closing_soon)


def _browse_query(filters: BrowseFilters, today: date) -> Select[tuple[Opportunity]]:
    stmt = (
        select(Opportunity)
        .join(Opportunity.organisation)
        .where(Opportunity.status == OpportunityStatus.OPEN, Opportunity.closing_date >= today)
    )
    if filters.kind:
        stmt = stmt.where(Opportunity.kind == filters.kind)
    if filters.sector:
        types = [t for t in OrgType if t.sector is filters.sector]
        stmt = stmt.where(Organisation.org_type.in_(types))
    if filters.partnership_id:
        stmt = stmt.where(Opportunity.partnership_id == filters.partnership_id)
    if filters.location_kind:
        stmt = stmt.where(Opportunity.location_kind == filters.location_kind)
    if filters.commitment == "short":
        stmt = stmt.where(Opportunity.total_days.is_not(None),
                          Opportunity.total_days <= SHORT_DAYS)
    elif filters.commitment == "long":
        stmt = stmt.where(or_(Opportunity.total_days.is_(None),
                              Opportunity.total_days > SHORT_DAYS))
    if filters.closing_soon:
        stmt = stmt.where(Opportunity.closing_date <= today + timedelta(days=CLOSING_SOON_DAYS))
    return stmt


def browse(filters: BrowseFilters, page: int = 1,
           today: date | None = None) -> tuple[list[Opportunity], int]:
    """Open opportunities, closing soonest first, with their hosts: two queries."""
    today = today or today_uk()
    stmt = _browse_query(filters, today)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(
        stmt.options(contains_eager(Opportunity.organisation),
                     joinedload(Opportunity.partnership))
        .order_by(Opportunity.closing_date, Opportunity.id)
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return list(rows), total


# --- The host's own list -------------------------------------------------------------------


@dataclass
class HostCounts:
    """Numbers for one opportunity on "My opportunities" and its own page."""

    to_review: int = 0  # the host can see it and has not decided yet
    awaiting_manager: int = 0
    accepted: int = 0


def managed_opportunities(user: User) -> list[Opportunity]:
    """Opportunities of the organisations the user hosts for, newest first (one query)."""
    return list(db.session.scalars(
        select(Opportunity)
        .where(Opportunity.organisation_id.in_(_hosted_by(user)))
        .options(joinedload(Opportunity.organisation))
        .order_by(Opportunity.created_at.desc(), Opportunity.id.desc())
    ))


def host_counts(opportunity_ids: list[int]) -> dict[int, HostCounts]:
    """Application counts per opportunity, in one query."""
    counts: dict[int, HostCounts] = {oid: HostCounts() for oid in opportunity_ids}
    if not opportunity_ids:
        return counts
    rows = db.session.execute(
        select(Application.opportunity_id, Application.status, Application.manager_decision,
               func.count())
        .where(Application.opportunity_id.in_(opportunity_ids))
        .group_by(Application.opportunity_id, Application.status,
                  Application.manager_decision)
    )
    for opportunity_id, status, decision, n in rows:
        c = counts[opportunity_id]
        if status is ApplicationStatus.ACCEPTED:
            c.accepted += n
        elif status.is_open and decision.lets_host_see:
            c.to_review += n
        elif status.is_open and decision is ManagerDecision.PENDING:
            c.awaiting_manager += n
    return counts
