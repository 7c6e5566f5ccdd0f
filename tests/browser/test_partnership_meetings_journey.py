"""A meeting of the partnership itself in real Chromium (issue 15): an officer schedules
the partnership board from the partnership's meetings page (a mistake first), adds an
agenda item and publishes the agenda; a person of a member organisation finds it on
their phone and registers. axe-core checks every page on the way, errors included.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from partnerships.extensions import db
from partnerships.meetings.models import Meeting, Registration
from partnerships.timeutil import today_uk
from tests.browser.conftest import Data, axe_check, errors_on, sign_in


def test_officer_schedules_the_board_and_a_member_organisations_person_registers(
        request: pytest.FixtureRequest) -> None:
    page: Page = request.getfixturevalue("page")
    live: Data = request.getfixturevalue("data")
    phone: Page = request.getfixturevalue("phone_page")
    officer = live.user("Priya Officer")
    partner = live.user("Pat Partner")
    cvs = live.organisation("Northbridge CVS", members=[partner])
    partnership = live.partnership("Northbridge Together", officers=[officer], members=[cvs])
    meetings_url = f"/partnerships/{partnership.slug}/meetings/"

    # The officer schedules the board, forgetting its title first.
    sign_in(page, officer.email)
    page.goto(meetings_url)
    axe_check(page)
    page.get_by_role("button", name="Schedule a meeting").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Schedule a meeting")
    expect(page.locator(".govuk-caption-l")).to_have_text(partnership.name)
    axe_check(page)
    day = today_uk() + timedelta(days=30)
    date_group = page.get_by_role("group", name="Date", exact=True)
    date_group.get_by_label("Day").fill(str(day.day))
    date_group.get_by_label("Month").fill(str(day.month))
    date_group.get_by_label("Year").fill(str(day.year))
    page.get_by_label("Start time").fill("14:00")
    page.get_by_label("End time").fill("16:00")
    page.get_by_label("In person", exact=True).check()
    page.get_by_label("Venue (not needed for online meetings)").fill("Northbridge Town Hall")
    page.get_by_label("Venue address").fill("Market Square\nNorthbridge")
    page.get_by_label("People of Northbridge Together's member organisations only").check()
    page.get_by_role("button", name="Schedule the meeting").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a title")
    expect(page.get_by_label("Venue (not needed for online meetings)")).to_have_value(
        "Northbridge Town Hall")
    axe_check(page)
    page.get_by_label("Title").fill("Partnership board")
    page.get_by_role("button", name="Schedule the meeting").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Meeting scheduled")
    expect(page.get_by_role("heading", level=1)).to_have_text("Partnership board")
    expect(page.locator(".govuk-caption-l")).to_have_text(partnership.name)
    axe_check(page)
    meeting_id = int(page.url.rstrip("/").rsplit("/", 1)[1])

    # An item on the agenda, then publish it.
    page.get_by_role("link", name="Build the agenda", exact=True).click()
    axe_check(page)
    page.get_by_role("button", name="Add an item").click()
    page.get_by_label("Title").fill("Shared priorities for the year")
    page.get_by_role("button", name="Save item").click()
    expect(page.locator("#agenda-builder h3")).to_have_count(1)
    page.get_by_role("button", name="Publish the agenda").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Publish the agenda")
    axe_check(page)
    page.get_by_role("button", name="Publish the agenda").click()
    expect(page.locator(".govuk-notification-banner")).to_be_visible()
    assert not errors_on(page).messages, errors_on(page).messages
    assert live.outbox(partner.email), "the member organisation's people are told"

    # The member organisation's person finds it on their phone and registers.
    sign_in(phone, partner.email)
    phone.goto(meetings_url)
    phone.get_by_role("link", name="Partnership board").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Partnership board")
    expect(phone.get_by_text("Shared priorities for the year")).to_be_visible()
    axe_check(phone)
    phone.get_by_role("button", name="Register").click()
    axe_check(phone)
    phone.get_by_label("Attending in person").check()
    phone.get_by_role("button", name="Send your answer").click()
    expect(phone.locator(".govuk-notification-banner")).to_be_visible()
    axe_check(phone)
    phone.goto("/my/meetings")
    expect(phone.get_by_role("link", name="Partnership board")).to_be_visible()
    axe_check(phone)
    assert not errors_on(phone).messages, errors_on(phone).messages
    with live.app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting is not None and meeting.forum_id is None
        assert meeting.partnership_id == partnership.id and meeting.agenda_published
        assert db.session.scalar(db.select(Registration.user_id).where(
            Registration.meeting_id == meeting_id)) == partner.id
