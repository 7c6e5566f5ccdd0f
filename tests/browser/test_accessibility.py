"""axe-core (WCAG 2.2 A and AA, plus best practice) on the pages people meet first,
including forms showing errors; and the app's own JavaScript running under the real
Content Security Policy without errors.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Data, axe_check, errors_on, sign_in


def _no_csp_violations(page: Page) -> None:
    violations = errors_on(page).csp()
    assert not violations, "Content Security Policy blocked something:\n" + "\n".join(violations)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),
        ("/partnerships/", 200),
        ("/account/sign-in", 200),
        ("/account/register", 200),
        ("/accessibility", 200),
        ("/no-such-page", 404),
    ],
    ids=["home", "partnerships", "sign-in", "register", "accessibility-statement", "not-found"],
)
def test_page_has_no_accessibility_violations(page: Page, path: str, status: int) -> None:
    response = page.goto(path)
    assert response is not None and response.status == status
    axe_check(page)
    _no_csp_violations(page)


def test_partnership_page_with_members_and_officers_has_no_accessibility_violations(
    page: Page, data: Data
) -> None:
    officer = data.user("Priya Shah")
    admin = data.user("Tom Reilly")
    food_bank = data.organisation("Eastside Food Bank", admin=admin)
    youth_club = data.organisation("Northbridge Youth Club", admin=admin)
    partnership = data.partnership(
        "Northbridge Together", officers=[officer], members=[food_bank, youth_club]
    )

    response = page.goto(f"/partnerships/{partnership.slug}/")

    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Northbridge Together")
    expect(page.get_by_role("main")).to_contain_text("Eastside Food Bank")
    expect(page.get_by_role("main")).to_contain_text("Northbridge Youth Club")
    axe_check(page)
    _no_csp_violations(page)


def test_sign_in_with_wrong_password_shows_accessible_errors(page: Page, data: Data) -> None:
    user = data.user()
    page.goto("/account/sign-in")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password", exact=True).fill("not the right password at all")
    page.get_by_role("button", name="Sign in").click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter a correct email address and password")
    expect(page.get_by_label("Email address")).to_have_value(user.email)
    axe_check(page)
    _no_csp_violations(page)


def test_register_form_with_errors_is_accessible(page: Page) -> None:
    page.goto("/account/register")
    page.get_by_label("Full name").fill("Sam Lee")
    page.get_by_label("Email address").fill("not an email address")
    page.get_by_label("Create a password", exact=True).fill("short")
    page.get_by_role("button", name="Create account").click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter an email address in the correct format")
    expect(page.locator(".govuk-error-message")).not_to_have_count(0)
    expect(page.get_by_label("Full name")).to_have_value("Sam Lee")
    axe_check(page)
    _no_csp_violations(page)


def test_account_page_when_signed_in_is_accessible(page: Page, data: Data) -> None:
    user = data.user("Grace Mensah")
    sign_in(page, user.email)
    page.goto("/account/profile")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    axe_check(page)
    _no_csp_violations(page)


def test_home_page_scripts_run_under_the_content_security_policy_without_errors(
    page: Page,
) -> None:
    response = page.goto("/")
    assert response is not None
    assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]

    # The nonce'd inline line in the template ran...
    expect(page.locator("body")).to_have_class(re.compile(r"\bjs-enabled\b.*\bgovuk-frontend-supported\b"))
    # ...GOV.UK Frontend started its components (app.mjs, an ES module)...
    expect(page.locator("[data-module='govuk-service-navigation']")).to_have_attribute(
        "data-govuk-service-navigation-init", ""
    )
    # ...and htmx loaded.
    assert page.evaluate("() => typeof window.htmx?.version") == "string"
    assert page.evaluate("() => window.htmx.version").startswith("2.0.")

    messages = [m for m in errors_on(page).messages if "favicon" not in m]
    assert messages == []


def test_axe_check_fails_with_rule_impact_and_selector_when_a_page_breaks_the_rules(
    page: Page,
) -> None:
    """The check is not vacuous: axe really runs and its report says what to fix where."""
    page.goto("/accessibility")
    page.evaluate(
        """() => {
            const input = document.createElement("input");
            input.id = "unlabelled-field";
            document.querySelector("main").append(input);
        }"""
    )

    with pytest.raises(AssertionError) as failure:
        axe_check(page)

    report = str(failure.value)
    assert "- label (critical): Form elements must have labels" in report
    assert "at #unlabelled-field:" in report


def test_minutes_publish_confirmation_for_an_unpublished_agenda_is_accessible_on_a_phone(
        request: pytest.FixtureRequest) -> None:
    """The confirmation asked before publishing the minutes of a meeting whose agenda was
    never published (issue 15): axe-core, and it fits a phone without scrolling sideways."""
    from partnerships.extensions import db
    from partnerships.meetings.models import AgendaStatus, Meeting, MinutesStatus
    from tests.browser.test_meetings_records_journey import forum_with_meetings

    page: Page = request.getfixturevalue("phone_page")
    live: Data = request.getfixturevalue("data")
    officer = live.user("Olu Officer")
    place = forum_with_meetings(live, officer, [live.user("Mo Member")])
    with live.app.app_context():
        past = db.session.get(Meeting, place.past_id)
        assert past is not None
        past.agenda_status, past.agenda_published_at = AgendaStatus.DRAFT, None
        past.minutes_status = MinutesStatus.DRAFT
        past.items[1].minutes = "Demand rose by a third."
        db.session.commit()
    sign_in(page, officer.email)
    page.set_viewport_size({"width": 320, "height": 720})
    page.goto(f"/meetings/{place.past_id}/")
    page.get_by_role("button", name="Publish the minutes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Publish the minutes")
    expect(page.get_by_role("main")).to_contain_text("was never published")
    expect(page.get_by_role("main")).to_contain_text("2. Winter demand at the food bank")
    axe_check(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, width
    page.get_by_role("button", name="Publish the minutes").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Minutes published.")
    expect(page.locator("#minutes")).to_contain_text("Published on")
    # Signed out, the items the minutes cover stand where the agenda would.
    page.context.clear_cookies()
    page.goto(f"/meetings/{place.past_id}/")
    agenda = page.locator("#agenda")
    expect(agenda).to_contain_text("The agenda was not published before the meeting")
    expect(agenda.get_by_role("link", name="2. Winter demand at the food bank")).to_be_visible()
    expect(agenda).not_to_contain_text("Welcome and apologies")
    axe_check(page)
