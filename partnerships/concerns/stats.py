"""Concern figures for the engagement record: for one partnership and one year (the
calendar year in UK time, by when each concern was raised), how many were raised,
acknowledged, responded to, closed and published, how many of each category, and the
median days to acknowledge and to respond.

Medians have no portable SQL aggregate (PostgreSQL's ``percentile_cont`` has no SQLite
equivalent, nor has a portable difference between two timestamps), so the year's
concerns are read once, a few timestamps each (the ``(partnership_id, raised_at)``
index bounds the query to the year's concerns: tens or hundreds, not thousands), and
everything is counted and the medians taken here. One query, because the record page
that shows these has a query budget. Days are calendar days, to one decimal place: a
concern acknowledged 36 hours after it was raised waited 1.5 days.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, select

from .. import permissions
from ..extensions import db
from ..timeutil import uk_local_to_utc
from .models import Concern, ConcernCategory


@dataclass(frozen=True)
class ConcernFigures:
    raised: int
    acknowledged: int
    responded: int
    closed: int
    median_days_to_acknowledge: float | None
    median_days_to_respond: float | None
    by_category: dict[ConcernCategory, int] = field(default_factory=dict)
    published: int = 0

    @property
    def categories(self) -> list[tuple[ConcernCategory, int]]:
        """Every category with its count, in the categories' own order (for tables)."""
        return [(category, self.by_category.get(category, 0)) for category in ConcernCategory]


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The UK calendar year as a UTC half-open interval."""
    return (uk_local_to_utc(date(year, 1, 1), time(0, 0)),
            uk_local_to_utc(date(year + 1, 1, 1), time(0, 0)))


def _median_days(waits: list[timedelta]) -> float | None:
    if not waits:
        return None
    return round(statistics.median(wait.total_seconds() for wait in waits) / 86400, 1)


def figures(partnership_id: int, year: int) -> ConcernFigures:
    """The year's concern figures for one partnership (see the module docstring)."""
    start, end = year_bounds(year)
    published = case((permissions.concerns_published(), 1), else_=0)
    by_category = dict.fromkeys(ConcernCategory, 0)
    acknowledged = responded = closed = shown = 0
    to_acknowledge: list[timedelta] = []
    to_respond: list[timedelta] = []
    for category, raised_at, acknowledged_at, responded_at, closed_at, public in \
            db.session.execute(
                select(Concern.category, Concern.raised_at, Concern.acknowledged_at,
                       Concern.responded_at, Concern.closed_at, published)
                .where(Concern.partnership_id == partnership_id, Concern.raised_at >= start,
                       Concern.raised_at < end)).tuples():
        by_category[ConcernCategory(category)] += 1
        if acknowledged_at is not None:
            acknowledged += 1
            to_acknowledge.append(acknowledged_at - raised_at)
        if responded_at is not None:
            responded += 1
            to_respond.append(responded_at - raised_at)
        closed += closed_at is not None
        shown += bool(public)
    return ConcernFigures(
        raised=sum(by_category.values()), acknowledged=acknowledged, responded=responded,
        closed=closed, median_days_to_acknowledge=_median_days(to_acknowledge),
        median_days_to_respond=_median_days(to_respond),
        by_category=by_category, published=shown)
