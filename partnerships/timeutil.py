"""UK time, and working days.

Everything is stored in UTC and shown in Europe/London. Local times entered by a
person are checked: a time that does not exist (the spring-forward gap) or happens
twice (the autumn fall-back hour) is refused rather than guessed.

Working days exclude weekends and England-and-Wales bank holidays, from
``govuk-bank-holidays``' bundled data (never the network).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from govuk_bank_holidays.bank_holidays import BankHolidays

from . import clock

LONDON = ZoneInfo("Europe/London")


class AmbiguousTimeError(ValueError):
    """A local time that happens twice when the clocks go back."""


class NonExistentTimeError(ValueError):
    """A local time skipped when the clocks go forward."""


def now_utc() -> datetime:
    """The current time, aware UTC, from the one clock (see ``partnerships/clock.py``)."""
    return clock.now()


def to_uk(value: datetime) -> datetime:
    """An aware datetime in UK time."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: attach a time zone before converting")
    return value.astimezone(LONDON)


def today_uk() -> date:
    return now_utc().astimezone(LONDON).date()


def uk_local_to_utc(day: date, at: time) -> datetime:
    """Turn a UK wall-clock date and time into aware UTC, refusing gaps and overlaps."""
    naive = datetime.combine(day, at.replace(tzinfo=None))
    first = naive.replace(tzinfo=LONDON, fold=0)
    second = naive.replace(tzinfo=LONDON, fold=1)
    if first.utcoffset() != second.utcoffset():
        if first.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) != naive:
            raise NonExistentTimeError(
                f"{at:%H:%M} on {day:%-d %B %Y} does not exist in the UK: the clocks go "
                "forward an hour. Choose a time after 2am."
            )
        raise AmbiguousTimeError(
            f"{at:%H:%M} on {day:%-d %B %Y} happens twice in the UK: the clocks go back "
            "an hour. Choose a time after 2am."
        )
    return first.astimezone(UTC)


def format_uk(value: datetime | None, fmt: str = "datetime") -> str:
    """Human dates in GOV.UK style: '3 March 2026', '3 March 2026 at 2:30pm'."""
    if value is None:
        return ""
    local = to_uk(value)
    day = f"{local.day} {local:%B %Y}"
    if fmt == "date":
        return day
    hour = local.hour % 12 or 12
    minute = f":{local.minute:02d}" if local.minute else ""
    suffix = "am" if local.hour < 12 else "pm"
    clock = "midday" if (local.hour, local.minute) == (12, 0) else f"{hour}{minute}{suffix}"
    if fmt == "time":
        return clock
    return f"{day} at {clock}"


def format_day(value: date | None) -> str:
    """A calendar date (no time of day, so no time zone) as '3 March 2027'."""
    if value is None:
        return ""
    return f"{value.day} {value:%B %Y}"


@lru_cache(maxsize=1)
def _bank_holidays() -> frozenset[date]:
    data = BankHolidays(use_cached_holidays=True)
    return frozenset(
        h["date"] for h in data.get_holidays(division=BankHolidays.ENGLAND_AND_WALES)
    )


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays()


def clear_working_days_between(start: date, end: date) -> int:
    """Working days strictly between ``start`` and ``end`` (neither day counts)."""
    count = 0
    day = start + timedelta(days=1)
    while day < end:
        if is_working_day(day):
            count += 1
        day += timedelta(days=1)
    return count


def latest_day_for_notice(event_day: date, clear_days: int) -> date:
    """The last *working* day something can be published and still give ``clear_days``
    notice. Publishing on the weekend or bank holiday after it would still give the
    notice, but a deadline people act on is a day they work: "publish by Friday",
    never "by Sunday" or "by Easter Monday"."""
    day = event_day
    found = 0
    while found < clear_days:
        day -= timedelta(days=1)
        if is_working_day(day):
            found += 1
    day -= timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def format_deadline(day: date | None) -> str:
    """A deadline as people act on it, with its weekday: 'Friday 27 November 2026'.
    Every notice deadline on pages and in emails is shown through this (the Jinja
    filter ``uk_deadline``)."""
    if day is None:
        return ""
    return f"{day:%A} {format_day(day)}"
