"""Never overbook a meeting: two people asking for the last place at the same moment
give exactly one place; the other goes on the waiting list. And two people cancelling
at once promote two different people from the waiting list, never the same one twice.

Real concurrent requests: threads, each with its own test client (so its own session,
app context and database connection), against a file-based SQLite database in WAL
mode, released together by a barrier. Repeated a few times, since a race that happens
to serialise would prove nothing on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from partnerships.accounts.models import User
from partnerships.extensions import db
from partnerships.forums.models import (
    Forum,
    ForumConvenor,
    ForumMember,
    ForumMemberStatus,
    Visibility,
)
from partnerships.mail import OutboxMessage
from partnerships.meetings.models import (
    Meeting,
    MeetingFormat,
    MeetingStatus,
    Registration,
    RegistrationStatus,
    Response,
)
from partnerships.modelbase import utcnow
from partnerships.partnership.models import Partnership
from partnerships.timeutil import format_uk
from tests.concurrency import (
    CROWD,
    ROUNDS,
    all_at_once,
    csrf_token,
    form_token,
    make_user,
    signed_in_client,
)
from tests.conftest import AppClient, meeting_start


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


# --- A crowd at once: places never leak (issue 13) ---------------------------------------
#
# ``CROWD`` requests at once on one meeting, ``ROUNDS`` times, each round on a new
# meeting. Before the fix a waiting person who cancelled at the moment someone else's
# cancellation promoted them was marked cancelled while still holding the place: the
# place stayed counted with nobody in it, and the next person was told the meeting was
# full. After every round: the places counted are exactly the registrations holding
# one, no more than the capacity, and a free place never leaves anyone waiting.


@dataclass
class Crowd:
    """Forum members (one client each, signed in, with a form token), and an organiser
    with as many clients of their own."""

    forum: Forum
    organiser: User
    people: list[User]
    clients: list[AppClient]
    tokens: list[str]
    organiser_clients: list[AppClient]
    organiser_tokens: list[str]


@pytest.fixture
def crowd(file_app: Flask) -> Crowd:
    people = [make_user(f"Member {i}", f"member{i}@example.org") for i in range(CROWD)]
    organiser = make_user("Olu Organiser", "olu@example.org")
    forum = _forum([*people, organiser])
    forum.visibility = Visibility.MEMBERS
    db.session.add(ForumConvenor(forum_id=forum.id, user_id=organiser.id))
    db.session.commit()
    clients = [signed_in_client(file_app, person) for person in people]
    organiser_clients = [signed_in_client(file_app, organiser) for _ in range(CROWD)]
    return Crowd(forum, organiser, people, clients, [form_token(c) for c in clients],
                 organiser_clients, [form_token(c) for c in organiser_clients])


def _crowd_meeting(forum: Forum, people: list[User], title: str, capacity: int,
                   holders: int) -> Meeting:
    """A members-only meeting whose first ``holders`` people hold its places and the
    others wait, in order. Everyone is (again) a member of the forum, and the earlier
    rounds' meetings are cancelled, so that leaving the forum touches this one only."""
    db.session.execute(update(ForumMember).where(ForumMember.forum_id == forum.id)
                       .values(status=ForumMemberStatus.ACTIVE))
    db.session.execute(update(Meeting).where(Meeting.forum_id == forum.id)
                       .values(status=MeetingStatus.CANCELLED))
    meeting = _meeting(forum, title, capacity)
    meeting.visibility = Visibility.MEMBERS
    start = utcnow() - timedelta(hours=1)
    for i, person in enumerate(people):
        holds = i < holders
        db.session.add(Registration(
            meeting_id=meeting.id, user_id=person.id, response=Response.IN_PERSON,
            holds_place=holds,
            status=RegistrationStatus.CONFIRMED if holds else RegistrationStatus.WAITING,
            waiting_since=None if holds else start + timedelta(seconds=i)))
    meeting.places_taken = holders
    db.session.commit()
    return meeting


def _places_add_up(meeting_id: int, label: str) -> dict[int, Registration]:
    """The invariant, checked after every round; returns the registrations by user."""
    db.session.expire_all()
    meeting = db.session.get(Meeting, meeting_id)
    assert meeting is not None and meeting.capacity is not None
    rows = list(db.session.scalars(select(Registration).where(
        Registration.meeting_id == meeting_id)))
    holding = [r for r in rows if r.holds_place]
    assert all(r.status is RegistrationStatus.CONFIRMED for r in holding), (
        f"{label}: a place held by a registration that is "
        f"{[r.status.value for r in holding if r.status is not RegistrationStatus.CONFIRMED]}")
    assert meeting.places_taken == len(holding), (
        f"{label}: {meeting.places_taken} places counted, {len(holding)} held")
    assert len(holding) <= meeting.capacity, f"{label}: overbooked"
    if len(holding) < meeting.capacity:
        assert not any(r.status is RegistrationStatus.WAITING for r in rows), (
            f"{label}: a place is free while people wait")
    return {r.user_id: r for r in rows}


def _statuses(rows: dict[int, Registration], people: list[User]) -> list[str]:
    return [("place" if rows[p.id].holds_place else rows[p.id].status.value) for p in people]


def _no_server_errors(responses: list[Any], allowed: tuple[int, ...] = (303,)) -> None:
    assert all(r is not None and r.status_code in allowed for r in responses), [
        (r.status_code, r.get_data(as_text=True)[:300]) for r in responses
        if r is None or r.status_code not in allowed]


def _cancel(crowd: Crowd, i: int, meeting: Meeting) -> Callable[[], Any]:
    return _post(crowd.clients[i], f"/meetings/{meeting.id}/register/cancel",
                 {"csrf_token": crowd.tokens[i]})


def _remove(crowd: Crowd, k: int, meeting: Meeting, registration_id: int) -> Callable[[], Any]:
    return _post(crowd.organiser_clients[k],
                 f"/meetings/{meeting.id}/registrations/{registration_id}/remove",
                 {"csrf_token": crowd.organiser_tokens[k]})


def _ids(meeting: Meeting) -> dict[int, int]:
    """Registration id by user id."""
    return dict(db.session.execute(select(Registration.user_id, Registration.id).where(
        Registration.meeting_id == meeting.id)).tuples().all())


def test_holders_and_waiting_people_cancelling_at_once_leak_no_place(crowd: Crowd) -> None:
    """Cancel vs promote: a tenth of the crowd hold the places, everyone else waits; the
    holders and the first half of the waiting list cancel at once while the rest of
    the waiting list re-send their answer (keeping their turn). The places go to the
    first of those still waiting, in order, each emailed once."""
    people = crowd.people
    capacity = max(1, CROWD // 10)
    half = (CROWD + capacity) // 2
    for round_number in range(ROUNDS):
        meeting = _crowd_meeting(crowd.forum, people, f"Cancel {round_number}", capacity,
                                 holders=capacity)
        register = f"/meetings/{meeting.id}/register"
        responses = all_at_once([
            _cancel(crowd, i, meeting) if i < half else
            _post(crowd.clients[i], register, {"response": "in_person",
                                               "access_requirements": "Step-free access",
                                               "csrf_token": crowd.tokens[i]})
            for i in range(CROWD)])
        _no_server_errors(responses)
        rows = _places_add_up(meeting.id, f"round {round_number}")
        assert _statuses(rows, people[:half]) == ["cancelled"] * half
        staying = people[half:]
        assert _statuses(rows, staying) == (
            ["place"] * capacity + ["waiting"] * (len(staying) - capacity)), (
            f"round {round_number}")
        for person in staying[:capacity]:
            assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.to == person.email,
                OutboxMessage.subject == f"You have a place: {meeting.title} "
                                         f"({meeting.forum.name}), "
                                         f"{format_uk(meeting.starts_at)}")) == 1


def test_everyone_cancelling_twice_at_once_gives_each_place_back_once(crowd: Crowd) -> None:
    """Cancel vs cancel: the first fifth of the crowd (holding every place, then the
    head of the waiting list) each send their cancellation twice at once, from two
    tabs, while the rest wait. Each place comes back once: the next people in line
    get exactly the places there are."""
    people = crowd.people
    capacity = max(1, CROWD // 10)
    leaving = CROWD // 4
    for round_number in range(ROUNDS):
        meeting = _crowd_meeting(crowd.forum, people, f"Twice {round_number}", capacity,
                                 holders=capacity)
        requests = [_cancel(crowd, i, meeting) for i in range(leaving)]
        requests += [_post(crowd.clients[i], f"/meetings/{meeting.id}/register/cancel",
                           {"csrf_token": crowd.tokens[i]}) for i in range(leaving)]
        responses = all_at_once(requests)
        _no_server_errors(responses)
        rows = _places_add_up(meeting.id, f"round {round_number}")
        assert _statuses(rows, people[:leaving]) == ["cancelled"] * leaving
        staying = people[leaving:]
        assert _statuses(rows, staying) == (
            ["place"] * capacity + ["waiting"] * (len(staying) - capacity)), (
            f"round {round_number}")


def test_organiser_removing_people_while_they_cancel_and_get_promoted(crowd: Crowd) -> None:
    """Remove vs promote (and vs cancel): an organiser takes the first half of the
    list off (holders, and waiting people whom the freed places are promoting at
    that moment) while each of them also cancels. The places go to the first of the
    others."""
    people = crowd.people
    capacity = max(1, CROWD // 10)
    leaving = CROWD // 2
    for round_number in range(ROUNDS):
        meeting = _crowd_meeting(crowd.forum, people, f"Remove {round_number}", capacity,
                                 holders=capacity)
        ids = _ids(meeting)
        requests = [_remove(crowd, i, meeting, ids[people[i].id]) for i in range(leaving)]
        requests += [_cancel(crowd, i, meeting) for i in range(leaving)]
        responses = all_at_once(requests)
        _no_server_errors(responses)
        rows = _places_add_up(meeting.id, f"round {round_number}")
        assert _statuses(rows, people[:leaving]) == ["cancelled"] * leaving
        staying = people[leaving:]
        assert _statuses(rows, staying) == (
            ["place"] * capacity + ["waiting"] * (len(staying) - capacity)), (
            f"round {round_number}")


def test_people_leaving_the_forum_while_places_are_passed_on(crowd: Crowd) -> None:
    """Leaving the forum vs promote: the first half of the list leave the forum of a
    members-only meeting (which cancels their registration), and at the same moment
    also cancel it themselves; the places go to the first of the others."""
    people = crowd.people
    capacity = max(1, CROWD // 10)
    leaving = CROWD // 2
    forum = crowd.forum
    leave = f"/partnerships/{forum.partnership.slug}/forums/{forum.slug}/leave"
    for round_number in range(ROUNDS):
        meeting = _crowd_meeting(forum, people, f"Leave {round_number}", capacity,
                                 holders=capacity)
        requests = [_post(crowd.clients[i], leave, {"csrf_token": crowd.tokens[i]})
                    for i in range(leaving)]
        requests += [_cancel(crowd, i, meeting) for i in range(leaving)]
        responses = all_at_once(requests)
        # A cancellation that comes after the person left finds a meeting they can no
        # longer see (403: it is for the forum's members).
        _no_server_errors(responses, allowed=(303, 403))
        assert all(r.status_code == 303 for r in responses[:leaving])
        rows = _places_add_up(meeting.id, f"round {round_number}")
        assert _statuses(rows, people[:leaving]) == ["cancelled"] * leaving
        staying = people[leaving:]
        assert _statuses(rows, staying) == (
            ["place"] * capacity + ["waiting"] * (len(staying) - capacity)), (
            f"round {round_number}")
