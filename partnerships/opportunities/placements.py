"""Placement rules: agreed dates and objectives, the checklist agreed before starting,
starting, completing and cancelling, reflections, and the figures by direction.

The participant and the host (``permissions.can_view_placement``) both plan the
placement; only the host starts, completes or cancels it. Each records one reflection
once it has started. When one side changes the plan, the checklist or their
reflection, the other side gets one email for that save (none when nothing changed).
A cancelled placement is kept, with the host's reason, and frees its place.
Completed placements count in the figures by the sectors of the participant's
organisation and the host organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import url_for
from sqlalchemy import func, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from .. import audit, conditional, mail, permissions
from ..accounts.models import User
from ..accounts.services import normalise_email
from ..errors import Conflict, PermissionDenied, ValidationError
from ..extensions import db
from ..mail.kinds import Kind
from ..modelbase import utcnow
from ..organisations.models import Organisation, Sector
from ..timeutil import format_day, to_uk, today_uk
from . import applications as application_rules
from .models import (
    CANCEL_REASON_MAX,
    MAX_OBJECTIVES,
    OBJECTIVE_MAX,
    REFLECTION_MAX,
    Application,
    ApplicationStatus,
    Opportunity,
    Placement,
    PlacementObjective,
    PlacementStatus,
    Reflection,
    ReflectionRole,
)

END_BEFORE_START = "The end date must be the same as or after the start date"


def long_day(day: date) -> str:
    """A date as people read it on the placement pages: "Friday 27 November 2026"."""
    return f"{day:%A} {format_day(day)}"


def get(placement_id: int) -> Placement | None:
    """A placement with its application, people, organisations, objectives and
    reflections (three queries)."""
    return db.session.scalar(
        select(Placement).where(Placement.id == placement_id).options(
            joinedload(Placement.application).joinedload(Application.applicant),
            joinedload(Placement.application).joinedload(Application.organisation),
            joinedload(Placement.application).joinedload(Application.opportunity)
            .joinedload(Opportunity.organisation),
            joinedload(Placement.started_by),
            selectinload(Placement.objectives),
            selectinload(Placement.reflections).joinedload(Reflection.author),
        )
    )


def role_of(user: User, placement: Placement) -> ReflectionRole | None:
    """Participant, host, or neither. Someone who is both answers as the participant."""
    if permissions.is_applicant(user, placement.application):
        return ReflectionRole.PARTICIPANT
    if permissions.can_manage_opportunity(user, placement.application.opportunity):
        return ReflectionRole.HOST
    return None


def _require_party(actor: User, placement: Placement) -> ReflectionRole:
    role = role_of(actor, placement)
    if role is None:
        raise PermissionDenied("Only the participant and the host can change a placement.")
    return role


def _require_host(actor: User, placement: Placement) -> None:
    if not permissions.can_manage_opportunity(actor, placement.application.opportunity):
        raise PermissionDenied("Only the host can do that.")


def _require_live(placement: Placement) -> None:
    if placement.status in (PlacementStatus.COMPLETED, PlacementStatus.CANCELLED):
        raise Conflict(f"This placement is {placement.status.label.lower()}, so its plan "
                       "cannot change.")


def _placement_url(placement: Placement) -> str:
    return url_for("opportunities.placement", placement_id=placement.id, _external=True)


def _tell_other_side(actor: User, placement: Placement, role: ReflectionRole,
                     what: str) -> None:
    """One email per save to the other side: the host's contacts when the participant
    changed something, the participant when the host did. ``what`` is "plan",
    "checklist", "reflection" or "started"."""
    application = placement.application
    opportunity = application.opportunity
    if role is ReflectionRole.PARTICIPANT:
        recipients = application_rules.host_recipients(opportunity)
    else:
        recipients = [(application.applicant.email, application.applicant.name)]
    subjects = {"plan": "Placement plan changed", "checklist": "Placement checklist updated",
                "reflection": "Reflection recorded", "started": "Placement started"}
    mine = normalise_email(actor.email)
    for email, name in recipients:
        if normalise_email(email) == mine:
            continue
        mail.queue(email, f"{subjects[what]}: {opportunity.title}", "placement_updated",
                   kind=Kind.PLACEMENT_UPDATES,
                   name=name, actor=actor, by_participant=role is ReflectionRole.PARTICIPANT,
                   what=what, placement=placement, opportunity=opportunity,
                   url=_placement_url(placement))


def _lock(placement: Placement) -> None:
    """Lock the placement's row and read it (its objectives, checklist, reflections)
    again, before a change both sides may make at the same moment: two saves of the
    plan at once each replaced the objectives and the second failed on their
    numbering, and two first reflections by one side each added a row."""
    conditional.lock(placement)
    db.session.expire(placement)


def update_plan(actor: User, placement: Placement, starts_on: date | None,
                ends_on: date | None, objectives: list[str]) -> None:
    """The agreed dates and up to five objectives (blank ones are dropped)."""
    role = _require_party(actor, placement)
    _lock(placement)
    _require_live(placement)
    if starts_on is None:
        raise ValidationError("Enter the agreed start date", field="starts_on")
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError(END_BEFORE_START,
                              field="ends_on")
    texts = [text.strip() for text in objectives]
    if len(texts) > MAX_OBJECTIVES:
        raise ValidationError(f"Enter up to {MAX_OBJECTIVES} objectives", field="objective_1")
    for i, text in enumerate(texts, start=1):
        if len(text) > OBJECTIVE_MAX:
            raise ValidationError(f"Objective {i} must be {OBJECTIVE_MAX} characters or fewer",
                                  field=f"objective_{i}")
    kept = [text for text in texts if text]
    before = (placement.starts_on, placement.ends_on, [o.text for o in placement.objectives])
    placement.starts_on = starts_on
    placement.ends_on = ends_on
    placement.objectives.clear()
    db.session.flush()  # delete the old rows before their positions are reused
    for position, text in enumerate(kept, start=1):
        placement.objectives.append(PlacementObjective(position=position, text=text))
    db.session.flush()
    audit.record(actor, "placement.plan_updated", "placement", placement.id,
                 objectives=len(kept))
    if before != (starts_on, ends_on, kept):
        _tell_other_side(actor, placement, role, "plan")


def update_checklist(actor: User, placement: Placement, agreed: set[str]) -> None:
    """Tick what has been agreed; unticked items are not agreed yet."""
    role = _require_party(actor, placement)
    _lock(placement)
    _require_live(placement)
    names = {name for name, _label, _hint in Placement.CHECKLIST}
    unknown = agreed - names
    if unknown:
        raise ValidationError("Select items from the checklist", field="agreed")
    before = {name for name in names if getattr(placement, name)}
    for name in names:
        setattr(placement, name, name in agreed)
    db.session.flush()
    audit.record(actor, "placement.checklist_updated", "placement", placement.id,
                 agreed=sorted(agreed))
    if before != agreed:
        _tell_other_side(actor, placement, role, "checklist")


def start_problem(placement: Placement, today: date) -> str | None:
    """Why the placement cannot be marked started on ``today``, or None if it can: it
    is agreed, everything on the checklist is agreed, and its start date has come."""
    if placement.status is not PlacementStatus.AGREED:
        return "This placement has already started, or has ended."
    if placement.starts_on is None:
        return "Agree the start date first."
    if not placement.checklist_done:
        return "Agree everything on the checklist first."
    if placement.starts_on > today:
        return (f"The placement can be marked started from its agreed start date, "
                f"{long_day(placement.starts_on)}.")
    return None


def start(actor: User, placement: Placement) -> None:
    """Either side marks it started, from the agreed start date, once the whole
    checklist is agreed; the other side is told. It does not start by itself: someone
    who was there says it did (a placement that never happened is cancelled instead)."""
    if not permissions.opportunities.can_mark_placement_started(actor, placement):
        raise PermissionDenied("Only the participant and the host can mark a placement "
                               "started.")
    role = _require_party(actor, placement)
    problem = start_problem(placement, today_uk())
    if problem is not None:
        raise Conflict(problem)
    if not conditional.change(placement, Placement.status == PlacementStatus.AGREED,
                              status=PlacementStatus.IN_PROGRESS, started_at=utcnow(),
                              started_by_id=actor.id):
        raise Conflict("This placement has already started, or has ended.")
    audit.record(actor, "placement.started", "placement", placement.id, role=role.value)
    _tell_other_side(actor, placement, role, "started")


def _names(names: list[str]) -> str:
    """ "A", "A and B", "A, B and C"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def next_steps(placement: Placement, role: ReflectionRole | None, today: date) -> list[str]:
    """What happens next on the placement and who does it, for the person reading
    (``role``: the participant reads "you", the host's people read "you" for the host),
    with named people, organisations and dates. Empty once there is nothing left to do.

    The rule stated here and on the page: a placement does not start by itself. From
    the agreed start date, either side marks it started (once the checklist is agreed);
    one that never happened is cancelled by the host instead."""
    application = placement.application
    opportunity = application.opportunity
    host = opportunity.organisation.name
    contacts = [name for _email, name in application_rules.host_recipients(opportunity)
                if name]
    host_people = f"{_names(contacts)} at {host}" if contacts else host
    participant = application.applicant.display_name
    you_participant = role is ReflectionRole.PARTICIPANT
    other = host_people if you_participant else participant
    steps: list[str] = []
    if placement.status is PlacementStatus.AGREED:
        if placement.starts_on is None:
            steps.append(f"You and {other} agree the start date and objectives: change "
                         "them under Objectives below.")
        missing = [label for name, label, _hint in Placement.CHECKLIST
                   if not getattr(placement, name)]
        if missing:
            steps.append(f"You and {other} agree, before it starts: "
                         f"{_names([m.lower() for m in missing])}. Tick each one under "
                         "Agree before starting.")
        if placement.starts_on is not None:
            when = ("from today" if placement.starts_on <= today
                    else f"from {long_day(placement.starts_on)}")
            steps.append(f"It does not start by itself: {when}, you or {other} can mark it "
                         "started on this page. If it does not go ahead, "
                         + ("the host cancels it." if you_participant
                            else "cancel it with a reason."))
        steps.append("Once it has started, "
                     + ("you record your reflection, and the host records theirs."
                        if you_participant else
                        f"{participant} records their reflection, and you record yours."))
    elif placement.status is PlacementStatus.IN_PROGRESS:
        started = long_day(to_uk(placement.started_at).date()) if placement.started_at else ""
        by = placement.started_by.display_name if placement.started_by is not None else ""
        if started:
            steps.append(f"It started on {started}" + (f" (marked by {by})." if by else "."))
        if placement.reflection_by(ReflectionRole.PARTICIPANT) is None:
            steps.append("Record your reflection on this page: what you learned and what "
                         "changes as a result." if you_participant else
                         f"{participant} records their reflection on this page.")
        ends = f" on or after {long_day(placement.ends_on)}" if placement.ends_on else ""
        steps.append(f"{host_people} can mark it completed when it ends{ends}."
                     if you_participant else f"You mark it completed when it ends{ends}.")
    elif placement.status is PlacementStatus.COMPLETED:
        mine = placement.reflection_by(role) if role is not None else None
        if mine is None and role is not None:
            steps.append("Record your reflection on this page.")
    return steps


def complete(actor: User, placement: Placement) -> None:
    """The host marks it completed; the participant is asked for their reflection."""
    _require_host(actor, placement)
    if placement.status is not PlacementStatus.IN_PROGRESS:
        raise Conflict("Only a placement in progress can be completed.")
    if not conditional.change(placement, Placement.status == PlacementStatus.IN_PROGRESS,
                              status=PlacementStatus.COMPLETED, completed_at=utcnow()):
        raise Conflict("Only a placement in progress can be completed.")
    audit.record(actor, "placement.completed", "placement", placement.id)
    application = placement.application
    mail.queue(application.applicant.email,
               f"Your placement is complete: {application.opportunity.title}",
               "application_placement_completed", kind=Kind.PLACEMENT_UPDATES,
               recipient=application.applicant, placement=placement,
               application=application, opportunity=application.opportunity,
               url=url_for("opportunities.reflection", placement_id=placement.id,
                           _external=True))


def can_reflect(placement: Placement) -> bool:
    return placement.status in (PlacementStatus.IN_PROGRESS, PlacementStatus.COMPLETED)


def record_reflection(actor: User, placement: Placement, learned: str, changes: str,
                      would_recommend: bool | None) -> Reflection:
    """The actor's reflection, as participant or host (saving again replaces it)."""
    role = _require_party(actor, placement)
    _lock(placement)
    if not can_reflect(placement):
        raise Conflict("You can record a reflection once the placement has started.")
    learned = (learned or "").strip()
    changes = (changes or "").strip()
    if not learned:
        raise ValidationError("Say what you learned", field="learned")
    if len(learned) > REFLECTION_MAX:
        raise ValidationError(f"What you learned must be {REFLECTION_MAX} characters or "
                              "fewer", field="learned")
    if not changes:
        raise ValidationError("Say what changes as a result", field="changes")
    if len(changes) > REFLECTION_MAX:
        raise ValidationError(f"What changes must be {REFLECTION_MAX} characters or fewer",
                              field="changes")
    if would_recommend is None:
        raise ValidationError("Select yes if you would recommend it", field="would_recommend")
    reflection = placement.reflection_by(role)
    changed = reflection is None or (reflection.learned, reflection.changes,
                                     reflection.would_recommend) != (learned, changes,
                                                                     would_recommend)
    if reflection is None:
        reflection = Reflection(role=role)
        placement.reflections.append(reflection)
    reflection.author_id = actor.id
    reflection.learned = learned
    reflection.changes = changes
    reflection.would_recommend = would_recommend
    reflection.submitted_at = utcnow()
    db.session.flush()
    audit.record(actor, "placement.reflection_recorded", "placement", placement.id,
                 role=role.value)
    if changed:
        _tell_other_side(actor, placement, role, "reflection")
    return reflection


def can_cancel(placement: Placement) -> bool:
    """Before or during the placement; a completed one stays completed."""
    return placement.status in (PlacementStatus.AGREED, PlacementStatus.IN_PROGRESS)


def cancel(actor: User, placement: Placement, reason: str) -> int:
    """The host calls the placement off, before or during it, with a reason.

    The placement is kept, marked cancelled with the reason; the application is no
    longer accepted (declined, with the reason as the host's message), so the place
    frees exactly as when an accepted applicant withdraws and the reserve list is
    told; the participant is emailed. Returns how many on the reserve list were told.
    """
    _require_host(actor, placement)
    application = placement.application
    opportunity = application.opportunity
    # As every change to an opportunity's places: lock it, then read (the participant
    # may be withdrawing at this moment).
    application_rules.lock_opportunity(opportunity)
    db.session.refresh(placement)
    db.session.refresh(application)
    if not can_cancel(placement):
        raise Conflict(f"This placement is {placement.status.label.lower()}, so it cannot "
                       "be cancelled.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Say why you are cancelling the placement: we tell the "
                              "participant", field="reason")
    if len(reason) > CANCEL_REASON_MAX:
        raise ValidationError(f"Reason must be {CANCEL_REASON_MAX} characters or fewer",
                              field="reason")
    now = utcnow()
    was = placement.status
    if not conditional.change(placement, Placement.status == was,
                              status=PlacementStatus.CANCELLED, cancelled_at=now,
                              cancelled_reason=reason):
        raise Conflict("This placement has just changed. Check it and try again.")
    reserve_told = 0
    if conditional.change(application, Application.status == ApplicationStatus.ACCEPTED,
                          status=ApplicationStatus.DECLINED,
                          host_message=f"The host cancelled the placement: {reason}",
                          decided_at=now, decided_by_id=actor.id):
        reserve_told = application_rules.free_place(opportunity)
    db.session.flush()
    audit.record(actor, "placement.cancelled", "placement", placement.id, reason=reason,
                 was=was.value, application_id=application.id, reserve_told=reserve_told)
    mail.queue(application.applicant.email, f"Placement cancelled: {opportunity.title}",
               "placement_cancelled", kind=Kind.MY_APPLICATION,
               recipient=application.applicant, placement=placement, application=application,
               opportunity=opportunity, url=_placement_url(placement))
    return reserve_told


# --- Figures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Direction:
    """From the sector of the participant's organisation to the host's."""

    home: Sector
    host: Sector

    @property
    def label(self) -> str:
        names = {Sector.PUBLIC: "Public sector", Sector.VCSE: "VCSE"}
        return f"{names[self.home]} to {names[self.host]}"


DIRECTIONS = (
    Direction(Sector.PUBLIC, Sector.VCSE),
    Direction(Sector.VCSE, Sector.PUBLIC),
    Direction(Sector.VCSE, Sector.VCSE),
    Direction(Sector.PUBLIC, Sector.PUBLIC),
)


def direction_counts(partnership_id: int | None = None) -> tuple[dict[Direction, int], int]:
    """Completed placements by direction (one grouped query), and how many involved a
    sector outside the four directions (for example a business)."""
    home = aliased(Organisation)
    host = aliased(Organisation)
    stmt = (
        select(home.org_type, host.org_type, func.count(Placement.id))
        .select_from(Placement)
        .join(Application, Application.id == Placement.application_id)
        .join(Opportunity, Opportunity.id == Application.opportunity_id)
        .join(home, home.id == Application.organisation_id)
        .join(host, host.id == Opportunity.organisation_id)
        .where(Placement.status == PlacementStatus.COMPLETED)
        .group_by(home.org_type, host.org_type)
    )
    if partnership_id is not None:
        stmt = stmt.where(Opportunity.partnership_id == partnership_id)
    counts = dict.fromkeys(DIRECTIONS, 0)
    other = 0
    for home_type, host_type, n in db.session.execute(stmt):
        direction = Direction(home_type.sector, host_type.sector)
        if direction in counts:
            counts[direction] += n
        else:
            other += n
    return counts, other
