"""The volunteer's joining journey in real Chromium on a phone: find the forum, sign in,
ask to join (with a mistake first), a convenor approves, and the volunteer sees the
members. axe-core checks the forum page, the join form (also with its error) and the
requests page.

Uses the live server, factories and axe check from ``tests/browser/conftest.py``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from partnerships.accounts.models import User
from partnerships.extensions import db
from partnerships.forums.models import (
    Forum,
    ForumConvenor,
    ForumMember,
    ForumMemberStatus,
    MembershipPolicy,
    Visibility,
)
from partnerships.modelbase import utcnow
from partnerships.organisations.models import Organisation
from partnerships.places.models import Partnership
from tests.browser.conftest import (
    CHROMIUM,
    SKIP_REASON,
    Data,
    LiveServer,
    axe_check,
    errors_on,
    sign_in,
)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason=SKIP_REASON)]


def _forum(live: Data, partnership: Partnership, convenor: User, cvs: Organisation) -> str:
    """A members-only, by-request forum convened from the CVS; returns its path."""
    with live.app.app_context():
        forum = Forum(partnership_id=partnership.id, slug="health-wellbeing",
                      name="Health and Wellbeing VCSE Forum",
                      purpose="Voluntary groups working on **health** together.\n\n"
                              "We meet every month.",
                      theme="Health", tags="carers,mental health",
                      membership_policy=MembershipPolicy.BY_REQUEST,
                      visibility=Visibility.MEMBERS)
        db.session.add(forum)
        db.session.flush()
        db.session.add(ForumConvenor(forum_id=forum.id, user_id=convenor.id,
                                     organisation_id=cvs.id))
        db.session.add(ForumMember(forum_id=forum.id, user_id=convenor.id,
                                   organisation_id=cvs.id, status=ForumMemberStatus.ACTIVE,
                                   decided_at=utcnow()))
        db.session.commit()
        return f"/partnerships/{partnership.slug}/forums/{forum.slug}/"


def test_volunteer_asks_to_join_and_a_convenor_approves_on_accessible_pages(
        request: pytest.FixtureRequest) -> None:
    page: Page = request.getfixturevalue("phone_page")
    live: Data = request.getfixturevalue("data")
    chromium: Browser = request.getfixturevalue("browser")
    server: LiveServer = request.getfixturevalue("live_server")
    convenor = live.user("Carla Convenor")
    volunteer = live.user("Vera Volunteer")
    cvs = live.organisation("Northbridge CVS", admin=convenor)
    food_bank = live.organisation("Eastside Food Bank", admin=volunteer)
    partnership = live.partnership("Northbridge Together")
    path = _forum(live, partnership, convenor, cvs)

    # Found from the partnership's page, before signing in.
    page.goto(f"/partnerships/{partnership.slug}/")
    page.get_by_role("link", name="Health and Wellbeing VCSE Forum").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Health and Wellbeing VCSE Forum")
    expect(page.get_by_role("link", name="Sign in to join")).to_be_visible()
    axe_check(page)

    sign_in(page, volunteer.email)
    page.goto(path)
    page.get_by_role("link", name="Ask to join").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Ask to join Health and Wellbeing VCSE Forum")
    axe_check(page)

    # A mistake first: an introduction that is too long keeps what was typed.
    page.get_by_label(f"Me, representing {food_bank.name}").check()
    page.get_by_label("Introduce yourself (optional)").fill("x" * 501)
    page.get_by_role("button", name="Ask to join").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Your introduction must be 500 characters or fewer")
    expect(page.get_by_label(f"Me, representing {food_bank.name}")).to_be_checked()
    axe_check(page)

    page.get_by_label("Introduce yourself (optional)").fill("We run a food bank on Tuesdays.")
    page.get_by_role("button", name="Ask to join").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You have asked to join")
    expect(page.get_by_role("button", name="Withdraw your request")).to_be_visible()
    assert not errors_on(page).messages, errors_on(page).messages

    # The convenor, in another browser, approves from the requests page.
    context = chromium.new_context(base_url=server.url, locale="en-GB",
                                   timezone_id="Europe/London")
    try:
        convenor_page = context.new_page()
        sign_in(convenor_page, convenor.email)
        convenor_page.goto(path + "requests")
        expect(convenor_page.get_by_text("We run a food bank on Tuesdays.")).to_be_visible()
        expect(convenor_page.get_by_text("Small", exact=True)).to_be_visible()
        axe_check(convenor_page)
        convenor_page.get_by_role("button", name="Approve Vera Volunteer").click()
        expect(convenor_page.locator(".govuk-notification-banner")).to_contain_text(
            "Vera Volunteer is now a member")
        axe_check(convenor_page)
    finally:
        context.close()

    page.goto(path)
    expect(page.get_by_text("You are a member of this forum")).to_be_visible()
    page.get_by_role("link", name="See who belongs to this forum").click()
    expect(page.get_by_role("link", name=food_bank.name)).to_be_visible()
    axe_check(page)
    assert not errors_on(page).messages, errors_on(page).messages
