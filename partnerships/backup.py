"""Backups that restore: ``flask backup DIR`` and ``flask restore DIR``.

A backup is one folder, ``DIR/backup-<UTC time>/``, holding a consistent copy of the
database, the uploaded files that copy points at, ``manifest.json`` (when, which app
version and migration, which database, each file's size and SHA-256) and
``SHA256SUMS`` (the same checksums, for ``sha256sum -c``).

Why it is done this way (each rule answers a way backups were measured to fail):

- Copying the SQLite file loses what is still in its write-ahead log (9 of 185
  acknowledged replies once). SQLite's online backup API reads one consistent
  snapshot, WAL included, while the app goes on writing; PostgreSQL's ``pg_dump``
  does the same through an exported snapshot.
- Copying the upload folder separately from the database leaves records without
  their file (2 to 4 papers once). So the list of files to copy is read from the
  database *copy*, and the files are copied *after* the snapshot: uploads are never
  changed in place (``uploads.save`` writes a new random name through a ``.part``
  file and ``os.replace``; files are only ever added or unlinked), so every file the
  snapshot points at is still there unless its record was removed meanwhile and the
  file deleted (by the view or ``flask uploads prune``). That case is written into
  the manifest and the command exits non-zero. Files added after the snapshot are
  not needed: the copy does not point at them.
- A backup is checked before it is trusted: restore verifies every checksum before
  touching anything, refuses a database that already has data unless told, and
  afterwards checks that every record's file is there with the bytes its record
  describes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import Connection, Engine, create_engine, inspect, select, text
from sqlalchemy.engine import URL

from . import clock
from .extensions import db
from .revision import SiteRevision
from .revision import set_new as set_new_revision

FORMAT = 1
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
SQLITE_FILE = "database.sqlite"
POSTGRESQL_FILE = "database.dump"
UPLOADS = "uploads"
_CHUNK = 1024 * 1024
# How long pg_restore waits for a table the running app is using before it gives up
# (rather than hanging behind it): stop the app before restoring.
_LOCK_TIMEOUT = "30s"

POSTGRESQL_BY_HAND = (
    "Install the PostgreSQL client tools (Debian: postgresql-client, of the server's "
    "major version or newer) so that pg_dump and pg_restore are on PATH, or back up "
    "by hand: `pg_dump -Fc -f database.dump \"$DATABASE_URL\"` (with the URL written "
    "postgresql://...), then copy UPLOAD_FOLDER after the dump has finished."
)


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


class DamagedBackup(BackupError):
    """A file in a backup folder is missing or does not match its checksum."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"The backup is damaged: {name} {problem}. Nothing was restored.")
        self.name = name


@dataclass(frozen=True)
class FileRecord:
    """A row that points at an uploaded file (a meeting paper, an MoU attachment)."""

    table: str
    record_id: int
    stored_name: str
    sha256: str

    @property
    def label(self) -> str:
        return f"{self.table} {self.record_id}"


@dataclass(frozen=True)
class Snapshot:
    """What was read from the database copy itself."""

    kind: str
    filename: str
    alembic_revision: str | None
    records: list[FileRecord]


@dataclass
class BackupResult:
    folder: Path
    manifest: dict[str, Any]

    @property
    def problems(self) -> list[dict[str, Any]]:
        return list(self.manifest["problems"])


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    database: str
    files: int
    records_checked: int
    problems: list[str] = field(default_factory=list)
    upgrade_hint: str | None = None


# --- Small helpers ------------------------------------------------------------------------


def database_kind(engine: Engine) -> str:
    """``sqlite`` or ``postgresql``: the two databases the app supports."""
    kind = engine.dialect.name
    if kind not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {kind}.")
    return kind


def app_version() -> str:
    try:
        return metadata.version("local-partnerships")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a bare checkout
        return "unknown"


def safe_stored_name(name: str) -> bool:
    """Only names ``uploads.save`` could have made: no folders, no hidden files."""
    return bool(name) and "/" not in name and "\\" not in name and not name.startswith(".") \
        and name not in ("..", ".")


def _sha256_of(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _copy_file(source: Path, target: Path) -> tuple[str, int]:
    """Copy through a ``.part`` file, fsynced, then renamed into place; return the
    SHA-256 and size of what was written (read once, while copying)."""
    digest = hashlib.sha256()
    size = 0
    partial = target.with_name(f".{target.name}.part")
    with open(source, "rb") as reader, open(partial, "wb") as writer:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    os.replace(partial, target)
    return digest.hexdigest(), size


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def file_records(connection: Connection) -> list[FileRecord]:
    """Every row that points at an uploaded file, read through ``connection`` (the
    database copy when backing up, the restored database afterwards)."""
    from .modelbase import StoredFileMixin

    present = set(inspect(connection).get_table_names())
    records: list[FileRecord] = []
    for model in StoredFileMixin.__subclasses__():
        table = model.__table__  # type: ignore[attr-defined]
        if table.name not in present:
            continue
        rows = connection.execute(select(table.c.id, table.c.stored_name, table.c.sha256)
                                  .order_by(table.c.id))
        records.extend(FileRecord(table.name, row.id, row.stored_name, row.sha256)
                       for row in rows)
    return records


def alembic_revision(connection: Connection) -> str | None:
    """The migration the database is at (None when it was made without Alembic)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    revisions = sorted(connection.scalars(text("SELECT version_num FROM alembic_version")))
    return ",".join(revisions) or None


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A connection string for pg_dump/pg_restore and the environment to run them in.
    The password goes in the environment (PGPASSWORD), never on the command line, where
    any user of the machine could read it."""
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    dsn = url.set(drivername="postgresql", password=None).render_as_string(
        hide_password=False)
    return dsn, environment


def _run(command: list[str], environment: Mapping[str, str], what: str) -> None:
    finished = subprocess.run(command, env=dict(environment), capture_output=True, text=True,
                              check=False)
    if finished.returncode != 0:
        detail = (finished.stderr or finished.stdout).strip()
        raise BackupError(f"{what} failed (exit {finished.returncode}): {detail}")


# --- Taking a backup ----------------------------------------------------------------------


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:" or "mode=memory" in str(engine.url):
        raise BackupError("The database is in memory: there is nothing on disk to back up.")
    return Path(database)


def _snapshot_sqlite(engine: Engine, folder: Path) -> Snapshot:
    """SQLite's online backup API, in one step: one read transaction, so one consistent
    snapshot including what is still in the WAL, while writers carry on."""
    source_path = _sqlite_path(engine)
    if not source_path.is_file():
        raise BackupError(f"There is no database at {source_path}.")
    target = folder / SQLITE_FILE
    with closing(sqlite3.connect(source_path, timeout=30)) as source, \
            closing(sqlite3.connect(target)) as copy:
        source.backup(copy, pages=-1)
        # The copy is one self-contained file: no -wal or -shm beside it.
        copy.execute("PRAGMA journal_mode=DELETE")
        if (verdict := copy.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
            raise BackupError(f"The database copy failed SQLite's check: {verdict}")
    reader = create_engine(f"sqlite:///{target}")
    try:
        with reader.connect() as connection:
            records = file_records(connection)
            revision = alembic_revision(connection)
    finally:
        reader.dispose()
    return Snapshot("sqlite", SQLITE_FILE, revision, records)


def _snapshot_postgresql(engine: Engine, folder: Path) -> Snapshot:
    """``pg_dump -Fc`` of a snapshot exported by a read-only REPEATABLE READ transaction,
    from which the file list and migration are read too: the dump and the list are the
    same moment's."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError(f"pg_dump is not on PATH. {POSTGRESQL_BY_HAND}")
    dsn, environment = _libpq(engine.url)
    target = folder / POSTGRESQL_FILE
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ",
                                                  postgresql_readonly=True)
        with connection.begin():
            snapshot_id = connection.scalar(text("SELECT pg_export_snapshot()"))
            records = file_records(connection)
            revision = alembic_revision(connection)
            # The transaction stays open until pg_dump has finished with its snapshot.
            _run([pg_dump, "--format=custom", f"--snapshot={snapshot_id}", "--no-password",
                  "--file", str(target), "--dbname", dsn], environment, "pg_dump")
    return Snapshot("postgresql", POSTGRESQL_FILE, revision, records)


def snapshot_database(folder: Path) -> Snapshot:
    """Copy the database into ``folder``; return what the copy points at."""
    engine = db.engine
    if database_kind(engine) == "sqlite":
        return _snapshot_sqlite(engine, folder)
    return _snapshot_postgresql(engine, folder)


def copy_uploads(records: Iterable[FileRecord], source: Path, target: Path
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Copy each file the records point at (once, however many records share it).
    Returns the manifest's file entries and its problems: a file gone, or one whose
    bytes are not those its record describes."""
    target.mkdir()
    by_name: dict[str, list[FileRecord]] = {}
    for record in records:
        by_name.setdefault(record.stored_name, []).append(record)
    files: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    for name in sorted(by_name):
        labels = [record.label for record in by_name[name]]
        if not safe_stored_name(name):
            problems.append({"stored_name": name, "records": labels,
                             "problem": "not a name the app stores files under"})
            continue
        try:
            sha256, size = _copy_file(source / name, target / name)
        except FileNotFoundError:
            problems.append({"stored_name": name, "records": labels, "problem": (
                "missing: deleted after the database copy was taken (its record was "
                "removed, or `flask uploads prune` ran), or lost before")})
            continue
        files.append({"path": f"{UPLOADS}/{name}", "size": size, "sha256": sha256,
                      "records": labels})
        expected = {record.sha256 for record in by_name[name]}
        if expected != {sha256}:
            problems.append({"stored_name": name, "records": labels, "problem": (
                "its bytes differ from those recorded when it was uploaded")})
    _fsync_folder(target)
    return files, problems


def _write_json(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())


def _write_sums(folder: Path, sums: dict[str, str]) -> None:
    with open(folder / SUMS, "w", encoding="utf-8") as handle:
        for name, sha256 in sorted(sums.items()):
            handle.write(f"{sha256}  {name}\n")
        handle.flush()
        os.fsync(handle.fileno())


def make_backup(parent: Path) -> BackupResult:
    """Back up the database and the files it points at into a new dated folder under
    ``parent``. The folder is built as ``.backup-<time>.partial`` and renamed when
    complete, so a backup cut short never looks like one that finished. Only its owner
    may read it."""
    created = clock.now()
    name = f"backup-{created:%Y%m%dT%H%M%SZ}"
    parent.mkdir(parents=True, exist_ok=True)
    partial = parent / f".{name}.partial"
    partial.mkdir(mode=0o700)  # personal data and password hashes: its owner's only
    try:
        snapshot = snapshot_database(partial)
        files, problems = copy_uploads(snapshot.records,
                                       Path(current_app.config["UPLOAD_FOLDER"]),
                                       partial / UPLOADS)
        sha256, size = _sha256_of(partial / snapshot.filename)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "app_version": app_version(),
            "alembic_revision": snapshot.alembic_revision,
            "database": {"kind": snapshot.kind, "path": snapshot.filename, "size": size,
                         "sha256": sha256},
            "files": files,
            "records": len(snapshot.records),
            "problems": problems,
            "complete": not problems,
        }
        _write_json(partial / MANIFEST, manifest)
        sums = {snapshot.filename: sha256, MANIFEST: _sha256_of(partial / MANIFEST)[0]}
        sums.update({entry["path"]: entry["sha256"] for entry in files})
        _write_sums(partial, sums)
        _fsync_folder(partial)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    folder = parent / name
    number = 1
    while folder.exists():  # two backups in one second
        number += 1
        folder = parent / f"{name}-{number}"
    partial.rename(folder)
    _fsync_folder(parent)
    return BackupResult(folder, manifest)


# --- Checking and restoring ---------------------------------------------------------------


def _read_sums(folder: Path) -> dict[str, str]:
    path = folder / SUMS
    if not path.is_file():
        raise DamagedBackup(SUMS, "is missing")
    sums: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise DamagedBackup(SUMS, "is not readable text") from error
    for number, line in enumerate(lines, 1):
        sha256, _, name = line.partition("  ")
        if len(sha256) != 64 or not name or name.startswith("/") or ".." in name.split("/"):
            raise DamagedBackup(SUMS, f"has a damaged line {number}")
        sums[name] = sha256
    return sums


def verify_backup(folder: Path) -> dict[str, Any]:
    """Check every file in a backup folder against its checksum before anything is
    restored; return the manifest. Raises ``DamagedBackup`` naming the first bad file."""
    if not folder.is_dir():
        raise BackupError(f"There is no backup folder at {folder}.")
    sums = _read_sums(folder)
    if MANIFEST not in sums:
        raise DamagedBackup(SUMS, f"does not list {MANIFEST}")
    for name, expected in sorted(sums.items(), key=lambda item: item[0] != MANIFEST):
        path = folder / name
        if not path.is_file():
            raise DamagedBackup(name, "is missing")
        if _sha256_of(path)[0] != expected:
            raise DamagedBackup(name, "does not match its checksum in SHA256SUMS")
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        database = manifest["database"]
        entries = [database, *manifest["files"]]
        if manifest.get("format") != FORMAT:
            raise BackupError(f"This backup's format ({manifest.get('format')}) is not one "
                              f"this version of the app reads ({FORMAT}).")
    except (ValueError, KeyError, TypeError) as error:
        raise DamagedBackup(MANIFEST, "is not a backup manifest") from error
    for entry in entries:
        if sums.get(entry["path"]) != entry["sha256"]:
            raise DamagedBackup(entry["path"], "is not in SHA256SUMS as the manifest says")
        if entry is not database and not safe_stored_name(
                entry["path"].removeprefix(f"{UPLOADS}/")):
            raise DamagedBackup(MANIFEST, f"names a file outside {UPLOADS}/")
    return manifest


def database_has_data(engine: Engine) -> bool:
    """Whether any of the app's tables holds a row (a database fresh from
    ``flask db upgrade``, or with no tables at all, has none)."""
    with engine.connect() as connection:
        present = set(inspect(connection).get_table_names())
        for table in db.metadata.sorted_tables:
            if table.name in present and connection.execute(
                    select(text("1")).select_from(table).limit(1)).first():
                return True
    return False


def _restore_sqlite(engine: Engine, backup_file: Path) -> str:
    """The backup API again, from the copy into the app's database file, so the file
    is replaced through SQLite's own locking and journal (never under a reader)."""
    target = _sqlite_path(engine)
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)) as source, \
            closing(sqlite3.connect(target, timeout=30)) as destination:
        source.backup(destination, pages=-1)
    return str(target)


def _restore_postgresql(engine: Engine, dump: Path) -> str:
    """``pg_restore --clean --if-exists`` in one transaction: all or nothing. Objects
    are owned by the app's own database user (``--no-owner --no-privileges``), so a
    dump restores under another role name."""
    pg_restore = shutil.which("pg_restore")
    if pg_restore is None:
        raise BackupError(
            "pg_restore is not on PATH. Install the PostgreSQL client tools (Debian: "
            "postgresql-client), or restore by hand: `pg_restore --clean --if-exists "
            f"--no-owner --no-privileges --single-transaction -d \"$DATABASE_URL\" {dump}` "
            "and copy its uploads/ folder into UPLOAD_FOLDER.")
    dsn, environment = _libpq(engine.url)
    environment["PGOPTIONS"] = " ".join(
        filter(None, [environment.get("PGOPTIONS"), f"-c lock_timeout={_LOCK_TIMEOUT}"]))
    _run([pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges",
          "--single-transaction", "--no-password", "--dbname", dsn, str(dump)],
         environment, "pg_restore (is the app stopped?)")
    return engine.url.render_as_string(hide_password=True)


def check_files(connection: Connection, folder: Path) -> tuple[int, list[str]]:
    """Every record's file is in ``folder`` with the bytes its record describes.
    Returns how many records were checked and what is wrong."""
    records = file_records(connection)
    problems = []
    hashes: dict[str, str | None] = {}
    for record in records:
        if record.stored_name not in hashes:
            path = folder / record.stored_name
            hashes[record.stored_name] = (_sha256_of(path)[0] if safe_stored_name(
                record.stored_name) and path.is_file() else None)
        found = hashes[record.stored_name]
        if found is None:
            problems.append(f"{record.label}: its file {record.stored_name} is missing")
        elif found != record.sha256:
            problems.append(f"{record.label}: its file {record.stored_name} differs from "
                            "the one uploaded")
    return len(records), problems


def _upgrade_hint(revision: str | None) -> str | None:
    """Say so when the backup was taken at another migration than this app's."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    migrate = current_app.extensions.get("migrate")
    if revision is None or migrate is None:
        return None
    config = AlembicConfig()
    config.set_main_option("script_location", migrate.directory)
    heads = ScriptDirectory.from_config(config).get_heads()
    if revision.split(",") == sorted(heads):
        return None
    return (f"The backup is at migration {revision}; this version of the app expects "
            f"{','.join(sorted(heads))}: run `flask db upgrade` before starting it.")


def restore_backup(folder: Path, *, force: bool = False) -> RestoreResult:
    """Check the backup, then put its database and files in place of this app's, then
    check that every record's file is there. The app should be stopped meanwhile."""
    manifest = verify_backup(folder)
    engine = db.engine
    kind = database_kind(engine)
    if manifest["database"]["kind"] != kind:
        raise BackupError(f"This backup is of a {manifest['database']['kind']} database; "
                          f"the app is configured for {kind} (DATABASE_URL).")
    db.session.remove()
    if not force and database_has_data(engine):
        raise BackupError("The database already has data: restoring would replace all of it. "
                          "Run again with --force if that is what you want.")
    engine.dispose()  # no pooled connection may hold the old database open
    backup_file = folder / manifest["database"]["path"]
    if kind == "sqlite":
        where = _restore_sqlite(engine, backup_file)
    else:
        where = _restore_postgresql(engine, backup_file)
    engine.dispose()
    uploads = Path(current_app.config["UPLOAD_FOLDER"])
    uploads.mkdir(parents=True, exist_ok=True)
    for entry in manifest["files"]:
        _copy_file(folder / entry["path"], uploads / Path(entry["path"]).name)
    _fsync_folder(uploads)
    with engine.begin() as connection:
        # A running site's kept pages were filed under the revision it last read: a new
        # one, now the files are back, retires them (pagecache.py). A backup from before
        # the revision existed has no table for it, and nothing was filed under it.
        if inspect(connection).has_table(SiteRevision.__tablename__):
            set_new_revision(connection)
    with engine.connect() as connection:
        checked, problems = check_files(connection, uploads)
    return RestoreResult(manifest=manifest, database=where, files=len(manifest["files"]),
                         records_checked=checked, problems=problems,
                         upgrade_hint=_upgrade_hint(manifest.get("alembic_revision")))


# --- Commands (registered in cli.py): they only report what the functions above did ----


def _size_text(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    amount = float(size)
    for unit in ("KB", "MB", "GB"):
        amount /= 1024
        if amount < 1024 or unit == "GB":
            break
    return f"{amount:.1f} {unit}"


@contextmanager
def _as_click_errors() -> Iterator[None]:
    try:
        yield
    except BackupError as error:
        raise click.ClickException(str(error)) from error


@click.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(directory: Path) -> None:
    """Back up the database and the uploaded files it points at into a new folder
    DIRECTORY/backup-<UTC time>/ with a manifest and checksums. Safe while the app runs.
    Exits 1 if a file the database points at could not be copied."""
    with _as_click_errors():
        result = make_backup(directory)
    manifest = result.manifest
    database = manifest["database"]
    total = sum(entry["size"] for entry in manifest["files"])
    click.echo(f"Backed up the {database['kind']} database ({_size_text(database['size'])}, "
               f"migration {manifest['alembic_revision'] or 'none'}) and "
               f"{len(manifest['files'])} uploaded file(s) ({_size_text(total)}) "
               f"to {result.folder}")
    if result.problems:
        click.echo(f"INCOMPLETE: {len(result.problems)} file(s) the database copy points at "
                   f"are not in the backup (listed in {MANIFEST}):", err=True)
        for problem in result.problems:
            click.echo(f"  {problem['stored_name']} ({', '.join(problem['records'])}): "
                       f"{problem['problem']}", err=True)
        raise SystemExit(1)


@click.command("restore")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace a database that already has data.")
@with_appcontext
def restore_command(directory: Path, force: bool) -> None:
    """Restore a backup folder made by `flask backup` (stop the app first): check
    every checksum, restore the database and the files into UPLOAD_FOLDER, then check
    that every record's file is there. Refuses a database with data unless --force."""
    with _as_click_errors():
        result = restore_backup(directory, force=force)
    manifest = result.manifest
    click.echo(f"Checked the backup taken {manifest['created_at']} (app "
               f"{manifest['app_version']}): every checksum matches.")
    if not manifest.get("complete", True):
        click.echo(f"This backup is incomplete: {len(manifest['problems'])} file(s) "
                   f"were missing when it was taken (see {MANIFEST}).", err=True)
    click.echo(f"Restored the database into {result.database}.")
    click.echo(f"Restored {result.files} file(s) into {current_app.config['UPLOAD_FOLDER']}.")
    if result.upgrade_hint:
        click.echo(result.upgrade_hint)
    if result.problems:
        click.echo(f"{len(result.problems)} record(s) have no good file:", err=True)
        for problem in result.problems:
            click.echo(f"  {problem}", err=True)
        raise SystemExit(1)
    click.echo(f"Checked {result.records_checked} record(s): every file is present "
               "and as uploaded.")
