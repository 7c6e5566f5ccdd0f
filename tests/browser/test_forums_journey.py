"""The volunteer's journey in real Chromium on a phone, as the Forums issue tells it:
find the forum, register (and confirm the email), ask to join (with a mistake first),
a convenor approves, and the volunteer replies to a discussion with htmx. axe-core
checks the forum page, the join form (also with its error), the requests page, the
member list and the thread.

Uses the live server, factories and axe check from ``tests/browser/conftest.py``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from partnerships.accounts.models import User
from partnerships.extensions import db
from partnerships.forums.models import (
    Forum,
    ForumConvenor,
    ForumMember,
    ForumMemberStatus,
    MembershipPolicy,
    Post,
    Thread,
    Visibility,
)
from partnerships.modelbase import utcnow
from partnerships.organisations.models import Organisation
from partnerships.partnership.models import Partnership
from tests.browser.conftest import (
    Data,
    LiveServer,
    axe_check,
    errors_on,
    sign_in,
)
from tests.conftest import link_in


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
        thread = Thread(forum_id=forum.id, title="Tuesday volunteers", author_id=convenor.id,
                        last_post_at=utcnow())
        db.session.add(thread)
        db.session.flush()
        post = Post(thread_id=thread.id, author_id=convenor.id,
                    body="Who can help at the **Tuesday** drop-in?")
        db.session.add(post)
        db.session.flush()
        thread.last_post_id = post.id
        db.session.commit()
        return f"/partnerships/{partnership.slug}/forums/{forum.slug}/"


def test_volunteer_asks_to_join_and_a_convenor_approves_on_accessible_pages(
        request: pytest.FixtureRequest) -> None:
    page: Page = request.getfixturevalue("phone_page")
    live: Data = request.getfixturevalue("data")
    chromium: Browser = request.getfixturevalue("browser")
    server: LiveServer = request.getfixturevalue("live_server")
    convenor = live.user("Carla Convenor")
    cvs = live.organisation("Northbridge CVS", admin=convenor)
    partnership = live.partnership("Northbridge Together")
    path = _forum(live, partnership, convenor, cvs)

    # Found from the partnership's page, before having an account.
    page.goto(f"/partnerships/{partnership.slug}/")
    page.get_by_role("link", name="Health and Wellbeing VCSE Forum").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Health and Wellbeing VCSE Forum")
    expect(page.get_by_role("link", name="Sign in to join")).to_be_visible()
    axe_check(page)

    # Register from the forum page, come straight back, and confirm the email by its link.
    email = f"vera.{next(live.counter)}@eastside-food.example.org"
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Full name").fill("Vera Volunteer")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Create a password").fill("maple lantern orbit 42")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    [confirmation] = live.outbox(to=email)
    page.goto(link_in(confirmation))
    expect(page.get_by_role("heading", level=1)).to_have_text("Health and Wellbeing VCSE Forum")
    # The food bank's profile is already on the site, with Vera as its admin.
    with live.app.app_context():
        volunteer = db.session.scalar(select(User).where(User.email == email))
        db.session.expunge(volunteer)
    food_bank = live.organisation("Eastside Food Bank", admin=volunteer)

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

    # Now a member, Vera replies to a discussion: htmx adds it without loading a page.
    page.goto(path)
    page.get_by_role("link", name="Tuesday volunteers").click()
    page.evaluate("() => { window.stillTheSamePage = true }")
    page.get_by_label("Your reply").fill("Count **Eastside** in for Tuesdays.")
    page.get_by_role("button", name="Post reply").click()
    expect(page.locator("#posts > li")).to_have_count(2)
    expect(page.locator("#posts > li").last).to_contain_text("Count Eastside in for Tuesdays.")
    assert page.evaluate("() => window.stillTheSamePage") is True
    axe_check(page)
    assert not errors_on(page).messages, errors_on(page).messages
