"""The one clock (``partnerships/clock.py``): ``clock.at`` sets "now" for every part of
the app inside the block, is put back afterwards even when the block raises, and only
the demo loader (and tests) ever set it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from partnerships import clock, timeutil
from partnerships.modelbase import utcnow

MOMENT = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # the night the UK clocks go forward


def test_without_an_override_now_is_the_real_time() -> None:
    before = datetime.now(UTC)
    assert before <= clock.now() <= datetime.now(UTC)
    assert before <= utcnow() <= datetime.now(UTC)


def test_every_now_in_the_app_honours_the_override_and_it_is_reset_after() -> None:
    with clock.at(MOMENT) as moment:
        assert moment == MOMENT
        assert clock.now() == utcnow() == timeutil.now_utc() == MOMENT
        assert timeutil.today_uk() == date(2026, 3, 29)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_the_override_is_reset_even_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), clock.at(MOMENT):
        raise RuntimeError("boom")
    assert clock.now() != MOMENT


def test_overrides_nest_and_the_outer_one_comes_back() -> None:
    later = MOMENT + timedelta(days=40)
    with clock.at(MOMENT):
        with clock.at(later):
            assert utcnow() == later
        assert utcnow() == MOMENT


def test_the_override_is_given_in_utc_and_must_be_aware() -> None:
    with clock.at(datetime(2026, 6, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))):
        assert utcnow() == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
        assert utcnow().tzinfo is UTC
    with pytest.raises(ValueError, match="aware"), clock.at(datetime(2026, 6, 1, 10, 0)):
        pass


def test_records_created_inside_the_block_are_dated_then(app, make_user) -> None:
    with clock.at(MOMENT):
        user = make_user("Past Person", "past@example.org")
    assert user.created_at == MOMENT


def test_only_the_demo_loader_sets_the_clock() -> None:
    """Production code reads the clock and never sets it: an override left in a request
    would date real records wrongly."""
    package = Path(clock.__file__).parent
    setters = {
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if re.search(r"\bclock\.at\(|_frozen_at\.set\(", path.read_text(encoding="utf-8"))
    }
    assert setters <= {"clock.py", "seed.py"} | {
        path.relative_to(package).as_posix() for path in package.glob("*/seed.py")}
