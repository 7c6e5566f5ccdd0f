"""Meetings of the partnership itself (issue 15): its board, an annual assembly. Officers
schedule them, one-off or a series, from the partnership's meetings page; the
partnership's own notice period applies; members-only means the people of its member
organisations (and its officers), never a forum's members as such; everything a forum's
meeting has (agenda, item requests, registration, minutes, actions carried to the next
meeting, emails, feeds) works on them through the same pages.

The route x role table in test_meetings_permissions.py runs every meeting route for
partnership meetings too; this file follows the journeys and the boundaries around
scheduling, visibility and who is emailed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from partnerships.accounts.models import User
from partnerships.extensions import db
from partnerships.forums.models import Forum, Visibility
from partnerships.meetings import agenda, records
from partnerships.meetings.models import (
    ActionItem,
    AgendaItem,
    Meeting,
    MeetingFormat,
    MeetingSeries,
    Registration,
)
from partnerships.meetings.scheduling import MeetingDetails, schedule
from partnerships.partnership.models import Partnership

SIGN_IN = "/account/sign-in"
TOKEN_PAGE = "/account/sign-out"  # any signed-in page with a CSRF-protected form


@dataclass
class World:
    partnership: Partnership
    forum: Forum
    officer: User
    org_person: User  # a person of a member organisation, in no forum
    convenor: User  # runs a forum of the partnership, in no member organisation
    forum_member: User  # in the forum, in no member organisation
    stranger: User

    @property
    def meetings_url(self) -> str:
        return f"/partnerships/{self.partnership.slug}/meetings/"

    @property
    def new_url(self) -> str:
        return f"/partnerships/{self.partnership.slug}/meetings/new"


@pytest.fixture
def world(make_user: Any, make_partnership: Any, make_forum: Any,
          make_organisation: Any) -> World:
    officer = make_user("Olu Officer", "officer@example.org")
    org_person = make_user("Pat Partner", "pat@cvs.example.org")
    convenor = make_user("Cara Convenor", "convenor@example.org")
    forum_member = make_user("Fern Forum", "fern@example.org")
    stranger = make_user("Sam Stranger", "stranger@example.org")
    cvs = make_organisation("Northbridge CVS", members=[org_person])
    partnership = make_partnership(officers=[officer], members=[cvs])
    forum = make_forum(partnership, "VCSE Alliance", convenors=[convenor],
                       members=[forum_member])
    return World(partnership, forum, officer, org_person, convenor, forum_member, stranger)


def form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Partnership board", "description": "The quarterly board.",
        "day": ["10", "3", "2027"], "start": "14:00", "end": "16:00", "format": "in_person",
        "venue_name": "Northbridge Town Hall", "venue_address": "Market Square",
        "step_free_access": "yes", "hearing_loop": "", "parking": "", "public_transport": "",
        "access_notes": "", "joining_url": "", "joining_details": "", "capacity": "",
        "visibility": "public", "repeat": "",
    }
    data.update(overrides)
    return data


def meetings() -> list[Meeting]:
    db.session.expire_all()
    return list(db.session.scalars(select(Meeting).order_by(Meeting.starts_at)))


def board(world: World, *, public: bool = True, starts_in: int = 20,
          title: str = "Partnership board") -> Meeting:
    """A meeting of the partnership itself, scheduled by its officer through the
    service, ``starts_in`` days from today."""
    day = date.today() + timedelta(days=starts_in)
    (made,) = schedule(world.officer, world.partnership, MeetingDetails(
        title=title, day=day, start=time(14), end=time(16), format=MeetingFormat.IN_PERSON,
        visibility=Visibility.PUBLIC if public else Visibility.MEMBERS,
        venue_name="Town Hall", venue_address="Market Square"))
    db.session.commit()
    return made


def _text(client: Any, url: str) -> tuple[int, str]:
    response = client.get(url)
    return response.status_code, response.get_data(as_text=True)


# --- Scheduling ---------------------------------------------------------------------------


def test_an_officer_schedules_a_quarterly_board_from_the_partnership_meetings_page(
        client: Any, auth: Any, world: World) -> None:
    auth.login(world.officer)
    status, page = _text(client, world.meetings_url)
    assert status == 200
    assert "Schedule a meeting" in page and f'href="{world.new_url}"' in page
    status, page = _text(client, world.new_url)
    assert status == 200
    assert "People of Northbridge Together&#39;s member organisations only" in page
    response = client.submit(world.new_url, form_data(
        visibility="members", repeat="quarterly_nth_weekday", count="4"))
    assert response.status_code == 303
    made = meetings()
    assert len(made) == 4
    assert {m.forum_id for m in made} == {None}
    assert {m.partnership_id for m in made} == {world.partnership.id}
    (series,) = db.session.scalars(select(MeetingSeries))
    assert series.forum_id is None and series.partnership_id == world.partnership.id
    status, page = _text(client, response.headers["Location"])
    assert status == 200
    assert "Partnership board" in page and "VCSE Alliance" not in page
    assert "People of Northbridge Together&#39;s member organisations only" in page
    # The page and the partnership's list agree on where the meeting belongs.
    assert f'href="{world.meetings_url}"' in page
    assert "Partnership board" in _text(client, world.meetings_url)[1]


@pytest.mark.parametrize("who", ["org_person", "convenor", "forum_member", "stranger"])
def test_only_officers_schedule_the_partnerships_meetings(
        client: Any, auth: Any, world: World, who: str) -> None:
    """A member organisation's person, a forum's convenor or member: not officers, so
    no button, and the page and the form are refused (nothing saved)."""
    auth.login(getattr(world, who))
    status, page = _text(client, world.meetings_url)
    assert status == 200 and "Schedule a meeting" not in page
    assert client.get(world.new_url).status_code == 403
    response = client.submit(world.new_url, form_data(), page=TOKEN_PAGE)
    assert response.status_code == 403
    assert meetings() == []


def test_a_signed_out_visitor_is_asked_to_sign_in_to_schedule(client: Any,
                                                                world: World) -> None:
    response = client.get(world.new_url)
    assert response.status_code == 302 and SIGN_IN in response.headers["Location"]


def test_the_service_refuses_anyone_but_officers(world: World) -> None:
    from partnerships.errors import PermissionDenied

    for who in (world.org_person, world.convenor, world.forum_member):
        with pytest.raises(PermissionDenied):
            schedule(who, world.partnership, MeetingDetails(
                title="Board", day=date(2027, 3, 10), start=time(14), end=time(16),
                format=MeetingFormat.ONLINE, visibility=Visibility.PUBLIC,
                joining_url="https://meet.example.org/x"))
    assert meetings() == []


@pytest.mark.parametrize("overrides,field,message", [
    ({"title": ""}, "title", "Enter a title"),
    ({"end": "13:00"}, "end", "The end time must be after the start time"),
    ({"format": "online", "joining_url": ""}, "joining_url", "Enter the joining link"),
    ({"repeat": "quarterly_nth_weekday", "count": "99"}, "count", "between 2 and 36"),
])
def test_bad_input_is_refused_and_what_was_typed_is_kept(
        client: Any, auth: Any, world: World, overrides: dict[str, Any], field: str,
        message: str) -> None:
    auth.login(world.officer)
    response = client.submit(world.new_url, form_data(description="Keep me", **overrides))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "govuk-error-summary" in page and message in page
    assert f'href="#{field}' in page and "Keep me" in page
    assert meetings() == []


# --- Notice -----------------------------------------------------------------------------------


def test_the_partnerships_own_notice_period_applies_and_officers_set_it(
        client: Any, auth: Any, world: World) -> None:
    auth.login(world.officer)
    edit = f"/partnerships/{world.partnership.slug}/edit"
    page = client.get(edit).get_data(as_text=True)
    assert 'name="notice_days"' in page and 'value="5"' in page
    fields = {"name": world.partnership.name, "place": world.partnership.place,
              "description": "", "principles": ["partnership"], "contact_email": ""}
    response = client.submit(edit, {**fields, "notice_days": "99", "place": "Keep me"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Agenda notice must be from 0 to 20 clear working days" in page
    assert "Keep me" in page
    assert client.submit(edit, {**fields, "notice_days": "8"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Partnership, world.partnership.id).notice_days == 8  # type: ignore[union-attr]
    meeting = board(world, starts_in=40)
    page = client.get(f"/meetings/{meeting.id}/").get_data(as_text=True)
    assert "the partnership gives 8 clear working days" in page
    # A forum's meetings keep the forum's own notice.
    assert agenda.notice_for(meeting).days == 8
    assert world.forum.notice_days == 5


def test_a_member_organisations_person_cannot_change_the_notice(
        client: Any, auth: Any, world: World) -> None:
    auth.login(world.org_person)
    response = client.submit(f"/partnerships/{world.partnership.slug}/edit",
                             {"notice_days": "0"}, page=TOKEN_PAGE)
    assert response.status_code in (403, 404)
    db.session.expire_all()
    assert db.session.get(Partnership, world.partnership.id).notice_days == 5  # type: ignore[union-attr]


# --- Who sees a members-only meeting of the partnership --------------------------------------


def test_a_members_only_partnership_meeting_is_for_member_organisations_people(
        client: Any, auth: Any, world: World) -> None:
    meeting = board(world, public=False, title="Zqboard closed session")
    url = f"/meetings/{meeting.id}/"
    feed = f"/partnerships/{world.partnership.slug}/calendar.ics"
    # Signed out: sign in first; never listed, never in the public feed.
    response = client.get(url)
    assert response.status_code == 302 and SIGN_IN in response.headers["Location"]
    for page in (world.meetings_url, f"/partnerships/{world.partnership.slug}/", feed):
        assert "zqboard" not in _text(client, page)[1].lower(), page
    assert "1 members-only meeting is coming up" in _text(client, world.meetings_url)[1]
    # A forum's convenor and member are not, as such, the partnership's people.
    for outsider in (world.forum_member, world.convenor, world.stranger):
        auth.login(outsider)
        status, page = _text(client, url)
        assert status == 403
        assert "Zqboard" not in page
        assert "people of Northbridge Together&#39;s member organisations" in page
        for listing in (world.meetings_url, "/my/meetings", "/my/", feed):
            assert "zqboard" not in _text(client, listing)[1].lower(), listing
        auth.logout()
    for insider in (world.org_person, world.officer):
        auth.login(insider)
        assert _text(client, url)[0] == 200
        assert "Zqboard" in _text(client, world.meetings_url)[1]
        assert "Zqboard" in _text(client, "/my/meetings")[1]  # their partnership's
        assert "zqboard" not in _text(client, feed)[1].lower()  # public feed: never
        auth.logout()


# --- Agenda, requests, registration, minutes, actions -------------------------------------------


def test_the_whole_cycle_works_on_a_partnership_meeting(
        client: Any, auth: Any, world: World, outbox: Any) -> None:
    """Agenda published (its emails to the partnership's people, not a forum's), an
    item requested by a member organisation's person and refused to a forum member,
    registration, minutes with an action, and the action carried to the next
    meeting's matters arising."""
    held = board(world, public=False, starts_in=-7, title="Winter board")
    held.agenda_status = agenda.AgendaStatus.PUBLISHED  # it went out before the meeting
    db.session.commit()
    upcoming = board(world, public=False, starts_in=30, title="Spring board")
    auth.login(world.officer)
    # The agenda of the coming meeting: an item, then publish.
    assert client.submit(f"/meetings/{upcoming.id}/agenda/items/new",
                         {"title": "Shared priorities"}).status_code == 303
    assert client.submit(f"/meetings/{upcoming.id}/agenda/publish", {}).status_code == 303
    told = {message.to for message in outbox()}
    assert world.org_person.email in told
    assert not told & {world.forum_member.email, world.convenor.email, world.stranger.email}
    auth.logout()

    # Item requests: the partnership's people, not a forum's members.
    auth.login(world.forum_member)
    assert client.get(f"/meetings/{upcoming.id}/requests/new").status_code == 403
    auth.logout()
    auth.login(world.org_person)
    response = client.submit(f"/meetings/{upcoming.id}/requests/new",
                             {"title": "Grants for small groups", "reason": "Fairness",
                              "presenter": ""})
    assert response.status_code == 303
    assert any(m.to == world.officer.email and "Agenda item requested" in m.subject
               for m in outbox())
    # Registration.
    response = client.submit(f"/meetings/{upcoming.id}/register",
                             {"response": "in_person", "access_requirements": ""})
    assert response.status_code == 303
    assert db.session.scalar(select(Registration).where(
        Registration.meeting_id == upcoming.id,
        Registration.user_id == world.org_person.id)) is not None
    auth.logout()

    # Minutes of the held meeting, with an action for the member organisation's person.
    auth.login(world.officer)
    page = client.get(f"/meetings/{held.id}/actions/new").get_data(as_text=True)
    assert world.org_person.name in page and world.forum_member.name not in page
    response = client.submit(f"/meetings/{held.id}/actions/new", {
        "description": "Draft a simpler grant form", "owner_id": str(world.org_person.id),
        "owner_organisation_id": "", "item_id": "", "due_date": ""})
    assert response.status_code == 303
    (action,) = db.session.scalars(select(ActionItem))
    assert action.forum_id is None
    assert client.submit(f"/meetings/{held.id}/minutes",
                         {"summary": "We agreed the priorities."}).status_code == 303
    assert client.submit(f"/meetings/{held.id}/minutes/publish", {},
                         page=f"/meetings/{held.id}/minutes").status_code == 303
    assert any(m.subject.startswith("Minutes published in ") and "Winter board" in m.subject
               and m.to == world.org_person.email
               for m in outbox())
    # Matters arising at the next meeting of the partnership (not of a forum).
    page = client.get(f"/meetings/{upcoming.id}/").get_data(as_text=True)
    assert "Draft a simpler grant form" in page
    forum_meeting_page = _forum_meeting_page(client, world)
    assert "Draft a simpler grant form" not in forum_meeting_page
    items = list(db.session.scalars(select(AgendaItem).where(
        AgendaItem.meeting_id == upcoming.id)))
    assert [item.title for item in items] == ["Shared priorities"]
    owners = dict(records.people_choices(upcoming))
    assert {world.officer.id, world.org_person.id} <= set(owners)
    assert not {world.forum_member.id, world.convenor.id, world.stranger.id} & set(owners)


def _forum_meeting_page(client: Any, world: World) -> str:
    (made,) = schedule(world.convenor, world.forum, MeetingDetails(
        title="Alliance meeting", day=date.today() + timedelta(days=40), start=time(10),
        end=time(12), format=MeetingFormat.ONLINE, visibility=Visibility.PUBLIC,
        joining_url="https://meet.example.org/a"))
    db.session.add(AgendaItem(meeting_id=made.id, position=1, title="Welcome"))
    made.agenda_status = agenda.AgendaStatus.PUBLISHED
    db.session.commit()
    return client.get(f"/meetings/{made.id}/").get_data(as_text=True)


def test_lists_and_a_board_page_keep_the_query_budgets_of_forum_meetings(
        client: Any, auth: Any, world: World, make_meeting: Any,
        count_queries: Any) -> None:
    """The budgets of test_meetings.py (lists 12, a meeting page 16), with the
    partnership's own meetings among its forums'."""
    for n in range(30):
        make_meeting(world.partnership, f"Board {n}", starts_in=timedelta(days=n + 1),
                     public=n % 3 != 0)
    for n in range(15):
        make_meeting(world.forum, f"Alliance {n}", starts_in=timedelta(days=n + 1))
    auth.login(world.org_person)
    for url in (world.meetings_url, "/my/meetings", f"/partnerships/{world.partnership.slug}/"):
        with count_queries() as log:
            response = client.get(url)
        assert response.status_code == 200
        assert "Board 0" in response.get_data(as_text=True), url  # members-only: theirs
        assert log.count <= 12, (url, log.statements)
    first = db.session.scalar(select(Meeting.id).where(Meeting.title == "Board 1"))
    with count_queries() as log:
        assert client.get(f"/meetings/{first}/").status_code == 200
    assert log.count <= 16, log.statements


def test_a_forums_meeting_always_belongs_to_the_forums_partnership(
        world: World, make_partnership: Any) -> None:
    """Made with only ``forum_id`` (older code, tests) it takes the forum's
    partnership; naming another partnership is refused before anything is written."""
    from datetime import UTC, datetime

    starts = datetime(2027, 3, 10, 10, tzinfo=UTC)
    made = Meeting(forum_id=world.forum.id, title="Old style", starts_at=starts,
                   ends_at=starts + timedelta(hours=1), format=MeetingFormat.ONLINE)
    db.session.add(made)
    db.session.commit()
    assert made.partnership_id == world.partnership.id
    other = make_partnership("Eastshire Health")
    db.session.add(Meeting(forum_id=world.forum.id, partnership_id=other.id, title="Wrong",
                           starts_at=starts, ends_at=starts + timedelta(hours=1),
                           format=MeetingFormat.ONLINE))
    with pytest.raises(ValueError, match="forum's partnership"):
        db.session.flush()
    db.session.rollback()
    assert [m.title for m in meetings()] == ["Old style"]


def test_the_attendance_list_of_a_partnership_meeting_is_its_own_people(
        client: Any, auth: Any, world: World) -> None:
    """The organiser can tick the partnership's people (its member organisations'
    people and officers) who did not register, and no forum's members."""
    held = board(world, public=True, starts_in=-2, title="Autumn board")
    auth.login(world.officer)
    page = client.get(f"/meetings/{held.id}/attendance").get_data(as_text=True)
    assert world.org_person.name in page and world.officer.name in page
    assert world.forum_member.name not in page and world.convenor.name not in page
    names = {entry.name for entry in records.attendance_list(held)}
    assert {world.org_person.name, world.officer.name} <= names
    assert not names & {world.forum_member.name, world.convenor.name, world.stranger.name}


def test_leaving_a_member_organisation_gives_up_places_at_members_only_board_meetings(
        app: Any, make_user: Any, make_organisation: Any, world: World) -> None:
    """As leaving a forum does for its meetings: someone who is no longer one of the
    partnership's people loses their place at its members-only meetings to come, and
    the next person waiting gets it; someone still inside through another member
    organisation, or as an officer, keeps theirs."""
    from partnerships.factories import meetings as meeting_factory
    from partnerships.meetings.models import RegistrationStatus
    from partnerships.organisations import services as organisations
    from partnerships.organisations.models import OrganisationMember, RequestStatus
    from partnerships.partnership import services as partnership_services
    from partnerships.partnership.models import PartnershipMember, PartnershipOfficer

    waiting = make_user("Wyn Waiting", "wyn@cvs.example.org")
    both = make_user("Bo Both", "bo@example.org")
    icb = make_organisation("Northbridge ICB", members=[both])
    db.session.add(PartnershipMember(partnership_id=world.partnership.id,
                                     organisation_id=icb.id, status=RequestStatus.ACTIVE))
    cvs_id = db.session.scalar(select(PartnershipMember.organisation_id).where(
        PartnershipMember.partnership_id == world.partnership.id,
        PartnershipMember.organisation_id != icb.id))
    for person in (waiting, both):
        db.session.add(OrganisationMember(organisation_id=cvs_id, user_id=person.id,
                                          status=RequestStatus.ACTIVE))
    db.session.commit()
    held = board(world, public=False, starts_in=10, title="Closed board")
    held.capacity = 3
    db.session.commit()
    for person in (world.org_person, both, world.officer, waiting):
        meeting_factory.registration(held, person)
    db.session.commit()

    def status(person: User) -> RegistrationStatus:
        return db.session.scalar(select(Registration.status).where(
            Registration.meeting_id == held.id, Registration.user_id == person.id))

    assert status(waiting) is RegistrationStatus.WAITING

    def leave_cvs(person: User) -> None:
        link = db.session.scalar(select(OrganisationMember).where(
            OrganisationMember.organisation_id == cvs_id,
            OrganisationMember.user_id == person.id))
        organisations.remove_member(person, link)
        db.session.commit()

    leave_cvs(both)  # still in the ICB, a member too
    assert status(both) is RegistrationStatus.CONFIRMED
    leave_cvs(world.org_person)
    assert status(world.org_person) is RegistrationStatus.CANCELLED
    assert status(waiting) is RegistrationStatus.CONFIRMED
    # An officer removed, in no member organisation, goes too.
    officer_row = db.session.scalar(select(PartnershipOfficer).where(
        PartnershipOfficer.user_id == world.officer.id))
    admin = make_user("Ada Admin", "ada@example.org", site_admin=True)
    partnership_services.remove_officer(admin, officer_row)
    db.session.commit()
    assert status(world.officer) is RegistrationStatus.CANCELLED
    assert held.places_taken == 2
