"""Agenda pages: the organisers' agenda builder (items, standard items, reordering,
papers, publication), paper downloads, and members' requests for agenda items.

Thin: load (404 for a meeting the person may not see) -> authorise (403 for those who
may see it but not do this) -> validate -> ``agenda`` service -> commit -> flash ->
redirect 303. A cancelled meeting's agenda cannot change: the pages say so and send
the person back to the meeting. Moving an item works with a plain form post; with
htmx the builder's list is swapped in place.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import formflow, permissions, uploads
from ..errors import Conflict, ValidationError
from ..extensions import db
from ..formflow import Page, Refused, found, see_other
from ..forms import ButtonForm
from ..htmx import hx_redirect, render_page_or_partial, wants_fragment
from . import agenda
from .agenda_forms import DeclineForm, ItemForm, PaperForm, RequestForm
from .models import AgendaItem, ItemRequest, ItemRequestStatus, Meeting
from .routes import bp
from .view_helpers import (
    load_managed_meeting,
    load_meeting,
    refused,
    save_or_go_back,
    to_meeting,
)

CANCELLED = "This meeting has been cancelled, so its agenda cannot be changed."


def _builder(meeting: Meeting, anchor: str = "") -> Response:
    return see_other("meetings.agenda_builder", meeting_id=meeting.id,
                     _anchor=anchor[1:] or None)


def _to_requests(meeting: Meeting) -> Response:
    return see_other("meetings.item_requests", meeting_id=meeting.id)


def _editable(meeting_id: int) -> Meeting:
    """The meeting for its organisers; if it is cancelled, the request ends here with a
    redirect back to it (a whole-page one for htmx), raised through ``abort``."""
    meeting = load_managed_meeting(meeting_id)
    if meeting.is_cancelled:
        flash(CANCELLED)
        abort(hx_redirect(url_for("meetings.show", meeting_id=meeting.id)))
    return meeting


def _item(meeting: Meeting, item_id: int) -> AgendaItem:
    return found(agenda.get_item(meeting, item_id))


def _request(meeting: Meeting, request_id: int) -> ItemRequest:
    return found(agenda.get_request(meeting, request_id))


def _builder_context(meeting: Meeting) -> dict[str, Any]:
    items = agenda.items_for_page(meeting)
    return {
        "meeting": meeting, "forum": meeting.forum, "items": items,
        "times": agenda.item_times(meeting, items), "notice": agenda.notice_for(meeting),
        "pending": len(agenda.requests_for(meeting, ItemRequestStatus.PENDING)),
        "button": ButtonForm(),
    }


# --- The builder ----------------------------------------------------------------------------


@bp.get("/meetings/<int:meeting_id>/agenda")
@login_required
def agenda_builder(meeting_id: int) -> Page:
    meeting = _editable(meeting_id)
    return render_page_or_partial("meetings/agenda.html", "meetings/_agenda_builder.html",
                                  **_builder_context(meeting))


def _item_page(meeting: Meeting, item: AgendaItem | None) -> Page:
    form = ItemForm()
    people, organisations = agenda.presenter_choices(meeting)
    form.set_choices(people, organisations, item)
    if request.method == "GET" and item is not None:
        form.fill(item)

    def save() -> tuple[str, AgendaItem]:
        """The message and the item to show, once added or changed."""
        if item is None:
            added = agenda.add_item(current_user, meeting, form.details())
            return f"Item {added.position} added: {added.title}.", added
        changed = agenda.update_item(current_user, item, form.details())
        return ("Item saved." if changed else "Nothing changed."), item

    done = save_or_go_back(form, to_meeting(meeting), save)
    if done:
        message, shown = done.value
        if meeting.agenda_published and message != "Nothing changed.":
            message += " The change is noted on the agenda and members have been told."
        flash(message, "success")
        return _builder(meeting, f"#item-{shown.id}")
    return formflow.render("meetings/agenda_item.html", form, meeting=meeting,
                           forum=meeting.forum, item=item)


@bp.route("/meetings/<int:meeting_id>/agenda/items/new", methods=["GET", "POST"])
@login_required
def agenda_item_new(meeting_id: int) -> Page:
    meeting = _editable(meeting_id)
    return _item_page(meeting, None)


@bp.route("/meetings/<int:meeting_id>/agenda/items/<int:item_id>/edit",
          methods=["GET", "POST"])
@login_required
def agenda_item_edit(meeting_id: int, item_id: int) -> Page:
    meeting = _editable(meeting_id)
    return _item_page(meeting, _item(meeting, item_id))


@bp.post("/meetings/<int:meeting_id>/agenda/items/<int:item_id>/remove")
@login_required
def agenda_item_remove(meeting_id: int, item_id: int) -> Response:
    meeting = _editable(meeting_id)
    item = _item(meeting, item_id)
    formflow.button_pressed()
    title = item.title
    try:
        orphans = agenda.remove_item(current_user, item)
    except Conflict as error:
        return refused(error, _builder(meeting))
    db.session.commit()
    for name in orphans:
        uploads.delete(name)
    flash(f"Item removed: {title}.", "success")
    return _builder(meeting)


@bp.post("/meetings/<int:meeting_id>/agenda/items/<int:item_id>/move")
@login_required
def agenda_item_move(meeting_id: int, item_id: int) -> Page:
    meeting = _editable(meeting_id)
    item = _item(meeting, item_id)
    direction = request.form.get("direction", "")
    formflow.button_pressed()
    if direction not in ("up", "down"):
        abort(400)
    moved = agenda.move_item(current_user, item, direction)
    db.session.commit()
    status = (f"{item.title} is now item {item.position}." if moved else
              f"{item.title} is already {'first' if direction == 'up' else 'last'}.")
    if wants_fragment():
        return render_page_or_partial("meetings/agenda.html", "meetings/_agenda_builder.html",
                                      status_message=status, focus=(item.id, direction),
                                      **_builder_context(meeting))
    flash(status, "success" if moved else "info")
    return _builder(meeting, f"#item-{item.id}")


@bp.post("/meetings/<int:meeting_id>/agenda/standard")
@login_required
def agenda_standard(meeting_id: int) -> Response:
    meeting = _editable(meeting_id)
    formflow.button_pressed()
    done = formflow.apply(lambda: agenda.add_standard_items(current_user, meeting))
    if isinstance(done, Refused):
        flash(done.message)
    elif done.value:
        flash(f"Standard items added: {', '.join(item.title for item in done.value)}.",
              "success")
    else:
        flash("The standard items are already on the agenda.")
    return _builder(meeting)


# --- Papers ---------------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/agenda/items/<int:item_id>/papers/new",
          methods=["GET", "POST"])
@login_required
def agenda_paper_new(meeting_id: int, item_id: int) -> Page:
    meeting = _editable(meeting_id)
    item = _item(meeting, item_id)
    form = PaperForm()
    if done := formflow.save(form, lambda: agenda.add_paper(
            current_user, item, form.title.data or "", form.file.data)):
        flash(f"Paper added to item {item.position}: {done.value.title}.", "success")
        return _builder(meeting, f"#item-{item.id}")
    return formflow.render("meetings/agenda_paper.html", form, meeting=meeting,
                           forum=meeting.forum, item=item, kinds=agenda.PAPER_KINDS)


@bp.post("/meetings/<int:meeting_id>/agenda/papers/<int:paper_id>/remove")
@login_required
def agenda_paper_remove(meeting_id: int, paper_id: int) -> Response:
    meeting = _editable(meeting_id)
    paper = found(agenda.get_paper(meeting, paper_id))
    formflow.button_pressed()
    item_id, title = paper.item_id, paper.title
    orphans = agenda.remove_paper(current_user, paper)
    db.session.commit()
    for name in orphans:
        uploads.delete(name)
    flash(f"Paper removed: {title}.", "success")
    return _builder(meeting, f"#item-{item_id}")


@bp.get("/meetings/<int:meeting_id>/papers/<int:paper_id>")
def paper_download(meeting_id: int, paper_id: int) -> Response:
    meeting = load_meeting(meeting_id)
    paper = agenda.get_paper(meeting, paper_id)
    if paper is None or not permissions.can_download_paper(current_user, meeting):
        abort(404)
    return uploads.send(paper.stored_name, paper.original_filename, paper.content_type)


# --- Publication ----------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/agenda/publish", methods=["GET", "POST"])
@login_required
def agenda_publish(meeting_id: int) -> Page:
    meeting = _editable(meeting_id)
    if meeting.agenda_published:
        flash("The agenda has already been published.")
        return to_meeting(meeting, "#agenda")
    form = ButtonForm()
    problem = None
    if form.validate_on_submit():
        notice = formflow.apply(lambda: agenda.publish(current_user, meeting))
        if not isinstance(notice, Refused):
            flash("Agenda published. The forum's members and the people registered have been "
                  "emailed." + ("" if notice.value.met else
                                f" It was published with less than {notice.value.days} "
                                "clear working days' notice, and the meeting's record says "
                                "so."), "success")
            return to_meeting(meeting, "#agenda")
        problem = notice.message
    count = len(meeting.items)
    # Only the service's refusal is shown (the page has no field to mark), so only it is 422.
    return render_template("meetings/agenda_publish.html", form=form, meeting=meeting,
                           forum=meeting.forum, notice=agenda.notice_for(meeting),
                           item_count=count, problem=problem), 422 if problem else 200


# --- Item requests --------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/requests/new", methods=["GET", "POST"])
@login_required
def item_request_new(meeting_id: int) -> Page:
    meeting = load_meeting(meeting_id)
    if not permissions.can_request_agenda_item(current_user, meeting):
        abort(403, "Only members of the forum can ask for an item on the agenda. Join the "
                   "forum first.")
    if meeting.is_cancelled or meeting.has_started():
        flash("Items can be requested only for upcoming meetings that are not cancelled.")
        return to_meeting(meeting)
    form = RequestForm()
    done = save_or_go_back(form, to_meeting(meeting),
                           lambda: agenda.request_item(current_user, meeting, form.details()))
    if done:
        flash("Your request has been sent to the forum's convenors. We will email you "
              "when they decide.", "success")
        return to_meeting(meeting, "#agenda")
    return formflow.render("meetings/request_new.html", form, meeting=meeting,
                           forum=meeting.forum)


@bp.get("/meetings/<int:meeting_id>/requests")
@login_required
def item_requests(meeting_id: int) -> Page:
    meeting = load_managed_meeting(meeting_id)
    rows = agenda.requests_for(meeting)
    return render_template(
        "meetings/requests.html", meeting=meeting, forum=meeting.forum,
        pending=[row for row in rows if row.status is ItemRequestStatus.PENDING],
        decided=[row for row in rows if row.status is not ItemRequestStatus.PENDING],
        button=ButtonForm())


@bp.post("/meetings/<int:meeting_id>/requests/<int:request_id>/accept")
@login_required
def item_request_accept(meeting_id: int, request_id: int) -> Response:
    meeting = _editable(meeting_id)
    item_request = _request(meeting, request_id)
    formflow.button_pressed()
    try:
        item = agenda.accept_request(current_user, item_request)
    except (Conflict, ValidationError) as error:
        return refused(error, _to_requests(meeting))
    db.session.commit()
    flash(f"Accepted: {item.title} is item {item.position} on the agenda. "
          "The person who asked has been emailed.", "success")
    return _to_requests(meeting)


@bp.route("/meetings/<int:meeting_id>/requests/<int:request_id>/decline",
          methods=["GET", "POST"])
@login_required
def item_request_decline(meeting_id: int, request_id: int) -> Page:
    meeting = load_managed_meeting(meeting_id)
    item_request = _request(meeting, request_id)
    if item_request.status is not ItemRequestStatus.PENDING:
        flash("This request has already been decided.")
        return _to_requests(meeting)
    form = DeclineForm()
    done = save_or_go_back(form, _to_requests(meeting), lambda: agenda.decline_request(
        current_user, item_request, form.reason.data or ""))
    if done:
        flash("Request declined. The person who asked has been emailed your reason.",
              "success")
        return _to_requests(meeting)
    return formflow.render("meetings/request_decline.html", form, meeting=meeting,
                           forum=meeting.forum, item_request=item_request)
