"""Concerns in the engagement record, against a hand-built year (2025) with known answers.

Four concerns raised in 2025 (and one either side of the year, not counted):
- A "Not enough notice": acknowledged after 1 day, responded after 3, closed; the raiser
  agreed to publish, so it is on the public list.
- B "Not enough notice": responded (and so acknowledged) after 5 days, then withheld.
- C "Funding process": acknowledged after 2 days; the raiser did not agree to publish.
- D "Something else": open.
So raised 4, acknowledged 3, responded 2, closed 1, shown publicly 1; median days to
acknowledge 2.0 (1, 2, 5) and to respond 4.0 (3, 5).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from partnerships import clock
from partnerships.concerns import services
from partnerships.concerns.models import ConcernCategory
from partnerships.extensions import db

YEAR = 2025
PRIVATE_WORDS = "The funding panel chair was rude to Mrs Example"


def _at(moment: datetime, action: Any) -> Any:
    with clock.at(moment):
        result = action()
    db.session.commit()
    return result


@pytest.fixture
def place(app: Any, make_user: Any, make_partnership: Any) -> Any:
    officer = make_user("Olive Officer", "olive@council.example.org")
    partnership = make_partnership(officers=[officer])
    jan = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
    with app.test_request_context():
        def make(category: ConcernCategory, moment: datetime, details: str = "Papers late.",
                 publish: bool = True) -> Any:
            return _at(moment, lambda: services.raise_concern(
                None, partnership, services.ConcernDetails(
                    category=category, details=details, consent_to_publish=publish,
                    email="someone@example.net"))[0])

        a = make(ConcernCategory.NOT_ENOUGH_NOTICE, jan)
        b = make(ConcernCategory.NOT_ENOUGH_NOTICE, jan + timedelta(days=30))
        c = make(ConcernCategory.FUNDING_PROCESS, jan + timedelta(days=60),
                 details=PRIVATE_WORDS, publish=False)
        make(ConcernCategory.OTHER, jan + timedelta(days=90))
        make(ConcernCategory.OTHER, datetime(2024, 12, 31, 23, 30, tzinfo=UTC))
        make(ConcernCategory.OTHER, datetime(2026, 1, 1, 0, 30, tzinfo=UTC))
        _at(jan + timedelta(days=1), lambda: services.acknowledge(officer, a))
        _at(jan + timedelta(days=3), lambda: services.respond(officer, a, "Answer a."))
        _at(jan + timedelta(days=4), lambda: services.close(officer, a))
        _at(b.raised_at + timedelta(days=5), lambda: services.respond(officer, b, "Answer b."))
        _at(b.raised_at + timedelta(days=6),
            lambda: services.withhold(officer, b, "Names a person."))
        _at(c.raised_at + timedelta(days=2), lambda: services.acknowledge(officer, c))
    return partnership


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_record_page_shows_the_concern_figures(client: Any, place: Any) -> None:
    html = client.get(f"/partnerships/{place.slug}/record/?year={YEAR}").get_data(as_text=True)
    section = html.split('id="concerns"')[1]
    text = _text(section)
    assert "4 concerns were raised in 2025. 1 is shown" in text
    assert "Raised 4" in text and "Acknowledged 3 2.0" in text
    assert "Responded to 2 4.0" in text and "Closed 1" in text and "Shown publicly 1" in text
    assert "Not enough notice 2" in text and "Funding process 1" in text
    assert "Something else 1" in text and "Consultation or meeting not accessible 0" in text
    assert f'href="/partnerships/{place.slug}/concerns/"' in section
    assert PRIVATE_WORDS not in html and "Answer b." not in html


def test_a_year_without_concerns_says_so_and_links_to_raising_one(client: Any,
                                                                  place: Any) -> None:
    html = client.get(f"/partnerships/{place.slug}/record/?year=2023").get_data(as_text=True)
    text = _text(html.split('id="concerns"')[1])
    assert "No concerns were raised in 2023" in text
    assert f"/partnerships/{place.slug}/concerns/new" in html


def test_the_record_json_and_csv_carry_the_concern_figures(client: Any, place: Any) -> None:
    body = client.get(f"/api/v1/partnerships/{place.slug}/record/{YEAR}").get_json()
    concerns = body["concerns"]
    assert {key: concerns[key] for key in (
        "raised", "acknowledged", "responded", "closed", "shown_publicly",
        "median_days_to_acknowledge", "median_days_to_respond")} == {
        "raised": 4, "acknowledged": 3, "responded": 2, "closed": 1, "shown_publicly": 1,
        "median_days_to_acknowledge": 2.0, "median_days_to_respond": 4.0}
    assert {row["code"]: row["count"] for row in concerns["by_category"]} == {
        "not_accessible": 0, "not_enough_notice": 2, "not_listened_to": 0,
        "funding_process": 1, "other": 1}
    assert concerns["public_list"].endswith(f"/partnerships/{place.slug}/concerns/")
    assert PRIVATE_WORDS not in str(body) and "Answer b." not in str(body)
    response = client.get(f"/api/v1/partnerships/{place.slug}/record/{YEAR}/figures.csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    values = {(row["section"], row["figure"]): row["value"] for row in rows}
    assert values[("concerns", "raised")] == "4"
    assert values[("concerns", "median days to respond")] == "4.0"
    assert values[("concerns by category", "Not enough notice")] == "2"
    assert PRIVATE_WORDS not in response.get_data(as_text=True)
