"""Uploaded files: checked by what they contain, stored outside ``static/``, served
only as downloads after the view has checked permission.

A file's name says nothing about what it is, so each upload is identified from its
bytes (a PDF starts with ``%PDF-``; DOCX, XLSX and PPTX are zip packages with
``[Content_Types].xml`` and a ``word/``, ``xl/`` or ``ppt/`` folder; an ODT is a zip
whose ``mimetype`` entry says so; CSV and plain text are UTF-8 text with no NUL bytes,
told apart by the name's extension). Files are saved under ``UPLOAD_FOLDER``
(``instance/uploads``) with a random name, never the one the user gave, and are always
sent as attachments with ``nosniff``.

**A file is never renamed into another type.** Content decides what a file is, but a
name whose extension says something else (``notes.txt`` read as CSV, ``budget.xlsm``
read as an XLSX package, ``page.html`` read as text) is refused with the list of
accepted types, rather than stored and offered back as ``notes.txt.csv``. A name with
no known extension ("Winter plan") gets the right one added on download.

Used by MoU attachments and meeting papers (their columns: ``modelbase.StoredFileMixin``).
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
import os
import secrets
import time
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import IO

from flask import current_app, send_file
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from .errors import ValidationError

MB = 1024 * 1024
# Largest file accepted (the request limit, MAX_CONTENT_LENGTH, is a little higher so
# that a file just over this size gets this clear message rather than a 413 page).
MAX_FILE_BYTES = 20 * MB
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
_CHUNK = 64 * 1024


class FileKind(StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    XLSX = "xlsx"
    PPTX = "pptx"
    ODT = "odt"
    CSV = "csv"
    TXT = "txt"

    @property
    def label(self) -> str:
        return self.value.upper()

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self]

    @property
    def extension(self) -> str:
        return f".{self.value}"


CONTENT_TYPES: dict[FileKind, str] = {
    FileKind.PDF: "application/pdf",
    FileKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    FileKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileKind.PPTX: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    FileKind.ODT: "application/vnd.oasis.opendocument.text",
    FileKind.CSV: "text/csv",
    FileKind.TXT: "text/plain",
}
# Text kinds: any UTF-8 text passes as either, so the name's extension decides.
TEXT_KINDS = (FileKind.CSV, FileKind.TXT)
# Extensions of other types that people upload and that content sniffing would read as
# one of ours (macro-enabled and template Office files are zip packages like DOCX and
# XLSX; Markdown, HTML and logs are text). With the standard library's own list of
# types (``_STANDARD_TYPES``), what counts as "the name says another type".
_OTHER_EXTENSIONS = frozenset({
    "md", "markdown", "rtf", "log", "tsv", "json", "xml", "html", "htm", "yaml", "yml",
    "ini", "doc", "docm", "dotx", "dotm", "xls", "xlsm", "xlsb", "xltx", "xltm", "ppt",
    "pptm", "potx", "potm", "ppsx", "ppsm", "ods", "odp", "ott", "odg", "pages", "numbers",
    "key", "zip", "eml", "msg", "vcf", "ics"})
_STANDARD_TYPES = mimetypes.MimeTypes()  # built-in table only, not the machine's files
_OOXML_FOLDERS = {FileKind.DOCX: "word/", FileKind.XLSX: "xl/", FileKind.PPTX: "ppt/"}


@dataclass(frozen=True)
class StoredFile:
    """What the caller records about a saved upload."""

    stored_name: str
    original_filename: str
    kind: FileKind
    content_type: str
    size: int
    sha256: str


def kinds_text(kinds: Sequence[FileKind]) -> str:
    """'a PDF, DOCX or ODT' style list for messages and hints."""
    labels = [kind.label for kind in kinds]
    if len(labels) == 1:
        return labels[0]
    return ", ".join(labels[:-1]) + " or " + labels[-1]


def size_text(size: int) -> str:
    """20MB, 500KB or 10 bytes: the limit as people write it."""
    if size >= MB:
        return f"{size / MB:g}MB"
    if size >= 1024:
        return f"{size / 1024:g}KB"
    return f"{size} bytes"


# --- Identifying a file by its content --------------------------------------------


def _zip_kind(data: bytes) -> FileKind | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                info = archive.getinfo("mimetype")
                # Read only a small entry (a zip bomb cannot hide here).
                if info.file_size <= 200 and archive.read("mimetype").strip() == ODT_MIMETYPE:
                    return FileKind.ODT
            if "[Content_Types].xml" in names:
                for kind, folder in _OOXML_FOLDERS.items():
                    if any(name.startswith(folder) for name in names):
                        return kind
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, KeyError):
        return None
    return None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


def detect_kind(data: bytes, allowed: Sequence[FileKind] = tuple(FileKind),
                filename: str = "") -> FileKind | None:
    """What the bytes are, among ``allowed``. Text is only considered when a text kind
    is allowed, since almost any text would pass; which text kind it is comes from the
    name (``.txt`` or ``.csv``), else the first text kind allowed."""
    if data.startswith(b"%PDF-"):
        return FileKind.PDF
    if data.startswith(b"PK\x03\x04"):
        kind = _zip_kind(data)
        if kind is not None:
            return kind
    texts = [kind for kind in TEXT_KINDS if kind in allowed]
    if texts and _is_text(data):
        named_as = _kind_from_name(filename)
        return named_as if named_as in texts else texts[0]
    return None


def _kind_from_name(filename: str) -> FileKind | None:
    suffix = Path(filename).suffix.lower().lstrip(".")
    try:
        return FileKind(suffix)
    except ValueError:
        return None


def _other_extension(filename: str, kind: FileKind) -> str | None:
    """The name's extension when it names a known type other than ``kind`` (".txt" on
    what would be stored as CSV), else None. Unknown endings ("Plan v1.2", "Minutes.final")
    are not extensions and are kept, with the right one added on download."""
    suffix = Path(filename).suffix.lower().lstrip(".")
    if not suffix or suffix == kind.value:
        return None
    known = (suffix in _OTHER_EXTENSIONS or _kind_from_name(filename) is not None
             or _STANDARD_TYPES.guess_type(f"file.{suffix}", strict=False)[0] is not None)
    return f".{suffix}" if known else None


def clean_filename(filename: str) -> str:
    """The name to show and to offer on download: no folders, no control characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name)
                   if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if len(name) > 200:
        stem, suffix = os.path.splitext(name)
        name = stem[: 200 - len(suffix)] + suffix
    return name or "file"


def download_name(original_filename: str, kind_or_type: FileKind | str) -> str:
    """The original name, with the right extension for what the file really is."""
    kind = kind_or_type if isinstance(kind_or_type, FileKind) else next(
        (k for k, t in CONTENT_TYPES.items() if t == kind_or_type), None
    )
    name = clean_filename(original_filename)
    if kind is not None and not name.lower().endswith(kind.extension):
        name += kind.extension
    return name


# --- Checking and saving --------------------------------------------------------------


def _read_limited(stream: IO[bytes], limit: int) -> bytes:
    """Read at most ``limit + 1`` bytes, enough to tell that a file is too big."""
    buffer = io.BytesIO()
    while buffer.tell() <= limit:
        chunk = stream.read(min(_CHUNK, limit + 1 - buffer.tell()))
        if not chunk:
            break
        buffer.write(chunk)
    return buffer.getvalue()


def check(
    upload: FileStorage | None, allowed: Sequence[FileKind], field: str = "file"
) -> tuple[bytes, FileKind, str]:
    """Read and identify an upload; raise ``ValidationError(field=...)`` saying what is
    wrong. Returns the bytes, the kind and a clean original filename."""
    limit = MAX_FILE_BYTES
    if upload is None or not upload.filename:
        raise ValidationError("Select a file", field=field)
    filename = clean_filename(upload.filename)
    data = _read_limited(upload.stream, limit)
    if not data:
        raise ValidationError("The selected file is empty", field=field)
    if len(data) > limit:
        raise ValidationError(f"The selected file must be smaller than {size_text(limit)}",
                              field=field)
    kind = detect_kind(data, allowed, filename)
    named_as = _kind_from_name(filename)
    if named_as is not None and named_as in allowed and kind is not named_as:
        raise ValidationError(
            f"The file is called {named_as.extension} but is not a {named_as.label}",
            field=field,
        )
    if kind is None or kind not in allowed:
        raise ValidationError(f"The selected file must be a {kinds_text(allowed)}", field=field)
    other = _other_extension(filename, kind)
    if other is not None:
        raise ValidationError(f"The file is called {other}: the selected file must be a "
                              f"{kinds_text(allowed)}", field=field)
    return data, kind, filename


def upload_folder() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _fsync_directory(folder: Path) -> None:
    """Make a rename in ``folder`` durable: until the directory itself is synced, a
    power cut can lose the new name even though the file's bytes are on disk."""
    descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def save(upload: FileStorage | None, allowed: Sequence[FileKind],
         field: str = "file") -> StoredFile:
    """Check an upload and store it under a new random name. The caller records the
    returned metadata in the same transaction as the change it belongs to.

    The file and its name are on disk (fsynced, file then folder) before this returns,
    so once the record commits, a crash or power cut cannot leave a record whose file
    is missing or short. (The other way round, a file without a record, is harmless:
    ``prune`` removes it.)"""
    data, kind, filename = check(upload, allowed, field)
    stored_name = f"{secrets.token_hex(16)}{kind.extension}"
    folder = upload_folder()
    temporary = folder / f".{stored_name}.part"
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, folder / stored_name)
    _fsync_directory(folder)
    return StoredFile(
        stored_name=stored_name,
        original_filename=filename,
        kind=kind,
        content_type=kind.content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def path_for(stored_name: str) -> Path:
    """Where a stored file lives; refuses any name that is not one we generated."""
    if not stored_name or "/" in stored_name or "\\" in stored_name or \
            stored_name.startswith("."):
        raise NotFound()
    return upload_folder() / stored_name


def delete(stored_name: str) -> None:
    """Remove a stored file (only when no record points at it any more)."""
    path_for(stored_name).unlink(missing_ok=True)


def prune(older_than: timedelta = timedelta(days=1)) -> list[str]:
    """Delete stored files that no record points at and that are older than
    ``older_than``: uploads whose transaction was rolled back (a file is saved before
    its row commits), files of demo records a re-seed removed, and ``.part`` files left
    by a crash. The age guard keeps files whose row is still being committed. Returns
    the names deleted. Run by ``flask uploads prune`` (daily)."""
    from sqlalchemy import select

    from .extensions import db
    from .modelbase import StoredFileMixin

    referenced: set[str] = set()
    for model in StoredFileMixin.__subclasses__():
        referenced.update(db.session.scalars(select(model.stored_name)))
    cutoff = time.time() - older_than.total_seconds()
    deleted = []
    for path in sorted(upload_folder().iterdir()):
        if not path.is_file() or path.name in referenced or path.stat().st_mtime > cutoff:
            continue
        path.unlink(missing_ok=True)
        deleted.append(path.name)
    return deleted


def send(stored_name: str, original_filename: str, content_type: str) -> Response:
    """Send a stored file as a download. Call only after the view's permission check."""
    path = path_for(stored_name)
    if not path.is_file():
        raise NotFound()
    response = send_file(
        path, mimetype=content_type, as_attachment=True,
        download_name=download_name(original_filename, content_type),
        conditional=True, etag=True, max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    return response
