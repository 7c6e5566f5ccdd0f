"""Two ``outbox send`` runs at once (cron starting one while the last is still going,
or two servers both running cron) deliver every message exactly once: each message
is claimed by a conditional UPDATE before it is sent."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

from flask import Flask
from sqlalchemy import insert, select

from partnerships import mail
from partnerships.extensions import db
from partnerships.mail import OutboxMessage
from partnerships.modelbase import utcnow
from tests.concurrency import file_database_app
from tests.mailserver import Inbox, running, use_port

MESSAGES = 300
RUNS = 2


def _at_once(app: Flask, runs: int) -> list[mail.SendResult]:
    """``runs`` sends in threads released together, each in its own app context (so its
    own session and connection, as a separate process has). Waits for all of them,
    however loaded the machine is."""
    barrier = threading.Barrier(runs)
    results: list[mail.SendResult | BaseException] = [RuntimeError("did not run")] * runs

    def run(i: int) -> None:
        barrier.wait(timeout=30)
        try:
            with app.app_context():
                results[i] = mail.send_pending(limit=MESSAGES * 2)
        except BaseException as error:  # pragma: no cover - reported below
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(result, mail.SendResult) for result in results), results
    return [result for result in results if isinstance(result, mail.SendResult)]


def test_two_runs_at_once_send_each_message_exactly_once(tmp_path: Path) -> None:
    with file_database_app(tmp_path) as app:
        db.session.execute(insert(OutboxMessage.__table__), [
            {"to": f"person{n}@example.org", "subject": f"Message {n}", "body": "Hello",
             "attempts": 0, "last_error": "", "created_at": utcnow()}
            for n in range(MESSAGES)
        ])
        db.session.commit()
        inbox = Inbox()
        with running(inbox) as port:
            use_port(app, port)
            started = time.perf_counter()
            results = _at_once(app, RUNS)
            took = time.perf_counter() - started

        counts = Counter(inbox.recipients)
        assert len(counts) == MESSAGES, f"{MESSAGES - len(counts)} never sent"
        assert [to for to, n in counts.items() if n > 1] == [], "sent twice"
        assert sum(result.sent for result in results) == MESSAGES
        assert all(result.sent > 0 for result in results), (results, "the runs did not overlap")
        rows = db.session.execute(select(OutboxMessage.sent_at, OutboxMessage.attempts,
                                         OutboxMessage.claimed_by)).all()
        assert {(sent is not None, attempts, claim) for sent, attempts, claim in rows} == {
            (True, 1, None)}
        print(f"{MESSAGES} messages, {RUNS} runs at once: {took:.2f}s, "
              f"split {[result.sent for result in results]}")
