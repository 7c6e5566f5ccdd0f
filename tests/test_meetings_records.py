"""After the meeting: attendance with walk-ins, minutes per item (draft, then
published), decisions, actions and their updates, "My actions", and actions carried to
the next meeting's matters arising. Who may do each, what bad input does, and how many
queries the pages cost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from partnerships import permissions
from partnerships.accounts.models import User
from partnerships.audit import AuditEvent
from partnerships.extensions import db
from partnerships.forums.models import Forum
from partnerships.meetings import queries, records
from partnerships.meetings.models import (
    ActionItem,
    ActionStatus,
    ActionUpdate,
    AgendaItem,
    AgendaStatus,
    Attendance,
    Decision,
    Meeting,
    MeetingStatus,
    MinutesStatus,
    Registration,
    RegistrationStatus,
    Response,
    StandardItem,
)
from partnerships.organisations.models import Organisation
from partnerships.partnership.models import Partnership
from partnerships.timeutil import today_uk

from .conftest import link_in

SIGN_IN = "/account/sign-in"
TOKEN_PAGE = "/account/sign-out"  # any signed-in page with a CSRF-protected form


@dataclass
class World:
    partnership: Partnership
    forum: Forum
    organisation: Organisation
    officer: User
    convenor: User
    member: User
    colleague: User
    org_admin: User
    stranger: User
    past: Meeting
    future: Meeting


@pytest.fixture
def world(make_user: Any, make_partnership: Any, make_forum: Any, make_organisation: Any,
          make_meeting: Any) -> World:
    officer = make_user("Olu Officer", "officer@example.org")
    convenor = make_user("Cara Convenor", "convenor@example.org")
    member = make_user("Mo Member", "member@example.org")
    colleague = make_user("Kit Colleague", "colleague@example.org")
    org_admin = make_user("Ada Admin", "orgadmin@example.org")
    stranger = make_user("Sam Stranger", "stranger@example.org")
    organisation = make_organisation("Eastside Food Bank", admin=org_admin)
    partnership = make_partnership(officers=[officer], members=[organisation])
    forum = make_forum(partnership, "VCSE Alliance", convenors=[convenor],
                       members=[member, colleague])
    past = make_meeting(forum, "March meeting", starts_in=timedelta(days=-3))
    future = make_meeting(forum, "April meeting", starts_in=timedelta(days=25),
                          agenda_status=AgendaStatus.PUBLISHED)
    return World(partnership, forum, organisation, officer, convenor, member, colleague,
                 org_admin, stranger, past, future)


def add_items(meeting: Meeting, count: int = 2) -> list[AgendaItem]:
    items = [AgendaItem(meeting_id=meeting.id, position=n, title=f"Item {n}")
             for n in range(1, count + 1)]
    db.session.add_all(items)
    db.session.commit()
    return items


def register(meeting: Meeting, user: User, response: Response = Response.IN_PERSON,
             status: RegistrationStatus = RegistrationStatus.CONFIRMED) -> Registration:
    registration = Registration(meeting_id=meeting.id, user_id=user.id, response=response,
                                status=status, holds_place=False)
    db.session.add(registration)
    db.session.commit()
    return registration


def make_action(meeting: Meeting, description: str = "Send the funding report",
                owner: User | None = None, organisation: Organisation | None = None,
                status: ActionStatus = ActionStatus.OPEN,
                due: date | None = None) -> ActionItem:
    action = ActionItem(meeting_id=meeting.id, forum_id=meeting.forum_id,
                        description=description, owner_id=owner.id if owner else None,
                        owner_organisation_id=organisation.id if organisation else None,
                        status=status, due_date=due)
    db.session.add(action)
    db.session.commit()
    return action


def write_minutes(meeting: Meeting, summary: str = "We met and agreed things.",
                  published: bool = False) -> None:
    meeting.minutes_summary = summary
    meeting.minutes_status = MinutesStatus.PUBLISHED if published else MinutesStatus.DRAFT
    db.session.commit()


def fresh(model: Any, row_id: int) -> Any:
    db.session.expire_all()
    return db.session.get(model, row_id)


def page(client: Any, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


# --- The officer's journey ----------------------------------------------------------------


def test_officer_records_a_meeting_and_its_action_is_carried_to_the_next_one(
        client, auth, world, outbox):
    items = add_items(world.past, 2)
    came = register(world.past, world.member)
    sorry = register(world.past, world.colleague, Response.APOLOGIES)
    auth.login(world.officer)
    base = f"/meetings/{world.past.id}"

    # Attendance: one radio group per registrant, the apologies already suggested.
    html = page(client, f"{base}/attendance")
    assert "Mo Member" in html and "Kit Colleague" in html
    assert f'name="attendance-{came.id}"' in html
    response = client.submit(f"{base}/attendance", {
        f"attendance-{came.id}": "present", f"attendance-{sorry.id}": "apologies"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{base}/#minutes")
    assert fresh(Registration, came.id).attendance is Attendance.PRESENT
    assert fresh(Registration, sorry.id).attendance is Attendance.APOLOGIES

    # A walk-in: present, no account, holding no counted place.
    response = client.submit(f"{base}/attendance/walk-in",
                             {"name": "Wendy Walker", "organisation": "Tenants' Forum"},
                             page=f"{base}/attendance")
    assert response.status_code == 303
    walk_in = db.session.scalar(select(Registration).where(
        Registration.walk_in_name == "Wendy Walker"))
    assert walk_in.user_id is None and walk_in.walk_in_organisation == "Tenants' Forum"
    assert walk_in.response is Response.IN_PERSON
    assert walk_in.status is RegistrationStatus.CONFIRMED
    assert walk_in.holds_place is False and walk_in.attendance is Attendance.PRESENT
    assert fresh(Meeting, world.past.id).places_taken == 0
    # The forum's convenor did not register and is not marked yet.
    assert "Attendance recorded: 2 present, 1 apologies, 0 absent, 1 not marked" in page(
        client, f"{base}/attendance")

    # Minutes per item and a summary: a draft.
    response = client.submit(f"{base}/minutes", {
        "summary": "A **lively** meeting.", f"item-{items[0].id}": "We welcomed everyone.",
        f"item-{items[1].id}": "The food bank reported on winter demand."})
    assert response.status_code == 303
    meeting = fresh(Meeting, world.past.id)
    assert meeting.minutes_status is MinutesStatus.DRAFT
    assert meeting.minutes_summary == "A **lively** meeting."
    assert fresh(AgendaItem, items[1].id).minutes.startswith("The food bank")

    # A decision and an action about item 2.
    response = client.submit(f"{base}/decisions/new", {
        "text": "Fund the winter appeal", "item_id": str(items[1].id)})
    assert response.status_code == 303
    decision = db.session.scalar(select(Decision))
    assert decision.item_id == items[1].id and decision.text == "Fund the winter appeal"

    response = client.submit(f"{base}/actions/new", {
        "description": "Send the winter demand figures", "owner_id": str(world.member.id),
        "owner_organisation_id": str(world.organisation.id),
        "due_date": ["1", "2", "2020"], "already_due": "y", "item_id": str(items[1].id)})
    assert response.status_code == 303
    action = db.session.scalar(select(ActionItem))
    assert action.owner_id == world.member.id
    assert action.owner_organisation_id == world.organisation.id
    assert action.forum_id == world.forum.id and action.status is ActionStatus.OPEN
    assert action.due_date == date(2020, 2, 1)
    assigned = outbox(to="member@example.org")
    assert len(assigned) == 1 and "Send the winter demand figures" in assigned[0].body
    assert link_in(assigned[0]) == f"/actions/{action.id}"

    # The organiser sees the draft; members and the public do not.
    html = page(client, f"{base}/")
    assert "Draft" in html and "lively" in html and "Fund the winter appeal" in html
    for who in (world.member, None):
        if who:
            auth.login(who)
        else:
            auth.logout()
        html = page(client, f"{base}/")
        assert "lively" not in html and "Fund the winter appeal" not in html
        assert "Wendy Walker" not in html

    # Publish: members and the people who came are emailed.
    auth.login(world.officer)
    before = len(outbox())
    response = client.submit(f"{base}/minutes/publish", {"agenda_confirmed": "yes"},
                             page=f"{base}/minutes/publish")
    assert response.status_code == 303
    meeting = fresh(Meeting, world.past.id)
    assert meeting.minutes_status is MinutesStatus.PUBLISHED
    assert meeting.minutes_published_at is not None
    published = outbox()[before:]
    assert {m.to for m in published} == {"convenor@example.org", "member@example.org",
                                         "colleague@example.org"}
    assert all(m.subject == f"Minutes published in {meeting.forum.name}: March meeting"
               for m in published)
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "meeting.minutes_published")) is not None

    # The public sees the minutes and the counts, not the names.
    auth.logout()
    html = page(client, f"{base}/")
    assert "<strong>lively</strong>" in html and "Fund the winter appeal" in html
    assert "Send the winter demand figures" in html
    assert "Attendance recorded: 2 present, 1 apologies, 0 absent" in html
    assert "Wendy Walker" not in html and "Present:" not in html
    # Members see who came.
    auth.login(world.colleague)
    section = page(client, f"{base}/").split('id="minutes"')[1]
    assert "Wendy Walker, Tenants&#39; Forum" in section and "Present:" in section

    # The action is carried to the next meeting of the forum, and is on My actions.
    assert [a.id for a in queries.open_actions_before(fresh(Meeting, world.future.id))] == [
        action.id]
    assert "Send the winter demand figures" in page(client, f"/meetings/{world.future.id}/")
    auth.login(world.member)
    mine = page(client, "/my/actions")
    assert "Send the winter demand figures" in mine and "Overdue" in mine
    assert "Was due 1 February 2020" in mine

    # The owner reports progress, then marks it done.
    response = client.submit(f"/actions/{action.id}", {"body": "Figures drafted",
                                                       "status": "open"})
    assert response.status_code == 303
    response = client.submit(f"/actions/{action.id}", {"body": "Sent to the board",
                                                       "status": "done"})
    assert response.status_code == 303
    assert fresh(ActionItem, action.id).status is ActionStatus.DONE
    html = page(client, f"/actions/{action.id}")
    assert "Figures drafted" in html and "Sent to the board" in html
    assert html.count("Mo Member, ") >= 2  # who wrote each update, and when
    assert queries.open_actions_before(fresh(Meeting, world.future.id)) == []
    assert "Send the winter demand figures" not in page(client,
                                                        f"/meetings/{world.future.id}/")
    mine = page(client, "/my/actions")
    assert "You have no open actions" in mine and "Done or dropped" in mine


def test_owner_marks_an_action_done_from_my_actions(client, auth, world):
    write_minutes(world.past, published=True)
    action = make_action(world.past, owner=world.member)
    auth.login(world.member)
    response = client.submit(f"/actions/{action.id}",
                             {"status": "done", "next": "my_actions"}, page="/my/actions")
    assert response.status_code == 303 and response.headers["Location"].endswith(
        "/my/actions")
    action = fresh(ActionItem, action.id)
    assert action.status is ActionStatus.DONE
    assert [(u.status, u.body) for u in action.updates] == [(ActionStatus.DONE, "")]


def test_my_actions_lists_mine_and_my_organisations_open_first_by_due_date(
        client, auth, world, make_meeting):
    other = make_meeting(world.forum, "Older meeting", starts_in=timedelta(days=-40))
    today = today_uk()
    later = make_action(world.past, "Later", owner=world.org_admin,
                        due=today + timedelta(days=30))
    undated = make_action(world.past, "Undated", organisation=world.organisation)
    soon = make_action(other, "Soon", owner=world.org_admin, due=today + timedelta(days=2))
    late = make_action(world.past, "Late", organisation=world.organisation,
                       due=today - timedelta(days=1))
    make_action(world.past, "Done already", owner=world.org_admin, status=ActionStatus.DONE)
    make_action(world.past, "Someone else's", owner=world.member)
    auth.login(world.org_admin)
    html = page(client, "/my/actions")
    positions = [html.index(f">{name}</a>") for name in
                 ("Late", "Soon", "Later", "Undated", "Done already")]
    assert positions == sorted(positions)
    assert "Someone else&#39;s" not in html and "Someone else's" not in html
    assert html.count("govuk-tag--red") == 1  # only the overdue one
    assert f"/meetings/{other.id}/#minutes" in html
    assert {a.id for a in records.my_actions(world.org_admin).open} == {
        later.id, undated.id, soon.id, late.id}


# --- Who may do what ------------------------------------------------------------------------


def recording_routes(meeting: Meeting, action: ActionItem) -> list[tuple[str, str]]:
    base = f"/meetings/{meeting.id}"
    return [
        ("GET", f"{base}/attendance"), ("POST", f"{base}/attendance"),
        ("POST", f"{base}/attendance/walk-in"),
        ("GET", f"{base}/minutes"), ("POST", f"{base}/minutes"),
        ("GET", f"{base}/minutes/publish"), ("POST", f"{base}/minutes/publish"),
        ("GET", f"{base}/decisions/new"), ("POST", f"{base}/decisions/new"),
        ("GET", f"{base}/actions/new"), ("POST", f"{base}/actions/new"),
        ("GET", f"/actions/{action.id}/edit"), ("POST", f"/actions/{action.id}/edit"),
    ]


def call(client: Any, method: str, url: str, signed_in: bool) -> Any:
    data = {"summary": "Hijack", "name": "Intruder", "text": "Hijack",
            "description": "Hijack", "owner_id": "1", "status": "done"}
    if method == "GET":
        return client.get(url)
    return client.submit(url, data, page=TOKEN_PAGE if signed_in else SIGN_IN)


def snapshot(meeting_id: int) -> tuple[Any, ...]:
    db.session.expire_all()
    meeting = db.session.get(Meeting, meeting_id)
    return (meeting.minutes_status, meeting.minutes_summary, count(Registration),
            count(Decision), count(ActionItem), count(ActionUpdate),
            tuple(db.session.scalars(select(ActionItem.status).order_by(ActionItem.id))))


@pytest.mark.parametrize("who,expected", [
    ("anonymous", 302), ("stranger", 403), ("member", 403), ("owner", 403),
    ("org_admin", 403)])
def test_only_organisers_record_a_public_meeting(client, auth, world, who, expected):
    write_minutes(world.past, published=True)
    action = make_action(world.past, owner=world.colleague, organisation=world.organisation)
    users = {"stranger": world.stranger, "member": world.member, "owner": world.colleague,
             "org_admin": world.org_admin}
    if who != "anonymous":
        auth.login(users[who])
    before = snapshot(world.past.id)
    for method, url in recording_routes(world.past, action):
        response = call(client, method, url, who != "anonymous")
        assert response.status_code == expected, (method, url)
        if expected == 302:
            assert SIGN_IN in response.headers["Location"]
    assert snapshot(world.past.id) == before


@pytest.mark.parametrize("who", ["anonymous", "stranger", "org_admin"])
def test_a_members_only_meeting_shows_outsiders_nothing_of_itself(
        client, auth, world, make_meeting, who):
    meeting = make_meeting(world.forum, "Closed session", starts_in=timedelta(days=-2),
                           public=False)
    write_minutes(meeting, "Confidential discussion", published=True)
    action = make_action(meeting, "Confidential task", owner=world.member)
    users = {"stranger": world.stranger, "org_admin": world.org_admin}
    if who != "anonymous":
        auth.login(users[who])
    for method, url in [*recording_routes(meeting, action), ("GET", f"/actions/{action.id}"),
                        ("POST", f"/actions/{action.id}"), ("GET", f"/meetings/{meeting.id}/")]:
        response = call(client, method, url, who != "anonymous")
        if who == "anonymous":
            # Signing in comes first (the page may be theirs once they do).
            assert response.status_code == 302, (method, url)
            assert SIGN_IN in response.headers["Location"]
            continue
        # Whose meeting it is (403), never its title, minutes or actions.
        assert response.status_code == 403, (method, url)
        assert "Confidential" not in response.get_data(as_text=True)
        assert "Closed session" not in response.get_data(as_text=True)
    if who != "anonymous":
        assert "Confidential" not in page(client, "/my/actions")
        assert "Confidential" not in page(client, f"/meetings/{world.future.id}/")


def test_members_read_members_only_minutes(client, auth, world, make_meeting):
    meeting = make_meeting(world.forum, "Closed session", starts_in=timedelta(days=-2),
                           public=False)
    write_minutes(meeting, "Confidential discussion", published=True)
    action = make_action(meeting, "Confidential task", owner=world.colleague)
    auth.login(world.member)
    assert "Confidential discussion" in page(client, f"/meetings/{meeting.id}/")
    assert "Confidential task" in page(client, f"/actions/{action.id}")
    # A member who does not own it sees it but cannot update it.
    assert "Update the action" not in page(client, f"/actions/{action.id}")
    response = client.submit(f"/actions/{action.id}", {"status": "done"}, page=TOKEN_PAGE)
    assert response.status_code == 403
    assert fresh(ActionItem, action.id).status is ActionStatus.OPEN


def test_the_owner_and_their_organisations_admin_update_an_action_but_nothing_else(
        client, auth, world):
    write_minutes(world.past)  # still a draft
    mine = make_action(world.past, "Person's task", owner=world.member)
    ours = make_action(world.past, "Organisation's task", organisation=world.organisation)
    auth.login(world.member)
    assert "Update the action" in page(client, f"/actions/{mine.id}")
    assert client.get(f"/actions/{ours.id}").status_code == 404  # draft, not theirs
    assert client.submit(f"/actions/{mine.id}", {"body": "On it", "status": "open"}
                         ).status_code == 303
    assert client.get(f"/meetings/{world.past.id}/minutes").status_code == 403
    assert client.get(f"/actions/{mine.id}/edit").status_code == 403
    # The organisation's admin is not in the forum, yet updates the organisation's action.
    auth.login(world.org_admin)
    assert client.submit(f"/actions/{ours.id}", {"body": "", "status": "dropped"}
                         ).status_code == 303
    assert fresh(ActionItem, ours.id).status is ActionStatus.DROPPED
    assert client.get(f"/actions/{mine.id}").status_code == 404
    assert client.get(f"/meetings/{world.past.id}/actions/new").status_code == 403


def test_action_pages_follow_the_minutes(client, auth, world):
    write_minutes(world.past)  # draft
    action = make_action(world.past, owner=world.member)
    # Anonymous: sign in first (it may be theirs); a stranger: a draft stays unseen.
    assert SIGN_IN in client.get(f"/actions/{action.id}").headers["Location"]
    auth.login(world.stranger)
    assert client.get(f"/actions/{action.id}").status_code == 404
    world.past.minutes_status = MinutesStatus.PUBLISHED
    db.session.commit()
    html = page(client, f"/actions/{action.id}")
    assert "Send the funding report" in html and "Update the action" not in html
    response = client.submit(f"/actions/{action.id}", {"status": "done"}, page=TOKEN_PAGE)
    assert response.status_code == 403
    auth.logout()
    assert "Sign in" in page(client, f"/actions/{action.id}")
    response = client.submit(f"/actions/{action.id}", {"status": "done"}, page=SIGN_IN)
    assert response.status_code == 302 and SIGN_IN in response.headers["Location"]
    assert fresh(ActionItem, action.id).status is ActionStatus.OPEN


def test_my_actions_needs_signing_in(client):
    response = client.get("/my/actions")
    assert response.status_code == 302 and SIGN_IN in response.headers["Location"]


@pytest.mark.parametrize("who", ["officer", "convenor"])
def test_convenors_and_officers_record(client, auth, world, who):
    auth.login(getattr(world, who))
    assert client.get(f"/meetings/{world.past.id}/minutes").status_code == 200
    assert client.get(f"/meetings/{world.past.id}/attendance").status_code == 200


# --- Bad input and refused states ----------------------------------------------------------------


def test_nothing_is_recorded_before_the_meeting_starts(client, auth, world):
    auth.login(world.officer)
    action = make_action(world.past)
    before = snapshot(world.future.id)
    for method, url in recording_routes(world.future, action)[:10]:
        response = call(client, method, url, True)
        assert response.status_code == 303, (method, url)
        assert response.headers["Location"].endswith(f"/meetings/{world.future.id}/")
    assert snapshot(world.future.id) == before
    html = client.get(f"/meetings/{world.future.id}/", follow_redirects=False)
    assert html.status_code == 200
    response = client.get(f"/meetings/{world.future.id}/minutes", follow_redirects=True)
    assert "has not started yet" in response.get_data(as_text=True)
    assert "Write the minutes" not in page(client, f"/meetings/{world.future.id}/")


@pytest.mark.parametrize("status", [MeetingStatus.CANCELLED, MeetingStatus.POSTPONED])
def test_nothing_is_recorded_for_a_cancelled_or_postponed_meeting(
        client, auth, world, make_meeting, status):
    meeting = make_meeting(world.forum, "Called off", starts_in=timedelta(days=-1),
                           status=status, status_reason="Storm")
    action = make_action(world.past)
    auth.login(world.officer)
    before = snapshot(meeting.id)
    for method, url in recording_routes(meeting, action)[:10]:
        response = call(client, method, url, True)
        assert response.status_code == 303, (method, url)
    assert snapshot(meeting.id) == before
    response = client.get(f"/meetings/{meeting.id}/minutes", follow_redirects=True)
    assert "cancelled" in response.get_data(as_text=True) or "postponed" in \
        response.get_data(as_text=True)


def test_an_action_without_a_description_is_refused_keeping_what_was_typed(
        client, auth, world, outbox):
    auth.login(world.officer)
    url = f"/meetings/{world.past.id}/actions/new"
    response = client.submit(url, {"description": "  ", "owner_id": str(world.member.id),
                                   "owner_organisation_id": "",
                                   "due_date": ["3", "4", "2031"], "item_id": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter what is to be done" in html and "govuk-error-summary" in html
    assert f'<option value="{world.member.id}" selected' in html
    assert 'value="2031"' in html
    assert count(ActionItem) == 0 and outbox() == []


def test_an_invalid_due_date_is_refused_keeping_what_was_typed(client, auth, world):
    auth.login(world.officer)
    url = f"/meetings/{world.past.id}/actions/new"
    response = client.submit(url, {"description": "Book the hall",
                                   "owner_id": str(world.member.id),
                                   "due_date": ["31", "2", "2031"]})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Due date must be a real date" in html
    assert "Book the hall" in html and 'value="31"' in html
    assert count(ActionItem) == 0


def test_an_action_needs_an_owner_from_the_forum(client, auth, world):
    auth.login(world.officer)
    url = f"/meetings/{world.past.id}/actions/new"
    response = client.submit(url, {"description": "Book the hall"})
    assert response.status_code == 422
    assert "Choose who will do it" in response.get_data(as_text=True)
    response = client.submit(url, {"description": "Book the hall",
                                   "owner_id": str(world.stranger.id)})
    assert response.status_code == 422
    assert "Select a member of the forum" in response.get_data(as_text=True)
    assert count(ActionItem) == 0


def test_a_walk_in_needs_a_name(client, auth, world):
    register(world.past, world.member)
    auth.login(world.officer)
    url = f"/meetings/{world.past.id}/attendance"
    response = client.submit(f"{url}/walk-in", {"name": "", "organisation": "Tenants"},
                             page=url)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter the name of the person who came" in html and 'value="Tenants"' in html
    assert "Mo Member" in html  # the attendance form is still there
    assert count(Registration) == 1


def test_a_decision_needs_text_and_an_item_of_this_meeting(client, auth, world):
    other = add_items(world.future, 1)[0]
    auth.login(world.officer)
    url = f"/meetings/{world.past.id}/decisions/new"
    response = client.submit(url, {"text": ""})
    assert response.status_code == 422
    assert "Enter what was decided" in response.get_data(as_text=True)
    response = client.submit(url, {"text": "Agreed", "item_id": str(other.id)})
    assert response.status_code == 422
    assert count(Decision) == 0


def test_publishing_empty_minutes_is_refused_and_twice_is_refused(client, auth, world,
                                                                   outbox):
    auth.login(world.officer)
    base = f"/meetings/{world.past.id}"
    response = client.submit(f"{base}/minutes/publish", {}, page=f"{base}/minutes")
    assert response.status_code == 303 and response.headers["Location"].endswith(
        f"{base}/minutes")
    assert fresh(Meeting, world.past.id).minutes_status is MinutesStatus.NONE
    write_minutes(fresh(Meeting, world.past.id), "Written")
    assert client.submit(f"{base}/minutes/publish", {"agenda_confirmed": "yes"},
                         page=f"{base}/minutes").status_code == 303
    sent = len(outbox())
    assert sent > 0
    response = client.submit(f"{base}/minutes/publish", {"agenda_confirmed": "yes"},
                             page=f"{base}/minutes")
    assert response.status_code == 303 and len(outbox()) == sent


def test_published_minutes_can_be_corrected_and_the_correction_is_audited(client, auth,
                                                                         world):
    write_minutes(world.past, "Typo here", published=True)
    auth.login(world.officer)
    response = client.submit(f"/meetings/{world.past.id}/minutes", {"summary": "Fixed"})
    assert response.status_code == 303
    meeting = fresh(Meeting, world.past.id)
    assert meeting.minutes_summary == "Fixed"
    assert meeting.minutes_status is MinutesStatus.PUBLISHED
    assert db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.action == "meeting.minutes_corrected")) is not None


def test_an_update_needs_a_note_or_a_new_status(client, auth, world):
    write_minutes(world.past, published=True)
    action = make_action(world.past, owner=world.member)
    auth.login(world.member)
    response = client.submit(f"/actions/{action.id}", {"body": "", "status": "open"})
    assert response.status_code == 422
    assert "Write a progress note or change the status" in response.get_data(as_text=True)
    response = client.submit(f"/actions/{action.id}", {"body": "Progress", "status": "bogus"})
    assert response.status_code == 422
    assert count(ActionUpdate) == 0


def test_attendance_ignores_unknown_marks(client, auth, world):
    registration = register(world.past, world.member)
    auth.login(world.officer)
    url = f"/meetings/{world.past.id}/attendance"
    response = client.submit(url, {f"attendance-{registration.id}": "sleeping"})
    assert response.status_code == 303
    assert fresh(Registration, registration.id).attendance is None


def test_cancelled_registrations_are_not_on_the_attendance_list(client, auth, world):
    """A cancelled registration gives no line of its own; a forum member who cancelled
    is still listed as a member, saying so."""
    cancelled = register(world.past, world.member, status=RegistrationStatus.CANCELLED)
    waiting = register(world.past, world.colleague, status=RegistrationStatus.WAITING)
    auth.login(world.officer)
    html = page(client, f"/meetings/{world.past.id}/attendance")
    assert f'name="attendance-{cancelled.id}"' not in html
    assert f'name="attendance-member-{world.member.id}"' in html
    assert "Cancelled their registration" in html
    assert f'name="attendance-{waiting.id}"' in html and "was on the waiting list" in html


# --- Emails -------------------------------------------------------------------------------


def test_assigning_to_an_organisation_alone_emails_its_admins(client, auth, world, outbox):
    auth.login(world.officer)
    response = client.submit(f"/meetings/{world.past.id}/actions/new", {
        "description": "Host the next session",
        "owner_organisation_id": str(world.organisation.id)})
    assert response.status_code == 303
    messages = outbox(to="orgadmin@example.org")
    assert len(messages) == 1 and "Eastside Food Bank" in messages[0].body


def test_reassigning_an_action_emails_the_new_owner(client, auth, world, outbox):
    action = make_action(world.past, owner=world.member)
    auth.login(world.convenor)
    url = f"/actions/{action.id}/edit"
    assert 'value="Send the funding report"' in page(client, url) or \
        "Send the funding report" in page(client, url)
    response = client.submit(url, {"description": "Send the funding report",
                                   "owner_id": str(world.colleague.id)})
    assert response.status_code == 303
    assert fresh(ActionItem, action.id).owner_id == world.colleague.id
    assert len(outbox(to="colleague@example.org")) == 1


def test_minutes_of_a_members_only_meeting_are_emailed_to_members_only(
        client, auth, world, make_meeting, outbox):
    meeting = make_meeting(world.forum, "Closed session", starts_in=timedelta(days=-2),
                           public=False)
    write_minutes(meeting, "Secret")
    guest = register(meeting, world.stranger)  # somehow registered, not a member
    guest.attendance = Attendance.PRESENT
    db.session.commit()
    auth.login(world.officer)
    base = f"/meetings/{meeting.id}"
    assert client.submit(f"{base}/minutes/publish", {"agenda_confirmed": "yes"},
                         page=f"{base}/minutes/publish").status_code == 303
    assert outbox(to="stranger@example.org") == []
    assert len(outbox(to="member@example.org")) == 1


# --- Query budgets -------------------------------------------------------------------------------


def big_meeting(world: World, items: int, actions: int) -> Meeting:
    rows = add_items(world.past, items)
    for n in range(actions):
        make_action(world.past, f"Action {n}", owner=world.member if n % 2 else None,
                    organisation=world.organisation if n % 3 else None)
        db.session.add(Decision(meeting_id=world.past.id, text=f"Decision {n}",
                                item_id=rows[n % items].id))
        db.session.add(Registration(meeting_id=world.past.id, walk_in_name=f"Guest {n}",
                                    response=Response.IN_PERSON,
                                    attendance=Attendance.PRESENT))
    for row in rows:
        row.minutes = f"Minutes of {row.title}"
    write_minutes(world.past, published=True)
    return world.past


def test_the_records_section_costs_a_few_queries_whatever_its_size(app, world,
                                                                   count_queries):
    meeting = big_meeting(world, 20, 30)
    for user in (world.officer, world.member):
        db.session.expire_all()
        with app.test_request_context():
            loaded = queries.get_meeting(meeting.id)
            permissions.can_manage_meeting(user, loaded)  # cached for the request
            permissions.can_view_attendance_list(user, loaded)
            with count_queries() as log:
                context = records.page_context(loaded, user)
            # Items, registrations, everyone else on the attendance list with their
            # marks, decisions, actions.
            assert log.count <= 5, log.statements
            assert len(context["record_items"]) == 20
            assert sum(len(v) for v in context["record_actions"].values()) == 30


@pytest.mark.parametrize("who", ["officer", "member", "anonymous"])
def test_meeting_page_budget_with_20_items_and_30_actions(client, auth, world,
                                                          count_queries, who,
                                                          render_every_time):
    meeting = big_meeting(world, 20, 30)
    make_action(world.past, "Carried", owner=world.member)
    if who != "anonymous":
        auth.login(getattr(world, who))
    page(client, f"/meetings/{meeting.id}/")  # warm up
    with count_queries() as log:
        html = page(client, f"/meetings/{meeting.id}/")
    assert "Action 29" in html and "Minutes of Item 20" in html
    assert log.count <= 14, "\n".join(log.statements)
    # The agenda and the minutes share one load of the items.
    assert sum("FROM agenda_items" in s for s in log.statements) == 1, log.statements
    with count_queries() as log:
        page(client, f"/meetings/{world.future.id}/")
    assert log.count <= 15, "\n".join(log.statements)


def test_my_actions_budget_with_100_actions(client, auth, world, make_meeting,
                                           count_queries):
    meetings = [world.past] + [make_meeting(world.forum, f"Meeting {n}",
                                            starts_in=timedelta(days=-10 - n))
                               for n in range(4)]
    for n in range(100):
        make_action(meetings[n % 5], f"Task {n}", owner=world.org_admin if n % 2 else None,
                    organisation=world.organisation,
                    status=ActionStatus.DONE if n % 7 == 0 else ActionStatus.OPEN,
                    due=today_uk() + timedelta(days=n - 50))
    auth.login(world.org_admin)
    with count_queries() as log:
        html = page(client, "/my/actions")
    assert "Task 99" in html and "Overdue" in html
    assert log.count <= 5, "\n".join(log.statements)


def test_standard_matters_arising_item_lists_open_actions(client, auth, world):
    """The agenda section shows carried actions; this checks our side of the contract
    (open actions of earlier meetings, not done ones) through the shared query."""
    write_minutes(world.past, published=True)
    open_one = make_action(world.past, "Still open", owner=world.member)
    make_action(world.past, "Finished", owner=world.member, status=ActionStatus.DONE)
    db.session.add(AgendaItem(meeting_id=world.future.id, position=1,
                              title=StandardItem.MATTERS_ARISING.title,
                              standard=StandardItem.MATTERS_ARISING))
    db.session.commit()
    assert [a.id for a in queries.open_actions_before(world.future)] == [open_one.id]
    html = page(client, f"/meetings/{world.future.id}/")
    assert "Still open" in html and "Finished" not in html
