"""The ``meetings`` section of the demo (``flask seed demo``): meetings of the demo
forums with their agendas and papers, item requests, registrations and waiting lists,
attendance, minutes, decisions and actions.

It follows the rules in ``partnerships/seed.py``:

- **Times count from loading.** A meeting's ``day`` is a whole number of days from the
  day its forum's partnership was loaded (``day: -42`` is six weeks before it), and
  ``weekday: thursday`` moves it on to the next Thursday (to the next working day if
  that is a bank holiday). ``agenda_due_day: 2`` instead picks the first working day
  whose agenda is due (the forum's notice, in clear working days) two or more days
  after it, so a fresh demo always has an agenda due within a few days. ``start`` and
  ``end`` are UK wall-clock times, turned into UTC with ``timeutil.uk_local_to_utc``
  on the meeting's own day, so a 10:00 meeting is at 10:00 in summer and winter.
  Every other moment (when the meeting was scheduled, the agenda and minutes
  published, people registered, actions updated) counts from the same anchor, and
  nothing is dated after it. Calendar fields are settled: ``sequence`` 0 and
  ``changed_at`` when it was scheduled (or cancelled).
- **Loaded into an empty database** (see ``partnerships/seed.py``): every record is
  new, so there is nothing to match or undo; ``places_taken`` is the count of
  registrations holding a place.
- **Papers are real files.** Each paper is a small PDF written here (its title, the
  meeting and the text; nothing depends on when it was made), stored in the uploads
  folder under a name derived from its SHA-256, so the same text is one file.
- **The same rules as the site.** Organisers schedule, agendas published with items
  record whether notice was met, presenters and action owners come from the forum,
  members-only meetings are registered for by insiders only, answers match the
  meeting's format, a place is held only by an answer that takes one, nobody waits
  unless the meeting is full and it is never overbooked, and attendance, minutes and
  walk-ins belong to meetings that took place. Nothing is audited and no email is
  queued.
"""

from __future__ import annotations

import calendar
import hashlib
import os
import textwrap
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, union

from .. import uploads
from ..accounts.models import User
from ..extensions import db
from ..forums.models import Forum, ForumConvenor, ForumMember, ForumMemberStatus, Visibility
from ..organisations.models import OrganisationMember, RequestStatus
from ..partnership.models import Partnership, PartnershipMember, PartnershipOfficer
from ..seed import SeedContext, SeedError, _assign, _check_fields, _entries, _enum, _text
from ..timeutil import (
    AmbiguousTimeError,
    NonExistentTimeError,
    format_day,
    is_working_day,
    latest_day_for_notice,
    to_uk,
    uk_local_to_utc,
)
from . import series as series_rules
from .models import (
    ActionItem,
    ActionStatus,
    ActionUpdate,
    AgendaItem,
    AgendaStatus,
    Attendance,
    Decision,
    ItemRequest,
    ItemRequestStatus,
    Meeting,
    MeetingFormat,
    MeetingSeries,
    MeetingStatus,
    MinutesStatus,
    Paper,
    RecurrenceKind,
    Registration,
    RegistrationStatus,
    Response,
    StandardItem,
)
from .registrations import answers_for, takes_place

TITLE_MAX = 200
_REQUIRED = {"partnership", "forum", "title", "start", "end", "format", "created_by"}
_RECORD = {"status", "status_reason", "status_changed_day", "agenda", "requests",
           "registrations", "walk_ins", "minutes"}
_OPTIONAL = {"day", "agenda_due_day", "weekday", "description", "venue", "joining_url",
             "joining_details", "capacity", "visibility", "scheduled_day", "series",
             "occurrences"} | _RECORD
_VENUE_OPTIONAL = {"step_free_access", "hearing_loop", "parking", "public_transport",
                   "access_notes"}
_ITEM_FIELDS = {"standard", "title", "presenter", "presenter_organisation", "presenter_name",
                "minutes_allowed", "notes", "papers", "minutes"}
_WEEKDAYS = {name.lower(): number for number, name in enumerate(calendar.day_name)}
_DAYS_MESSAGE = ("should be a whole number of days from the day the partnership was "
                 "loaded (negative for before it)")
# Agendas and minutes go out at these UK times on the day they are published.
_PUBLISHED_AT = time(9, 0)
_MINUTES_AT = time(10, 0)


# --- Small helpers --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Anchor:
    """The moment the forum's partnership was loaded, and that day in the UK."""

    moment: datetime
    day: date

    def past(self, entry: dict[str, Any], key: str, where: str) -> datetime:
        """``anchor + key days``, refusing the future (0 or less)."""
        days = _whole(entry.get(key), key, where)
        if days > 0:
            raise SeedError(f"{where}: {key} is in the future (it must be 0 or less)")
        return self.moment + timedelta(days=days)


def _whole(value: Any, key: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SeedError(f"{where}: {key} {_DAYS_MESSAGE}")
    return value


def _count(value: Any, key: str, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SeedError(f"{where}: {key} should be a whole number from {low} to {high}")
    return value


def _clock(value: Any, key: str, where: str) -> time:
    """"HH:MM" as a wall-clock time. YAML reads an unquoted 10:00 as the number 600."""
    if not isinstance(value, str):
        raise SeedError(f"{where}: put {key} in quotes, as \"10:00\"")
    try:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise SeedError(f"{where}: {key} should be a time such as \"18:30\"") from None


def _title(value: Any, what: str, where: str) -> str:
    title = " ".join(_text(value).split())
    if not title:
        raise SeedError(f"{where}: missing {what}")
    if len(title) > TITLE_MAX:
        raise SeedError(f"{where}: {what} is longer than {TITLE_MAX} characters")
    return title


def _flag(value: Any, key: str, where: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise SeedError(f"{where}: {key} should be true or false")
    return value


def _snap(day: date, weekday: int | None) -> date:
    """On to the next ``weekday`` (the day itself if it is one) and, if that is a bank
    holiday, on to the next working day (as an organiser would move it), so a meeting
    moves at most about ten days even over Christmas; without a weekday, the day as
    written."""
    if weekday is None:
        return day
    day += timedelta(days=(weekday - day.weekday()) % 7)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def _uk_moment(day: date, at: time, where: str) -> datetime:
    try:
        return uk_local_to_utc(day, at)
    except (NonExistentTimeError, AmbiguousTimeError) as error:
        raise SeedError(f"{where}: {error}") from None


# --- The forum's people ---------------------------------------------------------------------


@dataclass(frozen=True)
class _People:
    """Who counts as what in a forum, as the site decides it (from the loaded forum)."""

    members: frozenset[int]        # active members (convenors included)
    organisers: frozenset[int]     # convenors, the partnership's officers, site admins
    organisations: frozenset[int]  # represented in the forum, or members of the partnership

    @property
    def insiders(self) -> frozenset[int]:
        return self.members | self.organisers


def _people(forum: Forum, ctx: SeedContext) -> _People:
    members = db.session.scalars(select(ForumMember.user_id).where(
        ForumMember.forum_id == forum.id, ForumMember.status == ForumMemberStatus.ACTIVE))
    convenors = db.session.scalars(select(ForumConvenor.user_id).where(
        ForumConvenor.forum_id == forum.id))
    officers = db.session.scalars(select(PartnershipOfficer.user_id).where(
        PartnershipOfficer.partnership_id == forum.partnership_id))
    admins = {user.id for user in ctx.users.values() if user.is_site_admin}
    organisations = union(
        select(ForumMember.organisation_id).where(
            ForumMember.forum_id == forum.id, ForumMember.status == ForumMemberStatus.ACTIVE,
            ForumMember.organisation_id.is_not(None)),
        select(ForumConvenor.organisation_id).where(
            ForumConvenor.forum_id == forum.id, ForumConvenor.organisation_id.is_not(None)),
        select(PartnershipMember.organisation_id).where(
            PartnershipMember.partnership_id == forum.partnership_id,
            PartnershipMember.status == RequestStatus.ACTIVE),
    )
    return _People(
        members=frozenset(members),
        organisers=frozenset({*convenors, *officers, *admins}),
        organisations=frozenset(db.session.scalars(organisations)),
    )


def _belongs(user: User, organisation_id: int) -> bool:
    return db.session.scalar(select(OrganisationMember.id).where(
        OrganisationMember.organisation_id == organisation_id,
        OrganisationMember.user_id == user.id,
        OrganisationMember.status == RequestStatus.ACTIVE)) is not None


# --- Papers: small, real PDFs -----------------------------------------------------------------


def _pdf_text(line: str) -> str:
    """A PDF literal string: Windows-1252 (the font's encoding), escaped."""
    out = []
    for byte in line.encode("cp1252", errors="replace"):
        char = chr(byte)
        if char in "()\\":
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return "(" + "".join(out) + ")"


def demo_pdf(title: str, subtitle: str, text: str) -> bytes:
    """A valid PDF 1.4 (A4 pages, Helvetica) with the title, a subtitle and the text,
    one wrapped line per row. Nothing in it depends on when it was made, so the same
    text always gives the same bytes."""
    rows: list[str] = []
    for paragraph in text.strip().split("\n"):
        indent = "    " if paragraph.lstrip().startswith("- ") else ""
        rows.extend(textwrap.wrap(paragraph.strip(), 85, subsequent_indent=indent) or [""])
    title_rows = textwrap.wrap(title, 55) or [""]
    per_page = 44
    pages = [rows[i:i + per_page] for i in range(0, max(len(rows), 1), per_page)]
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
           b"/Encoding /WinAnsiEncoding >>",
        4: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold "
           b"/Encoding /WinAnsiEncoding >>",
    }
    kids = []
    for n, page in enumerate(pages):
        page_number, content_number = 5 + 2 * n, 6 + 2 * n
        kids.append(f"{page_number} 0 R")
        ops = ["BT", "72 770 Td"]
        if n == 0:
            ops += ["/F2 16 Tf", "20 TL"]
            for row in title_rows:
                ops += [f"{_pdf_text(row)} Tj", "T*"]
            ops += ["/F1 10 Tf", f"{_pdf_text(subtitle)} Tj", "0 -30 Td"]
        ops += ["/F1 11 Tf", "15 TL"]
        for row in page:
            ops += [f"{_pdf_text(row)} Tj", "T*"]
        ops.append("ET")
        stream = "\n".join(ops).encode("ascii")
        objects[page_number] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources "
            f"<< /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {content_number} 0 R >>"
        ).encode("ascii")
        objects[content_number] = (f"<< /Length {len(stream)} >>\nstream\n".encode("ascii")
                                   + stream + b"\nendstream")
    objects[2] = (f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>"
                  .encode("ascii"))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number in range(1, len(objects) + 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode("ascii") + objects[number] + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode("ascii")
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
            .encode("ascii"))
    return bytes(out)


def _store(data: bytes) -> tuple[str, str]:
    """Save the bytes where uploads live, named by their hash; (stored name, sha256)."""
    if uploads.detect_kind(data, (uploads.FileKind.PDF,)) is not uploads.FileKind.PDF:
        raise SeedError("a demo paper is not a PDF")  # a bug here, not in the file
    digest = hashlib.sha256(data).hexdigest()
    stored_name = f"{digest[:32]}{uploads.FileKind.PDF.extension}"
    path = uploads.path_for(stored_name)
    if not path.is_file() or path.read_bytes() != data:
        temporary = path.with_name(f".{stored_name}.part")
        temporary.write_bytes(data)
        os.replace(temporary, path)
    return stored_name, digest


# --- A meeting's fixed details -------------------------------------------------------------


@dataclass
class _Spec:
    """What an entry says about every meeting it makes (one, or each occurrence)."""

    forum: Forum
    anchor: _Anchor
    people: _People
    creator: User
    start: time
    end: time
    capacity: int | None
    values: dict[str, Any]
    where: str


def _venue(entry: dict[str, Any], meeting_format: MeetingFormat, where: str) -> dict[str, Any]:
    venue = entry.get("venue")
    empty = {"venue_name": "", "venue_address": "", "step_free_access": None,
             "hearing_loop": None, "parking": "", "public_transport": "", "access_notes": ""}
    if not meeting_format.has_venue:
        if venue is not None:
            raise SeedError(f"{where}: an online meeting has no venue")
        return empty
    if not isinstance(venue, dict):
        raise SeedError(f"{where}: an in-person or hybrid meeting needs a venue with a name "
                        "and an address")
    vwhere = f"{where}: venue"
    _check_fields(venue, {"name", "address"}, _VENUE_OPTIONAL, vwhere)
    return {
        "venue_name": _title(venue["name"], "name", vwhere),
        "venue_address": _text(venue["address"]),
        "step_free_access": _flag(venue.get("step_free_access"), "step_free_access", vwhere),
        "hearing_loop": _flag(venue.get("hearing_loop"), "hearing_loop", vwhere),
        "parking": _text(venue.get("parking")),
        "public_transport": _text(venue.get("public_transport")),
        "access_notes": _text(venue.get("access_notes")),
    }


def _spec(entry: dict[str, Any], ctx: SeedContext, people_of: dict[int, _People],
          where: str) -> _Spec:
    partnership = ctx.partnership(entry["partnership"], where)
    forum = ctx.forums.get((partnership.slug, str(entry["forum"])))
    if forum is None:
        raise SeedError(f"{where}: no forum {entry['forum']!r} in {partnership.slug} in the "
                        "seed file")
    if forum.id not in people_of:
        people_of[forum.id] = _people(forum, ctx)
    people = people_of[forum.id]
    creator = ctx.user(entry["created_by"], where)
    if creator.id not in people.organisers:
        raise SeedError(f"{where}: {creator.email} does not organise the forum (its convenors "
                        "and the partnership's officers schedule meetings)")
    meeting_format = _enum(MeetingFormat, entry["format"], where)
    joining_url = _text(entry.get("joining_url"))
    if meeting_format.is_online and not joining_url.startswith("https://"):
        raise SeedError(f"{where}: an online or hybrid meeting needs a joining_url starting "
                        "with https://")
    if not meeting_format.is_online and (joining_url or entry.get("joining_details")):
        raise SeedError(f"{where}: an in-person meeting has no joining link")
    capacity = entry.get("capacity")
    if capacity is not None:
        capacity = _count(capacity, "capacity", where, 1, 10_000)
    visibility = (_enum(Visibility, entry["visibility"], where) if entry.get("visibility")
                  else forum.visibility)
    start, end = _clock(entry["start"], "start", where), _clock(entry["end"], "end", where)
    if end <= start:
        raise SeedError(f"{where}: the end time must be after the start time")
    anchor = _anchor(partnership)
    values = {
        "title": _title(entry["title"], "title", where),
        "description": _text(entry.get("description")),
        "format": meeting_format,
        **_venue(entry, meeting_format, where),
        "joining_url": joining_url,
        "joining_details": _text(entry.get("joining_details")),
        "visibility": visibility,
        "created_by_id": creator.id,
    }
    return _Spec(forum, anchor, people, creator, start, end, capacity, values, where)


def _anchor(partnership: Partnership) -> _Anchor:
    return _Anchor(partnership.created_at, to_uk(partnership.created_at).date())


def _first_day(entry: dict[str, Any], spec: _Spec, where: str) -> date:
    """The meeting's UK day (the first of a series): from ``day``, or the first day
    whose agenda falls due on or after ``agenda_due_day``."""
    given = [key for key in ("day", "agenda_due_day") if entry.get(key) is not None]
    if len(given) != 1:
        raise SeedError(f"{where}: say when it is with one of day or agenda_due_day")
    weekday = None
    if entry.get("weekday") is not None:
        weekday = _WEEKDAYS.get(str(entry["weekday"]).lower())
        if weekday is None:
            raise SeedError(f"{where}: weekday should be one of {', '.join(_WEEKDAYS)}")
    anchor = spec.anchor
    if given[0] == "day":
        return _snap(anchor.day + timedelta(days=_whole(entry["day"], "day", where)), weekday)
    due_from = anchor.day + timedelta(
        days=_whole(entry["agenda_due_day"], "agenda_due_day", where))
    if due_from <= anchor.day:
        raise SeedError(f"{where}: agenda_due_day should be after the day the partnership "
                        "was loaded (1 or more)")
    day = anchor.day
    while True:
        day = _snap(day + timedelta(days=1), weekday)
        if is_working_day(day) and \
                latest_day_for_notice(day, spec.forum.notice_days) >= due_from:
            return day


def _scheduled_at(entry: dict[str, Any], spec: _Spec, starts_at: datetime,
                  where: str) -> datetime:
    """When the meeting (or series) was scheduled: ``scheduled_day``, or four weeks
    before it, but not before the forum started nor after the anchor."""
    if entry.get("scheduled_day") is not None:
        at = spec.anchor.past(entry, "scheduled_day", where)
        if at < spec.forum.created_at:
            raise SeedError(f"{where}: scheduled before the forum started")
    else:
        at = max(starts_at - timedelta(days=28), spec.forum.created_at + timedelta(hours=1))
        at = min(at, spec.anchor.moment - timedelta(hours=1))
    if at >= starts_at:
        raise SeedError(f"{where}: scheduled_day is after the meeting")
    return at


# --- One meeting ------------------------------------------------------------------------------


@dataclass
class _Meeting:
    """One meeting being loaded, with what its records need to check against."""

    row: Meeting
    spec: _Spec
    day: date
    record: dict[str, Any]
    ctx: SeedContext
    where: str

    @property
    def ended(self) -> bool:
        return self.row.ends_at <= self.spec.anchor.moment


def _status(m: _Meeting, scheduled: datetime) -> tuple[MeetingStatus, str, datetime | None]:
    record, where = m.record, m.where
    status = _enum(MeetingStatus, record.get("status", "scheduled"), where)
    reason = _text(record.get("status_reason"))
    if status is MeetingStatus.SCHEDULED:
        if reason or record.get("status_changed_day") is not None:
            raise SeedError(f"{where}: status_reason and status_changed_day go with a "
                            "cancelled or postponed meeting")
        return status, "", None
    if not reason:
        raise SeedError(f"{where}: a {status.value} meeting needs a status_reason "
                        "(everyone registered is told why)")
    changed = m.spec.anchor.past(record, "status_changed_day", where)
    if changed >= m.row.starts_at or changed < scheduled:
        raise SeedError(f"{where}: status_changed_day should be after the meeting was "
                        "scheduled and before it starts")
    return status, reason, changed


def _load_meeting(m: _Meeting, scheduled: datetime) -> None:
    """One meeting's status, agenda, requests, registrations and minutes."""
    meeting, record, where = m.row, m.record, m.where
    status, reason, changed = _status(m, scheduled)
    agenda = record.get("agenda") or {}
    if not isinstance(agenda, dict):
        raise SeedError(f"{where}: agenda should have items and, once published, "
                        "published_days_before")
    _check_fields(agenda, set(), {"items", "published_days_before"}, f"{where}: agenda")
    minutes = record.get("minutes")
    if minutes is not None:
        if not isinstance(minutes, dict):
            raise SeedError(f"{where}: minutes should have a summary, decisions and actions")
        _check_fields(minutes, set(), {"summary", "published_days_after", "decisions",
                                       "actions"}, f"{where}: minutes")
    if (minutes is not None or record.get("walk_ins")) and not (
            m.ended and status is MeetingStatus.SCHEDULED):
        raise SeedError(f"{where}: minutes and walk-ins belong to a meeting that has taken "
                        "place (ended before the day the partnership was loaded, "
                        "and not cancelled or postponed)")

    published = None
    if agenda.get("published_days_before") is not None:
        before = _count(agenda["published_days_before"], "published_days_before",
                        f"{where}: agenda", 0, 365)
        # Never published in the future: an agenda due after the anchor went out on it.
        published = min(_uk_moment(m.day - timedelta(days=before), _PUBLISHED_AT, where),
                        m.spec.anchor.moment)
        if published < scheduled:
            raise SeedError(f"{where}: the agenda was published before the meeting was "
                            "scheduled")
    _assign(meeting, status=status, status_reason=reason, status_changed_at=changed,
            changed_at=changed or scheduled)
    db.session.flush()

    items = _add_items(m, agenda.get("items"), minutes is not None, published or scheduled)
    if published is not None and not items:
        raise SeedError(f"{where}: an agenda is published with at least one item")
    notice_met = (None if published is None else
                  to_uk(published).date() <= latest_day_for_notice(
                      m.day, m.spec.forum.notice_days))
    _assign(meeting,
            agenda_status=AgendaStatus.PUBLISHED if published else AgendaStatus.DRAFT,
            agenda_published_at=published, notice_met=notice_met)

    _add_requests(m, items)
    _add_registrations(m)
    _add_minutes(m, minutes, items)
    db.session.flush()


# --- Agenda items and papers --------------------------------------------------------------------


def _item_values(m: _Meeting, item: dict[str, Any], iwhere: str,
                 with_minutes: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    _check_fields(item, set(), _ITEM_FIELDS, iwhere)
    standard = _enum(StandardItem, item["standard"], iwhere) if item.get("standard") else None
    title = _title(item.get("title") or (standard.title if standard else ""), "title", iwhere)
    presenter = presenter_org = None
    if item.get("presenter"):
        presenter = m.ctx.user(item["presenter"], iwhere)
        if presenter.id not in m.spec.people.insiders:
            raise SeedError(f"{iwhere}: {presenter.email} is not a member of the forum; "
                            "name a guest with presenter_name")
    if item.get("presenter_organisation"):
        presenter_org = m.ctx.organisation(item["presenter_organisation"], iwhere)
        if presenter_org.id not in m.spec.people.organisations:
            raise SeedError(f"{iwhere}: {presenter_org.slug} is not in the forum or the "
                            "partnership")
    allowed = item.get("minutes_allowed")
    if allowed is not None:
        allowed = _count(allowed, "minutes_allowed", iwhere, 1, 600)
    if item.get("minutes") and not with_minutes:
        raise SeedError(f"{iwhere}: item minutes go with the meeting's minutes section")
    papers = _entries(item.get("papers"), f"{iwhere}: papers")
    return {
        "title": title, "standard": standard,
        "presenter_id": presenter.id if presenter else None,
        "presenter_organisation_id": presenter_org.id if presenter_org else None,
        "presenter_name": " ".join(_text(item.get("presenter_name")).split()),
        "minutes_allowed": allowed, "notes": _text(item.get("notes")),
        "minutes": _text(item.get("minutes")),
    }, papers


def _add_items(m: _Meeting, section: Any, with_minutes: bool,
               papers_at: datetime) -> list[AgendaItem]:
    """The agenda in the file's order, each item with its papers."""
    meeting = m.row
    specs = [_item_values(m, item, f"{m.where}: agenda item {n}", with_minutes)
             for n, item in enumerate(_entries(section, f"{m.where}: agenda items"), 1)]
    rows: list[AgendaItem] = []
    for position, (values, _papers) in enumerate(specs, 1):
        row = AgendaItem(position=position, created_at=meeting.created_at, **values)
        meeting.items.append(row)
        rows.append(row)
    db.session.flush()
    for row, (_values, papers) in zip(rows, specs, strict=True):
        _add_papers(m, row, papers, max(meeting.created_at, papers_at - timedelta(hours=1)))
    m.ctx.count("agenda items", len(rows))
    return rows


def _add_papers(m: _Meeting, item: AgendaItem, papers: list[dict[str, Any]],
                at: datetime) -> None:
    titles: set[str] = set()
    subtitle = (f"{m.spec.forum.name} \u00b7 {m.row.title} \u00b7 {format_day(m.day)} "
                f"\u00b7 item {item.position}")
    for n, entry in enumerate(papers, 1):
        pwhere = f"{m.where}: item {item.position} paper {n}"
        _check_fields(entry, {"title", "filename", "text"}, set(), pwhere)
        title = _title(entry["title"], "title", pwhere)
        if title in titles:
            raise SeedError(f"{pwhere}: two papers of an item are called {title!r}")
        titles.add(title)
        filename = uploads.clean_filename(_text(entry["filename"]))
        if not filename.lower().endswith(".pdf"):
            raise SeedError(f"{pwhere}: demo papers are PDFs, so the filename ends in .pdf")
        data = demo_pdf(title, subtitle, _text(entry["text"]))
        stored_name, digest = _store(data)
        item.papers.append(Paper(
            title=title, original_filename=filename, stored_name=stored_name,
            content_type=uploads.FileKind.PDF.content_type, size_bytes=len(data),
            sha256=digest, uploaded_by_id=m.row.created_by_id, created_at=at))
        m.ctx.count("meeting papers")


def _item_at(items: list[AgendaItem], value: Any, where: str) -> AgendaItem | None:
    if value is None:
        return None
    number = _count(value, "item", where, 1, 1000)
    if number > len(items):
        raise SeedError(f"{where}: item {number} is not on the agenda")
    return items[number - 1]


# --- Requests for agenda items ----------------------------------------------------------------


def _add_requests(m: _Meeting, items: list[AgendaItem]) -> None:
    listed: set[tuple[int, str]] = set()
    for n, entry in enumerate(_entries(m.record.get("requests"), f"{m.where}: requests"), 1):
        rwhere = f"{m.where}: request {n}"
        _check_fields(entry, {"by", "title", "reason", "day"},
                      {"presenter", "status", "decision_reason", "decided_day", "item"}, rwhere)
        person = m.ctx.user(entry["by"], rwhere)
        if person.id not in m.spec.people.insiders:
            raise SeedError(f"{rwhere}: only members of the forum ask for agenda items")
        title = _title(entry["title"], "title", rwhere)
        asked = m.spec.anchor.past(entry, "day", rwhere)
        if not m.row.created_at <= asked < m.row.starts_at:
            raise SeedError(f"{rwhere}: should be asked after the meeting was scheduled "
                            "and before it starts")
        status = _enum(ItemRequestStatus, entry.get("status", "pending"), rwhere)
        reason = _text(entry.get("decision_reason"))
        decided = item = None
        if status in (ItemRequestStatus.ACCEPTED, ItemRequestStatus.DECLINED):
            decided = m.spec.anchor.past(entry, "decided_day", rwhere)
            if decided < asked:
                raise SeedError(f"{rwhere}: decided before it was asked")
        if status is ItemRequestStatus.DECLINED and not reason:
            raise SeedError(f"{rwhere}: a declined request says why (decision_reason)")
        if status is ItemRequestStatus.ACCEPTED:
            item = _item_at(items, entry.get("item"), rwhere)
            if item is None:
                raise SeedError(f"{rwhere}: an accepted request names its agenda item")
        elif entry.get("item") is not None or (
                status is not ItemRequestStatus.DECLINED and reason):
            raise SeedError(f"{rwhere}: item goes with an accepted request, decision_reason "
                            "with a declined one")
        if (person.id, title) in listed:
            raise SeedError(f"{rwhere}: listed twice")
        listed.add((person.id, title))
        db.session.add(ItemRequest(
            meeting_id=m.row.id, requested_by_id=person.id, title=title,
            reason=_text(entry["reason"]),
            presenter=" ".join(_text(entry.get("presenter")).split()), status=status,
            decision_reason=reason, decided_at=decided,
            decided_by_id=m.row.created_by_id if decided else None,
            item_id=item.id if item else None, created_at=asked))
        m.ctx.count("agenda item requests")


# --- Registrations, the waiting list and attendance ---------------------------------------------


def _add_registrations(m: _Meeting) -> None:
    meeting = m.row
    listed: set[int] = set()
    entries = _entries(m.record.get("registrations"), f"{m.where}: registrations")
    if len(entries) > 50:
        raise SeedError(f"{m.where}: at most 50 registrations a meeting in the demo")
    default_base = min(meeting.created_at + timedelta(days=1),
                       m.spec.anchor.moment - timedelta(hours=1))
    holding = waiting = 0
    for n, entry in enumerate(entries):
        rwhere = f"{m.where}: registration {entry.get('email', '?')}"
        _check_fields(entry, {"email", "response"}, {"organisation", "status",
                      "access_requirements", "registered_day", "attendance"}, rwhere)
        person = m.ctx.user(entry["email"], rwhere)
        if person.id in listed:
            raise SeedError(f"{rwhere}: listed twice")
        listed.add(person.id)
        if not meeting.is_public and person.id not in m.spec.people.insiders:
            raise SeedError(f"{rwhere}: the meeting is for members of the forum only")
        response = _enum(Response, entry["response"], rwhere)
        if response not in answers_for(meeting):
            raise SeedError(f"{rwhere}: {response.value} is not an answer to a "
                            f"{meeting.format.value} meeting")
        org = None
        if entry.get("organisation"):
            org = m.ctx.organisation(entry["organisation"], rwhere)
            if not _belongs(person, org.id):
                raise SeedError(f"{rwhere}: {person.email} does not belong to {org.slug}")
        status = _enum(RegistrationStatus, entry.get("status", "confirmed"), rwhere)
        holds = status is RegistrationStatus.CONFIRMED and takes_place(meeting, response)
        if status is RegistrationStatus.WAITING:
            if not takes_place(meeting, response) or m.spec.capacity is None:
                raise SeedError(f"{rwhere}: only an answer that takes a place at a meeting "
                                "with a capacity waits")
            waiting += 1
        holding += holds
        base = (m.spec.anchor.past(entry, "registered_day", rwhere) - timedelta(hours=1)
                if entry.get("registered_day") is not None else default_base)
        registered = base + timedelta(minutes=n)  # the file's order breaks ties
        if registered >= meeting.starts_at or registered < meeting.created_at:
            raise SeedError(f"{rwhere}: should be registered after the meeting was "
                            "scheduled and before it starts")
        attendance = None
        if entry.get("attendance") is not None:
            if not m.ended or meeting.status is not MeetingStatus.SCHEDULED:
                raise SeedError(f"{rwhere}: attendance is recorded once the meeting has "
                                "taken place")
            attendance = _enum(Attendance, entry["attendance"], rwhere)
        db.session.add(Registration(
            meeting_id=meeting.id, user_id=person.id, organisation_id=org.id if org else None,
            response=response, status=status, holds_place=holds,
            access_requirements=_text(entry.get("access_requirements")),
            waiting_since=registered if status is RegistrationStatus.WAITING else None,
            attendance=attendance, created_at=registered))
        m.ctx.count("meeting registrations")

    named: set[str] = set()
    for entry in _entries(m.record.get("walk_ins"), f"{m.where}: walk_ins"):
        wwhere = f"{m.where}: walk-in {entry.get('name', '?')}"
        _check_fields(entry, {"name"}, {"organisation"}, wwhere)
        name = _title(entry["name"], "name", wwhere)
        if name in named:
            raise SeedError(f"{wwhere}: listed twice")
        named.add(name)
        db.session.add(Registration(
            meeting_id=meeting.id, user_id=None, walk_in_name=name,
            walk_in_organisation=" ".join(_text(entry.get("organisation")).split()),
            response=Response.IN_PERSON, status=RegistrationStatus.CONFIRMED,
            holds_place=False, attendance=Attendance.PRESENT, created_at=meeting.ends_at))
        m.ctx.count("meeting registrations")
    db.session.flush()

    capacity = m.spec.capacity
    if capacity is not None and holding > capacity:
        raise SeedError(f"{m.where}: {holding} places taken for a capacity of "
                        f"{capacity}: never overbook")
    if waiting and holding != capacity:
        raise SeedError(f"{m.where}: people wait only when every place is taken "
                        f"({holding} of {capacity})")
    _assign(meeting, places_taken=holding, capacity=capacity)


# --- Minutes, decisions and actions --------------------------------------------------------------


def _add_minutes(m: _Meeting, minutes: dict[str, Any] | None,
                  items: list[AgendaItem]) -> None:
    meeting = m.row
    minutes = minutes or {}
    where = f"{m.where}: minutes"
    recorded = min(meeting.ends_at + timedelta(hours=2), m.spec.anchor.moment)
    published = None
    if minutes.get("published_days_after") is not None:
        after = _count(minutes["published_days_after"], "published_days_after", where, 0, 365)
        published = min(_uk_moment(to_uk(meeting.ends_at).date() + timedelta(days=after),
                                   _MINUTES_AT, where), m.spec.anchor.moment)
        published = max(published, recorded)
    if not m.record.get("minutes") and m.record.get("minutes") is not None:
        raise SeedError(f"{where}: leave minutes out until there are some")
    status = (MinutesStatus.NONE if m.record.get("minutes") is None
              else MinutesStatus.PUBLISHED if published else MinutesStatus.DRAFT)
    _assign(meeting, minutes_status=status, minutes_summary=_text(minutes.get("summary")),
            minutes_published_at=published)

    decisions = []
    for n, entry in enumerate(_entries(minutes.get("decisions"), f"{where}: decisions"), 1):
        dwhere = f"{where}: decision {n}"
        _check_fields(entry, {"text"}, {"item"}, dwhere)
        decisions.append((_text(entry["text"]), _item_at(items, entry.get("item"), dwhere)))
    db.session.add_all(
        Decision(meeting_id=meeting.id, text=text, item_id=item.id if item else None,
                 created_by_id=meeting.created_by_id, created_at=recorded)
        for text, item in decisions)
    m.ctx.count("decisions", len(decisions))

    specs = [_action_spec(m, entry, items, recorded, f"{where}: action {n}")
             for n, entry in enumerate(_entries(minutes.get("actions"), f"{where}: actions"),
                                       1)]
    for spec in specs:
        updates = spec.pop("updates")
        action = ActionItem(meeting_id=meeting.id, forum_id=meeting.forum_id,
                            created_by_id=meeting.created_by_id, created_at=recorded, **spec)
        action.updates.extend(
            ActionUpdate(body=body, status=status, created_by_id=by, created_at=at)
            for body, status, by, at in updates)
        db.session.add(action)
    m.ctx.count("actions", len(specs))


def _action_spec(m: _Meeting, entry: dict[str, Any], items: list[AgendaItem],
                 recorded: datetime, where: str) -> dict[str, Any]:
    _check_fields(entry, {"description"},
                  {"owner", "owner_organisation", "item", "due_day", "status", "updates"}, where)
    owner = owner_org = None
    if entry.get("owner"):
        owner = m.ctx.user(entry["owner"], where)
        if owner.id not in m.spec.people.members:
            raise SeedError(f"{where}: {owner.email} is not a member of the forum")
    if entry.get("owner_organisation"):
        owner_org = m.ctx.organisation(entry["owner_organisation"], where)
        if owner_org.id not in m.spec.people.organisations:
            raise SeedError(f"{where}: {owner_org.slug} is not in the forum or the partnership")
    if owner is None and owner_org is None:
        raise SeedError(f"{where}: an action has an owner, an owner_organisation or both")
    due = None
    if entry.get("due_day") is not None:
        due = m.spec.anchor.day + timedelta(days=_whole(entry["due_day"], "due_day", where))
    status = _enum(ActionStatus, entry.get("status", "open"), where)
    updates = []
    for n, item in enumerate(_entries(entry.get("updates"), f"{where}: updates"), 1):
        uwhere = f"{where}: update {n}"
        _check_fields(item, {"by", "day", "status"}, {"body"}, uwhere)
        by = m.ctx.user(item["by"], uwhere)
        if not (by.id == (owner.id if owner else None) or by.id in m.spec.people.organisers
                or (owner_org is not None and _belongs(by, owner_org.id))):
            raise SeedError(f"{uwhere}: {by.email} cannot update this action")
        at = m.spec.anchor.past(item, "day", uwhere)
        if at < recorded or (updates and at < updates[-1][3]):
            raise SeedError(f"{uwhere}: written before the action was recorded or before "
                            "the update above it")
        updates.append((_text(item.get("body")), _enum(ActionStatus, item["status"], uwhere),
                        by.id, at))
    final = updates[-1][1] if updates else ActionStatus.OPEN
    if final is not status:
        raise SeedError(f"{where}: the status is {status.value} but the last update says "
                        f"{final.value} (a {status.value} action is closed by an update)")
    item_row = _item_at(items, entry.get("item"), where)
    return {"description": _text(entry["description"]), "owner_id": owner.id if owner else None,
            "owner_organisation_id": owner_org.id if owner_org else None,
            "item_id": item_row.id if item_row else None, "due_date": due, "status": status,
            "updates": updates}


# --- Entries: one meeting, or a series -----------------------------------------------------------


@dataclass
class _State:
    """Across the section: each forum's people, and what was loaded (to spot duplicates)."""

    people: dict[int, _People]
    meetings: set[tuple[int, str, date]]  # forum, title, UK day
    series: set[tuple[int, RecurrenceKind, date]]  # forum, kind, first day


def _occurrences(entry: dict[str, Any], spec: _Spec, first: date,
                 where: str) -> tuple[dict[str, Any], list[date]]:
    rule = entry["series"]
    swhere = f"{where}: series"
    if not isinstance(rule, dict):
        raise SeedError(f"{swhere}: expected kind and count or until_day")
    _check_fields(rule, {"kind"}, {"count", "until_day", "interval_weeks"}, swhere)
    kind = _enum(RecurrenceKind, rule["kind"], swhere)
    interval = None
    if kind is RecurrenceKind.EVERY_N_WEEKS:
        interval = _count(rule.get("interval_weeks"), "interval_weeks", swhere, 1, 12)
    elif rule.get("interval_weeks") is not None:
        raise SeedError(f"{swhere}: interval_weeks goes with every_n_weeks")
    count = (_count(rule["count"], "count", swhere, 2, series_rules.MAX_OCCURRENCES)
             if rule.get("count") is not None else None)
    until = (spec.anchor.day + timedelta(days=_whole(rule["until_day"], "until_day", swhere))
             if rule.get("until_day") is not None else None)
    if count is None and until is None:
        raise SeedError(f"{swhere}: a series ends: give count or until_day")
    days = series_rules.occurrence_dates(kind, first, interval_weeks=interval, until=until,
                                         count=count)
    if len(days) < 2:
        raise SeedError(f"{swhere}: a series has at least two meetings")
    return {"kind": kind, "interval_weeks": interval, "first_date": first,
            "local_start": spec.start, "local_end": spec.end, "until": until,
            "count": count}, days


def _load_entry(entry: dict[str, Any], ctx: SeedContext, state: _State) -> None:
    where = f"meetings: {entry.get('forum', '?')} {entry.get('title', '?')!r}"
    _check_fields(entry, _REQUIRED, _OPTIONAL, where)
    spec = _spec(entry, ctx, state.people, where)
    first = _first_day(entry, spec, where)
    where = f"{where} on {first.isoformat()}"
    if entry.get("series") is None:
        if entry.get("occurrences") is not None:
            raise SeedError(f"{where}: occurrences go with a series")
        starts_at = _uk_moment(first, spec.start, where)
        scheduled = _scheduled_at(entry, spec, starts_at, where)
        plan = [(first, entry, None, where)]
    else:
        stray = sorted(key for key in _RECORD if entry.get(key) is not None)
        if stray:
            raise SeedError(f"{where}: in a series, {', '.join(stray)} go under occurrences "
                            "(with the occurrence's number)")
        rule, days = _occurrences(entry, spec, first, where)
        scheduled = _scheduled_at(entry, spec, _uk_moment(first, spec.start, where), where)
        key = (spec.forum.id, rule["kind"], first)
        if key in state.series:
            raise SeedError(f"{where}: listed twice")
        state.series.add(key)
        series = MeetingSeries(forum_id=spec.forum.id, created_by_id=spec.creator.id,
                               created_at=scheduled, **rule)
        db.session.add(series)
        db.session.flush()
        ctx.count("meeting series")
        records: dict[int, dict[str, Any]] = {}
        for item in _entries(entry.get("occurrences"), f"{where}: occurrences"):
            owhere = f"{where}: occurrence {item.get('number', '?')}"
            _check_fields(item, {"number"}, _RECORD, owhere)
            number = _count(item["number"], "number", owhere, 1, len(days))
            if number in records:
                raise SeedError(f"{owhere}: listed twice")
            records[number] = item
        plan = [(day, records.get(n, {}), series,
                 f"{where}: occurrence {n} ({day.isoformat()})")
                for n, day in enumerate(days, 1)]

    for day, record, series, mwhere in plan:
        key = (spec.forum.id, spec.values["title"], day)
        if series is None and key in state.meetings:
            raise SeedError(f"{mwhere}: listed twice")
        state.meetings.add(key)
        row = Meeting(forum_id=spec.forum.id, starts_at=_uk_moment(day, spec.start, mwhere),
                      ends_at=_uk_moment(day, spec.end, mwhere), created_at=scheduled,
                      changed_at=scheduled, places_taken=0, sequence=0,
                      series_id=series.id if series else None,
                      occurrence_date=day if series else None, **spec.values)
        db.session.add(row)
        db.session.flush()
        _load_meeting(_Meeting(row, spec, day, record, ctx, mwhere), scheduled)
        ctx.count("meetings")


_COUNTED = ("meetings", "meeting series", "agenda items", "meeting papers",
            "agenda item requests", "meeting registrations", "decisions", "actions")


def load_meetings(section: Any, ctx: SeedContext) -> None:
    state = _State(people={}, meetings=set(), series=set())
    entries = _entries(section, "meetings")
    for what in _COUNTED if entries else ():
        ctx.counts.setdefault(what, 0)  # the summary lists them in this order
    for entry in entries:
        _load_entry(entry, ctx, state)
    db.session.flush()
    db.session.flush()
