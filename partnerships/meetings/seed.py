"""The ``meetings`` section of the demo (``flask seed demo``): meetings of the demo
forums, and of a partnership itself (an entry without ``forum``: its board), with their
agendas and papers, item requests, registrations and waiting lists,
attendance, minutes, decisions and actions.

Each step is the meetings service an organiser or member would use, run as the person
the file names inside ``clock.at`` the moment it happened (see ``partnerships/seed.py``):
the organiser (``created_by``) schedules, builds and publishes the agenda, decides
requests, records the meeting and publishes the minutes; members ask for items,
register and update their actions. So the services' rules hold (a place only while
there is one, then the waiting list; attendance and minutes once the meeting has
taken place), and this module checks only the file's shape.

- **Times count from loading.** A meeting's ``day`` is a whole number of days from the
  day of loading (``day: -42`` is six weeks before it), and ``weekday: thursday``
  moves it on to the next Thursday (to the next working day if that is a bank
  holiday). ``agenda_due_day: 2`` instead picks the first working day whose agenda is
  due (the forum's notice, in clear working days) two or more days after it, so a
  fresh demo always has an agenda due within a few days. ``start`` and ``end`` are UK
  wall-clock times. It was scheduled ``scheduled_day`` (or four weeks before it, not
  before the forum started); agendas go out at 09:00 ``published_days_before`` the
  meeting and minutes at 10:00 ``published_days_after`` it (never after loading).
- **Papers are real files.** Each paper is a small PDF written here (its title, the
  meeting and the text; nothing depends on when it was made), stored under a name
  from its SHA-256 (``factories.meetings.paper``).
"""

from __future__ import annotations

import calendar
import textwrap
from datetime import date, datetime, time, timedelta
from typing import Any

from .. import clock
from ..factories import meetings as meeting_factory
from ..forums.models import Forum, Visibility
from ..partnership.models import Partnership
from ..seed import (
    SeedContext,
    SeedError,
    check_fields,
    entries,
    enum,
    refused_as_seed_error,
    text,
)
from ..timeutil import format_day, is_working_day, latest_day_for_notice, to_uk, uk_local_to_utc
from . import agenda, records, scheduling
from .models import (
    ActionStatus,
    Attendance,
    ItemRequestStatus,
    Meeting,
    MeetingFormat,
    MeetingStatus,
    RecurrenceKind,
    Response,
    StandardItem,
)

_REQUIRED = {"partnership", "title", "start", "end", "format", "created_by"}
_RECORD = {"status", "status_reason", "status_changed_day", "agenda", "requests",
           "registrations", "walk_ins", "minutes"}
_OPTIONAL = {"forum", "day", "agenda_due_day", "weekday", "description", "venue", "joining_url",
             "joining_details", "capacity", "visibility", "scheduled_day", "series",
             "occurrences"} | _RECORD
_VENUE = {"name": "venue_name", "address": "venue_address", "step_free_access":
          "step_free_access", "hearing_loop": "hearing_loop", "parking": "parking",
          "public_transport": "public_transport", "access_notes": "access_notes"}
_ITEM_FIELDS = {"standard", "title", "presenter", "presenter_organisation", "presenter_name",
                "minutes_allowed", "notes", "papers", "minutes"}
_WEEKDAYS = {name.lower(): number for number, name in enumerate(calendar.day_name)}
_COUNTED = ("meetings", "meeting series", "agenda items", "meeting papers",
            "agenda item requests", "meeting registrations", "decisions", "actions")


def _whole(entry: dict[str, Any], key: str, where: str) -> int:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SeedError(f"{where}: {key} should be a whole number of days from the day of "
                        "loading (negative for before it)")
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


def _snap(day: date, weekday: int | None) -> date:
    """On to the next ``weekday`` (the day itself if it is one) and, if that is a bank
    holiday, on to the next working day (as an organiser would move it)."""
    if weekday is None:
        return day
    day += timedelta(days=(weekday - day.weekday()) % 7)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def _first_day(entry: dict[str, Any], forum: Forum | Partnership, today: date,
               where: str) -> date:
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
    if given[0] == "day":
        return _snap(today + timedelta(days=_whole(entry, "day", where)), weekday)
    due_from = today + timedelta(days=_whole(entry, "agenda_due_day", where))
    day = today
    while True:
        day = _snap(day + timedelta(days=1), weekday)
        if is_working_day(day) and latest_day_for_notice(day, forum.notice_days) >= due_from:
            return day


def _moment(ctx: SeedContext, entry: dict[str, Any], key: str, where: str) -> datetime:
    """The moment of loading plus ``entry[key]`` days."""
    return ctx.now + timedelta(days=_whole(entry, key, where))


def _recurrence(rule: Any, today: date, where: str) -> scheduling.Recurrence | None:
    if rule is None:
        return None
    if not isinstance(rule, dict):
        raise SeedError(f"{where}: series: expected kind and count or until_day")
    check_fields(rule, {"kind"}, {"count", "until_day", "interval_weeks"}, f"{where}: series")
    return scheduling.Recurrence(
        kind=enum(RecurrenceKind, rule["kind"], where), interval_weeks=rule.get("interval_weeks"),
        count=rule.get("count"),
        until=(today + timedelta(days=_whole(rule, "until_day", where))
               if rule.get("until_day") is not None else None))


# --- One entry: a meeting, or a series -----------------------------------------------------------


def _load_entry(entry: dict[str, Any], ctx: SeedContext) -> None:
    where = f"meetings: {entry.get('forum', entry.get('partnership'))} {entry.get('title', '?')!r}"
    check_fields(entry, _REQUIRED, _OPTIONAL, where)
    # The host: a forum, or the partnership itself for its own meetings (its board).
    forum: Forum | Partnership = (
        ctx.forum(entry["partnership"], entry["forum"], where) if entry.get("forum")
        else ctx.partnership(entry["partnership"], where))
    organiser = ctx.user(entry["created_by"], where)
    today = to_uk(ctx.now).date()
    first = _first_day(entry, forum, today, where)
    where = f"{where} on {first.isoformat()}"
    start, end = _clock(entry["start"], "start", where), _clock(entry["end"], "end", where)
    if entry.get("scheduled_day") is not None:
        scheduled = _moment(ctx, entry, "scheduled_day", where)
    else:
        scheduled = min(max(uk_local_to_utc(first, start) - timedelta(days=28),
                            forum.created_at + timedelta(hours=1)), ctx.now - timedelta(hours=1))
    venue = entry.get("venue") or {}
    if not isinstance(venue, dict):
        raise SeedError(f"{where}: venue should have a name and an address")
    check_fields(venue, set(), set(_VENUE), f"{where}: venue")
    recurrence = _recurrence(entry.get("series"), today, where)
    with clock.at(scheduled):
        meetings = meeting_factory.meeting(
            forum, text(entry["title"]), day=first, start=start, end=end, by=organiser,
            format=enum(MeetingFormat, entry["format"], where),
            visibility=enum(Visibility, entry["visibility"], where)
            if entry.get("visibility") else None,
            recurrence=recurrence, description=text(entry.get("description")),
            joining_url=text(entry.get("joining_url")),
            joining_details=text(entry.get("joining_details")), capacity=entry.get("capacity"),
            **{"venue_name": "", "venue_address": "",
               **{_VENUE[key]: text(value) if isinstance(value, str) else value
                  for key, value in venue.items()}})
    ctx.count("meetings", len(meetings))
    if recurrence is None:
        plan = {1: entry}
    else:
        ctx.count("meeting series")
        stray = sorted(key for key in _RECORD if entry.get(key) is not None)
        if stray:
            raise SeedError(f"{where}: in a series, {', '.join(stray)} go under occurrences")
        plan = {}
        for item in entries(entry.get("occurrences"), f"{where}: occurrences"):
            check_fields(item, {"number"}, _RECORD, f"{where}: occurrence")
            plan[item["number"]] = item
    for number, meeting in enumerate(meetings, 1):
        if number in plan:
            _load_record(meeting, plan[number], organiser, ctx, scheduled,
                         f"{where}: occurrence {number}" if recurrence else where)


def _load_record(meeting: Meeting, record: dict[str, Any], organiser: Any, ctx: SeedContext,
                 scheduled: datetime, where: str) -> None:
    """What happened to one meeting, each step at its own moment."""
    day = to_uk(meeting.starts_at).date()
    plan = record.get("agenda") or {}
    check_fields(plan, set(), {"items", "published_days_before"}, f"{where}: agenda")
    published = None
    if plan.get("published_days_before") is not None:
        before = timedelta(days=_whole(plan, "published_days_before", where))
        published = min(uk_local_to_utc(day - before, time(9, 0)), ctx.now)
    with clock.at(max(scheduled, (published or scheduled) - timedelta(hours=1))):
        items = [_add_item(meeting, item, organiser, ctx, f"{where}: agenda item {n}")
                 for n, item in enumerate(entries(plan.get("items"), f"{where}: items"), 1)]
    _add_requests(meeting, record, organiser, items, ctx, where)
    if published is not None:
        with clock.at(published):
            agenda.publish(organiser, meeting)
    registered = _add_registrations(meeting, record, scheduled, ctx, where)

    status = enum(MeetingStatus, record.get("status", "scheduled"), where)
    if status is not MeetingStatus.SCHEDULED:
        change = scheduling.cancel if status is MeetingStatus.CANCELLED else scheduling.postpone
        with clock.at(_moment(ctx, record, "status_changed_day", where)):
            change(organiser, meeting, text(record.get("status_reason")))

    minutes = record.get("minutes")
    marks = {str(row.id): enum(Attendance, item["attendance"], where)
             for row, item in registered if item.get("attendance") is not None}
    walk_ins = entries(record.get("walk_ins"), f"{where}: walk_ins")
    if minutes is None and not marks and not walk_ins:
        return
    recorded = min(meeting.ends_at + timedelta(hours=2), ctx.now)
    minutes = minutes or {}
    check_fields(minutes, set(), {"summary", "published_days_after", "decisions", "actions"},
                 f"{where}: minutes")
    with clock.at(recorded):
        if marks:
            records.record_attendance(organiser, meeting, marks)
        for item in walk_ins:
            check_fields(item, {"name"}, {"organisation"}, f"{where}: walk-in")
            records.add_walk_in(organiser, meeting, text(item["name"]),
                                text(item.get("organisation")))
            ctx.count("meeting registrations")
        if record.get("minutes") is not None:
            records.save_minutes(organiser, meeting, text(minutes.get("summary")),
                                 {row.id: text(item.get("minutes")) for row, item in items})
        for n, item in enumerate(entries(minutes.get("decisions"), f"{where}: decisions"), 1):
            check_fields(item, {"text"}, {"item"}, f"{where}: decision {n}")
            records.add_decision(organiser, meeting, text(item["text"]),
                                 _item_id(items, item, where))
            ctx.count("decisions")
        actions = [_add_action(meeting, item, organiser, items, ctx, f"{where}: action {n}")
                   for n, item in enumerate(entries(minutes.get("actions"), f"{where}: actions"),
                                            1)]
    if minutes.get("published_days_after") is not None:
        after = timedelta(days=_whole(minutes, "published_days_after", where))
        at = uk_local_to_utc(to_uk(meeting.ends_at).date() + after, time(10, 0))
        with clock.at(max(min(at, ctx.now), recorded)):
            records.publish_minutes(organiser, meeting, agenda_confirmed=True)
    for action, updates in actions:
        for n, item in enumerate(updates, 1):
            uwhere = f"{where}: action update {n}"
            check_fields(item, {"by", "day", "status"}, {"body"}, uwhere)
            with clock.at(_moment(ctx, item, "day", uwhere)):
                records.update_action(ctx.user(item["by"], uwhere), action,
                                      text(item.get("body")),
                                      enum(ActionStatus, item["status"], uwhere))


# --- Agenda items, papers and requests ----------------------------------------------------------


def _add_item(meeting: Meeting, item: dict[str, Any], organiser: Any, ctx: SeedContext,
              where: str) -> tuple[Any, dict[str, Any]]:
    check_fields(item, set(), _ITEM_FIELDS, where)
    standard = enum(StandardItem, item["standard"], where) if item.get("standard") else None
    presenter = ctx.user(item["presenter"], where) if item.get("presenter") else None
    presenter_org = (ctx.organisation(item["presenter_organisation"], where)
                     if item.get("presenter_organisation") else None)
    row = agenda.add_item(organiser, meeting, agenda.ItemDetails(
        title=text(item.get("title")) or (standard.title if standard else ""),
        presenter_id=presenter.id if presenter else None,
        presenter_organisation_id=presenter_org.id if presenter_org else None,
        presenter_name=text(item.get("presenter_name")),
        minutes_allowed=item.get("minutes_allowed"), notes=text(item.get("notes"))),
        standard=standard)
    ctx.count("agenda items")
    subtitle = (f"{meeting.host_name} \u00b7 {meeting.title} \u00b7 "
                f"{format_day(to_uk(meeting.starts_at).date())} \u00b7 item {row.position}")
    for paper in entries(item.get("papers"), f"{where}: papers"):
        check_fields(paper, {"title", "filename", "text"}, set(), f"{where}: paper")
        title = text(paper["title"])
        meeting_factory.paper(row, title, text(paper["filename"]),
                              demo_pdf(title, subtitle, text(paper["text"])), by=organiser)
        ctx.count("meeting papers")
    return row, item


def _item_id(items: list[tuple[Any, dict[str, Any]]], entry: dict[str, Any],
             where: str) -> int | None:
    number = entry.get("item")
    if number is None:
        return None
    if not isinstance(number, int) or not 1 <= number <= len(items):
        raise SeedError(f"{where}: item {number!r} is not on the agenda")
    return int(items[number - 1][0].id)


def _add_requests(meeting: Meeting, record: dict[str, Any], organiser: Any,
                  items: list[Any], ctx: SeedContext, where: str) -> None:
    for n, entry in enumerate(entries(record.get("requests"), f"{where}: requests"), 1):
        rwhere = f"{where}: request {n}"
        check_fields(entry, {"by", "title", "reason", "day"},
                     {"presenter", "status", "decision_reason", "decided_day"}, rwhere)
        with clock.at(_moment(ctx, entry, "day", rwhere)):
            request = agenda.request_item(ctx.user(entry["by"], rwhere), meeting,
                                          agenda.RequestDetails(
                                              title=text(entry["title"]),
                                              reason=text(entry["reason"]),
                                              presenter=text(entry.get("presenter"))))
        status = enum(ItemRequestStatus, entry.get("status", "pending"), rwhere)
        if status is not ItemRequestStatus.PENDING:
            with clock.at(_moment(ctx, entry, "decided_day", rwhere)):
                if status is ItemRequestStatus.ACCEPTED:
                    items.append((agenda.accept_request(organiser, request), {}))
                else:
                    agenda.decline_request(organiser, request,
                                           text(entry.get("decision_reason")))
        ctx.count("agenda item requests")


# --- Registrations and actions ------------------------------------------------------------------


def _add_registrations(meeting: Meeting, record: dict[str, Any], scheduled: datetime,
                       ctx: SeedContext, where: str) -> list[tuple[Any, dict[str, Any]]]:
    """Each answer a minute apart, in the file's order, a day after scheduling or on
    ``registered_day``."""
    done = []
    default = min(scheduled + timedelta(days=1), ctx.now - timedelta(hours=1))
    for n, entry in enumerate(entries(record.get("registrations"),
                                      f"{where}: registrations")):
        rwhere = f"{where}: registration {entry.get('email', '?')}"
        check_fields(entry, {"email", "response"},
                     {"organisation", "access_requirements", "registered_day", "attendance"},
                     rwhere)
        base = (_moment(ctx, entry, "registered_day", rwhere) - timedelta(hours=1)
                if entry.get("registered_day") is not None else default)
        with clock.at(base + timedelta(minutes=n)):
            row = meeting_factory.registration(
                meeting, ctx.user(entry["email"], rwhere),
                enum(Response, entry["response"], rwhere),
                organisation=(ctx.organisation(entry["organisation"], rwhere)
                              if entry.get("organisation") else None),
                access_requirements=text(entry.get("access_requirements")))
        done.append((row, entry))
        ctx.count("meeting registrations")
    return done


def _add_action(meeting: Meeting, entry: dict[str, Any], organiser: Any,
                items: list[tuple[Any, dict[str, Any]]], ctx: SeedContext,
                where: str) -> tuple[Any, list[dict[str, Any]]]:
    check_fields(entry, {"description"},
                 {"owner", "owner_organisation", "item", "due_day", "updates"}, where)
    owner = ctx.user(entry["owner"], where) if entry.get("owner") else None
    org = (ctx.organisation(entry["owner_organisation"], where)
           if entry.get("owner_organisation") else None)
    action = records.add_action(organiser, meeting, records.ActionDetails(
        description=text(entry["description"]), owner_id=owner.id if owner else None,
        owner_organisation_id=org.id if org else None, item_id=_item_id(items, entry, where),
        due_date=(to_uk(ctx.now).date() + timedelta(days=_whole(entry, "due_day", where))
                  if entry.get("due_day") is not None else None)))
    ctx.count("actions")
    return action, entries(entry.get("updates"), f"{where}: updates")


def load_meetings(section: Any, ctx: SeedContext) -> None:
    found = entries(section, "meetings")
    for what in _COUNTED if found else ():
        ctx.counts.setdefault(what, 0)  # the summary lists them in this order
    for entry in found:
        where = (f"meetings: {entry.get('forum', entry.get('partnership'))} "
                 f"{entry.get('title', '?')!r}")
        with refused_as_seed_error(where):
            _load_entry(entry, ctx)


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
