"""Placement pages, for the participant and the host only: the plan (agreed dates and
objectives), the checklist, starting, completing and cancelling, and reflections.

Anyone else gets 404, so a placement's existence is not revealed.
"""

from __future__ import annotations

from flask import abort, flash, render_template
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import formflow, permissions
from ..formflow import Page, found, press, see_other
from ..forms import ButtonForm
from ..timeutil import today_uk
from . import placements as rules
from .forms import CancelPlacementForm, ChecklistForm, PlanForm, ReflectionForm
from .models import Placement, PlacementStatus, ReflectionRole
from .routes import bp
from .view_helpers import load_placement


def _to_placement(placement: Placement) -> Response:
    return see_other("opportunities.placement", placement_id=placement.id)


def _hosted(placement_id: int) -> Placement:
    """The placement, for its host; 404 for those who may not see it, 403 for the
    participant."""
    placement = load_placement(placement_id)
    if not permissions.can_manage_opportunity(current_user, placement.application.opportunity):
        abort(403)
    return placement


def _on_page(placement: Placement) -> dict[str, object]:
    """What every placement form page shows besides its form."""
    return {"placement": placement, "opportunity": placement.application.opportunity}


def _render(placement: Placement, checklist: ChecklistForm | None = None,
            status: int = 200) -> Page:
    role = rules.role_of(current_user, placement)
    if checklist is None:
        checklist = ChecklistForm()
        checklist.agreed.data = [name for name, _label, _hint in Placement.CHECKLIST
                                 if getattr(placement, name)]
    live = placement.status in (PlacementStatus.AGREED, PlacementStatus.IN_PROGRESS)
    today = today_uk()
    return render_template(
        "opportunities/placement.html",
        placement=placement,
        application=placement.application,
        opportunity=placement.application.opportunity,
        role=role,
        is_host=permissions.can_manage_opportunity(current_user,
                                                   placement.application.opportunity),
        live=live,
        can_cancel=rules.can_cancel(placement),
        form=checklist,
        button_form=ButtonForm(),
        can_reflect=rules.can_reflect(placement) and role is not None,
        next_steps=rules.next_steps(placement, role, today),
        may_start=role is not None and placement.status is PlacementStatus.AGREED,
        start_problem=rules.start_problem(placement, today),
        starts_on=rules.long_day(placement.starts_on) if placement.starts_on else "",
        mine=placement.reflection_by(role) if role else None,
        participant_reflection=placement.reflection_by(ReflectionRole.PARTICIPANT),
        host_reflection=placement.reflection_by(ReflectionRole.HOST),
    ), status


@bp.get("/placements/<int:placement_id>/")
@login_required
def placement(placement_id: int) -> Page:
    return _render(load_placement(placement_id))


@bp.route("/placements/<int:placement_id>/plan", methods=["GET", "POST"])
@login_required
def plan(placement_id: int) -> Page:
    placement = load_placement(placement_id)
    form = PlanForm()
    if not form.is_submitted():
        form.fill(placement)
    if formflow.save(form, lambda: rules.update_plan(current_user, placement, form.starts_on.data,
                                                     form.ends_on.data, form.objectives())):
        flash("The plan has been saved.", "success")
        return _to_placement(placement)
    return formflow.render("opportunities/plan.html", form, **_on_page(placement))


@bp.post("/placements/<int:placement_id>/checklist")
@login_required
def checklist(placement_id: int) -> Page:
    placement = load_placement(placement_id)
    form = ChecklistForm()
    if formflow.save(form, lambda: rules.update_checklist(current_user, placement,
                                                          set(form.agreed.data or []))):
        flash("The checklist has been saved.", "success")
        return _to_placement(placement)
    return _render(placement, form, 422)


@bp.post("/placements/<int:placement_id>/start")
@login_required
def start(placement_id: int) -> Response:
    """Either side marks it started (``rules.start`` says from when)."""
    placement = load_placement(placement_id)
    return press(lambda: rules.start(current_user, placement),
                 "The placement is marked as started. We have told the other side. You can "
                 "now record your reflection.", _to_placement(placement))


@bp.post("/placements/<int:placement_id>/complete")
@login_required
def complete(placement_id: int) -> Response:
    placement = _hosted(placement_id)
    return press(lambda: rules.complete(current_user, placement),
                 "The placement is complete. We have asked the participant for their "
                 "reflection; please record yours too.", _to_placement(placement))


@bp.route("/placements/<int:placement_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(placement_id: int) -> Page:
    placement = _hosted(placement_id)
    if not rules.can_cancel(placement):
        abort(409, f"This placement is {placement.status.label.lower()}, so it cannot be "
                   "cancelled.")
    form = CancelPlacementForm()
    if done := formflow.save(form, lambda: rules.cancel(current_user, placement,
                                                        form.reason.data or "")):
        told = done.value
        reserve = (f" and the {told} people on the reserve list" if told > 1
                   else " and the person on the reserve list" if told == 1 else "")
        flash(f"The placement has been cancelled and its place is free. We have emailed "
              f"the participant{reserve}.", "success")
        return _to_placement(placement)
    return formflow.render("opportunities/cancel_placement.html", form,
                           application=placement.application, **_on_page(placement))


@bp.route("/placements/<int:placement_id>/reflection", methods=["GET", "POST"])
@login_required
def reflection(placement_id: int) -> Page:
    placement = load_placement(placement_id)
    role = found(rules.role_of(current_user, placement))  # can_view_placement: never None
    if not rules.can_reflect(placement):
        abort(409, "You can record a reflection once the placement has started.")
    existing = placement.reflection_by(role)
    form = ReflectionForm(obj=existing)
    if not form.is_submitted() and existing is not None:
        form.would_recommend.data = "yes" if existing.would_recommend else "no"
    if formflow.save(form, lambda: rules.record_reflection(
            current_user, placement, form.learned.data or "", form.changes.data or "",
            form.recommend())):
        flash("Your reflection has been saved. Thank you.", "success")
        return _to_placement(placement)
    return formflow.render("opportunities/reflection.html", form, role=role,
                           **_on_page(placement))
