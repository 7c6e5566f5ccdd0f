"""Raising a concern in real Chromium on a 320 px phone (issue 17): signed out, from the
partnership's page, with every mistake shown at once; the private link from the email;
an officer responds and closes; the response is on the public list. axe-core checks
each page, and none is wider than the screen."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Data, axe_check, errors_on, sign_in

WIDTH = 320


def _fits(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} is {width}px wide"


def _check(page: Page) -> None:
    axe_check(page)
    _fits(page)


def test_raising_and_answering_a_concern_on_a_phone(phone_page: Page, data: Data) -> None:
    page = phone_page
    page.set_viewport_size({"width": WIDTH, "height": 800})
    officer = data.user("Petra Officer")
    partnership = data.partnership(officers=[officer])
    base = f"/partnerships/{partnership.slug}/concerns"

    page.goto(f"/partnerships/{partnership.slug}/")
    page.get_by_role("link", name="Raise a concern about how this partnership engages").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Raise a concern about how this partnership engages")
    _check(page)

    # Every mistake at once, what was typed kept.
    page.get_by_label("What happened?").fill("")
    page.get_by_label("Email address").fill("not an address")
    page.get_by_role("button", name="Send your concern").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Select what your concern is about")
    expect(summary).to_contain_text("Enter what happened")
    expect(summary).to_contain_text("Select whether we may show your concern publicly")
    expect(page.get_by_label("Email address")).to_have_value("not an address")
    _check(page)

    page.get_by_label("Not enough notice").check()
    page.get_by_label("What happened?").fill("The agenda came out the day before.")
    page.get_by_role("group", name="May we show your concern and our response publicly?") \
        .get_by_label("Yes").check()
    page.get_by_label("No, do not show my name").check()
    page.get_by_label("Email address").fill("phone.raiser@example.net")
    page.get_by_role("button", name="Send your concern").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Concern sent"))
    expect(page.get_by_text("phone.raiser@example.net")).to_be_visible()
    _check(page)

    [email] = data.outbox("phone.raiser@example.net")
    link = re.search(r"https?://\S+/follow/\S+", email.body)
    assert link is not None
    page.goto(link.group(0))
    expect(page.get_by_text("The agenda came out the day before.")).to_be_visible()
    expect(page.get_by_text("No response yet.")).to_be_visible()
    _check(page)

    sign_in(page, officer.email)
    page.goto(f"/partnerships/{partnership.slug}/")
    page.get_by_role("link", name="Concerns raised", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Concerns raised")
    _check(page)
    page.get_by_role("link", name=re.compile("^Not enough notice")).click()
    _check(page)
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Concern acknowledged")
    page.get_by_role("link", name="Respond").click()
    _check(page)
    page.get_by_role("button", name="Send response").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter your response")
    _check(page)
    page.get_by_label("Your response").fill("We will publish agendas a week ahead.")
    page.get_by_role("button", name="Send response").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Response sent")
    page.get_by_role("button", name="Close the concern").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Concern closed")
    _check(page)
    page.get_by_role("link", name="Do not show this concern publicly").click()
    _check(page)

    page.goto(f"{base}/")
    expect(page.get_by_text("We will publish agendas a week ahead.")).to_be_visible()
    expect(page.get_by_text("phone.raiser@example.net")).to_have_count(0)
    _check(page)
    assert [m for m in errors_on(page).messages if "favicon" not in m and "422" not in m] == []
