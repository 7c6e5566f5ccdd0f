"""Two independent iCalendar parsers, used by the calendar tests to read our feeds as
calendar apps would: Mozilla's ical.js (through ``node``, see expand.mjs) and the
Python ``recurring-ical-events`` (on top of ``icalendar``). Both answer a list of
occurrences ``{uid, start_utc, end_utc, status, sequence, summary}``, sorted."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import icalendar
import recurring_ical_events

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def ical_js(body: bytes) -> list[dict[str, Any]]:
    """Occurrences as ical.js sees them (the embedded VTIMEZONE registered)."""
    node = shutil.which("node")
    assert node, "node is required for the calendar tests (the front-end set-up needs it too)"
    assert (ROOT / "node_modules" / "ical.js").is_dir(), (
        "ical.js is missing from node_modules: run `make setup` (npm ci)")
    result = subprocess.run([node, str(HERE / "expand.mjs")], input=body, cwd=ROOT,
                            capture_output=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def python(body: bytes) -> list[dict[str, Any]]:
    """Occurrences as recurring-ical-events expands them."""
    calendar = icalendar.Calendar.from_ical(body)
    events = recurring_ical_events.of(calendar).between(datetime(1990, 1, 1, tzinfo=UTC),
                                                        datetime(2100, 1, 1, tzinfo=UTC))
    found = [{
        "uid": str(event["UID"]),
        "start_utc": _utc(event.DTSTART),
        "end_utc": _utc(event.DTEND),
        "status": str(event["STATUS"]) if "STATUS" in event else None,
        "sequence": int(event.get("SEQUENCE", 0)),
        "summary": str(event["SUMMARY"]) if "SUMMARY" in event else None,
    } for event in events]
    return sorted(found, key=lambda item: (item["start_utc"], item["uid"]))


EVERYTHING = ("uid", "start_utc", "end_utc", "status", "sequence", "summary")


def both(body: bytes, fields: tuple[str, ...] = EVERYTHING) -> list[dict[str, Any]]:
    """The occurrences both parsers agree on, on ``fields`` (the test fails if they do
    not). Within a recurring series the two report SEQUENCE differently (ical.js the
    occurrence's own, recurring-ical-events the highest of the series), so a test of a
    series compares UIDs and times only."""
    mozilla, dateutil_based = ical_js(body), python(body)
    assert [{key: item[key] for key in fields} for item in mozilla] == [
        {key: item[key] for key in fields} for item in dateutil_based], (
        mozilla, dateutil_based)
    return mozilla
