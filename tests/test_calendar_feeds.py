"""Calendar downloads and feeds: what each carries and for whom, the file format the
calendar apps need, HTTP caching that never answers 304 for a changed feed, the
personal feed's secret, and the links on the pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import icalendar
import pytest

from partnerships import pagecache
from partnerships.accounts.models import User
from partnerships.audit import AuditEvent
from partnerships.extensions import db
from partnerships.forums import services as forum_services
from partnerships.forums.models import Forum, Visibility
from partnerships.meetings import calendar_views, feeds, ical, scheduling
from partnerships.meetings.models import (
    CalendarToken,
    Meeting,
    MeetingFormat,
    MeetingStatus,
    Registration,
    RegistrationStatus,
    Response,
)
from partnerships.meetings.scheduling import MeetingDetails
from partnerships.modelbase import utcnow
from partnerships.partnership.models import Partnership
from partnerships.timeutil import to_uk
from tests.conftest import meeting_start

JOIN = "https://meet.example.org/room-42"


@dataclass
class World:
    partnership: Partnership
    forum: Forum
    officer: User
    member: User
    stranger: User

    @property
    def forum_feed(self) -> str:
        return f"/partnerships/{self.partnership.slug}/forums/{self.forum.slug}/calendar.ics"

    @property
    def partnership_feed(self) -> str:
        return f"/partnerships/{self.partnership.slug}/calendar.ics"


@pytest.fixture
def world(make_user: Any, make_partnership: Any, make_forum: Any) -> World:
    officer = make_user("Olu Officer", "officer@example.org")
    member = make_user("Mo Member", "member@example.org")
    stranger = make_user("Sam Stranger", "stranger@example.org")
    partnership = make_partnership(officers=[officer])
    forum = make_forum(partnership, "VCSE Alliance", members=[member])
    return World(partnership, forum, officer, member, stranger)


@pytest.fixture
def hybrid(make_meeting: Any) -> Any:
    """A public hybrid meeting with a joining link."""

    def make(forum: Forum, title: str = "Alliance meeting", **columns: Any) -> Meeting:
        columns.setdefault("format", MeetingFormat.HYBRID)
        columns.setdefault("joining_url", JOIN)
        return make_meeting(forum, title, **columns)

    return make


def parse(body: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(body)


def uids(body: bytes) -> set[str]:
    return {str(event["UID"]) for event in parse(body).walk("VEVENT")}


def unfolded(body: bytes) -> str:
    return body.decode("utf-8").replace("\r\n ", "")


def personal_url(client: Any, auth: Any, user: User) -> str:
    """Sign in as ``user``, create their calendar link, and return its path."""
    auth.login(user)
    assert client.submit("/my/meetings/calendar", page="/my/meetings").status_code == 303
    page = client.get("/my/meetings").get_data(as_text=True)
    match = re.search(r'value="https?://[^/"]+(/calendar/[A-Za-z0-9_-]+\.ics)"', page)
    assert match, page
    auth.logout()
    return match.group(1)


def registrant(meeting: Meeting, user: User, status: RegistrationStatus) -> None:
    db.session.add(Registration(meeting_id=meeting.id, user_id=user.id,
                                response=Response.ONLINE, status=status))
    db.session.commit()


# --- The file format ------------------------------------------------------------------------


def test_a_feed_has_the_headers_and_calendar_properties_apps_need(
        client: Any, world: World, hybrid: Any) -> None:
    hybrid(world.forum)
    response = client.get(world.forum_feed, headers={"Accept": "text/calendar"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="northbridge-together-vcse-alliance-meetings.ics"'
    body = response.data
    assert b"\n" not in body.replace(b"\r\n", b"")  # CRLF line ends only
    text = unfolded(body)
    for line in ("METHOD:PUBLISH", "VERSION:2.0", "X-WR-TIMEZONE:Europe/London",
                 "NAME:VCSE Alliance meetings (Northbridge Together)",
                 "X-WR-CALNAME:VCSE Alliance meetings (Northbridge Together)",
                 "REFRESH-INTERVAL;VALUE=DURATION:PT4H", "X-PUBLISHED-TTL:PT4H"):
        assert f"\r\n{line}\r\n" in text, line


def test_one_fixed_rrule_time_zone_and_every_time_carries_it(
        client: Any, world: World, hybrid: Any) -> None:
    hybrid(world.forum, "Winter", starts_in=timedelta(days=10))
    hybrid(world.forum, "Summer", starts_in=timedelta(days=200))
    for url in (world.forum_feed, world.partnership_feed, "/meetings/1.ics"):
        calendar = parse(client.get(url).data)
        (zone,) = calendar.walk("VTIMEZONE")
        assert str(zone["TZID"]) == "Europe/London"
        rules = zone.walk("DAYLIGHT") + zone.walk("STANDARD")
        assert len(rules) == 2 and all("RRULE" in rule and "RDATE" not in rule
                                       for rule in rules)
        text = unfolded(client.get(url).data)
        times = re.findall(r"\r\n(DTSTART|DTEND)([;:][^\r]*)", text.split("END:VTIMEZONE")[1])
        assert times and all(value.startswith(";TZID=Europe/London:") for _, value in times)


def test_an_event_says_what_where_and_how_to_find_out_more(
        client: Any, auth: Any, world: World, hybrid: Any) -> None:
    meeting = hybrid(world.forum, venue_name="Civic Centre",
                     venue_address="1 Market Square\nNorthbridge NB1 1AA",
                     status_reason="Moved from the library")
    (event,) = parse(client.get(world.forum_feed).data).walk("VEVENT")
    assert str(event["UID"]) == f"meeting-{meeting.id}@localhost"
    assert str(event["SUMMARY"]) == "Alliance meeting"
    assert str(event["LOCATION"]) == ("Civic Centre, 1 Market Square, Northbridge NB1 1AA "
                                      "(or join online)")
    assert str(event["STATUS"]) == "CONFIRMED" and int(event["SEQUENCE"]) == 0
    assert str(event["URL"]) == f"http://localhost/meetings/{meeting.id}/"
    assert event["DTSTART"].dt == meeting.starts_at and event["DTEND"].dt == meeting.ends_at
    assert event["DTSTAMP"].dt == meeting.changed_at.replace(microsecond=0)
    assert event["LAST-MODIFIED"].dt == event["DTSTAMP"].dt
    description = str(event["DESCRIPTION"])
    assert description.splitlines()[0] == "VCSE Alliance, Northbridge Together"
    assert "Moved from the library" in description and "Agenda: not published yet" in description
    assert f"Meeting page: http://localhost/meetings/{meeting.id}/" in description
    assert JOIN not in description


def test_an_online_meeting_is_online_and_a_single_download_has_no_calendar_name(
        client: Any, world: World, make_meeting: Any) -> None:
    meeting = make_meeting(world.forum, "Online catch-up", format=MeetingFormat.ONLINE,
                           venue_name="", venue_address="", joining_url=JOIN)
    response = client.get(f"/meetings/{meeting.id}.ics")
    assert response.status_code == 200
    date = to_uk(meeting.starts_at).date().isoformat()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="online-catch-up-{date}.ics"')
    calendar = parse(response.data)
    assert "NAME" not in calendar and "X-WR-CALNAME" not in calendar
    assert str(calendar["METHOD"]) == "PUBLISH"
    (event,) = calendar.walk("VEVENT")
    assert str(event["LOCATION"]) == "Online"


def test_long_titles_fold_at_75_octets_without_splitting_characters(
        client: Any, world: World, make_meeting: Any) -> None:
    title = "Réunion des bénévoles, Gwirfoddolwyr ŵŷ, 社区论坛 ✓ " * 3
    make_meeting(world.forum, title.strip())
    body = client.get(world.forum_feed).data
    for line in body.split(b"\r\n"):
        assert len(line) <= 75, line
        line.decode("utf-8")  # no line ends inside a multi-byte character
    (event,) = parse(body).walk("VEVENT")
    assert str(event["SUMMARY"]) == title.strip()


def test_folding_round_trips_any_text() -> None:
    import random

    rng = random.Random(5545)
    alphabet = "abc XYZ,;:\\\\n" + "éŵ社✓🙂"
    for length in [*range(60, 200), 1000]:
        for pool in ("abc,;\\", alphabet):
            line = "DESCRIPTION:" + "".join(rng.choice(pool) for _ in range(length))
            folded = ical.fold(line)
            for physical in folded.split("\r\n"):
                assert len(physical.encode()) <= 75
                physical.encode().decode("utf-8")
            assert folded.replace("\r\n ", "") == line
            assert all(part.startswith(" ") for part in folded.split("\r\n")[1:])


def test_the_uid_is_the_same_in_the_download_and_every_feed(
        client: Any, auth: Any, world: World, hybrid: Any) -> None:
    meeting = hybrid(world.forum)
    personal = personal_url(client, auth, world.member)
    found = [uids(client.get(url).data) for url in (
        f"/meetings/{meeting.id}.ics", world.forum_feed, world.partnership_feed, personal)]
    assert found == [{f"meeting-{meeting.id}@localhost"}] * 4


def test_the_uid_host_comes_from_configuration_not_the_request(
        app: Any, client: Any, world: World, hybrid: Any) -> None:
    meeting = hybrid(world.forum)
    app.config["CALENDAR_UID_HOST"] = "partnerships.example.org"
    body = client.get(world.forum_feed, base_url="https://another.example.net").data
    assert uids(body) == {f"meeting-{meeting.id}@partnerships.example.org"}
    # Links in the feed come from BASE_URL too, never from the Host asked for (links.py).
    assert f"{app.config['BASE_URL']}/meetings/{meeting.id}/" in unfolded(body)
    assert "another.example.net" not in unfolded(body)


def test_no_email_addresses_organizer_or_attendee_anywhere(
        client: Any, auth: Any, world: World, hybrid: Any) -> None:
    meeting = hybrid(world.forum)
    registrant(meeting, world.member, RegistrationStatus.CONFIRMED)
    personal = personal_url(client, auth, world.member)
    auth.login(world.member)
    bodies = [client.get(url).data for url in (
        f"/meetings/{meeting.id}.ics", world.forum_feed, world.partnership_feed, personal)]
    for body in bodies:
        text = unfolded(body)
        assert "ORGANIZER" not in text and "ATTENDEE" not in text and "MAILTO" not in text.upper()
        without_uids = re.sub(r"\r\nUID:[^\r]*", "", text)
        assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.-]+", without_uids)


def test_a_big_feed_stays_well_under_google_s_limit(client: Any, world: World) -> None:
    # Two a day, at 10:00 and 20:00 UK time (so none crosses midnight), for 500 days.
    starts = [meeting_start(timedelta(days=n // 2)) + timedelta(hours=10 * (n % 2))
              for n in range(1000)]
    db.session.add_all(Meeting(
        forum_id=world.forum.id, title=f"Neighbourhood working group {n}",
        starts_at=starts[n], ends_at=starts[n] + timedelta(hours=2),
        format=MeetingFormat.HYBRID, venue_name="Northbridge Civic Centre",
        venue_address="1 Market Square, Northbridge NB1 1AA", joining_url=JOIN,
        visibility=Visibility.PUBLIC) for n in range(1000))
    db.session.commit()
    body = client.get(world.forum_feed).data
    assert body.count(b"\r\nBEGIN:VEVENT\r\n") == 1000
    assert len(body) < 700_000


# --- Who sees what ------------------------------------------------------------------------------


def test_members_only_meetings_never_appear_in_public_feeds_whoever_asks(
        client: Any, auth: Any, world: World, make_meeting: Any) -> None:
    public = make_meeting(world.forum, "Open meeting")
    hidden = make_meeting(world.forum, "Members' meeting", public=False)
    for who in (None, world.member, world.officer):
        if who is not None:
            auth.login(who)
        for url in (world.forum_feed, world.partnership_feed):
            assert uids(client.get(url).data) == {ical.meeting_uid(public.id)}
    assert client.get(f"/meetings/{hidden.id}.ics").status_code == 200  # the officer
    auth.logout()
    # The meeting's own file: sign in first, or the page saying whose meeting it is;
    # never the calendar file.
    signed_out = client.get(f"/meetings/{hidden.id}.ics")
    assert signed_out.status_code == 302 and b"BEGIN:VCALENDAR" not in signed_out.data
    auth.login(world.stranger)
    stranger = client.get(f"/meetings/{hidden.id}.ics")
    assert stranger.status_code == 403 and b"BEGIN:VCALENDAR" not in stranger.data


def test_public_meetings_of_a_members_only_forum_are_in_the_public_feeds(
        client: Any, world: World, make_forum: Any, make_meeting: Any) -> None:
    closed = make_forum(world.partnership, "Health inequalities", public=False)
    open_day = make_meeting(closed, "Open day")
    make_meeting(closed, "Planning", public=False)
    url = f"/partnerships/{world.partnership.slug}/forums/{closed.slug}/calendar.ics"
    assert uids(client.get(url).data) == {ical.meeting_uid(open_day.id)}
    assert uids(client.get(world.partnership_feed).data) == {ical.meeting_uid(open_day.id)}


def test_the_joining_link_only_goes_to_those_who_may_see_it(
        client: Any, auth: Any, world: World, hybrid: Any) -> None:
    meeting = hybrid(world.forum)
    single = f"/meetings/{meeting.id}.ics"
    assert JOIN not in unfolded(client.get(single).data)
    auth.login(world.stranger)
    assert JOIN not in unfolded(client.get(single).data)
    registrant(meeting, world.stranger, RegistrationStatus.CONFIRMED)
    assert JOIN in unfolded(client.get(single).data)
    auth.login(world.member)
    assert JOIN in unfolded(client.get(single).data)
    for url in (world.forum_feed, world.partnership_feed):
        assert JOIN not in unfolded(client.get(url).data)


def test_the_personal_feed_carries_my_forums_and_my_registrations(
        client: Any, auth: Any, world: World, make_forum: Any, hybrid: Any,
        make_meeting: Any) -> None:
    other = make_forum(world.partnership, "Youth forum")
    members_only = hybrid(world.forum, "Members' meeting", public=False)
    public = hybrid(world.forum, "Open meeting")
    registered = hybrid(other, "Youth summit")
    waiting = make_meeting(other, "Youth awards")
    dropped = make_meeting(other, "Youth planning")
    make_meeting(other, "Not mine")
    registrant(registered, world.member, RegistrationStatus.CONFIRMED)
    registrant(waiting, world.member, RegistrationStatus.WAITING)
    registrant(dropped, world.member, RegistrationStatus.CANCELLED)
    url = personal_url(client, auth, world.member)

    response = client.get(url)

    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("private")
    assert response.headers["X-Robots-Tag"] == "noindex"
    calendar = parse(response.data)
    assert str(calendar["X-WR-CALNAME"]) == "My meetings (Local Partnerships)"
    events = {str(e["SUMMARY"]): str(e["DESCRIPTION"]) for e in calendar.walk("VEVENT")}
    assert set(events) == {"Members' meeting", "Open meeting", "Youth summit", "Youth awards"}
    # Joining links: the member's own forum, and the meeting they have a place at.
    assert JOIN in events["Members' meeting"] and JOIN in events["Open meeting"]
    assert JOIN in events["Youth summit"]
    assert members_only.id and public.id


def test_leaving_a_forum_takes_its_meetings_out_of_the_personal_feed(
        client: Any, auth: Any, world: World, make_meeting: Any) -> None:
    hidden = make_meeting(world.forum, "Members' meeting", public=False)
    url = personal_url(client, auth, world.member)
    first = client.get(url)
    assert uids(first.data) == {ical.meeting_uid(hidden.id)}

    forum_services.leave(world.member, world.forum)
    db.session.commit()

    second = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and uids(second.data) == set()
    assert second.headers["ETag"] != first.headers["ETag"]


def test_a_persons_feed_statements_are_built_once_and_follow_their_standing(
        client: Any, auth: Any, world: World, make_meeting: Any, make_user: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The person's conditions are SQL on their id, so they are built once and kept;
    becoming a site administrator is another standing, with its own."""
    hidden = make_meeting(world.forum, "Members' meeting", public=False)
    outsider = make_user("Otto Outsider")
    url = personal_url(client, auth, outsider)
    built: list[int] = []
    is_mine = feeds.queries.is_mine

    def counted(user: Any) -> Any:
        built.append(user.id)
        return is_mine(user)

    monkeypatch.setattr(feeds.queries, "is_mine", counted)
    first = client.get(url)
    assert uids(first.data) == set()
    client.get(url)
    client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert len(built) <= 1  # none if an earlier test's person had the same id
    outsider.is_site_admin = True
    db.session.commit()
    second = client.get(url)
    assert second.status_code == 200 and uids(second.data) == set()  # not theirs
    from partnerships.factories import forums as forum_factory

    forum_factory.member(world.forum, outsider)  # asks, and a convenor approves
    db.session.commit()
    third = client.get(url, headers={"If-None-Match": second.headers["ETag"]})
    assert third.status_code == 200 and uids(third.data) == {ical.meeting_uid(hidden.id)}
    assert len(built) <= 2  # one set of conditions per standing


def test_the_window_keeps_three_months_back_and_eighteen_ahead(
        client: Any, world: World, make_meeting: Any) -> None:
    recent = make_meeting(world.forum, "Last month", starts_in=timedelta(days=-30))
    make_meeting(world.forum, "Last year", starts_in=timedelta(days=-120))
    soon = make_meeting(world.forum, "Next year", starts_in=timedelta(days=400))
    make_meeting(world.forum, "In two years", starts_in=timedelta(days=730))
    called_off = make_meeting(world.forum, "Called off", status=MeetingStatus.CANCELLED)
    make_meeting(world.forum, "Called off last week", starts_in=timedelta(days=-7),
                 status=MeetingStatus.CANCELLED)
    assert uids(client.get(world.forum_feed).data) == {
        ical.meeting_uid(m.id) for m in (recent, soon, called_off)}


def test_unknown_partnerships_forums_and_meetings_are_404(client: Any, world: World) -> None:
    for url in ("/partnerships/nowhere/calendar.ics",
                f"/partnerships/{world.partnership.slug}/forums/nothing/calendar.ics",
                "/meetings/999.ics"):
        assert client.get(url).status_code == 404


# --- HTTP caching ---------------------------------------------------------------------------


class Clock:
    """The views' clock, moved by hand (no sleeping)."""

    def __init__(self) -> None:
        self.now = utcnow().replace(microsecond=500_000)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(calendar_views, "utcnow", clock)
    # The page cache's minute too (pagecache.py), or a feed kept a minute of real time
    # ago would still be served two days "later".
    monkeypatch.setattr(pagecache, "_minute", lambda: clock.now.replace(second=0,
                                                                        microsecond=0))
    return clock


def http_date(value: str) -> datetime:
    from email.utils import parsedate_to_datetime

    return parsedate_to_datetime(value).astimezone(UTC)


def test_etag_304_and_200_again_after_an_edit(
        client: Any, world: World, hybrid: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    meeting = hybrid(world.forum)
    first = client.get(world.forum_feed)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{40}"', etag)  # strong
    assert first.headers["Cache-Control"] == "public, max-age=3600"

    def no_building(*_args: Any, **_kwargs: Any) -> bytes:
        raise AssertionError("a 304 must not build the calendar")

    monkeypatch.setattr(calendar_views.ical, "calendar", no_building)
    second = client.get(world.forum_feed, headers={"If-None-Match": etag})
    assert second.status_code == 304 and second.data == b""
    assert second.headers["ETag"] == etag
    monkeypatch.undo()

    scheduling.update(world.officer, meeting, MeetingDetails.of(meeting).__class__(
        **{**MeetingDetails.of(meeting).__dict__, "venue_name": "Library"}))
    db.session.commit()
    third = client.get(world.forum_feed, headers={"If-None-Match": etag})
    assert third.status_code == 200 and third.headers["ETag"] != etag
    assert "Library" in unfolded(third.data)


def test_if_modified_since_answers_304_only_for_the_same_body(
        client: Any, world: World, hybrid: Any, clock: Clock) -> None:
    meeting = hybrid(world.forum)
    first = client.get(world.forum_feed)
    stamp = first.headers["Last-Modified"]
    # Within the second the feed was first built, its time is not yet settled.
    assert client.get(world.forum_feed,
                      headers={"If-Modified-Since": stamp}).status_code == 200
    clock.now += timedelta(seconds=5)
    later = client.get(world.forum_feed, headers={"If-Modified-Since": stamp})
    assert later.status_code == 200
    settled = later.headers["Last-Modified"]
    assert http_date(settled) > http_date(stamp)
    assert http_date(settled) <= clock.now
    cached = client.get(world.forum_feed, headers={"If-Modified-Since": settled})
    assert cached.status_code == 304 and cached.headers["ETag"] == first.headers["ETag"]

    scheduling.cancel(world.officer, meeting, "The room flooded")
    db.session.commit()
    changed = client.get(world.forum_feed, headers={"If-Modified-Since": settled})
    assert changed.status_code == 200 and b"STATUS:CANCELLED" in changed.data
    # If-None-Match wins over If-Modified-Since.
    stale = client.get(world.forum_feed, headers={
        "If-None-Match": first.headers["ETag"],
        "If-Modified-Since": format_datetime(clock.now + timedelta(days=1), usegmt=True)})
    assert stale.status_code == 200


def test_a_meeting_leaving_the_window_changes_the_etag(
        client: Any, world: World, make_meeting: Any, clock: Clock) -> None:
    make_meeting(world.forum, "Soon over", starts_in=timedelta(days=-91), hours=1)
    first = client.get(world.forum_feed)
    assert len(uids(first.data)) == 1
    clock.now += timedelta(days=2)
    second = client.get(world.forum_feed, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and uids(second.data) == set()


def test_renaming_the_forum_changes_the_feed(client: Any, world: World, hybrid: Any) -> None:
    hybrid(world.forum)
    first = client.get(world.forum_feed)
    world.forum.name = "VCSE Assembly"
    db.session.commit()
    second = client.get(world.forum_feed, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and b"VCSE Assembly" in second.data


def test_renaming_a_forum_or_the_partnership_changes_the_partnership_feed(
        client: Any, world: World, hybrid: Any) -> None:
    """The partnership feed's fingerprint reads its forums' names and its own name, not
    only its meetings: a host renamed is a feed changed."""
    hybrid(world.forum)
    first = client.get(world.partnership_feed)
    world.forum.name = "VCSE Assembly"
    db.session.commit()
    second = client.get(world.partnership_feed,
                        headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and b"VCSE Assembly" in second.data
    world.partnership.name = "Northbridge Together Again"
    db.session.commit()
    third = client.get(world.partnership_feed,
                       headers={"If-None-Match": second.headers["ETag"]})
    assert third.status_code == 200 and b"Northbridge Together Again" in third.data
    assert client.get(world.partnership_feed, headers={
        "If-None-Match": third.headers["ETag"]}).status_code == 304


def test_the_partnership_feed_follows_its_window_as_time_passes(
        client: Any, world: World, make_meeting: Any, clock: Clock) -> None:
    """A meeting beyond the window is not in the fingerprint; as time passes, one
    leaves and another enters, and the feed changes."""
    make_meeting(world.forum, "Soon over", starts_in=timedelta(days=-91), hours=1)
    first = client.get(world.partnership_feed)
    assert len(uids(first.data)) == 1
    later = make_meeting(world.forum, "Far ahead", starts_in=timedelta(days=700))
    db.session.commit()
    assert client.get(world.partnership_feed, headers={
        "If-None-Match": first.headers["ETag"]}).status_code == 304  # not yet in the window
    clock.now += timedelta(days=400)
    second = client.get(world.partnership_feed,
                        headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and uids(second.data) == {f"meeting-{later.id}"
                                                                f"@{ical.uid_host()}"}


def test_the_partnership_feeds_fingerprint_reads_an_index_not_meeting_rows(
        app: Any, client: Any, world: World, hybrid: Any) -> None:
    """Its cost grows with the feed's length only as an index scan does (SQLite's plan
    for the statement: the meetings from a covering index, no sort per meeting)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plan")
    hybrid(world.forum)
    stmt = feeds._partnership_fingerprint_by_slug()
    params = {"slug": world.partnership.slug, **feeds._window(utcnow())}
    compiled = stmt.compile(db.engine)
    sql = str(compiled)
    values = compiled.construct_params(params)
    ordered = [values[name] for name in compiled.positiontup]
    plan = [row[3] for row in db.session.connection().exec_driver_sql(
        "EXPLAIN QUERY PLAN " + sql, tuple(
            value.isoformat(" ") if isinstance(value, datetime) else value
            for value in ordered))]
    meetings = [step for step in plan if "meetings" in step]
    assert meetings and all("COVERING INDEX ix_meetings_partnership_calendar" in step
                            for step in meetings), plan


def test_a_change_while_building_is_not_remembered_as_the_old_state(app: Any) -> None:
    prints = iter(["before", "after"])
    with app.test_request_context("/feed.ics"):
        response = calendar_views.calendar_response(
            ("test",), utcnow(), lambda: next(prints), lambda: b"BODY",
            filename="feed.ics", cache_control="public")
        assert response.status_code == 200 and response.data == b"BODY"
        assert calendar_views.validator_cache().get(("test",)) is None
    stamp = format_datetime(utcnow() + timedelta(days=1), usegmt=True)
    with app.test_request_context("/feed.ics", headers={
            "If-None-Match": response.headers["ETag"], "If-Modified-Since": stamp}):
        again = calendar_views.calendar_response(
            ("test",), utcnow(), lambda: "after", lambda: b"BODY",
            filename="feed.ics", cache_control="public")
        assert again.status_code == 304  # the same bytes: the ETag matches


def test_an_unchanged_feed_is_sent_again_without_building(
        client: Any, auth: Any, world: World, hybrid: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Calendar apps mostly poll without validators: while nothing has changed, the
    body built last time goes out again, not a new build."""
    hybrid(world.forum)
    personal = personal_url(client, auth, world.member)
    urls = [world.forum_feed, world.partnership_feed, personal]
    first = {url: client.get(url) for url in urls}

    def no_building(*_args: Any, **_kwargs: Any) -> bytes:
        raise AssertionError("an unchanged feed must not be built again")

    monkeypatch.setattr(calendar_views.ical, "calendar", no_building)
    for url in urls:
        again = client.get(url)
        assert again.status_code == 200 and again.data == first[url].data
        assert again.headers["ETag"] == first[url].headers["ETag"]
        assert again.headers["Content-Type"] == "text/calendar; charset=utf-8"
    monkeypatch.undo()
    hybrid(world.forum, "Second meeting")
    changed = client.get(world.forum_feed)
    assert b"Second meeting" in changed.data
    assert changed.headers["ETag"] != first[world.forum_feed].headers["ETag"]


def test_sending_apologies_takes_the_joining_link_out_of_the_personal_feed(
        client: Any, auth: Any, world: World, hybrid: Any) -> None:
    """The joining link goes to a registrant who is coming, not to one who sent
    apologies: a conditional fetch after the change gets the new feed, not a 304."""
    meeting = hybrid(world.forum)
    url = personal_url(client, auth, world.stranger)
    auth.login(world.stranger)
    register = f"/meetings/{meeting.id}/register"
    assert client.submit(register, {"response": "online"}).status_code == 303
    auth.logout()
    first = client.get(url)
    assert JOIN in unfolded(first.data)
    auth.login(world.stranger)
    assert client.submit(register, {"response": "apologies"}).status_code == 303
    auth.logout()
    after = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200
    assert "Alliance meeting" in unfolded(after.data) and JOIN not in unfolded(after.data)


def test_a_304_costs_a_couple_of_queries(app: Any, client: Any, world: World, hybrid: Any,
                                         count_queries: Any) -> None:
    for n in range(30):
        hybrid(world.forum, f"Meeting {n}", starts_in=timedelta(days=n + 1))
    etag = client.get(world.partnership_feed).headers["ETag"]
    with count_queries() as log:
        assert client.get(world.partnership_feed,
                          headers={"If-None-Match": etag}).status_code == 304
    # The partnership and the fingerprint are one query (the forum feed's: two).
    assert log.count == 1, log.statements
    with count_queries() as log:
        assert client.get(world.forum_feed).status_code == 200
    etag = client.get(world.forum_feed).headers["ETag"]
    with count_queries() as log:
        assert client.get(world.forum_feed,
                          headers={"If-None-Match": etag}).status_code == 304
    assert log.count <= 2, log.statements
    with count_queries() as log:
        assert client.get(world.partnership_feed).status_code == 200
    assert log.count <= 1, log.statements  # the body built for the same fingerprint
    app.extensions.pop("meeting_calendar_validators")  # as a new worker would start
    with count_queries() as log:
        assert client.get(world.partnership_feed).status_code == 200
    assert log.count <= 3, log.statements  # and the meetings, and the fingerprint again


def test_a_partnership_feed_with_no_meetings_and_an_unknown_one(
        client: Any, make_partnership: Any) -> None:
    """The feed of a partnership with nothing in it is an empty calendar, with working
    validators; a slug no partnership has is a 404."""
    empty = make_partnership("Quiet Together")
    url = f"/partnerships/{empty.slug}/calendar.ics"
    first = client.get(url)
    assert first.status_code == 200 and b"BEGIN:VCALENDAR" in first.data
    assert b"BEGIN:VEVENT" not in first.data and b"Quiet Together" in first.data
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}
                      ).status_code == 304
    assert client.get("/partnerships/nowhere-at-all/calendar.ics").status_code == 404


def test_the_personal_feed_builds_in_few_queries(
        client: Any, auth: Any, world: World, make_forum: Any, hybrid: Any,
        count_queries: Any, clock: Clock) -> None:  # clock: no new minute in the middle
    forums = [make_forum(world.partnership, f"Forum {n}", members=[world.member])
              for n in range(4)]
    for n in range(20):
        hybrid(forums[n % 4], f"Meeting {n}", starts_in=timedelta(days=n + 1), public=n % 2)
    url = personal_url(client, auth, world.member)
    with count_queries() as log:
        response = client.get(url)
    assert response.status_code == 200 and len(uids(response.data)) == 20
    # Token, the site revision and the fingerprint, meetings, registrations, the forums
    # the person is an insider of (permissions.joining_links_for, however many forums),
    # the revision again (the fingerprint after building, unchanged), last use.
    assert log.count <= 8, log.statements
    with count_queries() as log:
        assert client.get(url, headers={"If-None-Match": response.headers["ETag"]}
                          ).status_code == 304
    assert log.count <= 2, log.statements  # the token and the revision: no fingerprint


# --- The personal feed's secret -------------------------------------------------------------


def test_a_wrong_token_is_a_plain_404(client: Any, auth: Any, world: World) -> None:
    url = personal_url(client, auth, world.member)
    token = url.split("/")[-1].removesuffix(".ics")
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    for path in (f"/calendar/{wrong}.ics", "/calendar/short.ics",
                 f"/calendar/{token}x.ics"):
        assert client.get(path).status_code == 404


def test_resetting_the_secret_kills_the_old_address_at_once(
        client: Any, auth: Any, world: World) -> None:
    old = personal_url(client, auth, world.member)
    assert client.get(old).status_code == 200
    auth.login(world.member)
    page = client.get("/my/meetings/calendar/reset")
    assert page.status_code == 200 and "stop working at once" in page.get_data(as_text=True)
    response = client.submit("/my/meetings/calendar/reset")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/my/meetings#calendar-feed")
    new_page = client.get("/my/meetings").get_data(as_text=True)
    assert old not in new_page
    match = re.search(r'value="https?://[^/"]+(/calendar/[A-Za-z0-9_-]+\.ics)"', new_page)
    assert match
    assert client.get(old).status_code == 404
    assert client.get(match.group(1)).status_code == 200
    actions = set(db.session.scalars(db.select(AuditEvent.action)))
    assert {"calendar.feed_created", "calendar.feed_reset"} <= actions


def test_the_token_is_stored_only_as_a_hash_and_is_short_enough_for_google(
        client: Any, auth: Any, world: World) -> None:
    url = personal_url(client, auth, world.member)
    token = url.split("/")[-1].removesuffix(".ics")
    assert len(token) == 32
    row = db.session.scalar(db.select(CalendarToken))
    assert token not in (row.salt, row.token_hash)
    auth.login(world.member)
    page = client.get("/my/meetings").get_data(as_text=True)
    google = re.search(r'href="(https://calendar\.google\.com/calendar/render\?cid=[^"]+)"',
                       page)
    assert google and token in google.group(1)
    # A realistic production address keeps Google's "add by URL" link under 256.
    long_host = feeds.google_subscribe(
        f"https://partnerships.northbridge-borough-council.gov.uk/calendar/{token}.ics")
    assert len(long_host) < 256


def test_a_closed_account_s_feed_is_404(client: Any, auth: Any, world: World) -> None:
    url = personal_url(client, auth, world.member)
    world.member.deleted_at = utcnow()
    db.session.commit()
    assert client.get(url).status_code == 404


def test_a_changed_secret_key_asks_for_a_reset(app: Any, client: Any, auth: Any,
                                               world: World) -> None:
    url = personal_url(client, auth, world.member)
    app.config["SECRET_KEY"] = "a-new-secret-key-after-a-leak"
    assert client.get(url).status_code == 404
    auth.login(world.member)
    page = client.get("/my/meetings").get_data(as_text=True)
    assert "no longer works" in page and "Reset my calendar link" in page


def test_personal_feeds_are_rate_limited_per_token(
        app: Any, client: Any, auth: Any, world: World) -> None:
    app.config["CALENDAR_FEED_RATE_LIMIT"] = "3 per minute"
    mine = personal_url(client, auth, world.member)
    theirs = personal_url(client, auth, world.stranger)
    assert [client.get(mine).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert client.get(theirs).status_code == 200


def test_only_signed_in_people_make_or_reset_a_link_and_only_with_the_form(
        client: Any, auth: Any, world: World) -> None:
    for path in ("/my/meetings/calendar", "/my/meetings/calendar/reset"):
        response = client.post(path)
        assert response.status_code in (302, 400)
        assert db.session.scalar(db.select(CalendarToken)) is None
    auth.login(world.member)
    assert client.post("/my/meetings/calendar").status_code == 400  # no CSRF token
    assert db.session.scalar(db.select(CalendarToken)) is None
    # No link yet: the reset page sends the person back to make one.
    response = client.get("/my/meetings/calendar/reset")
    assert response.status_code == 303


# --- The pages ------------------------------------------------------------------------------


def test_the_meeting_page_offers_the_download_and_google_and_outlook_links(
        client: Any, auth: Any, world: World, hybrid: Any) -> None:
    meeting = hybrid(world.forum, "Alliance & friends")
    page = client.get(f"/meetings/{meeting.id}/").get_data(as_text=True)
    assert f'href="/meetings/{meeting.id}.ics"' in page
    google = re.search(r'href="(https://calendar\.google\.com/calendar/render\?action=TEMPLATE'
                       r'[^"]+)"', page)
    outlook = re.search(r'href="(https://outlook\.live\.com/calendar/0/deeplink/compose[^"]+)"',
                        page)
    assert google and outlook
    start = meeting.starts_at.strftime("%Y%m%dT%H%M%SZ")
    end = meeting.ends_at.strftime("%Y%m%dT%H%M%SZ")
    assert f"dates={start}/{end}" in google.group(1)
    assert "text=Alliance%20%26amp%3B%20friends" not in google.group(1)
    assert "text=Alliance%20%26%20friends" in google.group(1)
    assert "startdt=" + meeting.starts_at.strftime("%Y-%m-%dT%H%%3A%M%%3A%SZ") in outlook.group(1)
    assert "meet.example.org" not in google.group(1)
    auth.login(world.member)
    page = client.get(f"/meetings/{meeting.id}/").get_data(as_text=True)
    assert "meet.example.org%2Froom-42" in page  # the member's Google details carry it


def test_a_cancelled_meeting_page_offers_the_file_to_update_calendars(
        client: Any, world: World, make_meeting: Any) -> None:
    meeting = make_meeting(world.forum, status=MeetingStatus.CANCELLED)
    page = client.get(f"/meetings/{meeting.id}/").get_data(as_text=True)
    assert f'href="/meetings/{meeting.id}.ics"' in page and "mark it cancelled" in page
    assert "calendar.google.com" not in page


def test_meetings_lists_offer_a_subscription(client: Any, auth: Any, world: World) -> None:
    page = client.get(f"/partnerships/{world.partnership.slug}/forums/{world.forum.slug}"
                      "/meetings/").get_data(as_text=True)
    assert "Subscribe to these meetings" in page
    assert f'href="webcal://localhost{world.forum_feed}"' in page
    assert f'value="http://localhost{world.forum_feed}" readonly' in page
    assert "data-copy-target" in page and "Apple Calendar" in page
    page = client.get(f"/partnerships/{world.partnership.slug}/meetings/").get_data(
        as_text=True)
    assert f'href="webcal://localhost{world.partnership_feed}"' in page
    assert "<script>" not in page  # the copy button comes from app.mjs (CSP: no inline script)


def test_my_meetings_offers_to_create_the_personal_link_with_a_warning(
        client: Any, auth: Any, world: World) -> None:
    auth.login(world.member)
    page = client.get("/my/meetings").get_data(as_text=True)
    assert "Create my calendar link" in page and "/calendar/" not in page
    client.submit("/my/meetings/calendar", page="/my/meetings")
    client.submit("/my/meetings/calendar", page="/my/meetings/calendar/reset")  # still one
    assert db.session.scalar(db.select(db.func.count(CalendarToken.id))) == 1
    page = client.get("/my/meetings").get_data(as_text=True)
    assert "Anyone who has it can see these meetings" in page
    assert "webcal://localhost/calendar/" in page and "Reset my calendar link" in page


def test_the_fingerprint_is_worked_out_once_per_revision_and_minute(
        client: Any, auth: Any, world: World, hybrid: Any, count_queries: Any,
        clock: Clock) -> None:
    """While nothing changes, in the same minute, a personal feed's fingerprint (the
    query that groups its meetings) is not read again; any change, or the next minute,
    and it is."""
    hybrid(world.forum, "Steering group")
    url = personal_url(client, auth, world.member)
    etag = client.get(url).headers["ETag"]

    def fingerprint_reads() -> int:
        with count_queries() as log:
            assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
        return sum("GROUP BY" in statement for statement in log.statements)

    assert fingerprint_reads() == 0
    clock.now += timedelta(minutes=1)
    assert fingerprint_reads() == 1
    assert fingerprint_reads() == 0
    hybrid(world.forum, "Another meeting")  # a change: the fingerprint is read, and moves
    with count_queries() as log:
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 200
    assert any("GROUP BY" in statement for statement in log.statements)
