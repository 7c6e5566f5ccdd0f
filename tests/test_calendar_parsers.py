"""Our calendars read by two independent parsers, as calendar apps read them: Mozilla's
ical.js (Thunderbird's parser, through node) and recurring-ical-events (Python). They
must agree on every occurrence's UID, UTC start and end, status and sequence, and
agree with the database.

Series are sent as one VEVENT per occurrence (each its own UID), so a moved
occurrence is the same UID with a higher SEQUENCE and a cancelled one is
STATUS:CANCELLED; these tests check that choice end to end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from icalendar import Timezone

from partnerships.accounts.models import User
from partnerships.extensions import db
from partnerships.forums.models import Forum, Visibility
from partnerships.meetings import ical, scheduling
from partnerships.meetings.models import Meeting, MeetingFormat, RecurrenceKind
from partnerships.meetings.scheduling import MeetingDetails, Recurrence
from partnerships.partnership.models import Partnership
from partnerships.timeutil import LONDON, to_uk, today_uk
from tests.calendar.parsers import both, ical_js, python


@dataclass
class World:
    partnership: Partnership
    forum: Forum
    officer: User
    member: User

    @property
    def feed(self) -> str:
        return f"/partnerships/{self.partnership.slug}/forums/{self.forum.slug}/calendar.ics"


@pytest.fixture
def world(make_user: Any, make_partnership: Any, make_forum: Any) -> World:
    officer = make_user("Olu Officer", "officer@example.org")
    member = make_user("Mo Member", "member@example.org")
    partnership = make_partnership(officers=[officer])
    forum = make_forum(partnership, "VCSE Alliance", members=[member])
    return World(partnership, forum, officer, member)


def details(day: date, **overrides: Any) -> MeetingDetails:
    values: dict[str, Any] = {
        "title": "Alliance meeting", "day": day, "start": time(10), "end": time(12),
        "format": MeetingFormat.IN_PERSON, "visibility": Visibility.PUBLIC,
        "venue_name": "Civic Centre", "venue_address": "1 Market Square"}
    values.update(overrides)
    return MeetingDetails(**values)


def second_tuesday_after(days: int) -> date:
    day = today_uk() + timedelta(days=days)
    day = date(day.year + day.month // 12, day.month % 12 + 1, 1)  # first of next month
    day += timedelta(days=(1 - day.weekday()) % 7)  # first Tuesday
    return day + timedelta(days=7)


def utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def expected(meetings: list[Meeting]) -> list[tuple[str, str, str, int]]:
    db.session.expire_all()
    rows = [db.session.get(Meeting, m.id) for m in meetings]
    return sorted((utc(m.starts_at), ical.meeting_uid(m.id), utc(m.ends_at), m.sequence)
                  for m in rows if m is not None)


def seen(occurrences: list[dict[str, Any]]) -> list[tuple[str, str, str, int]]:
    return sorted((o["start_utc"], o["uid"], o["end_utc"], o["sequence"]) for o in occurrences)


def test_a_monthly_series_across_both_clock_changes_with_a_moved_and_a_cancelled_one(
        client: Any, world: World) -> None:
    first = second_tuesday_after(10)
    meetings = scheduling.schedule(world.officer, world.forum, details(first),
                                   Recurrence(RecurrenceKind.MONTHLY_NTH_WEEKDAY, count=12))
    db.session.commit()
    moved, cancelled = meetings[2], meetings[5]
    moved_day = to_uk(moved.starts_at).date() + timedelta(days=1)
    scheduling.update(world.officer, moved, details(moved_day, start=time(14), end=time(16)))
    scheduling.cancel(world.officer, cancelled, "The room is not available")
    db.session.commit()

    occurrences = both(client.get(world.feed).data)

    assert seen(occurrences) == expected(meetings)
    # 10:00 in London all year: 09:00 UTC in summer time, 10:00 UTC in winter.
    starts = {o["start_utc"][11:16] for o in occurrences if o["uid"] != ical.meeting_uid(
        moved.id)}
    assert starts == {"09:00", "10:00"}
    for occurrence in occurrences:
        day = datetime.fromisoformat(occurrence["start_utc"].replace("Z", "+00:00"))
        if occurrence["uid"] != ical.meeting_uid(moved.id):
            assert day.astimezone(LONDON).strftime("%H:%M") == "10:00"
    by_uid = {o["uid"]: o for o in occurrences}
    assert by_uid[ical.meeting_uid(moved.id)]["sequence"] == 1
    assert by_uid[ical.meeting_uid(cancelled.id)]["status"] == "CANCELLED"
    assert by_uid[ical.meeting_uid(cancelled.id)]["summary"].startswith("CANCELLED: ")
    assert by_uid[ical.meeting_uid(cancelled.id)]["sequence"] == 1
    others = [o for o in occurrences if o["uid"] not in {ical.meeting_uid(moved.id),
                                                          ical.meeting_uid(cancelled.id)}]
    assert {o["status"] for o in others} == {"CONFIRMED"}
    assert {o["sequence"] for o in others} == {0}


def test_a_cancelled_single_meeting_and_a_postponed_one(client: Any, world: World) -> None:
    (called_off,) = scheduling.schedule(world.officer, world.forum,
                                        details(today_uk() + timedelta(days=20)))
    (put_off,) = scheduling.schedule(world.officer, world.forum,
                                     details(today_uk() + timedelta(days=30), title="Summit"))
    db.session.commit()
    scheduling.cancel(world.officer, called_off, "Not enough agenda items")
    scheduling.postpone(world.officer, put_off, "The chair is ill")
    db.session.commit()

    occurrences = both(client.get(world.feed).data)

    assert seen(occurrences) == expected([called_off, put_off])
    statuses = {o["uid"]: (o["status"], o["sequence"]) for o in occurrences}
    assert statuses == {ical.meeting_uid(called_off.id): ("CANCELLED", 1),
                        ical.meeting_uid(put_off.id): ("TENTATIVE", 1)}
    single = both(client.get(f"/meetings/{called_off.id}.ics").data)
    assert single[0]["status"] == "CANCELLED" and single[0]["summary"].startswith("CANCELLED")


def test_a_meeting_changed_twice_has_sequence_two_everywhere(
        client: Any, auth: Any, world: World) -> None:
    day = today_uk() + timedelta(days=40)
    (meeting,) = scheduling.schedule(world.officer, world.forum, details(day))
    db.session.commit()
    assert both(client.get(f"/meetings/{meeting.id}.ics").data)[0]["sequence"] == 0
    scheduling.update(world.officer, meeting, details(day, start=time(13), end=time(15)))
    scheduling.update(world.officer, meeting, details(day, start=time(13), end=time(15),
                                                      venue_name="Library"))
    db.session.commit()

    downloads = [
        client.get(f"/meetings/{meeting.id}.ics").data,
        client.get(world.feed).data,
        client.get(f"/partnerships/{world.partnership.slug}/calendar.ics").data,
    ]
    views = [both(body) for body in downloads]

    assert all(seen(found) == expected([meeting]) for found in views)
    assert {found[0]["sequence"] for found in views} == {2}
    assert views[0][0]["start_utc"] == utc(
        datetime.combine(day, time(13), tzinfo=LONDON))


def test_an_empty_feed_still_carries_the_time_zone(client: Any, world: World) -> None:
    body = client.get(world.feed).data
    assert b"BEGIN:VTIMEZONE" in body and ical.LONDON_VTIMEZONE.encode() in body
    assert ical_js(body) == [] and python(body) == []


def test_the_fixed_time_zone_matches_tzdata_for_years_to_come() -> None:
    """Every half hour around each clock change from 2024 to 2040, and in the middle of
    summer and winter, our RRULE VTIMEZONE gives the same UK offset as the system's tz
    database (ical.js reads the embedded definition; this checks the definition)."""
    zone = Timezone.from_ical(ical.LONDON_VTIMEZONE).to_tz(lookup_tzid=False)
    for year in range(2024, 2041):
        for month in (3, 10):
            last_sunday = date(year, month, 31) - timedelta(
                days=(date(year, month, 31).weekday() + 1) % 7)
            moment = datetime.combine(last_sunday - timedelta(days=1), time(), tzinfo=UTC)
            for _ in range(3 * 48):
                assert (moment.astimezone(zone).utcoffset()
                        == moment.astimezone(LONDON).utcoffset()), moment
                moment += timedelta(minutes=30)
        for middle in (datetime(year, 1, 15, tzinfo=UTC), datetime(year, 7, 15, tzinfo=UTC)):
            assert middle.astimezone(zone).utcoffset() == middle.astimezone(LONDON).utcoffset()


def test_ical_js_uses_the_embedded_time_zone_across_clock_changes() -> None:
    """A recurring event in the file's own VTIMEZONE (what an RDATE-only definition
    gets wrong after the first change): ical.js keeps 10:00 local all year."""
    body = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + ical.LONDON_VTIMEZONE
        + "BEGIN:VEVENT\r\nUID:series@test\r\nDTSTAMP:20260101T000000Z\r\n"
        "DTSTART;TZID=Europe/London:20270112T100000\r\n"
        "DTEND;TZID=Europe/London:20270112T120000\r\n"
        "RRULE:FREQ=MONTHLY;BYDAY=2TU;COUNT=12\r\n"
        "EXDATE;TZID=Europe/London:20270511T100000\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:series@test\r\nDTSTAMP:20260101T000000Z\r\nSEQUENCE:1\r\n"
        "RECURRENCE-ID;TZID=Europe/London:20270413T100000\r\n"
        "DTSTART;TZID=Europe/London:20270414T140000\r\n"
        "DTEND;TZID=Europe/London:20270414T160000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()
    occurrences = both(body, ("uid", "start_utc", "end_utc"))
    assert len(occurrences) == 11
    starts = [o["start_utc"] for o in occurrences]
    assert "2027-03-09T10:00:00Z" in starts and "2027-06-08T09:00:00Z" in starts
    assert "2027-04-14T13:00:00Z" in starts and "2027-11-09T10:00:00Z" in starts
    assert not any(start.startswith("2027-05-11") for start in starts)
