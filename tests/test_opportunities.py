"""Opportunities: posting, drafts, publishing, closing, reopening, withdrawing, the public
page, browsing with filters (htmx and plain GET), closing dates in UK time, and the
query budget on the listing. The world and helpers here are shared with the other
``test_opportunities_*`` files."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from partnerships import timeutil
from partnerships.accounts.models import User
from partnerships.extensions import db
from partnerships.opportunities.models import (
    Application,
    ApplicationStatus,
    LocationKind,
    ManagerDecision,
    OpenTo,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
)
from partnerships.organisations.models import Organisation
from partnerships.timeutil import today_uk
from tests.conftest import World

SIGN_IN = "/account/sign-in"
TOKEN_PAGE = "/account/sign-out"  # a page with a form for anyone signed in (a CSRF token)


# --- Helpers shared with the other test_opportunities_* files (the world is in conftest) -


def make_opportunity(host: Organisation, poster: User | None = None, **values: Any) -> Opportunity:
    """An opportunity written straight to the database (open unless told otherwise)."""
    today = today_uk()
    data: dict[str, Any] = {
        "kind": OpportunityKind.SECONDMENT,
        "title": f"Secondment with {host.name}",
        "description": "You will **help** us.",
        "location_kind": LocationKind.HYBRID,
        "place": "Northbridge",
        "time_commitment": "2 days a week",
        "duration": "6 months",
        "starts_earliest": today + timedelta(days=30),
        "starts_latest": today + timedelta(days=60),
        "places": 1,
        "open_to": OpenTo.BOTH,
        "pay_and_backfill": "Your employer keeps paying you.",
        "closing_date": today + timedelta(days=20),
        "contact_name": "Hannah Host",
        "contact_email": "hannah@host.example.org",
        "status": OpportunityStatus.OPEN,
    }
    data.update(values)
    opportunity = Opportunity(organisation_id=host.id,
                              posted_by_id=poster.id if poster else None, **data)
    db.session.add(opportunity)
    db.session.commit()
    return opportunity


def date_parts(value: date | None) -> list[str]:
    if value is None:
        return ["", "", ""]
    return [str(value.day), str(value.month), str(value.year)]


def opportunity_form(host: Organisation | None, **overrides: Any) -> dict[str, Any]:
    today = today_uk()
    data: dict[str, Any] = {
        "kind": "secondment",
        "title": "Secondment to the population health team",
        "description": "You will **work** on the winter plan.",
        "skills_sought": "Data analysis",
        "host_team": "Population health",
        "location_kind": "hybrid",
        "place": "Northbridge House",
        "time_commitment": "2 days a week",
        "total_days": "",
        "duration": "6 months",
        "starts_earliest": date_parts(today + timedelta(days=40)),
        "starts_latest": date_parts(today + timedelta(days=70)),
        "places": "2",
        "open_to": "both",
        "seniority": "Senior leaders",
        "pay_and_backfill": "Your employer keeps paying you; we fund backfill.",
        "closing_date": date_parts(today + timedelta(days=21)),
        "contact_name": "Hannah Host",
        "contact_email": "hannah@icb.example.org",
        "partnership_id": "",
    }
    if host is not None:
        data["organisation_id"] = str(host.id)
    data.update(overrides)
    return data


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


# --- Posting -----------------------------------------------------------------------------


def test_an_organisation_admin_posts_a_draft_publishes_it_and_anyone_can_see_it(
        world, client, auth):
    auth.login(world.icb_admin)
    response = client.submit("/opportunities/new", opportunity_form(
        world.icb, partnership_id=str(world.partnership.id)))
    assert response.status_code == 303
    opportunity = db.session.scalar(select(Opportunity))
    assert opportunity.status is OpportunityStatus.DRAFT
    assert opportunity.organisation_id == world.icb.id
    assert opportunity.posted_by_id == world.icb_admin.id
    assert opportunity.partnership_id == world.partnership.id
    assert opportunity.places == 2 and opportunity.places_taken == 0
    assert response.headers["Location"] == f"/opportunities/{opportunity.id}/"

    page = f"/opportunities/{opportunity.id}/"
    auth.logout()
    # Drafts are the host's only: signed out, sign in first (the link may be theirs).
    assert client.get(page).status_code == 302
    auth.login(world.outsider)
    assert client.get(page).status_code == 404
    auth.login(world.icb_admin)
    response = client.submit(f"{page}publish", page=page)
    assert response.status_code == 303
    db.session.expire_all()
    assert opportunity.status is OpportunityStatus.OPEN
    assert opportunity.published_at is not None

    auth.logout()
    html = client.get(page).get_data(as_text=True)
    assert "Secondment to the population health team" in html
    assert "<strong>work</strong>" in html  # Markdown
    assert "Sign in to apply" in html
    assert "hannah@icb.example.org" not in html  # contact details for signed-in people
    assert "You host this opportunity" not in html
    assert opportunity.title in client.get("/opportunities/").get_data(as_text=True)


def test_a_new_opportunity_with_mistakes_keeps_what_was_typed_and_writes_nothing(
        world, client, auth):
    auth.login(world.icb_admin)
    response = client.submit("/opportunities/new", opportunity_form(
        world.icb, title="", places="two", closing_date=["31", "2", "2027"],
        pay_and_backfill="", description="Typed with care"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a title" in html
    assert "Number of places must be a whole number" in html
    assert "Closing date must be a real date" in html
    assert "Typed with care" in html and 'value="two"' in html
    assert count(Opportunity) == 0


def test_service_rules_show_against_the_right_field(world, client, auth):
    auth.login(world.icb_admin)
    cases = [
        ({"pay_and_backfill": ""}, "Say how pay and backfill will work"),
        ({"kind": "shadowing", "total_days": ""}, "how many days of shadowing"),
        ({"starts_latest": date_parts(today_uk())}, "latest start date must be"),
        ({"closing_date": date_parts(today_uk() - timedelta(days=1))},
         "closing date must be today or in the future"),
        ({"location_kind": "in_person", "place": ""}, "Enter where the person will work"),
        ({"kind": "secondment", "no_manager_approval": "y"}, "Only shadowing of under 3 days"),
        ({"kind": "shadowing", "total_days": "3", "no_manager_approval": "y"},
         "Only shadowing of under 3 days"),
    ]
    for overrides, message in cases:
        response = client.submit("/opportunities/new", opportunity_form(world.icb, **overrides))
        assert response.status_code == 422, overrides
        assert message in response.get_data(as_text=True), overrides
    assert count(Opportunity) == 0


def test_short_shadowing_can_be_offered_without_manager_approval(world, client, auth):
    auth.login(world.icb_admin)
    response = client.submit("/opportunities/new", opportunity_form(
        world.icb, kind="shadowing", total_days="2", no_manager_approval="y",
        pay_and_backfill=""))
    assert response.status_code == 303
    opportunity = db.session.scalar(select(Opportunity))
    assert opportunity.manager_approval_required is False and opportunity.total_days == 2


def test_the_partnership_must_be_one_the_host_belongs_to(world, client, auth, make_partnership):
    elsewhere = make_partnership("Southport Together")
    auth.login(world.icb_admin)
    response = client.submit("/opportunities/new", opportunity_form(
        world.icb, partnership_id=str(elsewhere.id)))
    assert response.status_code == 422
    assert "is not a member of that partnership" in response.get_data(as_text=True)


def test_only_admins_of_the_host_can_post_for_it(world, client, auth):
    assert client.get("/opportunities/new").headers["Location"].startswith(SIGN_IN)
    auth.login(world.outsider)
    response = client.get("/opportunities/new")
    assert response.status_code == 403
    assert "Only admins of an organisation, and the members they allow, can post" in (
        response.get_data(as_text=True))
    # A council admin cannot post for the ICB by changing the form.
    auth.login(world.council_admin)
    response = client.submit("/opportunities/new", opportunity_form(world.icb))
    assert response.status_code == 422
    assert "Select the host organisation" in response.get_data(as_text=True)
    assert count(Opportunity) == 0


def test_site_admins_can_post_for_any_organisation(world, client, auth):
    auth.login(world.site_admin)
    assert client.submit("/opportunities/new", opportunity_form(world.cvs)).status_code == 303


def test_the_host_edits_and_others_cannot(world, client, auth):
    opportunity = make_opportunity(world.icb, world.icb_admin)
    url = f"/opportunities/{opportunity.id}/edit"
    assert client.get(url).headers["Location"].startswith(SIGN_IN)
    auth.login(world.council_admin)
    assert client.get(url).status_code == 403
    auth.login(world.icb_admin)
    page = client.get(url).get_data(as_text=True)
    assert opportunity.title in page
    response = client.submit(url, opportunity_form(None, title="A better title"))
    assert response.status_code == 303
    db.session.expire_all()
    assert opportunity.title == "A better title"


def test_places_cannot_drop_below_those_taken(world, client, auth):
    opportunity = make_opportunity(world.icb, world.icb_admin, places=3, places_taken=2)
    auth.login(world.icb_admin)
    response = client.submit(f"/opportunities/{opportunity.id}/edit",
                             opportunity_form(None, places="1"))
    assert response.status_code == 422
    assert "2 places are already taken" in response.get_data(as_text=True)
    db.session.expire_all()
    assert opportunity.places == 3


def test_the_database_refuses_to_overbook():
    """The CHECK constraint is the last line of defence behind the conditional UPDATE."""
    constraint = next(c for c in Opportunity.__table__.constraints
                      if getattr(c, "name", "") and "never_overbooked" in str(c.name))
    assert "places_taken <= places" in str(constraint.sqltext)


def test_database_refuses_places_taken_above_places(world):
    from sqlalchemy.exc import IntegrityError

    opportunity = make_opportunity(world.icb, world.icb_admin, places=1)
    opportunity.places_taken = 2
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_close_reopen_and_withdraw_with_applicants_told(world, client, auth, outbox):
    opportunity = make_opportunity(world.icb, world.icb_admin)
    waiting = Application(opportunity_id=opportunity.id, applicant_id=world.council_staff.id,
                          organisation_id=world.council.id, statement="Please",
                          manager_decision=ManagerDecision.PENDING, manager_name="M",
                          manager_email="m@council.example.org", manager_token_hash="x" * 64)
    db.session.add(waiting)
    db.session.commit()
    page = f"/opportunities/{opportunity.id}/"
    auth.login(world.icb_admin)
    assert client.submit(f"{page}close", page=page).status_code == 303
    db.session.expire_all()
    assert opportunity.status is OpportunityStatus.CLOSED
    assert client.submit(f"{page}reopen", page=page).status_code == 303
    db.session.expire_all()
    assert opportunity.status is OpportunityStatus.OPEN

    response = client.submit(f"{page}withdraw", {"reason": ""})
    assert response.status_code == 422
    assert "Say why you are withdrawing it" in response.get_data(as_text=True)
    response = client.submit(f"{page}withdraw", {"reason": "The team has been restructured."})
    assert response.status_code == 303
    db.session.expire_all()
    assert opportunity.status is OpportunityStatus.WITHDRAWN
    assert waiting.status is ApplicationStatus.DECLINED
    assert waiting.manager_token_hash is None
    assert "restructured" in waiting.host_message
    [email] = outbox(world.council_staff.email)
    assert "withdrawn" in email.subject and "restructured" in email.body
    html = client.get(page).get_data(as_text=True)
    assert "The host has withdrawn this opportunity" in html
    assert client.submit(f"{page}reopen", page=TOKEN_PAGE).status_code == 409


def test_reopening_after_the_closing_date_asks_for_a_new_date(world, client, auth):
    opportunity = make_opportunity(world.icb, world.icb_admin, status=OpportunityStatus.CLOSED,
                                   closing_date=today_uk() - timedelta(days=1))
    auth.login(world.icb_admin)
    page = f"/opportunities/{opportunity.id}/"
    response = client.submit(f"{page}reopen", page=page)
    assert response.status_code == 409
    assert "Edit the opportunity to set a later closing date" in response.get_data(as_text=True)


def test_only_the_host_may_publish_close_or_withdraw(world, client, auth):
    opportunity = make_opportunity(world.icb, world.icb_admin)
    page = f"/opportunities/{opportunity.id}/"
    for action in ("close", "reopen", "publish"):
        response = client.submit(f"{page}{action}", page=SIGN_IN)
        assert response.headers["Location"].startswith(SIGN_IN)
    auth.login(world.council_admin)
    for action in ("close", "reopen", "publish"):
        assert client.submit(f"{page}{action}", page=TOKEN_PAGE).status_code == 403
    assert client.get(f"{page}withdraw").status_code == 403
    assert client.get(f"{page}applications").status_code == 403
    db.session.expire_all()
    assert opportunity.status is OpportunityStatus.OPEN


def test_the_poster_who_is_no_longer_a_host_stops_managing_it_and_the_admins_carry_on(
        world, client, auth):
    """Hosting follows the person's standing in the host organisation now, not who
    once posted it (see tests/test_opportunities_delegation.py for allowed posters)."""
    opportunity = make_opportunity(world.icb, world.council_staff)
    auth.login(world.council_staff)
    assert client.get(f"/opportunities/{opportunity.id}/edit").status_code == 403
    assert opportunity.title not in client.get("/my/opportunities").get_data(as_text=True)
    auth.login(world.icb_admin)
    assert client.get(f"/opportunities/{opportunity.id}/edit").status_code == 200


# --- Closing dates in UK time ------------------------------------------------------------


def test_an_opportunity_closes_at_the_end_of_its_closing_date_in_uk_time(
        world, client, auth, monkeypatch):
    # 23:30 UTC on 14 July is 00:30 on 15 July in the UK (BST).
    monkeypatch.setattr(timeutil, "now_utc",
                        lambda: datetime(2027, 7, 14, 23, 30, tzinfo=UTC))
    closing_today_utc = make_opportunity(world.icb, world.icb_admin, title="Closed last night",
                                         closing_date=date(2027, 7, 14),
                                         starts_earliest=date(2027, 9, 1),
                                         starts_latest=date(2027, 9, 30))
    still_open = make_opportunity(world.icb, world.icb_admin, title="Closes tonight",
                                  closing_date=date(2027, 7, 15),
                                  starts_earliest=date(2027, 9, 1),
                                  starts_latest=date(2027, 9, 30))
    listing = client.get("/opportunities/").get_data(as_text=True)
    assert "Closes tonight" in listing and "Closed last night" not in listing

    auth.login(world.council_staff)
    response = client.get(f"/opportunities/{closing_today_utc.id}/apply")
    assert response.status_code == 409
    assert "closed at the end of 14 July 2027" in response.get_data(as_text=True)
    response = client.submit(f"/opportunities/{closing_today_utc.id}/apply",
                             {"statement": "x"}, page=TOKEN_PAGE)
    assert response.status_code == 409
    assert client.get(f"/opportunities/{still_open.id}/apply").status_code == 200
    assert count(Application) == 0


def test_closed_early_and_withdrawn_opportunities_refuse_applications(world, client, auth):
    closed = make_opportunity(world.icb, world.icb_admin, status=OpportunityStatus.CLOSED)
    withdrawn = make_opportunity(world.icb, world.icb_admin,
                                 status=OpportunityStatus.WITHDRAWN, withdrawn_reason="No")
    auth.login(world.council_staff)
    assert "closed this opportunity early" in client.get(
        f"/opportunities/{closed.id}/apply").get_data(as_text=True)
    assert "withdrawn this opportunity" in client.get(
        f"/opportunities/{withdrawn.id}/apply").get_data(as_text=True)


# --- Browsing ------------------------------------------------------------------------------


@pytest.fixture
def catalogue(world: World) -> dict[str, Opportunity]:
    today = today_uk()
    return {
        "shadow": make_opportunity(
            world.icb, world.icb_admin, kind=OpportunityKind.SHADOWING, title="Shadow the CEO",
            total_days=2, location_kind=LocationKind.IN_PERSON, pay_and_backfill="",
            closing_date=today + timedelta(days=5), partnership_id=world.partnership.id),
        "secondment": make_opportunity(
            world.council, world.council_admin, title="Council secondment",
            location_kind=LocationKind.HYBRID, closing_date=today + timedelta(days=40)),
        "remote": make_opportunity(
            world.cvs, world.cvs_admin, kind=OpportunityKind.REVERSE_MENTORING,
            title="Reverse mentoring from the CVS", location_kind=LocationKind.REMOTE,
            place="", total_days=10, closing_date=today + timedelta(days=30),
            partnership_id=world.partnership.id),
        "draft": make_opportunity(world.cvs, world.cvs_admin, title="Draft one",
                                  status=OpportunityStatus.DRAFT),
        "past": make_opportunity(world.cvs, world.cvs_admin, title="Past one",
                                 closing_date=today - timedelta(days=1)),
    }


def _titles(html: str, catalogue: dict[str, Opportunity]) -> set[str]:
    return {key for key, opp in catalogue.items() if opp.title in html}


def test_browse_lists_open_opportunities_only(client, catalogue):
    html = client.get("/opportunities/").get_data(as_text=True)
    assert _titles(html, catalogue) == {"shadow", "secondment", "remote"}
    assert "3 open opportunities" in html


@pytest.mark.parametrize("query, expected", [
    ("type=shadowing", {"shadow"}),
    ("sector=vcse", {"remote"}),
    ("sector=public", {"shadow", "secondment"}),
    ("partnership=northbridge-together", {"shadow", "remote"}),
    ("location=remote", {"remote"}),
    ("location=in_person", {"shadow"}),
    ("commitment=short", {"shadow"}),
    ("commitment=long", {"secondment", "remote"}),
    ("closing_soon=y", {"shadow"}),
    ("type=shadowing&sector=vcse", set()),
    ("type=nonsense&sector=mars", {"shadow", "secondment", "remote"}),
])
def test_browse_filters_as_a_plain_get_form(client, catalogue, query, expected):
    response = client.get(f"/opportunities/?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _titles(html, catalogue) == expected
    assert "<html" in html.lower()  # the whole page without JavaScript


def test_browse_with_htmx_returns_only_the_results_and_varies(client, catalogue):
    response = client.get("/opportunities/?type=shadowing", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers.get("Vary", "")
    assert html.lstrip().startswith('<div id="opportunity-results">')
    assert "<html" not in html.lower() and "Shadow the CEO" in html
    full = client.get("/opportunities/?type=shadowing")
    assert "HX-Request" in full.headers.get("Vary", "")
    assert 'hx-get="/opportunities/"' in full.get_data(as_text=True)
    assert 'action="/opportunities/"' in full.get_data(as_text=True)


def test_clear_filters_appears_and_goes_as_htmx_changes_the_filters(client, catalogue):
    """The link sits beside the form, outside the swapped results, so each htmx answer
    sends it out of band: with JavaScript on, it appeared only after a full reload."""
    filtered = client.get("/opportunities/?type=shadowing", headers={"HX-Request": "true"})
    html = filtered.get_data(as_text=True)
    assert '<div id="clear-filters" hx-swap-oob="true">' in html
    assert "Clear filters" in html
    unfiltered = client.get("/opportunities/", headers={"HX-Request": "true"})
    html = unfiltered.get_data(as_text=True)
    assert '<div id="clear-filters" hx-swap-oob="true">' in html
    assert "Clear filters" not in html
    page = client.get("/opportunities/?closing_soon=y").get_data(as_text=True)
    assert page.count('id="clear-filters"') == 1 and "Clear filters" in page
    assert "Clear filters" not in client.get("/opportunities/").get_data(as_text=True)


def test_browse_shows_filled_opportunities_with_their_reserve_list(world, client):
    make_opportunity(world.icb, world.icb_admin, title="Full up", places=1, places_taken=1)
    assert "Filled: reserve list open" in client.get("/opportunities/").get_data(as_text=True)


def test_browse_with_hundreds_of_opportunities_stays_within_its_query_budget(
        world, client, auth, count_queries):
    today = today_uk()
    hosts = [world.icb, world.council, world.cvs]
    db.session.add_all([
        Opportunity(organisation_id=hosts[i % 3].id, kind=list(OpportunityKind)[i % 5],
                    title=f"Opportunity {i:03d}", description="d",
                    location_kind=list(LocationKind)[i % 3], place="Northbridge",
                    time_commitment="1 day a week", starts_earliest=today,
                    starts_latest=today + timedelta(days=10), places=1,
                    open_to=OpenTo.BOTH, closing_date=today + timedelta(days=1 + i % 50),
                    contact_name="C", contact_email="c@example.org",
                    partnership_id=world.partnership.id if i % 2 else None,
                    status=OpportunityStatus.OPEN)
        for i in range(300)
    ])
    db.session.commit()
    for signed_in in (False, True):
        if signed_in:
            auth.login(world.council_staff)
        with count_queries() as log:
            response = client.get("/opportunities/?page=2")
        assert response.status_code == 200
        assert log.count <= 6, log.statements
        html = response.get_data(as_text=True)
        assert "300 open opportunities" in html and "Page 2 of 15" in html
    with count_queries() as log:
        client.get("/opportunities/?sector=public&partnership=northbridge-together",
                   headers={"HX-Request": "true"})
    assert log.count <= 6, log.statements


def test_a_page_past_the_end_shows_the_last_page(world, client):
    make_opportunity(world.icb, world.icb_admin)
    assert client.get("/opportunities/?page=9").status_code == 200


# --- My opportunities ----------------------------------------------------------------------


def test_my_opportunities_lists_what_i_host_with_counts(world, client, auth, count_queries):
    mine = make_opportunity(world.icb, world.icb_admin, title="Mine")
    make_opportunity(world.cvs, world.cvs_admin, title="Not mine")
    db.session.add_all([
        Application(opportunity_id=mine.id, applicant_id=world.council_staff.id,
                    organisation_id=world.council.id, statement="s",
                    manager_decision=ManagerDecision.APPROVED),
        Application(opportunity_id=mine.id, applicant_id=world.cvs_staff.id,
                    organisation_id=world.cvs.id, statement="s",
                    manager_decision=ManagerDecision.PENDING),
    ])
    db.session.commit()
    assert client.get("/my/opportunities").headers["Location"].startswith(SIGN_IN)
    auth.login(world.icb_admin)
    with count_queries() as log:
        html = client.get("/my/opportunities").get_data(as_text=True)
    assert log.count <= 5, log.statements
    assert "Mine" in html and "Not mine" not in html
    assert "1 to review" in html and "1 waiting for a line manager" in html


def test_figures_page_is_public(client, world):
    html = client.get("/opportunities/figures").get_data(as_text=True)
    assert "Public sector to VCSE" in html and "VCSE to Public sector" in html
