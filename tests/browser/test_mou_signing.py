"""Signing an MoU in real Chromium: the signatory opens the MoU out for signature, goes
to the signing page, makes a mistake in the statement, then signs; the last signature
brings the MoU into force. axe-core checks the signing page, the page with the
validation error, and the pages that follow (the register, comparing versions and
recording a review).

Uses the live server, factories and axe check from ``tests/browser/conftest.py``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from partnerships.accounts.models import User
from partnerships.extensions import db
from partnerships.mous import services
from partnerships.mous.models import Mou
from partnerships.mous.services import ClauseDetails, MouDetails, PartyDetails
from partnerships.organisations.models import Organisation, OrgType
from partnerships.partnership.models import Partnership, Principle
from partnerships.timeutil import today_uk
from tests.browser.conftest import (
    Data,
    axe_check,
    errors_on,
    sign_in,
)


def _out_for_signature(live: Data, partnership: Partnership, officer: User,
                       parties: list[Organisation], signed_by: dict[int, User]) -> int:
    """An MoU opened for signature through the services, signed already by the parties in
    ``signed_by``; returns its id."""
    today = today_uk()
    with live.app.test_request_context(method="POST"):  # set-up writes: see transactions.py
        mou = services.create_draft(
            db.session.merge(officer), db.session.merge(partnership),
            MouDetails(title="Working together on winter pressures",
                       purpose="Keep people **well** at home through the winter.",
                       start_date=today - timedelta(days=10),
                       review_date=today + timedelta(days=365),
                       principles=[Principle.PARTNERSHIP]),
            [PartyDetails(org.id, f"Role of {org.name}") for org in parties],
        )
        version = mou.draft_version
        assert version is not None
        services.set_clauses(db.session.merge(officer), version, [
            ClauseDetails("Share winter plans by October.", [parties[0].id]),
            ClauseDetails("Refer people to the warm spaces network.",
                          [org.id for org in parties[1:]]),
        ])
        services.open_for_signature(db.session.merge(officer), version)
        for org_id, signer in signed_by.items():
            org = db.session.get(Organisation, org_id)
            assert org is not None
            services.sign(db.session.merge(signer), version, org, signer.name, "Director",
                          services.statement_for(org))
        db.session.commit()
        return mou.id


def test_a_signatory_signs_an_mou_on_accessible_pages(request: pytest.FixtureRequest) -> None:
    page: Page = request.getfixturevalue("page")
    live: Data = request.getfixturevalue("data")
    officer = live.user("Olive Officer")
    council_admin = live.user("Carl Council")
    cvs_admin = live.user("Cass Cvs")
    council = live.organisation("Northbridge Council", admin=council_admin,
                                org_type=OrgType.LOCAL_AUTHORITY)
    cvs = live.organisation("Northbridge CVS", admin=cvs_admin, org_type=OrgType.CHARITY)
    partnership = live.partnership("Eastbridge Together", officers=[officer],
                                   members=[council, cvs])
    mou_id = _out_for_signature(live, partnership, officer, [council, cvs],
                                {council.id: council_admin})
    path = f"/partnerships/{partnership.slug}/mous/{mou_id}/"

    sign_in(page, cvs_admin.email)
    page.goto(path)
    expect(page.get_by_text("1 of 2 parties have signed")).to_be_visible()
    page.get_by_role("button", name=f"Sign for {cvs.name}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Sign for {cvs.name}")
    expect(page.get_by_text("Share winter plans by October.")).to_be_visible()
    axe_check(page)

    # A mistake first: the wrong words keep what was typed and say what to type.
    page.get_by_label("Your role").fill("Chief executive")
    page.get_by_label("Type the statement").fill("I agree")
    page.get_by_role("button", name="Sign the MoU").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text(
        f"Type the words exactly as shown: “I agree on behalf of {cvs.name}”")
    expect(page.get_by_label("Your role")).to_have_value("Chief executive")
    expect(page.get_by_label("Your full name")).to_have_value("Cass Cvs")
    assert page.title().startswith("Error: ")
    axe_check(page)

    # The error summary's link takes the signatory to the field.
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("Type the statement")).to_be_focused()
    page.get_by_label("Type the statement").fill(f"I agree on behalf of {cvs.name}")
    page.get_by_role("button", name="Sign the MoU").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"You have signed for {cvs.name}. Every party has now signed, so version 1 is in force.")
    expect(page.get_by_text("Signed by Cass Cvs, Chief executive")).to_be_visible()
    axe_check(page)
    assert not errors_on(page).messages, errors_on(page).messages

    with live.app.app_context():
        mou = db.session.get(Mou, mou_id)
        assert mou is not None and mou.status.value == "active"
        signature = mou.current_version.signature_for(cvs.id)  # type: ignore[union-attr]
        assert signature is not None and signature.signer_role == "Chief executive"


def test_the_register_comparison_and_review_pages_are_accessible(
        request: pytest.FixtureRequest) -> None:
    page: Page = request.getfixturevalue("page")
    live: Data = request.getfixturevalue("data")
    officer = live.user("Owen Officer")
    council_admin = live.user("Cara Council")
    cvs_admin = live.user("Colm Cvs")
    council = live.organisation("Westbridge Council", admin=council_admin,
                                org_type=OrgType.LOCAL_AUTHORITY)
    cvs = live.organisation("Westbridge CVS", admin=cvs_admin, org_type=OrgType.CHARITY)
    partnership = live.partnership("Westbridge Together", officers=[officer],
                                   members=[council, cvs])
    mou_id = _out_for_signature(live, partnership, officer, [council, cvs],
                                {council.id: council_admin, cvs.id: cvs_admin})
    with live.app.test_request_context(method="POST"):  # set-up writes: see transactions.py
        mou = db.session.get(Mou, mou_id)
        assert mou is not None
        version = services.start_amendment(db.session.merge(officer), mou, "Adds libraries")
        services.set_clauses(db.session.merge(officer), version, [
            ClauseDetails("Share winter plans with the libraries by September.",
                          [council.id]),
            ClauseDetails("Refer people to the warm spaces network.", [cvs.id]),
        ])
        db.session.commit()
    base = f"/partnerships/{partnership.slug}/mous"

    sign_in(page, officer.email)
    page.goto(f"{base}/?status=active")
    expect(page.get_by_role("heading", name="Due for review")).to_be_visible()
    axe_check(page)

    page.goto(f"{base}/{mou_id}/compare?from=1&to=2")
    expect(page.get_by_text("Clause 1: changed")).to_be_visible()
    expect(page.locator("ins.app-diff__ins").first).to_be_visible()
    axe_check(page)
    page.goto(f"{base}/{mou_id}/compare?from=1&to=1")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Choose two different versions to compare")
    axe_check(page)

    page.goto(f"{base}/{mou_id}/review")
    axe_check(page)
    page.get_by_label("It has expired").check()
    page.get_by_role("button", name="End the MoU").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the date the MoU ended")
    expect(summary).to_contain_text("Enter why the MoU is ending")
    expect(page.get_by_label("It has expired")).to_be_checked()
    axe_check(page)

    page.goto(f"{base}/{mou_id}/publication")
    axe_check(page)

    page.goto(f"{base}/{mou_id}/print")
    expect(page.locator("article.app-mou-document")).to_be_visible()
    axe_check(page)
    assert not errors_on(page).messages, errors_on(page).messages
