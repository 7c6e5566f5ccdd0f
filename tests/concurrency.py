"""What the concurrency tests share: an app on a database of its own with real
connections (a SQLite file, so each thread has its own connection and really contends
for the write lock; or a new PostgreSQL database when the suite runs there: see
tests/databases.py), signed-in clients, and requests released together by a barrier.

A race that happens to serialise proves nothing on its own, so the tests repeat each
race a few times (``ROUNDS``). The crowd races (many people at once on one meeting or
one opportunity) send ``CROWD`` requests together. Both can be set from the
environment, ``RACE_ROUNDS`` and ``RACE_CROWD`` (CI uses the issue's 5 and 50; fewer
make a quicker local run).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, has_app_context, session
from flask_wtf.csrf import generate_csrf

from partnerships import create_app
from partnerships.accounts.models import User
from partnerships.extensions import db
from partnerships.factories import accounts
from tests.conftest import CSRF_RE, AppClient, app_settings
from tests.databases import fresh_database

ROUNDS = int(os.environ.get("RACE_ROUNDS", "5"))
CROWD = int(os.environ.get("RACE_CROWD", "50"))


@contextmanager
def file_database_app(folder: Path) -> Iterator[Flask]:
    """The test configuration on a database of its own: a SQLite file in ``folder`` (an
    in-memory database would be one connection, shared: no race at all) or a new
    PostgreSQL database. The pool holds a connection for every racing thread."""
    with fresh_database(folder, "race") as url:
        app = create_app(app_settings(
            SQLALCHEMY_DATABASE_URI=url,
            UPLOAD_FOLDER=str(folder / "uploads"),
            # Fifty threads of one process queue for SQLite's write lock; on a busy
            # 2-core machine the last waits longer than a server's 5 s would let it
            # (a "database is locked" error that says nothing about the rule under
            # test). What these tests check is what the writes leave, not how long
            # the queue takes.
            SQLITE_BUSY_TIMEOUT_MS=60_000,
            SQLALCHEMY_ENGINE_OPTIONS=({} if url.startswith("sqlite")
                                       else {"pool_size": CROWD + 10, "max_overflow": 10}),
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


def form_token(client: AppClient) -> str:
    """A form token (CSRF) for the client's session, made as Flask-WTF makes the one in
    a page's form but without loading a page: for races with many clients, where one
    page each would cost more than the race. Usable on any form, every round."""
    app = client.application
    field = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    with app.app_context(), app.test_request_context():
        token = generate_csrf()
        secret = session[field]
    with client.session_transaction() as client_session:
        client_session[field] = secret
    return token


def all_at_once(requests: list[Callable[[], Any]]) -> list[Any]:
    """Run the requests in threads released together; return their responses.

    The test's own transaction ends first, so what it built is committed and its
    snapshot does not hide what the racers do."""
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
        thread.join(timeout=120)
    assert not errors, errors
    return responses
