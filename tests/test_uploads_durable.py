"""An uploaded file is on disk for good (the file, then its folder, fsynced) before the
record that points at it is committed: a power cut straight after the commit cannot
leave a meeting paper or MoU attachment whose file is missing or short."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from partnerships.extensions import db
from partnerships.meetings.models import AgendaItem, Paper

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def test_a_paper_is_fsynced_file_then_folder_before_its_record_commits(
    app, client, auth, make_user, make_partnership, make_forum, make_meeting, monkeypatch
):
    convenor = make_user("Carla Convenor")
    forum = make_forum(make_partnership(), "Health Forum", convenors=[convenor])
    meeting = make_meeting(forum, "Spring meeting")
    auth.login(convenor)
    added = client.submit(f"/meetings/{meeting.id}/agenda/items/new", {"title": "Winter plan"})
    assert added.status_code == 303
    item = db.session.scalar(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id))
    assert item is not None
    url = f"/meetings/{meeting.id}/agenda/items/{item.id}/papers/new"

    happened: list[tuple[str, int]] = []
    real_fsync = os.fsync

    def fsync(descriptor: int) -> None:
        happened.append(("fsync", os.fstat(descriptor).st_ino))
        real_fsync(descriptor)

    def committed(_connection: Any) -> None:
        happened.append(("commit", 0))

    monkeypatch.setattr(os, "fsync", fsync)
    event.listen(db.engine, "commit", committed)
    try:
        response = client.submit(url, {"title": "Winter plan",
                                       "file": (io.BytesIO(PDF), "Winter plan.pdf")})
    finally:
        event.remove(db.engine, "commit", committed)

    assert response.status_code == 303
    paper = db.session.scalar(select(Paper))
    assert paper is not None
    folder = Path(app.config["UPLOAD_FOLDER"])
    stored = folder / paper.stored_name
    assert stored.read_bytes() == PDF
    file_synced = happened.index(("fsync", stored.stat().st_ino))
    folder_synced = happened.index(("fsync", folder.stat().st_ino))
    assert file_synced < folder_synced < happened.index(("commit", 0), folder_synced)
    assert ("commit", 0) not in happened[file_synced:folder_synced]
