"""A real server, several people writing at once, killed with SIGKILL mid-write: no
request gets a 500 while it runs (SQLite queues writers: see transactions.py), no
write the server acknowledged is lost, and the database is intact afterwards.

Runs on whichever database the suite uses (a SQLite file in WAL mode, or a new
PostgreSQL database).
"""

from __future__ import annotations

import http.cookiejar
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from partnerships import create_app
from partnerships.extensions import db
from partnerships.factories import accounts, forums, partnership
from partnerships.factories.accounts import PASSWORD
from partnerships.forums.models import MembershipPolicy, Post, Thread
from tests.conftest import CSRF_RE, app_settings
from tests.databases import fresh_database

WRITERS = 4
RUN_SECONDS = 2.0

SERVER = """
import sys
from werkzeug.serving import run_simple
from partnerships import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "SECRET_KEY": "crash-test",
                  "UPLOAD_FOLDER": sys.argv[3], "MAIL_PRINT": False,
                  "RATELIMIT_ENABLED": False, "BASE_URL": "http://127.0.0.1"})
run_simple("127.0.0.1", int(sys.argv[2]), app, threaded=True)
"""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 303 after a post is the acknowledgement: keep it


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _build(url: str, uploads: Path) -> tuple[str, str]:
    """A forum with a discussion and a member who may reply; returns (thread URL, email)."""
    app = create_app(app_settings(SQLALCHEMY_DATABASE_URI=url, UPLOAD_FOLDER=str(uploads)))
    with app.app_context():
        db.create_all()
        person = accounts.user("Writer", "writer@example.org")
        place = partnership.partnership("Crashtown Together", slug="crashtown")
        forum = forums.forum(place, "Writers", convenors=[person], slug="writers",
                             policy=MembershipPolicy.OPEN)
        thread = forums.thread(forum, person, "Many replies")
        db.session.commit()
        path = f"/partnerships/crashtown/forums/writers/threads/{thread.id}"
        email = person.email
        db.session.remove()
        db.engine.dispose()
    return path, email


def _wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server stopped: {log.read_text()}"
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"the server did not start: {log.read_text()}")


def _signed_in(base: str, email: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    page = opener.open(base + "/account/sign-in").read().decode()
    token = CSRF_RE.search(page)
    assert token
    data = urllib.parse.urlencode({"email": email, "password": PASSWORD,
                                   "csrf_token": token.group(1)}).encode()
    try:
        opener.open(base + "/account/sign-in", data)
    except urllib.error.HTTPError as answer:
        assert answer.code in (302, 303), answer.code
    return opener


def test_killed_mid_write_loses_no_acknowledged_reply_and_leaves_the_database_intact(
    tmp_path: Path,
) -> None:
    with fresh_database(tmp_path, "crash") as url:
        path, email = _build(url, tmp_path / "uploads")
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        log = tmp_path / "server.log"
        with log.open("wb") as output:
            server = subprocess.Popen(
                [sys.executable, "-c", SERVER, url, str(port), str(tmp_path / "uploads")],
                cwd=Path(__file__).parent.parent, start_new_session=True,
                stdout=output, stderr=subprocess.STDOUT,
                env={**os.environ, "FLASK_DEBUG": "0"},
            )
        try:
            _wait_until_up(base, server, log)
            opener = _signed_in(base, email)
            page = opener.open(base + path).read().decode()
            token = CSRF_RE.search(page)
            assert token
            acknowledged: list[str] = []
            server_errors: list[int] = []
            stop = threading.Event()

            def write(writer: int) -> None:
                n = 0
                while not stop.is_set():
                    n += 1
                    body = f"Reply {writer}-{n} written before the crash"
                    data = urllib.parse.urlencode({"body": body,
                                                   "csrf_token": token.group(1)}).encode()
                    try:
                        opener.open(base + path + "/reply", data, timeout=10)
                    except urllib.error.HTTPError as answer:
                        if answer.code == 303:
                            acknowledged.append(body)
                        elif answer.code >= 500:
                            server_errors.append(answer.code)
                    except OSError:
                        return  # the server is gone

            writers = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
            for writer in writers:
                writer.start()
            time.sleep(RUN_SECONDS)
            os.killpg(server.pid, signal.SIGKILL)
            stop.set()
            for writer in writers:
                writer.join(timeout=30)
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)

        assert server_errors == [], f"{len(server_errors)} requests got a server error"
        assert len(acknowledged) >= 10, "too few writes to prove anything"

        check = create_app(app_settings(SQLALCHEMY_DATABASE_URI=url))
        with check.app_context():
            saved = set(db.session.scalars(select(Post.body)))
            lost = [body for body in acknowledged if body not in saved]
            assert lost == [], f"{len(lost)} acknowledged replies were lost"
            thread = db.session.scalars(select(Thread)).one()
            posts = db.session.scalar(select(func.count(Post.id)))
            assert thread.reply_count == posts - 1
            assert thread.last_post_id == db.session.scalar(select(func.max(Post.id)))
            if db.engine.dialect.name == "sqlite":
                assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
                assert db.session.execute(text("PRAGMA foreign_key_check")).all() == []
            db.session.remove()
            db.engine.dispose()
