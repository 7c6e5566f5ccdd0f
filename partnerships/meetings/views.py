"""Meeting pages: lists for a partnership, a forum and "My meetings"; the meeting page;
scheduling (for a forum, or for the partnership itself), changing, postponing and
cancelling.

Thin: load -> authorise (``permissions``) -> validate -> service -> commit -> flash ->
redirect (303). A meeting the person may not see is a 404, so a members-only meeting
does not reveal that it exists. The meeting page gathers its sections from
``agenda``, ``registrations`` and ``records`` (each answers ``page_context``).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import formflow, once, pagination, permissions
from ..extensions import db
from ..formflow import Page, found
from ..forms import add_field_error
from ..forums import services as forum_services
from ..forums.models import Forum, Visibility
from ..modelbase import utcnow
from ..partnership.models import Partnership
from ..timeutil import uk_local_to_utc
from . import agenda, feeds, queries, records, registrations, scheduling
from .forms import CancelForm, EditForm, PostponeForm, ScheduleForm
from .models import Meeting
from .routes import bp
from .view_helpers import load_managed_meeting, load_meeting, save_or_go_back, to_meeting


def _forum(slug: str, forum_slug: str) -> Forum:
    return found(forum_services.find_forum(slug, forum_slug, convenors=False))


def _partnership(slug: str) -> Partnership:
    partnership: Partnership = found(db.session.scalar(
        db.select(Partnership).where(Partnership.slug == slug)))
    return partnership


def _past_tab() -> bool:
    return request.args.get("show") == "past"


def _counted(result: queries.MeetingPage) -> tuple[queries.MeetingPage, int]:
    """A page of meetings with its total, as ``pagination.fetch_page`` takes them."""
    return result, result.total


# --- Lists ---------------------------------------------------------------------------


@bp.get("/partnerships/<slug>/meetings/")
def partnership_meetings(slug: str) -> Page:
    """The partnership's own meetings and its forums' together, soonest first."""
    partnership = _partnership(slug)
    past = _past_tab()
    result, _total, page, pages = pagination.fetch_page(
        lambda number: _counted(queries.listing(current_user, partnership_id=partnership.id,
                                                past=past, page=number)), queries.PER_PAGE)
    return render_template(
        "meetings/index.html", partnership=partnership, forum=None, past=past, result=result,
        hidden_meetings=(0 if past else queries.hidden_upcoming_count(
            current_user, partnership_id=partnership.id)),
        registrations=queries.my_registrations(current_user,
                                               [m.id for m in result.meetings]),
        can_schedule=permissions.can_schedule_meeting(current_user, partnership),
        pages=pagination.govuk_pagination(
            "meetings.partnership_meetings", page, pages, "Pages of meetings",
            slug=slug, **({"show": "past"} if past else {})),
    )


@bp.get("/partnerships/<slug>/forums/<forum_slug>/meetings/")
def forum_meetings(slug: str, forum_slug: str) -> Page:
    forum = _forum(slug, forum_slug)
    past = _past_tab()
    result, _total, page, pages = pagination.fetch_page(
        lambda number: _counted(queries.listing(current_user, forum_id=forum.id, past=past,
                                                page=number)), queries.PER_PAGE)
    return render_template(
        "meetings/index.html", partnership=forum.partnership, forum=forum, past=past,
        result=result,
        hidden_meetings=(0 if past else
                         queries.hidden_upcoming_count(current_user, forum_id=forum.id)),
        offer_feed=forum.is_public or queries.has_public_meetings(forum.id),
        registrations=queries.my_registrations(current_user,
                                               [m.id for m in result.meetings]),
        can_schedule=permissions.can_schedule_meeting(current_user, forum),
        pages=pagination.govuk_pagination(
            "meetings.forum_meetings", page, pages, "Pages of meetings",
            slug=slug, forum_slug=forum_slug, **({"show": "past"} if past else {})),
    )


@bp.get("/my/meetings")
@login_required
def mine() -> Page:
    past = _past_tab()
    meetings = queries.my_meetings(current_user, past=past)
    return render_template(
        "meetings/mine.html", past=past, meetings=meetings,
        registrations=queries.my_registrations(current_user, [m.id for m in meetings]),
        **feeds.personal_feed_context(current_user),
    )


# --- The meeting page ------------------------------------------------------------------


@bp.get("/meetings/<int:meeting_id>/")
def show(meeting_id: int) -> Page:
    meeting = load_meeting(meeting_id)
    context: dict[str, Any] = {}
    for section in (agenda, registrations, records):
        context.update(section.page_context(meeting, current_user))
    return render_template(
        "meetings/show.html", meeting=meeting, forum=meeting.forum,
        partnership=meeting.partnership,
        can_manage=permissions.can_manage_meeting(current_user, meeting),
        show_joining_link=permissions.can_see_joining_link(
            current_user, meeting, context.get("my_registration")),
        **context,
    )


# --- Scheduling and changes --------------------------------------------------------------


def _in_past(form: ScheduleForm | EditForm) -> bool:
    """Whether the entered start is already past (a likely mistake, so we ask)."""
    when, at = form.day.data, form.start.time()
    if when is None or at is None:
        return False
    try:
        return uk_local_to_utc(when, at) < utcnow()
    except ValueError:
        return False


def _ask_about_past(form: ScheduleForm | EditForm, message: str) -> bool:
    """If the (validated) form's start is past and not confirmed, say so on the date and
    answer True: the page asks again with the confirmation box."""
    if not _in_past(form) or form.confirm_past.data:
        return False
    add_field_error(form.day, message)
    return True


def _form_page(form: ScheduleForm | EditForm, partnership: Partnership, forum: Forum | None,
               meeting: Meeting | None, ask_past: bool) -> Page:
    """The schedule or change form, for a forum's meeting or the partnership's own
    (``forum`` None): the same form, with the host's name and members in its words."""
    if forum is None:
        form.for_partnership(partnership)
    return formflow.render("meetings/form.html", form, forum=forum,
                           partnership=partnership, meeting=meeting,
                           ask_past=ask_past or bool(form.confirm_past.data))


@bp.route("/partnerships/<slug>/forums/<forum_slug>/meetings/new", methods=["GET", "POST"])
@login_required
def new(slug: str, forum_slug: str) -> Page:
    forum = _forum(slug, forum_slug)
    if not permissions.can_schedule_meeting(current_user, forum):
        if not permissions.can_read_forum(current_user, forum):
            permissions.refuse(current_user, permissions.forum_audience(
                current_user, forum, "page"))
        abort(403, "Only the forum's convenors and the partnership's officers can schedule "
                   "meetings.")
    form, ready, ask_past = _schedule_form(forum.visibility.value)
    if ready and (saved := once.save(form, lambda: scheduling.schedule(
            current_user, forum, form.details(), form.recurrence()), _first_meeting_url)):
        return _scheduled(saved)
    return _form_page(form, forum.partnership, forum, None, ask_past)


@bp.route("/partnerships/<slug>/meetings/new", methods=["GET", "POST"])
@login_required
def new_partnership_meeting(slug: str) -> Page:
    """Officers schedule a meeting of the partnership itself (its board, an annual
    assembly, a joint commissioning meeting), one-off or a series."""
    partnership = _partnership(slug)
    if not permissions.can_schedule_meeting(current_user, partnership):
        abort(403, "Only the partnership's officers can schedule its meetings.")
    form, ready, ask_past = _schedule_form(Visibility.PUBLIC.value)
    if ready and (saved := once.save(form, lambda: scheduling.schedule(
            current_user, partnership, form.details(), form.recurrence()),
            _first_meeting_url)):
        return _scheduled(saved)
    return _form_page(form, partnership, None, None, ask_past)


def _schedule_form(visibility: str) -> tuple[ScheduleForm, bool, bool]:
    """The schedule form (``visibility`` preset when first shown); whether it was sent
    and is ready to save; and whether it asks again about a start in the past."""
    form = ScheduleForm()
    if request.method == "GET":
        form.visibility.data = visibility
    if not form.validate_on_submit():
        return form, False, False
    ask_past = _ask_about_past(form, "The date and time are in the past. Check them, or "
                                     "tick the box to confirm you are recording a past "
                                     "meeting")
    return form, not ask_past, ask_past


def _first_meeting_url(made: list[Meeting]) -> str:
    return url_for("meetings.show", meeting_id=made[0].id)


def _scheduled(saved: once.Saved[list[Meeting]]) -> Page:
    """Where a schedule form goes once saved (or already sent once), and what it says."""
    meetings = saved.value
    if meetings is None:
        flash(once.ALREADY_SENT, "info")
        return redirect(saved.url, code=303)
    if len(meetings) > 1:
        flash(f"{len(meetings)} meetings scheduled, from "
              f"{meetings[0].starts_at:%-d %B %Y}.", "success")
    elif meetings[0].has_ended():
        flash("Past meeting recorded. Next, record attendance and write its minutes.",
              "success")
    else:
        flash("Meeting scheduled. Next, build its agenda.", "success")
    return to_meeting(meetings[0])


def _scope(form: EditForm | CancelForm) -> str:
    """Which meetings of a series a change is for ("this" when it is not a series)."""
    return form.scope.data if "scope" in form else "this"


@bp.route("/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
@login_required
def edit(meeting_id: int) -> Page:
    meeting = load_managed_meeting(meeting_id)
    if meeting.is_cancelled:
        flash("This meeting has been cancelled, so it cannot be changed.")
        return to_meeting(meeting)
    form = EditForm()
    if request.method == "GET":
        form.fill(meeting)
    if meeting.series_id is None:
        del form.scope
    ask_past = False
    if form.validate_on_submit():
        ask_past = not meeting.has_started() and _ask_about_past(
            form, "The new date and time are in the past. Check them, or tick the box to "
                  "confirm")
        if not ask_past:
            done = save_or_go_back(form, to_meeting(meeting), lambda: scheduling.update(
                current_user, meeting, form.details(), _scope(form)), validate=False)
            if done:
                flash("Changes saved." if done.value else "Nothing changed.", "success")
                return to_meeting(meeting)
    return _form_page(form, meeting.partnership, meeting.forum, meeting, ask_past)


@bp.route("/meetings/<int:meeting_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(meeting_id: int) -> Page:
    meeting = load_managed_meeting(meeting_id)
    if meeting.is_cancelled or meeting.has_ended():
        flash("This meeting cannot be cancelled: it has already been cancelled or has "
              "taken place.")
        return to_meeting(meeting)
    form = CancelForm()
    if meeting.series_id is None:
        del form.scope
    if done := formflow.save(form, lambda: scheduling.cancel(
            current_user, meeting, form.reason.data or "", _scope(form))):
        flash(f"{len(done.value)} meetings cancelled." if len(done.value) > 1 else
              "Meeting cancelled. Everyone who registered has been emailed.", "success")
        return to_meeting(meeting)
    return formflow.render("meetings/cancel.html", form, meeting=meeting)


@bp.route("/meetings/<int:meeting_id>/postpone", methods=["GET", "POST"])
@login_required
def postpone(meeting_id: int) -> Page:
    meeting = load_managed_meeting(meeting_id)
    if meeting.is_cancelled or meeting.has_ended():
        flash("This meeting cannot be postponed: it has been cancelled or has taken place.")
        return to_meeting(meeting)
    form = PostponeForm()
    if formflow.save(form, lambda: scheduling.postpone(
            current_user, meeting, form.reason.data or "", form.day.data,
            form.start.time(), form.end.time())):
        flash("Meeting postponed. Everyone who registered has been emailed.", "success")
        return to_meeting(meeting)
    return formflow.render("meetings/postpone.html", form, meeting=meeting)
