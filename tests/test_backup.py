"""Backups that restore (``flask backup DIR``, ``flask restore DIR``), through the CLI
runner and the real services, on a database with real connections
(``file_database_app``: a SQLite file, or PostgreSQL when the suite runs there).

What was measured to go wrong before there was a command: a copy of the SQLite file
lost acknowledged replies still in the WAL, and copying the upload folder separately
left paper records without their file. So: restore into a fresh app (new database, new
upload folder) and check every record's file; write (replies and papers, over HTTP)
while the backup runs and check that everything acknowledged before it began is back;
a damaged backup, a database with data and a file deleted mid-backup are all refused
or reported.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from werkzeug.datastructures import FileStorage

from partnerships import backup, revision
from partnerships.accounts.models import User
from partnerships.extensions import db
from partnerships.factories import (
    accounts,
    forums,
    meetings,
    mous,
    organisations,
    partnership,
    setting_up,
)
from partnerships.forums.models import Post
from partnerships.meetings import agenda
from partnerships.meetings.agenda import ItemDetails
from partnerships.meetings.models import Paper
from partnerships.mous import services as mou_services
from partnerships.mous.models import MouAttachment
from partnerships.timeutil import today_uk
from tests.concurrency import csrf_token, file_database_app, signed_in_client
from tests.conftest import AppClient

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
STAMPED = re.compile(r"backup-\d{8}T\d{6}Z")


def _pdf(label: str) -> bytes:
    """A PDF whose bytes are its own (so each paper is a file of its own)."""
    return PDF + f"% {label}\n".encode()


@dataclass
class Site:
    """What the tests need to reach again, as plain values (rows do not outlive the app)."""

    convenor_email: str
    member_email: str
    meeting_id: int
    item_ids: list[int]
    thread_url: str


@contextmanager
def site_app(folder: Path) -> Iterator[Flask]:
    """``file_database_app``, skipping on PostgreSQL when its client tools are missing
    (the backup then cannot run, and says so: see
    ``test_postgresql_backup_without_pg_dump_says_how``)."""
    folder.mkdir()
    with file_database_app(folder) as app:
        if db.engine.dialect.name == "postgresql":
            missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
            if missing:
                pytest.skip(f"{' and '.join(missing)} not on PATH: the PostgreSQL backup "
                            "path needs the client tools (Debian: postgresql-client)")
        yield app


def build_site(items: int = 2, papers_per_item: int = 2) -> Site:
    """A partnership with a forum, a discussion, a meeting whose agenda items have
    papers, and an MoU draft with an attachment: every kind of record with a file."""
    officer = accounts.user("Olive Officer")
    convenor = accounts.user("Carla Convenor")
    member = accounts.user("Mo Member")
    food_bank = organisations.organisation("Eastside Food Bank", admin=member)
    council = organisations.organisation("Northbridge Council", admin=officer)
    place = partnership.partnership("Northbridge Together", officers=[officer],
                                    members=[food_bank, council])
    forum = forums.forum(place, "Health Forum", convenors=[convenor], members=[member])
    thread = forums.thread(forum, member, "Winter plan")
    meeting = meetings.meeting(forum, "Spring meeting", day=today_uk() + timedelta(days=30),
                               start=time(10), end=time(12))[0]
    with setting_up():
        made = [agenda.add_item(convenor, meeting, ItemDetails(title=f"Item {n}"))
                for n in range(items)]
    for item in made:
        for n in range(papers_per_item):
            meetings.paper(item, f"Paper {item.title} {n}", "paper.pdf",
                           _pdf(f"{item.title} {n}"), by=convenor)
    mou = mous.draft(officer, place, [food_bank, council])
    assert mou.draft_version is not None
    with setting_up():
        mou_services.add_attachment(officer, mou.draft_version, FileStorage(
            io.BytesIO(_pdf("MoU annex")), filename="Annex.pdf"))
    db.session.commit()
    return Site(convenor.email, member.email, meeting.id, [item.id for item in made],
                f"/partnerships/{place.slug}/forums/{forum.slug}/threads/{thread.id}")


def stored_files(app: Flask) -> dict[str, bytes]:
    """Every record's stored file name and the bytes in the upload folder (KeyError
    if a record's file is not there)."""
    folder = Path(app.config["UPLOAD_FOLDER"])
    names = set(db.session.scalars(select(Paper.stored_name)))
    names |= set(db.session.scalars(select(MouAttachment.stored_name)))
    return {name: (folder / name).read_bytes() for name in names}


def run(app: Flask, *args: str) -> Any:
    db.session.remove()  # the command's own connections only, as from a shell
    return app.test_cli_runner().invoke(args=list(args))


def only_backup(parent: Path) -> Path:
    (folder,) = list(parent.iterdir())
    assert STAMPED.fullmatch(folder.name), folder.name
    return folder


def user(email: str) -> User:
    found = db.session.scalar(select(User).where(User.email == email))
    assert found is not None
    return found


def reply_bodies() -> set[str]:
    return set(db.session.scalars(select(Post.body)))


# --- A backup restores into a fresh app -----------------------------------------------------


def test_a_backup_restores_into_a_fresh_app_with_every_file(tmp_path: Path) -> None:
    with site_app(tmp_path / "live") as live:
        site = build_site()
        files = stored_files(live)
        replies = reply_bodies()
        assert len(files) == 5  # four papers and an MoU attachment
        kind = db.engine.dialect.name
        backed_up_revision = revision.current()
        assert backed_up_revision is not None

        result = run(live, "backup", str(tmp_path / "backups"))
        assert result.exit_code == 0, result.output
        assert "Backed up the" in result.output and "5 uploaded file(s)" in result.output

    folder = only_backup(tmp_path / "backups")
    assert folder.stat().st_mode & 0o077 == 0  # its owner's only
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["database"]["kind"] == kind
    assert manifest["database"]["path"] == ("database.sqlite" if kind == "sqlite"
                                            else "database.dump")
    assert manifest["app_version"] and manifest["created_at"].endswith("Z")
    assert "alembic_revision" in manifest and manifest["complete"] is True
    assert {Path(entry["path"]).name: (entry["size"], entry["sha256"])
            for entry in manifest["files"]} == {
        name: (len(data), hashlib.sha256(data).hexdigest()) for name, data in files.items()}
    # SHA256SUMS is what `sha256sum -c` reads, and it covers every file in the folder.
    sums = dict(line.split("  ", 1)[::-1]
                for line in (folder / "SHA256SUMS").read_text().splitlines())
    listed = {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}
    assert set(sums) == listed - {"SHA256SUMS"}
    for name, sha256 in sums.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == sha256

    with site_app(tmp_path / "fresh") as fresh:
        assert not backup.database_has_data(db.engine)
        assert not any(Path(fresh.config["UPLOAD_FOLDER"]).glob("*"))

        result = run(fresh, "restore", str(folder))
        assert result.exit_code == 0, result.output
        assert "every checksum matches" in result.output
        assert "Restored 5 file(s)" in result.output
        assert "Checked 5 record(s): every file is present" in result.output

        assert stored_files(fresh) == files
        assert reply_bodies() == replies
        # A new revision: pages a running site kept before the restore are not served.
        assert revision.current() not in (None, backed_up_revision)
        # And the site serves them: the convenor downloads each paper.
        client = signed_in_client(fresh, user(site.convenor_email))
        papers = db.session.execute(select(Paper.id, Paper.stored_name)).all()
        for paper_id, stored_name in papers:
            response = client.get(f"/meetings/{site.meeting_id}/papers/{paper_id}")
            assert response.status_code == 200
            assert response.data == files[stored_name]
            response.close()


# --- Writes while a backup runs --------------------------------------------------------------


class Writers:
    """Two people writing over HTTP until told to stop: a member replying in a
    discussion and the convenor adding papers. A write counts as acknowledged once its
    response (a 303) has come back, as a person would see it."""

    def __init__(self, app: Flask, site: Site) -> None:
        self.replies: list[str] = []
        self.papers: list[str] = []
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.changed = threading.Condition()
        self.threads = [
            threading.Thread(target=self._reply, args=(
                signed_in_client(app, user(site.member_email)), site.thread_url)),
            threading.Thread(target=self._add_papers, args=(
                signed_in_client(app, user(site.convenor_email)), site)),
        ]

    def _acknowledge(self, into: list[str], what: str) -> None:
        with self.changed:
            into.append(what)
            self.changed.notify_all()

    def _reply(self, client: AppClient, url: str) -> None:
        token = csrf_token(client, url)
        n = 0
        while not self.stop.is_set():
            n += 1
            body = f"Reply {n}, written while the backup runs."
            response = client.post(url + "/reply", data={"body": body, "csrf_token": token})
            if response.status_code != 303:
                self.failures.append(f"reply {n}: {response.status_code}")
                return
            self._acknowledge(self.replies, body)

    def _add_papers(self, client: AppClient, site: Site) -> None:
        base = f"/meetings/{site.meeting_id}/agenda/items"
        token = csrf_token(client, f"{base}/{site.item_ids[0]}/papers/new")
        room = agenda.PAPERS_PER_ITEM - 1  # each item has one paper already
        for n in range(room * len(site.item_ids)):
            if self.stop.is_set():
                return
            title = f"Late paper {n}"
            item_id = site.item_ids[n % len(site.item_ids)]
            response = client.post(f"{base}/{item_id}/papers/new", data={
                "title": title, "csrf_token": token,
                "file": (io.BytesIO(_pdf(title)), "late.pdf")})
            if response.status_code != 303:
                self.failures.append(f"paper {n}: {response.status_code}")
                return
            self._acknowledge(self.papers, title)

    def wait_for(self, replies: int, papers: int) -> None:
        """Until at least this many of each are acknowledged (or a writer failed)."""
        with self.changed:
            assert self.changed.wait_for(
                lambda: self.failures or (len(self.replies) >= replies
                                          and len(self.papers) >= papers), timeout=60)
        assert not self.failures, self.failures

    def __enter__(self) -> Writers:
        db.session.commit()  # the site as built is committed before anyone writes
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def test_writes_while_a_backup_runs_everything_acknowledged_before_it_is_restored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with site_app(tmp_path / "live") as live:
        site = build_site(items=6, papers_per_item=1)
        db.session.remove()
        seen: dict[str, list[str]] = {}
        snapshot = backup.snapshot_database

        with Writers(live, site) as writers:
            writers.wait_for(replies=3, papers=2)
            # Acknowledged before the backup began: each of these must come back.
            before = {"replies": list(writers.replies), "papers": list(writers.papers)}

            def snapshot_amid_writes(folder: Path) -> backup.Snapshot:
                # Writes go on up to the snapshot and while the files are copied after it,
                # with no sleeps: each wait is for writes acknowledged meanwhile.
                writers.wait_for(len(before["replies"]) + 3, len(before["papers"]) + 1)
                seen["replies"], seen["papers"] = list(writers.replies), list(writers.papers)
                taken = snapshot(folder)
                writers.wait_for(len(seen["replies"]) + 3, len(seen["papers"]) + 2)
                return taken

            monkeypatch.setattr(backup, "snapshot_database", snapshot_amid_writes)
            result = run(live, "backup", str(tmp_path / "backups"))
        assert not writers.failures, writers.failures
        assert result.exit_code == 0, result.output
        assert len(writers.papers) > len(seen["papers"])  # papers came in mid-backup

    folder = only_backup(tmp_path / "backups")
    with site_app(tmp_path / "fresh") as fresh:
        result = run(fresh, "restore", str(folder))
        assert result.exit_code == 0, result.output

        replies = reply_bodies()
        assert set(before["replies"]) <= set(seen["replies"]) <= replies
        titles = set(db.session.scalars(select(Paper.title)))
        assert set(before["papers"]) <= set(seen["papers"]) <= titles
        # Every paper record has its file, with the bytes it was uploaded with.
        for paper in db.session.scalars(select(Paper)):
            data = (Path(fresh.config["UPLOAD_FOLDER"]) / paper.stored_name).read_bytes()
            assert hashlib.sha256(data).hexdigest() == paper.sha256
        # Only the files the copy points at were taken.
        manifest = json.loads((folder / "manifest.json").read_text())
        assert len(manifest["files"]) == db.session.scalar(
            select(func.count(func.distinct(Paper.stored_name)))) + 1


def test_a_file_deleted_during_the_backup_is_reported_and_the_backup_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with site_app(tmp_path / "live") as live:
        site = build_site()
        paper_id, removed = db.session.execute(
            select(Paper.id, Paper.stored_name).order_by(Paper.id)).first()  # type: ignore[misc]
        convenor = signed_in_client(live, user(site.convenor_email))
        builder = f"/meetings/{site.meeting_id}/agenda"
        snapshot = backup.snapshot_database

        def removed_after_the_snapshot(folder: Path) -> backup.Snapshot:
            taken = snapshot(folder)
            # The convenor removes a paper: the view deletes its file once committed.
            response = convenor.post(f"{builder}/papers/{paper_id}/remove",
                                     data={"csrf_token": csrf_token(convenor, builder)})
            assert response.status_code == 303
            return taken

        monkeypatch.setattr(backup, "snapshot_database", removed_after_the_snapshot)
        result = run(live, "backup", str(tmp_path / "backups"))
        assert result.exit_code == 1
        assert "INCOMPLETE" in result.output and removed in result.output
        assert f"meeting_papers {paper_id}" in result.output

    folder = only_backup(tmp_path / "backups")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["complete"] is False
    (problem,) = manifest["problems"]
    assert problem["stored_name"] == removed and problem["records"] == [
        f"meeting_papers {paper_id}"]
    assert "missing" in problem["problem"]
    assert len(manifest["files"]) == 4

    # Restoring it says what is missing and fails, having restored the rest.
    with site_app(tmp_path / "fresh") as fresh:
        result = run(fresh, "restore", str(folder))
        assert result.exit_code == 1
        assert "This backup is incomplete" in result.output
        assert f"meeting_papers {paper_id}: its file {removed} is missing" in result.output
        assert len(list(Path(fresh.config["UPLOAD_FOLDER"]).iterdir())) == 4


# --- Refusals -------------------------------------------------------------------------------


def _damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _database_file(folder: Path) -> str:
    return json.loads((folder / "manifest.json").read_text())["database"]["path"]


def _an_upload(folder: Path) -> str:
    return str(next((folder / "uploads").iterdir()).relative_to(folder))


@pytest.mark.parametrize("damaged", [_database_file, _an_upload, lambda _: "manifest.json"],
                         ids=["database", "upload", "manifest"])
def test_a_damaged_backup_is_refused_naming_the_file(
        tmp_path: Path, damaged: Callable[[Path], str]) -> None:
    with site_app(tmp_path / "live") as live:
        site = build_site()
        assert run(live, "backup", str(tmp_path / "backups")).exit_code == 0
        folder = only_backup(tmp_path / "backups")
        name = damaged(folder)
        _damage(folder / name)
        # Written after the backup: a restore would take it away.
        member = signed_in_client(live, user(site.member_email))
        assert member.post(site.thread_url + "/reply", data={
            "body": "After the backup.", "csrf_token": csrf_token(member, site.thread_url),
        }).status_code == 303
        files = sorted(Path(live.config["UPLOAD_FOLDER"]).iterdir())

        result = run(live, "restore", "--force", str(folder))
        assert result.exit_code == 1
        assert f"The backup is damaged: {name} does not match its checksum" in result.output
        assert "Nothing was restored" in result.output
        # Checked before anything was touched.
        assert "After the backup." in reply_bodies()
        assert sorted(Path(live.config["UPLOAD_FOLDER"]).iterdir()) == files


def test_a_backup_with_a_file_missing_is_refused(tmp_path: Path) -> None:
    with site_app(tmp_path / "live") as live:
        build_site()
        assert run(live, "backup", str(tmp_path / "backups")).exit_code == 0
        folder = only_backup(tmp_path / "backups")
        name = _an_upload(folder)
        (folder / name).unlink()
        result = run(live, "restore", "--force", str(folder))
        assert result.exit_code == 1
        assert f"The backup is damaged: {name} is missing" in result.output

        result = run(live, "restore", str(tmp_path / "nowhere"))
        assert result.exit_code == 1 and "There is no backup folder" in result.output


def test_restore_refuses_a_database_with_data_unless_forced(tmp_path: Path) -> None:
    with site_app(tmp_path / "live") as live:
        site = build_site()
        files = stored_files(live)
        assert run(live, "backup", str(tmp_path / "backups")).exit_code == 0
        folder = only_backup(tmp_path / "backups")
        member = signed_in_client(live, user(site.member_email))
        assert member.post(site.thread_url + "/reply", data={
            "body": "After the backup.", "csrf_token": csrf_token(member, site.thread_url),
        }).status_code == 303
        for name in files:  # say the upload folder was lost
            (Path(live.config["UPLOAD_FOLDER"]) / name).unlink()

        result = run(live, "restore", str(folder))
        assert result.exit_code == 1
        assert "The database already has data" in result.output and "--force" in result.output
        assert "After the backup." in reply_bodies()
        assert not any(Path(live.config["UPLOAD_FOLDER"]).iterdir())

        result = run(live, "restore", "--force", str(folder))
        assert result.exit_code == 0, result.output
        assert "After the backup." not in reply_bodies()
        assert stored_files(live) == files


def test_the_manifest_records_the_migration_and_restore_says_when_to_upgrade(
        tmp_path: Path) -> None:
    with site_app(tmp_path / "live") as live:
        build_site(items=1, papers_per_item=1)
        # As `flask db upgrade` would have left it, at an older migration.
        with db.engine.begin() as connection:
            connection.execute(text("CREATE TABLE alembic_version "
                                    "(version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
            connection.execute(text("INSERT INTO alembic_version VALUES ('0008_user_sessions')"))
        try:
            result = run(live, "backup", str(tmp_path / "backups"))
            assert result.exit_code == 0, result.output
            assert "migration 0008_user_sessions" in result.output
            folder = only_backup(tmp_path / "backups")
            manifest = json.loads((folder / "manifest.json").read_text())
            assert manifest["alembic_revision"] == "0008_user_sessions"

            result = run(live, "restore", "--force", str(folder))
            assert result.exit_code == 0, result.output
            assert "The backup is at migration 0008_user_sessions" in result.output
            assert "run `flask db upgrade`" in result.output
        finally:
            with db.engine.begin() as connection:  # not one of the models' tables
                connection.execute(text("DROP TABLE alembic_version"))


# --- PostgreSQL without its client tools ---------------------------------------------------


def test_postgresql_backup_without_pg_dump_says_how(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "live").mkdir()
    with file_database_app(tmp_path / "live") as live:
        if db.engine.dialect.name != "postgresql":
            pytest.skip("runs when the suite runs on PostgreSQL (TEST_DATABASE_URL)")
        build_site()
        monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
        result = run(live, "backup", str(tmp_path / "backups"))
        assert result.exit_code == 1
        assert "pg_dump is not on PATH" in result.output
        assert "pg_dump -Fc" in result.output and "UPLOAD_FOLDER" in result.output
        assert not list((tmp_path / "backups").iterdir())
