"""Annual reports: the officer writes a draft, confirms and publishes it, the public
reads it (with its figures frozen at publication) and the officer revises it; who may
not; bad input; drafts absent from public pages and open data."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from sqlalchemy import func, select

from partnerships import clock
from partnerships.concerns import services as concern_services
from partnerships.concerns.models import ConcernCategory
from partnerships.engagement.models import INTRODUCTION_MAX, AnnualReport
from partnerships.extensions import db
from partnerships.once import SubmittedForm
from partnerships.timeutil import uk_local_to_utc

YEAR = 2025
WELL = "We met **every quarter** and published every agenda on time."
CHANGE = "- Papers a week ahead\n- Meetings in the evening too"


@pytest.fixture
def place(app: Any, make_user: Any, make_organisation: Any, make_partnership: Any,
          make_meeting: Any) -> Any:
    class Place:
        officer = make_user("Olu Officer", "olu@council.example.org")
        member = make_user("Mia Member", "mia@cvs.example.org")
        outsider = make_user("Oscar Outsider", "oscar@example.org")
        admin = make_user("Sita Admin", "sita@example.org", site_admin=True)
    p = Place()
    cvs = make_organisation("Northbridge CVS", admin=p.member)
    p.partnership = make_partnership(officers=[p.officer], members=[cvs])
    p.slug = p.partnership.slug
    p.base = f"/partnerships/{p.slug}/report"
    # One public meeting held in 2025.
    make_meeting(p.partnership, "Board March",
                 starts_at=uk_local_to_utc(date(YEAR, 3, 10), time(10)))
    return p


def _page(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", _page(response)))


def _write(client: Any, place: Any, **changes: str) -> Any:
    return client.submit(f"{place.base}/{YEAR}/edit", {
        "introduction": "Our second year.", "went_well": WELL, "will_change": CHANGE,
        **changes})


def _publish(client: Any, place: Any) -> Any:
    """Press the confirmation page's button (the CSRF token from the form page, which
    is there whether or not the report is still a draft)."""
    return client.submit(f"{place.base}/{YEAR}/publish", page=f"{place.base}/{YEAR}/edit")


def _reports() -> list[AnnualReport]:
    return list(db.session.scalars(select(AnnualReport)))


def test_the_officer_writes_confirms_publishes_and_revises_and_the_public_reads_it(
        client: Any, auth: Any, place: Any) -> None:
    auth.login(place.officer)
    # The report page for a year without a report takes the officer to the form.
    response = client.get(f"{place.base}/{YEAR}/")
    assert response.status_code == 303 and response.location.endswith(f"/{YEAR}/edit")
    form = client.get(f"{place.base}/{YEAR}/edit")
    assert form.status_code == 200 and 'name="once"' in _page(form)
    response = _write(client, place)
    assert response.status_code == 303 and response.location.endswith(f"{place.base}/{YEAR}/")
    draft = client.get(response.location)
    text = _text(draft)
    assert "The draft annual report for 2025 is saved" in text
    assert "This is a draft" in text and "Publish the report" in text
    assert "<strong>every quarter</strong>" in _page(draft)
    assert "<li>Papers a week ahead</li>" in _page(draft)
    assert 'id="meetings"' in _page(draft) and 'id="concerns"' in _page(draft)
    # The confirmation page says what publishing does; its button publishes.
    confirm = client.get(f"{place.base}/{YEAR}/publish")
    assert confirm.status_code == 200
    assert "Once the report is published" in _text(confirm)
    assert 'action="' + f"{place.base}/{YEAR}/publish" in _page(confirm)
    assert _reports()[0].published_at is None  # nothing published by looking
    published_on = datetime(2026, 2, 2, 12, 0, tzinfo=UTC)
    with clock.at(published_on):
        response = _publish(client, place)
    assert response.status_code == 303
    assert "is published" in _text(client.get(response.location))
    auth.logout()
    public = client.get(f"{place.base}/{YEAR}/")
    assert public.status_code == 200
    text = _text(public)
    assert f"Published by {place.partnership.name}, 2 February 2026" in text
    assert "Figures as at 2 February 2026" in text
    assert "Last updated" not in text and "This is a draft" not in text
    assert "Publish the report" not in text and "Revise the report" not in text
    listed = _text(client.get(f"{place.base}/"))
    assert "Annual report 2025" in listed and "Published 2 February 2026" in listed
    record = _page(client.get(f"/partnerships/{place.slug}/record/?year={YEAR}"))
    assert f'href="{place.base}/{YEAR}/"' in record and f'href="{place.base}/"' in record
    assert f'href="{place.base}/"' in _page(client.get(f"/partnerships/{place.slug}/"))
    # The officer revises it: the page says when.
    auth.login(place.officer)
    with clock.at(datetime(2026, 3, 5, 12, 0, tzinfo=UTC)):
        response = _write(client, place, went_well="We met every quarter, as promised.")
    assert response.status_code == 303
    auth.logout()
    text = _text(client.get(f"{place.base}/{YEAR}/"))
    assert "Last updated 5 March 2026" in text and "as promised" in text
    assert "Figures as at 2 February 2026" in text
    assert len(_reports()) == 1


def test_people_who_are_not_officers_cannot_write_publish_or_see_a_draft(
        client: Any, auth: Any, place: Any) -> None:
    auth.login(place.officer)
    _write(client, place)
    auth.logout()
    pages = [f"{place.base}/{YEAR}/edit", f"{place.base}/{YEAR}/publish"]
    for who in (place.member, place.outsider):
        auth.login(who)
        for page in pages:
            assert client.get(page).status_code == 403
            assert client.post(page, data={"went_well": "Hijacked",
                                           "will_change": "x"}).status_code in (400, 403)
        assert client.get(f"{place.base}/{YEAR}/").status_code == 404
        assert "Annual report 2025" not in _text(client.get(f"{place.base}/"))
        auth.logout()
    # Signed out: sign in first (it may be theirs once they do), never the draft.
    for page in [*pages, f"{place.base}/{YEAR}/"]:
        response = client.get(page)
        assert response.status_code == 302 and "/sign-in" in response.location
    assert "Annual report 2025" not in _text(client.get(f"{place.base}/"))
    assert client.get(f"/api/v1/partnerships/{place.slug}/reports/{YEAR}").status_code == 404
    assert client.get(
        f"/api/v1/partnerships/{place.slug}/reports/{YEAR}/figures.csv").status_code == 404
    record = _page(client.get(f"/partnerships/{place.slug}/record/?year={YEAR}"))
    assert f'href="{place.base}/{YEAR}/"' not in record
    report = _reports()[0]
    assert report.went_well == WELL and report.published_at is None


def test_a_site_admin_may_write_and_publish(client: Any, auth: Any, place: Any) -> None:
    auth.login(place.admin)
    assert _write(client, place).status_code == 303
    assert _publish(client, place).status_code == 303
    assert _reports()[0].published_by_id == place.admin.id


def test_bad_input_lists_every_error_keeps_what_was_typed_and_saves_nothing(
        client: Any, auth: Any, place: Any) -> None:
    auth.login(place.officer)
    long_intro = "A" * (INTRODUCTION_MAX + 1)
    response = _write(client, place, introduction=long_intro, went_well="  ",
                      will_change="")
    assert response.status_code == 422
    page = _page(response)
    summary = page.split('class="govuk-error-summary')[1].split("</div>")[0]
    errors = re.findall(r'<a href="#([a-z_]+)"', page.split("govuk-error-summary__list")[1]
                        .split("</ul>")[0])
    assert errors == ["introduction", "went_well", "will_change"], summary
    assert "Enter what went well" in page and "Enter what you will change" in page
    assert long_intro in page
    assert _reports() == []
    assert client.get(f"{place.base}/1066/edit").status_code == 404
    assert client.get(f"{place.base}/1066/").status_code == 404
    assert client.get(f"{place.base}/99999999999999999999/").status_code == 404


def test_the_same_form_sent_twice_makes_one_report(client: Any, auth: Any,
                                                   place: Any) -> None:
    auth.login(place.officer)
    token = re.search(r'name="once"[^>]*value="([^"]+)"',
                      _page(client.get(f"{place.base}/{YEAR}/edit")))
    assert token
    for _ in range(2):
        response = _write(client, place, once=token.group(1))
        assert response.status_code == 303
    assert len(_reports()) == 1
    assert db.session.scalar(select(func.count(SubmittedForm.token))) == 1


def test_markdown_is_rendered_safely(client: Any, auth: Any, place: Any) -> None:
    auth.login(place.officer)
    _write(client, place, went_well="<script>alert(1)</script> and [a link](javascript:x)")
    page = client.get(f"{place.base}/{YEAR}/").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert 'href="javascript' not in page


def test_published_figures_are_frozen_when_the_records_change_later(
        app: Any, client: Any, auth: Any, place: Any, make_meeting: Any) -> None:
    auth.login(place.officer)
    _write(client, place)
    _publish(client, place)
    auth.logout()

    def held(response: Any) -> str:
        section = _page(response).split('id="meetings"')[1].split('id="notice"')[0]
        row = re.search(r"Northbridge Together.*?</tr>", section, re.S)
        assert row
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.group(0)))

    before = held(client.get(f"{place.base}/{YEAR}/"))
    api_before = client.get(f"/api/v1/partnerships/{place.slug}/reports/{YEAR}").get_json()
    # After publication: two more meetings held in 2025 and a concern raised in 2025.
    for month in (6, 9):
        make_meeting(place.partnership, f"Board {month}",
                     starts_at=uk_local_to_utc(date(YEAR, month, 10), time(10)))
    with app.test_request_context(), clock.at(datetime(YEAR, 11, 1, tzinfo=UTC)):
        concern_services.raise_concern(None, place.partnership, concern_services.ConcernDetails(
            category=ConcernCategory.OTHER, details="Late papers.", consent_to_publish=False,
            email="someone@example.net"))
    db.session.commit()
    live = client.get(f"/api/v1/partnerships/{place.slug}/record/{YEAR}").get_json()
    assert live["meetings"][0]["held"] == 3 and live["concerns"]["raised"] == 1
    assert held(client.get(f"{place.base}/{YEAR}/")) == before
    api_after = client.get(f"/api/v1/partnerships/{place.slug}/reports/{YEAR}").get_json()
    assert api_after == api_before
    assert api_after["record"]["meetings"][0]["held"] == 1
    assert api_after["record"]["concerns"]["raised"] == 0
    assert "1 concern was raised" not in _text(client.get(f"{place.base}/{YEAR}/"))


def test_publishing_twice_publishes_once(client: Any, auth: Any, place: Any) -> None:
    auth.login(place.officer)
    _write(client, place)
    with clock.at(datetime(2026, 2, 2, 12, 0, tzinfo=UTC)):
        _publish(client, place)
    with clock.at(datetime(2026, 4, 1, 12, 0, tzinfo=UTC)):
        response = _publish(client, place)
        assert response.status_code == 303
        assert "already published" in _text(client.get(response.location))
    report = _reports()[0]
    assert report.published_at == datetime(2026, 2, 2, 12, 0, tzinfo=UTC)
    assert db.session.scalar(select(func.count(AnnualReport.id))) == 1


def test_a_published_report_is_open_data_with_its_frozen_figures(
        client: Any, auth: Any, place: Any) -> None:
    auth.login(place.officer)
    _write(client, place)
    _publish(client, place)
    auth.logout()
    response = client.get(f"/api/v1/partnerships/{place.slug}/reports/{YEAR}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["year"] == YEAR and body["went_well"] == WELL
    assert body["introduction"] == "Our second year."
    assert body["record"]["year"] == YEAR and body["record"]["meetings"][0]["held"] == 1
    # Frozen and thawed, the record is the record: the same as the live one while
    # nothing has changed (the live one also links to this report and the year before).
    live = client.get(f"/api/v1/partnerships/{place.slug}/record/{YEAR}").get_json()
    assert live["links"].pop("report") == body["links"]["self"]
    live["links"].pop("previous")
    assert body["record"] == live
    assert body["links"]["html"].endswith(f"{place.base}/{YEAR}/")
    rows = list(csv.DictReader(io.StringIO(client.get(body["links"]["csv"]).get_data(
        as_text=True))))
    values = {(row["section"], row["figure"]): row["value"] for row in rows}
    assert values[("meetings", f"{place.partnership.name}: held")] == "1"
    document = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/partnerships/{slug}/reports/{year}" in document["paths"]
    assert "AnnualReport" in document["components"]["schemas"]
    assert client.get(f"/api/v1/partnerships/{place.slug}/reports/abc").status_code == 400
    assert client.get(f"/api/v1/partnerships/{place.slug}/reports/2024").status_code == 404
    assert client.get(f"/api/v1/partnerships/nowhere/reports/{YEAR}").status_code == 404
    assert "Annual reports" in _text(client.get("/open-data"))


def test_the_sql_rule_agrees_with_the_predicate_for_every_role(
        app: Any, client: Any, auth: Any, place: Any, make_user: Any,
        make_partnership: Any) -> None:
    """``annual_reports_visible_to`` (lists, open data) and ``can_view_annual_report``
    (pages) name the same reports, for each role, over drafts and published reports of
    two partnerships."""
    from partnerships import permissions

    other_officer = make_user("Ola Other", "ola@example.org")
    other = make_partnership("Southside Partnership", officers=[other_officer])
    for officer, partnership, publish in ((place.officer, place.partnership, True),
                                          (other_officer, other, False)):
        auth.login(officer)
        for year in (2024, 2025):
            client.submit(f"/partnerships/{partnership.slug}/report/{year}/edit",
                          {"went_well": "Well.", "will_change": "Change."})
        if publish:
            client.submit(f"/partnerships/{partnership.slug}/report/2025/publish",
                          page=f"/partnerships/{partnership.slug}/report/2025/edit")
        auth.logout()
    reports = _reports()
    assert len(reports) == 4 and sum(r.is_published for r in reports) == 1
    for viewer in (None, place.member, place.outsider, place.officer, other_officer,
                   place.admin):
        with app.test_request_context():
            sql = set(db.session.scalars(select(AnnualReport.id).where(
                permissions.annual_reports_visible_to(viewer))))
            python = {r.id for r in reports if permissions.can_view_annual_report(viewer, r)}
        assert sql == python, viewer
