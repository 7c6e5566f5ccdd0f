"""Concern figures for the engagement record: for one partnership and one year (the
calendar year in UK time, by when each concern was raised), how many were raised,
acknowledged, responded to, closed and published, how many of each category, and the
median days to acknowledge and to respond.

The counts are one aggregate query (``COUNT`` over ``CASE``, grouped by category).
Medians have no portable SQL aggregate (PostgreSQL's ``percentile_cont`` has no SQLite
equivalent, nor has a portable difference between two timestamps), so the waits are
read as pairs of timestamps in one query, which the ``(partnership_id, raised_at)``
index bounds to the year's concerns, and the median is taken here. Days are calendar
days, to one decimal place: a concern acknowledged 36 hours after it was raised
waited 1.5 days.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, case, func, select

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


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count(case((condition, 1)))


def _median_days(waits: list[timedelta]) -> float | None:
    if not waits:
        return None
    return round(statistics.median(wait.total_seconds() for wait in waits) / 86400, 1)


def figures(partnership_id: int, year: int) -> ConcernFigures:
    """The year's concern figures for one partnership (see the module docstring)."""
    start, end = year_bounds(year)
    in_year = (Concern.partnership_id == partnership_id, Concern.raised_at >= start,
               Concern.raised_at < end)
    by_category = dict.fromkeys(ConcernCategory, 0)
    totals = [0, 0, 0, 0, 0]  # raised, acknowledged, responded, closed, published
    for category, *counts in db.session.execute(
            select(Concern.category, func.count(Concern.id),
                   _count(Concern.acknowledged_at.is_not(None)),
                   _count(Concern.responded_at.is_not(None)),
                   _count(Concern.closed_at.is_not(None)),
                   _count(permissions.concerns_published()))
            .where(*in_year).group_by(Concern.category)):
        by_category[ConcernCategory(category)] = counts[0]
        totals = [total + int(count or 0) for total, count in zip(totals, counts, strict=True)]
    raised, acknowledged, responded, closed, published = totals
    to_acknowledge: list[timedelta] = []
    to_respond: list[timedelta] = []
    for raised_at, acknowledged_at, responded_at in db.session.execute(
            select(Concern.raised_at, Concern.acknowledged_at, Concern.responded_at)
            .where(*in_year, Concern.acknowledged_at.is_not(None))):
        to_acknowledge.append(acknowledged_at - raised_at)
        if responded_at is not None:
            to_respond.append(responded_at - raised_at)
    return ConcernFigures(
        raised=raised, acknowledged=acknowledged, responded=responded, closed=closed,
        median_days_to_acknowledge=_median_days(to_acknowledge),
        median_days_to_respond=_median_days(to_respond),
        by_category=by_category, published=published)
