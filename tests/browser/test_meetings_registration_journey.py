"""A member's registration journey in real Chromium, on a phone-sized screen: find the
meeting from the forum page, register for a nearly full meeting (with a mistake
first), join the waiting list when it fills, get promoted when someone cancels, and
see it on "Your meetings". axe-core checks each page, errors included.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from partnerships.extensions import db
from partnerships.forums.models import (
    Forum,
    ForumConvenor,
    ForumMember,
    ForumMemberStatus,
    Visibility,
)
from partnerships.meetings.models import Meeting, MeetingFormat, Registration
from tests.browser.conftest import (
    Data,
    axe_check,
    errors_on,
    sign_in,
)
from tests.conftest import meeting_start


def make_forum_with_meeting(live: Data, convenor: Any, members: list[Any],
                            capacity: int) -> tuple[str, Meeting]:
    """A public forum with a hybrid meeting; returns the forum's address and the meeting."""
    partnership = live.partnership(officers=[])
    with live.app.app_context():
        forum = Forum(partnership_id=partnership.id, slug=f"alliance-{partnership.id}",
                      name="Northbridge VCSE Alliance", purpose="Voluntary groups together.",
                      visibility=Visibility.PUBLIC)
        db.session.add(forum)
        db.session.flush()
        db.session.add(ForumConvenor(forum_id=forum.id, user_id=convenor.id))
        for person in [convenor, *members]:
            db.session.add(ForumMember(forum_id=forum.id, user_id=person.id,
                                       status=ForumMemberStatus.ACTIVE))
        starts = meeting_start(timedelta(days=10))
        meeting = Meeting(forum_id=forum.id, title="Winter planning meeting",
                          starts_at=starts, ends_at=starts + timedelta(hours=2),
                          format=MeetingFormat.HYBRID, venue_name="Northbridge Library",
                          venue_address="2 High Street, Northbridge",
                          joining_url="https://meet.example.org/winter", capacity=capacity,
                          step_free_access=True)
        db.session.add(meeting)
        db.session.commit()
        url = f"/partnerships/{partnership.slug}/forums/{forum.slug}/"
        db.session.refresh(meeting)
        db.session.expunge_all()
        return url, meeting


def register(page: Page, answer: str, access: str = "") -> None:
    page.get_by_label(answer).check()
    if access:
        page.get_by_label("Access requirements (optional)").fill(access)
    page.get_by_role("button", name="Send your answer").click()


def test_member_registers_joins_the_waiting_list_and_is_promoted(
        request: pytest.FixtureRequest) -> None:
    phone: Page = request.getfixturevalue("phone_page")
    live: Data = request.getfixturevalue("data")
    new_context = request.getfixturevalue("new_context")
    convenor = live.user("Cara Convenor")
    first = live.user("Fran First")
    member = live.user("Mo Member")
    forum_url, meeting = make_forum_with_meeting(live, convenor, [first, member], capacity=1)

    # Fran takes the only in-person place (in her own browser).
    other = new_context().new_page()
    sign_in(other, first.email)
    other.goto(f"/meetings/{meeting.id}/register")
    register(other, "Attending in person")
    expect(other.locator(".govuk-notification-banner")).to_be_visible()

    # Mo finds the meeting from the forum page on his phone.
    sign_in(phone, member.email)
    phone.goto(forum_url)
    phone.get_by_role("link", name="Winter planning meeting").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Winter planning meeting")
    expect(phone.get_by_text("Full: join the waiting list.")).to_be_visible()
    axe_check(phone)

    # A mistake first: no answer chosen. What he typed is kept.
    phone.get_by_role("button", name="Register").click()
    phone.get_by_label("Access requirements (optional)").fill("A seat near the door")
    phone.get_by_role("button", name="Send your answer").click()
    expect(phone.locator(".govuk-error-summary")).to_be_visible()
    expect(phone.get_by_label("Access requirements (optional)")).to_have_value(
        "A seat near the door")
    axe_check(phone)

    register(phone, "Attending in person")
    expect(phone.get_by_text("On the waiting list, number 1")).to_be_visible()
    axe_check(phone)

    # Fran cancels; Mo gets her place and an email saying so.
    other.goto(f"/meetings/{meeting.id}/")
    other.get_by_role("button", name="Cancel your registration").click()
    expect(other.locator(".govuk-notification-banner")).to_be_visible()
    other.context.close()
    promoted = [m for m in live.outbox(member.email) if "place" in m.subject.lower()]
    assert promoted, [m.subject for m in live.outbox(member.email)]

    phone.reload()
    expect(phone.get_by_text("You have a place")).to_be_visible()
    expect(phone.get_by_role("link", name="Join the meeting online")).to_be_visible()

    phone.goto("/my/meetings")
    expect(phone.get_by_role("link", name="Winter planning meeting")).to_be_visible()
    axe_check(phone)
    assert not errors_on(phone).messages, errors_on(phone).messages
    with live.app.app_context():
        rows = db.session.scalars(db.select(Registration).where(
            Registration.meeting_id == meeting.id)).all()
        assert {(r.user_id, r.status.value, r.holds_place) for r in rows} == {
            (first.id, "cancelled", False), (member.id, "confirmed", True)}
