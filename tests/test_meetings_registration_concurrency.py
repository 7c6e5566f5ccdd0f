"""Never overbook a meeting: two people asking for the last place at the same moment
give exactly one place; the other goes on the waiting list. And two people cancelling
at once promote two different people from the waiting list, never the same one twice.

Real concurrent requests: threads, each with its own test client (so its own session,
app context and database connection), against a file-based SQLite database in WAL
mode, released together by a barrier. Repeated a few times, since a race that happens
to serialise would prove nothing on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from partnerships.accounts.models import User
from partnerships.extensions import db
from partnerships.forums.models import Forum, ForumMember, ForumMemberStatus, Visibility
from partnerships.mail import OutboxMessage
from partnerships.meetings.models import (
    Meeting,
    MeetingFormat,
    Registration,
    RegistrationStatus,
    Response,
)
from partnerships.modelbase import utcnow
from partnerships.partnership.models import Partnership
from tests.concurrency import (
    ROUNDS,
    all_at_once,
    csrf_token,
    file_database_app,
    make_user,
    signed_in_client,
)
from tests.conftest import AppClient, meeting_start


@pytest.fixture
def file_app(tmp_path: Any) -> Iterator[Flask]:
    with file_database_app(tmp_path) as app:
        yield app


def _forum(members: list[User]) -> Forum:
    partnership = Partnership(name="Northbridge Together", slug="northbridge", place="Northbridge")
    db.session.add(partnership)
    db.session.flush()
    forum = Forum(partnership_id=partnership.id, slug="vcse", name="VCSE Alliance",
                  purpose="Voluntary sector voice.", visibility=Visibility.PUBLIC)
    db.session.add(forum)
    db.session.flush()
    for person in members:
        db.session.add(ForumMember(forum_id=forum.id, user_id=person.id,
                                   status=ForumMemberStatus.ACTIVE))
    db.session.commit()
    return forum


def _meeting(forum: Forum, title: str, capacity: int) -> Meeting:
    starts_at = meeting_start(timedelta(days=10))
    meeting = Meeting(forum_id=forum.id, title=title, format=MeetingFormat.IN_PERSON,
                      venue_name="Civic Centre", venue_address="1 Market Square",
                      starts_at=starts_at, ends_at=starts_at + timedelta(hours=2),
                      capacity=capacity)
    db.session.add(meeting)
    db.session.commit()
    return meeting


def _post(client: AppClient, url: str, data: dict[str, str]) -> Callable[[], Any]:
    return lambda: client.post(url, data=data)


def test_two_people_taking_the_last_place_at_once_give_one_place_and_one_waiting(file_app):
    people = [make_user(f"Person {i}", f"person{i}@example.org") for i in range(2 * ROUNDS)]
    forum = _forum(people)

    for round_number in range(ROUNDS):
        meeting = _meeting(forum, f"Round {round_number}", capacity=1)
        pair = people[2 * round_number: 2 * round_number + 2]
        url = f"/meetings/{meeting.id}/register"
        clients = [signed_in_client(file_app, person) for person in pair]
        tokens = [csrf_token(client, url) for client in clients]
        responses = all_at_once([
            _post(client, url, {"response": "in_person", "csrf_token": token})
            for client, token in zip(clients, tokens, strict=True)])
        assert [r.status_code for r in responses] == [303, 303], [
            r.get_data(as_text=True)[:500] for r in responses]

        db.session.expire_all()
        rows = list(db.session.scalars(select(Registration).where(
            Registration.meeting_id == meeting.id)))
        assert sorted(r.status.value for r in rows) == [
            RegistrationStatus.CONFIRMED.value, RegistrationStatus.WAITING.value
        ], f"round {round_number}"
        assert sum(r.holds_place for r in rows) == 1
        assert db.session.get(Meeting, meeting.id).places_taken == 1
        loser = next(i for i, person in enumerate(pair)
                     if any(r.user_id == person.id and r.status is RegistrationStatus.WAITING
                            for r in rows))
        page = clients[loser].get(f"/meetings/{meeting.id}/").get_data(as_text=True)
        assert "On the waiting list, number 1" in page


def test_two_people_cancelling_at_once_promote_two_different_people(file_app):
    people = [make_user(f"Person {i}", f"person{i}@example.org") for i in range(4 * ROUNDS)]
    forum = _forum(people)

    for round_number in range(ROUNDS):
        meeting = _meeting(forum, f"Round {round_number}", capacity=2)
        holders = people[4 * round_number: 4 * round_number + 2]
        waiting = people[4 * round_number + 2: 4 * round_number + 4]
        for person in holders:
            db.session.add(Registration(meeting_id=meeting.id, user_id=person.id,
                                        response=Response.IN_PERSON, holds_place=True,
                                        status=RegistrationStatus.CONFIRMED))
        for minutes, person in enumerate(waiting):
            db.session.add(Registration(
                meeting_id=meeting.id, user_id=person.id, response=Response.IN_PERSON,
                status=RegistrationStatus.WAITING,
                waiting_since=utcnow() - timedelta(minutes=10 - minutes)))
        meeting.places_taken = 2
        db.session.commit()

        page = f"/meetings/{meeting.id}/"
        clients = [signed_in_client(file_app, person) for person in holders]
        tokens = [csrf_token(client, page) for client in clients]
        responses = all_at_once([
            _post(client, f"{page}register/cancel", {"csrf_token": token})
            for client, token in zip(clients, tokens, strict=True)])
        assert [r.status_code for r in responses] == [303, 303]

        db.session.expire_all()
        rows = {r.user_id: r for r in db.session.scalars(select(Registration).where(
            Registration.meeting_id == meeting.id))}
        assert all(rows[p.id].status is RegistrationStatus.CANCELLED for p in holders)
        assert all(rows[p.id].status is RegistrationStatus.CONFIRMED and rows[p.id].holds_place
                   and rows[p.id].promoted_at is not None for p in waiting), f"round {round_number}"
        assert db.session.get(Meeting, meeting.id).places_taken == 2
        for person in waiting:
            promoted = db.session.scalars(select(OutboxMessage).where(
                OutboxMessage.to == person.email,
                OutboxMessage.subject.startswith("You have a place"))).all()
            assert len(promoted) == 1
