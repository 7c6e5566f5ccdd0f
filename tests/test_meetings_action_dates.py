"""An action's due date before the day of its meeting is refused on the field (a typo
would show it "Overdue" on the next public agenda), unless the organiser ticks "this was
already due before the meeting"; on the new and the edit form alike, and in the service
(issue 15)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from partnerships.errors import ValidationError
from partnerships.extensions import db
from partnerships.meetings import records
from partnerships.meetings.models import ActionItem
from partnerships.timeutil import format_deadline

from . import test_meetings_records
from .test_meetings_records import TOKEN_PAGE, count, fresh, make_action

world = test_meetings_records.world  # the same people and meetings


def _date_fields(day: date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def test_a_due_date_before_the_meeting_is_refused_then_accepted_when_confirmed(
        client, auth, world, outbox):
    meeting_day = records.recorded_day(world.past)
    early = meeting_day - timedelta(days=365)
    auth.login(world.officer)
    url = f"/meetings/{world.past.id}/actions/new"
    data = {"description": "Send the winter figures", "owner_id": str(world.member.id),
            "due_date": _date_fields(early)}
    response = client.submit(url, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    message = ("The due date must be on or after the day of the meeting "
               f"({format_deadline(meeting_day)})")
    assert message in html and "govuk-error-summary" in html
    assert 'href="#due_date' in html  # the summary links to the field
    assert "Send the winter figures" in html and f'value="{early.year}"' in html
    assert "Yes, this was already due before the meeting" in html
    assert count(ActionItem) == 0 and outbox() == []

    response = client.submit(url, {**data, "already_due": "y"})
    assert response.status_code == 303
    action = db.session.scalar(db.select(ActionItem))
    assert action.due_date == early


def test_the_meeting_day_and_later_need_no_confirmation(client, auth, world):
    meeting_day = records.recorded_day(world.past)
    auth.login(world.officer)
    url = f"/meetings/{world.past.id}/actions/new"
    html = client.get(url).get_data(as_text=True)
    assert "already due before the meeting" not in html  # not asked until needed
    response = client.submit(url, {"description": "Book the hall",
                                   "owner_id": str(world.member.id),
                                   "due_date": _date_fields(meeting_day)})
    assert response.status_code == 303


def test_an_early_due_date_is_listed_with_the_other_mistakes(client, auth, world):
    meeting_day = records.recorded_day(world.past)
    auth.login(world.officer)
    response = client.submit(f"/meetings/{world.past.id}/actions/new", {
        "description": "", "due_date": _date_fields(meeting_day - timedelta(days=1))})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for text in ("Enter what is to be done", "Choose who will do it",
                 "The due date must be on or after the day of the meeting"):
        assert text in html
    assert count(ActionItem) == 0


def test_editing_to_an_early_due_date_is_refused_and_changes_nothing(
        client, auth, world):
    meeting_day = records.recorded_day(world.past)
    later = meeting_day + timedelta(days=14)
    action = make_action(world.past, owner=world.member, due=later)
    auth.login(world.officer)
    url = f"/actions/{action.id}/edit"
    data = {"description": "Send the funding report", "owner_id": str(world.member.id),
            "owner_organisation_id": "", "item_id": "",
            "due_date": _date_fields(later.replace(year=later.year - 1))}
    response = client.submit(url, data)
    assert response.status_code == 422
    assert "The due date must be on or after the day of the meeting" in \
        response.get_data(as_text=True)
    assert fresh(ActionItem, action.id).due_date == later

    response = client.submit(url, {**data, "already_due": "y"})
    assert response.status_code == 303
    assert fresh(ActionItem, action.id).due_date == later.replace(year=later.year - 1)
    # Editing it again shows the box ticked, so saving keeps it.
    html = client.get(url).get_data(as_text=True)
    assert 'name="already_due"' in html and "checked" in html.split('name="already_due"')[1][:80]


def test_only_organisers_reach_the_forms(client, auth, world):
    action = make_action(world.past, owner=world.member)
    early = _date_fields(records.recorded_day(world.past) - timedelta(days=30))
    data = {"description": "Changed", "owner_id": str(world.member.id), "due_date": early,
            "already_due": "y"}
    auth.login(world.member)  # the owner, who may update it but not change it
    for url in (f"/actions/{action.id}/edit", f"/meetings/{world.past.id}/actions/new"):
        assert client.submit(url, data, page=TOKEN_PAGE).status_code == 403
    assert count(ActionItem) == 1
    assert fresh(ActionItem, action.id).description == "Send the funding report"


def test_the_service_holds_the_rule(app, world):
    day = records.recorded_day(world.past)
    details = records.ActionDetails(description="Book the hall", owner_id=world.member.id,
                                    due_date=day - timedelta(days=1))
    with app.test_request_context(), pytest.raises(ValidationError) as error:
        records.add_action(world.officer, world.past, details)
    assert error.value.field == "due_date"
    details.already_due = True
    with app.test_request_context():
        assert records.add_action(world.officer, world.past, details).due_date == \
            day - timedelta(days=1)
