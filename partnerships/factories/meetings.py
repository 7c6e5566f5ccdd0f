"""Meetings, agendas, papers and registrations, through the meetings services
(``scheduling``, ``agenda``, ``registrations``, ``records``). A meeting held in the
past is scheduled, registered for and recorded inside ``clock.at`` at each
moment, so no builder here writes a meeting's history itself."""

from __future__ import annotations

import io
import os
from datetime import date, time

from werkzeug.datastructures import FileStorage

from .. import uploads
from ..accounts.models import User
from ..forums.models import Forum, Visibility
from ..meetings import agenda, registrations, scheduling
from ..meetings.models import (
    AgendaItem,
    Meeting,
    MeetingFormat,
    Paper,
    Registration,
    Response,
)
from ..organisations.models import Organisation
from ..partnership.models import Partnership
from . import accounts, builder, number


def organiser(host: Forum | Partnership) -> User:
    """The forum's first convenor (the partnership's first officer, for its own
    meetings), or a site administrator who is never saved."""
    if isinstance(host, Partnership):
        return host.officers[0].user if host.officers else accounts.stand_in_admin()
    return host.convenors[0].user if host.convenors else accounts.stand_in_admin()


def meeting_organiser(meeting: Meeting) -> User:
    """``organiser`` of the meeting's host."""
    return organiser(meeting.forum if meeting.forum is not None else meeting.partnership)


@builder
def meeting(forum: Forum | Partnership, title: str | None = None, *, day: date, start: time,
            end: time, by: User | None = None, format: MeetingFormat = MeetingFormat.IN_PERSON,
            visibility: Visibility | None = None,
            recurrence: scheduling.Recurrence | None = None,
            **details: object) -> list[Meeting]:
    """A meeting (or every meeting of a series) of a forum or of a partnership itself,
    scheduled by ``by``. An in-person or hybrid meeting gets a venue unless
    ``details`` names one; it is as visible as its forum (a partnership's: public)
    unless ``visibility`` says otherwise."""
    if format.has_venue:
        details.setdefault("venue_name", "Northbridge Civic Centre")
        details.setdefault("venue_address", "1 Market Square, Northbridge NB1 1AA")
    return scheduling.schedule(by or organiser(forum), forum, scheduling.MeetingDetails(
        title=title or f"Meeting {number()}", day=day, start=start, end=end, format=format,
        visibility=visibility or (forum.visibility if isinstance(forum, Forum)
                                  else Visibility.PUBLIC), **details), recurrence)  # type: ignore[arg-type]


@builder
def paper(item: AgendaItem, title: str, filename: str, data: bytes,
          by: User | None = None) -> Paper:
    """A paper added by an organiser (``agenda.add_paper``, which checks the file),
    then stored under a name from its SHA-256, so the same bytes are one file and a
    reloaded demo names its papers the same."""
    added = agenda.add_paper(by or meeting_organiser(item.meeting), item, title,
                             FileStorage(io.BytesIO(data), filename=filename))
    named = f"{added.sha256[:32]}{os.path.splitext(added.stored_name)[1]}"
    os.replace(uploads.path_for(added.stored_name), uploads.path_for(named))
    added.stored_name = named
    return added


@builder
def registration(meeting: Meeting, user: User, response: Response | None = None, *,
                 organisation: Organisation | None = None,
                 access_requirements: str = "") -> Registration:
    """``user``'s answer (by default the first the meeting's format allows)."""
    answer = registrations.Answer(
        response=response or registrations.answers_for(meeting)[0],
        access_requirements=access_requirements,
        organisation_id=organisation.id if organisation else None)
    return registrations.register(user, meeting, answer)[0]
