"""Reviewing MoUs and review reminders: the whole journey from draft to ended; recording
a review outcome (continue with a new date, amend, end) with its permission boundaries
and bad input; ended MoUs staying on the register; the review history; and
`flask reminders send` sending each threshold once (60, 30, 7 days, overdue)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from partnerships.audit import AuditEvent
from partnerships.errors import Conflict
from partnerships.extensions import db
from partnerships.mous import reviews, services
from partnerships.mous.models import (
    EndKind,
    Mou,
    MouReminder,
    MouStatus,
    ReminderThreshold,
    VersionStatus,
)
from partnerships.organisations.models import MemberRole, OrganisationMember, RequestStatus
from partnerships.timeutil import today_uk
from tests.test_mous import (
    SIGN_IN,
    World,
    _count,
    _date,
    _draft,
    _form,
    _fresh,
    _in_force,
    _sign,
    _to_signing,
    _version,
    make_world,
)

TODAY = today_uk()


@pytest.fixture
def world(app, make_user, make_organisation, make_partnership) -> World:
    return make_world(app, make_user, make_organisation, make_partnership)


def _review(outcome: str, **fields: Any) -> dict[str, Any]:
    """The review page's form for one outcome (its fields carry the outcome's prefix)."""
    return {"outcome": outcome, **{f"{outcome}-{key}": value for key, value in fields.items()}}


def _events(mou: Mou, action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.subject_id == mou.id, AuditEvent.action == action)
        .order_by(AuditEvent.id)
    ))


# --- The journey ------------------------------------------------------------------------------


def test_journey_draft_comments_signed_published_amended_compared_reviewed_and_ended(
    world, client, auth, outbox
):
    auth.login(world.officer)
    parties = [str(world.council.id), str(world.icb.id), str(world.cvs.id)]
    created = client.submit(f"{world.base}/new", _form(
        world, parties=parties, start_date=_date(TODAY - timedelta(days=30)),
        review_date=_date(TODAY + timedelta(days=300)),
        **{f"role-{world.cvs.id}": "Runs the warm spaces network"},
    ))
    assert created.status_code == 303
    mou = db.session.scalar(select(Mou))
    client.submit(world.url(mou, "clauses"), {
        "clauses-0-text": "Share winter plans by October.",
        "clauses-0-responsible": [str(world.council.id)], "submit": "y"})
    client.submit(world.url(mou, "send-for-comments"))
    auth.login(world.cvs_admin)
    client.submit(world.url(mou, "comments"), {"target": "clause-1",
                                               "clause-1-body": "Add the libraries?"})
    auth.login(world.officer)
    client.submit(world.url(mou, "open-for-signature"))
    for org in world.parties:
        auth.login(world.admin_of(org))
        signed = client.submit(world.url(mou, f"sign/{org.id}"), {
            "version": "1", "name": world.admin_of(org).name, "role": "Director",
            "statement": f"I agree on behalf of {org.name}"})
        assert signed.status_code == 303
    auth.logout()
    assert "Working together on winter pressures" in client.get(
        f"{world.base}/?status=active").get_data(as_text=True)

    # Amend: version 2 changes a clause; version 1 stays in force until all sign.
    auth.login(world.officer)
    client.submit(world.url(mou, "amend"), {"changelog": "Adds the libraries"})
    client.submit(world.url(mou, "clauses"), {
        "clauses-0-text": "Share winter plans with the libraries by September.",
        "clauses-0-responsible": [str(world.council.id)], "submit": "y"})
    client.submit(world.url(mou, "open-for-signature"))
    for org in world.parties:
        auth.login(world.admin_of(org))
        client.submit(world.url(mou, f"sign/{org.id}"), {
            "version": "2", "name": world.admin_of(org).name, "role": "Director",
            "statement": f"I agree on behalf of {org.name}"})
    assert _fresh(mou.id).current_version.number == 2
    assert _version(mou.id, 1).status is VersionStatus.SUPERSEDED

    auth.logout()
    compared = client.get(world.url(mou, "compare?from=1&to=2")).get_data(as_text=True)
    assert "Clause 1: changed" in compared and "with the libraries" in compared

    # Review: continue with a new date, then end it.
    auth.login(world.officer)
    next_review = TODAY + timedelta(days=400)
    continued = client.submit(world.url(mou, "review"), _review(
        "continue", review_date=_date(next_review), note="Still working well."))
    assert continued.status_code == 303
    assert _fresh(mou.id).review_date == next_review
    ended = client.submit(world.url(mou, "review"), _review(
        "end", end_kind="terminated", end_date=_date(TODAY),
        reason="The council's libraries service has been reorganised."))
    assert ended.status_code == 303
    mou = _fresh(mou.id)
    assert mou.status is MouStatus.ENDED and mou.end_kind is EndKind.TERMINATED

    auth.logout()
    register = client.get(f"{world.base}/?status=ended").get_data(as_text=True)
    assert "Working together on winter pressures" in register
    assert "The council&#39;s libraries service has been reorganised." in register
    page = client.get(world.url(mou)).get_data(as_text=True)
    assert "Terminated on" in page and "Continued unchanged." in page
    assert "Still working well." not in page  # review notes are for insiders
    assert any(m.subject.startswith("MoU ended in") for m in outbox(world.icb_admin.email))
    actions = {e.action for e in db.session.scalars(select(AuditEvent))}
    assert {"mou.created", "mou.sent_for_comments", "mou.commented", "mou.signed",
            "mou.in_force", "mou.amendment_started", "mou.reviewed", "mou.ended"} <= actions


# --- Who may record a review ------------------------------------------------------------


def test_the_review_page_sends_anonymous_people_to_sign_in(world, client):
    mou = _in_force(world)
    response = client.get(world.url(mou, "review"))
    assert response.status_code == 302 and SIGN_IN in response.headers["Location"]


@pytest.mark.parametrize("who", ["council_admin", "council_member", "outsider"])
def test_only_officers_and_site_admins_may_record_a_review(world, client, auth, who):
    mou = _in_force(world)
    auth.login(getattr(world, who))
    assert client.get(world.url(mou, "review")).status_code == 403
    refused = client.submit(world.url(mou, "review"), _review(
        "continue", review_date=_date(TODAY + timedelta(days=90))), page="/account/sign-out")
    assert refused.status_code == 403
    assert _fresh(mou.id).review_date == TODAY + timedelta(days=200)


def test_a_site_admin_may_record_a_review(world, client, auth):
    mou = _in_force(world)
    auth.login(world.site_admin)
    page = client.get(world.url(mou, "review"))
    assert page.status_code == 200 and "Record the outcome of a review" in page.get_data(
        as_text=True)


def test_a_draft_or_an_ended_mou_cannot_be_reviewed(world, client, auth):
    draft = _draft(world)
    auth.login(world.officer)
    assert client.get(world.url(draft, "review")).status_code == 409
    mou = _in_force(world)
    with world.request():
        reviews.end(world.officer, mou, EndKind.EXPIRED, TODAY, "Done", TODAY)
        db.session.commit()
    page = client.get(world.url(mou, "review"))
    assert page.status_code == 409
    assert "This MoU has ended" in page.get_data(as_text=True)


# --- Continue unchanged ------------------------------------------------------------------------


def test_continuing_sets_a_new_review_date_and_records_the_review(world, client, auth):
    mou = _in_force(world, review_in=10)
    auth.login(world.officer)
    response = client.submit(world.url(mou, "review"), _review(
        "continue", review_date=_date(date(TODAY.year + 2, 3, 1)),
        note="The parties are happy with it."))
    assert response.status_code == 303
    mou = _fresh(mou.id)
    assert mou.review_date == date(TODAY.year + 2, 3, 1)
    assert mou.current_version.review_date == TODAY + timedelta(days=10)  # signed text kept
    event = _events(mou, "mou.reviewed")[0]
    assert event.details["outcome"] == "continue"
    assert event.details["review_date"] == f"{TODAY.year + 2}-03-01"
    assert event.details["previous_review_date"] == (TODAY + timedelta(days=10)).isoformat()
    assert event.reason == "The parties are happy with it."
    page = client.get(world.url(mou)).get_data(as_text=True)
    assert f"Continued unchanged. Next review: 1 March {TODAY.year + 2}." in page
    assert "What the review found: The parties are happy with it." in page
    signed_review = TODAY + timedelta(days=10)
    assert (f"1 March {TODAY.year + 2} (set at a review; version 1 as signed says "
            f"{signed_review.day} {signed_review:%B %Y})") in page


@pytest.mark.parametrize("review, message", [
    (None, "Enter the date of the next review"),
    (TODAY, "The next review date must be in the future"),
    (TODAY - timedelta(days=1), "The next review date must be in the future"),
    ("nonsense", "The date of the next review must be a real date, like 27 3 2027"),
])
def test_continuing_needs_a_future_review_date(world, client, auth, review, message):
    mou = _in_force(world, review_in=10)
    auth.login(world.officer)
    value = ["31", "2", "2027"] if review == "nonsense" else _date(review)
    response = client.submit(world.url(mou, "review"), _review(
        "continue", review_date=value, note="Typed notes"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html and "There is a problem" in html
    assert "Typed notes" in html  # what was typed is kept
    assert _fresh(mou.id).review_date == TODAY + timedelta(days=10)
    assert _events(mou, "mou.reviewed") == []


def test_the_next_review_cannot_be_after_the_end_date(world, client, auth):
    mou = _in_force(world, review_in=10, end_date=TODAY + timedelta(days=100))
    auth.login(world.officer)
    response = client.submit(world.url(mou, "review"), _review(
        "continue", review_date=_date(TODAY + timedelta(days=101))))
    assert response.status_code == 422
    assert "must be on or before the end date" in response.get_data(as_text=True)


def test_the_review_page_has_a_form_for_each_outcome_and_refuses_an_unknown_one(
    world, client, auth
):
    mou = _in_force(world)
    auth.login(world.officer)
    html = client.get(world.url(mou, "review")).get_data(as_text=True)
    for outcome in ("continue", "amend", "end"):
        assert f'<input type="hidden" name="outcome" value="{outcome}">' in html
    assert 'id="continue-note"' in html and 'id="amend-note"' in html  # ids stay unique
    assert client.submit(world.url(mou, "review"), {"outcome": "pause"}).status_code == 400
    assert client.submit(world.url(mou, "review"), {}).status_code == 400
    # Fields sent for another outcome are ignored.
    response = client.submit(world.url(mou, "review"), {
        **_review("continue", review_date=_date(TODAY + timedelta(days=90))),
        "end-end_date": ["41", "", ""], "end-reason": ""})
    assert response.status_code == 303


def test_a_long_note_is_refused(world, client, auth):
    mou = _in_force(world)
    auth.login(world.officer)
    response = client.submit(world.url(mou, "review"), _review(
        "continue", review_date=_date(TODAY + timedelta(days=90)), note="x" * 1001))
    assert response.status_code == 422
    assert "What the review found must be 1000 characters or fewer" in response.get_data(
        as_text=True)


# --- Amend ------------------------------------------------------------------------------------


def test_amending_starts_a_new_version_and_the_old_one_stays_in_force(world, client, auth):
    mou = _in_force(world, review_in=-3)
    auth.login(world.officer)
    empty = client.submit(world.url(mou, "review"), _review("amend", changelog=""))
    assert empty.status_code == 422
    assert "Say in one line what the new version will change" in empty.get_data(as_text=True)

    response = client.submit(world.url(mou, "review"), _review(
        "amend", changelog="Updates the contacts"))
    assert response.status_code == 303
    mou = _fresh(mou.id)
    assert mou.draft_version.number == 2 and mou.draft_version.changelog == "Updates the contacts"
    assert mou.status is MouStatus.ACTIVE and mou.current_version.number == 1
    event = _events(mou, "mou.reviewed")[0]
    assert (event.details["outcome"], event.details["new_version"]) == ("amend", 2)
    assert _events(mou, "mou.amendment_started")

    again = client.submit(world.url(mou, "review"), _review("amend", changelog="Another"))
    assert again.status_code == 409  # version 2 is already being drafted


# --- End ------------------------------------------------------------------------------------


@pytest.mark.parametrize("data, message", [
    ({"end_kind": "", "end_date": _date(TODAY), "reason": "Done"},
     "Select whether the MoU has expired or is being terminated"),
    ({"end_kind": "expired", "end_date": _date(None), "reason": "Done"},
     "Enter the date the MoU ended"),
    ({"end_kind": "expired", "end_date": _date(TODAY + timedelta(days=1)), "reason": "Done"},
     "The end date must be today or in the past"),
    ({"end_kind": "expired", "end_date": _date(TODAY - timedelta(days=400)), "reason": "Done"},
     "The end date must be on or after the date the MoU started"),
    ({"end_kind": "terminated", "end_date": _date(TODAY), "reason": ""},
     "Enter why the MoU is ending"),
    ({"end_kind": "withdrawn", "end_date": _date(TODAY), "reason": "Done"},
     "Select whether the MoU has expired or is being terminated"),
])
def test_ending_needs_how_when_and_why(world, client, auth, data, message):
    mou = _in_force(world)
    auth.login(world.officer)
    response = client.submit(world.url(mou, "review"), _review("end", **data))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    if data["reason"]:
        assert data["reason"] in html
    assert _fresh(mou.id).status is MouStatus.ACTIVE
    assert _events(mou, "mou.ended") == []


def test_ending_withdraws_a_version_in_progress_and_nothing_can_be_signed_or_amended(
    world, client, auth
):
    mou = _in_force(world)
    with world.request():
        services.start_amendment(world.officer, mou, "Second")
        db.session.commit()
    version = _to_signing(world, _fresh(mou.id))
    _sign(world, version, world.council)

    auth.login(world.officer)
    response = client.submit(world.url(mou, "review"), _review(
        "end", end_kind="expired", end_date=_date(TODAY - timedelta(days=1)),
        reason="Its work is done."))
    assert response.status_code == 303
    mou = _fresh(mou.id)
    assert mou.status is MouStatus.ENDED and mou.draft_version_id is None
    assert mou.end_date == TODAY - timedelta(days=1) and mou.ended_reason == "Its work is done."
    assert _version(mou.id, 2).status is VersionStatus.WITHDRAWN
    assert _version(mou.id, 1).status is VersionStatus.SIGNED  # it stays readable as agreed

    auth.login(world.icb_admin)
    refused = client.submit(world.url(mou, f"sign/{world.icb.id}"), {
        "version": "2", "name": "Ida Icb", "role": "Director",
        "statement": "I agree on behalf of Northbridge ICB"}, page="/account/sign-out")
    assert refused.status_code == 409
    assert "This MoU has ended, so it can no longer be signed." in refused.get_data(
        as_text=True)
    with world.request(), pytest.raises(Conflict):
        services.start_amendment(world.officer, _fresh(mou.id), "Third")
    db.session.rollback()
    auth.login(world.officer)
    assert client.get(world.url(mou, "amend")).status_code == 409
    assert client.submit(world.url(mou, "amend"), {"changelog": "x"},
                         page="/account/sign-out").status_code == 409
    page = client.get(world.url(mou)).get_data(as_text=True)
    assert "Start an amendment" not in page and "Record the outcome" not in page


def test_an_ended_mou_keeps_its_public_page_and_register_entry(world, client):
    mou = _in_force(world)
    with world.request():
        reviews.end(world.officer, mou, EndKind.TERMINATED, TODAY, "Funding stopped.", TODAY)
        db.session.commit()
    page = client.get(world.url(mou))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"Terminated on {TODAY.day} {TODAY:%B %Y}." in html and "Funding stopped." in html
    assert "Working together on winter pressures" in client.get(
        f"{world.base}/?status=ended").get_data(as_text=True)


# --- Reminders ---------------------------------------------------------------------------


@pytest.mark.parametrize("days, expected", [
    (90, None), (61, None), (60, ReminderThreshold.DAYS_60), (31, ReminderThreshold.DAYS_60),
    (30, ReminderThreshold.DAYS_30), (8, ReminderThreshold.DAYS_30),
    (7, ReminderThreshold.DAYS_7), (0, ReminderThreshold.DAYS_7),
    (-1, ReminderThreshold.OVERDUE), (-400, ReminderThreshold.OVERDUE),
])
def test_the_threshold_just_crossed(days, expected):
    review = date(2027, 6, 1)
    assert reviews.threshold_for(review, review - timedelta(days=days)) is expected


def _send(world: World, today: date) -> list[reviews.SentReminder]:
    """One run of the daily job, in a fresh session as the command has."""
    db.session.expire_all()
    with world.request():
        sent = reviews.send_review_reminders(today)
        db.session.commit()
    return sent


def test_reminders_go_to_the_officers_and_each_partys_admins_once(world, outbox):
    mou = _in_force(world, review_in=200)
    review = mou.review_date
    day = review - timedelta(days=60)
    before = len(outbox())

    sent = _send(world, day)
    assert [(s.mou.id, s.threshold) for s in sent] == [(mou.id, ReminderThreshold.DAYS_60)]
    messages = outbox()[before:]
    assert sorted(m.to for m in messages) == sorted([
        world.officer.email, world.council_admin.email, world.icb_admin.email,
        world.cvs_admin.email])
    subject = (f"MoU review due by {review.day} {review:%B %Y} in {mou.partnership.name}: "
               "Working together on winter pressures")
    assert {m.subject for m in messages} == {subject}
    to_icb = next(m for m in messages if m.to == world.icb_admin.email)
    assert "in 60 days" in to_icb.body and "Northbridge ICB is a party to it" in to_icb.body
    assert f"http://localhost{world.url(mou)}" in to_icb.body
    to_officer = next(m for m in messages if m.to == world.officer.email)
    assert f"http://localhost{world.url(mou, 'review')}" in to_officer.body

    assert _send(world, day) == []  # the same day again: nothing
    assert _send(world, day + timedelta(days=1)) == []  # still the 60-day threshold
    assert len(outbox()) == before + 4
    rows = list(db.session.scalars(select(MouReminder)))
    assert [(r.mou_id, r.review_date, r.threshold) for r in rows] == [
        (mou.id, review, ReminderThreshold.DAYS_60)]


def test_each_threshold_and_overdue_is_sent_once_as_the_days_pass(world):
    mou = _in_force(world, review_in=200)
    review = mou.review_date
    sent_on = {}
    for days_before in range(70, -10, -1):
        for reminder in _send(world, review - timedelta(days=days_before)):
            sent_on[reminder.threshold] = days_before
    assert sent_on == {ReminderThreshold.DAYS_60: 60, ReminderThreshold.DAYS_30: 30,
                       ReminderThreshold.DAYS_7: 7, ReminderThreshold.OVERDUE: -1}
    assert _count(MouReminder) == 4


def test_a_missed_run_sends_only_the_threshold_just_crossed(world):
    mou = _in_force(world, review_in=200)
    sent = _send(world, mou.review_date - timedelta(days=25))
    assert [s.threshold for s in sent] == [ReminderThreshold.DAYS_30]
    sent = _send(world, mou.review_date + timedelta(days=3))
    assert [s.threshold for s in sent] == [ReminderThreshold.OVERDUE]
    assert _send(world, mou.review_date + timedelta(days=40)) == []  # once per review date


def test_an_overdue_reminder_says_so(world, outbox):
    mou = _in_force(world, review_in=-4)
    _send(world, TODAY)
    message = outbox(world.cvs_admin.email)[-1]
    assert message.subject == (f"MoU review overdue in {mou.partnership.name}: "
                               f"Working together on winter pressures ({mou.reference})")
    assert "4 days ago" in message.body


def test_a_new_review_date_starts_the_reminders_afresh(world, client, auth):
    mou = _in_force(world, review_in=5)
    assert [s.threshold for s in _send(world, TODAY)] == [ReminderThreshold.DAYS_7]
    auth.login(world.officer)
    new_date = TODAY + timedelta(days=45)
    response = client.submit(world.url(mou, "review"),
                             _review("continue", review_date=_date(new_date)))
    assert response.status_code == 303, response.get_data(as_text=True)
    assert [s.threshold for s in _send(world, TODAY)] == [ReminderThreshold.DAYS_60]
    assert [s.threshold for s in _send(world, new_date - timedelta(days=30))] == [
        ReminderThreshold.DAYS_30]


def test_ended_draft_and_members_only_mous(world):
    ended = _in_force(world, review_in=5)
    with world.request():
        reviews.end(world.officer, ended, EndKind.EXPIRED, TODAY, "Done", TODAY)
        db.session.commit()
    _draft(world, start_date=TODAY, review_date=TODAY + timedelta(days=5))  # not in force
    assert _send(world, TODAY) == []

    members_only = _in_force(world, review_in=5)
    with world.request():
        services.set_publication(world.officer, members_only, False, "Names people")
        db.session.commit()
    assert [s.mou.id for s in _send(world, TODAY)] == [members_only.id]  # still reviewed


def test_an_officer_who_is_also_a_partys_admin_gets_one_email(world, outbox):
    _in_force(world, review_in=30)
    db.session.add(OrganisationMember(organisation_id=world.icb.id, user_id=world.officer.id,
                                      role=MemberRole.ADMIN, status=RequestStatus.ACTIVE))
    db.session.commit()
    sent = _send(world, TODAY)
    assert sorted(sent[0].recipients) == sorted([
        world.officer.email, world.council_admin.email, world.icb_admin.email,
        world.cvs_admin.email])
    reminders = [m for m in outbox(world.officer.email) if m.subject.startswith("MoU review due")]
    assert len(reminders) == 1
    assert "one of the partnership's officers" in reminders[0].body


def test_flask_reminders_send_runs_daily_without_double_sending(app, world, outbox):
    _in_force(world, review_in=30)
    _in_force(world, review_in=-1, title="Overdue one")
    runner = app.test_cli_runner()

    first = runner.invoke(args=["reminders", "send"])
    assert first.exit_code == 0, first.output
    assert "Sent 2 MoU review reminder(s) in 8 email(s)." in first.output
    second = runner.invoke(args=["reminders", "send"])
    assert second.exit_code == 0
    assert "Sent 0 MoU review reminder(s) in 0 email(s)." in second.output
    db.session.expire_all()
    assert _count(MouReminder) == 2
    assert len([m for m in outbox() if m.subject.startswith("MoU review")]) == 8
    assert all("http://localhost/partnerships/" in m.body for m in outbox()
               if m.subject.startswith("MoU review"))
