"""Placement rules: agreed dates and objectives, the checklist agreed before starting,
starting and completing, reflections, and the figures by direction.

The participant and the host (``permissions.can_view_placement``) both plan the
placement; only the host starts and completes it. Each records one reflection once
it has started. Completed placements count in the figures by the sectors of the
participant's organisation and the host organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import url_for
from sqlalchemy import func, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from .. import audit, mail, permissions
from ..accounts.models import User
from ..errors import Conflict, PermissionDenied, ValidationError
from ..extensions import db
from ..modelbase import utcnow
from ..organisations.models import Organisation, Sector
from .models import (
    MAX_OBJECTIVES,
    Application,
    Opportunity,
    Placement,
    PlacementObjective,
    PlacementStatus,
    Reflection,
    ReflectionRole,
)

OBJECTIVE_MAX = 300
REFLECTION_MAX = 3000


def get(placement_id: int) -> Placement | None:
    """A placement with its application, people, organisations, objectives and
    reflections (three queries)."""
    return db.session.scalar(
        select(Placement).where(Placement.id == placement_id).options(
            joinedload(Placement.application).joinedload(Application.applicant),
            joinedload(Placement.application).joinedload(Application.organisation),
            joinedload(Placement.application).joinedload(Application.opportunity)
            .joinedload(Opportunity.organisation),
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


def update_plan(actor: User, placement: Placement, starts_on: date | None,
                ends_on: date | None, objectives: list[str]) -> None:
    """The agreed dates and up to five objectives (blank ones are dropped)."""
    _require_party(actor, placement)
    _require_live(placement)
    if starts_on is None:
        raise ValidationError("Enter the agreed start date", field="starts_on")
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError("The end date must be the same as or after the start date",
                              field="ends_on")
    texts = [text.strip() for text in objectives]
    if len(texts) > MAX_OBJECTIVES:
        raise ValidationError(f"Enter up to {MAX_OBJECTIVES} objectives", field="objective_1")
    for i, text in enumerate(texts, start=1):
        if len(text) > OBJECTIVE_MAX:
            raise ValidationError(f"Objective {i} must be {OBJECTIVE_MAX} characters or fewer",
                                  field=f"objective_{i}")
    placement.starts_on = starts_on
    placement.ends_on = ends_on
    kept = [text for text in texts if text]
    placement.objectives.clear()
    db.session.flush()  # delete the old rows before their positions are reused
    for position, text in enumerate(kept, start=1):
        placement.objectives.append(PlacementObjective(position=position, text=text))
    db.session.flush()
    audit.record(actor, "placement.plan_updated", "placement", placement.id,
                 objectives=len(kept))


def update_checklist(actor: User, placement: Placement, agreed: set[str]) -> None:
    """Tick what has been agreed; unticked items are not agreed yet."""
    _require_party(actor, placement)
    _require_live(placement)
    names = {name for name, _label, _hint in Placement.CHECKLIST}
    unknown = agreed - names
    if unknown:
        raise ValidationError("Select items from the checklist", field="agreed")
    for name in names:
        setattr(placement, name, name in agreed)
    db.session.flush()
    audit.record(actor, "placement.checklist_updated", "placement", placement.id,
                 agreed=sorted(agreed))


def start(actor: User, placement: Placement) -> None:
    """The host marks it started, once the dates and the whole checklist are agreed."""
    _require_host(actor, placement)
    if placement.status is not PlacementStatus.AGREED:
        raise Conflict("This placement has already started, or has ended.")
    if placement.starts_on is None:
        raise Conflict("Agree the start date first.")
    if not placement.checklist_done:
        raise Conflict("Agree everything on the checklist first.")
    placement.status = PlacementStatus.IN_PROGRESS
    placement.started_at = utcnow()
    audit.record(actor, "placement.started", "placement", placement.id)


def complete(actor: User, placement: Placement) -> None:
    """The host marks it completed; the participant is asked for their reflection."""
    _require_host(actor, placement)
    if placement.status is not PlacementStatus.IN_PROGRESS:
        raise Conflict("Only a placement in progress can be completed.")
    placement.status = PlacementStatus.COMPLETED
    placement.completed_at = utcnow()
    audit.record(actor, "placement.completed", "placement", placement.id)
    application = placement.application
    mail.queue(application.applicant.email,
               f"Your placement is complete: {application.opportunity.title}",
               "application_placement_completed", placement=placement,
               application=application, opportunity=application.opportunity,
               url=url_for("opportunities.reflection", placement_id=placement.id,
                           _external=True))


def can_reflect(placement: Placement) -> bool:
    return placement.status in (PlacementStatus.IN_PROGRESS, PlacementStatus.COMPLETED)


def record_reflection(actor: User, placement: Placement, learned: str, changes: str,
                      would_recommend: bool | None) -> Reflection:
    """The actor's reflection, as participant or host (saving again replaces it)."""
    role = _require_party(actor, placement)
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
    return reflection


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
