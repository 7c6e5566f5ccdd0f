"""Placement pages, for the participant and the host only: the plan (agreed dates and
objectives), the checklist, starting, completing and cancelling, and reflections.

Anyone else gets 404, so a placement's existence is not revealed.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import permissions
from ..errors import ValidationError
from ..extensions import db
from . import placements as rules
from .forms import ButtonForm, CancelPlacementForm, ChecklistForm, PlanForm, ReflectionForm
from .models import Placement, PlacementStatus, ReflectionRole
from .routes import bp

Page = str | Response | tuple[str, int]


def _to_placement(placement: Placement) -> Response:
    return redirect(url_for("opportunities.placement", placement_id=placement.id), code=303)


def _placement(placement_id: int) -> Placement:
    placement = rules.get(placement_id)
    if placement is None or not permissions.can_view_placement(current_user, placement):
        abort(404)
    return placement


def _render(placement: Placement, checklist: ChecklistForm | None = None,
            status: int = 200) -> Page:
    role = rules.role_of(current_user, placement)
    if checklist is None:
        checklist = ChecklistForm()
        checklist.agreed.data = [name for name, _label, _hint in Placement.CHECKLIST
                                 if getattr(placement, name)]
    live = placement.status in (PlacementStatus.AGREED, PlacementStatus.IN_PROGRESS)
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
        can_reflect=rules.can_reflect(placement),
        mine=placement.reflection_by(role) if role else None,
        participant_reflection=placement.reflection_by(ReflectionRole.PARTICIPANT),
        host_reflection=placement.reflection_by(ReflectionRole.HOST),
    ), status


@bp.get("/placements/<int:placement_id>/")
@login_required
def placement(placement_id: int) -> Page:
    return _render(_placement(placement_id))


@bp.route("/placements/<int:placement_id>/plan", methods=["GET", "POST"])
@login_required
def plan(placement_id: int) -> Page:
    placement = _placement(placement_id)
    form = PlanForm()
    if not form.is_submitted():
        form.fill(placement)
    if form.validate_on_submit():
        try:
            rules.update_plan(current_user, placement, form.starts_on.data, form.ends_on.data,
                              form.objectives())
        except ValidationError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            db.session.commit()
            flash("The plan has been saved.", "success")
            return _to_placement(placement)
    status = 422 if form.errors else 200
    return render_template("opportunities/plan.html", form=form, placement=placement,
                           opportunity=placement.application.opportunity), status


@bp.post("/placements/<int:placement_id>/checklist")
@login_required
def checklist(placement_id: int) -> Page:
    placement = _placement(placement_id)
    form = ChecklistForm()
    if form.validate_on_submit():
        try:
            rules.update_checklist(current_user, placement, set(form.agreed.data or []))
        except ValidationError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            db.session.commit()
            flash("The checklist has been saved.", "success")
            return _to_placement(placement)
    return _render(placement, form, 422)


def _host_action(placement_id: int, action: str) -> Response:
    placement = _placement(placement_id)
    if not permissions.can_manage_opportunity(current_user, placement.application.opportunity):
        abort(403)
    if not ButtonForm().validate_on_submit():
        abort(400)
    if action == "start":
        rules.start(current_user, placement)
        message = "The placement has started."
    else:
        rules.complete(current_user, placement)
        message = ("The placement is complete. We have asked the participant for their "
                   "reflection; please record yours too.")
    db.session.commit()
    flash(message, "success")
    return _to_placement(placement)


@bp.post("/placements/<int:placement_id>/start")
@login_required
def start(placement_id: int) -> Response:
    return _host_action(placement_id, "start")


@bp.post("/placements/<int:placement_id>/complete")
@login_required
def complete(placement_id: int) -> Response:
    return _host_action(placement_id, "complete")


@bp.route("/placements/<int:placement_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(placement_id: int) -> Page:
    placement = _placement(placement_id)
    if not permissions.can_manage_opportunity(current_user, placement.application.opportunity):
        abort(403)
    if not rules.can_cancel(placement):
        abort(409, f"This placement is {placement.status.label.lower()}, so it cannot be "
                   "cancelled.")
    form = CancelPlacementForm()
    if form.validate_on_submit():
        try:
            told = rules.cancel(current_user, placement, form.reason.data or "")
        except ValidationError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            db.session.commit()
            reserve = (f" and the {told} people on the reserve list" if told > 1
                       else " and the person on the reserve list" if told == 1 else "")
            flash(f"The placement has been cancelled and its place is free. We have emailed "
                  f"the participant{reserve}.", "success")
            return _to_placement(placement)
    status = 422 if form.errors else 200
    return render_template("opportunities/cancel_placement.html", form=form,
                           placement=placement, application=placement.application,
                           opportunity=placement.application.opportunity), status


@bp.route("/placements/<int:placement_id>/reflection", methods=["GET", "POST"])
@login_required
def reflection(placement_id: int) -> Page:
    placement = _placement(placement_id)
    role = rules.role_of(current_user, placement)
    if role is None:  # pragma: no cover - can_view_placement means one of the two
        abort(404)
    if not rules.can_reflect(placement):
        abort(409, "You can record a reflection once the placement has started.")
    existing = placement.reflection_by(role)
    form = ReflectionForm(obj=existing)
    if not form.is_submitted() and existing is not None:
        form.would_recommend.data = "yes" if existing.would_recommend else "no"
    if form.validate_on_submit():
        try:
            rules.record_reflection(current_user, placement, form.learned.data or "",
                                    form.changes.data or "", form.recommend())
        except ValidationError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            db.session.commit()
            flash("Your reflection has been saved. Thank you.", "success")
            return _to_placement(placement)
    status = 422 if form.errors else 200
    return render_template("opportunities/reflection.html", form=form, placement=placement,
                           opportunity=placement.application.opportunity, role=role), status
