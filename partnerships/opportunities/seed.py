"""The ``opportunities`` section of the demo (``flask seed demo``): secondments and
shadowing offered by the demo organisations, with applications, line managers'
decisions, placements and reflections, made through the same services as the site
(``factories/opportunities.py``), each step at its moment in the past.

- **Days count from loading** (see ``mous/seed.py``'s ``Days``): ``closing_day: 6``
  closes six days after the demo was loaded, ``applied_day: -5`` was five days
  before it, so a fresh demo always has opportunities closing soon.
- **The steps.** An admin allows a member to post (``allowed_by``) a month before;
  ``posted_by`` posts and publishes it on ``published_day`` (two weeks ago unless
  said); each applicant applies on ``applied_day``; their line manager follows the
  emailed link on ``manager_decided_day`` when the file gives a ``manager_decision``;
  the host (``decided_by``, or whoever posted it) shortlists, accepts or declines on
  ``decided_day``, agreeing a placement's dates, objectives and checklist then; the
  host starts and completes it on ``started_day`` and ``completed_day``, when both
  sides record their reflections. Applications are made in the order listed, so
  places fill (and the reserve list starts) as they would on the site. An
  opportunity ``status: closed`` or ``withdrawn`` is closed or withdrawn last.
- **The services' rules.** A step the site would refuse is reported with the service's
  message and where it is in the file; the statuses the file gives are checked
  against what the steps made.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..accounts.models import User
from ..extensions import db
from ..factories import opportunities as factory
from ..mous.seed import Days, step
from ..organisations.models import Organisation
from ..seed import SeedContext, SeedError, check_fields, entries, enum, text
from .applications import Decision
from .models import (
    Application,
    ApplicationStatus,
    LocationKind,
    ManagerDecision,
    OpenTo,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
    PlacementStatus,
    ReflectionRole,
)

_OPPORTUNITY_REQUIRED = {"host", "posted_by", "title", "type", "description", "location",
                         "time_commitment", "start_days", "closing_day", "contact_name",
                         "contact_email"}
_OPPORTUNITY_OPTIONAL = {"partnership", "skills_sought", "host_team", "place", "total_days",
                         "duration", "places", "open_to", "seniority", "pay_and_backfill",
                         "status", "manager_approval_required", "published_day",
                         "withdrawn_reason", "applications", "allowed_by"}
_APPLICATION_OPTIONAL = {"manager_name", "manager_email", "manager_decision",
                         "manager_comment", "manager_decided_day", "status", "host_message",
                         "decided_by", "decided_day", "placement"}
_PLACEMENT_OPTIONAL = {"start_day", "end_day", "checklist", "objectives", "started_day",
                       "completed_day", "reflections"}
_REFLECTION_FIELDS = {"learned", "changes", "would_recommend"}
_DECISIONS = {ApplicationStatus.SHORTLISTED: Decision.SHORTLIST,
              ApplicationStatus.ACCEPTED: Decision.ACCEPT,
              ApplicationStatus.DECLINED: Decision.DECLINE}
ALLOWED_DAYS_BEFORE = 30  # a member is allowed to post this long before loading


def _whole(value: Any, key: str, where: str) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise SeedError(f"{where}: {key} should be a whole number")
    return value


# --- Opportunities ------------------------------------------------------------------------


def _details(entry: dict[str, Any], partnership_id: int | None, days: Days,
             where: str) -> dict[str, Any]:
    start_days = entry["start_days"]
    if not (isinstance(start_days, list) and len(start_days) == 2):
        raise SeedError(f"{where}: start_days should be [earliest, latest]")
    return {
        "kind": enum(OpportunityKind, entry["type"], where),
        "title": text(entry["title"]),
        "description": text(entry["description"]),
        "skills_sought": text(entry.get("skills_sought")),
        "host_team": text(entry.get("host_team")),
        "location_kind": enum(LocationKind, entry["location"], where),
        "place": text(entry.get("place")),
        "time_commitment": text(entry["time_commitment"]),
        "total_days": _whole(entry.get("total_days"), "total_days", where),
        "duration": text(entry.get("duration")),
        "starts_earliest": days.date({"start_days": start_days[0]}, "start_days", where),
        "starts_latest": days.date({"start_days": start_days[1]}, "start_days", where),
        "places": _whole(entry.get("places", 1), "places", where),
        "open_to": enum(OpenTo, entry.get("open_to", "both"), where),
        "seniority": text(entry.get("seniority")),
        "pay_and_backfill": text(entry.get("pay_and_backfill")),
        "closing_date": days.date(entry, "closing_day", where),
        "contact_name": text(entry["contact_name"]),
        "contact_email": text(entry["contact_email"]),
        "manager_approval_required": bool(entry.get("manager_approval_required", True)),
        "partnership_id": partnership_id,
    }


def _load_opportunity(entry: dict[str, Any], ctx: SeedContext, days: Days,
                      allowed: set[tuple[int, int]]) -> None:
    where = f"opportunities: {entry.get('title', '?')!r}"
    check_fields(entry, _OPPORTUNITY_REQUIRED, _OPPORTUNITY_OPTIONAL, where)
    host = ctx.organisation(entry["host"], where)
    poster = ctx.user(entry["posted_by"], where)
    partnership = (ctx.partnership(entry["partnership"], where) if entry.get("partnership")
                   else None)
    status = enum(OpportunityStatus, entry.get("status", "open"), where)
    reason = text(entry.get("withdrawn_reason"))
    if reason and status is not OpportunityStatus.WITHDRAWN:
        raise SeedError(f"{where}: only a withdrawn opportunity has a withdrawn_reason")
    if "allowed_by" in entry and (host.id, poster.id) not in allowed:
        admin = ctx.user(entry["allowed_by"], where)
        with step(f"{where}: allowed_by",
                  days.moment - timedelta(days=ALLOWED_DAYS_BEFORE)):
            factory.allow_poster(admin, host, poster)
        allowed.add((host.id, poster.id))

    draft = status is OpportunityStatus.DRAFT
    posted = days.moment - timedelta(days=1) if draft else days.past(
        entry, "published_day", where, default=-14)
    values = _details(entry, partnership.id if partnership else None, days, where)
    with step(where, posted):
        opportunity = factory.opportunity(poster, host, publish=not draft,
                                          today=days.day_of(posted), **values)
    ctx.count("opportunities")
    for item in entries(entry.get("applications"), f"{where}: applications"):
        _load_application(item, opportunity, host, poster, ctx, days, where)
    if status is OpportunityStatus.CLOSED:
        closing = min(days.moment, days.moment + timedelta(
            days=days.number(entry, "closing_day", where)))
        with step(f"{where}: status", closing):
            factory.close(poster, opportunity)
    elif status is OpportunityStatus.WITHDRAWN:
        with step(f"{where}: status", days.moment):
            factory.withdraw_offer(poster, opportunity, reason)


# --- Applications -------------------------------------------------------------------------


def _load_application(item: dict[str, Any], opportunity: Opportunity, host: Organisation,
                      poster: User, ctx: SeedContext, days: Days, where: str) -> None:
    where = f"{where}: application by {item.get('applicant', '?')}"
    check_fields(item, {"applicant", "organisation", "statement", "availability",
                         "applied_day"}, _APPLICATION_OPTIONAL, where)
    applicant = ctx.user(item["applicant"], where)
    status = enum(ApplicationStatus, item.get("status", "submitted"), where)
    decision = enum(ManagerDecision, item.get("manager_decision", (
        "pending" if opportunity.manager_approval_required else "not_needed")), where)
    if "placement" in item and status is not ApplicationStatus.ACCEPTED:
        raise SeedError(f"{where}: only an accepted application has a placement")

    applied = days.past(item, "applied_day", where)
    with step(where, applied):
        application = factory.apply(
            applicant, opportunity, ctx.organisation(item["organisation"], where),
            statement=text(item["statement"]), availability=text(item["availability"]),
            manager_name=text(item.get("manager_name")),
            manager_email=text(item.get("manager_email")), today=days.day_of(applied))
    ctx.count("applications")
    if decision in (ManagerDecision.APPROVED, ManagerDecision.DECLINED):
        if not opportunity.manager_approval_required:
            raise SeedError(f"{where}: manager_decision: this opportunity does not ask for "
                            "the line manager's approval (manager_approval_required: false)")
        with step(f"{where}: manager_decision",
                  days.past(item, "manager_decided_day", where)):
            factory.manager_decides(application, decision is ManagerDecision.APPROVED,
                                    text(item.get("manager_comment")))
    decided_by = ctx.user(item["decided_by"], where) if item.get("decided_by") else poster
    if status in _DECISIONS:
        decided = days.past(item, "decided_day", where)
        with step(f"{where}: status", decided):
            factory.decide(decided_by, application, _DECISIONS[status],
                           text(item.get("host_message")))
            if application.placement is not None:
                _agree_placement(item.get("placement") or {}, application, decided_by, days,
                                 f"{where}: placement")
    elif status is ApplicationStatus.WITHDRAWN:
        with step(f"{where}: status", applied):
            factory.withdraw(applicant, application)
    if (application.status, application.manager_decision) != (status, decision):
        raise SeedError(f"{where}: the file says {status.value} with the line manager "
                        f"{decision.value}, but after the steps listed it is "
                        f"{application.status.value} with the line manager "
                        f"{application.manager_decision.value}")
    placement = application.placement
    if placement is not None:
        _run_placement(item.get("placement") or {}, application, decided_by, ctx, days,
                       f"{where}: placement")


# --- Placements ---------------------------------------------------------------------------


def _agree_placement(item: Any, application: Application, host_user: User, days: Days,
                     where: str) -> None:
    """The dates, objectives and checklist the host agreed when accepting."""
    if not isinstance(item, dict):
        raise SeedError(f"{where}: expected fields such as status and start_day")
    check_fields(item, {"status"}, _PLACEMENT_OPTIONAL, where)
    placement = application.placement
    assert placement is not None
    objectives = item.get("objectives") or []
    if not isinstance(objectives, list):
        raise SeedError(f"{where}: objectives should be a list")
    if "start_day" in item or objectives:
        factory.plan(host_user, placement, days.date(item, "start_day", where),
                     days.date(item, "end_day", where) if "end_day" in item else None,
                     [text(objective) for objective in objectives])
    checklist = item.get("checklist", [])
    if checklist == "all":
        checklist = factory.CHECKLIST
    if not isinstance(checklist, list | tuple):
        raise SeedError(f"{where}: checklist should be 'all' or a list")
    if checklist:
        factory.tick(host_user, placement, checklist)


def _run_placement(item: dict[str, Any], application: Application, host_user: User,
                   ctx: SeedContext, days: Days, where: str) -> None:
    """Start and complete it as the file says, then both sides' reflections."""
    placement = application.placement
    assert placement is not None
    status = enum(PlacementStatus, item["status"], where)
    at = days.moment
    if status in (PlacementStatus.IN_PROGRESS, PlacementStatus.COMPLETED):
        at = days.past(item, "started_day", where, default=0)
        with step(where, at):
            factory.start(host_user, placement)
    if status is PlacementStatus.COMPLETED:
        at = days.past(item, "completed_day", where, default=0)
        with step(where, at):
            factory.complete(host_user, placement)
    ctx.count("placements")
    reflections = item.get("reflections") or {}
    if not isinstance(reflections, dict) or set(reflections) - {"participant", "host"}:
        raise SeedError(f"{where}: reflections should have participant and/or host")
    for role_name, entry in reflections.items():
        _reflect(entry, ReflectionRole(role_name), application, ctx, at,
                 f"{where}: {role_name} reflection")
    if placement.status is not status:
        raise SeedError(f"{where}: the file says {status.value}, but after the steps listed "
                        f"it is {placement.status.value}")


def _reflect(entry: Any, role: ReflectionRole, application: Application, ctx: SeedContext,
             at: datetime, where: str) -> None:
    host = role is ReflectionRole.HOST
    check_fields(entry, _REFLECTION_FIELDS | ({"author"} if host else set()), set(), where)
    if not isinstance(entry["would_recommend"], bool):
        raise SeedError(f"{where}: would_recommend should be true or false")
    author = ctx.user(entry["author"], where) if host else application.applicant
    placement = application.placement
    assert placement is not None
    with step(where, at):
        reflection = factory.reflect(author, placement, text(entry["learned"]),
                                     text(entry["changes"]), entry["would_recommend"])
    if reflection.role is not role:
        raise SeedError(f"{where}: {author.email} reflects as the {reflection.role.value}")
    ctx.count("reflections")


# --- The section --------------------------------------------------------------------------


def load_opportunities(section: Any, ctx: SeedContext) -> None:
    days = Days.from_now()
    allowed: set[tuple[int, int]] = set()
    for entry in entries(section, "opportunities"):
        _load_opportunity(entry, ctx, days, allowed)
    db.session.flush()
