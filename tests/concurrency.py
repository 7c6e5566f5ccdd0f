"""What the concurrency tests share: an app on a database of its own with real
connections (a SQLite file, so each thread has its own connection and really contends
for the write lock; or a new PostgreSQL database when the suite runs there: see
tests/databases.py), signed-in clients, and requests released together by a barrier.

A race that happens to serialise proves nothing on its own, so the tests repeat each
race a few times (``ROUNDS``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, has_app_context

from partnerships import create_app
from partnerships.accounts.models import User
from partnerships.extensions import db
from partnerships.factories import accounts
from tests.conftest import CSRF_RE, AppClient, app_settings
from tests.databases import fresh_database

ROUNDS = 5


@contextmanager
def file_database_app(folder: Path) -> Iterator[Flask]:
    """The test configuration on a database of its own: a SQLite file in ``folder`` (an
    in-memory database would be one connection, shared: no race at all) or a new
    PostgreSQL database. The pool holds a connection for every racing thread."""
    with fresh_database(folder, "race") as url:
        app = create_app(app_settings(
            SQLALCHEMY_DATABASE_URI=url,
            UPLOAD_FOLDER=str(folder / "uploads"),
            SQLALCHEMY_ENGINE_OPTIONS=({} if url.startswith("sqlite")
                                       else {"pool_size": 60, "max_overflow": 10}),
        ))
        app.test_client_class = AppClient
        with app.app_context():
            db.create_all()
            yield app
            db.session.remove()
            db.engine.dispose()


def make_user(name: str, email: str) -> User:
    return accounts.user(name, email)


def signed_in_client(app: Flask, user: User) -> AppClient:
    """A client of its own (own cookie jar, own app context per request) for ``user``."""
    client: AppClient = app.test_client()  # type: ignore[assignment]
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


def csrf_token(client: AppClient, url: str) -> str:
    match = CSRF_RE.search(client.get(url).get_data(as_text=True))
    assert match, url
    return match.group(1)


def all_at_once(requests: list[Callable[[], Any]]) -> list[Any]:
    """Run the requests in threads released together; return their responses.

    The test's own session first ends its transaction (committing what it set up):
    outside a request a SQLite transaction holds the write lock from its first
    statement (see ``partnerships.transactions``), so one left open by reading an
    attribute after a commit would make every racer wait for it, then fail."""
    if has_app_context():
        db.session.commit()
    barrier = threading.Barrier(len(requests))
    responses: list[Any] = [None] * len(requests)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            responses[i] = requests[i]()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return responses
