"""Markdown is rendered safely; UK time is right across clock changes; working days."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

import pytest

from partnerships import text
from partnerships.extensions import db
from partnerships.factories import forums as forum_factory
from partnerships.slugs import slugify
from partnerships.text import RenderedCache, render_markdown
from partnerships.timeutil import (
    AmbiguousTimeError,
    NonExistentTimeError,
    clear_working_days_between,
    format_uk,
    is_working_day,
    latest_day_for_notice,
    uk_local_to_utc,
)


def test_markdown_renders_with_govuk_classes_and_shifts_headings():
    html = render_markdown("# Purpose\n\nWe **meet** monthly.\n\n- one\n- two")
    assert '<h2 class="govuk-heading-m">Purpose</h2>' in html
    assert '<p class="govuk-body">We <strong>meet</strong> monthly.</p>' in html
    assert '<ul class="govuk-list govuk-list--bullet">' in html
    assert "<h1" not in html


@pytest.mark.parametrize(
    "evil",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="https://x.example" onclick="alert(1)">x</a>',
        "<iframe src='https://evil.example'></iframe>",
    ],
)
def test_markdown_never_lets_script_through(evil):
    html = str(render_markdown(evil))
    tags = re.findall(r"<[^>]+>", html)
    assert not [t for t in tags if re.search(r"script|iframe|<img|on\w+=|javascript:", t)], tags


def test_markdown_links_are_nofollow():
    html = str(render_markdown("[site](https://example.org)"))
    assert 'href="https://example.org"' in html
    assert "nofollow" in html and 'class="govuk-link"' in html


def _thread_with_posts(make_user, make_partnership, make_forum, bodies):
    author = make_user("Ada Author")
    forum = make_forum(make_partnership(), members=[author])
    thread = forum_factory.thread(forum, author, "Winter", bodies[0])
    for body in bodies[1:]:
        forum_factory.reply(thread, author, body)
    db.session.commit()
    url = f"/partnerships/northbridge-together/forums/{forum.slug}/threads/{thread.id}"
    return author, thread, url


def test_stored_text_is_rendered_once_then_served_from_the_cache(
        client, make_user, make_partnership, make_forum, monkeypatch):
    """A page shows the same stored Markdown on every request: it is rendered on the
    first and kept (``text.rendered``), not rendered again on each."""
    bodies = [f"Post {n}: we **met** the food bank." for n in range(6)]
    _author, _thread, url = _thread_with_posts(make_user, make_partnership, make_forum, bodies)
    text.rendered.clear()
    calls = []
    render = text._md.render
    monkeypatch.setattr(text._md, "render", lambda source: calls.append(source) or render(source))
    first = client.get(url)
    assert first.status_code == 200 and "<strong>met</strong>" in first.get_data(as_text=True)
    rendered = len(calls)
    assert rendered >= len(bodies)
    second = client.get(url)
    assert second.get_data(as_text=True).count("<strong>met</strong>") == len(bodies)
    assert len(calls) == rendered  # nothing rendered again


def test_an_edited_post_shows_its_new_text_at_once(
        client, auth, make_user, make_partnership, make_forum):
    author, thread, url = _thread_with_posts(
        make_user, make_partnership, make_forum, ["We meet *monthly*."])
    assert "<em>monthly</em>" in client.get(url).get_data(as_text=True)
    auth.login(author)
    post_id = thread.last_post_id
    response = client.submit(f"{url}/posts/{post_id}/edit", {"body": "We meet *weekly*."})
    assert response.status_code == 303
    page = client.get(url).get_data(as_text=True)
    assert "<em>weekly</em>" in page and "monthly" not in page


def test_the_rendered_cache_keeps_within_its_budget_of_characters():
    cache = RenderedCache(max_chars=100)
    for n in range(10):
        cache.put(f"text {n}", render_markdown(f"text {n}"))
    assert 0 < len(cache) < 10
    assert cache.get("text 9") is not None and cache.get("text 0") is None
    cache.put("x" * 200, render_markdown("y"))  # bigger than the whole budget: not kept
    assert cache.get("x" * 200) is None
    assert render_markdown("") == "" and render_markdown(None) == ""


def test_local_time_becomes_utc_in_winter_and_summer():
    assert uk_local_to_utc(date(2026, 1, 13), time(10, 0)) == datetime(2026, 1, 13, 10, tzinfo=UTC)
    assert uk_local_to_utc(date(2026, 7, 14), time(10, 0)) == datetime(2026, 7, 14, 9, tzinfo=UTC)


def test_a_time_in_the_spring_forward_gap_is_refused():
    with pytest.raises(NonExistentTimeError, match="does not exist"):
        uk_local_to_utc(date(2026, 3, 29), time(1, 30))


def test_a_time_in_the_autumn_overlap_is_refused():
    with pytest.raises(AmbiguousTimeError, match="happens twice"):
        uk_local_to_utc(date(2026, 10, 25), time(1, 30))


def test_uk_formatting_is_govuk_style():
    summer = datetime(2026, 7, 14, 13, 30, tzinfo=UTC)
    assert format_uk(summer) == "14 July 2026 at 2:30pm"
    assert format_uk(datetime(2026, 1, 5, 12, 0, tzinfo=UTC)) == "5 January 2026 at midday"
    assert format_uk(summer, "date") == "14 July 2026"


def test_working_days_skip_weekends_and_bank_holidays():
    assert not is_working_day(date(2026, 12, 25))  # Christmas Day
    assert not is_working_day(date(2026, 12, 28))  # Boxing Day substitute
    assert not is_working_day(date(2026, 4, 3))  # Good Friday
    assert not is_working_day(date(2026, 4, 6))  # Easter Monday
    assert not is_working_day(date(2026, 11, 21))  # Saturday
    assert is_working_day(date(2026, 11, 23))


def test_clear_working_days_exclude_both_ends():
    assert clear_working_days_between(date(2026, 11, 23), date(2026, 11, 30)) == 4
    # Across Christmas 2026: 21, 22, 23 and 24 December only.
    assert clear_working_days_between(date(2026, 12, 18), date(2026, 12, 29)) == 4


def test_latest_day_to_publish_for_five_clear_working_days():
    assert latest_day_for_notice(date(2026, 12, 29), 5) == date(2026, 12, 17)
    # Meeting on Tuesday 14 April 2026, after Easter: 7, 8, 9, 10 and 13 April are the
    # clear days. Publishing on Easter Monday (6 April) would still just give notice,
    # but a deadline is a working day: Thursday 2 April, before Good Friday.
    assert latest_day_for_notice(date(2026, 4, 14), 5) == date(2026, 4, 2)


def test_slugify_makes_readable_ascii():
    assert slugify("Health & Wellbeing VCSE Forum") == "health-and-wellbeing-vcse-forum"
    assert slugify("St Mary's Café") == "st-marys-cafe"
