"""Email: an outbox table written in the same transaction as the change.

``queue`` adds a message to the session; if the change rolls back, so does the
email. ``flask outbox send`` (``send_pending``) delivers the messages that are due
over SMTP, claiming each first so overlapping runs never send one twice. A message
the server refuses is tried again on a back-off schedule (``schedule``) for more
than a day before it is listed for the site administrators as failed; an unreachable
server costs no message an attempt. In development each message is also printed when
queued, so the demo works with no mail server.

Modules: ``models`` (the table), ``outbox`` (queueing), ``schedule`` (back-off),
``transport`` (SMTP), ``sending`` (the run), ``failures`` (failed for good, retry).
"""

from __future__ import annotations

from .failures import (
    FAILED_LIST_MAX,
    REPEATED_FAILURES,
    REPEATED_WITHIN,
    FailingAddress,
    failed,
    failed_ids,
    failed_messages,
    failing_addresses,
    requeue,
    retry,
)
from .models import ERROR_MAX, SUBJECT_MAX, OutboxMessage
from .outbox import queue, withheld
from .schedule import KEEP_TRYING_FOR, MAX_ATTEMPTS, RETRY_DELAYS, next_attempt
from .sending import SendResult, send_pending, waiting_count
from .transport import connect_smtp

__all__ = [
    "ERROR_MAX",
    "FAILED_LIST_MAX",
    "KEEP_TRYING_FOR",
    "MAX_ATTEMPTS",
    "REPEATED_FAILURES",
    "REPEATED_WITHIN",
    "RETRY_DELAYS",
    "SUBJECT_MAX",
    "FailingAddress",
    "OutboxMessage",
    "SendResult",
    "connect_smtp",
    "failed",
    "failed_ids",
    "failed_messages",
    "failing_addresses",
    "next_attempt",
    "queue",
    "requeue",
    "retry",
    "send_pending",
    "waiting_count",
    "withheld",
]
