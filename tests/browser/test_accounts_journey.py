"""A new person's first visit, on a phone: register, confirm by email, sign out, sign in."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Data, axe_check, errors_on
from tests.conftest import link_in

NEW_PASSWORD = "plum orbit kettle meadow 47"


def test_register_confirm_sign_out_and_sign_in_again_on_a_phone(
    phone_page: Page, data: Data
) -> None:
    page = phone_page
    email = "amara.okafor@example.org"

    # From the home page to the register form, through the menu and the sign-in page.
    page.goto("/")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()  # on a phone, GOV.UK Frontend folds the navigation away
    menu.click()
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.get_by_role("main").get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")

    # Sending the form empty: the error summary appears and takes focus.
    page.get_by_role("button", name="Create account").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter your full name")
    expect(summary).to_contain_text("Enter your email address")
    expect(summary).to_contain_text("Enter a password")
    expect(page).to_have_title(re.compile(r"^Error: Create an account\b"))
    axe_check(page)

    # The summary's links move to the field that needs fixing.
    summary.get_by_role("link", name="Enter your full name").click()
    expect(page.get_by_label("Full name")).to_be_focused()

    page.get_by_label("Full name").fill("Amara Okafor")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Create a password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page.get_by_role("main")).to_contain_text(email)

    # Follow the link in the email.
    messages = data.outbox(to=email)
    assert [m.subject for m in messages] == ["Confirm your email address"]
    page.goto(link_in(messages[0]))  # lands on "Your page", with first steps
    expect(page.get_by_role("heading", level=1)).to_have_text("Your Local Partnerships")
    expect(page.get_by_role("heading", name="Get started")).to_be_visible()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Your email address is confirmed"
    )

    # Sign out (a confirmation page with a button, as GET must not change anything).
    menu.click()
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Sign out").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "You have signed out"
    )
    nav = page.get_by_role("navigation", name="Menu")
    expect(nav.get_by_role("link", name="Sign in", include_hidden=True)).to_be_attached()
    expect(nav.get_by_role("link", name="Sign out", include_hidden=True)).not_to_be_attached()

    # Sign in with the new credentials and land on "Your page", which is accessible;
    # the account page still has the new details.
    page.goto("/account/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/my/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your Local Partnerships")
    axe_check(page)
    page.goto("/account/profile")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.get_by_label("Full name")).to_have_value("Amara Okafor")
    expect(page.get_by_label("Email address")).to_have_value(email)

    assert errors_on(page).messages == []
