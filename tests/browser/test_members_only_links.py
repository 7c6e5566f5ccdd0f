"""An email link to a members-only meeting, in a real browser on a phone: signed out, the
sign-in page says the page is for members and then brings the member back to the
meeting; signed in as someone outside the forum, the page says whose meeting it is and
offers to ask to join, with nothing of the meeting, fits 320 px and passes axe."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from partnerships.extensions import db
from partnerships.factories import forums, meetings
from partnerships.forums.models import Visibility
from partnerships.timeutil import today_uk
from tests.browser.conftest import Data, _attached, axe_check, sign_in
from tests.conftest import PASSWORD

TITLE = "Carers budget review zq"


def _members_only_meeting(data: Data) -> tuple[Any, Any, int, str]:
    """A members-only forum's meeting; returns its member, an outsider, its id and the
    forum's name."""
    convenor, member, outsider = data.user(), data.user(), data.user()
    partnership = data.partnership()
    name = f"Carers Circle {next(data.counter)}"
    with data.app.app_context():
        forum = forums.forum(_attached(partnership), name, convenors=[_attached(convenor)],
                             members=[_attached(member)], visibility=Visibility.MEMBERS)
        [meeting] = meetings.meeting(forum, TITLE, day=today_uk() + timedelta(days=14),
                                     start=time(10), end=time(12))
        db.session.commit()
        return member, outsider, meeting.id, name


def test_signed_out_member_signs_in_from_the_link_and_lands_on_the_meeting(
        phone_page: Page, data: Data) -> None:
    member, _outsider, meeting_id, _name = _members_only_meeting(data)
    page = phone_page
    page.goto(f"/meetings/{meeting_id}/")
    page.wait_for_url(lambda url: "/account/sign-in?next=" in url
                      and url.endswith(f"/meetings/{meeting_id}/"))
    expect(page.get_by_role("main")).to_contain_text(
        "This page is for members. Sign in and we will bring you back to it.")
    assert TITLE not in page.content()
    axe_check(page)
    page.get_by_label("Email address").fill(member.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/meetings/{meeting_id}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)


def test_outsider_is_told_whose_meeting_it_is_at_320_px(new_context: Any, data: Data) -> None:
    _member, outsider, meeting_id, name = _members_only_meeting(data)
    context = new_context(phone=True)
    page = context.new_page()
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in(page, outsider.email)
    response = page.goto(f"/meetings/{meeting_id}/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"This meeting is for members of {name}")
    expect(page.get_by_role("button", name="Ask to join")).to_be_visible()
    assert TITLE not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    axe_check(page)
