"""After the meeting, in real Chromium: the officer records attendance (with a walk-in),
writes the minutes of an item, records a decision and an action, and publishes the
minutes; the action is carried to the next meeting's matters arising until its owner
marks it done from "Your actions". Also an axe-core sweep of the meeting pages no other
browser test visits (schedule, edit, cancel and postpone forms with their errors, the
meetings lists, "Your meetings", "Your actions" and the registrations list).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from partnerships.extensions import db
from partnerships.forums.models import Forum, ForumConvenor, ForumMember, ForumMemberStatus
from partnerships.meetings.models import (
    ActionItem,
    ActionStatus,
    AgendaItem,
    AgendaStatus,
    Attendance,
    Decision,
    Meeting,
    MeetingFormat,
    MinutesStatus,
    Registration,
    RegistrationStatus,
    Response,
    StandardItem,
)
from partnerships.modelbase import utcnow
from partnerships.timeutil import today_uk
from tests.browser.conftest import (
    Data,
    axe_check,
    errors_on,
    sign_in,
)

ACTION = "Send the winter demand figures to the ICB"


@dataclass
class Place:
    """A forum's addresses and its meetings' ids."""

    partnership_url: str
    forum_url: str
    past_id: int
    next_id: int


def forum_with_meetings(live: Data, officer: Any, members: list[Any]) -> Place:
    """A public forum run by ``officer`` (a partnership officer and a member of the
    forum) with ``members``; a meeting three days ago and the next one in three weeks,
    both with published agendas (the next one with matters arising)."""
    partnership = live.partnership(officers=[officer])
    with live.app.app_context():
        forum = Forum(partnership_id=partnership.id, slug=f"alliance-{partnership.id}",
                      name="Northbridge VCSE Alliance", purpose="Voluntary groups together.")
        db.session.add(forum)
        db.session.flush()
        db.session.add(ForumConvenor(forum_id=forum.id, user_id=officer.id))
        for person in [officer, *members]:
            db.session.add(ForumMember(forum_id=forum.id, user_id=person.id,
                                       status=ForumMemberStatus.ACTIVE))
        hour = utcnow().replace(minute=0, second=0, microsecond=0)
        meetings = []
        for title, starts, items in (
                ("March forum meeting", hour - timedelta(days=3),
                 [("Welcome and apologies", StandardItem.WELCOME),
                  ("Winter demand at the food bank", None)]),
                ("April forum meeting", hour + timedelta(days=21),
                 [("Welcome and apologies", StandardItem.WELCOME),
                  ("Matters arising", StandardItem.MATTERS_ARISING)])):
            meeting = Meeting(forum_id=forum.id, title=title, starts_at=starts,
                              ends_at=starts + timedelta(hours=2),
                              format=MeetingFormat.IN_PERSON,
                              venue_name="Northbridge Library",
                              venue_address="2 High Street, Northbridge",
                              agenda_status=AgendaStatus.PUBLISHED,
                              agenda_published_at=starts - timedelta(days=10),
                              notice_met=True)
            db.session.add(meeting)
            db.session.flush()
            for position, (item_title, standard) in enumerate(items, start=1):
                db.session.add(AgendaItem(meeting_id=meeting.id, position=position,
                                          title=item_title, standard=standard))
            meetings.append(meeting)
        db.session.commit()
        return Place(f"/partnerships/{partnership.slug}/meetings/",
                     f"/partnerships/{partnership.slug}/forums/{forum.slug}/meetings/",
                     meetings[0].id, meetings[1].id)


def registered(live: Data, meeting_id: int, person: Any, response: Response,
               status: RegistrationStatus = RegistrationStatus.CONFIRMED,
               holds_place: bool = False) -> None:
    with live.app.app_context():
        db.session.add(Registration(
            meeting_id=meeting_id, user_id=person.id, response=response, status=status,
            holds_place=holds_place,
            waiting_since=utcnow() if status is RegistrationStatus.WAITING else None))
        db.session.commit()


def flash_says(page: Page, text: str) -> None:
    expect(page.locator(".govuk-notification-banner")).to_contain_text(text)


# --- The journey -------------------------------------------------------------------------


def test_officer_records_the_meeting_and_the_owner_closes_the_action(
        request: pytest.FixtureRequest) -> None:
    page: Page = request.getfixturevalue("page")
    live: Data = request.getfixturevalue("data")
    mine: Page = request.getfixturevalue("phone_page")  # the owner's own phone
    officer = live.user("Olu Officer")
    owner = live.user("Mo Member")
    sorry = live.user("Kit Colleague")
    missing = live.user("Abe Absent")
    place = forum_with_meetings(live, officer, [owner, sorry, missing])
    registered(live, place.past_id, owner, Response.IN_PERSON)
    registered(live, place.past_id, sorry, Response.APOLOGIES)
    registered(live, place.past_id, missing, Response.IN_PERSON)

    # Attendance: one radio group per person, the apologies already suggested.
    sign_in(page, officer.email)
    page.goto(f"/meetings/{place.past_id}/")
    expect(page.locator("#minutes")).to_contain_text("Attendance has not been recorded.")
    axe_check(page)
    page.get_by_role("link", name="Record attendance").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Attendance")
    expect(page.get_by_role("group", name="Kit Colleague").get_by_label("Apologies")
           ).to_be_checked()
    axe_check(page)
    page.get_by_role("group", name="Mo Member").get_by_label("Present").check()
    page.get_by_role("group", name="Abe Absent").get_by_label("Absent").check()
    page.get_by_role("button", name="Save attendance").click()
    flash_says(page, "Attendance saved.")
    expect(page.locator("#minutes")).to_contain_text(
        "Attendance recorded: 1 present, 1 apologies, 1 absent")

    # A walk-in: a mistake first (no name), then the person who came.
    page.get_by_role("link", name="Record attendance").click()
    page.get_by_label("Organisation (optional)").fill("Tenants' Forum")
    page.get_by_role("button", name="Add walk-in").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter the name of the person who came")
    expect(page.get_by_label("Organisation (optional)")).to_have_value("Tenants' Forum")
    axe_check(page)
    page.get_by_label("Name", exact=True).fill("Wendy Walker")
    page.get_by_role("button", name="Add walk-in").click()
    flash_says(page, "Wendy Walker added as present.")
    # The officer, a member of the forum who did not register, is listed but not marked.
    expect(page.get_by_text(
        "Attendance recorded: 2 present, 1 apologies, 1 absent, 1 not marked")).to_be_visible()
    expect(page.get_by_role("group", name="Olu Officer")).to_contain_text("Did not register")
    expect(page.get_by_role("group", name="Wendy Walker").get_by_label("Present")
           ).to_be_checked()
    axe_check(page)

    # The minutes of an agenda item: a draft, for the organisers only.
    page.get_by_role("link", name="Back to the meeting").click()
    page.get_by_role("link", name="Write the minutes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Write the minutes")
    axe_check(page)
    page.get_by_label("2. Winter demand at the food bank").fill(
        "The food bank reported **record** demand this winter.")
    page.get_by_role("button", name="Save draft minutes").click()
    flash_says(page, "Draft minutes saved.")
    minutes = page.locator("#minutes")
    expect(minutes.get_by_text("Draft", exact=True)).to_be_visible()
    expect(minutes).to_contain_text("The food bank reported record demand this winter.")
    expect(minutes.locator("strong", has_text="record")).to_be_visible()

    # A decision about that item.
    page.get_by_role("link", name="Add a decision").click()
    axe_check(page)
    page.get_by_label("What was decided?").fill("Fund the winter appeal")
    page.get_by_label("Agenda item (optional)").select_option(
        label="2. Winter demand at the food bank")
    page.get_by_role("button", name="Add decision").click()
    flash_says(page, "Decision added to the minutes.")
    expect(minutes).to_contain_text("Fund the winter appeal")

    # An action with an owner and a due date (a mistake first: nothing filled in).
    page.get_by_role("link", name="Add an action").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add an action")
    axe_check(page)
    page.get_by_role("button", name="Add action").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter what is to be done")
    expect(summary).to_contain_text("Choose who will do it")
    axe_check(page)
    due = today_uk() + timedelta(days=14)
    page.get_by_label("What is to be done?").fill(ACTION)
    page.get_by_label("Person responsible").select_option(label="Mo Member")
    due_group = page.get_by_role("group", name="Due date (optional)")
    due_group.get_by_label("Day").fill(str(due.day))
    due_group.get_by_label("Month").fill(str(due.month))
    due_group.get_by_label("Year").fill(str(due.year))
    page.get_by_label("Agenda item (optional)").select_option(
        label="2. Winter demand at the food bank")
    page.get_by_role("button", name="Add action").click()
    flash_says(page, "Action added. Its owner has been emailed.")
    expect(minutes.get_by_role("link", name=ACTION, exact=True)).to_be_visible()
    assert any(ACTION in message.body for message in live.outbox(owner.email))

    # Publish the minutes: no longer a draft.
    axe_check(page)
    page.get_by_role("button", name="Publish the minutes").click()
    flash_says(page, "Minutes published.")
    expect(minutes).to_contain_text("Published on")
    expect(minutes.get_by_text("Draft", exact=True)).to_have_count(0)
    expect(minutes).to_contain_text("Wendy Walker, Tenants' Forum")
    axe_check(page)

    # The next meeting carries the open action under matters arising.
    page.goto(f"/meetings/{place.next_id}/")
    matters = page.locator("#agenda li", has_text="Matters arising")
    expect(matters.get_by_role("table")).to_contain_text(ACTION)
    expect(matters.get_by_role("table")).to_contain_text("Mo Member")
    axe_check(page)
    assert not errors_on(page).messages, errors_on(page).messages

    # The owner, on their own phone, finds it on "Your actions" and marks it done.
    sign_in(mine, owner.email)
    mine.goto("/my/actions")
    expect(mine.get_by_role("heading", name="Open (1)")).to_be_visible()
    expect(mine.get_by_role("link", name=ACTION, exact=True)).to_be_visible()
    axe_check(mine)
    mine.get_by_role("link", name=ACTION, exact=True).click()
    expect(mine.get_by_role("heading", level=1)).to_have_text(ACTION)
    expect(mine.get_by_text("No updates yet.")).to_be_visible()
    expect(mine.locator(".govuk-summary-list")).to_contain_text(str(due.year))
    axe_check(mine)
    mine.get_by_label("Progress note").fill("Sent to the ICB's winter lead.")
    mine.get_by_role("group", name="Status").get_by_label("Done").check()
    mine.get_by_role("button", name="Save update").click()
    flash_says(mine, "Action marked as done.")
    updates = mine.locator(".app-action-updates")
    expect(updates).to_contain_text("Mo Member")
    expect(updates).to_contain_text("status done")
    expect(updates).to_contain_text("Sent to the ICB's winter lead.")
    axe_check(mine)
    mine.goto("/my/actions")
    expect(mine.get_by_text("You have no open actions.")).to_be_visible()
    expect(mine.get_by_role("heading", name="Done or dropped")).to_be_visible()
    expect(mine.get_by_role("link", name=ACTION, exact=True)).to_be_visible()
    axe_check(mine)
    assert not errors_on(mine).messages, errors_on(mine).messages

    # Done, so no longer a matter arising.
    page.reload()
    expect(matters).to_contain_text("No open actions from earlier meetings.")
    expect(page.get_by_role("link", name=ACTION, exact=True)).to_have_count(0)

    with live.app.app_context():
        past = db.session.get(Meeting, place.past_id)
        assert past is not None and past.minutes_status is MinutesStatus.PUBLISHED
        marks = {(r.display_name, r.attendance) for r in db.session.scalars(
            db.select(Registration).where(Registration.meeting_id == place.past_id))}
        assert marks == {("Mo Member", Attendance.PRESENT),
                         ("Kit Colleague", Attendance.APOLOGIES),
                         ("Abe Absent", Attendance.ABSENT),
                         ("Wendy Walker", Attendance.PRESENT)}
        action = db.session.scalars(db.select(ActionItem).where(
            ActionItem.meeting_id == place.past_id)).one()
        assert (action.owner_id, action.due_date, action.status) == (
            owner.id, due, ActionStatus.DONE)
        decision = db.session.scalars(db.select(Decision).where(
            Decision.meeting_id == place.past_id)).one()
        assert decision.item_id == action.item_id is not None


# --- The sweep ----------------------------------------------------------------------------


def test_meeting_pages_no_other_browser_test_visits_have_no_axe_violations(
        request: pytest.FixtureRequest) -> None:
    page: Page = request.getfixturevalue("page")
    live: Data = request.getfixturevalue("data")
    officer = live.user("Olu Officer")
    first = live.user("Fran First")
    sorry = live.user("Kit Colleague")
    waiting = live.user("Wes Waiting")
    place = forum_with_meetings(live, officer, [first, sorry, waiting])
    with live.app.app_context():
        upcoming = db.session.get(Meeting, place.next_id)
        assert upcoming is not None
        upcoming.capacity, upcoming.places_taken = 1, 1
        past = db.session.get(Meeting, place.past_id)
        assert past is not None
        past.minutes_status, past.minutes_published_at = MinutesStatus.PUBLISHED, utcnow()
        past.minutes_summary = "We met and agreed the winter plan."
        for description, status, days in (("Book the hall for May", ActionStatus.OPEN, -2),
                                          ("Share the food bank figures",
                                           ActionStatus.OPEN, 10),
                                          ("Circulate the draft MoU", ActionStatus.DONE, 5)):
            db.session.add(ActionItem(meeting_id=past.id, forum_id=past.forum_id,
                                      description=description, owner_id=officer.id,
                                      status=status, due_date=today_uk() + timedelta(days)))
        db.session.commit()
    registered(live, place.next_id, first, Response.IN_PERSON, holds_place=True)
    registered(live, place.next_id, sorry, Response.APOLOGIES)
    registered(live, place.next_id, waiting, Response.IN_PERSON, RegistrationStatus.WAITING)
    registered(live, place.next_id, officer, Response.IN_PERSON, RegistrationStatus.WAITING)
    sign_in(page, officer.email)

    def visit(path: str, heading: str) -> None:
        response = page.goto(path)
        assert response is not None and response.status == 200, (path, response)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        axe_check(page)

    def submit_empty(button: str, error: str) -> None:
        page.get_by_role("button", name=button).click()
        expect(page.locator(".govuk-error-summary")).to_contain_text(error)
        axe_check(page)

    # Schedule a meeting, then the same form with its errors.
    visit(place.forum_url + "new", "Schedule a meeting")
    submit_empty("Schedule the meeting", "Enter the date of the meeting")

    # Edit, cancel and postpone the upcoming meeting, each also with its errors.
    visit(f"/meetings/{place.next_id}/edit", "Change the meeting")
    page.get_by_label("Title").fill("")
    submit_empty("Save changes", "Enter a title")
    visit(f"/meetings/{place.next_id}/cancel", "Cancel the meeting")
    submit_empty("Cancel the meeting", "Enter why the meeting is cancelled")
    visit(f"/meetings/{place.next_id}/postpone", "Postpone the meeting")
    submit_empty("Postpone the meeting", "Enter why the meeting is postponed")

    # The registrations list: a place taken, apologies and a waiting list.
    visit(f"/meetings/{place.next_id}/registrations", "Registrations")
    expect(page.get_by_text("Waiting list: 2")).to_be_visible()

    # The meetings lists, upcoming and past.
    visit(place.partnership_url, "Upcoming meetings")
    expect(page.get_by_role("link", name="April forum meeting")).to_be_visible()
    visit(place.partnership_url + "?show=past", "Past meetings")
    expect(page.get_by_role("link", name="March forum meeting")).to_be_visible()
    visit(place.forum_url, "Upcoming meetings")
    expect(page.get_by_role("button", name="Schedule a meeting")).to_be_visible()
    visit(place.forum_url + "?show=past", "Past meetings")
    expect(page.get_by_role("link", name="March forum meeting")).to_be_visible()

    # "Your meetings" (both tabs) and "Your actions".
    visit("/my/meetings", "Your meetings")
    expect(page.get_by_text("You are on the waiting list")).to_be_visible()
    visit("/my/meetings?show=past", "Your past meetings")
    expect(page.get_by_role("link", name="March forum meeting")).to_be_visible()
    visit("/my/actions", "Your actions")
    expect(page.get_by_role("heading", name="Open (2)")).to_be_visible()
    expect(page.locator(".govuk-tag--red", has_text="Overdue")).to_have_count(1)
    expect(page.get_by_role("link", name="Circulate the draft MoU")).to_be_visible()
    assert not errors_on(page).messages, errors_on(page).messages
