"""The reply box in real Chromium: GOV.UK's character count shows one message (the
live count), also on the fresh form htmx sends after a reply, and the discussion's
reply count goes up after an htmx reply without a page load."""

from __future__ import annotations

from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import PHONE, Data, LiveServer, axe_check, sign_in
from tests.browser.test_forum_discussions import _context, _forum_with_thread, _page


def visible_count_messages(page: Page) -> list[str]:
    """The character count's messages a sighted person sees (not those kept for screen
    readers only, which GOV.UK hides with govuk-visually-hidden)."""
    box: Locator = page.locator("#reply-form .govuk-character-count")
    return box.evaluate("""box => [...box.querySelectorAll(
        '.govuk-character-count__message, .govuk-character-count__status')]
        .filter(e => !e.closest('.govuk-visually-hidden') && e.offsetParent !== null
                && e.getBoundingClientRect().height > 1)
        .map(e => e.textContent.trim())""")


def count_texts(page: Page) -> str:
    """Every word of the character count, read aloud or shown."""
    return page.locator("#reply-form .govuk-character-count").evaluate(
        "box => [...box.querySelectorAll('[class*=character-count__]')]"
        ".map(e => e.textContent.trim()).join(' | ')")


def test_reply_box_shows_one_count_and_the_reply_count_updates(
        browser: Browser, live_server: LiveServer, data: Data) -> None:
    convenor = data.user("Cara Convenor")
    member = data.user("Mo Member")
    partnership = data.partnership("Northbridge Together")
    path, _thread_id = _forum_with_thread(data, convenor, member, partnership)
    context = _context(browser, live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = _page(context)
        sign_in(page, member.email)
        page.goto(path)
        summary = page.locator("#thread-summary")
        expect(summary).to_contain_text("0 replies.")
        page.get_by_label("Your reply").fill("Hello")
        expect(page.locator("#reply-form .govuk-character-count__status")).to_contain_text(
            "characters remaining")
        assert len(visible_count_messages(page)) == 1, visible_count_messages(page)
        assert "10000" not in count_texts(page), count_texts(page)

        page.evaluate("() => { window.stillTheSamePage = true }")
        page.get_by_role("button", name="Post reply").click()
        expect(page.locator("#posts > li")).to_have_count(2)
        expect(summary).to_contain_text("1 reply.")
        assert page.evaluate("() => window.stillTheSamePage") is True
        page.get_by_label("Your reply").fill("Again")
        expect(page.locator("#reply-form .govuk-character-count__status")).to_contain_text(
            "characters remaining")
        assert len(visible_count_messages(page)) == 1, visible_count_messages(page)
        assert "10000" not in count_texts(page), count_texts(page)
        axe_check(page)
    finally:
        context.close()
