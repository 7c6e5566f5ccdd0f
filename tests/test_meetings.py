"""Scheduling meetings: single meetings and series in UK time across clock changes,
changing one occurrence or the rest of a series, postponing and cancelling (never
deleting), the lists of upcoming and past meetings, and who may do each of these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

import pytest

from partnerships.accounts.models import User
from partnerships.audit import AuditEvent
from partnerships.extensions import db
from partnerships.forums.models import Forum, Visibility
from partnerships.meetings import series
from partnerships.meetings.models import (
    Meeting,
    MeetingFormat,
    MeetingStatus,
    RecurrenceKind,
    Registration,
    RegistrationStatus,
    Response,
)
from partnerships.meetings.scheduling import MeetingDetails, Recurrence, schedule, update
from partnerships.modelbase import utcnow
from partnerships.partnership.models import Partnership
from partnerships.timeutil import to_uk

SIGN_IN = "/account/sign-in"


@dataclass
class World:
    partnership: Partnership
    forum: Forum
    officer: User
    convenor: User
    member: User
    stranger: User

    @property
    def new_url(self) -> str:
        return (f"/partnerships/{self.partnership.slug}/forums/{self.forum.slug}"
                "/meetings/new")


@pytest.fixture
def world(make_user: Any, make_partnership: Any, make_forum: Any) -> World:
    officer = make_user("Olu Officer", "officer@example.org")
    convenor = make_user("Cara Convenor", "convenor@example.org")
    member = make_user("Mo Member", "member@example.org")
    stranger = make_user("Sam Stranger", "stranger@example.org")
    partnership = make_partnership(officers=[officer])
    forum = make_forum(partnership, "VCSE Alliance", convenors=[convenor], members=[member])
    return World(partnership, forum, officer, convenor, member, stranger)


def form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Alliance meeting", "description": "Our regular meeting.",
        "day": ["9", "3", "2027"], "start": "10:00", "end": "12:00", "format": "hybrid",
        "venue_name": "Northbridge Civic Centre", "venue_address": "1 Market Square",
        "step_free_access": "yes", "hearing_loop": "", "parking": "", "public_transport": "",
        "access_notes": "", "joining_url": "https://meet.example.org/abc",
        "joining_details": "", "capacity": "", "visibility": "public", "repeat": "",
    }
    data.update(overrides)
    return data


def meetings() -> list[Meeting]:
    db.session.expire_all()  # the requests changed rows through their own sessions
    return list(db.session.scalars(db.select(Meeting).order_by(Meeting.starts_at)))


def local(meeting: Meeting) -> str:
    return to_uk(meeting.starts_at).strftime("%Y-%m-%d %H:%M")


def details(**overrides: Any) -> MeetingDetails:
    values: dict[str, Any] = {
        "title": "Alliance meeting", "day": date(2027, 3, 9), "start": time(10),
        "end": time(12), "format": MeetingFormat.IN_PERSON, "visibility": Visibility.PUBLIC,
        "venue_name": "Civic Centre", "venue_address": "1 Market Square"}
    values.update(overrides)
    return MeetingDetails(**values)


# --- Series arithmetic -------------------------------------------------------------------


def test_monthly_series_keeps_the_same_weekday_of_the_month() -> None:
    days = series.occurrence_dates(RecurrenceKind.MONTHLY_NTH_WEEKDAY, date(2027, 1, 12),
                                   count=6)  # the second Tuesday
    assert days == [date(2027, 1, 12), date(2027, 2, 9), date(2027, 3, 9), date(2027, 4, 13),
                    date(2027, 5, 11), date(2027, 6, 8)]
    assert all(d.weekday() == 1 and 8 <= d.day <= 14 for d in days)


def test_a_fifth_weekday_means_the_last_one_of_each_month() -> None:
    days = series.occurrence_dates(RecurrenceKind.MONTHLY_NTH_WEEKDAY, date(2027, 3, 31),
                                   count=3)  # the last Wednesday of March
    assert days == [date(2027, 3, 31), date(2027, 4, 28), date(2027, 5, 26)]
    assert series.describe(RecurrenceKind.MONTHLY_NTH_WEEKDAY, date(2027, 3, 31)) == \
        "Monthly on the last Wednesday"


def test_every_six_weeks_and_quarterly_stop_at_the_end_date() -> None:
    weekly = series.occurrence_dates(RecurrenceKind.EVERY_N_WEEKS, date(2027, 1, 7),
                                     interval_weeks=6, until=date(2027, 4, 1))
    assert weekly == [date(2027, 1, 7), date(2027, 2, 18), date(2027, 4, 1)]
    quarterly = series.occurrence_dates(RecurrenceKind.QUARTERLY_NTH_WEEKDAY,
                                        date(2027, 1, 12), until=date(2027, 12, 31))
    assert quarterly == [date(2027, 1, 12), date(2027, 4, 13), date(2027, 7, 13),
                         date(2027, 10, 12)]


def test_a_series_is_capped() -> None:
    days = series.occurrence_dates(RecurrenceKind.EVERY_N_WEEKS, date(2027, 1, 7),
                                   interval_weeks=1, until=date(2040, 1, 1))
    assert len(days) == series.MAX_OCCURRENCES


# --- Scheduling through the pages ---------------------------------------------------------


def test_officer_schedules_a_monthly_series_that_keeps_its_uk_time(
        client: Any, auth: Any, world: World) -> None:
    auth.login(world.officer)
    response = client.submit(world.new_url, form_data(
        day=["9", "2", "2027"], repeat="monthly_nth_weekday", count="12"))
    assert response.status_code == 303
    rows = meetings()
    assert len(rows) == 12
    assert {to_uk(m.starts_at).strftime("%H:%M") for m in rows} == {"10:00"}
    # 10:00 UK time is 10:00 UTC in winter and 09:00 UTC in summer.
    assert rows[0].starts_at.hour == 10 and rows[3].starts_at.hour == 9
    assert len({m.series_id for m in rows}) == 1
    assert all(m.sequence == 0 for m in rows)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Alliance meeting" in page and "9 February 2027 at 10am" in page


def test_convenor_schedules_a_single_meeting(client: Any, auth: Any, world: World) -> None:
    auth.login(world.convenor)
    response = client.submit(world.new_url, form_data())
    assert response.status_code == 303
    (meeting,) = meetings()
    assert meeting.series_id is None and meeting.format is MeetingFormat.HYBRID
    assert meeting.step_free_access is True and meeting.hearing_loop is None
    assert local(meeting) == "2027-03-09 10:00"
    assert db.session.scalar(db.select(AuditEvent).where(
        AuditEvent.action == "meeting.scheduled")) is not None


@pytest.mark.parametrize("who,status", [("member", 403), ("stranger", 403)])
def test_only_organisers_schedule(client: Any, auth: Any, world: World, who: str,
                                  status: int) -> None:
    auth.login(getattr(world, who))
    assert client.get(world.new_url).status_code == status
    token_page = client.post(world.new_url, data=form_data())
    assert token_page.status_code in (400, status)  # no CSRF token either way
    assert meetings() == []


def test_anonymous_is_sent_to_sign_in(client: Any, world: World) -> None:
    response = client.get(world.new_url)
    assert response.status_code == 302 and SIGN_IN in response.headers["Location"]


def test_members_only_forum_hides_its_schedule_page_from_strangers(
        client: Any, auth: Any, make_forum: Any, world: World) -> None:
    hidden = make_forum(world.partnership, "Health inequalities", public=False)
    auth.login(world.stranger)
    url = f"/partnerships/{world.partnership.slug}/forums/{hidden.slug}/meetings/new"
    response = client.get(url)
    assert response.status_code == 403
    assert "This page is for members of Health inequalities" in response.get_data(as_text=True)


@pytest.mark.parametrize("overrides,field,message", [
    ({"title": ""}, "title", "Enter a title"),
    ({"end": "09:00"}, "end", "The end time must be after the start time"),
    ({"start": "25:00"}, "start", "Start time must be a time, like 10:00 or 2:30pm"),
    ({"start": "10"}, "start", "Start time must be a time"),
    ({"day": ["31", "2", "2027"]}, "day", "Date must be a real date"),
    ({"format": "in_person", "venue_name": ""}, "venue_name", "Enter the venue"),
    ({"joining_url": "http://meet.example.org"}, "joining_url", "must start with https://"),
    ({"capacity": "0"}, "capacity", "Capacity must be between 1 and 10,000, or left empty"),
    ({"capacity": "3000000000"}, "capacity", "Capacity must be between 1 and 10,000"),
    ({"capacity": "10001"}, "capacity", "Capacity must be between 1 and 10,000"),
    ({"capacity": "ten"}, "capacity", "Capacity must be a whole number"),
    ({"capacity": "²"}, "capacity", "Capacity must be a whole number"),
    ({"capacity": "٣"}, "capacity", "Capacity must be a whole number"),
    ({"day": ["28", "3", "2027"], "start": "01:30", "end": "03:00"}, "start",
     "does not exist in the UK"),
    ({"day": ["31", "10", "2027"], "start": "01:30", "end": "03:00"}, "start",
     "happens twice in the UK"),
    ({"repeat": "monthly_nth_weekday"}, "until", "Enter the last date of the series"),
    ({"repeat": "every_n_weeks", "count": "4"}, "interval_weeks",
     "Enter the weeks between meetings"),
    ({"repeat": "monthly_nth_weekday", "count": "99"}, "count", "between 2 and 36"),
    ({"repeat": "monthly_nth_weekday", "count": "9223372036854775808"}, "count",
     "between 2 and 36"),
    ({"repeat": "every_n_weeks", "interval_weeks": "²", "count": "4"}, "interval_weeks",
     "must be a whole number"),
    ({"repeat": "every_n_weeks", "interval_weeks": "3000000000", "count": "4"},
     "interval_weeks", "Enter the weeks between meetings, from 1 to 12"),
])
def test_bad_input_is_refused_and_kept(client: Any, auth: Any, world: World,
                                       overrides: dict[str, Any], field: str,
                                       message: str) -> None:
    auth.login(world.officer)
    response = client.submit(world.new_url, form_data(description="Keep me", **overrides))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "govuk-error-summary" in page and message in page
    assert f'href="#{field}' in page
    assert "Keep me" in page
    assert meetings() == []


def test_a_series_date_in_a_clock_change_gap_is_named_and_nothing_is_saved(
        client: Any, auth: Any, world: World) -> None:
    """The last Sunday of the month at 01:30: fine in February, missing in March."""
    auth.login(world.officer)
    response = client.submit(world.new_url, form_data(
        day=["28", "2", "2027"], start="01:30", end="02:30", repeat="monthly_nth_weekday",
        count="3"))
    assert response.status_code == 422
    assert "The meeting on 28 March 2027 would fall in a clock change" in \
        response.get_data(as_text=True)
    assert meetings() == []


def test_a_meeting_in_the_past_needs_confirming(client: Any, auth: Any, world: World) -> None:
    auth.login(world.officer)
    past = utcnow() - timedelta(days=3)
    day = [str(past.day), str(past.month), str(past.year)]
    response = client.submit(world.new_url, form_data(day=day))
    assert response.status_code == 422
    assert "in the past" in response.get_data(as_text=True)
    assert meetings() == []
    response = client.submit(world.new_url, form_data(day=day, confirm_past="y"))
    assert response.status_code == 303
    assert len(meetings()) == 1


# --- Changing, postponing, cancelling ------------------------------------------------------


def series_of(world: World, count: int = 4) -> list[Meeting]:
    made = schedule(world.officer, world.forum, details(day=date(2027, 1, 12)),
                    Recurrence(RecurrenceKind.MONTHLY_NTH_WEEKDAY, count=count))
    db.session.commit()
    return made


def test_changing_one_occurrence_leaves_the_others(client: Any, auth: Any,
                                                   world: World) -> None:
    made = series_of(world)
    auth.login(world.officer)
    url = f"/meetings/{made[1].id}/edit"
    response = client.submit(url, form_data(day=["10", "2", "2027"], start="14:00",
                                            end="16:00", format="in_person",
                                            joining_url="", scope="this"))
    assert response.status_code == 303
    rows = meetings()
    assert [local(m) for m in rows] == ["2027-01-12 10:00", "2027-02-10 14:00",
                                        "2027-03-09 10:00", "2027-04-13 10:00"]
    assert [m.sequence for m in rows] == [0, 1, 0, 0]


def test_changing_this_and_later_occurrences_keeps_their_dates(
        client: Any, auth: Any, world: World) -> None:
    made = series_of(world)
    auth.login(world.officer)
    response = client.submit(f"/meetings/{made[1].id}/edit", form_data(
        day=["9", "2", "2027"], start="18:00", end="19:30", format="online",
        venue_name="", venue_address="", scope="following"))
    assert response.status_code == 303
    rows = meetings()
    assert [local(m) for m in rows] == ["2027-01-12 10:00", "2027-02-09 18:00",
                                        "2027-03-09 18:00", "2027-04-13 18:00"]
    assert [m.format for m in rows[1:]] == [MeetingFormat.ONLINE] * 3
    assert rows[0].format is MeetingFormat.IN_PERSON
    assert [m.sequence for m in rows] == [0, 1, 1, 1]


def test_every_calendar_change_bumps_the_sequence_and_nothing_else_does(world: World) -> None:
    (meeting,) = schedule(world.officer, world.forum, details())
    db.session.commit()
    assert meeting.sequence == 0
    update(world.officer, meeting, details(description="Only words"))
    assert meeting.sequence == 0
    update(world.officer, meeting, details(start=time(11), description="Only words"))
    update(world.officer, meeting, details(start=time(11), venue_name="Library",
                                           description="Only words"))
    assert meeting.sequence == 2


def registrant(meeting: Meeting, user: User, **values: Any) -> Registration:
    values.setdefault("status", RegistrationStatus.CONFIRMED)
    row = Registration(meeting_id=meeting.id, user_id=user.id, response=Response.IN_PERSON,
                       **values)
    db.session.add(row)
    db.session.commit()
    return row


def test_cancelling_keeps_the_meeting_and_tells_registrants(
        client: Any, auth: Any, world: World, make_meeting: Any, outbox: Any) -> None:
    meeting = make_meeting(world.forum)
    registrant(meeting, world.member)
    registrant(meeting, world.stranger, status=RegistrationStatus.CANCELLED)
    auth.login(world.officer)
    response = client.submit(f"/meetings/{meeting.id}/cancel",
                             {"reason": "The venue flooded."})
    assert response.status_code == 303
    db.session.refresh(meeting)
    assert meeting.status is MeetingStatus.CANCELLED and meeting.sequence == 1
    page = client.get(f"/meetings/{meeting.id}/").get_data(as_text=True)
    assert "This meeting is cancelled: The venue flooded." in page
    assert [m.subject.startswith("Meeting cancelled in")
            for m in outbox("member@example.org")] == [True]
    assert outbox("stranger@example.org") == []
    listing = client.get(f"/partnerships/{world.partnership.slug}/meetings/")
    assert "Cancelled: Quarterly meeting" in listing.get_data(as_text=True)
    # A cancelled meeting cannot be changed.
    response = client.get(f"/meetings/{meeting.id}/edit")
    assert response.status_code == 303
    response = client.submit(f"/meetings/{meeting.id}/edit", form_data(),
                             page=world.new_url)
    assert response.status_code == 303
    db.session.refresh(meeting)
    assert meeting.title == "Quarterly meeting"


def test_cancel_needs_a_reason(client: Any, auth: Any, world: World,
                               make_meeting: Any) -> None:
    meeting = make_meeting(world.forum)
    auth.login(world.officer)
    response = client.submit(f"/meetings/{meeting.id}/cancel", {"reason": ""})
    assert response.status_code == 422
    assert "Enter why the meeting is cancelled" in response.get_data(as_text=True)
    db.session.refresh(meeting)
    assert meeting.status is MeetingStatus.SCHEDULED


def test_cancelling_the_rest_of_a_series(client: Any, auth: Any, world: World) -> None:
    made = series_of(world)
    auth.login(world.convenor)
    response = client.submit(f"/meetings/{made[2].id}/cancel",
                             {"reason": "The alliance is merging.", "scope": "following"})
    assert response.status_code == 303
    assert [m.status for m in meetings()] == [MeetingStatus.SCHEDULED] * 2 + [
        MeetingStatus.CANCELLED] * 2


def test_postponing_without_and_with_a_new_date(client: Any, auth: Any, world: World,
                                                make_meeting: Any, outbox: Any) -> None:
    meeting = make_meeting(world.forum)
    registrant(meeting, world.member)
    auth.login(world.officer)
    response = client.submit(f"/meetings/{meeting.id}/postpone",
                             {"reason": "The chair is ill."})
    assert response.status_code == 303
    db.session.refresh(meeting)
    assert meeting.status is MeetingStatus.POSTPONED and meeting.sequence == 1
    assert "new date is not yet fixed" in client.get(
        f"/meetings/{meeting.id}/").get_data(as_text=True)
    later = utcnow() + timedelta(days=60)
    response = client.submit(f"/meetings/{meeting.id}/postpone", {
        "reason": "New date agreed.", "day": [str(later.day), str(later.month),
                                              str(later.year)],
        "start": "14:00", "end": "15:00"})
    assert response.status_code == 303
    db.session.refresh(meeting)
    assert meeting.status is MeetingStatus.SCHEDULED and meeting.sequence == 2
    assert to_uk(meeting.starts_at).strftime("%H:%M") == "14:00"
    assert meeting.status_reason.startswith("Postponed from ")
    assert len(outbox("member@example.org")) == 2


def test_postpone_with_a_date_needs_times(client: Any, auth: Any, world: World,
                                          make_meeting: Any) -> None:
    meeting = make_meeting(world.forum)
    auth.login(world.officer)
    response = client.submit(f"/meetings/{meeting.id}/postpone", {
        "reason": "Clash", "day": ["1", "6", "2030"], "start": "", "end": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter the new start time" in page and "Clash" in page
    db.session.refresh(meeting)
    assert meeting.status is MeetingStatus.SCHEDULED


@pytest.mark.parametrize("path", ["edit", "cancel", "postpone"])
def test_only_organisers_change_a_meeting(client: Any, auth: Any, world: World,
                                          make_meeting: Any, path: str) -> None:
    meeting = make_meeting(world.forum)
    url = f"/meetings/{meeting.id}/{path}"
    assert SIGN_IN in client.get(url).headers["Location"]
    for person in (world.member, world.stranger):
        auth.login(person)
        assert client.get(url).status_code == 403
    hidden = make_meeting(world.forum, "Private", public=False)
    auth.login(world.stranger)
    refused = client.get(f"/meetings/{hidden.id}/{path}")
    assert refused.status_code == 403  # the members-only page, before any form
    assert "Private" not in refused.get_data(as_text=True)


# --- Who sees what ------------------------------------------------------------------------


def test_members_only_meetings_are_hidden_from_everyone_else(
        client: Any, auth: Any, world: World, make_meeting: Any) -> None:
    public = make_meeting(world.forum, "Open meeting")
    private = make_meeting(world.forum, "Members meeting", public=False,
                           format=MeetingFormat.ONLINE, venue_name="", venue_address="",
                           joining_url="https://meet.example.org/secret")
    lists = [f"/partnerships/{world.partnership.slug}/meetings/",
             f"/partnerships/{world.partnership.slug}/forums/{world.forum.slug}/meetings/"]
    for person in (None, world.stranger):
        if person:
            auth.login(person)
        refused = client.get(f"/meetings/{private.id}/")
        assert refused.status_code == (403 if person else 302)  # whose it is, or sign in
        assert "Members meeting" not in refused.get_data(as_text=True)
        assert client.get(f"/meetings/{public.id}/").status_code == 200
        for url in lists:
            page = client.get(url).get_data(as_text=True)
            assert "Open meeting" in page and "Members meeting" not in page
    for person in (world.member, world.convenor, world.officer):
        auth.login(person)
        page = client.get(f"/meetings/{private.id}/").get_data(as_text=True)
        assert "https://meet.example.org/secret" in page
        assert "Members meeting" in client.get(lists[0]).get_data(as_text=True)


def test_the_joining_link_is_for_members_and_registered_people(
        client: Any, auth: Any, world: World, make_meeting: Any) -> None:
    meeting = make_meeting(world.forum, format=MeetingFormat.HYBRID,
                           joining_url="https://meet.example.org/room")
    assert "meet.example.org/room" not in client.get(
        f"/meetings/{meeting.id}/").get_data(as_text=True)
    auth.login(world.stranger)
    assert "meet.example.org/room" not in client.get(
        f"/meetings/{meeting.id}/").get_data(as_text=True)
    registrant(meeting, world.stranger)
    assert "meet.example.org/room" in client.get(
        f"/meetings/{meeting.id}/").get_data(as_text=True)
    auth.login(world.member)
    assert "meet.example.org/room" in client.get(
        f"/meetings/{meeting.id}/").get_data(as_text=True)


def test_upcoming_and_past_tabs(client: Any, world: World, make_meeting: Any) -> None:
    make_meeting(world.forum, "Next week", starts_in=timedelta(days=7))
    make_meeting(world.forum, "Last month", starts_in=timedelta(days=-30))
    url = f"/partnerships/{world.partnership.slug}/meetings/"
    upcoming = client.get(url).get_data(as_text=True)
    past = client.get(url + "?show=past").get_data(as_text=True)
    assert "Next week" in upcoming and "Last month" not in upcoming
    assert "Last month" in past and "Next week" not in past


def test_my_meetings_lists_my_forums_and_my_registrations(
        client: Any, auth: Any, world: World, make_meeting: Any, make_forum: Any) -> None:
    other = make_forum(world.partnership, "Youth forum")
    mine = make_meeting(world.forum, "Alliance meeting")
    registered = make_meeting(other, "Youth summit")
    make_meeting(other, "Youth planning")
    registrant(registered, world.member)
    auth.login(world.member)
    page = client.get("/my/meetings").get_data(as_text=True)
    assert mine.title in page and "Youth summit" in page and "Youth planning" not in page
    assert SIGN_IN in client.__class__(client.application).get(
        "/my/meetings").headers["Location"]


def test_list_pages_cost_the_same_for_many_meetings(
        client: Any, auth: Any, world: World, make_meeting: Any, count_queries: Any) -> None:
    for n in range(45):
        make_meeting(world.forum, f"Meeting {n}", starts_in=timedelta(days=n + 1),
                     public=n % 3 != 0)
    auth.login(world.member)
    urls = [f"/partnerships/{world.partnership.slug}/meetings/",
            f"/partnerships/{world.partnership.slug}/forums/{world.forum.slug}/meetings/",
            "/my/meetings"]
    for url in urls:
        with count_queries() as log:
            response = client.get(url)
        assert response.status_code == 200
        assert log.count <= 12, (url, log.statements)


def test_meeting_page_query_budget(client: Any, auth: Any, world: World,
                                   make_meeting: Any, count_queries: Any) -> None:
    meeting = make_meeting(world.forum)
    auth.login(world.member)
    with count_queries() as log:
        assert client.get(f"/meetings/{meeting.id}/").status_code == 200
    assert log.count <= 16, log.statements


def test_capacity_cannot_drop_below_the_places_taken(client: Any, auth: Any, world: World,
                                                     make_meeting: Any) -> None:
    meeting = make_meeting(world.forum, capacity=10, places_taken=6)
    auth.login(world.officer)
    response = client.submit(f"/meetings/{meeting.id}/edit", form_data(
        format="in_person", joining_url="", capacity="5"))
    assert response.status_code == 422
    assert "6 people already have places" in response.get_data(as_text=True)
    db.session.refresh(meeting)
    assert meeting.capacity == 10


def test_a_postponed_meeting_given_a_new_date_is_back_on(world: World,
                                                         make_meeting: Any) -> None:
    from partnerships.meetings.scheduling import postpone

    meeting = make_meeting(world.forum)
    postpone(world.officer, meeting, "Chair ill")
    assert meeting.is_postponed
    update(world.officer, meeting, details(day=(utcnow() + timedelta(days=40)).date()))
    assert meeting.status is MeetingStatus.SCHEDULED and meeting.sequence == 2
    assert "Chair ill" in meeting.status_reason


def test_format_cannot_change_under_peoples_answers(client: Any, auth: Any, world: World,
                                                    make_meeting: Any) -> None:
    meeting = make_meeting(world.forum, format=MeetingFormat.HYBRID,
                           joining_url="https://meet.example.org/x")
    registrant(meeting, world.member)  # attending in person
    auth.login(world.officer)
    response = client.submit(f"/meetings/{meeting.id}/edit", form_data(
        format="online", venue_name="", venue_address=""))
    assert response.status_code == 422
    assert "its format cannot change to online" in response.get_data(as_text=True)
    db.session.refresh(meeting)
    assert meeting.format is MeetingFormat.HYBRID
    # In person is fine: everyone's answer still makes sense.
    response = client.submit(f"/meetings/{meeting.id}/edit", form_data(
        format="in_person", joining_url=""))
    assert response.status_code == 303


def test_raising_the_capacity_promotes_people_waiting(app: Any, world: World,
                                                      make_meeting: Any, make_user: Any,
                                                      outbox: Any) -> None:
    from partnerships.meetings import registrations

    meeting = make_meeting(world.forum, capacity=1)
    first, second = make_user(), make_user("Wendy Waiting", "wendy@example.org")
    with app.test_request_context():  # the services email links to the meeting
        for person in (first, second):
            registrations.register(person, meeting,
                                   registrations.Answer(Response.IN_PERSON))
        db.session.commit()
        waiting = db.session.scalar(db.select(Registration).where(
            Registration.user_id == second.id))
        assert waiting.status is RegistrationStatus.WAITING
        update(world.officer, meeting, details(
            day=to_uk(meeting.starts_at).date(), start=to_uk(meeting.starts_at).time(),
            end=to_uk(meeting.ends_at).time(), title=meeting.title, capacity=2))
        db.session.commit()
    db.session.refresh(waiting)
    assert waiting.status is RegistrationStatus.CONFIRMED and meeting.places_taken == 2
    assert any("place" in m.subject.lower() for m in outbox("wendy@example.org")[1:])
