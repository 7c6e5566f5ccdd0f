"""``flask outbox send``: deliver the messages that are due, each exactly once even
when two runs overlap, and without spending attempts while the server is away.

Each message is *claimed* before it is sent, by a conditional UPDATE that succeeds
only if it is still unsent, due and unclaimed (or its claim has lapsed); a run that
loses the race skips it. The claim lapses after ``claim_length()`` (far longer than
sending one message can take with ``SMTP_TIMEOUT`` on every step), so a run killed
mid-send does not strand the message. Every outcome (sent, refused, or handed back
because of connection trouble) is committed before the next message, and no
transaction is left open while we talk to the mail server, so other writers (and on
SQLite, the one write lock) are never held up by the network.
"""

from __future__ import annotations

import secrets
import smtplib
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from flask import current_app
from sqlalchemy import ColumnElement, CursorResult, func, or_, select, update

from ..extensions import db
from ..modelbase import utcnow
from ..revision import quietly
from . import schedule, transport
from .models import CLAIM_TOKEN_LENGTH, OutboxMessage

BATCH = 50  # candidates read at a time (each is still claimed one by one)
TROUBLE_IN_A_ROW_MAX = 3  # connections lost in a row before the run gives up
CLAIM_AT_LEAST = timedelta(minutes=10)
CLAIM_TIMEOUTS = 20  # SMTP_TIMEOUTs one message could take, at worst, to connect and send


class SendResult(NamedTuple):
    """What a run of ``send_pending`` did."""

    sent: int
    failed: int  # refused (or could not be built) this run: each spent an attempt
    gave_up: int = 0  # of those, messages that have now had all their attempts
    unreachable: bool = False  # the run stopped because the server could not be reached
    error: str = ""  # why it could not be reached


def claim_length() -> timedelta:
    """How long a claim holds: enough for the slowest possible send of one message."""
    timeout = float(current_app.config["SMTP_TIMEOUT"] or 0)
    return max(CLAIM_AT_LEAST, timedelta(seconds=CLAIM_TIMEOUTS * timeout))


def due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Unsent, attempts left, and its wait after the last refusal is over."""
    return (
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.attempts < schedule.MAX_ATTEMPTS,
        or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
    )


def unclaimed(now: datetime) -> ColumnElement[bool]:
    """No run is sending it (or the one that was has run out of time)."""
    return or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now)


def waiting_count() -> int:
    """Messages not yet sent that will be tried again (due now or later)."""
    return db.session.scalar(
        select(func.count(OutboxMessage.id)).where(
            OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < schedule.MAX_ATTEMPTS)
    ) or 0


class _Run:
    """One ``send_pending`` call: its claim token, its connection and its tally."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(CLAIM_TOKEN_LENGTH // 2)
        self.smtp: smtplib.SMTP | None = None
        self.sent = self.failed = self.gave_up = 0
        self.trouble_in_a_row = 0
        self.unreachable_because = ""

    def result(self) -> SendResult:
        return SendResult(self.sent, self.failed, self.gave_up,
                          bool(self.unreachable_because), self.unreachable_because)

    # --- The queue ---------------------------------------------------------------

    def go(self, limit: int) -> None:
        """Walk the due messages once, in the order they were queued, sending each
        one this run manages to claim, until ``limit`` are handled or the server is
        out of reach."""
        after = 0
        handled = 0
        while handled < limit and not self.unreachable_because:
            now = utcnow()
            ids = list(db.session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.id > after, *due(now), unclaimed(now))
                .order_by(OutboxMessage.id)
                .limit(BATCH)
            ))
            db.session.commit()  # hold no transaction open between statements
            if not ids:
                return
            for message_id in ids:
                after = message_id
                if not self._claim(message_id):
                    continue  # another run has it, or has just dealt with it
                handled += 1
                self._deliver(message_id)
                if self.unreachable_because or handled >= limit:
                    return

    def _claim(self, message_id: int) -> bool:
        now = utcnow()
        claimed = cast("CursorResult[Any]", db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, *due(now), unclaimed(now))
            .values(claimed_by=self.token, claimed_until=now + claim_length())
            .execution_options(synchronize_session=False)
        )).rowcount
        db.session.commit()
        return claimed == 1

    def _settle(self, message_id: int, **values: Any) -> bool:
        """Record how it went and let go of the claim, if it is still ours."""
        settled = cast("CursorResult[Any]", db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == self.token)
            .values(claimed_by=None, claimed_until=None, **values)
            .execution_options(synchronize_session=False)
        )).rowcount
        db.session.commit()
        return settled == 1

    # --- One message -----------------------------------------------------------------

    def _deliver(self, message_id: int) -> None:
        message = db.session.get(OutboxMessage, message_id, populate_existing=True)
        if message is None:  # pragma: no cover - deleted with its account
            db.session.commit()
            return
        attempts = message.attempts
        try:
            email = transport.build(message)
        except Exception as exc:  # a header with a line break, a bad address ...
            db.session.commit()
            self._refused(message_id, attempts, transport.describe(exc))
            return
        db.session.commit()  # end the read: nothing is held while we talk to the server

        if self.smtp is None:
            try:
                self.smtp = transport.connect_smtp()
            except Exception as exc:  # refused, timed out, TLS, sign-in ...
                self._settle(message_id)  # handed back untouched: no attempt spent
                self.unreachable_because = transport.describe(exc)
                return
        try:
            self.smtp.send_message(email)
        except Exception as exc:
            if transport.is_connection_trouble(exc):
                self._connection_lost(message_id, exc)
            else:
                self._refused(message_id, attempts, transport.describe(exc))
                self.trouble_in_a_row = 0
                if self.smtp.sock is None or not isinstance(exc, smtplib.SMTPException):
                    self.hang_up()  # closed by the server, or in a state we cannot know
            return
        self.trouble_in_a_row = 0
        self.sent += 1
        if not self._settle(message_id, sent_at=utcnow(), attempts=attempts + 1,
                            last_error="", next_attempt_at=None):
            current_app.logger.warning(
                "Outbox message %s was sent after its claim had lapsed; another run may "
                "have sent it too (raise SMTP_TIMEOUT's claim margin?)", message_id)

    def _refused(self, message_id: int, attempts: int, error: str) -> None:
        """The message itself was refused (or is broken): it spends an attempt and
        waits its turn in the back-off schedule."""
        attempts += 1
        self._settle(message_id, attempts=attempts, last_error=error,
                     next_attempt_at=schedule.next_attempt(attempts, utcnow()))
        self.failed += 1
        if attempts >= schedule.MAX_ATTEMPTS:
            self.gave_up += 1

    def _connection_lost(self, message_id: int, error: BaseException) -> None:
        """The server hung up (or timed out, or said 421) before accepting it: the
        message keeps its attempts and stays due; the next one reconnects, and after a
        few losses in a row the server counts as unreachable for this run."""
        described = transport.describe(error)
        self._settle(message_id, last_error=f"not sent, will try again: {described}")
        self.hang_up()
        self.trouble_in_a_row += 1
        if self.trouble_in_a_row >= TROUBLE_IN_A_ROW_MAX:
            self.unreachable_because = described

    def hang_up(self) -> None:
        if self.smtp is not None:
            transport.disconnect(self.smtp)
            self.smtp = None


def send_pending(limit: int = 200) -> SendResult:
    """Send the messages that are due, oldest first, each committed as it goes.

    One bad message never holds up the others: a refusal (or a message that cannot be
    built) is recorded on it (``attempts``, ``last_error``, ``next_attempt_at`` from
    the back-off schedule) and the run goes on. If the server cannot be reached, the
    run stops and no message spends an attempt: they are all sent by the first run
    after it comes back.

    Quiet (``revision.quietly``): the outbox is shown only to site admins, signed in,
    so sending leaves the pages kept for visitors alone.
    """
    run = _Run()
    try:
        with quietly():
            run.go(limit)
    finally:
        run.hang_up()
    return run.result()
