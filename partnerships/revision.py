"""The site's revision: a value every committed change to the data replaces.

The page cache (``pagecache.py``) keeps pages rendered for visitors who are not signed
in, and must never serve one after the data it shows has changed. Working out which
rows each page read would be fragile; instead one row, ``site_revision``, gets a new
random value in every transaction that writes anything, as the last statement before
its commit. A cached page is filed under the value read before the page's own queries,
so it is served only while no change at all has been committed since.

Why this is exact:

- The new value commits atomically with the change, so a reader that sees the new
  value sees the change (SQLite WAL: the first read fixes the snapshot; PostgreSQL's
  READ COMMITTED: each statement sees everything committed before it starts).
- A page rendered from data newer than its value is only ever served to readers of
  that same value, who are at worst shown something newer than they asked for.
- The value is random, not a counter, so a database restored from a backup never
  reuses a value that a running process has filed other pages under.

Writes are noticed per session: the ORM's flushes and any INSERT, UPDATE or DELETE run
through ``Session.execute`` (text included). The bump runs in ``before_commit`` after
flushing what is pending, so it is the last statement of the transaction: on
PostgreSQL the row's lock is held only while committing, and a transaction holding it
never waits for another lock, so it cannot deadlock. Writers queue on it briefly
(SQLite has one writer at a time anyway).

Not counted: writes inside :func:`quietly`, which are for what no page kept for a
visitor shows: a reader's own notes (how far someone has read a thread, when a
personal feed was last fetched: ``transactions.write_after_reading``), and sending the
outbox and the digests (seen only signed in); and work outside sessions (migrations,
seeding's table drops, ``flask restore``, which sets a new value itself). A missing row
(an empty database) reads as None, and nothing is cached until a write inserts it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import BigInteger, Integer, event, text
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from .extensions import Model, db

ROW_ID = 1
_WROTE = "site_revision_wrote"
_WRITE_VERB = re.compile(r"\s*(?:INSERT|UPDATE|DELETE|REPLACE|WITH)\b", re.IGNORECASE)
_BUMP = text(
    "INSERT INTO site_revision (id, value) VALUES (:id, :value) "
    "ON CONFLICT (id) DO UPDATE SET value = excluded.value"
)
_quiet: ContextVar[bool] = ContextVar("site_revision_quiet", default=False)


class SiteRevision(Model):
    """One row: the value the last committed change to the data left."""

    __tablename__ = "site_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False)


_READ = f"SELECT value FROM site_revision WHERE id = {ROW_ID}"


def current() -> int | None:
    """The revision as this transaction sees it (None on a database never written).

    Read on every request of a visitor not signed in, so as plain SQL on the session's
    connection: through the ORM, building and keying the statement cost a third of a
    kept page's time."""
    value = db.session.connection().exec_driver_sql(_READ).scalar()
    return None if value is None else int(value)


@contextmanager
def quietly() -> Iterator[None]:
    """Writes in the block leave the revision alone: only for notes that no page
    served to another visitor shows (see the module docstring)."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def _note_flush(session: Session, _context: Any) -> None:
    if not _quiet.get() and (session.new or session.dirty or session.deleted):
        session.info[_WROTE] = True


def _note_execute(state: ORMExecuteState) -> None:
    if _quiet.get() or state.is_select:
        return
    statement: Any = state.statement
    if state.is_insert or state.is_update or state.is_delete or (
            not getattr(statement, "is_dml", False)
            and _WRITE_VERB.match(str(getattr(statement, "text", "")))):
        state.session.info[_WROTE] = True


def _bump(session: Session) -> None:
    if _quiet.get() or session.in_nested_transaction():
        return  # a savepoint's release: the outer commit bumps, last
    session.flush()  # what is pending is written first, so the bump is the last write
    if not session.info.pop(_WROTE, False):
        return
    set_new(session)
    session.info.pop(_WROTE, None)  # the bump itself is not a change to bump for


def _forget(session: Session) -> None:
    session.info.pop(_WROTE, None)


def set_new(connection: Any) -> None:
    """Give the revision a new value through ``connection`` or a session (committed by
    the caller): at a session's commit, and for changes made outside sessions, such as
    a restore."""
    connection.execute(_BUMP, {"id": ROW_ID, "value": secrets.randbits(62)})


for _name, _listener in (("after_flush", _note_flush), ("do_orm_execute", _note_execute),
                         ("before_commit", _bump), ("after_rollback", _forget)):
    if not event.contains(Session, _name, _listener):
        event.listen(Session, _name, _listener)
