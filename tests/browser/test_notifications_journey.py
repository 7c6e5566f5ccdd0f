"""Email settings in real Chromium on a phone (issue 16): from the account page to the
settings, choose a level for a forum and switch a personal kind off, see it saved; a
tampered answer shows the error summary; an unsubscribe link opened with no session
shows one button and turns the forum's email off. axe-core checks each page, and none
is wider than the phone."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from partnerships.extensions import db
from partnerships.forums.models import Forum, ForumMember, ForumMemberStatus
from partnerships.mail.kinds import Kind
from partnerships.modelbase import utcnow
from partnerships.notifications import unsubscribe
from partnerships.notifications.models import Level, NotificationKindOff, NotificationLevel
from tests.browser.conftest import Data, axe_check, errors_on, sign_in


def _fits(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width  # type: ignore[index]


def _forum(data: Data, user_id: int, partnership_id: int) -> tuple[int, str]:
    n = next(data.counter)
    with data.app.app_context():
        forum = Forum(partnership_id=partnership_id, slug=f"carers-forum-{n}",
                      name=f"Carers Forum {n}", purpose="Carers together.")
        db.session.add(forum)
        db.session.flush()
        db.session.add(ForumMember(forum_id=forum.id, user_id=user_id,
                                   status=ForumMemberStatus.ACTIVE, decided_at=utcnow()))
        db.session.commit()
        return forum.id, forum.name


def test_choosing_email_settings_on_a_phone(phone_page: Page, data: Data) -> None:
    page = phone_page
    page.set_viewport_size({"width": 320, "height": 800})
    person = data.user("Nia Notified")
    partnership = data.partnership()
    forum_id, forum_name = _forum(data, person.id, partnership.id)
    sign_in(page, person.email)

    page.goto("/account/profile")
    page.get_by_role("link", name="Choose which emails you get").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Email settings")
    expect(page.get_by_role("group", name=forum_name)).to_be_visible()
    expect(page.get_by_text("Emails you always get")).to_be_visible()
    axe_check(page)
    _fits(page)

    page.get_by_role("group", name=forum_name).get_by_label("Only what is about me").check()
    page.get_by_label("Reminders").uncheck()
    page.get_by_role("button", name="Save your email settings").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Your email settings are saved")
    expect(page.get_by_role("group", name=forum_name).get_by_label(
        "Only what is about me")).to_be_checked()
    expect(page.get_by_label("Reminders")).not_to_be_checked()
    with data.app.app_context():
        assert db.session.scalar(select(NotificationLevel.level).where(
            NotificationLevel.user_id == person.id,
            NotificationLevel.forum_id == forum_id)) is Level.ABOUT_ME
        assert set(db.session.scalars(select(NotificationKindOff.kind).where(
            NotificationKindOff.user_id == person.id))) == {Kind.REMINDERS.value}

    # A tampered answer (no browser sends it, but a stale page could): the error summary.
    page.evaluate("""() => { document.querySelector('input[name="default"]:checked')
                               .value = 'hourly'; }""")
    page.get_by_role("button", name="Save your email settings").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Select how much email you want from forums")
    axe_check(page)
    _fits(page)
    assert [m for m in errors_on(page).messages if "favicon" not in m and "422" not in m] == []


def test_unsubscribe_link_without_signing_in(phone_page: Page, data: Data) -> None:
    page = phone_page
    page.set_viewport_size({"width": 320, "height": 800})
    person = data.user("Uma Unsubscribed")
    partnership = data.partnership()
    forum_id, forum_name = _forum(data, person.id, partnership.id)
    with data.app.test_request_context():
        forum = db.session.get(Forum, forum_id)
        link = unsubscribe.link(person, Kind.FORUM_REPLY, forum)
    path = "/" + link.split("/", 3)[3]

    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Stop emails about activity in {forum_name}?")
    axe_check(page)
    _fits(page)
    page.get_by_role("button", name="Stop these emails").click()
    expect(page.locator(".govuk-panel")).to_contain_text("Emails stopped")
    axe_check(page)
    _fits(page)
    with data.app.app_context():
        assert db.session.scalar(select(NotificationLevel.level).where(
            NotificationLevel.user_id == person.id,
            NotificationLevel.forum_id == forum_id)) is Level.NONE

    page.goto(path[:-4])
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "This unsubscribe link does not work")
    axe_check(page)


def test_choosing_a_weekly_digest_and_stopping_digests_on_a_phone(
        phone_page: Page, data: Data) -> None:
    """The digest levels on the settings page say when digests come; a digest's
    unsubscribe link, opened with no session, turns digests off."""
    page = phone_page
    page.set_viewport_size({"width": 320, "height": 800})
    person = data.user("Dev Digest")
    partnership = data.partnership()
    forum_id, forum_name = _forum(data, person.id, partnership.id)
    sign_in(page, person.email)

    page.goto("/account/notifications")
    expect(page.get_by_text("one email a day, at about 7am", exact=False)).to_be_visible()
    expect(page.get_by_text("on Monday mornings at about 7am", exact=False)).to_be_visible()
    page.get_by_role("group", name=forum_name).get_by_label("Weekly digest").check()
    page.get_by_role("button", name="Save your email settings").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Your email settings are saved")
    expect(page.get_by_role("group", name=forum_name).get_by_label(
        "Weekly digest")).to_be_checked()
    axe_check(page)
    _fits(page)
    with data.app.app_context():
        assert db.session.scalar(select(NotificationLevel.level).where(
            NotificationLevel.user_id == person.id,
            NotificationLevel.forum_id == forum_id)) is Level.WEEKLY

    page.context.clear_cookies()
    with data.app.test_request_context():
        link = unsubscribe.link(person, Kind.DIGEST, None)
    page.goto("/" + link.split("/", 3)[3])
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Stop daily and weekly digest emails?")
    axe_check(page)
    _fits(page)
    page.get_by_role("button", name="Stop these emails").click()
    expect(page.locator(".govuk-panel")).to_contain_text("Emails stopped")
    with data.app.app_context():
        assert db.session.scalar(select(NotificationLevel.level).where(
            NotificationLevel.user_id == person.id,
            NotificationLevel.forum_id == forum_id)) is Level.ABOUT_ME
