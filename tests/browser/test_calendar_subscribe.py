"""Calendar links in real Chromium: subscribe to a forum's meetings with the copy button
(and without JavaScript, a selectable field), add one meeting to a calendar, and make,
then reset, a personal calendar link. axe-core checks each page; the copy button runs
under the real Content Security Policy."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from playwright.sync_api import Browser, Page, expect

from partnerships.extensions import db
from partnerships.forums.models import Forum, ForumMember, ForumMemberStatus, Visibility
from partnerships.meetings.models import Meeting, MeetingFormat
from tests.browser.conftest import (
    Data,
    LiveServer,
    axe_check,
    errors_on,
    sign_in,
)
from tests.conftest import meeting_start


def forum_with_meeting(live: Data, members: list[Any]) -> tuple[str, int]:
    """A public forum with one hybrid meeting: the forum's meetings address and the
    meeting's id."""
    partnership = live.partnership()
    with live.app.app_context():
        forum = Forum(partnership_id=partnership.id, slug=f"alliance-{partnership.id}",
                      name="Northbridge VCSE Alliance", purpose="Voluntary groups together.",
                      visibility=Visibility.PUBLIC)
        db.session.add(forum)
        db.session.flush()
        for person in members:
            db.session.add(ForumMember(forum_id=forum.id, user_id=person.id,
                                       status=ForumMemberStatus.ACTIVE))
        starts = meeting_start(timedelta(days=12))
        meeting = Meeting(forum_id=forum.id, title="Spring planning meeting",
                          starts_at=starts, ends_at=starts + timedelta(hours=2),
                          format=MeetingFormat.HYBRID, venue_name="Northbridge Library",
                          venue_address="2 High Street, Northbridge",
                          joining_url="https://meet.example.org/spring")
        db.session.add(meeting)
        db.session.commit()
        return f"/partnerships/{partnership.slug}/forums/{forum.slug}/meetings/", meeting.id


def no_csp_violations(page: Page) -> None:
    violations = errors_on(page).csp()
    assert not violations, "Content Security Policy blocked something:\n" + "\n".join(violations)


def test_subscribe_with_the_copy_button(page: Page, data: Data, live_server: LiveServer) -> None:
    meetings_url, _meeting_id = forum_with_meeting(data, [])
    page.context.grant_permissions(["clipboard-read", "clipboard-write"],
                                   origin=live_server.url)
    page.goto(meetings_url)

    expect(page.get_by_role("heading", name="Subscribe to these meetings")).to_be_visible()
    address = page.get_by_label("Or copy the calendar address")
    feed = address.input_value()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/partnerships/.+/calendar\.ics", feed)
    webcal = page.get_by_role("link", name="Subscribe in your calendar app")
    assert webcal.get_attribute("href") == "webcal://" + feed.split("://", 1)[1]
    page.get_by_text("How to subscribe in Google Calendar, Outlook or Apple Calendar").click()
    expect(page.get_by_role("heading", name="Apple Calendar")).to_be_visible()
    axe_check(page)

    page.get_by_role("button", name="Copy address").click()

    expect(page.get_by_role("status").filter(has_text="Address copied.")).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()") == feed
    no_csp_violations(page)
    assert not errors_on(page).messages


def test_without_javascript_the_address_is_a_selectable_field(
        browser: Browser, data: Data, live_server: LiveServer) -> None:
    meetings_url, _meeting_id = forum_with_meeting(data, [])
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(meetings_url)
        address = page.get_by_label("Or copy the calendar address")
        expect(address).to_be_visible()
        assert address.get_attribute("readonly") is not None
        expect(page.get_by_role("button", name="Copy address")).to_be_hidden()
    finally:
        context.close()


def test_add_one_meeting_and_make_then_reset_a_personal_link(page: Page, data: Data) -> None:
    member = data.user("Mo Member")
    _meetings_url, meeting_id = forum_with_meeting(data, [member])
    sign_in(page, member.email)

    page.goto(f"/meetings/{meeting_id}/")
    expect(page.get_by_role("heading", name="Add to your calendar")).to_be_visible()
    google = page.get_by_role("link", name="Add to Google Calendar").get_attribute("href")
    assert google and "meet.example.org%2Fspring" in google  # a member may see the link
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the meeting (.ics file)").click()
    assert download.value.suggested_filename.startswith("spring-planning-meeting-")
    axe_check(page)

    page.goto("/my/meetings")
    page.get_by_role("button", name="Create my calendar link").click()
    expect(page.get_by_text("Anyone who has it can see these meetings")).to_be_visible()
    first = page.get_by_label("Or copy your calendar address").input_value()
    assert re.search(r"/calendar/[A-Za-z0-9_-]{32}\.ics$", first)
    axe_check(page)

    page.get_by_role("button", name="Reset my calendar link").click()
    expect(page.get_by_role("heading", name="Reset your calendar link?")).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name="Reset my calendar link").click()

    expect(page.get_by_text("The old link no longer works")).to_be_visible()
    second = page.get_by_label("Or copy your calendar address").input_value()
    assert second != first
    assert page.request.get(first).status == 404
    assert page.request.get(second).status == 200
    no_csp_violations(page)
