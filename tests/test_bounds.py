"""Numbers and text from outside stay within what the database can take: ids in URLs,
page numbers, numbers in query strings and forms, control characters in paths and NUL
in query strings; and what still gets through is a 400, not a 500.

Each of these was a 500 on PostgreSQL ("integer out of range", "text fields cannot
contain NUL"), on SQLite (``OverflowError`` at 2**63), or on both (``int("²")``).
``test_no_server_errors`` looks for the same across every route and the main forms.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, url_for
from sqlalchemy import func, select
from sqlalchemy.exc import DataError

from partnerships import bounds, factories
from partnerships.bounds import INT_MAX, identifier, whole_number
from partnerships.errors import ValidationError
from partnerships.extensions import db
from partnerships.forms import WholeNumberField
from partnerships.forums.models import Visibility
from partnerships.meetings import scheduling
from partnerships.meetings.models import Meeting, MeetingFormat, RecurrenceKind
from partnerships.opportunities.models import Opportunity
from partnerships.organisations.models import OrgType
from partnerships.timeutil import to_uk
from tests.conftest import meeting_start
from tests.test_opportunities import opportunity_form
from tests.test_single_line import FORM_CLASSES, _text_fields

HUGE = ["2147483648", "9223372036854775808", "99999999999999999999999"]
NOT_DIGITS = ["%C2%B2", "%D9%A3", "-1", "0", "01", "1.5", "%2B1"]  # ², ٣ (Arabic-Indic 3), +1


# --- Reading a whole number ----------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("7", 7), (" 7 ", 7), ("007", 7), ("0", 0), ("2147483647", INT_MAX),
    ("2147483648", None), ("9223372036854775808", None), ("9" * 5_000, None),
    ("0" * 30 + "5", 5), ("²", None), ("٣", None), ("+7", None), ("-1", None),
    ("1_000", None), ("1.5", None), ("1e3", None), ("", None), (None, None),
])
def test_a_whole_number_is_ascii_digits_within_what_the_database_holds(text, expected):
    assert whole_number(text) == expected


def test_bounds_are_inclusive_and_never_past_int_max():
    assert whole_number("5", minimum=5, maximum=5) == 5
    assert whole_number("4", minimum=5) is None
    assert whole_number("6", maximum=5) is None
    assert whole_number("2147483648", maximum=2**40) is None
    assert identifier("0") is None and identifier("1") == 1


def test_every_number_field_of_every_form_has_bounds_the_database_can_hold(app: Flask):
    seen = 0
    with app.test_request_context():
        for form_class in FORM_CLASSES:
            for field in _text_fields(form_class(meta={"csrf": False})):
                if isinstance(field, WholeNumberField):
                    seen += 1
                    assert 0 <= field.minimum <= field.maximum <= bounds.INT_MAX, field.name
    assert seen >= 7  # capacity, weeks, count, minutes, notice, places, total days


# --- Ids in URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize("segment", [*HUGE, *NOT_DIGITS])
def test_an_id_past_int32_or_not_in_plain_digits_is_not_found(client, segment):
    for path in (f"/meetings/{segment}/", f"/meetings/{segment}.ics",
                 f"/opportunities/{segment}/", f"/organisations/{segment}/",
                 f"/applications/{segment}/", f"/placements/{segment}/"):
        assert client.get(path).status_code == 404, path


def test_the_largest_id_is_looked_up_and_not_found(client):
    assert client.get(f"/meetings/{INT_MAX}/").status_code == 404


def test_links_with_ids_are_built_as_before(app: Flask):
    with app.test_request_context():
        assert url_for("meetings.show", meeting_id=12) == "/meetings/12/"
        assert url_for("forums.thread", slug="a", forum_slug="b", thread_id=3) == (
            "/partnerships/a/forums/b/threads/3")


def test_an_organisation_by_id_still_works(client, make_organisation):
    org = make_organisation("Eastside Food Bank")
    response = client.get(f"/organisations/{org.id}/")
    assert response.status_code in (200, 301, 302, 308)


# --- Text in URLs --------------------------------------------------------------------------


@pytest.mark.parametrize("segment", ["northbridge%00", "%00", "north%1Bbridge", "north%0Abridge",
                                     "north%E2%80%AEbridge"])
def test_a_slug_with_control_characters_is_not_found(client, make_partnership, segment):
    make_partnership("Northbridge", slug="northbridge")
    assert client.get(f"/partnerships/{segment}/").status_code == 404
    assert client.get(f"/partnerships/northbridge/forums/{segment}/").status_code == 404
    assert client.get(f"/organisations/{segment}/").status_code == 404
    assert client.get(f"/calendar/{segment}.ics").status_code == 404


def test_a_slug_in_any_language_still_matches(client, make_partnership):
    assert client.get("/partnerships/northbridge/").status_code == 404
    make_partnership("Northbridge", slug="northbridge")
    assert client.get("/partnerships/northbridge/").status_code == 200


# --- Page numbers --------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["%C2%B2", "-1", "0", "abc", *HUGE, "1" * 5_000])
def test_a_page_that_is_not_a_page_number_gives_a_page(client, auth, make_user,
                                                       make_partnership, make_forum, page):
    partnership = make_partnership(slug="northbridge")
    forum = make_forum(partnership, "VCSE Alliance")
    auth.login(make_user(site_admin=True))
    for path in ("/organisations/", "/opportunities/", "/admin/users",
                 "/partnerships/northbridge/meetings/",
                 f"/partnerships/northbridge/forums/{forum.slug}/",
                 f"/partnerships/northbridge/forums/{forum.slug}/members",
                 f"/partnerships/northbridge/forums/{forum.slug}/meetings/"):
        assert client.get(f"{path}?page={page}").status_code == 200, path


def test_a_page_past_the_end_shows_the_last_page(client, auth, make_user):
    admin = make_user("Ada Admin", site_admin=True)
    for n in range(30):  # two pages of 25
        make_user(f"Zed Person {n:02}")
    auth.login(admin)
    last = client.get("/admin/users?page=2").get_data(as_text=True)
    assert "Zed Person 29" in last
    for page in ("3", "99", str(INT_MAX), "9223372036854775808"):
        response = client.get(f"/admin/users?page={page}")
        assert response.status_code == 200
        assert "Zed Person 29" in response.get_data(as_text=True), page


# --- Query strings -------------------------------------------------------------------------


def test_nul_in_a_query_string_never_reaches_a_query(client, auth, make_user, make_partnership):
    make_partnership(slug="northbridge")
    auth.login(make_user(site_admin=True))
    for path in ("/opportunities/?partnership=%00", "/opportunities/?partnership=north%00",
                 "/opportunities/?type=%00&sector=%00&location=%00&commitment=%00",
                 "/organisations/?type=%00&q=%00", "/admin/users?q=%00",
                 "/partnerships/northbridge/mous/?party=%00&status=%00&principle=%00",
                 "/?%00=%00"):
        assert client.get(path).status_code == 200, path
    assert client.get("/account/sign-in?next=%00").status_code == 303  # signed in already


# --- Numbers in forms ----------------------------------------------------------------------


@pytest.fixture
def host_world(make_user, make_organisation, make_partnership) -> Any:
    host = make_user("Ida Host", "ida@icb.example.org")
    icb = make_organisation("Northbridge ICB", org_type=OrgType.NHS_BODY, admin=host)
    make_partnership(members=[icb])
    return host, icb


@pytest.mark.parametrize("overrides, message", [
    ({"places": "²"}, "Number of places must be a whole number"),
    ({"places": "9223372036854775808"}, "Number of places must be between 1 and 100"),
    ({"total_days": "٣"}, "Total days must be a whole number"),
    ({"total_days": "3000000000"}, "Total days must be between 1 and 1000"),
])
def test_an_opportunity_refuses_numbers_out_of_bounds_or_not_in_digits(
        client, auth, host_world, overrides, message):
    host, icb = host_world
    auth.login(host)
    response = client.submit("/opportunities/new", opportunity_form(icb, **overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_an_edit_posted_without_a_number_asks_for_it(client, auth, host_world):
    """The form is filled from the opportunity, whose places are a number, not text: a
    post without the field (a hand-made one) was a 500."""
    host, icb = host_world
    opportunity = factories.opportunities.opportunity(host, icb, publish=False, places=3)
    db.session.commit()
    auth.login(host)
    data = opportunity_form(None)
    del data["places"]
    response = client.submit(f"/opportunities/{opportunity.id}/edit", data)
    assert response.status_code == 422
    assert "Enter the number of places" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Opportunity, opportunity.id).places == 3


@pytest.mark.parametrize("partnership_id", ["9223372036854775808", "3000000000", "²"])
def test_an_opportunity_with_a_partnership_id_out_of_range_is_not_a_500(
        client, auth, host_world, partnership_id):
    host, icb = host_world
    auth.login(host)
    response = client.submit("/opportunities/new",
                             opportunity_form(icb, partnership_id=partnership_id))
    assert response.status_code in (303, 422)


def test_a_meeting_capacity_past_its_bound_is_refused_by_the_service_too(
        app, make_user, make_partnership, make_forum):
    convenor = make_user("Cara Convenor")
    forum = make_forum(make_partnership(), convenors=[convenor])
    start = to_uk(meeting_start())
    details = scheduling.MeetingDetails(
        title="Big", day=start.date(), start=start.time(),
        end=(start + timedelta(hours=1)).time(), format=MeetingFormat.IN_PERSON,
        visibility=Visibility.PUBLIC, venue_name="Hall", venue_address="1 Road",
        capacity=3_000_000_000)
    with app.test_request_context(), pytest.raises(ValidationError) as refused:
        scheduling.schedule(convenor, forum, details)
    assert refused.value.field == "capacity"
    db.session.rollback()
    details.capacity = 30
    with app.test_request_context(), pytest.raises(ValidationError) as refused:
        scheduling.schedule(convenor, forum, details, scheduling.Recurrence(
            RecurrenceKind.EVERY_N_WEEKS, interval_weeks=10**10, count=3))
    assert refused.value.field == "interval_weeks"
    db.session.rollback()
    assert db.session.scalar(select(func.count(Meeting.id))) == 0


# --- The backstop --------------------------------------------------------------------------


@pytest.mark.parametrize("error", [
    DataError("SELECT 1", {}, Exception("integer out of range")),
    OverflowError("Python int too large to convert to SQLite INTEGER"),
])
def test_bad_input_that_reaches_the_database_is_a_400_and_logged(app, client, caplog, error):
    @app.get("/test-only/bad-value")
    def bad_value() -> str:
        raise error

    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        response = client.get("/test-only/bad-value")
    assert response.status_code == 400
    assert "Sorry, there is a problem with that request" in response.get_data(as_text=True)
    assert any("Bad input reached the database" in r.getMessage() for r in caplog.records)
