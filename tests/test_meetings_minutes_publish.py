"""Publishing the minutes of a meeting whose agenda was never published asks for
confirmation and says which items become visible; the meeting page then shows those
items instead of "The agenda has not been published yet" (issue 15)."""

from __future__ import annotations

import re

from partnerships.extensions import db
from partnerships.meetings.models import AgendaItem, AgendaStatus, Meeting, MinutesStatus

from . import test_meetings_records
from .test_meetings_records import (
    SIGN_IN,
    TOKEN_PAGE,
    add_items,
    fresh,
    make_action,
    write_minutes,
)

world = test_meetings_records.world  # the same people and meetings


def _text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def _minuted(world) -> list[AgendaItem]:
    """Three draft-agenda items: the first minuted, the second with an action only,
    the third untouched."""
    items = add_items(world.past, 3)
    items[0].title, items[1].title, items[2].title = (
        "Winter demand", "Food bank rota", "Confidential staffing")
    items[0].minutes = "Demand rose by a third."
    world.past.minutes_summary = "We met."
    world.past.minutes_status = MinutesStatus.DRAFT
    db.session.commit()
    make_action(world.past, "Draw up the rota", owner=world.member).item_id = items[1].id
    db.session.commit()
    return items


def test_publishing_minutes_of_an_unpublished_agenda_asks_first(client, auth, world,
                                                                 outbox):
    _minuted(world)
    base = f"/meetings/{world.past.id}"
    auth.login(world.officer)
    # The meeting page sends the organiser to the confirmation, not straight to publish.
    page = client.get(f"{base}/").get_data(as_text=True)
    assert f'href="{base}/minutes/publish"' in page

    confirm = client.get(f"{base}/minutes/publish")
    assert confirm.status_code == 200
    text = _text(confirm)
    assert "The agenda of this meeting was never published" in text
    assert "1. Winter demand" in text and "2. Food bank rota" in text
    assert "Confidential staffing" not in text

    # A publish without the confirmation (an old page, another tab) only goes there.
    response = client.submit(f"{base}/minutes/publish", {}, page=f"{base}/minutes/publish")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{base}/minutes/publish")
    assert fresh(Meeting, world.past.id).minutes_status is MinutesStatus.DRAFT
    assert outbox() == []

    response = client.submit(f"{base}/minutes/publish", {"agenda_confirmed": "yes"},
                             page=f"{base}/minutes/publish")
    assert response.status_code == 303
    assert fresh(Meeting, world.past.id).minutes_status is MinutesStatus.PUBLISHED
    assert outbox()


def test_the_public_page_shows_the_items_the_minutes_cover_not_a_missing_agenda(
        client, auth, world):
    _minuted(world)
    world.past.minutes_status = MinutesStatus.PUBLISHED
    db.session.commit()
    for who in (None, world.member):
        if who is None:
            auth.logout()
        else:
            auth.login(who)
        text = _text(client.get(f"/meetings/{world.past.id}/"))
        agenda = text.split("Agenda", 1)[1].split("Minutes", 1)[0]
        assert "The agenda has not been published yet" not in text
        assert "The agenda was not published before the meeting" in agenda
        assert "1. Winter demand" in agenda and "2. Food bank rota" in agenda
        assert "Confidential staffing" not in text


def test_a_published_agenda_publishes_the_minutes_at_once(client, auth, world):
    _minuted(world)
    world.past.agenda_status = AgendaStatus.PUBLISHED
    db.session.commit()
    base = f"/meetings/{world.past.id}"
    auth.login(world.officer)
    assert "never published" not in _text(client.get(f"{base}/minutes/publish"))
    response = client.submit(f"{base}/minutes/publish", {}, page=f"{base}/")
    assert response.status_code == 303
    assert fresh(Meeting, world.past.id).minutes_status is MinutesStatus.PUBLISHED


def test_only_organisers_see_or_use_the_confirmation(client, auth, world):
    _minuted(world)
    url = f"/meetings/{world.past.id}/minutes/publish"
    response = client.get(url)
    assert response.status_code == 302 and SIGN_IN in response.headers["Location"]
    for who in (world.member, world.stranger):
        auth.login(who)
        assert client.get(url).status_code == 403
        assert client.submit(url, {"agenda_confirmed": "yes"}, page=TOKEN_PAGE
                             ).status_code == 403
    assert fresh(Meeting, world.past.id).minutes_status is MinutesStatus.DRAFT


def test_nothing_written_means_nothing_to_confirm(client, auth, world):
    auth.login(world.officer)
    text = _text(client.get(f"/meetings/{world.past.id}/minutes/publish"))
    assert "Nothing is written yet" in text and "Publish the minutes" in text
    assert 'name="agenda_confirmed"' not in client.get(
        f"/meetings/{world.past.id}/minutes/publish").get_data(as_text=True)


def test_the_service_refuses_without_confirmation(app, world):
    import pytest

    from partnerships.errors import ValidationError
    from partnerships.meetings import records

    write_minutes(world.past, "Written")
    with app.test_request_context(), pytest.raises(ValidationError) as error:
        records.publish_minutes(world.officer, world.past)
    assert "never published" in error.value.message
    assert fresh(Meeting, world.past.id).minutes_status is MinutesStatus.DRAFT
