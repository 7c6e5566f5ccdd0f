"""Uploaded files: identified by content (not by name), size-limited, stored under a
random name outside static/, and served only as downloads with nosniff."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import NotFound

from partnerships import create_app, uploads
from partnerships.errors import ValidationError
from partnerships.uploads import FileKind

MOU_KINDS = (FileKind.PDF, FileKind.DOCX, FileKind.ODT)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def folder(app, tmp_path) -> Path:
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    return tmp_path / "uploads"


def _file(data: bytes, name: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


def _zip(entries: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _docx() -> bytes:
    return _zip({"[Content_Types].xml": "<Types/>", "_rels/.rels": "<Relationships/>",
                 "word/document.xml": "<w:document/>"})


def _odt() -> bytes:
    return _zip({"mimetype": "application/vnd.oasis.opendocument.text",
                 "content.xml": "<office:document-content/>"})


def _refused(data: bytes, name: str, kinds=MOU_KINDS) -> str:
    with pytest.raises(ValidationError) as error:
        uploads.save(_file(data, name), kinds, field="file")
    assert error.value.field == "file"
    return error.value.message


def test_a_real_pdf_is_stored_under_a_random_name_with_its_metadata(folder):
    stored = uploads.save(_file(PDF, "Winter plan.pdf"), MOU_KINDS)

    assert stored.kind is FileKind.PDF
    assert stored.content_type == "application/pdf"
    assert stored.size == len(PDF)
    assert stored.sha256 == hashlib.sha256(PDF).hexdigest()
    assert stored.original_filename == "Winter plan.pdf"
    assert "Winter" not in stored.stored_name and stored.stored_name.endswith(".pdf")
    assert (folder / stored.stored_name).read_bytes() == PDF
    assert "static" not in str(folder)
    assert [p.name for p in folder.iterdir()] == [stored.stored_name]  # no temporary left


def test_each_upload_gets_its_own_stored_name(folder):
    first = uploads.save(_file(PDF, "a.pdf"), MOU_KINDS)
    second = uploads.save(_file(PDF, "a.pdf"), MOU_KINDS)
    assert first.stored_name != second.stored_name


def test_a_docx_built_as_a_zip_package_is_accepted(folder):
    stored = uploads.save(_file(_docx(), "Terms.docx"), MOU_KINDS)
    assert stored.kind is FileKind.DOCX
    assert stored.content_type.endswith("wordprocessingml.document")


def test_an_odt_is_recognised_by_its_mimetype_entry(folder):
    stored = uploads.save(_file(_odt(), "Terms.odt"), MOU_KINDS)
    assert stored.kind is FileKind.ODT


def test_a_file_called_pdf_that_is_not_a_pdf_is_refused(folder):
    assert _refused(b"<html>not a pdf</html>", "plan.pdf") == (
        "The file is called .pdf but is not a PDF")
    assert _refused(_docx(), "plan.PDF") == "The file is called .pdf but is not a PDF"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_a_zip_without_a_word_folder_is_not_a_docx(folder):
    fake = _zip({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"})
    assert _refused(fake, "report.docx") == "The file is called .docx but is not a DOCX"


def test_kinds_that_are_not_allowed_are_refused_with_the_allowed_list(folder):
    spreadsheet = _zip({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<wb/>"})
    assert _refused(spreadsheet, "budget.xlsx") == "The selected file must be a PDF, DOCX or ODT"
    assert _refused(b"name,amount\nA,1\n", "data.csv") == (
        "The selected file must be a PDF, DOCX or ODT")
    assert _refused(b"\x89PNG\r\n\x1a\n....", "photo.png") == (
        "The selected file must be a PDF, DOCX or ODT")


def test_an_empty_file_is_refused(folder):
    assert _refused(b"", "empty.pdf") == "The selected file is empty"


def test_no_file_selected_is_refused(folder):
    with pytest.raises(ValidationError, match="Select a file"):
        uploads.save(None, MOU_KINDS)
    with pytest.raises(ValidationError, match="Select a file"):
        uploads.save(FileStorage(stream=io.BytesIO(b""), filename=""), MOU_KINDS)


def test_a_file_over_the_limit_is_refused(folder, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_FILE_BYTES", 64)
    assert _refused(PDF + b"x" * 64, "big.pdf") == "The selected file must be smaller than 64 bytes"
    monkeypatch.setattr(uploads, "MAX_FILE_BYTES", 20 * uploads.MB)
    assert uploads.size_text(uploads.MAX_FILE_BYTES) == "20MB"


def test_csv_is_accepted_only_where_allowed_and_must_be_utf8_text(folder):
    kinds = (FileKind.CSV,)
    stored = uploads.save(_file("name,town\nCafé,Northbridge\n".encode(), "list.csv"), kinds)
    assert stored.kind is FileKind.CSV and stored.content_type == "text/csv"
    assert _refused(b"a,b\x00c", "list.csv", kinds) == "The file is called .csv but is not a CSV"
    assert _refused(b"\xff\xfe\x00bad", "list.csv", kinds) == (
        "The file is called .csv but is not a CSV")


def test_names_are_cleaned_and_downloads_get_the_right_extension():
    assert uploads.clean_filename("C:\\Users\\me\\plan\x00.pdf") == "plan.pdf"
    assert uploads.clean_filename("../../etc/passwd") == "passwd"
    assert uploads.clean_filename("...") == "file"
    assert uploads.download_name("Terms", FileKind.DOCX) == "Terms.docx"
    assert uploads.download_name("plan.pdf", "application/pdf") == "plan.pdf"


def test_stored_files_are_sent_as_downloads_with_nosniff(app, folder):
    stored = uploads.save(_file(PDF, "Winter plan"), MOU_KINDS)
    with app.test_request_context():
        response = uploads.send(stored.stored_name, "Winter plan", stored.content_type)
        try:
            assert response.status_code == 200
            assert response.mimetype == "application/pdf"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            disposition = response.headers["Content-Disposition"]
            assert disposition.startswith("attachment;") and "Winter plan.pdf" in disposition
        finally:
            response.close()


def test_only_generated_names_can_be_sent(app, folder):
    with app.test_request_context():
        for name in ("../secret", "a/b.pdf", ".hidden", "", "missing.pdf"):
            with pytest.raises(NotFound):
                uploads.send(name, "x.pdf", "application/pdf")


def test_delete_removes_a_stored_file(folder):
    stored = uploads.save(_file(PDF, "a.pdf"), MOU_KINDS)
    uploads.delete(stored.stored_name)
    assert not (folder / stored.stored_name).exists()


def test_the_default_folder_is_in_the_instance_folder_not_static(monkeypatch):
    # A real app (not the test fixture, which points uploads at a temporary folder).
    monkeypatch.delenv("UPLOAD_FOLDER", raising=False)
    real = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    assert real.config["UPLOAD_FOLDER"].startswith(real.instance_path)
    assert "static" not in Path(real.config["UPLOAD_FOLDER"]).parts


def test_prune_deletes_old_files_no_record_points_at(
        app, folder, make_partnership, make_forum, make_meeting):
    """A file saved for a transaction that was rolled back (or for a demo record a
    re-seed removed) is deleted once old enough; referenced files and recent ones
    (their row may still be committing) stay."""
    import os
    import time

    from partnerships.extensions import db
    from partnerships.meetings.models import AgendaItem, Paper

    meeting = make_meeting(make_forum(make_partnership()))
    item = AgendaItem(meeting_id=meeting.id, position=1, title="Budget")
    db.session.add(item)
    db.session.flush()
    kept = uploads.save(_file(PDF, "kept.pdf"), MOU_KINDS)
    db.session.add(Paper(item_id=item.id, title="Budget", original_filename="kept.pdf",
                         stored_name=kept.stored_name, content_type=kept.content_type,
                         size_bytes=kept.size, sha256=kept.sha256))
    db.session.commit()
    orphan = uploads.save(_file(PDF, "rolled-back.pdf"), MOU_KINDS).stored_name
    recent = uploads.save(_file(PDF, "mid-upload.pdf"), MOU_KINDS).stored_name
    crashed = folder / ".abc.pdf.part"
    crashed.write_bytes(PDF)
    two_days_ago = time.time() - 2 * 86400
    for name in (kept.stored_name, orphan, crashed.name):
        os.utime(folder / name, (two_days_ago, two_days_ago))

    result = app.test_cli_runner().invoke(args=["uploads", "prune", "--hours", "24"])

    assert result.exit_code == 0, result.output
    assert "Deleted 2 unreferenced file(s)." in result.output
    assert sorted(path.name for path in folder.iterdir()) == sorted([kept.stored_name, recent])
    assert uploads.prune() == []  # nothing more to do


# --- A file is never renamed into another type (issue 15) ---------------------------------

PAPER_LIKE = (FileKind.PDF, FileKind.DOCX, FileKind.ODT, FileKind.XLSX, FileKind.PPTX,
              FileKind.CSV, FileKind.TXT)


def test_plain_text_is_its_own_kind_and_keeps_its_name(folder):
    stored = uploads.save(_file(b"Notes from the walk\n", "notes.txt"), PAPER_LIKE)
    assert (stored.kind, stored.content_type) == (FileKind.TXT, "text/plain")
    assert uploads.download_name(stored.original_filename, stored.content_type) == "notes.txt"
    stored = uploads.save(_file(b"a,b\n1,2\n", "figures.csv"), PAPER_LIKE)
    assert stored.kind is FileKind.CSV
    assert uploads.download_name("figures.csv", stored.content_type) == "figures.csv"


@pytest.mark.parametrize(("data", "name", "extension"), [
    (b"Notes\n", "notes.txt", ".txt"),            # text, where only CSV is accepted
    (b"# Notes\n", "notes.md", ".md"),
    (b"<p>Hello</p>", "page.html", ".html"),
    (b"a\tb\n", "table.tsv", ".tsv"),
    (_docx(), "letter.docm", ".docm"),            # zip packages read as DOCX/XLSX
    (_zip({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<w/>"}), "sums.xlsm",
     ".xlsm"),
    (_docx(), "template.dotx", ".dotx"),
])
def test_every_kind_refuses_a_name_saying_another_type(folder, data, name, extension):
    """Each accepted kind whose detection would otherwise rename the file."""
    kinds = (FileKind.PDF, FileKind.DOCX, FileKind.XLSX, FileKind.CSV)
    assert _refused(data, name, kinds) == (
        f"The file is called {extension}: the selected file must be a PDF, DOCX, XLSX or CSV")


def test_a_name_without_a_known_extension_gets_the_right_one(folder):
    stored = uploads.save(_file(PDF, "Plan v1.2"), MOU_KINDS)
    assert uploads.download_name(stored.original_filename, stored.content_type) == (
        "Plan v1.2.pdf")
    stored = uploads.save(_file(_docx(), "Minutes.final"), MOU_KINDS)
    assert stored.kind is FileKind.DOCX


def test_text_where_no_text_is_accepted_lists_the_accepted_types(folder):
    assert _refused(b"Notes\n", "notes.txt") == "The selected file must be a PDF, DOCX or ODT"


def test_plain_text_is_sent_with_its_charset_and_name(app, folder):
    stored = uploads.save(_file("Café notes\n".encode(), "notes.txt"), PAPER_LIKE)
    with app.test_request_context():
        response = uploads.send(stored.stored_name, "notes.txt", stored.content_type)
        try:
            assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            disposition = response.headers["Content-Disposition"]
            assert disposition.startswith("attachment;") and "notes.txt" in disposition
            assert ".csv" not in disposition
        finally:
            response.close()
