"""When a refused message is tried again, and when we stop trying.

A refusal is often temporary (a full mailbox, a greylisting server, a mistake in the
settings that someone fixes the next morning), so a message is tried again after 1,
5 and 15 minutes, then every hour, for at least a day, before it is listed for the
site administrators as failed. ``MAX_ATTEMPTS`` follows from the schedule, so the two
cannot disagree.
"""

from __future__ import annotations

from datetime import datetime, timedelta

# The wait after the 1st, 2nd, 3rd ... refusal; the last one repeats.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
)
KEEP_TRYING_FOR = timedelta(hours=24)


def delay_after(attempts: int) -> timedelta:
    """How long a message waits after its ``attempts``-th refusal (``attempts`` >= 1)."""
    return RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1]


def _attempts_to_span(span: timedelta) -> int:
    """The fewest attempts whose waits in between add up to at least ``span``."""
    attempts, waited = 1, timedelta(0)
    while waited < span:
        waited += delay_after(attempts)
        attempts += 1
    return attempts


# 28: the waits between the 1st and the 28th attempt add up to 24 hours 21 minutes.
MAX_ATTEMPTS = _attempts_to_span(KEEP_TRYING_FOR)


def next_attempt(attempts: int, now: datetime) -> datetime | None:
    """When a message refused for the ``attempts``-th time may be tried again, or
    ``None`` once it has had all its attempts (it is then failed for good)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + delay_after(attempts)
