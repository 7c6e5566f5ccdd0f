"""Emails when a placement's plan, checklist or a reflection changes: the other side is
told (the participant's changes go to the host's contacts, the host's to the
participant), with a link to the placement; one email per save, none when nothing
changed or the save was refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from partnerships.extensions import db
from partnerships.opportunities.models import Placement, PlacementStatus
from partnerships.timeutil import today_uk
from tests.conftest import link_in
from tests.test_opportunities import World, date_parts
from tests.test_opportunities_placements import CHECKLIST, accepted_placement

HOST_CONTACT = "hannah@host.example.org"  # make_opportunity's contact


@pytest.fixture
def placement(world: World) -> Placement:
    """The CVS hosts Sam from the council; the CVS admin posted it (so is a contact too)."""
    placement = accepted_placement(world)
    placement.application.opportunity.posted_by_id = world.cvs_admin.id
    db.session.commit()
    return placement


def _plan(**overrides: Any) -> dict[str, Any]:
    start = today_uk() + timedelta(days=30)
    data: dict[str, Any] = {
        "starts_on": date_parts(start), "ends_on": date_parts(start + timedelta(days=60)),
        "objective_1": "Learn how grants are decided", "objective_2": "Map referral routes",
        "objective_3": "", "objective_4": "", "objective_5": ""}
    data.update(overrides)
    return data


def _subjects(outbox: Any, to: str) -> list[str]:
    return [m.subject for m in outbox(to)]


def test_the_participant_changes_the_plan_and_the_host_contacts_get_one_email_each(
        world, client, auth, outbox, placement):
    auth.login(world.council_staff)
    response = client.submit(f"/placements/{placement.id}/plan", _plan())
    assert response.status_code == 303
    title = placement.application.opportunity.title
    for email in (HOST_CONTACT, world.cvs_admin.email):
        [message] = outbox(email)
        assert message.subject == f"Placement plan changed: {title}"
        assert link_in(message) == f"/placements/{placement.id}/"
        assert "Sam Staff (the participant)" in message.body
        assert "1. Learn how grants are decided" in message.body
        assert "2. Map referral routes" in message.body
    assert outbox(world.council_staff.email) == []
    assert len(outbox()) == 2  # dates and two objectives changed: still one email each


def test_the_host_changes_the_plan_and_the_participant_gets_one_email(
        world, client, auth, outbox, placement):
    auth.login(world.cvs_admin)
    assert client.submit(f"/placements/{placement.id}/plan", _plan()).status_code == 303
    [message] = outbox(world.council_staff.email)
    assert message.subject.startswith("Placement plan changed")
    assert "Cyril CVS Admin (Northbridge CVS)" in message.body
    assert link_in(message) == f"/placements/{placement.id}/"
    assert len(outbox()) == 1  # the host who saved it is not emailed


def test_saving_the_same_plan_again_sends_nothing(world, client, auth, outbox, placement):
    auth.login(world.council_staff)
    client.submit(f"/placements/{placement.id}/plan", _plan())
    sent = len(outbox())
    assert client.submit(f"/placements/{placement.id}/plan", _plan()).status_code == 303
    assert len(outbox()) == sent
    client.submit(f"/placements/{placement.id}/plan", _plan(objective_2=""))
    assert len(outbox()) == sent + 2


def test_a_refused_plan_sends_nothing(world, client, auth, outbox, placement):
    auth.login(world.council_staff)
    response = client.submit(f"/placements/{placement.id}/plan", _plan(
        ends_on=date_parts(today_uk())))
    assert response.status_code == 422
    assert outbox() == []


def test_checklist_changes_go_to_the_other_side_once_per_save(world, client, auth, outbox,
                                                              placement):
    base = f"/placements/{placement.id}/"
    auth.login(world.council_staff)
    assert client.submit(f"{base}checklist", {"agreed": CHECKLIST[:3]},
                         page=base).status_code == 303
    [message] = outbox(HOST_CONTACT)
    assert message.subject.startswith("Placement checklist updated")
    assert "- Confidentiality: agreed" in message.body
    assert "- Supervision: not agreed yet" in message.body
    assert link_in(message) == base
    assert outbox(world.council_staff.email) == []

    auth.login(world.cvs_admin)
    client.submit(f"{base}checklist", {"agreed": CHECKLIST}, page=base)
    [message] = outbox(world.council_staff.email)
    assert "- Supervision: agreed" in message.body
    # Saving the same ticks again tells nobody.
    sent = len(outbox())
    client.submit(f"{base}checklist", {"agreed": CHECKLIST}, page=base)
    assert len(outbox()) == sent


def test_reflections_are_announced_to_the_other_side(world, client, auth, outbox, placement):
    placement.status = PlacementStatus.IN_PROGRESS
    db.session.commit()
    url = f"/placements/{placement.id}/reflection"
    words = {"learned": "How grants work", "changes": "Co-design", "would_recommend": "yes"}
    auth.login(world.council_staff)
    assert client.submit(url, words).status_code == 303
    assert [s.split(":")[0] for s in _subjects(outbox, HOST_CONTACT)] == [
        "Reflection recorded"]
    assert link_in(outbox(HOST_CONTACT)[0]) == f"/placements/{placement.id}/"
    assert "How grants work" not in outbox(HOST_CONTACT)[0].body  # read it on the page
    client.submit(url, words)  # the same again: nothing new to tell
    assert len(outbox(HOST_CONTACT)) == 1

    auth.login(world.cvs_admin)
    assert client.submit(url, {**words, "learned": "How the council works"}).status_code == 303
    assert [s.split(":")[0] for s in _subjects(outbox, world.council_staff.email)] == [
        "Reflection recorded"]
    assert len(outbox(HOST_CONTACT)) == 1
