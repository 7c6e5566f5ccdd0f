"""After the meeting: attendance and walk-ins, minutes (draft, then published),
decisions, actions with their updates, and "My actions".

Thin, like the other meeting views: load -> authorise -> validate -> ``records``
service -> commit -> flash -> redirect (303). A members-only meeting (and its actions)
is a 404 for anyone outside the forum; people who can see a meeting but may not record
it get 403. Recording a meeting that has not started, or was cancelled or postponed,
is refused with a message on the meeting page.
"""

from __future__ import annotations

from flask import abort, flash, render_template, request
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import formflow, permissions
from ..bounds import identifier
from ..errors import Conflict, ValidationError
from ..extensions import db, login_manager
from ..formflow import Page, allowed, found, see_other
from ..forms import ButtonForm
from ..timeutil import today_uk
from . import records
from .models import ActionItem, ActionStatus, Meeting
from .record_forms import (
    ActionForm,
    ActionUpdateForm,
    AttendanceForm,
    DecisionForm,
    WalkInForm,
    attendance_form,
    minutes_form,
)
from .routes import bp
from .view_helpers import (
    load_managed_meeting,
    meeting_audience,
    refused,
    save_or_go_back,
    to_meeting,
)

MINUTES_ANCHOR = "#minutes"


def _recording(meeting_id: int) -> Meeting:
    """The meeting, for its organisers, once it can be recorded; otherwise the request
    ends here with a redirect to the meeting page saying why not, raised through
    ``abort`` (404/403 as ``load_managed_meeting``)."""
    meeting = load_managed_meeting(meeting_id)
    reason = records.refusal(meeting)
    if reason:
        flash(reason)
        abort(to_meeting(meeting))
    return meeting


# --- Attendance ------------------------------------------------------------------------------


def _attendance_page(meeting: Meeting, attendees: list[records.Attendee],
                     form: AttendanceForm | None = None,
                     walk_in_form: WalkInForm | None = None, status: int = 200) -> Page:
    """The attendance form and the walk-in form. Radios not in the submitted form keep
    what is saved, so a walk-in's errors do not disturb the attendance shown."""
    return render_template(
        "meetings/attendance.html", meeting=meeting,
        form=attendance_form(attendees) if form is None else form,
        walk_in_form=WalkInForm(formdata=None) if walk_in_form is None else walk_in_form,
        counts=records.count_attendance(attendees),
    ), status


@bp.route("/meetings/<int:meeting_id>/attendance", methods=["GET", "POST"])
@login_required
def attendance(meeting_id: int) -> Page:
    meeting = _recording(meeting_id)
    attendees = records.attendance_list(meeting)
    form = attendance_form(attendees)
    done = save_or_go_back(form, to_meeting(meeting), lambda: records.record_attendance(
        current_user, meeting, form.marks()))
    if done:
        flash("Attendance saved.", "success")
        return to_meeting(meeting, MINUTES_ANCHOR)
    return _attendance_page(meeting, attendees, form=form,
                            status=formflow.status_for(form))


@bp.post("/meetings/<int:meeting_id>/attendance/walk-in")
@login_required
def walk_in(meeting_id: int) -> Page:
    meeting = _recording(meeting_id)
    form = WalkInForm()
    done = save_or_go_back(form, to_meeting(meeting), lambda: records.add_walk_in(
        current_user, meeting, form.name.data or "", form.organisation.data or ""))
    if done:
        flash(f"{form.name.data} added as present.", "success")
        return see_other("meetings.attendance", meeting_id=meeting.id)
    # Only ever a failed post (this route takes no GET), so always 422.
    return _attendance_page(meeting, records.attendance_list(meeting), walk_in_form=form,
                            status=422)


# --- Minutes ---------------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/minutes", methods=["GET", "POST"])
@login_required
def minutes(meeting_id: int) -> Page:
    meeting = _recording(meeting_id)
    form = minutes_form(list(meeting.items), summary=meeting.minutes_summary)
    done = save_or_go_back(form, to_meeting(meeting), lambda: records.save_minutes(
        current_user, meeting, form.summary.data or "", form.item_minutes()))
    if done:
        if meeting.minutes_published:
            flash("The published minutes have been corrected." if done.value
                  else "Nothing changed.", "success")
        else:
            flash("Draft minutes saved. Only the organisers can see them until you "
                  "publish them.", "success")
        return to_meeting(meeting, MINUTES_ANCHOR)
    return formflow.render("meetings/minutes.html", form, meeting=meeting,
                           publish_form=ButtonForm())


@bp.route("/meetings/<int:meeting_id>/minutes/publish", methods=["GET", "POST"])
@login_required
def publish_minutes(meeting_id: int) -> Page:
    """The meeting page's button publishes at once when the agenda was published;
    otherwise (or when asked by GET) this page says what publishing does, and that the
    agenda never was, and its button confirms it."""
    meeting = _recording(meeting_id)
    if meeting.minutes_published:
        flash("The minutes of this meeting are already published.")
        return to_meeting(meeting, MINUTES_ANCHOR)
    confirming = request.method == "POST" and request.form.get("agenda_confirmed") == "yes"
    if request.method == "POST" and records.needs_agenda_confirmation(meeting) \
            and not confirming and records.has_minutes(meeting):
        formflow.button_pressed()
        return see_other("meetings.publish_minutes", meeting_id=meeting.id)
    if request.method == "GET":
        return render_template(
            "meetings/minutes_publish.html", meeting=meeting, forum=meeting.forum,
            form=ButtonForm(), covered=records.covered_items(meeting),
            agenda_unpublished=records.needs_agenda_confirmation(meeting),
            written=records.has_minutes(meeting))
    formflow.button_pressed()
    try:
        sent = records.publish_minutes(current_user, meeting, agenda_confirmed=confirming)
    except Conflict as error:
        return refused(error, to_meeting(meeting))
    except ValidationError as error:
        return refused(error, see_other("meetings.minutes", meeting_id=meeting.id))
    db.session.commit()
    flash(f"Minutes published. {sent} {'person has' if sent == 1 else 'people have'} "
          "been emailed.", "success")
    return to_meeting(meeting, MINUTES_ANCHOR)


# --- Decisions and actions -------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/decisions/new", methods=["GET", "POST"])
@login_required
def new_decision(meeting_id: int) -> Page:
    meeting = _recording(meeting_id)
    form = DecisionForm()
    form.setup(list(meeting.items))
    if request.method == "GET" and identifier(request.args.get("item")) is not None:
        form.item_id.data = request.args["item"]
    done = save_or_go_back(form, to_meeting(meeting), lambda: records.add_decision(
        current_user, meeting, form.text.data or "", form.item()))
    if done:
        flash("Decision added to the minutes.", "success")
        return to_meeting(meeting, MINUTES_ANCHOR)
    return formflow.render("meetings/decision_form.html", form, meeting=meeting)


def _action_form(meeting: Meeting) -> ActionForm:
    form = ActionForm()
    form.setup(list(meeting.items), records.people_choices(meeting),
               records.organisation_choices(meeting), records.recorded_day(meeting))
    return form


def _details(form: ActionForm) -> records.ActionDetails:
    return records.ActionDetails(
        description=form.description.data or "", owner_id=form.owner(),
        owner_organisation_id=form.owner_organisation(), due_date=form.due_date.data,
        item_id=form.item(), already_due=bool(form.already_due.data))


@bp.route("/meetings/<int:meeting_id>/actions/new", methods=["GET", "POST"])
@login_required
def new_action(meeting_id: int) -> Page:
    meeting = _recording(meeting_id)
    form = _action_form(meeting)
    if request.method == "GET" and identifier(request.args.get("item")) is not None:
        form.item_id.data = request.args["item"]
    done = save_or_go_back(form, to_meeting(meeting), lambda: records.add_action(
        current_user, meeting, _details(form)))
    if done:
        flash("Action added. Its owner has been emailed." if done.value.owner_id
              or done.value.owner_organisation_id else "Action added.", "success")
        return to_meeting(meeting, MINUTES_ANCHOR)
    return formflow.render("meetings/action_form.html", form, meeting=meeting, action=None)


def _action_audience(user: permissions.Viewer, action: ActionItem) -> permissions.Audience | None:
    """Refused an action of a members-only meeting: it is for its host's insiders. Of
    a meeting they can see (its minutes are a draft): no audience, so 404."""
    if permissions.can_view_meeting(user, action.meeting):
        return None
    return meeting_audience(user, action.meeting, "action")


def _load_action(action_id: int) -> ActionItem:
    """The action, for whoever can see its meeting or may update it; otherwise sign in
    first, the members-only page, or 404 (``permissions.refuse``)."""
    return allowed(found(records.get_action(action_id)), permissions.can_view_action,
                   hide=True, audience=_action_audience)


def _to_action(action: ActionItem) -> Response:
    return see_other("meetings.action", action_id=action.id)


@bp.route("/actions/<int:action_id>", methods=["GET", "POST"])
def action(action_id: int) -> Page:
    """An action with its updates and, for those who may, the update form."""
    if request.method == "POST" and not current_user.is_authenticated:
        return login_manager.unauthorized()
    action = _load_action(action_id)
    can_update = permissions.can_update_action(current_user, action)
    form = ActionUpdateForm() if can_update else None
    if request.method == "POST":
        if form is None:
            abort(403, "Only the action's owner and the forum's organisers can update it.")
        if formflow.save(form, lambda: records.update_action(
                current_user, action, form.body.data or "", ActionStatus(form.status.data))):
            flash({"done": "Action marked as done.",
                   "dropped": "Action dropped."}.get(form.status.data or "",
                                                      "Update saved."), "success")
            if request.form.get("next") == "my_actions":
                return see_other("meetings.my_actions")
            return _to_action(action)
    elif form is not None:
        form.status.data = action.status.value
    return render_template(
        "meetings/action.html", action=action, meeting=action.meeting, form=form,
        can_edit=permissions.can_manage_meeting(current_user, action.meeting),
        today=today_uk(),
    ), (200 if form is None else formflow.status_for(form))


@bp.route("/actions/<int:action_id>/edit", methods=["GET", "POST"])
@login_required
def edit_action(action_id: int) -> Page:
    action = _load_action(action_id)
    meeting = action.meeting
    if not permissions.can_manage_meeting(current_user, meeting):
        abort(403, "Only the forum's convenors and the partnership's officers can change "
                   "an action.")
    form = _action_form(meeting)
    if request.method == "GET":
        form.fill(action)
    if done := formflow.save(form, lambda: records.edit_action(current_user, action,
                                                               _details(form))):
        flash("Action changed." if done.value else "Nothing changed.", "success")
        return _to_action(action)
    return formflow.render("meetings/action_form.html", form, meeting=meeting, action=action)


# --- My actions ------------------------------------------------------------------------------


@bp.get("/my/actions")
@login_required
def my_actions() -> Page:
    return render_template("meetings/my_actions.html", actions=records.my_actions(current_user))
