"""What the meeting view modules share: load a meeting the viewer may see (sign in,
or the members-only page, otherwise) or manage (403), go back to it, and turn a
service's ``Conflict`` (the meeting moved on: cancelled, decided, closed) into a
message and a redirect, which no change to the form could fix. Kept out of
``views`` so that no view module imports another."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, flash
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import formflow, permissions
from ..errors import Conflict, DomainError
from ..extensions import db
from ..formflow import Done, allowed, found, see_other
from . import queries
from .models import Meeting

T = TypeVar("T")

ORGANISERS_ONLY = ("Only the meeting's organisers (the forum's convenors, or the "
                   "partnership's officers) can do this.")


def meeting_audience(user: permissions.Viewer, meeting: Meeting,
                     what: str = "meeting") -> permissions.Audience:
    """A meeting hidden from someone is always a members-only one: it is for the
    insiders of its forum, or of its partnership for the partnership's own meetings."""
    if meeting.forum is None:
        return permissions.partnership_audience(meeting.partnership, what)
    return permissions.forum_audience(user, meeting.forum, what)


def load_meeting(meeting_id: int) -> Meeting:
    """The meeting, if this person may see it; otherwise sign in first, or the page
    saying whose meeting it is (``permissions.refuse``); 404 if there is no such
    meeting."""
    return allowed(found(queries.get_meeting(meeting_id)), permissions.can_view_meeting,
                   hide=True, audience=meeting_audience)


def load_managed_meeting(meeting_id: int) -> Meeting:
    """The meeting, for its organisers; 404 for those who cannot see it, 403 for the
    others."""
    meeting = load_meeting(meeting_id)
    if not permissions.can_manage_meeting(current_user, meeting):
        abort(403, ORGANISERS_ONLY)
    return meeting


def to_meeting(meeting: Meeting, anchor: str = "") -> Response:
    """The meeting page (303), at ``anchor`` ("#agenda") if given."""
    return see_other("meetings.show", meeting_id=meeting.id, _anchor=anchor[1:] or None)


def refused(error: DomainError, to: Response) -> Response:
    """A service refused (usually with a ``Conflict``, which no change to a form can
    fix): undo, say why, and go to ``to``."""
    db.session.rollback()
    flash(error.message)
    return to


def save_or_go_back(form: Any, to: Response, action: Callable[[], T], *,
                    validate: bool = True) -> Done[T] | None:
    """``formflow.save``, except that a ``Conflict`` ends the request as ``refused``
    does (raised through ``abort``, so the view reads as the plain flow)."""
    try:
        return formflow.save(form, action, validate=validate)
    except Conflict as error:
        abort(refused(error, to))
