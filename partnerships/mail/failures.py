"""Messages that failed for good (refused at every attempt for more than a day): listed
for the site administrators, and put back in the queue by them ("Try again" on
``/admin/``) or by the operator (``flask outbox retry``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, func, select, update

from ..extensions import db
from .models import OutboxMessage
from .schedule import MAX_ATTEMPTS

FAILED_LIST_MAX = 50  # the newest failed messages the site administrators see
# An address "keeps failing" with this many messages refused in this long: a mistyped
# or closed mailbox, which bounces (out of scope here) would otherwise hide.
REPEATED_FAILURES = 3
REPEATED_WITHIN = timedelta(days=30)


def failed() -> tuple[ColumnElement[bool], ...]:
    """The condition for messages that failed for good: never sent, no tries left."""
    return (OutboxMessage.sent_at.is_(None), OutboxMessage.attempts >= MAX_ATTEMPTS)


def failed_messages(limit: int = FAILED_LIST_MAX) -> list[OutboxMessage]:
    """The newest messages that will not be tried again."""
    return list(db.session.scalars(
        select(OutboxMessage)
        .where(*failed())
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    ))


@dataclass(frozen=True)
class FailingAddress:
    """An address that keeps failing: how many of its messages, the latest error."""

    to: str
    failures: int
    last_failed_at: datetime
    last_error: str


def failing_addresses(now: datetime,
                      limit: int = FAILED_LIST_MAX) -> list[FailingAddress]:
    """Addresses with ``REPEATED_FAILURES`` or more messages, queued in the last
    ``REPEATED_WITHIN``, that the mail server refused and that are still not sent
    (failed for good, or waiting to be tried again), most failures first, in one
    query: each with its count and the error of its latest such message."""
    refused = (OutboxMessage.sent_at.is_(None), OutboxMessage.attempts >= 1,
               OutboxMessage.created_at >= now - REPEATED_WITHIN)
    grouped = (select(OutboxMessage.to.label("to"),
                      func.count(OutboxMessage.id).label("failures"),
                      func.max(OutboxMessage.id).label("latest_id"))
               .where(*refused).group_by(OutboxMessage.to)
               .having(func.count(OutboxMessage.id) >= REPEATED_FAILURES).subquery())
    rows = db.session.execute(
        select(grouped.c.to, grouped.c.failures, OutboxMessage.created_at,
               OutboxMessage.last_error)
        .join(OutboxMessage, OutboxMessage.id == grouped.c.latest_id)
        .order_by(grouped.c.failures.desc(), grouped.c.to).limit(limit))
    return [FailingAddress(to, int(failures), created_at, error)
            for to, failures, created_at, error in rows]


def failed_ids() -> list[int]:
    """Every message that failed for good, oldest first."""
    return list(db.session.scalars(
        select(OutboxMessage.id).where(*failed()).order_by(OutboxMessage.id)))


def _requeue(actor: Any, message_id: int) -> OutboxMessage | None:
    """Give a failed message a fresh set of attempts, due now, if it is still failed
    (a conditional UPDATE: two administrators pressing "Try again" at once requeue
    it once, with one audit event). ``actor`` is ``None`` for the command line."""
    from .. import audit

    requeued = cast("CursorResult[Any]", db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, *failed())
        .values(attempts=0, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )).rowcount
    if requeued != 1:
        return None
    message = db.session.get(OutboxMessage, message_id, populate_existing=True)
    assert message is not None
    audit.record(actor, "email.retried", "outbox_message", message.id,
                 last_error=message.last_error[:200])
    db.session.flush()
    return message


def retry(actor: Any, message_id: int) -> OutboxMessage:
    """Put a failed message back in the queue for the next run (site administrators)."""
    from .. import permissions
    from ..errors import NotFound, PermissionDenied

    if not permissions.can_view_admin(actor):
        raise PermissionDenied("Only site administrators can send failed email again.")
    message = _requeue(actor, message_id)
    if message is None:
        raise NotFound("That email is not waiting to be sent again.")
    return message


def requeue(message_ids: list[int]) -> list[OutboxMessage]:
    """``flask outbox retry``: put these failed messages back in the queue (those that
    are no longer failed, or never were, are left alone). The caller commits."""
    return [message for message_id in message_ids
            if (message := _requeue(None, message_id)) is not None]
