"""Which database the tests run on: SQLite by default, PostgreSQL when
``TEST_DATABASE_URL`` names a server (``make test-postgres``, ``.ci/run``).

On PostgreSQL each pytest-xdist worker gets a database of its own, created when the
worker starts and dropped when it ends, with the schema built once; each test then
starts from empty tables (truncated, ids restarted) instead of a new in-memory
database. Tests that need real connections of their own (races, migrations, backups)
ask :func:`fresh_database` for a new empty database on the same server, or a new
SQLite file.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from partnerships.config import normalise_database_url


def server_url() -> URL | None:
    """The PostgreSQL server the suite runs against, or None for SQLite."""
    given = os.environ.get("TEST_DATABASE_URL", "").strip()
    return make_url(normalise_database_url(given)) if given else None


def on_postgresql() -> bool:
    return server_url() is not None


def _database_name(label: str) -> str:
    """Named for the xdist worker and the process, so two runs can share a server."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = re.sub(r"[^a-z0-9_]", "_", f"lp_test_{worker}_{os.getpid()}_{label}".lower())
    return name[:63]


def create_database(label: str) -> str:
    """Create an empty database named for this worker and ``label`` and return its URL."""
    server = server_url()
    assert server is not None, "create_database needs TEST_DATABASE_URL"
    name = _database_name(label)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    server = server_url()
    assert server is not None
    name = make_url(url).database
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def fresh_database(folder: Path, label: str = "own") -> Iterator[str]:
    """The URL of a new, empty database for an app of a test's own: a SQLite file in
    ``folder``, or a new database on the PostgreSQL server (dropped afterwards)."""
    if not on_postgresql():
        yield f"sqlite:///{folder / f'{label}.sqlite'}"
        return
    url = create_database(f"{label}_{uuid.uuid4().hex[:8]}")
    try:
        yield url
    finally:
        drop_database(url)
