"""The officer's journey in real Chromium: schedule a meeting (with a mistake first),
build its agenda (standard items in one go, an item of their own, reorder with htmx
without a page reload, upload a paper), and publish it on time. axe-core checks every
page on the way, errors included. Also: the reorder buttons work without JavaScript.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from partnerships.extensions import db
from partnerships.forums.models import Forum, ForumConvenor, ForumMember, ForumMemberStatus
from partnerships.meetings.models import AgendaItem, Meeting, MeetingFormat
from partnerships.timeutil import to_uk, today_uk
from tests.browser.conftest import (
    Data,
    LiveServer,
    axe_check,
    errors_on,
    sign_in,
)
from tests.conftest import meeting_start

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def forum_for(live: Data, officer: Any, member: Any) -> str:
    """A forum convened by ``member`` in a partnership run by ``officer``; its address."""
    partnership = live.partnership(officers=[officer])
    with live.app.app_context():
        forum = Forum(partnership_id=partnership.id, slug=f"health-{partnership.id}",
                      name="Health and Wellbeing Forum", purpose="Health together.")
        db.session.add(forum)
        db.session.flush()
        db.session.add(ForumConvenor(forum_id=forum.id, user_id=member.id))
        db.session.add(ForumMember(forum_id=forum.id, user_id=member.id,
                                   status=ForumMemberStatus.ACTIVE))
        db.session.commit()
        return f"/partnerships/{partnership.slug}/forums/{forum.slug}/"


def titles(page: Page) -> list[str]:
    return [text.split(". ", 1)[1].replace("Standard item", "").strip()
            for text in page.locator("#agenda-builder h3").all_inner_texts()]


def test_officer_schedules_builds_and_publishes_an_agenda(
        request: pytest.FixtureRequest, tmp_path: Path) -> None:
    page: Page = request.getfixturevalue("page")
    live: Data = request.getfixturevalue("data")
    officer = live.user("Olu Officer")
    convenor = live.user("Cara Convenor")
    forum_url = forum_for(live, officer, convenor)
    sign_in(page, officer.email)

    # Schedule, with the end before the start first.
    page.goto(forum_url)
    page.get_by_role("link", name="Schedule a meeting").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Schedule a meeting")
    axe_check(page)
    day = today_uk().replace(day=1).replace(year=today_uk().year + 1)
    page.get_by_label("Title").fill("Spring forum meeting")
    date_group = page.get_by_role("group", name="Date", exact=True)
    date_group.get_by_label("Day").fill(str(day.day))
    date_group.get_by_label("Month").fill(str(day.month))
    date_group.get_by_label("Year").fill(str(day.year))
    page.get_by_label("Start time").fill("10:00")
    page.get_by_label("End time").fill("9am")
    page.get_by_label("In person", exact=True).check()
    page.get_by_label("Venue (not needed for online meetings)").fill("Northbridge Library")
    page.get_by_label("Venue address").fill("2 High Street\nNorthbridge")
    page.get_by_role("button", name="Schedule the meeting").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "The end time must be after the start time")
    expect(page.get_by_label("Title")).to_have_value("Spring forum meeting")
    axe_check(page)
    page.get_by_label("End time").fill("12:00")
    page.get_by_role("button", name="Schedule the meeting").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Meeting scheduled")
    expect(page.get_by_role("heading", level=1)).to_have_text("Spring forum meeting")
    axe_check(page)
    meeting_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    with live.app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting is not None
        assert to_uk(meeting.starts_at).strftime("%H:%M") == "10:00"

    # Build the agenda: the standard items, then one of our own (a mistake first).
    page.get_by_role("link", name="Build the agenda", exact=True).click()
    axe_check(page)
    page.get_by_role("button", name="Add the standard items").click()
    expect(page.locator("#agenda-builder h3")).to_have_count(5)
    page.get_by_role("button", name="Add an item").click()
    page.get_by_label("Time allowed in minutes (optional)").fill("twenty")
    page.get_by_role("button", name="Save item").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the item's title")
    axe_check(page)
    page.get_by_label("Title").fill("Winter pressures: update from the ICB")
    page.get_by_label("Time allowed in minutes (optional)").fill("20")
    page.get_by_role("button", name="Save item").click()
    expect(page.locator("#agenda-builder h3")).to_have_count(6)
    assert titles(page)[-2] == "Winter pressures: update from the ICB"  # before AOB

    # Reorder with htmx: the list changes, the page does not reload.
    page.evaluate("() => { window.stillTheSamePage = true }")
    winter = page.locator("#agenda-builder li", has_text="Winter pressures")
    winter.get_by_role("button", name="Move up").click()
    expect(page.locator("#agenda-builder h3").nth(3)).to_contain_text("Winter pressures")
    assert page.evaluate("() => window.stillTheSamePage") is True
    axe_check(page)

    # Upload a paper to the item.
    paper = tmp_path / "winter-plan.pdf"
    paper.write_bytes(PDF)
    page.locator("#agenda-builder li", has_text="Winter pressures").get_by_role(
        "link", name="Add a paper").click()
    page.get_by_label("Title of the paper").fill("Winter plan 2027")
    page.get_by_label("Upload a file").set_input_files(str(paper))
    axe_check(page)
    page.get_by_role("button", name="Upload paper").click()
    expect(page.get_by_role("link", name="Winter plan 2027")).to_be_visible()

    # Publish, on time.
    page.get_by_role("button", name="Publish the agenda").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Publish the agenda")
    axe_check(page)
    page.get_by_role("button", name="Publish the agenda").click()
    expect(page.locator(".govuk-notification-banner")).to_be_visible()
    page.goto(f"/meetings/{meeting_id}/")
    expect(page.get_by_role("link", name="Winter plan 2027")).to_be_visible()
    axe_check(page)
    assert not errors_on(page).messages, errors_on(page).messages
    with live.app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting is not None and meeting.agenda_published and meeting.notice_met
        order = db.session.scalars(db.select(AgendaItem.title).where(
            AgendaItem.meeting_id == meeting_id).order_by(AgendaItem.position)).all()
        assert order[3] == "Winter pressures: update from the ICB"


def test_reordering_works_without_javascript(request: pytest.FixtureRequest) -> None:
    chromium: Browser = request.getfixturevalue("browser")
    server: LiveServer = request.getfixturevalue("live_server")
    live: Data = request.getfixturevalue("data")
    officer = live.user("Olu Officer")
    convenor = live.user("Cara Convenor")
    forum_for(live, officer, convenor)
    with live.app.app_context():
        forum = db.session.scalars(db.select(Forum).order_by(Forum.id.desc())).first()
        assert forum is not None
        starts = meeting_start(timedelta(days=30))
        meeting = Meeting(forum_id=forum.id, title="Plain meeting", starts_at=starts,
                          ends_at=starts + timedelta(hours=1), format=MeetingFormat.ONLINE)
        db.session.add(meeting)
        db.session.flush()
        for position, title in enumerate(["First", "Second"], start=1):
            db.session.add(AgendaItem(meeting_id=meeting.id, position=position, title=title))
        db.session.commit()
        meeting_id = meeting.id
    context = chromium.new_context(base_url=server.url, java_script_enabled=False,
                                   locale="en-GB", timezone_id="Europe/London")
    try:
        plain = context.new_page()
        sign_in(plain, officer.email)
        plain.goto(f"/meetings/{meeting_id}/agenda")
        plain.locator("#agenda-builder li", has_text="Second").get_by_role(
            "button", name="Move up").click()
        expect(plain.locator("#agenda-builder h3").first).to_contain_text("Second")
        assert plain.url.endswith(f"/meetings/{meeting_id}/agenda") or "#item-" in plain.url
    finally:
        context.close()
