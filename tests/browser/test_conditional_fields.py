"""Fields that depend on a choice, in real Chromium on a phone: the schedule form shows
the repeat pattern's details only for a repeating meeting, the venue only for a meeting
in a room and the joining link only for one online, and a submit with every mistake
lists them all at once. axe-core checks each state."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Data, axe_check, sign_in
from tests.browser.test_meetings_agenda_journey import forum_for


def test_schedule_form_shows_fields_only_when_they_apply(
        request: pytest.FixtureRequest) -> None:
    page: Page = request.getfixturevalue("phone_page")
    live: Data = request.getfixturevalue("data")
    officer = live.user("Olu Officer")
    convenor = live.user("Cara Convenor")
    forum_url = forum_for(live, officer, convenor)
    sign_in(page, convenor.email)
    page.goto(forum_url + "meetings/new")

    venue = page.get_by_label("Venue (not needed for online meetings)")
    link = page.get_by_label("Online joining link (needed for online and hybrid meetings)")
    weeks = page.get_by_label("Weeks between meetings")
    last = page.get_by_role("group", name="Last date of the series (for a repeating meeting)")
    for field in (venue, link, weeks, last):
        expect(field).to_be_hidden()
    axe_check(page)

    page.get_by_label("Every few weeks, on the same weekday").check()
    expect(weeks).to_be_visible()
    expect(last).to_be_visible()
    page.get_by_label("Monthly, on the same weekday of the month").check()
    expect(weeks).to_be_hidden()
    expect(last).to_be_visible()
    page.get_by_label("No, just this meeting").check()
    expect(last).to_be_hidden()

    page.get_by_label("Online", exact=True).check()
    expect(link).to_be_visible()
    expect(venue).to_be_hidden()
    page.get_by_label("In person", exact=True).check()
    expect(link).to_be_hidden()
    expect(venue).to_be_visible()
    page.get_by_label("Hybrid (in person and online)").check()
    expect(link).to_be_visible()
    expect(venue).to_be_visible()
    axe_check(page)

    # Every mistake at once: end before start, no venue, no link, a capacity of "lots".
    page.get_by_label("Every few weeks, on the same weekday").check()
    page.get_by_label("Start time").fill("14:00")
    page.get_by_label("End time").fill("13:00")
    page.get_by_label("Capacity (optional)").fill("lots")
    page.get_by_role("button", name="Schedule the meeting").click()
    summary = page.locator(".govuk-error-summary li")
    expect(summary).to_have_text([
        "Enter a title", "Enter the date of the meeting",
        "The end time must be after the start time",
        "Enter the weeks between meetings, from 1 to 12",
        "Enter the last date of the series or the number of meetings",
        "Enter the venue, or choose online if there is no venue",
        "Enter the venue's address",
        "Enter the joining link for an online or hybrid meeting",
        "Capacity must be a whole number, like 3",
    ])
    expect(page.get_by_label("Capacity (optional)")).to_have_value("lots")
    expect(weeks).to_be_visible()
    expect(venue).to_be_visible()
    axe_check(page)


def test_opportunity_form_asks_for_a_place_only_when_there_is_one(
        request: pytest.FixtureRequest) -> None:
    page: Page = request.getfixturevalue("page")
    live: Data = request.getfixturevalue("data")
    admin = live.user("Ada Admin")
    live.organisation("Eastside Food Bank", admin=admin)
    sign_in(page, admin.email)
    page.goto("/opportunities/new")
    place = page.get_by_label("Place (not needed for remote)")
    expect(place).to_be_hidden()
    page.get_by_label("Remote", exact=True).check()
    expect(place).to_be_hidden()
    page.get_by_label("Hybrid", exact=True).check()
    expect(place).to_be_visible()
    axe_check(page)
