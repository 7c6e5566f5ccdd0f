"""The one clock: every "now" in the app (``modelbase.utcnow``, ``timeutil.now_utc`` and
so ``today_uk``) comes from ``now()`` here.

Why a seam: the demo (``flask seed demo``) has to show things that happened in the
past, such as a meeting held last month with its minutes, or an MoU review that is
now overdue. Running the real services "as of" that moment (``with clock.at(moment):``)
lets them record the past with their own rules, instead of a loader writing rows
with hand-made timestamps. Tests use it the same way.

The override is a ``ContextVar``, so it belongs to the code running inside the
``with`` block (one request, one CLI command, one test) and is always put back, even
when the block raises. Production code never sets it: only ``partnerships/seed.py``,
the domain ``seed.py`` loaders and tests may (``tests/test_clock.py`` checks this).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_frozen_at: ContextVar[datetime | None] = ContextVar("clock_frozen_at", default=None)


def now() -> datetime:
    """The current time as an aware UTC datetime (or the moment ``at`` set)."""
    moment = _frozen_at.get()
    return moment if moment is not None else datetime.now(UTC)


@contextmanager
def at(moment: datetime) -> Iterator[datetime]:
    """Inside the block, ``now()`` is ``moment`` (aware, returned in UTC); afterwards,
    whatever it was before, even if the block raised."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("clock.at needs an aware datetime (say, in UTC)")
    token = _frozen_at.set(moment.astimezone(UTC))
    try:
        yield moment.astimezone(UTC)
    finally:
        _frozen_at.reset(token)
