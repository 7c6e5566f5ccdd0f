"""Registration pages: answering a meeting (in person, online or apologies), changing
or cancelling the answer, and, for organisers, the list of registrations and its CSV.

Thin: load -> authorise -> validate -> ``registrations`` service -> commit -> flash ->
redirect (303). Those who cannot see the meeting get 404; people who can see it but
are not organisers get 403 on the organisers' pages.
"""

from __future__ import annotations

from flask import abort, flash, render_template, request
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from .. import formflow, permissions
from ..errors import Conflict
from ..extensions import db
from ..formflow import Page, found, see_other
from ..forms import ButtonForm
from . import registrations as rules
from .models import Meeting, RegistrationStatus
from .registration_forms import RegisterForm
from .routes import bp
from .view_helpers import (
    load_managed_meeting,
    load_meeting,
    refused,
    save_or_go_back,
    to_meeting,
)

ANCHOR = "#registration"


def _to_section(meeting: Meeting) -> Response:
    return to_meeting(meeting, ANCHOR)


def _outcome_message(outcome: str, registration_holds_place: bool) -> str:
    return {
        "confirmed": ("You have a place at this meeting. We have emailed you a confirmation."
                      if registration_holds_place else
                      "You are registered for this meeting. We have emailed you a "
                      "confirmation."),
        "waiting": "The meeting is full, so you are on the waiting list. We will email you "
                   "if a place comes free.",
        "apologies": "Your apologies have been sent to the organisers.",
        "unchanged": "Your answer is unchanged.",
    }[outcome]


@bp.route("/meetings/<int:meeting_id>/register", methods=["GET", "POST"])
@login_required
def register(meeting_id: int) -> Page:
    meeting = load_meeting(meeting_id)
    if permissions.must_confirm_email_to_register(current_user, meeting):
        return render_template("organisations/confirm_first.html",
                               what="register for this meeting"), 403
    if not permissions.can_register_for_meeting(current_user, meeting):
        abort(403, "You cannot register for this meeting.")
    closed = rules.closed_reason(meeting)
    if closed:
        flash(closed)
        return _to_section(meeting)
    mine = rules.own_registration(meeting, current_user)
    active = mine if mine is not None and mine.status is not RegistrationStatus.CANCELLED \
        else None
    form = RegisterForm()
    form.set_choices(meeting, rules.organisations_of(current_user))
    if request.method == "GET":
        if active is not None:
            form.fill(active)
        else:
            form.seen.data = rules.answer_version(None)

    def register() -> tuple[str, bool]:
        """The outcome, and whether the registration holds a place (read before the
        commit expires it)."""
        registration, outcome = rules.register(current_user, meeting, form.answer(),
                                               seen=form.seen.data or None)
        return outcome, registration.holds_place

    try:
        done = save_or_go_back(form, _to_section(meeting), register)
    except IntegrityError:  # the same person sent the form twice at once
        db.session.rollback()
        flash("We already have your answer for this meeting. Check it below.")
        return _to_section(meeting)
    except rules.AlreadyAnswered as already:
        # Another tab sent an answer: show it, to change here, rather than overwrite it.
        db.session.rollback()
        current = rules.own_registration(meeting, current_user)
        form = RegisterForm(formdata=None)
        form.set_choices(meeting, rules.organisations_of(current_user))
        if current is not None:
            form.fill(current)
        return render_template("meetings/register.html", form=form, meeting=meeting,
                               forum=meeting.forum, registration=current,
                               already=str(already)), 409
    if done:
        outcome, holds_place = done.value
        flash(_outcome_message(outcome, holds_place),
              "success" if outcome != "waiting" else "info")
        return _to_section(meeting)
    return formflow.render("meetings/register.html", form, meeting=meeting,
                           forum=meeting.forum, registration=active)


@bp.post("/meetings/<int:meeting_id>/register/cancel")
@login_required
def cancel_registration(meeting_id: int) -> Page:
    meeting = load_meeting(meeting_id)
    form = ButtonForm()
    if not form.validate_on_submit():
        abort(400)
    mine = rules.own_registration(meeting, current_user)
    if mine is None or mine.status is RegistrationStatus.CANCELLED:
        flash("You have not registered for this meeting, so there is nothing to cancel.")
        return _to_section(meeting)
    try:
        rules.cancel(current_user, mine)
    except Conflict as error:
        return refused(error, _to_section(meeting))
    db.session.commit()
    flash("Your registration is cancelled.", "success")
    return _to_section(meeting)


@bp.get("/meetings/<int:meeting_id>/registrations")
@login_required
def registrations(meeting_id: int) -> Page:
    meeting = load_managed_meeting(meeting_id)
    rows = rules.registrations_for(meeting)
    return render_template(
        "meetings/registrations.html", meeting=meeting, forum=meeting.forum,
        partnership=meeting.partnership, rows=rows,
        positions=rules.waiting_positions(rows), counts=rules.counts_from(rows),
        closed=rules.closed_reason(meeting), button_form=ButtonForm(),
    )


@bp.get("/meetings/<int:meeting_id>/registrations.csv")
@login_required
def registrations_csv(meeting_id: int) -> Response:
    meeting = load_managed_meeting(meeting_id)
    body = rules.export_csv(meeting, rules.registrations_for(meeting))
    response = Response(body.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="meeting-{meeting.id}-registrations.csv"')
    # Personal data (and access requirements): never stored by shared caches.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/meetings/<int:meeting_id>/registrations/<int:registration_id>/remove")
@login_required
def remove_registration(meeting_id: int, registration_id: int) -> Page:
    meeting = load_managed_meeting(meeting_id)
    form = ButtonForm()
    if not form.validate_on_submit():
        abort(400)
    registration = found(rules.get_registration(meeting, registration_id))
    to_list = see_other("meetings.registrations", meeting_id=meeting.id)
    try:
        rules.remove(current_user, registration)
    except Conflict as error:
        return refused(error, to_list)
    name = registration.display_name
    db.session.commit()
    flash(f"{name} has been taken off the list and emailed.", "success")
    return to_list
