"""How database transactions start, so that SQLite waits its turn instead of failing.

SQLite allows one writer at a time. A transaction that reads first and writes later
(``BEGIN``, SELECT, ..., UPDATE) cannot wait for the write lock if another connection
committed since its read: SQLite answers "database is locked" at once, whatever the
busy timeout. Under threaded or several workers that was a 500 for some requests. So:

- A request that changes things (POST and the other unsafe methods), a view marked
  with :func:`writes`, and a job outside requests that runs inside :func:`writing`
  (the cron commands that change shared state, such as sending the outbox) start
  with ``BEGIN IMMEDIATE``: they take the write lock first and queue for it (up to
  the busy timeout) instead of failing halfway.
- Pages that only read (GET, HEAD, OPTIONS) and other work outside requests (a
  backup, a test's own session) start with a plain ``BEGIN``, so readers never wait
  for each other or for writers (WAL mode), and a test reading between requests
  never holds the lock its requests need.
- A page that reads and then notes something small (the thread page remembers how far
  you read; a calendar feed records when it was last fetched) ends its read first and
  makes the note in a transaction of its own: :func:`write_after_reading`.

Under TESTING, a write that follows a read in a plain ``BEGIN`` transaction raises at
once, naming the endpoint, so a new page that would fail under load fails in the tests
instead. PostgreSQL needs none of this (row locks queue); there the module does nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Connection

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BUSY_TIMEOUT_MS = 5000

View = TypeVar("View", bound=Callable[..., Any])


def writes(view: View) -> View:
    """Mark a GET view that changes data (say, a confirmation link): its transaction
    takes the write lock up front, like a POST."""
    view.writes_on_get = True  # type: ignore[attr-defined]
    return view


_writing: ContextVar[bool] = ContextVar("writing", default=False)


@contextmanager
def writing() -> Iterator[None]:
    """Outside a request, for a job that reads and then changes shared state while the
    site runs (``flask outbox send``): its transactions take the write lock first, as
    a POST's do. Other work outside requests begins plainly and may write only as the
    first thing it does in a transaction, or alone (seeding, restoring)."""
    token = _writing.set(True)
    try:
        yield
    finally:
        _writing.reset(token)


def wants_write_lock() -> bool:
    """Whether the transaction about to begin should take SQLite's write lock first."""
    if not has_request_context():
        return _writing.get()
    if request.method not in SAFE_METHODS:
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "writes_on_get", False))


def write_after_reading(write: Callable[[], object]) -> None:
    """End the read transaction (nothing in it was changed) and run ``write`` in a
    transaction of its own, committed. ``write`` should be one conditional statement
    (UPDATE ... WHERE, or an upsert) so that two requests at once agree. ORM objects
    loaded before are expired: render the page first.

    The note is the reader's own (how far they read, when their feed was fetched) and
    no page served to anyone else shows it, so it leaves the site's revision alone
    and the pages kept for visitors stay (``revision.quietly``)."""
    from .extensions import db
    from .revision import quietly

    db.session.rollback()
    with quietly():
        write()
        db.session.commit()


def configure_sqlite(app: Flask) -> None:
    """SQLite: foreign keys on, WAL, a busy timeout, and transactions begun as above."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from .extensions import db

    strict = bool(app.config.get("TESTING"))
    busy_timeout_ms = int(app.config.get("SQLITE_BUSY_TIMEOUT_MS", BUSY_TIMEOUT_MS))
    with app.app_context():
        engine = db.engine
        # An in-memory database (the unit tests') is one connection that every session
        # in the thread shares: one session's BEGIN would find another's transaction
        # open, and one's COMMIT would end the other's. Nothing can contend there, so
        # it keeps the driver's own transaction handling.
        in_memory = ":memory:" in str(engine.url) or not engine.url.database

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            if not in_memory:
                # Let SQLAlchemy's "begin" event below issue BEGIN, not the driver.
                dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        if in_memory:
            return

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Connection) -> None:
            if getattr(connection.connection.dbapi_connection, "in_transaction", False):
                # The test suite's in-memory database is one connection that the test
                # and its requests share: a transaction is already open on it.
                return
            immediate = wants_write_lock()
            connection.info["write_lock"] = immediate
            # Only a transaction a request began is checked: one a test or job began
            # outside requests may go on inside a request context it opens later.
            connection.info["checked"] = has_request_context() and not immediate
            connection.info["has_read"] = False
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        if strict:
            @event.listens_for(engine, "before_cursor_execute")
            def _check(connection: Connection, _cursor: Any, statement: str, *_: Any) -> None:
                if not connection.info.get("checked"):
                    return
                verb = statement.lstrip().split(None, 1)[0].upper() if statement else ""
                if verb in {"INSERT", "UPDATE", "DELETE", "REPLACE"}:
                    if connection.info["has_read"]:
                        raise RuntimeError(
                            f"{request.method} {request.endpoint} writes after reading in "
                            "a read-only transaction: SQLite would refuse it under load. "
                            "Use transactions.write_after_reading, or mark the view "
                            "with @transactions.writes."
                        )
                elif verb not in {"BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE"}:
                    connection.info["has_read"] = True
