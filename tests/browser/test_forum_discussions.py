"""Discussions in real Chromium: a member replies with htmx (no page load), a mistake puts
the form back in place with its error, the thread page passes axe-core, the app's scripts
run under the real Content Security Policy without errors, and replying works the same
with JavaScript off.

Uses the shared live server, Chromium and helpers of ``tests/browser/conftest.py``.
"""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Browser, BrowserContext, Page, expect
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
from partnerships.partnership.models import Partnership
from tests.browser.conftest import (
    PHONE,
    TIMEOUT_MS,
    Data,
    LiveServer,
    PageErrors,
    axe_check,
    errors_on,
    sign_in,
)


def _context(browser: Browser, server: LiveServer, **options: object) -> BrowserContext:
    context = browser.new_context(base_url=server.url, locale="en-GB",
                                   timezone_id="Europe/London", **options)  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    return context


def _page(context: BrowserContext) -> Page:
    """A page that records console errors and failed assets (see ``errors_on``)."""
    page = context.new_page()
    errors = PageErrors()
    page.on("console", errors.console)
    page.on("pageerror", errors.exception)
    page.on("response", errors.response)
    page.app_errors = errors  # type: ignore[attr-defined]
    return page


def _forum_with_thread(live: Data, convenor: User, member: User,
                       partnership: Partnership) -> tuple[str, int]:
    """A members-only forum with one thread; returns the thread's path and its id."""
    with live.app.app_context():
        forum = Forum(partnership_id=partnership.id, slug="health-wellbeing",
                      name="Health and Wellbeing VCSE Forum", purpose="Health together.",
                      membership_policy=MembershipPolicy.BY_REQUEST,
                      visibility=Visibility.MEMBERS)
        db.session.add(forum)
        db.session.flush()
        db.session.add(ForumConvenor(forum_id=forum.id, user_id=convenor.id))
        joined = utcnow() - timedelta(days=10)
        for user in (convenor, member):
            db.session.add(ForumMember(forum_id=forum.id, user_id=user.id,
                                       status=ForumMemberStatus.ACTIVE, decided_at=joined))
        at = utcnow() - timedelta(days=1)
        thread = Thread(forum_id=forum.id, title="Winter food bank rota", author_id=convenor.id,
                        last_post_at=at, created_at=at)
        db.session.add(thread)
        db.session.flush()
        opening = Post(thread_id=thread.id, author_id=convenor.id, created_at=at,
                       body="Who can help on **Tuesdays** in December?")
        db.session.add(opening)
        db.session.flush()
        thread.last_post_id = opening.id
        db.session.commit()
        return (f"/partnerships/{partnership.slug}/forums/{forum.slug}/threads/{thread.id}",
                thread.id)


def test_member_replies_with_htmx_and_the_thread_page_is_accessible(
        browser: Browser, live_server: LiveServer, data: Data) -> None:
    convenor = data.user("Cara Convenor")
    member = data.user("Mo Member")
    partnership = data.partnership("Northbridge Together")
    path, thread_id = _forum_with_thread(data, convenor, member, partnership)
    context = _context(browser, live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = _page(context)
        sign_in(page, member.email)

        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text("Winter food bank rota")
        axe_check(page)

        # A mistake: the form comes back in place with the error, and nothing was posted.
        page.evaluate("() => { window.stillTheSamePage = true }")
        page.get_by_role("button", name="Post reply").click()
        summary = page.locator("#reply-form .govuk-error-summary")
        expect(summary).to_contain_text("Enter your message")
        expect(page.locator("#body-error")).to_contain_text("Enter your message")
        axe_check(page)

        # The reply is added to the list without loading a new page; the form is empty again.
        page.get_by_label("Your reply").fill("I can do **Tuesday** mornings.")
        page.get_by_role("button", name="Post reply").click()
        posts = page.locator("#posts > li")
        expect(posts).to_have_count(2)
        expect(posts.last).to_contain_text("Tuesday mornings")
        expect(posts.last).to_contain_text("Mo Member")
        expect(page.get_by_role("status")).to_have_text("Your reply has been posted.")
        expect(page.get_by_label("Your reply")).to_have_value("")
        assert page.evaluate("() => window.stillTheSamePage") is True
        axe_check(page)
        assert not errors_on(page).messages, errors_on(page).messages

        with data.app.app_context():
            bodies = db.session.scalars(
                select(Post.body).where(Post.thread_id == thread_id).order_by(Post.id)).all()
        assert bodies[-1] == "I can do **Tuesday** mornings."

        # Their own new post can be edited; the edit page, and starting a discussion with
        # a mistake, are accessible too.
        posts.last.get_by_role("link", name="Edit").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Edit your post")
        axe_check(page)
        page.goto(path.rsplit("/", 1)[0] + "/new")
        page.get_by_role("button", name="Start discussion").click()
        expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a title")
        axe_check(page)
        assert not errors_on(page).messages, errors_on(page).messages
    finally:
        context.close()


def test_replying_works_the_same_with_javascript_off(
        browser: Browser, live_server: LiveServer, data: Data) -> None:
    convenor = data.user("Cara Convenor")
    member = data.user("Mo Member")
    partnership = data.partnership("Northbridge Together")
    path, _thread_id = _forum_with_thread(data, convenor, member, partnership)
    context = _context(browser, live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, member.email)
        page.goto(path)

        page.get_by_role("button", name="Post reply").click()
        expect(page.locator(".govuk-error-summary").first).to_contain_text("Enter your message")
        expect(page.get_by_role("heading", level=1)).to_have_text("Winter food bank rota")
        # (No axe here: it is JavaScript, and this page has none.)

        page.get_by_label("Your reply").fill("Thursdays suit me better.")
        page.get_by_role("button", name="Post reply").click()
        page.wait_for_url(f"**{path}#post-*")
        expect(page.locator("#posts > li")).to_have_count(2)
        expect(page.locator("#posts > li").last).to_contain_text("Thursdays suit me better.")
        expect(page.locator(".govuk-notification-banner")).to_contain_text(
            "Your reply has been posted.")
    finally:
        context.close()


def test_a_double_tap_starts_one_discussion_and_its_author_can_delete_it(
        browser: Browser, live_server: LiveServer, data: Data) -> None:
    """GOV.UK's double-click prevention is on for every button: a double tap on "Start
    discussion" sends the form once. The author then deletes it (nobody has replied),
    through an accessible confirmation page."""
    convenor = data.user("Cara Convenor")
    member = data.user("Mo Member")
    partnership = data.partnership("Northbridge Together")
    path, _thread_id = _forum_with_thread(data, convenor, member, partnership)
    forum_path = path.rsplit("/threads/", 1)[0]
    context = _context(browser, live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = _page(context)
        sign_in(page, member.email)
        page.goto(forum_path + "/threads/new")
        page.get_by_label("Title").fill("Lift share to the spring forum")
        page.get_by_label("Your message").fill("Anyone driving from Eastside?")
        # Two taps 150 ms apart: without the prevention the first request has gone
        # when the second replaces it, and the server gets both.
        page.get_by_role("button", name="Start discussion").evaluate(
            "button => { button.click(); setTimeout(() => button.click(), 150); }")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Lift share to the spring forum")
        with data.app.app_context():
            titles = db.session.scalars(select(Thread.title).where(
                Thread.title == "Lift share to the spring forum")).all()
        assert len(titles) == 1

        page.locator("#posts > li").first.get_by_role("link", name="Delete").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Delete your discussion?")
        axe_check(page)
        page.get_by_role("button", name="Delete discussion").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text(
            "Your discussion has been deleted.")
        with data.app.app_context():
            assert db.session.scalar(select(Thread.id).where(
                Thread.title == "Lift share to the spring forum")) is None
        assert not errors_on(page).messages, errors_on(page).messages
    finally:
        context.close()
