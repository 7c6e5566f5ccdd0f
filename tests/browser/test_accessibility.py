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
        ("/open-data", 200),
        ("/no-such-page", 404),
    ],
    ids=["home", "partnerships", "sign-in", "register", "accessibility-statement",
         "open-data", "not-found"],
)
def test_page_has_no_accessibility_violations(page: Page, path: str, status: int) -> None:
    response = page.goto(path)
    assert response is not None and response.status == status
    axe_check(page)
    _no_csp_violations(page)


def test_open_data_page_fits_a_phone_and_is_accessible(page: Page) -> None:
    page.set_viewport_size({"width": 320, "height": 720})
    page.goto("/")
    page.get_by_role("link", name="Open data").click()  # from the footer
    expect(page.get_by_role("heading", level=1)).to_have_text("Open data")
    expect(page.get_by_role("link", name="Download public meetings as CSV")).to_be_visible()
    axe_check(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, width


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


def test_email_settings_page_when_signed_in_is_accessible(page: Page, data: Data) -> None:
    user = data.user("Nadia Settings")
    sign_in(page, user.email)
    page.goto("/account/notifications")
    expect(page.get_by_role("heading", level=1)).to_have_text("Email settings")
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


def test_mou_confirmation_pages_and_the_signatories_list_are_accessible(
    page: Page, data: Data
) -> None:
    """Issue 15: the confirmation pages (send for comments, open for signature, return
    to draft) and the MoU page listing who signs for each party."""
    from datetime import timedelta

    from partnerships.extensions import db
    from partnerships.factories import mous as mous_factory
    from partnerships.organisations.models import Organisation
    from partnerships.partnership.models import Partnership
    from partnerships.timeutil import today_uk

    officer = data.user("Olive Officer")
    council = data.organisation("Northbridge Council", admin=data.user("Carl Council"))
    cvs = data.organisation("Northbridge CVS", admin=data.user("Cass Cvs"))
    partnership = data.partnership("Westbridge Together", officers=[officer],
                                   members=[council, cvs])
    with data.app.test_request_context(method="POST"):  # set-up writes: transactions.py
        mou = mous_factory.draft(
            db.session.merge(officer), db.session.get(Partnership, partnership.id),
            [db.session.get(Organisation, council.id), db.session.get(Organisation, cvs.id)],
            start_date=today_uk() + timedelta(days=20),
            review_date=today_uk() + timedelta(days=380))
        db.session.commit()
        base = f"/partnerships/{db.session.get(Partnership, partnership.id).slug}/mous/{mou.id}"

    sign_in(page, officer.email)
    page.goto(base + "/")
    expect(page.get_by_role("heading", name="Still to nominate who signs")).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name="Send to the parties for comments").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Send version 1 to the parties for comments")
    expect(page.get_by_role("main")).to_contain_text("Cass Cvs, admin of Northbridge CVS")
    axe_check(page)
    page.goto(base + "/open-for-signature")
    axe_check(page)
    page.get_by_role("button", name="Open for signature").click()
    expect(page.get_by_role("main")).to_contain_text("can no longer be changed")
    page.get_by_role("button", name="Return to draft").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Return version 1 to draft")
    axe_check(page)
    page.get_by_role("button", name="Return to draft").click()
    expect(page.get_by_role("main")).to_contain_text("back in draft")
    axe_check(page)
    _no_csp_violations(page)


def test_placement_next_steps_and_reflection_form_are_accessible(
    page: Page, data: Data
) -> None:
    """Issue 15: the participant's placement page (what happens next, marking it
    started) and the reflection form, with its errors."""
    from partnerships.extensions import db
    from partnerships.factories import opportunities as opportunities_factory
    from partnerships.organisations.models import Organisation, OrgType
    from partnerships.timeutil import today_uk

    host_admin = data.user("Hana Host")
    participant = data.user("Pat Participant")
    host = data.organisation("Northbridge Food Bank", admin=host_admin,
                             org_type=OrgType.CHARITY)
    home = data.organisation("Northbridge Borough Council", admin=data.user("Cy Council"),
                             members=[participant], org_type=OrgType.LOCAL_AUTHORITY)
    data.partnership("Southbridge Together", members=[host, home])
    with data.app.test_request_context(method="POST"):
        host_user, person = db.session.merge(host_admin), db.session.merge(participant)
        opportunity = opportunities_factory.opportunity(
            host_user, db.session.get(Organisation, host.id))
        placement = opportunities_factory.placement(
            host_user, person, opportunity, db.session.get(Organisation, home.id))
        opportunities_factory.plan(host_user, placement, today_uk())
        opportunities_factory.tick(host_user, placement)
        db.session.commit()
        base = f"/placements/{placement.id}/"

    sign_in(page, participant.email)
    page.goto(base)
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name="Mark as started").click()
    expect(page.get_by_role("main")).to_contain_text("marked as started")
    page.get_by_role("link", name="Record your reflection").click()
    page.get_by_role("button", name="Save my reflection").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe_check(page)
    _no_csp_violations(page)


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


def test_engagement_record_and_plan_fit_a_phone_and_are_accessible(page: Page,
                                                                   data: Data) -> None:
    """The record of a year with meetings, a late agenda, attendance and a plan, at 320
    CSS pixels: no axe violations, nothing wider than the screen, the charts' numbers
    in tables; then the officer's plan form, sent with mistakes."""
    from datetime import date, time

    from partnerships.engagement import services as engagement
    from partnerships.extensions import db
    from partnerships.factories import meetings as meeting_factory
    from partnerships.forums.models import Visibility
    from partnerships.meetings.models import AgendaStatus, Attendance, Registration, Response
    from partnerships.organisations.models import OrgType
    from partnerships.timeutil import today_uk, uk_local_to_utc

    officer = data.user("Olu Officer")
    council = data.organisation("Northbridge Borough Council", org_type=OrgType.LOCAL_AUTHORITY)
    cvs = data.organisation("Northbridge CVS", org_type=OrgType.CHARITY)
    partnership = data.partnership("Northbridge Together", officers=[officer],
                                   members=[council, cvs])
    year = today_uk().year - 1
    with data.app.app_context():
        for month, agenda_day in ((3, 1), (12, 22)):
            day = date(year, month, 30)
            made = meeting_factory.meeting(
                db.session.merge(partnership), f"Board {month}", day=day, start=time(10),
                end=time(12), visibility=Visibility.PUBLIC)[0]
            made.agenda_status = AgendaStatus.PUBLISHED
            made.agenda_published_at = uk_local_to_utc(date(year, month, agenda_day), time(9))
            db.session.add(Registration(meeting_id=made.id, walk_in_name="Wanda",
                                        organisation_id=cvs.id, response=Response.IN_PERSON,
                                        attendance=Attendance.PRESENT))
        engagement.save_plan(db.session.merge(officer), db.session.merge(partnership), year,
                             engagement.PlanDetails(
                                 partnership_meetings=4, notice_days=5, minutes_days=10,
                                 accountable={council.id: engagement.Accountable(
                                     "Helen Okafor", "Chief executive")}))
        db.session.commit()
    page.set_viewport_size({"width": 320, "height": 720})
    response = page.goto(f"/partnerships/{partnership.slug}/record/?year={year}")
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Engagement record {year}")
    expect(page.get_by_role("img", name="Meetings planned and held")).to_be_visible()
    expect(page.get_by_role("table", name="Meetings planned and held")).to_contain_text(
        "Northbridge Together")
    expect(page.get_by_role("main")).to_contain_text("Helen Okafor")
    axe_check(page)
    _no_csp_violations(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320

    sign_in(page, officer.email)
    page.goto(f"/partnerships/{partnership.slug}/record/?year={year}")
    page.get_by_role("link", name=f"Change the engagement plan for {year}").click()
    page.get_by_label("Meetings of the partnership itself").fill("lots")
    page.get_by_label("Name").fill("")
    page.get_by_role("button", name="Save the plan").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("must be a whole number")
    expect(summary).to_contain_text("Enter the name of Northbridge Borough Council")
    expect(page.get_by_label("Meetings of the partnership itself")).to_have_value("lots")
    axe_check(page)
    _no_csp_violations(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


def test_annual_report_form_confirmation_and_report_fit_a_phone_and_are_accessible(
        page: Page, data: Data) -> None:
    """The officer's report form sent with mistakes, then written, confirmed and
    published, at 320 CSS pixels: no axe violations and nothing wider than the screen
    on the form, the confirmation page, the draft and the published report; and the
    published report printed without navigation or buttons."""
    from datetime import date, time

    from partnerships.extensions import db
    from partnerships.factories import meetings as meeting_factory
    from partnerships.forums.models import Visibility
    from partnerships.timeutil import today_uk

    officer = data.user("Olu Officer")
    partnership = data.partnership("Northbridge Together", officers=[officer])
    year = today_uk().year - 1
    with data.app.app_context():
        meeting_factory.meeting(db.session.merge(partnership), "Board", day=date(year, 3, 30),
                                start=time(10), end=time(12), visibility=Visibility.PUBLIC)
        db.session.commit()

    def fits() -> None:
        axe_check(page)
        _no_csp_violations(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320

    page.set_viewport_size({"width": 320, "height": 720})
    sign_in(page, officer.email)
    page.goto(f"/partnerships/{partnership.slug}/report/")
    page.get_by_role("link", name=f"Write the annual report for {year}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Annual report for {year}")
    page.get_by_label("Introduction (optional)").fill("Our first year.")
    page.get_by_role("button", name="Save the report").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter what went well")
    expect(summary).to_contain_text("Enter what you will change")
    expect(page.get_by_label("Introduction (optional)")).to_have_value("Our first year.")
    fits()
    page.get_by_label("What went well").fill("We met as we promised.")
    page.get_by_label("What we will change").fill("- Earlier papers")
    page.get_by_role("button", name="Save the report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Annual report {year}")
    expect(page.get_by_role("main")).to_contain_text("This is a draft")
    fits()
    page.get_by_role("link", name="Publish the report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Publish the annual report for {year}")
    fits()
    page.get_by_role("button", name="Publish the report").click()
    expect(page.get_by_role("main")).to_contain_text("Figures as at")
    expect(page.get_by_role("table", name="Meetings planned and held")).to_contain_text("1")
    fits()
    page.emulate_media(media="print")
    for hidden in (page.locator(".govuk-service-navigation"), page.locator(".app-header"),
                   page.locator(".govuk-breadcrumbs"), page.locator(".govuk-footer"),
                   page.get_by_role("link", name="Revise the report")):
        expect(hidden.first).to_be_hidden()
    expect(page.get_by_role("heading", name="What went well")).to_be_visible()
