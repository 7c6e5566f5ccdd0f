"""Meetings as iCalendar (RFC 5545): one meeting's download and the feeds.

Choices, each made because a calendar app got it wrong elsewhere:

* Every occurrence of a series is its own ``Meeting`` row, so it is sent as its own
  VEVENT (no RRULE): a moved occurrence is the same UID with a higher SEQUENCE, a
  cancelled one is ``STATUS:CANCELLED``. Nothing depends on how a client applies
  RECURRENCE-ID overrides or EXDATEs, which is where Google, Outlook and Apple differ.
* The UID is ``meeting-<id>@<host>``, the same in the download and in every feed, with
  a host from configuration (``CALENDAR_UID_HOST``, else the host of ``BASE_URL``), so
  it never changes with the address a calendar happened to use.
* One fixed VTIMEZONE for Europe/London built from RRULEs (last Sunday of March and of
  October) in every file, even an empty one; every DTSTART and DTEND carries
  ``TZID=Europe/London``. The RDATE-list form that icalendar's
  ``add_missing_timezones`` writes is never used: Outlook desktop ignores RDATE and
  ical.js reads only its first value, so meetings after a clock change came out an
  hour wrong.
* DTSTAMP and LAST-MODIFIED are the meeting's ``changed_at`` and SEQUENCE its stored
  ``sequence``, so the bytes only change when the meeting does (strong ETags, 304s).
* No ORGANIZER or ATTENDEE (no e-mail addresses at all); DESCRIPTION is plain text.
  The joining link goes into DESCRIPTION only when the caller says this audience may
  see it (``permissions.can_see_joining_link``); public feeds never carry it.

Content lines are written here, not by icalendar's ``Component.to_ical``: that folds
every line character by character and made a 1,000-meeting feed cost most of a
second; this costs a tenth of that. icalendar's ``vText`` still does the TEXT escaping,
and the tests read every file back with icalendar and ical.js. Lines end in CRLF and
are folded at 75 octets, never inside a UTF-8 character (nor, as icalendar does, just
after the backslash of an escape).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import current_app, url_for
from icalendar import vText

from ..timeutil import LONDON
from .models import Meeting, MeetingStatus

PRODID = "-//Local Partnerships//Meetings//EN"
TZID = "Europe/London"
# How often feed readers should come back (REFRESH-INTERVAL and X-PUBLISHED-TTL).
REFRESH_TEXT = "PT4H"
LINE_OCTETS = 75

# Europe/London since 1996 (EU rules): BST from 01:00 UTC on the last Sunday of March
# (01:00 local GMT) to 01:00 UTC on the last Sunday of October (02:00 local BST).
# DTSTART is a first onset of each rule, in the local time it starts from (RFC 5545
# 3.6.5); 1970 as Outlook's and Mozilla's own definitions do.
LONDON_VTIMEZONE = (
    "BEGIN:VTIMEZONE\r\n"
    "TZID:Europe/London\r\n"
    "X-LIC-LOCATION:Europe/London\r\n"
    "BEGIN:DAYLIGHT\r\n"
    "TZNAME:BST\r\n"
    "TZOFFSETFROM:+0000\r\n"
    "TZOFFSETTO:+0100\r\n"
    "DTSTART:19700329T010000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
    "END:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\n"
    "TZNAME:GMT\r\n"
    "TZOFFSETFROM:+0100\r\n"
    "TZOFFSETTO:+0000\r\n"
    "DTSTART:19701025T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
    "END:STANDARD\r\n"
    "END:VTIMEZONE\r\n"
)

# TEXT may not hold control characters other than tab (newlines become "\n").
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


# --- Content lines ------------------------------------------------------------------------


def fold(line: str) -> str:
    """RFC 5545 3.1: at most 75 octets a line, continuation lines starting with a
    space, never splitting a UTF-8 character or just after an escaping backslash."""
    octets_in_line = len(line.encode())
    if octets_in_line <= LINE_OCTETS:
        return line
    if octets_in_line == len(line):  # ASCII, the usual case: slice, no character loop
        return _fold_ascii(line)
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        octets = len(char.encode())
        if current and size + octets > LINE_OCTETS:
            carry = [current.pop()] if len(current) > 1 and current[-1] == "\\" else []
            parts.append("".join(current))
            current = carry
            size = 1 + sum(len(c.encode()) for c in carry)  # the leading space
        current.append(char)
        size += octets
    parts.append("".join(current))
    return "\r\n ".join(parts)


def _fold_ascii(line: str) -> str:
    parts = []
    start, width = 0, LINE_OCTETS
    while start < len(line):
        end = min(start + width, len(line))
        if end < len(line) and line[end - 1] == "\\" and end - 1 > start + 1:
            end -= 1
        parts.append(line[start:end])
        start, width = end, LINE_OCTETS - 1  # continuation lines start with a space
    return "\r\n ".join(parts)


def text(value: str) -> str:
    """A TEXT value: escaped by icalendar, control characters dropped."""
    return vText(_CONTROL.sub("", value)).to_ical().decode()


def utc_stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def uk_time(value: datetime) -> str:
    return value.astimezone(LONDON).strftime("%Y%m%dT%H%M%S")


# --- What goes in ----------------------------------------------------------------------------


def uid_host() -> str:
    """The host part of every UID: configured once and never derived from the request,
    so a meeting keeps its UID whichever address a calendar used."""
    configured = current_app.config.get("CALENDAR_UID_HOST")
    if configured:
        return str(configured)
    return urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"


def meeting_uid(meeting_id: int, host: str | None = None) -> str:
    return f"meeting-{meeting_id}@{host or uid_host()}"


def summary(meeting: Meeting) -> str:
    if meeting.status is MeetingStatus.CANCELLED:
        return f"CANCELLED: {meeting.title}"
    if meeting.status is MeetingStatus.POSTPONED:
        return f"POSTPONED: {meeting.title}"
    return meeting.title


def location(meeting: Meeting) -> str:
    """Venue and address on one line, or "Online"."""
    if not meeting.format.has_venue:
        return "Online"
    address = ", ".join(line.strip() for line in meeting.venue_address.splitlines()
                        if line.strip())
    place = ", ".join(part for part in (meeting.venue_name, address) if part)
    return f"{place} (or join online)" if meeting.format.is_online else place


def description(meeting: Meeting, page_url: str, joining_link: bool) -> str:
    """Plain text: what, the state of things, how to join (if allowed), and the page."""
    lines = [meeting.host_full_name]
    if meeting.status is MeetingStatus.CANCELLED:
        lines.append(f"This meeting is cancelled: {meeting.status_reason}".rstrip(": "))
    elif meeting.status is MeetingStatus.POSTPONED:
        lines.append(f"This meeting is postponed and the new date is not fixed yet: "
                     f"{meeting.status_reason}".rstrip(": "))
    elif meeting.status_reason:
        lines.append(meeting.status_reason)
    lines.append("Agenda: published" if meeting.agenda_published
                 else "Agenda: not published yet")
    if meeting.format.is_online:
        if joining_link:
            lines.append(f"Join online: {meeting.joining_url}" if meeting.joining_url
                         else "Join online: the organisers will send the joining link.")
            if meeting.joining_details:
                lines.append(meeting.joining_details)
        else:
            lines.append(f"Joining link: on the meeting page, for {meeting.host_members} "
                         "and people who register.")
    lines.append(f"Meeting page: {page_url}")
    return "\n".join(lines)


STATUS = {MeetingStatus.SCHEDULED: "CONFIRMED", MeetingStatus.POSTPONED: "TENTATIVE",
          MeetingStatus.CANCELLED: "CANCELLED"}


def event_lines(meeting: Meeting, *, joining_link: bool = False,
                host: str | None = None) -> list[str]:
    """The VEVENT of one meeting (its forum and partnership loaded), unfolded."""
    page_url = url_for("meetings.show", meeting_id=meeting.id, _external=True)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{meeting_uid(meeting.id, host)}",
        f"DTSTAMP:{utc_stamp(meeting.changed_at)}",
        f"LAST-MODIFIED:{utc_stamp(meeting.changed_at)}",
        f"SEQUENCE:{meeting.sequence}",
        f"DTSTART;TZID={TZID}:{uk_time(meeting.starts_at)}",
        f"DTEND;TZID={TZID}:{uk_time(meeting.ends_at)}",
        f"SUMMARY:{text(summary(meeting))}",
        f"LOCATION:{text(location(meeting))}",
        f"DESCRIPTION:{text(description(meeting, page_url, joining_link))}",
        f"URL:{page_url}",
        f"STATUS:{STATUS[meeting.status]}",
    ]
    if meeting.is_cancelled:
        lines.append("TRANSP:TRANSPARENT")  # no longer blocks the time in the calendar
    lines.append("END:VEVENT")
    return lines


def calendar(entries: Iterable[tuple[Meeting, bool]], *, name: str | None = None,
             about: str | None = None) -> bytes:
    """A calendar of ``(meeting, include the joining link)`` pairs, as bytes.

    With ``name`` it is a feed (NAME, X-WR-CALNAME, refresh hints); without, a
    single download, which has no calendar name so that importing it does not create
    a calendar of its own in some apps."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH"]
    if name is not None:
        lines += [f"NAME:{text(name)}", f"X-WR-CALNAME:{text(name)}"]
        if about:
            lines.append(f"X-WR-CALDESC:{text(about)}")
        lines += [f"X-WR-TIMEZONE:{TZID}", f"REFRESH-INTERVAL;VALUE=DURATION:{REFRESH_TEXT}",
                  f"X-PUBLISHED-TTL:{REFRESH_TEXT}"]
    head = "\r\n".join(fold(line) for line in lines) + "\r\n"
    host = uid_host()
    events = [fold(line) for meeting, joining_link in entries
              for line in event_lines(meeting, joining_link=joining_link, host=host)]
    tail = "\r\n".join([*events, "END:VCALENDAR"]) + "\r\n"
    return (head + LONDON_VTIMEZONE + tail).encode()
