"""Issue 15: once a placement is agreed the participant sees what happens next and who
acts (named people, organisations and dates); from the agreed start date either side
marks it started (it does not start by itself, and the page says so); the participant
then records a reflection, and nobody else can record theirs."""

from __future__ import annotations

import re
from datetime import timedelta

from partnerships.extensions import db
from partnerships.opportunities.models import PlacementStatus, ReflectionRole
from partnerships.opportunities.placements import long_day
from partnerships.timeutil import today_uk
from tests.test_opportunities import TOKEN_PAGE
from tests.test_opportunities_placements import CHECKLIST, accepted_placement


def _text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def _agreed(world, starts_in: int = 0, checklist: bool = True):
    placement = accepted_placement(world, starts_on=today_uk() + timedelta(days=starts_in))
    if checklist:
        for name in CHECKLIST:
            setattr(placement, name, True)
    db.session.commit()
    return placement


def test_the_participant_sees_what_happens_next_and_who_acts(world, client, auth):
    start = today_uk() + timedelta(days=12)
    placement = _agreed(world, starts_in=12, checklist=False)
    auth.login(world.council_staff)
    page = _text(client.get(f"/placements/{placement.id}/"))
    steps = page.split("What happens next", 1)[1].split("Participant", 1)[0]
    assert "Hannah Host at Northbridge CVS" in steps
    assert "confidentiality, expenses, insurance, data access and supervision" in steps
    assert (f"It does not start by itself: from {long_day(start)}, you or Hannah Host at "
            "Northbridge CVS can mark it started on this page") in steps
    assert "If it does not go ahead, the host cancels it." in steps
    assert "you record your reflection" in steps
    assert re.search(r"from (Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday) ",
                     steps)

    application = _text(client.get(f"/applications/{placement.application_id}/"))
    assert "What happens next" in application
    assert f"from {long_day(start)}, you or Hannah Host at Northbridge CVS" in application


def test_the_host_reads_the_participant_named(world, client, auth):
    placement = _agreed(world, starts_in=3)
    auth.login(world.cvs_admin)
    steps = _text(client.get(f"/placements/{placement.id}/")).split("What happens next", 1)[1]
    assert "you or Sam Staff can mark it started" in steps
    assert "cancel it with a reason" in steps


def test_the_participant_marks_it_started_on_the_day_and_the_host_is_told(
    world, client, auth, outbox
):
    placement = _agreed(world)
    base = f"/placements/{placement.id}/"
    auth.login(world.council_staff)
    page = client.get(base)
    assert "A placement does not start by itself" in _text(page)
    assert client.submit(f"{base}start", page=base).status_code == 303
    db.session.expire_all()
    assert placement.status is PlacementStatus.IN_PROGRESS
    assert placement.started_by_id == world.council_staff.id
    told = outbox("hannah@host.example.org")
    assert [m.subject for m in told][-1].startswith("Placement started")
    page = _text(client.get(base))
    assert f"It started on {long_day(today_uk())} (marked by Sam Staff)." in page
    assert "Record your reflection" in page


def test_the_host_can_mark_it_started_too(world, client, auth, outbox):
    placement = _agreed(world, starts_in=-3)
    base = f"/placements/{placement.id}/"
    auth.login(world.cvs_admin)
    assert client.submit(f"{base}start", page=base).status_code == 303
    db.session.expire_all()
    assert placement.status is PlacementStatus.IN_PROGRESS
    assert placement.started_by_id == world.cvs_admin.id
    assert outbox(world.council_staff.email)[-1].subject.startswith("Placement started")


def test_it_cannot_be_started_before_the_agreed_start_date(world, client, auth):
    placement = _agreed(world, starts_in=1)
    base = f"/placements/{placement.id}/"
    auth.login(world.council_staff)
    page = _text(client.get(base))
    when = long_day(today_uk() + timedelta(days=1))
    assert f"can be marked started from its agreed start date, {when}" in page
    refused = client.submit(f"{base}start", page=TOKEN_PAGE)
    assert refused.status_code == 409
    assert f"from its agreed start date, {when}" in _text(refused)
    db.session.expire_all()
    assert placement.status is PlacementStatus.AGREED and placement.started_at is None


def test_it_cannot_be_started_until_the_checklist_is_agreed(world, client, auth):
    placement = _agreed(world, checklist=False)
    auth.login(world.council_staff)
    refused = client.submit(f"/placements/{placement.id}/start", page=TOKEN_PAGE)
    assert refused.status_code == 409
    assert "Agree everything on the checklist first" in _text(refused)


def test_nobody_else_may_mark_it_started(world, client, auth):
    placement = _agreed(world)
    url = f"/placements/{placement.id}/start"
    # The participant of another placement (with the ICB), an admin of another
    # organisation, an admin of the participant's own organisation, someone with none.
    other = accepted_placement(world, host=world.icb, applicant=world.cvs_staff,
                               home=world.cvs, starts_on=today_uk())
    for person in (world.cvs_staff, world.icb_admin, world.council_admin, world.outsider):
        auth.login(person)
        assert client.submit(url, page=TOKEN_PAGE).status_code == 404, person.name
    auth.logout()
    assert client.post(url).status_code in (302, 303, 400, 401)
    db.session.expire_all()
    assert placement.status is PlacementStatus.AGREED and other.status is PlacementStatus.AGREED


def test_starting_twice_is_a_clear_conflict(world, client, auth):
    placement = _agreed(world)
    base = f"/placements/{placement.id}/"
    auth.login(world.council_staff)
    assert client.submit(f"{base}start", page=base).status_code == 303
    auth.login(world.cvs_admin)
    again = client.submit(f"{base}start", page=TOKEN_PAGE)
    assert again.status_code == 409
    assert "already started" in _text(again)


def test_the_participant_reflects_once_started_and_not_before(world, client, auth):
    placement = _agreed(world, starts_in=2)
    reflection = f"/placements/{placement.id}/reflection"
    auth.login(world.council_staff)
    assert client.get(reflection).status_code == 409
    before = client.submit(reflection, {"learned": "x", "changes": "y",
                                        "would_recommend": "yes"}, page=TOKEN_PAGE)
    assert before.status_code == 409

    placement.starts_on = today_uk()
    db.session.commit()
    assert client.submit(f"/placements/{placement.id}/start",
                         page=f"/placements/{placement.id}/").status_code == 303
    bad = client.submit(reflection, {"learned": "How grants work", "changes": "",
                                     "would_recommend": ""})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "Say what changes as a result" in html and "How grants work" in html
    done = client.submit(reflection, {"learned": "How grants work",
                                      "changes": "We will bid together.",
                                      "would_recommend": "yes"})
    assert done.status_code == 303
    db.session.expire_all()
    [mine] = placement.reflections
    assert mine.role is ReflectionRole.PARTICIPANT and mine.author_id == world.council_staff.id


def test_nobody_else_records_the_participants_reflection(world, client, auth):
    placement = _agreed(world)
    placement.status = PlacementStatus.IN_PROGRESS
    db.session.commit()
    reflection = f"/placements/{placement.id}/reflection"
    for person in (world.cvs_staff, world.icb_admin, world.council_admin):
        auth.login(person)
        assert client.get(reflection).status_code == 404, person.name
        assert client.submit(reflection, {"learned": "x", "changes": "y",
                                          "would_recommend": "yes"},
                             page=TOKEN_PAGE).status_code == 404
    # The host records the host's reflection, never the participant's.
    auth.login(world.cvs_admin)
    assert client.submit(reflection, {"learned": "x", "changes": "y",
                                      "would_recommend": "no"}).status_code == 303
    db.session.expire_all()
    assert [r.role for r in placement.reflections] == [ReflectionRole.HOST]
