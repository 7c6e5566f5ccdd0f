"""Engagement plans: reading and saving what a partnership commits to for a year.

A plan is saved whole (numbers, each forum's meetings, each public body's accountable
person) by one service call; the view commits once. Saving locks the plan row (or, for
a year without a plan, meets the unique (partnership, year) constraint), so two
officers saving at once take turns rather than interleaving their rows."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import audit, conditional, permissions
from ..accounts.models import User
from ..errors import PermissionDenied, ValidationError
from ..extensions import db
from ..forums.models import Forum, Visibility
from ..organisations.models import Organisation, OrgType, RequestStatus, Sector
from ..partnership.models import Partnership, PartnershipMember
from .models import (
    MEETINGS_MAX,
    MINUTES_DAYS_MAX,
    NOTICE_DAYS_MAX,
    PERSON_MAX,
    ROLE_MAX,
    YEAR_MAX,
    YEAR_MIN,
    AccountablePerson,
    EngagementPlan,
    PlanForum,
)

PUBLIC_TYPES = tuple(t for t in OrgType if t.sector is Sector.PUBLIC)


@dataclass(frozen=True)
class Accountable:
    name: str
    role: str


@dataclass(frozen=True)
class PlanDetails:
    """Everything a plan holds, as the form read it."""

    partnership_meetings: int
    notice_days: int
    minutes_days: int
    forum_meetings: dict[int, int] = field(default_factory=dict)  # forum id -> meetings
    accountable: dict[int, Accountable] = field(default_factory=dict)  # organisation id


def valid_year(year: int) -> bool:
    return YEAR_MIN <= year <= YEAR_MAX


def plan_for(partnership: Partnership, year: int) -> EngagementPlan | None:
    """The plan for ``year`` with its forums and accountable people (three queries)."""
    return db.session.scalar(
        select(EngagementPlan)
        .where(EngagementPlan.partnership_id == partnership.id, EngagementPlan.year == year)
        .options(selectinload(EngagementPlan.forums),
                 selectinload(EngagementPlan.accountable)))


def plan_years(partnership: Partnership) -> list[int]:
    """The years the partnership has a plan for, latest first."""
    return list(db.session.scalars(
        select(EngagementPlan.year).where(EngagementPlan.partnership_id == partnership.id)
        .order_by(EngagementPlan.year.desc())))


def plan_forums(partnership: Partnership) -> list[Forum]:
    """The forums a plan covers: the partnership's public forums, by name. Members-only
    forums are left out, because the plan and the record are public."""
    return list(db.session.scalars(
        select(Forum).where(Forum.partnership_id == partnership.id,
                            Forum.visibility == Visibility.PUBLIC)
        .order_by(func.lower(Forum.name), Forum.id)))


def public_bodies(partnership: Partnership) -> list[Organisation]:
    """The partnership's member public bodies (active members of a public-sector type),
    by name: each needs a named senior accountable person."""
    return list(db.session.scalars(
        select(Organisation)
        .join(PartnershipMember, PartnershipMember.organisation_id == Organisation.id)
        .where(PartnershipMember.partnership_id == partnership.id,
               PartnershipMember.status == RequestStatus.ACTIVE,
               Organisation.org_type.in_(PUBLIC_TYPES))
        .order_by(Organisation.sort_name, Organisation.id)))


def _check(details: PlanDetails, forums: list[Forum], bodies: list[Organisation]) -> None:
    """The service's own bounds (the form checks them first, with kinder words)."""
    numbers = [details.partnership_meetings, *details.forum_meetings.values()]
    if any(not 0 <= n <= MEETINGS_MAX for n in numbers):
        raise ValidationError(f"Meetings a year must be between 0 and {MEETINGS_MAX}")
    if not 0 <= details.notice_days <= NOTICE_DAYS_MAX:
        raise ValidationError(f"Notice must be between 0 and {NOTICE_DAYS_MAX} working days",
                              "notice_days")
    if not 0 <= details.minutes_days <= MINUTES_DAYS_MAX:
        raise ValidationError(
            f"Minutes must be due within 0 to {MINUTES_DAYS_MAX} working days", "minutes_days")
    if set(details.forum_meetings) - {f.id for f in forums}:
        raise ValidationError("A forum in the plan is not one of the partnership's public "
                              "forums any more. Check the page and send it again.")
    if set(details.accountable) - {o.id for o in bodies}:
        raise ValidationError("An organisation in the plan is not a member public body any "
                              "more. Check the page and send it again.")
    for person in details.accountable.values():
        if not person.name or not person.role or len(person.name) > PERSON_MAX \
                or len(person.role) > ROLE_MAX:
            raise ValidationError("Give each accountable person's name and role")


def save_plan(actor: User, partnership: Partnership, year: int,
              details: PlanDetails) -> EngagementPlan:
    """Create or replace the partnership's plan for ``year``. Forums and bodies the
    details leave out get no commitment (a forum) or no named person (a body)."""
    if not permissions.can_edit_engagement_plan(actor, partnership):
        raise PermissionDenied("Only the partnership's officers can set its engagement plan")
    if not valid_year(year):
        raise ValidationError(f"The year must be between {YEAR_MIN} and {YEAR_MAX}")
    _check(details, plan_forums(partnership), public_bodies(partnership))
    plan = plan_for(partnership, year)
    created = plan is None
    if plan is None:
        plan = EngagementPlan(partnership_id=partnership.id, year=year,
                              partnership_meetings=details.partnership_meetings,
                              notice_days=details.notice_days,
                              minutes_days=details.minutes_days, updated_by_id=actor.id)
        db.session.add(plan)
        try:
            with db.session.begin_nested():
                db.session.flush()
        except IntegrityError:  # another officer created this year's plan at this moment
            raise ValidationError(f"Someone else has just set the plan for {year}. Check "
                                  "it and make your changes again.") from None
    else:
        conditional.lock(plan)
        plan.partnership_meetings = details.partnership_meetings
        plan.notice_days = details.notice_days
        plan.minutes_days = details.minutes_days
        plan.updated_by_id = actor.id
    _replace_rows(plan, details)
    db.session.flush()
    audit.record(actor, "engagement_plan.created" if created else "engagement_plan.updated",
                 "partnership", partnership.id, year=year)
    return plan


def _replace_rows(plan: EngagementPlan, details: PlanDetails) -> None:
    """Update the plan's forum and accountable rows in place: keep, change, add, drop."""
    forums = {row.forum_id: row for row in plan.forums}
    for forum_id, row in forums.items():
        if forum_id not in details.forum_meetings:
            plan.forums.remove(row)
    for forum_id, meetings in details.forum_meetings.items():
        if forum_id in forums:
            forums[forum_id].meetings = meetings
        else:
            plan.forums.append(PlanForum(forum_id=forum_id, meetings=meetings))
    people = {row.organisation_id: row for row in plan.accountable}
    for organisation_id, person_row in people.items():
        if organisation_id not in details.accountable:
            plan.accountable.remove(person_row)
    for organisation_id, person in details.accountable.items():
        if organisation_id in people:
            people[organisation_id].name = person.name
            people[organisation_id].role = person.role
        else:
            plan.accountable.append(AccountablePerson(
                organisation_id=organisation_id, name=person.name, role=person.role))
