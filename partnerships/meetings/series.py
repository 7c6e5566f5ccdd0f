"""The dates of a recurring series, in UK calendar days.

Pure date arithmetic: no database, no time zones. The scheduling service turns each
date plus the series' wall-clock time into UTC with ``timeutil.uk_local_to_utc``, so
a 10:00 meeting is at 10:00 UK time on every date, whichever side of a clock change.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from .models import OCCURRENCES_MAX, RecurrenceKind

# A series is a plan, not forever: enough for three years of monthly meetings.
MAX_OCCURRENCES = OCCURRENCES_MAX
MAX_YEARS = 3


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    """The ``nth`` (1-4, or -1 for last) ``weekday`` of a month."""
    days_in_month = calendar.monthrange(year, month)[1]
    if nth == -1:
        last = date(year, month, days_in_month)
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))


def week_of_month(day: date) -> int:
    """1-4 for the first to fourth such weekday of the month; -1 for a fifth (the last)."""
    nth = (day.day - 1) // 7 + 1
    return -1 if nth >= 5 else nth


def describe(kind: RecurrenceKind, first: date, interval_weeks: int | None = None) -> str:
    """'Monthly on the second Tuesday', 'Every 6 weeks on Thursday'."""
    weekday = first.strftime("%A")
    ordinal = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}[
        week_of_month(first)]
    if kind is RecurrenceKind.MONTHLY_NTH_WEEKDAY:
        return f"Monthly on the {ordinal} {weekday}"
    if kind is RecurrenceKind.QUARTERLY_NTH_WEEKDAY:
        return f"Every 3 months on the {ordinal} {weekday}"
    weeks = interval_weeks or 1
    return f"Every week on {weekday}" if weeks == 1 else f"Every {weeks} weeks on {weekday}"


def occurrence_dates(
    kind: RecurrenceKind, first: date, *, interval_weeks: int | None = None,
    until: date | None = None, count: int | None = None,
) -> list[date]:
    """Dates of the series from ``first``, stopping at ``until`` (inclusive) or after
    ``count`` dates, and never beyond ``MAX_OCCURRENCES`` or ``MAX_YEARS``."""
    if until is None and count is None:
        raise ValueError("a series needs an end date or a number of meetings")
    limit = min(count or MAX_OCCURRENCES, MAX_OCCURRENCES)
    horizon = date(first.year + MAX_YEARS, first.month, min(first.day, 28))
    last_day = min(until, horizon) if until else horizon
    dates: list[date] = []
    if kind is RecurrenceKind.EVERY_N_WEEKS:
        step = timedelta(weeks=interval_weeks or 1)
        day = first
        while day <= last_day and len(dates) < limit:
            dates.append(day)
            day += step
        return dates
    months = 1 if kind is RecurrenceKind.MONTHLY_NTH_WEEKDAY else 3
    nth = week_of_month(first)
    year, month = first.year, first.month
    while len(dates) < limit:
        day = _nth_weekday(year, month, first.weekday(), nth)
        if day > last_day:
            break
        if day >= first:
            dates.append(day)
        month += months
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return dates
