"""Notice deadlines name their weekday and fall on the last working day before the
notice runs out: "publish by Friday 29 January 2027", never a Sunday or a bank holiday
(issue 15). One helper (``timeutil.format_deadline``, the ``uk_deadline`` filter) shows
every one of them."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from partnerships.extensions import db
from partnerships.meetings import agenda
from partnerships.meetings.models import AgendaItem
from partnerships.timeutil import (
    clear_working_days_between,
    format_deadline,
    is_working_day,
    latest_day_for_notice,
    today_uk,
    uk_local_to_utc,
)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_the_deadline_is_the_last_working_day_that_still_gives_the_notice():
    """Every meeting day for three years and every notice period up to 10 days."""
    day = date(2026, 1, 1)
    while day < date(2029, 1, 1):
        for notice in range(11):
            due = latest_day_for_notice(day, notice)
            assert is_working_day(due), (day, notice, due)
            assert clear_working_days_between(due, day) >= notice, (day, notice)
            later = due + timedelta(days=1)
            while not is_working_day(later):
                later += timedelta(days=1)
            # The next working day would not give the notice (or is the meeting itself).
            assert later >= day or clear_working_days_between(later, day) < notice
        day += timedelta(days=1)


def test_a_deadline_that_fell_on_a_sunday_or_a_bank_holiday_moves_back():
    # Thursday 4 February 2027, 3 clear days (1, 2 and 3 February): not Sunday 31 January.
    assert latest_day_for_notice(date(2027, 2, 4), 3) == date(2027, 1, 29)
    # Friday 2 April 2027, 3 clear days (30, 31 March, 1 April): not Easter Monday 29
    # March, nor Good Friday 26 March, but Thursday 25 March.
    assert latest_day_for_notice(date(2027, 4, 2), 3) == date(2027, 3, 25)
    assert format_deadline(date(2027, 3, 25)) == "Thursday 25 March 2027"
    assert format_deadline(date(2026, 11, 27)) == "Friday 27 November 2026"


def test_publishing_on_the_weekend_after_the_deadline_still_gives_the_notice():
    """The record agrees with the days given: Saturday gives what Friday gave."""
    meeting_day = date(2027, 2, 4)
    assert agenda.notice_met(date(2027, 1, 29), meeting_day, 3)
    assert agenda.notice_met(date(2027, 1, 30), meeting_day, 3)   # Saturday
    assert agenda.notice_met(date(2027, 1, 31), meeting_day, 3)   # Sunday
    assert not agenda.notice_met(date(2027, 2, 1), meeting_day, 3)  # Monday: late


def _sunday_deadline_day(notice: int) -> date:
    """A meeting day at least three weeks ahead whose deadline, counted the old way (the
    day before the last clear day), would have been a Sunday."""
    day = today_uk() + timedelta(days=21)
    while True:
        counted, found = day, 0
        while found < notice:
            counted -= timedelta(days=1)
            if is_working_day(counted):
                found += 1
        if (counted - timedelta(days=1)).weekday() == 6:
            return day
        day += timedelta(days=1)


@pytest.fixture
def sunday_case(make_user, make_partnership, make_forum, make_meeting):
    convenor = make_user("Cara Convenor")
    member = make_user("Mo Member")
    partnership = make_partnership()
    forum = make_forum(partnership, "Health Forum", convenors=[convenor], members=[member])
    forum.notice_days = 3
    db.session.commit()
    day = _sunday_deadline_day(3)
    starts = uk_local_to_utc(day, datetime.min.time().replace(hour=10))
    meeting = make_meeting(forum, "Spring meeting", starts_at=starts,
                           ends_at=starts + timedelta(hours=2))
    db.session.add(AgendaItem(meeting_id=meeting.id, position=1, title="Welcome"))
    db.session.commit()
    due = latest_day_for_notice(day, 3)
    return convenor, member, meeting, due


def _text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def test_pages_say_publish_by_the_weekday_and_never_a_sunday(client, auth, sunday_case):
    convenor, member, meeting, due = sunday_case
    assert due.weekday() < 5
    expected = format_deadline(due)
    assert expected.split()[0] in {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}
    auth.login(convenor)
    page = _text(client.get(f"/meetings/{meeting.id}/"))
    assert f"Publish the agenda by {expected}:" in page
    assert "Sunday" not in page
    builder = _text(client.get(f"/meetings/{meeting.id}/agenda"))
    assert f"Publish the agenda by {expected}:" in builder
    confirm = _text(client.get(f"/meetings/{meeting.id}/agenda/publish"))
    assert f"Publish the agenda by {expected}:" in confirm
    auth.login(member)
    page = _text(client.get(f"/meetings/{meeting.id}/"))
    assert f"The agenda will be published by {expected}." in page
    auth.logout()
    page = _text(client.get(f"/meetings/{meeting.id}/"))
    assert f"The agenda will be published by {expected}." in page


def test_every_template_shows_notice_deadlines_through_the_one_helper():
    """Any template (page or email) that shows a notice's due day, now or later, uses
    ``uk_deadline``; a bare ``uk_day`` would drop the weekday."""
    uses = 0
    for path in TEMPLATES.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"due_day\s*\)?\s*\|\s*(\w+)", text):
            uses += 1
            assert match.group(1) == "uk_deadline", (path, match.group(0))
    assert uses >= 3
