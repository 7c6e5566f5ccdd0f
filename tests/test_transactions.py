"""How transactions start (partnerships/transactions.py): pages that note something as
they are read do it in a write of their own, so people opening them at the same moment
never get a 500; and under TESTING a GET that writes after reading fails at once.

The races run on a database with real connections (a SQLite file in WAL mode, or a new
PostgreSQL database), released together by a barrier, a few rounds each.
"""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from partnerships import transactions
from partnerships.accounts.models import User
from partnerships.extensions import db
from partnerships.factories import forums, partnership
from partnerships.forums.models import MembershipPolicy, ThreadState
from partnerships.meetings import feeds
from partnerships.meetings.models import CalendarToken
from tests.concurrency import ROUNDS, all_at_once, make_user, signed_in_client
from tests.databases import on_postgresql

PEOPLE = 10


def test_people_opening_a_discussion_for_the_first_time_at_once_all_see_it(
    file_app: Flask,
) -> None:
    """Each first visit records how far the person read: one row per person, made by
    whichever of their tabs gets there first, the others moving it forward or not."""
    for round_number in range(ROUNDS):
        people = [make_user(f"Reader {round_number}-{i}", f"r{round_number}-{i}@example.org")
                  for i in range(PEOPLE // 2)]
        place = partnership.partnership(f"Place {round_number}", slug=f"place-{round_number}")
        forum = forums.forum(place, "Readers", convenors=people[:1], members=people[1:],
                             policy=MembershipPolicy.OPEN, slug="readers")
        thread = forums.thread(forum, people[0], "Read me")
        forums.reply(thread, people[0], "A reply to read")
        db.session.commit()
        url = f"/partnerships/{place.slug}/forums/readers/threads/{thread.id}"
        clients = [signed_in_client(file_app, person) for person in people for _ in range(2)]
        answers = all_at_once([lambda c=client, u=url: c.get(u) for client in clients])
        assert sorted({answer.status_code for answer in answers}) == [200]
        db.session.expire_all()
        states = db.session.scalars(
            select(ThreadState).where(ThreadState.thread_id == thread.id)).all()
        assert len(states) == len(people)
        assert {state.last_read_post_id for state in states} == {thread.last_post_id}


def test_a_calendar_app_fetching_a_feed_many_times_at_once_never_fails(file_app: Flask) -> None:
    for round_number in range(ROUNDS):
        person = make_user(f"Subscriber {round_number}", f"s{round_number}@example.org")
        row = feeds.create_token(person)
        token = feeds.token_of(row)
        db.session.commit()
        url = f"/calendar/{token}.ics"
        clients = [file_app.test_client() for _ in range(PEOPLE)]
        answers = all_at_once([lambda c=client, u=url: c.get(u) for client in clients])
        assert {answer.status_code for answer in answers} == {200}
        db.session.expire_all()
        assert db.session.get(CalendarToken, row.id).last_used_at is not None


@pytest.mark.skipif(on_postgresql(), reason="the check guards SQLite's one writer")
def test_under_testing_a_page_that_writes_after_reading_fails_naming_itself(
    file_app: Flask,
) -> None:
    """The next page that would fail under load fails in the tests instead (on a file
    database; the in-memory one cannot contend and keeps the driver's transactions)."""
    app = file_app
    person_id = make_user("Careful", "careful@example.org").id
    db.session.commit()

    def careless() -> str:
        found = db.session.get(User, person_id)
        assert found is not None
        found.name = "Changed by a GET"
        db.session.commit()
        return "done"

    def marked() -> str:
        return careless()

    app.add_url_rule("/careless", "careless", careless)
    app.add_url_rule("/marked", "marked", transactions.writes(marked))
    client = app.test_client()
    with pytest.raises(RuntimeError, match="GET careless writes after reading"):
        client.get("/careless")
    db.session.rollback()
    assert client.get("/marked").get_data(as_text=True) == "done"


def test_only_requests_that_change_things_take_the_write_lock_first(app: Flask) -> None:
    with app.test_request_context("/", method="GET"):
        assert not transactions.wants_write_lock()
    with app.test_request_context("/", method="POST"):
        assert transactions.wants_write_lock()
    with app.app_context():  # a CLI command, a backup, a test's own session
        assert not transactions.wants_write_lock()
        with transactions.writing():  # a cron job that changes shared state
            assert transactions.wants_write_lock()
