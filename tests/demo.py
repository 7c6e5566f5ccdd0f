"""The Northbridge demo for tests that read it: loaded through ``load_demo`` once per
worker and day, then copied into each test's empty database.

Loading the demo runs every service it exercises (several seconds); about fifty tests
only read the result. Each of them gets the rows and uploaded files of a real load,
restored in a fraction of the time, so they still see exactly what ``flask seed demo``
makes. Tests of loading itself (idempotence, reruns, errors, the migrated schema) call
``load_demo`` directly. A copy is reused only on the UK day it was made, because the
demo is laid out relative to today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, insert, select, text

from partnerships.extensions import db
from partnerships.seed import load_demo
from partnerships.timeutil import today_uk


@dataclass
class _Copy:
    day: date
    summary: dict[str, int]
    rows: dict[str, list[dict[str, Any]]]
    files: dict[str, bytes]


_copy: _Copy | None = None


def _upload_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def take_rows() -> _Copy:
    """Every row and uploaded file of this test's database, to copy into another."""
    return _take_copy({})


def restore_rows(copy: _Copy) -> None:
    """Put ``take_rows``'s copy into this test's empty database (committed)."""
    _restore(copy)


def _take_copy(summary: dict[str, int]) -> _Copy:
    rows = {
        table.name: [dict(row) for row in db.session.execute(select(table)).mappings()]
        for table in db.metadata.sorted_tables
    }
    folder = _upload_folder()
    files = ({str(path.relative_to(folder)): path.read_bytes()
              for path in folder.rglob("*") if path.is_file()}
             if folder.exists() else {})
    return _Copy(today_uk(), summary, rows, files)


def _restore(copy: _Copy) -> None:
    # Some tables point at each other (an MoU and its current version): check foreign
    # keys at commit (SQLite), or not at all while copying rows that were valid when
    # taken (PostgreSQL; the test cluster's user may).
    sqlite = db.engine.dialect.name == "sqlite"
    if not sqlite:
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
    else:
        # Off for the copy (the pragma only takes effect outside a transaction, so on
        # the driver's connection, committed first), checked and on again after.
        db.session.commit()
        raw = db.session.connection().connection.dbapi_connection
        db.session.rollback()
        raw.commit()
        raw.execute("PRAGMA foreign_keys = OFF")
    for table in db.metadata.sorted_tables:
        if copy.rows[table.name]:
            db.session.execute(insert(table), copy.rows[table.name])
    if db.engine.dialect.name == "postgresql":
        # Explicit ids leave the sequences behind: move each to its table's largest id.
        for table in db.metadata.sorted_tables:
            if "id" in table.c and copy.rows[table.name]:
                top = db.session.execute(select(func.max(table.c.id))).scalar_one()
                db.session.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v)"),
                                   {"t": table.name, "v": top})
    folder = _upload_folder()
    for name, content in copy.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    db.session.commit()
    if sqlite:
        assert not raw.execute("PRAGMA foreign_key_check").fetchall()
        raw.execute("PRAGMA foreign_keys = ON")


def demo_loaded() -> dict[str, int]:
    """The demo in this test's database (committed); returns ``load_demo``'s summary."""
    global _copy
    if _copy is None or _copy.day != today_uk():
        summary = load_demo()
        db.session.commit()
        _copy = _take_copy(summary)
        return summary
    _restore(_copy)
    return dict(_copy.summary)
