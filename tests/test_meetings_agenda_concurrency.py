"""Convenors changing one agenda at the same moment (issue 13): items keep positions
1..n, each once. Before the fix each request numbered the items it had read, so two
items added at once both became item 3 on PostgreSQL (SQLite lets one write in at a
time); every change to an agenda now locks its meeting first and reads the items after.

Real concurrent requests (``tests/concurrency.py``), ``ROUNDS`` times, a new meeting each.
"""

from __future__ import annotations

from datetime import time, timedelta
from functools import partial

from flask import Flask
from sqlalchemy import select

from partnerships.extensions import db
from partnerships.factories import forums, meetings, partnership
from partnerships.meetings.models import AgendaItem
from partnerships.timeutil import today_uk
from tests.concurrency import (
    ROUNDS,
    all_at_once,
    form_token,
    make_user,
    signed_in_client,
)

CONVENORS = 4


def _positions(meeting_id: int) -> list[int]:
    db.session.expire_all()
    return sorted(db.session.scalars(
        select(AgendaItem.position).where(AgendaItem.meeting_id == meeting_id)))


def test_convenors_adding_and_moving_items_at_once_keep_one_numbering(file_app: Flask) -> None:
    convenors = [make_user(f"Convenor {i}", f"convenor{i}@example.org")
                 for i in range(CONVENORS)]
    place = partnership.partnership("Northbridge Together", slug="northbridge")
    forum = forums.forum(place, "VCSE Alliance", convenors=convenors, slug="vcse")
    db.session.commit()
    clients = [signed_in_client(file_app, person) for person in convenors]
    tokens = [form_token(client) for client in clients]

    for round_number in range(ROUNDS):
        [meeting] = meetings.meeting(forum, f"Round {round_number}",
                                     day=today_uk() + timedelta(days=20),
                                     start=time(10), end=time(12))
        first = AgendaItem(meeting_id=meeting.id, position=1, title="Welcome")
        second = AgendaItem(meeting_id=meeting.id, position=2, title="Minutes")
        db.session.add_all([first, second])
        db.session.commit()
        base = f"/meetings/{meeting.id}/agenda/items"
        adds = [partial(client.post, f"{base}/new", data={
                    "title": f"Item from convenor {i}", "csrf_token": token})
                for i, (client, token) in enumerate(zip(clients, tokens, strict=True))]
        moves = [partial(clients[0].post, f"{base}/{first.id}/move",
                         data={"direction": "down", "csrf_token": tokens[0]}),
                 partial(clients[1].post, f"{base}/{second.id}/move",
                         data={"direction": "up", "csrf_token": tokens[1]})]
        answers = all_at_once(adds + moves)
        assert {answer.status_code for answer in answers} <= {200, 303, 409}, [
            answer.get_data(as_text=True)[:300] for answer in answers
            if answer.status_code not in (200, 303, 409)]
        assert [a.status_code for a in answers[:CONVENORS]] == [303] * CONVENORS
        assert _positions(meeting.id) == list(range(1, CONVENORS + 3)), f"round {round_number}"
