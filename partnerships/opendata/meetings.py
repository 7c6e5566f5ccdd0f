"""The public meetings dataset, with each meeting's published agenda, links to its
papers and its published minutes.

Which meetings: ``permissions.meetings_visible_to(None)``, what a signed-out visitor
sees on the meeting pages. What of each: the agenda (items, papers) only once it is
published, as ``permissions.can_download_paper`` lets a visitor download papers only
then; the minutes only once published; never the joining link or details, which are
for people registered. A public meeting of a members-only forum is shown, as its page
is, by its host's name without a link to the forum (which is not in open data).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import permissions
from ..extensions import db
from ..forums.models import Forum
from ..meetings.models import AgendaItem, Meeting, MeetingStatus
from ..meetings.queries import not_ended
from ..modelbase import utcnow
from . import refs
from .datasets import Column, Dataset, Detail, field_column, register
from .forums import FORUM_FILTER, public_forum_id
from .params import Param
from .partnerships import PARTNERSHIP_FILTER, partnership_id

WHEN_FILTER = Param("when", "Upcoming meetings (not yet ended) or past ones; "
                    "both when left out.", "choice", choices=("upcoming", "past"))
STATUS_FILTER = Param("status", "Only meetings with this status.", "choice",
                      choices=tuple(status.value for status in MeetingStatus))


def _options() -> list[Any]:
    """The host, and the agenda with presenters and papers: three queries for any
    number of meetings (the page, its items, their papers)."""
    return [
        joinedload(Meeting.forum), joinedload(Meeting.partnership),
        selectinload(Meeting.items).options(
            joinedload(AgendaItem.presenter), joinedload(AgendaItem.presenter_organisation),
            selectinload(AgendaItem.papers)),
    ]


def _conditions(values: dict[str, Any]) -> list[Any]:
    conditions: list[Any] = [permissions.meetings_visible_to(None)]
    partnership = partnership_id(values)
    if partnership is not None:
        conditions.append(Meeting.partnership_id == partnership)
    forum = public_forum_id(values)
    if forum is not None:
        conditions.append(Meeting.forum_id == forum)
    now = utcnow()
    if values.get("when") == "upcoming":
        conditions += not_ended(now)
    elif values.get("when") == "past":
        conditions.append(Meeting.ends_at <= now)
    if values.get("status") is not None:
        conditions.append(Meeting.status == MeetingStatus(values["status"]))
    return conditions


def _fetch(values: dict[str, Any], offset: int, limit: int) -> tuple[list[Meeting], int]:
    conditions = _conditions(values)
    total = db.session.scalar(select(func.count(Meeting.id)).where(*conditions)) or 0
    rows = list(db.session.scalars(
        select(Meeting).where(*conditions).options(*_options())
        .order_by(Meeting.starts_at, Meeting.id).offset(offset).limit(limit)))
    return rows, total


def _load(meeting_id: int) -> Meeting | None:
    return db.session.scalar(select(Meeting).where(
        Meeting.id == meeting_id, permissions.meetings_visible_to(None)).options(*_options()))


def _presenter(item: AgendaItem) -> str | None:
    """"Ann Example (Eastside Food Bank)", as the agenda on the meeting page says it."""
    person = item.presenter.display_name if item.presenter else item.presenter_name
    organisation = item.presenter_organisation.name if item.presenter_organisation else ""
    if person and organisation:
        return f"{person} ({organisation})"
    return person or organisation or None


def _item(meeting: Meeting, item: AgendaItem, number: int) -> dict[str, Any]:
    return {
        "number": number,
        "title": item.title,
        "presenter": _presenter(item),
        "minutes_allowed": item.minutes_allowed,
        "notes": item.notes,
        "minutes": item.minutes if meeting.minutes_published else None,
        "papers": [{
            "title": paper.title,
            "url": refs.url("meetings.paper_download", meeting_id=meeting.id,
                            paper_id=paper.id),
            "kind": paper.kind_label,
            "content_type": paper.content_type,
            "size_bytes": paper.size_bytes,
        } for paper in item.papers],
    }


def _public_forum(forum: Forum | None) -> Forum | None:
    return forum if forum is not None and forum.is_public else None


def serialise(meeting: Meeting) -> dict[str, Any]:
    forum = _public_forum(meeting.forum)
    agenda = meeting.agenda_published
    minutes = meeting.minutes_published
    has_venue = meeting.format.has_venue
    return {
        "id": meeting.id,
        "title": meeting.title,
        "description": meeting.description,
        "starts_at": refs.moment(meeting.starts_at),
        "ends_at": refs.moment(meeting.ends_at),
        "status": refs.labelled(meeting.status),
        "status_reason": meeting.status_reason or None,
        "format": refs.labelled(meeting.format),
        "venue": {
            "name": meeting.venue_name,
            "address": meeting.venue_address,
            "step_free_access": meeting.step_free_access,
            "hearing_loop": meeting.hearing_loop,
            "parking": meeting.parking,
            "public_transport": meeting.public_transport,
            "access_notes": meeting.access_notes,
        } if has_venue else None,
        "capacity": meeting.capacity,
        "places_left": meeting.places_left,
        "host": {"kind": "partnership" if meeting.is_partnership_meeting else "forum",
                 "name": meeting.host_name},
        "partnership": refs.partnership_ref(meeting.partnership),
        "forum": refs.forum_ref(forum) if forum is not None else None,
        "agenda": {
            "published": agenda,
            "published_at": refs.moment(meeting.agenda_published_at) if agenda else None,
            "notice_days": meeting.notice_days,
            "notice_met": meeting.notice_met if agenda else None,
            "items": [_item(meeting, item, number)
                      for number, item in enumerate(meeting.items, 1)] if agenda else [],
        },
        "minutes": {
            "published": minutes,
            "published_at": refs.moment(meeting.minutes_published_at) if minutes else None,
            "summary": meeting.minutes_summary if minutes else None,
        },
        "created_at": refs.moment(meeting.created_at),
        "updated_at": refs.moment(meeting.updated_at),
        "links": {
            "self": refs.url("opendata.meetings_detail", meeting_id=meeting.id),
            "html": refs.url("meetings.show", meeting_id=meeting.id),
        },
    }


_TEXT = {"type": "string"}
_NULLABLE_TEXT = refs.nullable(_TEXT)
PAPER = {
    "type": "object",
    "required": ["title", "url", "kind", "content_type", "size_bytes"],
    "additionalProperties": False,
    "properties": {"title": _TEXT, "url": refs.LINK, "kind": _TEXT, "content_type": _TEXT,
                   "size_bytes": {"type": "integer", "minimum": 1}},
}
AGENDA_ITEM = {
    "type": "object",
    "required": ["number", "title", "presenter", "minutes_allowed", "notes", "minutes",
                 "papers"],
    "additionalProperties": False,
    "properties": {
        "number": {"type": "integer", "minimum": 1},
        "title": _TEXT,
        "presenter": _NULLABLE_TEXT,
        "minutes_allowed": refs.nullable({"type": "integer", "minimum": 1}),
        "notes": {"type": "string", "description": "Markdown."},
        "minutes": {**_NULLABLE_TEXT, "description": "Once the minutes are published."},
        "papers": {"type": "array", "items": refs.ref("Paper")},
    },
}
_BOOL_OR_NULL = refs.nullable({"type": "boolean"})
SCHEMA = {
    "type": "object",
    "required": ["id", "title", "description", "starts_at", "ends_at", "status",
                 "status_reason", "format", "venue", "capacity", "places_left", "host",
                 "partnership", "forum", "agenda", "minutes", "created_at", "updated_at",
                 "links"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer"},
        "title": _TEXT,
        "description": _TEXT,
        "starts_at": refs.MOMENT,
        "ends_at": refs.MOMENT,
        "status": refs.ref("Labelled"),
        "status_reason": _NULLABLE_TEXT,
        "format": refs.ref("Labelled"),
        "venue": refs.nullable({
            "type": "object",
            "required": ["name", "address", "step_free_access", "hearing_loop", "parking",
                         "public_transport", "access_notes"],
            "additionalProperties": False,
            "properties": {"name": _TEXT, "address": _TEXT,
                           "step_free_access": _BOOL_OR_NULL, "hearing_loop": _BOOL_OR_NULL,
                           "parking": _TEXT, "public_transport": _TEXT,
                           "access_notes": _TEXT},
        }),
        "capacity": refs.nullable({"type": "integer", "minimum": 1}),
        "places_left": refs.nullable({"type": "integer", "minimum": 0}),
        "host": {"type": "object", "required": ["kind", "name"], "additionalProperties": False,
                 "properties": {"kind": {"type": "string", "enum": ["partnership", "forum"]},
                                "name": _TEXT}},
        "partnership": refs.ref("PartnershipRef"),
        "forum": {**refs.nullable(refs.ref("ForumRef")), "description":
                  "The forum, if it is a forum's meeting and the forum is public."},
        "agenda": {
            "type": "object",
            "required": ["published", "published_at", "notice_days", "notice_met", "items"],
            "additionalProperties": False,
            "properties": {
                "published": {"type": "boolean"},
                "published_at": refs.nullable(refs.MOMENT),
                "notice_days": {"type": "integer", "minimum": 0},
                "notice_met": {**_BOOL_OR_NULL, "description": "Whether the agenda was "
                               "published with the promised clear working days of notice."},
                "items": {"type": "array", "items": refs.ref("AgendaItem")},
            },
        },
        "minutes": {
            "type": "object",
            "required": ["published", "published_at", "summary"],
            "additionalProperties": False,
            "properties": {"published": {"type": "boolean"},
                           "published_at": refs.nullable(refs.MOMENT),
                           "summary": _NULLABLE_TEXT},
        },
        "created_at": refs.MOMENT,
        "updated_at": refs.MOMENT,
        "links": {"type": "object", "required": ["self", "html"],
                  "additionalProperties": False,
                  "properties": {"self": refs.LINK, "html": refs.LINK}},
    },
}


def _items_cell(item: dict[str, Any]) -> str:
    return "; ".join(f"{entry['number']}. {entry['title']}" for entry in item["agenda"]["items"])


def _papers_cell(item: dict[str, Any]) -> str:
    return " ".join(paper["url"] for entry in item["agenda"]["items"]
                    for paper in entry["papers"])


DATASET = register(Dataset(
    name="meetings",
    title="Public meetings",
    description="Public meetings of the partnerships and their forums, soonest first: "
                "time, place, access, status, the published agenda with links to its "
                "papers, and the published minutes. Members-only meetings are not "
                "included.",
    schema_name="Meeting",
    schema=SCHEMA,
    filters=(PARTNERSHIP_FILTER, FORUM_FILTER, WHEN_FILTER, STATUS_FILTER),
    fetch=_fetch,
    serialise=serialise,
    columns=(
        field_column("id"), field_column("title"), field_column("starts_at"),
        field_column("ends_at"), field_column("status", "status", "code"),
        field_column("status_reason"), field_column("format", "format", "code"),
        field_column("venue_name", "venue", "name"),
        field_column("venue_address", "venue", "address"),
        field_column("host", "host", "name"),
        field_column("partnership", "partnership", "slug"),
        field_column("forum_id", "forum", "id"),
        field_column("agenda_published", "agenda", "published"),
        field_column("agenda_published_at", "agenda", "published_at"),
        field_column("notice_met", "agenda", "notice_met"),
        Column("agenda_items", _items_cell),
        Column("papers", _papers_cell),
        field_column("minutes_published", "minutes", "published"),
        field_column("minutes_published_at", "minutes", "published_at"),
        field_column("url", "links", "html"), field_column("api_url", "links", "self"),
    ),
    detail=Detail("meeting_id", "id", _load, "One public meeting, by its id."),
    components={"AgendaItem": AGENDA_ITEM, "Paper": PAPER},
))
