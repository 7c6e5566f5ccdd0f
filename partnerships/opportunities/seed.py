"""The ``opportunities`` section of the demo (``flask seed demo``): secondments and
shadowing offered by the demo organisations, with applications, placements, their
objectives, checklists and reflections.

It follows the rules in ``partnerships/seed.py``:

- **Loaded into an empty database** (see ``partnerships/seed.py``): every record is
  new, so there is nothing to match or undo; ``places_taken`` is the count of
  accepted applications.
- **Times count from loading.** Every date and time is a whole number of days from
  the day the opportunity's partnership (or, without one, the first partnership in
  the file) was loaded: ``closing_day: 6`` closes six days after it,
  ``applied_day: -5`` was five days before it, so a fresh demo always has
  opportunities closing soon.
- **The same rules as the site.** An opportunity is checked by the same function as
  the "offer an opportunity" form (against the anchor day, not today), it is posted
  by an admin of the host or by a member an admin allowed to post (``allowed_by``
  names that admin, and the allowance is kept in ``opportunity_posters``), applicants
  belong to the organisation they apply from, in a sector the opportunity is open
  to, the host sees only what the line manager approved, a placement belongs to an
  accepted application, places are never overbooked, and a host's reflection is by
  an admin of the host or the person who posted it. Nothing is audited and no email
  is queued.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from ..accounts.models import User
from ..errors import ValidationError
from ..extensions import db
from ..organisations.models import MemberRole, Organisation, OrganisationMember, RequestStatus
from ..partnership.models import Partnership
from ..seed import SeedContext, SeedError, _assign, _check_fields, _entries, _enum, _text
from ..timeutil import to_uk
from . import applications as application_rules
from . import placements as placement_rules
from . import services
from .models import (
    MAX_OBJECTIVES,
    Application,
    ApplicationStatus,
    LocationKind,
    ManagerDecision,
    OpenTo,
    Opportunity,
    OpportunityKind,
    OpportunityPoster,
    OpportunityStatus,
    Placement,
    PlacementObjective,
    PlacementStatus,
    Reflection,
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
                         "decided_day", "placement"}
_PLACEMENT_OPTIONAL = {"start_day", "end_day", "checklist", "objectives", "started_day",
                       "completed_day", "reflections"}
_REFLECTION_FIELDS = {"learned", "changes", "would_recommend"}
_CHECKLIST = [name for name, _label, _hint in Placement.CHECKLIST]
_DAYS_MESSAGE = ("should be a whole number of days from the day the partnership was "
                 "loaded (negative for before it)")


@dataclass
class _Anchor:
    """The moment the partnership was loaded, and that day in the UK."""

    moment: datetime
    day: date

    def date(self, entry: dict[str, Any], key: str, where: str) -> date:
        return self.day + timedelta(days=_whole(entry.get(key), key, where))

    def time(self, entry: dict[str, Any], key: str, where: str,
             default: int | None = None) -> datetime:
        value = entry.get(key, default)
        days = _whole(value, key, where)
        if days > 0:
            raise SeedError(f"{where}: {key} is in the future (it must be 0 or less)")
        return self.moment + timedelta(days=days)


def _whole(value: Any, key: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SeedError(f"{where}: {key} {_DAYS_MESSAGE}")
    return value


def _anchor(partnership: Partnership | None, ctx: SeedContext, where: str) -> _Anchor:
    chosen = partnership or next(iter(ctx.partnerships.values()), None)
    if chosen is None:
        raise SeedError(f"{where}: opportunities count their days from a partnership, and "
                        "the file has none")
    return _Anchor(chosen.created_at, to_uk(chosen.created_at).date())


def _is_admin(user: User, organisation: Organisation) -> bool:
    return db.session.scalar(select(OrganisationMember.id).where(
        OrganisationMember.organisation_id == organisation.id,
        OrganisationMember.user_id == user.id,
        OrganisationMember.status == RequestStatus.ACTIVE,
        OrganisationMember.role == MemberRole.ADMIN,
    )) is not None


def _is_member(user: User, organisation: Organisation) -> bool:
    return db.session.scalar(select(OrganisationMember.id).where(
        OrganisationMember.organisation_id == organisation.id,
        OrganisationMember.user_id == user.id,
        OrganisationMember.status == RequestStatus.ACTIVE,
    )) is not None


# --- Opportunities ------------------------------------------------------------------------


def _details(entry: dict[str, Any], host: Organisation, partnership: Partnership | None,
             anchor: _Anchor, where: str) -> services.OpportunityDetails:
    """The opportunity's fields, checked by the same rules as the form (at the anchor)."""
    start_days = entry["start_days"]
    if not (isinstance(start_days, list) and len(start_days) == 2):
        raise SeedError(f"{where}: start_days should be [earliest, latest]")
    total_days = entry.get("total_days")
    if total_days is not None and (isinstance(total_days, bool)
                                   or not isinstance(total_days, int)):
        raise SeedError(f"{where}: total_days should be a whole number")
    places = entry.get("places", 1)
    if isinstance(places, bool) or not isinstance(places, int):
        raise SeedError(f"{where}: places should be a whole number")
    details = services.OpportunityDetails(
        kind=_enum(OpportunityKind, entry["type"], where),
        title=" ".join(str(entry["title"]).split()),
        description=_text(entry["description"]),
        skills_sought=_text(entry.get("skills_sought")),
        host_team=_text(entry.get("host_team")),
        location_kind=_enum(LocationKind, entry["location"], where),
        place=_text(entry.get("place")),
        time_commitment=_text(entry["time_commitment"]),
        total_days=total_days,
        duration=_text(entry.get("duration")),
        starts_earliest=anchor.date({"d": start_days[0]}, "d", f"{where}: start_days"),
        starts_latest=anchor.date({"d": start_days[1]}, "d", f"{where}: start_days"),
        places=places,
        open_to=_enum(OpenTo, entry.get("open_to", "both"), where),
        seniority=_text(entry.get("seniority")),
        pay_and_backfill=_text(entry.get("pay_and_backfill")),
        closing_date=anchor.date(entry, "closing_day", where),
        contact_name=_text(entry["contact_name"]),
        contact_email=_text(entry["contact_email"]),
        manager_approval_required=bool(entry.get("manager_approval_required", True)),
        partnership_id=partnership.id if partnership else None,
    )
    assert details.closing_date is not None
    check_day = min(anchor.day, details.closing_date)  # a closed demo may have closed
    try:
        return services.check_details(details, host, None, check_day)
    except ValidationError as error:
        raise SeedError(f"{where}: {error.message} ({error.field})") from None


def _allow_poster(entry: dict[str, Any], host: Organisation, poster: User, ctx: SeedContext,
                  anchor: _Anchor, allowed: set[tuple[int, int]], where: str) -> None:
    """Check who may post for the host; keep the allowance of a member who is not an
    admin (``allowed_by``: the admin who allowed them), a month before the anchor."""
    if "allowed_by" not in entry:
        if not _is_admin(poster, host):
            raise SeedError(f"{where}: {poster.email} is not an admin of {host.slug}, so "
                            "cannot post for it (unless allowed_by names the admin who "
                            "allowed them)")
        return
    admin = ctx.user(entry["allowed_by"], where)
    if not _is_admin(admin, host):
        raise SeedError(f"{where}: allowed_by {admin.email} is not an admin of {host.slug}")
    if _is_admin(poster, host) or not _is_member(poster, host):
        raise SeedError(f"{where}: allowed_by is for a member of {host.slug} who is not an "
                        f"admin, and {poster.email} is not one")
    if (host.id, poster.id) not in allowed:
        db.session.add(OpportunityPoster(organisation_id=host.id, user_id=poster.id,
                                         granted_by_id=admin.id,
                                         created_at=anchor.moment - timedelta(days=30)))
        allowed.add((host.id, poster.id))


def _load_opportunity(entry: dict[str, Any], ctx: SeedContext, seen: set[tuple[int, str]],
                      allowed: set[tuple[int, int]]) -> Opportunity:
    where = f"opportunities: {entry.get('title', '?')!r}"
    _check_fields(entry, _OPPORTUNITY_REQUIRED, _OPPORTUNITY_OPTIONAL, where)
    host = ctx.organisation(entry["host"], where)
    poster = ctx.user(entry["posted_by"], where)
    partnership = ctx.partnership(entry["partnership"], where) if entry.get(
        "partnership") else None
    anchor = _anchor(partnership, ctx, where)
    _allow_poster(entry, host, poster, ctx, anchor, allowed, where)
    details = _details(entry, host, partnership, anchor, where)
    if (host.id, details.title) in seen:
        raise SeedError(f"{where}: listed twice for {host.slug}")
    seen.add((host.id, details.title))
    status = _enum(OpportunityStatus, entry.get("status", "open"), where)
    withdrawn_reason = _text(entry.get("withdrawn_reason"))
    if (status is OpportunityStatus.WITHDRAWN) != bool(withdrawn_reason):
        raise SeedError(f"{where}: a withdrawn opportunity, and only one, has a "
                        "withdrawn_reason")
    published = (None if status is OpportunityStatus.DRAFT
                 else anchor.time(entry, "published_day", where, default=-14))
    values = {name: getattr(details, name) for name in (
        "kind", "description", "skills_sought", "host_team", "location_kind", "place",
        "time_commitment", "total_days", "duration", "starts_earliest", "starts_latest",
        "places", "open_to", "seniority", "pay_and_backfill", "closing_date",
        "contact_name", "contact_email", "manager_approval_required", "partnership_id")}
    opportunity = Opportunity(
        organisation_id=host.id, title=details.title, places_taken=0, posted_by_id=poster.id,
        status=status, published_at=published, withdrawn_reason=withdrawn_reason,
        created_at=published or anchor.moment - timedelta(days=1), **values)
    db.session.add(opportunity)
    db.session.flush()
    ctx.count("opportunities")
    _load_applications(opportunity, entry.get("applications"), ctx, anchor, where)
    return opportunity


# --- Applications -------------------------------------------------------------------------


def _load_applications(opportunity: Opportunity, section: Any, ctx: SeedContext,
                       anchor: _Anchor, where: str) -> None:
    listed: set[int] = set()
    host = db.session.get(Organisation, opportunity.organisation_id)
    assert host is not None
    for item in _entries(section, f"{where}: applications"):
        awhere = f"{where}: application by {item.get('applicant', '?')}"
        _check_fields(item, {"applicant", "organisation", "statement", "availability",
                             "applied_day"}, _APPLICATION_OPTIONAL, awhere)
        applicant = ctx.user(item["applicant"], awhere)
        if applicant.id in listed:
            raise SeedError(f"{awhere}: listed twice")
        listed.add(applicant.id)
        home = ctx.organisation(item["organisation"], awhere)
        if not _is_member(applicant, home):
            raise SeedError(f"{awhere}: {applicant.email} does not belong to {home.slug}")
        if home.id == host.id or not opportunity.open_to.accepts(home.sector):
            raise SeedError(f"{awhere}: {home.slug} cannot apply: the opportunity is open to "
                            f"{opportunity.open_to.label.lower()}, from other organisations")
        application = Application(opportunity_id=opportunity.id, applicant_id=applicant.id)
        _fill_application(application, opportunity, home, item, anchor, awhere)
        db.session.add(application)
        ctx.count("applications")
        db.session.flush()
        _load_placement(application, opportunity, host, item.get("placement"), ctx, anchor,
                        awhere)
    db.session.flush()
    accepted = db.session.scalar(
        select(func.count(Application.id)).where(
            Application.opportunity_id == opportunity.id,
            Application.status == ApplicationStatus.ACCEPTED)) or 0
    if accepted > opportunity.places:
        raise SeedError(f"{where}: {accepted} accepted applications for {opportunity.places} "
                        "places: never overbook")
    _assign(opportunity, places_taken=accepted)


def _fill_application(application: Application, opportunity: Opportunity,
                      home: Organisation, item: dict[str, Any], anchor: _Anchor,
                      where: str) -> None:
    applied = anchor.time(item, "applied_day", where)
    status = _enum(ApplicationStatus, item.get("status", "submitted"), where)
    default_decision = ("pending" if opportunity.manager_approval_required else "not_needed")
    decision = _enum(ManagerDecision, item.get("manager_decision", default_decision), where)
    if (decision is ManagerDecision.NOT_NEEDED) == opportunity.manager_approval_required:
        raise SeedError(f"{where}: manager_decision not_needed goes with "
                        "manager_approval_required: false, and only with it")
    manager_name = _text(item.get("manager_name"))
    manager_email = _text(item.get("manager_email")).lower()
    if opportunity.manager_approval_required and not (manager_name and "@" in manager_email):
        raise SeedError(f"{where}: needs manager_name and manager_email")
    if status not in (ApplicationStatus.SUBMITTED, ApplicationStatus.RESERVE,
                      ApplicationStatus.WITHDRAWN) and not decision.lets_host_see:
        raise SeedError(f"{where}: the host cannot decide before the line manager approves")
    for key, limit in (("statement", application_rules.STATEMENT_MAX),
                       ("availability", application_rules.AVAILABILITY_MAX)):
        if not _text(item[key]) or len(_text(item[key])) > limit:
            raise SeedError(f"{where}: {key} should be 1 to {limit} characters")
    manager_decided = (anchor.time(item, "manager_decided_day", where)
                       if decision in (ManagerDecision.APPROVED, ManagerDecision.DECLINED)
                       else None)
    decided = (anchor.time(item, "decided_day", where)
               if status in (ApplicationStatus.SHORTLISTED, ApplicationStatus.ACCEPTED,
                             ApplicationStatus.DECLINED) else None)
    for moment, key in ((manager_decided, "manager_decided_day"), (decided, "decided_day")):
        if moment is not None and moment < applied:
            raise SeedError(f"{where}: {key} is before applied_day")
    pending = decision is ManagerDecision.PENDING and status.is_open
    # A pending application's first link is not known to anyone (no email is sent):
    # the applicant sends a reminder from their application's page to get a new one.
    token_hash = (hashlib.sha256(f"demo:{opportunity.id}:{application.applicant_id}".encode())
                  .hexdigest() if pending else None)
    _assign(application, organisation_id=home.id, statement=_text(item["statement"]),
            availability=_text(item["availability"]), manager_name=manager_name,
            manager_email=manager_email, manager_decision=decision,
            manager_comment=_text(item.get("manager_comment")),
            manager_decided_at=manager_decided, manager_token_hash=token_hash,
            manager_link_sent_at=applied if opportunity.manager_approval_required else None,
            last_reminder_at=None, status=status, host_message=_text(item.get("host_message")),
            decided_at=decided,
            decided_by_id=opportunity.posted_by_id if decided else None,
            withdrawn_at=applied if status is ApplicationStatus.WITHDRAWN else None,
            created_at=applied)


# --- Placements ---------------------------------------------------------------------------


def _load_placement(application: Application, opportunity: Opportunity, host: Organisation,
                    item: Any, ctx: SeedContext, anchor: _Anchor, where: str) -> None:
    if application.status is not ApplicationStatus.ACCEPTED:
        if item is not None:
            raise SeedError(f"{where}: only an accepted application has a placement")
        return
    item = item or {}
    pwhere = f"{where}: placement"
    if not isinstance(item, dict):
        raise SeedError(f"{pwhere}: expected fields such as status and start_day")
    _check_fields(item, {"status"}, _PLACEMENT_OPTIONAL, pwhere)
    status = _enum(PlacementStatus, item["status"], pwhere)
    if status is PlacementStatus.CANCELLED:
        raise SeedError(f"{pwhere}: a cancelled placement belongs to a withdrawn application")
    starts = anchor.date(item, "start_day", pwhere) if "start_day" in item else None
    ends = anchor.date(item, "end_day", pwhere) if "end_day" in item else None
    if ends is not None and (starts is None or ends < starts):
        raise SeedError(f"{pwhere}: end_day is before start_day")
    checklist = item.get("checklist", [])
    if checklist == "all":
        checklist = _CHECKLIST
    if not isinstance(checklist, list) or set(checklist) - set(_CHECKLIST):
        raise SeedError(f"{pwhere}: checklist should be 'all' or a list of "
                        f"{', '.join(_CHECKLIST)}")
    started = completed = None
    if status is not PlacementStatus.AGREED:
        if starts is None or set(checklist) != set(_CHECKLIST):
            raise SeedError(f"{pwhere}: a placement starts once the dates and the whole "
                            "checklist are agreed")
        started = anchor.time(item, "started_day", pwhere)
    if status is PlacementStatus.COMPLETED:
        completed = anchor.time(item, "completed_day", pwhere)
        if started is not None and completed < started:
            raise SeedError(f"{pwhere}: completed_day is before started_day")
    placement = Placement(application_id=application.id, status=status, starts_on=starts,
                          ends_on=ends, started_at=started, completed_at=completed,
                          created_at=application.decided_at or anchor.moment,
                          **{name: name in checklist for name in _CHECKLIST})
    db.session.add(placement)
    db.session.flush()
    ctx.count("placements")
    _add_objectives(placement, item.get("objectives") or [], pwhere)
    _add_reflections(placement, application, opportunity, host, item.get("reflections"),
                      ctx, completed or anchor.moment, pwhere)


def _add_objectives(placement: Placement, objectives: Any, where: str) -> None:
    if not isinstance(objectives, list) or len(objectives) > MAX_OBJECTIVES:
        raise SeedError(f"{where}: objectives should be a list of up to {MAX_OBJECTIVES}")
    wanted = [_text(text) for text in objectives]
    if any(not text or len(text) > placement_rules.OBJECTIVE_MAX for text in wanted):
        raise SeedError(f"{where}: each objective should be 1 to "
                        f"{placement_rules.OBJECTIVE_MAX} characters")
    placement.objectives.extend(
        PlacementObjective(position=position, text=text, created_at=placement.created_at)
        for position, text in enumerate(wanted, start=1))


def _add_reflections(placement: Placement, application: Application,
                      opportunity: Opportunity, host: Organisation, section: Any,
                      ctx: SeedContext, at: datetime, where: str) -> None:
    section = section or {}
    if not isinstance(section, dict) or set(section) - {"participant", "host"}:
        raise SeedError(f"{where}: reflections should have participant and/or host")
    if section and not placement_rules.can_reflect(placement):
        raise SeedError(f"{where}: reflections come once the placement has started")
    for role_name, item in section.items():
        role = ReflectionRole(role_name)
        rwhere = f"{where}: {role_name} reflection"
        required = _REFLECTION_FIELDS | ({"author"} if role is ReflectionRole.HOST else set())
        _check_fields(item, required, set(), rwhere)
        if role is ReflectionRole.HOST:
            author = ctx.user(item["author"], rwhere)
            if not (_is_admin(author, host) or author.id == opportunity.posted_by_id):
                raise SeedError(f"{rwhere}: {author.email} is not an admin of {host.slug}")
        else:
            author = db.session.get(User, application.applicant_id)
        if not isinstance(item["would_recommend"], bool):
            raise SeedError(f"{rwhere}: would_recommend should be true or false")
        placement.reflections.append(Reflection(
            role=role, author_id=author.id if author else None,
            learned=_text(item["learned"]), changes=_text(item["changes"]),
            would_recommend=item["would_recommend"], submitted_at=at, created_at=at))
        ctx.count("reflections")
    db.session.flush()


# --- The section --------------------------------------------------------------------------


def load_opportunities(section: Any, ctx: SeedContext) -> None:
    seen: set[tuple[int, str]] = set()
    allowed: set[tuple[int, int]] = set()
    for entry in _entries(section, "opportunities"):
        _load_opportunity(entry, ctx, seen, allowed)
    db.session.flush()
