"""Placements: the full journey from posting to the figures, the plan (dates and up to
five objectives), the checklist, starting and completing, reflections, who may see a
placement, and completed placements counted by direction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from partnerships.extensions import db
from partnerships.opportunities import placements as rules
from partnerships.opportunities.models import (
    Application,
    ApplicationStatus,
    ManagerDecision,
    Opportunity,
    Placement,
    PlacementStatus,
    ReflectionRole,
)
from partnerships.organisations.models import OrgType, Sector
from partnerships.timeutil import today_uk
from tests.conftest import link_in
from tests.test_opportunities import (
    SIGN_IN,
    TOKEN_PAGE,
    World,
    date_parts,
    make_opportunity,
    opportunity_form,
)

CHECKLIST = ["confidentiality_agreed", "expenses_agreed", "insurance_agreed",
             "data_access_agreed", "supervision_agreed"]


def accepted_placement(world: World, host: Any = None, applicant: Any = None,
                       home: Any = None, **values: Any) -> Placement:
    """An accepted application with its placement, written straight to the database."""
    host = host or world.cvs
    opportunity = make_opportunity(host, None, places=1, places_taken=1,
                                   partnership_id=values.pop("partnership_id", None))
    application = Application(
        opportunity_id=opportunity.id, applicant_id=(applicant or world.council_staff).id,
        organisation_id=(home or world.council).id, statement="s", availability="a",
        manager_decision=ManagerDecision.APPROVED, status=ApplicationStatus.ACCEPTED)
    db.session.add(application)
    db.session.flush()
    placement = Placement(application_id=application.id, **values)
    db.session.add(placement)
    db.session.commit()
    return placement


def _ready(placement: Placement) -> None:
    placement.starts_on = today_uk()
    for name in CHECKLIST:
        setattr(placement, name, True)
    db.session.commit()


# --- The whole journey ----------------------------------------------------------------------


def test_post_apply_approve_accept_plan_complete_reflect_and_count(world, client, auth,
                                                                   outbox):
    # The CVS (VCSE) posts and publishes a secondment within the partnership.
    auth.login(world.cvs_admin)
    client.submit("/opportunities/new", opportunity_form(
        world.cvs, partnership_id=str(world.partnership.id),
        contact_email="contact@cvs.example.org"))
    opportunity = db.session.scalar(select(Opportunity))
    page = f"/opportunities/{opportunity.id}/"
    client.submit(f"{page}publish", page=page)

    # Sam, from the council (public sector), finds it and applies.
    auth.login(world.council_staff)
    assert opportunity.title in client.get("/opportunities/?sector=vcse").get_data(
        as_text=True)
    client.submit(f"{page}apply", {
        "organisation_id": str(world.council.id), "statement": "I want to learn.",
        "availability": "Tuesdays", "manager_name": "Mo Manager",
        "manager_email": "mo@council.example.org"})

    # The line manager approves by the emailed link.
    auth.logout()
    link = link_in(outbox("mo@council.example.org")[0])
    client.submit(link, {"decision": "approve"})

    # The host accepts.
    auth.login(world.cvs_admin)
    application = db.session.scalar(select(Application))
    url = f"/applications/{application.id}/"
    client.submit(f"{url}decision", {"decision": "accept"}, page=url)
    db.session.expire_all()
    placement = application.placement
    assert placement is not None
    assert "Plan and record the placement" in client.get(url).get_data(as_text=True)

    # The participant agrees the plan; both tick the checklist; the host starts it.
    auth.login(world.council_staff)
    base = f"/placements/{placement.id}/"
    start = today_uk()  # it can be marked started from its start date (issue 15)
    response = client.submit(f"{base}plan", {
        "starts_on": date_parts(start), "ends_on": date_parts(start + timedelta(days=90)),
        "objective_1": "Understand how the CVS funds its work",
        "objective_2": "Map the referral routes", "objective_3": "", "objective_4": "",
        "objective_5": ""})
    assert response.status_code == 303
    client.submit(f"{base}checklist", {"agreed": CHECKLIST[:3]}, page=base)
    auth.login(world.cvs_admin)
    client.submit(f"{base}checklist", {"agreed": CHECKLIST}, page=base)
    assert client.submit(f"{base}start", page=base).status_code == 303
    assert client.submit(f"{base}complete", page=base).status_code == 303
    db.session.expire_all()
    assert placement.status is PlacementStatus.COMPLETED
    assert [o.text for o in placement.objectives] == [
        "Understand how the CVS funds its work", "Map the referral routes"]
    ask = outbox(world.council_staff.email)[-1]
    assert "complete" in ask.subject and link_in(ask) == f"{base}reflection"

    # Both reflect.
    for person, learned in ((world.council_staff, "How grants work"),
                            (world.cvs_admin, "How the council commissions")):
        auth.login(person)
        response = client.submit(f"{base}reflection", {
            "learned": learned, "changes": "We will co-design the next bid.",
            "would_recommend": "yes"})
        assert response.status_code == 303
    html = client.get(base).get_data(as_text=True)
    assert "How grants work" in html and "How the council commissions" in html
    db.session.expire_all()
    assert {r.role for r in placement.reflections} == {ReflectionRole.PARTICIPANT,
                                                       ReflectionRole.HOST}

    # Counted: public sector to VCSE, in this partnership and overall.
    figures = client.get("/opportunities/figures?partnership=northbridge-together")
    html = figures.get_data(as_text=True)
    assert "Northbridge Together: completed exchanges" in html
    with world.app.app_context():
        counts, other = rules.direction_counts(world.partnership.id)
    assert counts[rules.Direction(Sector.PUBLIC, Sector.VCSE)] == 1
    assert sum(counts.values()) == 1 and other == 0


# --- The plan and the checklist ------------------------------------------------------------


def test_a_plan_with_mistakes_keeps_what_was_typed(world, client, auth):
    placement = accepted_placement(world)
    auth.login(world.council_staff)
    start = today_uk() + timedelta(days=10)
    response = client.submit(f"/placements/{placement.id}/plan", {
        "starts_on": date_parts(start), "ends_on": date_parts(start - timedelta(days=1)),
        "objective_1": "Keep me", "objective_2": "x" * 301})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Objective 2 must be 300 characters or fewer" in html and "Keep me" in html
    response = client.submit(f"/placements/{placement.id}/plan", {
        "starts_on": date_parts(start), "ends_on": date_parts(start - timedelta(days=1)),
        "objective_1": "Keep me"})
    assert response.status_code == 422
    assert "end date must be the same as or after the start date" in response.get_data(
        as_text=True)
    db.session.expire_all()
    assert placement.starts_on is None and placement.objectives == []


def test_starting_needs_the_dates_and_the_whole_checklist(world, client, auth):
    placement = accepted_placement(world)
    base = f"/placements/{placement.id}/"
    auth.login(world.cvs_admin)
    assert "Agree the start date first" in client.get(base).get_data(as_text=True)
    response = client.submit(f"{base}start", page=base)
    assert response.status_code == 409
    placement.starts_on = today_uk()
    db.session.commit()
    assert client.submit(f"{base}start", page=base).status_code == 409
    _ready(placement)
    assert client.submit(f"{base}start", page=base).status_code == 303


def test_an_unknown_checklist_item_is_refused(world, client, auth):
    placement = accepted_placement(world)
    base = f"/placements/{placement.id}/"
    auth.login(world.council_staff)
    response = client.submit(f"{base}checklist", {"agreed": ["bribes_agreed"]}, page=base)
    assert response.status_code == 422
    assert "Select items from the checklist" in response.get_data(as_text=True)


# --- Who may see and do what -----------------------------------------------------------------


def test_a_placement_is_for_the_participant_and_the_host_only(world, client, auth):
    placement = accepted_placement(world)
    base = f"/placements/{placement.id}/"
    assert client.get(base).headers["Location"].startswith(SIGN_IN)
    for person in (world.outsider, world.icb_admin, world.council_admin, world.cvs_staff):
        auth.login(person)
        assert client.get(base).status_code == 404, person.name
        assert client.get(f"{base}plan").status_code == 404
        assert client.submit(f"{base}checklist", {"agreed": CHECKLIST},
                             page=TOKEN_PAGE).status_code == 404
    for person in (world.council_staff, world.cvs_admin, world.site_admin):
        auth.login(person)
        assert client.get(base).status_code == 200, person.name


def test_either_side_starts_and_only_the_host_completes(world, client, auth):
    placement = accepted_placement(world)
    _ready(placement)
    base = f"/placements/{placement.id}/"
    auth.login(world.council_staff)  # the participant (issue 15: either side starts it)
    assert client.submit(f"{base}start", page=base).status_code == 303
    assert client.submit(f"{base}complete", page=base).status_code == 403
    db.session.expire_all()
    assert placement.status is PlacementStatus.IN_PROGRESS


def test_reflections_wait_for_the_start_and_check_what_was_typed(world, client, auth):
    placement = accepted_placement(world)
    url = f"/placements/{placement.id}/reflection"
    auth.login(world.council_staff)
    assert client.get(url).status_code == 409
    placement.status = PlacementStatus.IN_PROGRESS
    db.session.commit()
    response = client.submit(url, {"learned": "Lots", "changes": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Say what changes as a result" in html
    assert "Select yes if you would recommend it" in html and "Lots" in html
    assert client.submit(url, {"learned": "Lots", "changes": "Much",
                               "would_recommend": "no"}).status_code == 303
    assert client.submit(url, {"learned": "Even more", "changes": "Much",
                               "would_recommend": "yes"}).status_code == 303
    db.session.expire_all()
    [reflection] = placement.reflections
    assert reflection.learned == "Even more" and reflection.would_recommend is True
    assert reflection.role is ReflectionRole.PARTICIPANT


def test_a_completed_placement_cannot_be_withdrawn(world, client, auth):
    placement = accepted_placement(world, status=PlacementStatus.COMPLETED)
    auth.login(world.council_staff)
    url = f"/applications/{placement.application_id}/withdraw"
    assert client.submit(url, {}, page=TOKEN_PAGE).status_code == 409


# --- Figures ----------------------------------------------------------------------------------


def test_completed_placements_are_counted_by_direction(world, make_organisation, app,
                                                       count_queries):
    shop = make_organisation("Corner Shop Ltd", org_type=OrgType.BUSINESS)
    done = PlacementStatus.COMPLETED
    pid = world.partnership.id
    accepted_placement(world, host=world.cvs, home=world.council, status=done,
                       partnership_id=pid)  # public -> VCSE
    accepted_placement(world, host=world.cvs, home=world.icb, status=done)  # public -> VCSE
    accepted_placement(world, host=world.icb, home=world.cvs, status=done,
                       partnership_id=pid)  # VCSE -> public
    accepted_placement(world, host=world.cvs, home=world.cvs, status=done)  # VCSE -> VCSE
    accepted_placement(world, host=world.icb, home=world.council, status=done)  # public
    accepted_placement(world, host=world.icb, home=shop, status=done)  # other
    accepted_placement(world, host=world.icb, home=world.cvs,
                       status=PlacementStatus.IN_PROGRESS)  # not counted
    accepted_placement(world, host=world.icb, home=world.cvs,
                       status=PlacementStatus.CANCELLED)  # not counted
    direction = rules.Direction
    with count_queries() as log:
        counts, other = rules.direction_counts()
    assert log.count == 1
    assert counts == {direction(Sector.PUBLIC, Sector.VCSE): 2,
                      direction(Sector.VCSE, Sector.PUBLIC): 1,
                      direction(Sector.VCSE, Sector.VCSE): 1,
                      direction(Sector.PUBLIC, Sector.PUBLIC): 1}
    assert other == 1
    counts, other = rules.direction_counts(pid)
    assert counts[direction(Sector.PUBLIC, Sector.VCSE)] == 1
    assert counts[direction(Sector.VCSE, Sector.PUBLIC)] == 1
    assert sum(counts.values()) == 2 and other == 0


def test_no_page_shows_markup_as_text(world, client, auth):
    """Links built inside tables and summary lists must render as links, not as code."""
    placement = accepted_placement(world, host=world.cvs, partnership_id=world.partnership.id,
                                   status=PlacementStatus.COMPLETED, starts_on=today_uk())
    application = placement.application
    opportunity = application.opportunity
    opportunity.host_team = "Funding & grants"
    db.session.commit()
    pages = {
        world.council_staff: ["/my/applications", f"/applications/{application.id}/",
                              f"/placements/{placement.id}/"],
        world.cvs_admin: ["/my/opportunities", f"/opportunities/{opportunity.id}/",
                          f"/opportunities/{opportunity.id}/applications",
                          f"/applications/{application.id}/", "/opportunities/figures"],
    }
    for person, urls in pages.items():
        auth.login(person)
        for url in urls:
            html = client.get(url).get_data(as_text=True)
            assert "&lt;" not in html and "&amp;amp;" not in html, url
    html = client.get(f"/opportunities/{opportunity.id}/").get_data(as_text=True)
    assert '<a class="govuk-link" href="/organisations/northbridge-cvs/">' in html
    assert "Funding &amp; grants" in html
