"""Secondments and shadowing in real Chromium: browse with filters (with JavaScript the
results update in place through htmx; without it the "Apply filters" button submits the
same GET form), open an opportunity, sign in and apply (with a mistake first).
axe-core checks the listing, the opportunity page and the apply form, also with its
errors.

Uses the live server, factories and axe check from ``tests/browser/conftest.py``.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from partnerships.extensions import db
from partnerships.opportunities.models import (
    Application,
    LocationKind,
    OpenTo,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
)
from partnerships.organisations.models import Organisation, OrgType
from partnerships.partnership.models import Partnership
from partnerships.timeutil import today_uk
from tests.browser.conftest import (
    Data,
    LiveServer,
    axe_check,
    errors_on,
    sign_in,
)


def _opportunities(live: Data, partnership: Partnership, cvs: Organisation,
                   council: Organisation) -> dict[str, int]:
    """Three open opportunities offered within the partnership; returns their ids."""
    today = today_uk()
    common = {"description": "You will **see** how we work.", "contact_name": "Hana Host",
              "contact_email": "hana@cvs.example.org", "open_to": OpenTo.BOTH,
              "status": OpportunityStatus.OPEN, "partnership_id": partnership.id,
              "starts_earliest": today + timedelta(days=30),
              "starts_latest": today + timedelta(days=60)}
    rows = {
        "shadow": Opportunity(organisation_id=cvs.id, kind=OpportunityKind.SHADOWING,
                              title="Shadow the CVS chief executive", total_days=2,
                              location_kind=LocationKind.IN_PERSON, place="Northbridge",
                              time_commitment="2 days in total", places=1,
                              closing_date=today + timedelta(days=6), **common),
        "secondment": Opportunity(organisation_id=cvs.id, kind=OpportunityKind.SECONDMENT,
                                  title="Secondment to the CVS funding team",
                                  location_kind=LocationKind.HYBRID, place="Northbridge",
                                  time_commitment="2 days a week", duration="6 months",
                                  pay_and_backfill="Your employer keeps paying you.",
                                  places=1, closing_date=today + timedelta(days=40), **common),
        "mentoring": Opportunity(organisation_id=council.id,
                                 kind=OpportunityKind.REVERSE_MENTORING,
                                 title="Reverse mentoring for council directors",
                                 location_kind=LocationKind.REMOTE, place="",
                                 time_commitment="1 hour a month", places=2,
                                 closing_date=today + timedelta(days=30), **common),
    }
    with live.app.app_context():
        db.session.add_all(rows.values())
        db.session.commit()
        return {key: row.id for key, row in rows.items()}


def test_staff_browse_with_filters_open_an_opportunity_and_apply_on_accessible_pages(
        request: pytest.FixtureRequest) -> None:
    page: Page = request.getfixturevalue("page")
    live: Data = request.getfixturevalue("data")
    chromium: Browser = request.getfixturevalue("browser")
    server: LiveServer = request.getfixturevalue("live_server")
    host = live.user("Hana Host")
    applicant = live.user("Sam Staff")
    cvs = live.organisation("Northbridge CVS", admin=host, org_type=OrgType.CHARITY)
    council = live.organisation("Northbridge Council", members=[applicant],
                                org_type=OrgType.LOCAL_AUTHORITY)
    partnership = live.partnership("Northbridge Together", members=[cvs, council])
    ids = _opportunities(live, partnership, cvs, council)

    # Browse: the listing, then filters that update the results in place (htmx).
    page.goto("/opportunities/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Secondments and shadowing")
    axe_check(page)
    page.evaluate("() => { window.stillTheSamePage = true }")
    results = page.locator("#results-heading")
    page.get_by_label("Partnership").select_option(value=partnership.slug)
    expect(results).to_contain_text("3 open opportunities")
    # The address follows the filters, so the results can be shared or bookmarked.
    expect(page).to_have_url(re.compile(rf"/opportunities/\?.*partnership={partnership.slug}"))
    page.get_by_label("Host sector").select_option(label="VCSE")
    expect(results).to_contain_text("2 open opportunities")
    page.get_by_label("Closing in the next 14 days").check()
    expect(results).to_contain_text("1 open opportunity")
    expect(page.get_by_role("link", name="Shadow the CVS chief executive")).to_be_visible()
    expect(page.get_by_role("link", name="Secondment to the CVS funding team")).to_have_count(0)
    expect(page.locator("#results-status")).to_have_text("1 open opportunity found")
    assert page.evaluate("() => window.stillTheSamePage") is True
    axe_check(page)

    # Open it: the public page, with its own address.
    page.get_by_role("link", name="Shadow the CVS chief executive").click()
    expect(page).to_have_url(f"{server.url}/opportunities/{ids['shadow']}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Shadow the CVS chief executive")
    expect(page.get_by_role("link", name="Sign in to apply")).to_be_visible()
    axe_check(page)

    # Sign in and apply, with a mistake first.
    sign_in(page, applicant.email)
    page.goto(f"/opportunities/{ids['shadow']}/")
    page.get_by_role("link", name="Apply", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Apply: Shadow the CVS chief executive")
    expect(page.get_by_label("Northbridge Council")).to_be_checked()
    axe_check(page)
    page.get_by_label("When are you available?").fill("Any Tuesday in the autumn")
    page.get_by_label("Your line manager's email address").fill("not an email")
    page.get_by_role("button", name="Send application").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Say why you want to do this and what you would bring")
    expect(summary).to_contain_text("Enter your line manager's name")
    expect(page.get_by_label("When are you available?")).to_have_value(
        "Any Tuesday in the autumn")
    axe_check(page)

    page.get_by_label("Why do you want to do this, and what would you bring?").fill(
        "I commission voluntary sector services and want to see one from the inside.")
    page.get_by_label("Your line manager's name").fill("Mo Manager")
    page.get_by_label("Your line manager's email address").fill("mo@council.example.org")
    page.get_by_role("button", name="Send application").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "We have emailed your line manager")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your application")
    axe_check(page)
    assert not errors_on(page).messages, errors_on(page).messages
    with live.app.app_context():
        assert db.session.query(Application).filter_by(
            opportunity_id=ids["shadow"]).count() == 1
    assert len(live.outbox(to="mo@council.example.org")) == 1

    # Without JavaScript the same filters work through the "Apply filters" button.
    context = chromium.new_context(base_url=server.url, java_script_enabled=False,
                                   locale="en-GB", timezone_id="Europe/London")
    try:
        plain = context.new_page()
        plain.goto("/opportunities/")
        plain.get_by_label("Partnership").select_option(value=partnership.slug)
        plain.get_by_label("Type").select_option(label="Reverse mentoring")
        plain.get_by_role("button", name="Apply filters").click()
        expect(plain.locator("#results-heading")).to_contain_text("1 open opportunity")
        expect(plain.get_by_role("link", name="Reverse mentoring for council directors")
               ).to_be_visible()
        assert "type=reverse_mentoring" in plain.url
    finally:
        context.close()
