"""The pages the benchmarks open, and the in-process part: each page's SQL queries and
time through the Flask test client.

The query count is the benchmarks' size-independent check: a page that lists a page of
things, with what each needs loaded in the same few queries, runs the same number of
queries whatever the size of the data. ``tests/test_bench.py`` runs ``measure`` on two
small builds so this module cannot rot.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import event

from partnerships.accounts.models import User
from partnerships.extensions import db
from partnerships.factories.scale import Landmarks, landmarks
from partnerships.meetings import feeds


@dataclass(frozen=True)
class Page:
    """One page to benchmark: its name, path, the status it answers with, and whether
    it is asked conditionally (with the validators of a first, plain fetch)."""

    name: str
    path: str
    status: int = 200
    conditional: bool = False


# The baselines, served by the same app (layout, health) and by a bare WSGI app.
LAYOUT = Page("empty layout page", "/accessibility")
HEALTH = Page("/healthz", "/healthz")


def personal_feed_token(person_id: int) -> str:
    """The person's calendar feed secret (made once; it depends on SECRET_KEY, so the
    server must run with the same key). Commits."""
    user = db.session.get(User, person_id)
    assert user is not None
    token = feeds.token_of(feeds.create_token(user))
    db.session.commit()
    assert token is not None, "the feed secret does not match: SECRET_KEY changed"
    return token


def pages(marks: Landmarks, token: str) -> list[Page]:
    """Every page the issue names, at the landmarks of the scale data."""
    p = f"/partnerships/{marks.partnership_slug}"
    forum = f"{p}/forums/{marks.forum_slug}"
    return [
        Page("home", "/"),
        Page("partnership page", f"{p}/"),
        Page("forum page", f"{forum}/"),
        Page("thread, 500 replies", f"{forum}/threads/{marks.big_thread_id}"),
        Page("meeting page", f"/meetings/{marks.meeting_id}/"),
        Page("meetings list", f"{p}/meetings/"),
        Page("opportunities, filtered", "/opportunities/?sector=vcse&commitment=long"),
        Page("MoU register", f"{p}/mous/"),
        Page("organisation directory", "/organisations/"),
        Page("partnership feed", f"{p}/calendar.ics"),
        Page("partnership feed, 304", f"{p}/calendar.ics", status=304, conditional=True),
        Page("personal feed", f"/calendar/{token}.ics"),
    ]


def validators(headers: Any) -> dict[str, str]:
    """The conditional request headers for a response's validators."""
    found = {}
    if headers.get("ETag"):
        found["If-None-Match"] = headers["ETag"]
    if headers.get("Last-Modified"):
        found["If-Modified-Since"] = headers["Last-Modified"]
    return found


@dataclass
class Counted:
    status: int
    queries: int
    ms: float  # median CPU time in the test client (steadier than wall time on a busy machine)
    bytes: int
    statements: list[str] = field(default_factory=list)


@contextmanager
def _counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def measure(app: Flask, page_list: list[Page], repeats: int = 5) -> dict[str, Counted]:
    """Open each page through the test client, anonymously: its status, its queries
    (the most of any request) and the median CPU time of ``repeats`` requests after a
    warm-up (SQLite runs in this process, so its work is counted too)."""
    client = app.test_client()
    results: dict[str, Counted] = {}
    for page in page_list:
        headers: dict[str, str] = {}
        with app.app_context():
            first = client.get(page.path)  # warm-up; and the validators for a 304
        if page.conditional:
            headers = validators(first.headers)
        timings: list[float] = []
        counts: set[int] = set()
        statements: list[str] = []
        response = first
        for _ in range(max(1, repeats)):
            with app.app_context(), _counting() as seen:
                started = time.process_time()
                response = client.get(page.path, headers=headers)
                timings.append((time.process_time() - started) * 1000)
            counts.add(len(seen))
            statements = seen
        results[page.name] = Counted(response.status_code, max(counts),
                                     statistics.median(timings), len(response.data),
                                     list(statements))
    return results


def find(app: Flask) -> tuple[Landmarks, str]:
    """The landmarks of the data in ``app``'s database and the personal feed secret."""
    with app.app_context():
        marks = landmarks()
        return marks, personal_feed_token(marks.person_id)
