"""Places coming free: the host cancels a placement with a reason (kept, never deleted;
the place frees; the participant is told), and whenever a place frees (the host
cancels, or an accepted applicant withdraws) the reserve list is emailed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from partnerships.accounts.models import User
from partnerships.audit import AuditEvent
from partnerships.extensions import db
from partnerships.opportunities import placements as rules
from partnerships.opportunities.models import (
    Application,
    ApplicationStatus,
    ManagerDecision,
    Opportunity,
    Placement,
    PlacementStatus,
)
from partnerships.organisations.models import Sector
from tests.conftest import link_in
from tests.test_opportunities import SIGN_IN, TOKEN_PAGE, World
from tests.test_opportunities_placements import accepted_placement

REASON = "Our team is being restructured and nobody can supervise you."


@pytest.fixture
def reserve(world: World, make_user: Any) -> Any:
    """Three more people for the same opportunity, on its reserve list: one approved by
    their manager, one still waiting for theirs, one whose manager declined."""

    def add(placement: Placement) -> dict[str, Application]:
        people = {}
        for key, decision in (("approved", ManagerDecision.APPROVED),
                              ("pending", ManagerDecision.PENDING),
                              ("declined", ManagerDecision.DECLINED)):
            person = make_user(f"Reserve {key.title()}", f"{key}@icb.example.org")
            application = Application(
                opportunity_id=placement.application.opportunity_id,
                applicant_id=person.id, organisation_id=world.icb.id, statement="s",
                availability="a", manager_name="M", manager_email=f"m.{key}@icb.example.org",
                manager_decision=decision, status=ApplicationStatus.RESERVE)
            db.session.add(application)
            people[key] = application
        db.session.commit()
        return people

    return add


def _cancel_url(placement: Placement) -> str:
    return f"/placements/{placement.id}/cancel"


def _opportunity(placement: Placement) -> Opportunity:
    db.session.expire_all()
    opportunity = db.session.get(Opportunity, placement.application.opportunity_id)
    assert opportunity is not None
    return opportunity


# --- The host cancels ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [PlacementStatus.AGREED, PlacementStatus.IN_PROGRESS])
def test_the_host_cancels_with_a_reason_and_the_place_frees(world, client, auth, outbox,
                                                            reserve, status):
    placement = accepted_placement(world, status=status)
    waiting = reserve(placement)
    base = f"/placements/{placement.id}/"
    auth.login(world.cvs_admin)
    html = client.get(base).get_data(as_text=True)
    assert f'href="{_cancel_url(placement)}"' in html
    page = client.get(_cancel_url(placement))
    assert page.status_code == 200
    response = client.submit(_cancel_url(placement), {"reason": REASON})
    assert response.status_code == 303 and response.headers["Location"] == base

    # Kept, marked cancelled with the reason; the application is no longer accepted.
    opportunity = _opportunity(placement)
    placement = db.session.get(Placement, placement.id)
    assert placement is not None
    assert placement.status is PlacementStatus.CANCELLED
    assert placement.cancelled_reason == REASON and placement.cancelled_at is not None
    application = placement.application
    assert application.status is ApplicationStatus.DECLINED
    assert REASON in application.host_message
    assert application.decided_by_id == world.cvs_admin.id
    assert opportunity.places_taken == 0 and not opportunity.is_filled

    # Audited.
    [event] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "placement.cancelled"))
    assert (event.actor_id, event.subject_type, event.subject_id) == (
        world.cvs_admin.id, "placement", placement.id)
    assert event.reason == REASON and event.details["was"] == status.value
    assert event.details["reserve_told"] == 2

    # The participant is told why, with a link to the placement.
    [email] = outbox(world.council_staff.email)
    assert email.subject == f"Placement cancelled: {opportunity.title}"
    assert REASON in email.body and link_in(email) == base

    # The reserve list (not those whose manager declined) hears a place is free.
    for key in ("approved", "pending"):
        [told] = outbox(f"{key}@icb.example.org")
        assert told.subject == f"A place has come free: {opportunity.title}"
        assert link_in(told) == f"/applications/{waiting[key].id}/"
        assert "decides whom to offer the place to" in told.body
        assert ("line manager has not approved" in told.body) is (key == "pending")
    assert outbox("declined@icb.example.org") == []

    # Both sides see it cancelled, with the reason; there is nothing left to cancel.
    html = client.get(base).get_data(as_text=True)
    assert "The host cancelled this placement" in html and REASON in html
    assert f'href="{_cancel_url(placement)}"' not in html
    assert "Change the dates and objectives" not in html
    assert "We have emailed the participant and the 2 people on the reserve list" in html
    auth.login(world.council_staff)
    html = client.get(base).get_data(as_text=True)
    assert "Cancelled" in html and REASON in html
    assert "Placement cancelled" in client.get("/my/applications").get_data(as_text=True)


def test_after_cancelling_the_host_can_offer_the_place_to_someone_on_the_reserve_list(
        world, client, auth, reserve):
    placement = accepted_placement(world)
    waiting = reserve(placement)
    auth.login(world.cvs_admin)
    client.submit(_cancel_url(placement), {"reason": REASON})
    url = f"/applications/{waiting['approved'].id}/"
    assert client.submit(f"{url}decision", {"decision": "accept"}, page=url).status_code == 303
    db.session.expire_all()
    assert waiting["approved"].status is ApplicationStatus.ACCEPTED
    assert waiting["approved"].placement is not None
    assert _opportunity(placement).places_taken == 1


def test_a_cancelled_placement_does_not_count_in_the_figures(world, client, auth):
    placement = accepted_placement(world, status=PlacementStatus.IN_PROGRESS,
                                   partnership_id=world.partnership.id)
    auth.login(world.cvs_admin)
    client.submit(_cancel_url(placement), {"reason": REASON})
    counts, other = rules.direction_counts()
    assert sum(counts.values()) == 0 and other == 0
    counts, other = rules.direction_counts(world.partnership.id)
    assert counts[rules.Direction(Sector.PUBLIC, Sector.VCSE)] == 0
    # Nor can it be completed or reflected on afterwards.
    base = f"/placements/{placement.id}/"
    assert client.submit(f"{base}complete", page=TOKEN_PAGE).status_code == 409
    assert client.get(f"{base}reflection").status_code == 409


def test_the_participant_cannot_withdraw_a_placement_the_host_cancelled(world, client, auth):
    placement = accepted_placement(world)
    auth.login(world.cvs_admin)
    client.submit(_cancel_url(placement), {"reason": REASON})
    auth.login(world.council_staff)
    url = f"/applications/{placement.application_id}/withdraw"
    assert client.submit(url, {}, page=TOKEN_PAGE).status_code == 409
    assert _opportunity(placement).places_taken == 0  # not freed twice


def test_a_cancellation_without_a_reason_changes_nothing(world, client, auth, outbox,
                                                         reserve):
    placement = accepted_placement(world)
    reserve(placement)
    auth.login(world.cvs_admin)
    for reason in ("", "   ", "x" * (rules.CANCEL_REASON_MAX + 1)):
        response = client.submit(_cancel_url(placement), {"reason": reason})
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "govuk-error-summary" in html
        assert ("Say why you are cancelling the placement" in html
                or "Reason must be 2000 characters or fewer" in html)
    opportunity = _opportunity(placement)
    placement = db.session.get(Placement, placement.id)
    assert placement.status is PlacementStatus.AGREED and placement.cancelled_at is None
    assert placement.application.status is ApplicationStatus.ACCEPTED
    assert opportunity.places_taken == 1
    assert outbox() == []
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "placement.cancelled")) is None


def test_a_long_reason_is_kept_in_the_form(world, client, auth):
    placement = accepted_placement(world)
    auth.login(world.cvs_admin)
    typed = "Typed with care. " + "x" * rules.CANCEL_REASON_MAX
    response = client.submit(_cancel_url(placement), {"reason": typed})
    assert response.status_code == 422
    assert typed in response.get_data(as_text=True)


@pytest.mark.parametrize("status", [PlacementStatus.COMPLETED, PlacementStatus.CANCELLED])
def test_a_completed_or_cancelled_placement_cannot_be_cancelled(world, client, auth, status):
    placement = accepted_placement(world, status=status)
    auth.login(world.cvs_admin)
    assert client.get(_cancel_url(placement)).status_code == 409
    response = client.submit(_cancel_url(placement), {"reason": REASON}, page=TOKEN_PAGE)
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(Placement, placement.id).status is status
    assert "Cancel the placement" not in client.get(
        f"/placements/{placement.id}/").get_data(as_text=True)


def test_only_the_host_may_cancel(world, client, auth, outbox):
    placement = accepted_placement(world)
    url = _cancel_url(placement)
    assert client.get(url).headers["Location"].startswith(SIGN_IN)
    response = client.submit(url, {"reason": REASON}, page=SIGN_IN)
    assert response.headers["Location"].startswith(SIGN_IN)
    # The participant sees the placement but may not cancel it.
    auth.login(world.council_staff)
    assert client.get(url).status_code == 403
    assert client.submit(url, {"reason": REASON}, page=TOKEN_PAGE).status_code == 403
    assert "Cancel the placement" not in client.get(
        f"/placements/{placement.id}/").get_data(as_text=True)
    # Anyone else does not even learn that it exists.
    for person in (world.outsider, world.cvs_staff, world.council_admin, world.icb_admin):
        auth.login(person)
        assert client.get(url).status_code == 404, person.name
        assert client.submit(url, {"reason": REASON},
                             page=TOKEN_PAGE).status_code == 404, person.name
    db.session.expire_all()
    assert db.session.get(Placement, placement.id).status is PlacementStatus.AGREED
    assert outbox() == []


# --- The reserve list when an accepted applicant withdraws -----------------------------------


def test_the_reserve_list_hears_when_an_accepted_applicant_withdraws(world, client, auth,
                                                                     outbox, reserve):
    placement = accepted_placement(world)
    waiting = reserve(placement)
    auth.login(world.council_staff)
    url = f"/applications/{placement.application_id}/withdraw"
    assert client.submit(url, {}, page=TOKEN_PAGE).status_code == 303
    opportunity = _opportunity(placement)
    assert opportunity.places_taken == 0
    # The host is told, as before, and so is the reserve list (one email each).
    assert "free again" in outbox("hannah@host.example.org")[-1].body
    for key in ("approved", "pending"):
        [told] = outbox(f"{key}@icb.example.org")
        assert told.subject == f"A place has come free: {opportunity.title}"
        assert link_in(told) == f"/applications/{waiting[key].id}/"
    assert outbox("declined@icb.example.org") == []
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "application.withdrawn"))
    assert event.details["reserve_told"] == 2


def test_no_place_frees_when_someone_not_yet_accepted_withdraws(world, client, auth, outbox,
                                                                reserve):
    placement = accepted_placement(world)
    waiting = reserve(placement)
    auth.login(db.session.get(User, waiting["approved"].applicant_id))
    url = f"/applications/{waiting['approved'].id}/withdraw"
    assert client.submit(url, {}, page=TOKEN_PAGE).status_code == 303
    assert _opportunity(placement).places_taken == 1
    assert [m for m in outbox() if "come free" in m.subject] == []
