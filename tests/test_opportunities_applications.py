"""Applications: applying, the line manager's signed single-use link (expiry, reuse,
binding, reminders), who sees a statement, the host's decisions, the reserve list and
withdrawing (which frees the place)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from partnerships.extensions import db
from partnerships.modelbase import utcnow
from partnerships.opportunities.models import (
    Application,
    ApplicationStatus,
    ManagerDecision,
    OpenTo,
    Opportunity,
    OpportunityKind,
    Placement,
    PlacementStatus,
)
from tests.conftest import link_in
from tests.test_opportunities import (
    SIGN_IN,
    TOKEN_PAGE,
    World,
    count,
    make_opportunity,
)

STATEMENT = "I run our social prescribing team and want to learn how a charity works."
MANAGER = "mo.manager@council.example.org"


@pytest.fixture
def opportunity(world: World) -> Opportunity:
    """A VCSE-hosted secondment with two places, needing the manager's approval."""
    return make_opportunity(world.cvs, world.cvs_admin, title="Secondment to the CVS",
                            places=2, contact_email="contact@cvs.example.org")


def apply_form(world: World, **overrides: Any) -> dict[str, Any]:
    data = {"organisation_id": str(world.council.id), "statement": STATEMENT,
            "availability": "Tuesdays from September", "manager_name": "Mo Manager",
            "manager_email": MANAGER}
    data.update(overrides)
    return data


def apply_as(client: Any, auth: Any, user: Any, opportunity: Opportunity,
             **form: Any) -> Any:
    auth.login(user)
    return client.submit(f"/opportunities/{opportunity.id}/apply", form)


def the_application(user: Any) -> Application:
    db.session.expire_all()
    return db.session.scalar(select(Application).where(Application.applicant_id == user.id))


def manager_link(outbox: Any) -> str:
    return link_in(outbox(MANAGER)[-1])


# --- Applying and the manager's approval ----------------------------------------------------


def test_apply_then_the_manager_approves_by_link_and_the_host_accepts(
        world, client, auth, outbox, opportunity):
    response = apply_as(client, auth, world.council_staff, opportunity, **apply_form(world))
    assert response.status_code == 303
    application = the_application(world.council_staff)
    assert application.status is ApplicationStatus.SUBMITTED
    assert application.manager_decision is ManagerDecision.PENDING
    assert application.manager_token_hash and len(application.manager_token_hash) == 64
    assert response.headers["Location"] == f"/applications/{application.id}/"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Waiting for line manager" in page and STATEMENT in page
    assert "You can send them a reminder from" in page
    [confirmation] = outbox(world.council_staff.email)
    assert "We have emailed Mo Manager" in confirmation.body

    # The host cannot see it yet: not the page, not in the list (only a count).
    auth.login(world.cvs_admin)
    assert client.get(f"/applications/{application.id}/").status_code == 404
    listing = client.get(f"/opportunities/{opportunity.id}/applications").get_data(as_text=True)
    assert "1 application is waiting" in listing and "Sam Staff" not in listing
    assert outbox("contact@cvs.example.org") == []

    # The manager follows the emailed link without an account.
    auth.logout()
    link = manager_link(outbox)
    assert link.startswith("/opportunities/manager/")
    assert application.manager_token_hash not in link  # only a hash is stored
    page = client.get(link).get_data(as_text=True)
    assert STATEMENT in page and "Sam Staff" in page and "Tuesdays from September" in page
    assert "sam@council.example.org" not in page
    assert "&lt;" not in page  # the opportunity's link is a link, not code
    response = client.submit(link, {"decision": "approve", "comment": "Good for us both."})
    assert response.status_code == 303
    assert "Thank you" in client.get(response.headers["Location"]).get_data(as_text=True)
    application = the_application(world.council_staff)
    assert application.manager_decision is ManagerDecision.APPROVED
    assert application.manager_token_hash is None and application.manager_decided_at
    assert "approved" in outbox(world.council_staff.email)[-1].subject
    assert "Good for us both." in outbox(world.council_staff.email)[-1].body
    [to_host] = outbox("contact@cvs.example.org")
    assert link_in(to_host) == f"/applications/{application.id}/"
    assert [m.subject for m in outbox(world.cvs_admin.email)] == [to_host.subject]

    # Used once: the link now says so, and shows nothing of the application.
    again = client.get(link)
    assert again.status_code == 410
    assert STATEMENT not in again.get_data(as_text=True)
    assert "already been used" in again.get_data(as_text=True)

    # The host sees and accepts it.
    auth.login(world.cvs_admin)
    url = f"/applications/{application.id}/"
    assert STATEMENT in client.get(url).get_data(as_text=True)
    response = client.submit(f"{url}decision", {"decision": "accept", "message": "Welcome!"},
                             page=url)
    assert response.status_code == 303
    application = the_application(world.council_staff)
    assert application.status is ApplicationStatus.ACCEPTED
    assert application.placement is not None
    assert application.placement.status is PlacementStatus.AGREED
    db.session.refresh(opportunity)
    assert opportunity.places_taken == 1
    accepted = outbox(world.council_staff.email)[-1]
    assert "accepted" in accepted.subject and "Welcome!" in accepted.body


def test_apply_with_mistakes_keeps_what_was_typed_and_writes_nothing(
        world, client, auth, outbox, opportunity):
    response = apply_as(client, auth, world.council_staff, opportunity,
                        **apply_form(world, statement="", manager_email="not-an-email",
                                     availability="Mondays only"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Say why you want to do this" in html
    assert "Enter an email address in the correct format" in html
    assert "Mondays only" in html and "not-an-email" in html
    assert count(Application) == 0 and outbox() == []


@pytest.mark.parametrize("overrides, message", [
    ({"manager_email": "sam@council.example.org"}, "not your own"),
    ({"organisation_id": "999"}, "Select the organisation you work for"),
    ({"statement": "x" * 3001}, "3000 characters or fewer"),
])
def test_apply_rules_show_against_the_field(world, client, auth, opportunity, overrides,
                                            message):
    response = apply_as(client, auth, world.council_staff, opportunity,
                        **apply_form(world, **overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(Application) == 0


def test_only_the_sectors_invited_may_apply(world, client, auth):
    vcse_only = make_opportunity(world.icb, world.icb_admin, open_to=OpenTo.VCSE)
    response = apply_as(client, auth, world.council_staff, vcse_only, **apply_form(world))
    assert response.status_code == 422
    assert "is not in that sector" in response.get_data(as_text=True)
    response = apply_as(client, auth, world.cvs_staff, vcse_only,
                        **apply_form(world, organisation_id=str(world.cvs.id),
                                     manager_email="mo@cvs.example.org"))
    assert response.status_code == 303


def test_staff_cannot_apply_to_their_own_organisations_opportunity(world, client, auth,
                                                                   opportunity):
    response = apply_as(client, auth, world.cvs_staff, opportunity,
                        **apply_form(world, organisation_id=str(world.cvs.id)))
    assert response.status_code == 422
    assert "choose another organisation" in response.get_data(as_text=True)


def test_who_may_apply(world, client, auth, make_user, opportunity):
    url = f"/opportunities/{opportunity.id}/apply"
    assert client.get(url).headers["Location"].startswith(SIGN_IN)
    auth.login(make_user("Una Unconfirmed", confirmed=False))
    assert client.get(url).status_code == 403
    auth.login(world.outsider)  # belongs to no organisation
    page = client.get(url).get_data(as_text=True)
    assert "Find your organisation and ask to join it" in page
    assert 'name="statement"' not in page


def test_applying_twice_goes_to_the_application(world, client, auth, opportunity):
    apply_as(client, auth, world.council_staff, opportunity, **apply_form(world))
    response = client.get(f"/opportunities/{opportunity.id}/apply")
    application = the_application(world.council_staff)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/applications/{application.id}/"
    assert "See your application" in client.get(
        f"/opportunities/{opportunity.id}/").get_data(as_text=True)


def test_no_manager_approval_needed_sends_it_straight_to_the_host(world, client, auth, outbox):
    shadowing = make_opportunity(world.icb, world.icb_admin, kind=OpportunityKind.SHADOWING,
                                 total_days=2, manager_approval_required=False,
                                 pay_and_backfill="", contact_email="icb@example.org")
    auth.login(world.council_staff)
    page = client.get(f"/opportunities/{shadowing.id}/apply").get_data(as_text=True)
    assert 'name="manager_email"' not in page
    response = client.submit(f"/opportunities/{shadowing.id}/apply",
                             {"organisation_id": str(world.council.id), "statement": STATEMENT,
                              "availability": "Any Monday"})
    assert response.status_code == 303
    application = the_application(world.council_staff)
    assert application.manager_decision is ManagerDecision.NOT_NEEDED
    assert application.manager_token_hash is None
    assert outbox(MANAGER) == [] and len(outbox("icb@example.org")) == 1
    auth.login(world.icb_admin)
    assert client.get(f"/applications/{application.id}/").status_code == 200


# --- The manager's link --------------------------------------------------------------------


def test_a_manager_link_expires_after_14_days(world, client, auth, outbox, opportunity):
    apply_as(client, auth, world.council_staff, opportunity, **apply_form(world))
    application = the_application(world.council_staff)
    application.manager_link_sent_at = utcnow() - timedelta(days=14, minutes=1)
    db.session.commit()
    auth.logout()
    response = client.get(manager_link(outbox))
    html = response.get_data(as_text=True)
    assert response.status_code == 410
    assert "This link has expired" in html and STATEMENT not in html


def test_a_manager_link_cannot_be_altered_or_pointed_at_another_application(
        world, client, auth, outbox, opportunity):
    apply_as(client, auth, world.council_staff, opportunity, **apply_form(world))
    link = manager_link(outbox)
    apply_as(client, auth, world.cvs_staff, make_opportunity(world.icb, world.icb_admin),
             **apply_form(world, organisation_id=str(world.cvs.id),
                          manager_email="mo@cvs.example.org",
                          statement="Another person's secret statement"))
    auth.logout()
    token = link.rsplit("/", 1)[1]
    tampered = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    for bad in (tampered, "nonsense", token.replace(".", "x", 1)):
        response = client.get(f"/opportunities/manager/{bad}")
        assert response.status_code == 404
        assert "not valid" in response.get_data(as_text=True)
    # A validly signed link for one application with another's secret does not open it.
    from partnerships.opportunities import applications as rules
    with world.app.test_request_context():
        other = db.session.scalar(select(Application).where(
            Application.applicant_id == world.cvs_staff.id))
        forged = rules.manager_link_serializer().dumps({"a": other.id, "k": "guess"})
    response = client.get(f"/opportunities/manager/{forged}")
    assert response.status_code == 410
    assert "secret statement" not in response.get_data(as_text=True)
    # The real link still shows only its own application.
    html = client.get(link).get_data(as_text=True)
    assert STATEMENT in html and "secret statement" not in html


def test_declining_needs_a_comment_and_the_host_never_sees_it(
        world, client, auth, outbox, opportunity):
    apply_as(client, auth, world.council_staff, opportunity, **apply_form(world))
    auth.logout()
    link = manager_link(outbox)
    response = client.submit(link, {"decision": "decline", "comment": ""})
    assert response.status_code == 422
    assert "Say why you are declining" in response.get_data(as_text=True)
    assert the_application(world.council_staff).manager_decision is ManagerDecision.PENDING
    response = client.submit(link, {"decision": "decline", "comment": "Too busy this winter."})
    assert response.status_code == 303
    application = the_application(world.council_staff)
    assert application.manager_decision is ManagerDecision.DECLINED
    assert "declined" in outbox(world.council_staff.email)[-1].subject
    assert outbox("contact@cvs.example.org") == []
    auth.login(world.cvs_admin)
    assert client.get(f"/applications/{application.id}/").status_code == 404
    auth.login(world.council_staff)
    assert "Line manager declined" in client.get(
        f"/applications/{application.id}/").get_data(as_text=True)


def test_a_reminder_at_most_every_3_days_with_a_new_link(world, client, auth, outbox,
                                                         opportunity):
    apply_as(client, auth, world.council_staff, opportunity, **apply_form(world))
    application = the_application(world.council_staff)
    url = f"/applications/{application.id}/"
    first = manager_link(outbox)
    response = client.submit(f"{url}remind", page=TOKEN_PAGE)
    assert response.status_code == 409
    assert "one reminder every 3 days" in response.get_data(as_text=True)
    assert len(outbox(MANAGER)) == 1

    application.manager_link_sent_at = utcnow() - timedelta(days=3, minutes=1)
    db.session.commit()
    assert "Send your line manager a reminder" in client.get(url).get_data(as_text=True)
    response = client.submit(f"{url}remind", page=url)
    assert response.status_code == 303
    reminder = outbox(MANAGER)[-1]
    assert reminder.subject.startswith("Reminder:")
    second = link_in(reminder)
    assert second != first
    assert the_application(world.council_staff).last_reminder_at is not None
    assert client.submit(f"{url}remind", page=TOKEN_PAGE).status_code == 409

    auth.logout()
    assert client.get(first).status_code == 410  # replaced
    assert client.get(second).status_code == 200
    # Only the applicant can send a reminder.
    auth.login(world.cvs_staff)
    assert client.submit(f"{url}remind", page=TOKEN_PAGE).status_code == 404


def test_withdrawing_kills_the_manager_link(world, client, auth, outbox, opportunity):
    apply_as(client, auth, world.council_staff, opportunity, **apply_form(world))
    application = the_application(world.council_staff)
    url = f"/applications/{application.id}/withdraw"
    assert client.submit(url, {}).status_code == 303
    assert the_application(world.council_staff).status is ApplicationStatus.WITHDRAWN
    auth.logout()
    assert client.get(manager_link(outbox)).status_code == 410


# --- Who sees a statement ------------------------------------------------------------------


def test_statements_are_seen_only_by_the_applicant_the_manager_and_the_host(
        world, client, auth, outbox, opportunity):
    apply_as(client, auth, world.council_staff, opportunity, **apply_form(world))
    application = the_application(world.council_staff)
    auth.logout()
    client.submit(manager_link(outbox), {"decision": "approve"})
    url = f"/applications/{application.id}/"
    assert client.get(url).headers["Location"].startswith(SIGN_IN)
    for person in (world.outsider, world.council_admin, world.icb_admin, world.cvs_staff):
        auth.login(person)
        assert client.get(url).status_code == 404, person.name
        assert STATEMENT not in client.get(
            f"/opportunities/{opportunity.id}/").get_data(as_text=True)
    for person in (world.council_staff, world.cvs_admin, world.site_admin):
        auth.login(person)
        assert STATEMENT in client.get(url).get_data(as_text=True), person.name
    auth.logout()
    assert STATEMENT not in client.get(f"/opportunities/{opportunity.id}/").get_data(
        as_text=True)


# --- The host's decisions ------------------------------------------------------------------


def _approved(world: World, opportunity: Opportunity, user: Any, org: Any) -> Application:
    application = Application(opportunity_id=opportunity.id, applicant_id=user.id,
                              organisation_id=org.id, statement=f"Statement by {user.name}",
                              availability="Any time",
                              manager_decision=ManagerDecision.APPROVED)
    db.session.add(application)
    db.session.commit()
    return application


def test_host_decisions_shortlist_then_decline_with_a_message(world, client, auth, outbox,
                                                              opportunity):
    application = _approved(world, opportunity, world.council_staff, world.council)
    url = f"/applications/{application.id}/"
    auth.login(world.cvs_admin)
    response = client.submit(f"{url}decision", {"decision": "shortlist"}, page=url)
    assert response.status_code == 303
    assert the_application(world.council_staff).status is ApplicationStatus.SHORTLISTED
    assert "shortlist" in outbox(world.council_staff.email)[-1].subject

    response = client.submit(f"{url}decision", {"decision": "decline", "message": ""}, page=url)
    assert response.status_code == 422
    assert "Tell the applicant why" in response.get_data(as_text=True)
    assert the_application(world.council_staff).status is ApplicationStatus.SHORTLISTED
    response = client.submit(f"{url}decision",
                             {"decision": "decline", "message": "We chose someone local."},
                             page=url)
    assert response.status_code == 303
    application = the_application(world.council_staff)
    assert application.status is ApplicationStatus.DECLINED
    assert application.host_message == "We chose someone local."
    assert "We chose someone local." in outbox(world.council_staff.email)[-1].body
    response = client.submit(f"{url}decision", {"decision": "accept"}, page=TOKEN_PAGE)
    assert response.status_code == 409
    assert the_application(world.council_staff).placement is None


def test_only_the_host_decides(world, client, auth, opportunity):
    application = _approved(world, opportunity, world.council_staff, world.council)
    url = f"/applications/{application.id}/decision"
    assert client.submit(url, {"decision": "accept"}, page=SIGN_IN).headers[
        "Location"].startswith(SIGN_IN)
    auth.login(world.council_staff)  # the applicant sees the page but cannot decide
    assert client.submit(url, {"decision": "accept"}, page=TOKEN_PAGE).status_code == 403
    auth.login(world.icb_admin)
    assert client.submit(url, {"decision": "accept"}, page=TOKEN_PAGE).status_code == 404
    assert the_application(world.council_staff).status is ApplicationStatus.SUBMITTED


def test_when_places_run_out_applications_go_on_the_reserve_list_and_withdrawing_frees_one(
        world, client, auth, outbox, make_user):
    opportunity = make_opportunity(world.cvs, world.cvs_admin, places=1,
                                   contact_email="contact@cvs.example.org")
    first = _approved(world, opportunity, world.council_staff, world.council)
    second_person = make_user("Rita Reserve", "rita@icb.example.org")
    second = _approved(world, opportunity, second_person, world.council)
    auth.login(world.cvs_admin)
    client.submit(f"/applications/{first.id}/decision", {"decision": "accept"},
                  page=f"/applications/{first.id}/")
    db.session.refresh(opportunity)
    assert opportunity.is_filled
    assert "Filled: reserve list open" in client.get(
        f"/opportunities/{opportunity.id}/").get_data(as_text=True)

    response = client.submit(f"/applications/{second.id}/decision", {"decision": "accept"},
                             page=f"/applications/{second.id}/")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "There are no places left, so Rita Reserve is on the reserve list" in page
    db.session.expire_all()
    assert second.status is ApplicationStatus.RESERVE and second.placement is None
    assert opportunity.places_taken == 1
    assert count(Placement) == 1

    # Someone new applying now goes straight on the reserve list.
    auth.login(world.icb_admin)
    response = client.submit(f"/opportunities/{opportunity.id}/apply", {
        "organisation_id": str(world.icb.id), "statement": "Me too", "availability": "Now",
        "manager_name": "Boss", "manager_email": "boss@icb.example.org"})
    assert response.status_code == 303
    late = the_application(world.icb_admin)
    assert late.status is ApplicationStatus.RESERVE

    # The accepted applicant withdraws: the place is free again and the host is told.
    auth.login(world.council_staff)
    assert client.submit(f"/applications/{first.id}/withdraw", {}).status_code == 303
    db.session.expire_all()
    assert first.status is ApplicationStatus.WITHDRAWN
    assert first.placement.status is PlacementStatus.CANCELLED
    assert opportunity.places_taken == 0
    assert "free again" in outbox("contact@cvs.example.org")[-1].body

    auth.login(world.cvs_admin)
    client.submit(f"/applications/{second.id}/decision", {"decision": "accept"},
                  page=f"/applications/{second.id}/")
    db.session.expire_all()
    assert second.status is ApplicationStatus.ACCEPTED and opportunity.places_taken == 1


def test_applying_again_after_withdrawing_reuses_the_application(world, client, auth,
                                                                 opportunity):
    apply_as(client, auth, world.council_staff, opportunity, **apply_form(world))
    application = the_application(world.council_staff)
    client.submit(f"/applications/{application.id}/withdraw", {})
    response = client.submit(f"/opportunities/{opportunity.id}/apply",
                             apply_form(world, statement="Second try"))
    assert response.status_code == 303
    again = the_application(world.council_staff)
    assert again.id == application.id and again.statement == "Second try"
    assert again.status is ApplicationStatus.SUBMITTED
    assert again.manager_decision is ManagerDecision.PENDING



def test_accepted_withdrawn_then_applying_again_can_be_accepted_with_a_new_placement(
        world, client, auth):
    """The first placement (cancelled when they withdrew) does not block the second: the
    new application starts with no placement, and accepting it agrees a fresh one."""
    opportunity = make_opportunity(world.cvs, world.cvs_admin, places=1)
    application = _approved(world, opportunity, world.council_staff, world.council)
    decide = f"/applications/{application.id}/decision"
    auth.login(world.cvs_admin)
    assert client.submit(decide, {"decision": "accept"},
                         page=f"/applications/{application.id}/").status_code == 303
    auth.login(world.council_staff)
    assert client.submit(f"/applications/{application.id}/withdraw", {}).status_code == 303
    assert client.submit(f"/opportunities/{opportunity.id}/apply", apply_form(
        world, statement="Back again")).status_code == 303
    db.session.expire_all()
    again = the_application(world.council_staff)
    assert again.placement is None
    again.manager_decision = ManagerDecision.APPROVED  # as their manager's link would
    db.session.commit()
    auth.login(world.cvs_admin)
    assert client.submit(decide, {"decision": "accept"},
                         page=f"/applications/{application.id}/").status_code == 303
    db.session.expire_all()
    again = the_application(world.council_staff)
    assert again.status is ApplicationStatus.ACCEPTED
    assert again.placement is not None and again.placement.status is PlacementStatus.AGREED
    assert count(Placement) == 1
    db.session.refresh(opportunity)
    assert opportunity.places_taken == 1


# --- My applications ----------------------------------------------------------------------


def test_my_applications_lists_mine_within_budget(world, client, auth, count_queries):
    for i in range(12):
        opportunity = make_opportunity(world.icb, world.icb_admin, title=f"Opportunity {i}")
        _approved(world, opportunity, world.council_staff, world.council)
    other = make_opportunity(world.icb, world.icb_admin, title="Someone else's")
    _approved(world, other, world.cvs_staff, world.cvs)
    assert client.get("/my/applications").headers["Location"].startswith(SIGN_IN)
    auth.login(world.council_staff)
    with count_queries() as log:
        html = client.get("/my/applications").get_data(as_text=True)
    assert log.count <= 4, log.statements
    assert "Opportunity 11" in html and "Someone else&#39;s" not in html


def test_the_hosts_list_of_applications_within_budget(world, client, auth, count_queries,
                                                      make_user):
    opportunity = make_opportunity(world.cvs, world.cvs_admin, places=5)
    for i in range(20):
        person = make_user(f"Applicant {i}")
        _approved(world, opportunity, person, world.council)
    auth.login(world.cvs_admin)
    with count_queries() as log:
        html = client.get(f"/opportunities/{opportunity.id}/applications").get_data(
            as_text=True)
    assert log.count <= 6, log.statements
    assert "Applicant 19" in html


def test_accepting_trusts_the_database_not_a_stale_count_in_memory(world, app):
    """What PostgreSQL's concurrent transactions would see: this request read the count
    before another host took the last place. The conditional UPDATE still refuses."""
    from sqlalchemy import update

    from partnerships.opportunities import applications as rules

    opportunity = make_opportunity(world.cvs, world.cvs_admin, places=1)
    application = _approved(world, opportunity, world.council_staff, world.council)
    with app.test_request_context():
        assert opportunity.places_taken == 0  # loaded before the other host acted
        with db.engine.begin() as other_connection:
            other_connection.execute(update(Opportunity).where(
                Opportunity.id == opportunity.id).values(places_taken=1))
        outcome = rules.decide(world.cvs_admin, application, "accept", "")
        db.session.commit()
    assert outcome == "reserve"
    db.session.expire_all()
    assert application.status is ApplicationStatus.RESERVE and application.placement is None
    assert opportunity.places_taken == 1 and count(Placement) == 0
