"""The page cache for visitors who are not signed in (``pagecache.py``) and the site
revision it is keyed on (``revision.py``): a kept page is served only while nothing
has changed, never to someone signed in or holding a message, and is byte for byte
what rendering it again would give (its own nonce and CSRF token)."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text, update

from partnerships import clock, create_app, pagecache, revision
from partnerships.extensions import db
from partnerships.pagecache import Entry, PageCache
from partnerships.partnership.models import Partnership
from tests.concurrency import ROUNDS
from tests.conftest import CSRF_RE, PASSWORD, app_settings
from tests.test_calendar_feeds import personal_url
from tests.test_places import _edit_data

NONCE_RE = re.compile(rb'nonce="([^"]+)"')
_real_minute = pagecache._minute


@pytest.fixture(autouse=True)
def _one_minute(monkeypatch):
    """The whole test in one minute of the cache's clock: a real minute ending between
    two requests would make the second render afresh (as it should), and a count flaky."""
    monkeypatch.setattr(pagecache, "_minute",
                        lambda: datetime(2027, 1, 4, 9, 30, tzinfo=UTC))


def kept(app: Any) -> int:
    return len(app.extensions["page_cache"])


def page_of(partnership: Partnership) -> str:
    return f"/partnerships/{partnership.slug}/"


def test_a_page_for_someone_not_signed_in_is_kept_and_served_with_one_query(
        app, client, make_partnership, count_queries):
    partnership = make_partnership(description="We meet monthly in Northbridge.")
    first = client.get(page_of(partnership))
    assert first.status_code == 200 and kept(app) == 1
    with count_queries() as log:
        second = client.get(page_of(partnership))
    assert second.status_code == 200
    assert log.count == 1  # the revision, nothing else
    assert "We meet monthly in Northbridge." in second.get_data(as_text=True)
    # The same page but for this request's nonce, which the CSP header names.
    nonce = NONCE_RE.search(second.data).group(1).decode()
    assert nonce != NONCE_RE.search(first.data).group(1).decode()
    assert f"'nonce-{nonce}'" in second.headers["Content-Security-Policy"]
    assert NONCE_RE.sub(b"", second.data) == NONCE_RE.sub(b"", first.data)


def test_a_kept_page_carries_a_csrf_token_that_works(app, client, make_user):
    make_user("Sam", "sam@example.org")
    client.get("/account/sign-in")
    page = client.get("/account/sign-in")  # served from the cache
    assert kept(app) == 1
    token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    assert b"\x00" not in page.data
    response = client.post("/account/sign-in", data={
        "csrf_token": token, "email": "sam@example.org", "password": PASSWORD})
    assert response.status_code == 303  # signed in: the token was this session's


def test_a_new_visitor_gets_a_token_for_their_own_session(app, client, make_user):
    """The kept page came from another visitor's session: a newcomer's token must be
    checked against their own secret, not that visitor's."""
    make_user("Sam", "sam@example.org")
    client.get("/account/sign-in")
    newcomer = app.test_client()
    page = newcomer.get("/account/sign-in")
    token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    with newcomer.session_transaction() as session:
        assert session["csrf_token"]  # their own secret, set by this request
    response = newcomer.post("/account/sign-in", data={
        "csrf_token": token, "email": "sam@example.org", "password": PASSWORD})
    assert response.status_code == 303


@pytest.mark.parametrize("how", ["orm", "core update", "text update"])
def test_any_committed_change_retires_every_kept_page(app, client, make_partnership, how):
    partnership = make_partnership(description="Old words.")
    other = make_partnership("Southside Together", description="Unrelated.")
    client.get(page_of(partnership))
    client.get(page_of(other))
    assert kept(app) == 2
    if how == "orm":
        partnership.description = "New words."
    elif how == "core update":
        db.session.execute(update(Partnership).where(Partnership.id == partnership.id)
                           .values(description="New words."))
    else:
        db.session.execute(text("UPDATE partnerships SET description = 'New words.' "
                                "WHERE id = :id"), {"id": partnership.id})
    db.session.commit()
    body = client.get(page_of(partnership)).get_data(as_text=True)
    assert "New words." in body and "Old words." not in body
    assert kept(app) == 1  # the other page went too: it might have shown the change


def test_a_change_made_through_the_site_shows_at_once(app, client, auth, make_user,
                                                       make_partnership):
    officer = make_user("Olive Officer")
    partnership = make_partnership(officers=[officer], description="Old words.")
    visitor = app.test_client()
    assert "Old words." in visitor.get(page_of(partnership)).get_data(as_text=True)
    auth.login(officer)
    response = client.submit(f"/partnerships/{partnership.slug}/edit",
                             _edit_data(description="New words."))
    assert response.status_code == 303
    body = visitor.get(page_of(partnership)).get_data(as_text=True)
    assert "New words." in body and "Old words." not in body


def test_reading_and_rolling_back_changes_nothing(app, client, make_partnership):
    partnership = make_partnership()
    before = revision.current()
    assert before is not None  # the factory's commit set it
    db.session.get(Partnership, partnership.id)
    db.session.commit()  # nothing written
    assert revision.current() == before
    partnership.description = "Never saved."
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert revision.current() == before


def test_a_savepoint_leaves_the_bump_to_the_outer_commit(app, make_partnership):
    partnership = make_partnership()
    before = revision.current()
    with db.session.begin_nested():
        db.session.get(Partnership, partnership.id).description = "Inside a savepoint."
    db.session.commit()
    assert revision.current() != before


def test_a_quiet_note_leaves_the_revision_alone(app, make_partnership):
    partnership = make_partnership()
    before = revision.current()
    with revision.quietly():
        db.session.get(Partnership, partnership.id).description = "A reader's own note."
        db.session.commit()
    assert revision.current() == before


def test_fetching_a_personal_feed_keeps_the_pages_and_is_never_kept(
        app, client, auth, make_user, make_partnership):
    partnership = make_partnership()
    feed = personal_url(client, auth, make_user())
    visitor = app.test_client()
    visitor.get(page_of(partnership))
    assert kept(app) == 1
    before = revision.current()
    for _ in range(2):
        assert visitor.get(feed).status_code == 200
    assert revision.current() == before  # noting the fetch is quiet
    assert kept(app) == 1  # neither the feed was kept nor the page retired


def test_someone_signed_in_never_gets_a_kept_page_nor_leaves_one(
        app, client, auth, make_user, make_partnership):
    partnership = make_partnership()
    visitor = app.test_client()
    visitor.get(page_of(partnership))
    auth.login(make_user("Sam Signed-In"))
    body = client.get(page_of(partnership)).get_data(as_text=True)
    assert "Sign out" in body
    assert "Sign out" not in visitor.get(page_of(partnership)).get_data(as_text=True)


def test_a_visitor_with_a_message_waiting_gets_the_page_with_it(app, client,
                                                                make_partnership):
    partnership = make_partnership()
    client.get(page_of(partnership))
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Your concern has been sent.")]
    assert "Your concern has been sent." in client.get(page_of(partnership)).get_data(
        as_text=True)
    assert "Your concern has been sent." not in client.get(page_of(partnership)).get_data(
        as_text=True)


def test_not_kept_errors_htmx_and_other_cookies(app, client, make_partnership):
    partnership = make_partnership()
    client.get("/partnerships/no-such-place/")
    client.get(page_of(partnership), headers={"HX-Request": "true"})
    assert kept(app) == 0
    client.get(page_of(partnership))
    client.set_cookie("cookies_policy", "yes")
    client.get(page_of(partnership))
    assert kept(app) == 2  # another cookie, another key


def test_the_minute_is_part_of_the_key(app, client, make_partnership, count_queries,
                                       monkeypatch):
    monkeypatch.setattr(pagecache, "_minute", _real_minute)  # the clock's, moved below
    partnership = make_partnership()
    moment = datetime(2027, 3, 1, 10, 0, 30, tzinfo=UTC)
    with clock.at(moment):
        client.get(page_of(partnership))
    with clock.at(moment + timedelta(seconds=20)), count_queries() as same_minute:
        client.get(page_of(partnership))
    with clock.at(moment + timedelta(seconds=40)), count_queries() as next_minute:
        client.get(page_of(partnership))
    assert same_minute.count == 1 and next_minute.count > 1


def test_a_kept_feed_answers_if_none_match_with_304(app, client, make_partnership):
    partnership = make_partnership()
    url = f"/partnerships/{partnership.slug}/calendar.ics"
    first = client.get(url)
    assert first.status_code == 200 and kept(app) == 1
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == first.headers["ETag"]
    other = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.data == first.data


def test_the_cache_can_be_turned_off():
    """PAGE_CACHE_BYTES=0: every request renders, and none reads the revision."""
    from sqlalchemy import event

    app = create_app(app_settings(SQLALCHEMY_DATABASE_URI="sqlite://", PAGE_CACHE_BYTES=0))
    assert "page_cache" not in app.extensions
    statements: list[str] = []
    with app.app_context():
        db.create_all()
        event.listen(db.engine, "before_cursor_execute",
                     lambda _c, _cur, statement, *_: statements.append(statement))
        client = app.test_client()
        first, second = client.get("/accessibility"), client.get("/accessibility")
        assert first.status_code == second.status_code == 200
        db.engine.dispose()
    assert not [s for s in statements if "site_revision" in s]


def entry(size: int) -> Entry:
    return Entry(datetime(2027, 1, 1, tzinfo=UTC), 200, (), b"x" * size, False, False)


def test_the_cache_keeps_one_revision_within_its_bytes():
    cache = PageCache(max_bytes=880)  # an entry is its body and its key: at most 110
    minute = datetime(2027, 1, 1, tzinfo=UTC)
    assert cache.get(1, ("a",), minute) is None
    cache.put(1, ("a",), entry(100))
    cache.put(1, ("b",), entry(100))
    cache.put(1, ("huge",), entry(110))  # over an eighth of the cache: not kept
    assert cache.get(1, ("a",), minute) is not None and cache.get(1, ("huge",), minute) is None
    for n in range(8):
        cache.put(1, (f"more{n}",), entry(100))
    assert len(cache) == 8 and cache.get(1, ("b",), minute) is None  # least recent went
    assert cache.get(2, ("a",), minute) is None and len(cache) == 0  # a new revision
    cache.put(1, ("late",), entry(10))  # rendered before the change: not kept
    assert len(cache) == 0
    cache.put(2, ("q" * 111,), entry(0))  # a long query string counts against the bytes
    assert len(cache) == 0


def test_no_visitor_ever_sees_older_than_what_was_committed_before_they_asked(file_app):
    """A writer commits 1, 2, 3...; visitors not signed in read the page meanwhile.
    Each must see at least the value committed before their request began: a page
    rendered before a change must never be filed under the revision after it."""
    app = file_app
    with app.app_context():
        partnership = Partnership(name="Race Partnership", slug="race", place="Here",
                                  description="value 0")
        db.session.add(partnership)
        db.session.commit()
        partnership_id = partnership.id
    committed = {"value": 0}
    seen_too_old: list[tuple[int, int]] = []
    done = threading.Event()

    def write() -> None:
        try:
            for value in range(1, 25 * ROUNDS + 1):
                with app.app_context():
                    db.session.execute(update(Partnership).where(
                        Partnership.id == partnership_id).values(description=f"value {value}"))
                    db.session.commit()
                    db.session.remove()
                committed["value"] = value
        finally:
            done.set()

    def read() -> None:
        visitor = app.test_client()
        while not done.is_set():
            floor = committed["value"]
            body = visitor.get("/partnerships/race/").get_data(as_text=True)
            value = int(re.search(r"value (\d+)", body).group(1))
            if value < floor:
                seen_too_old.append((value, floor))

    threads = [threading.Thread(target=write)] + [threading.Thread(target=read)
                                                  for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not seen_too_old


def test_a_page_that_showed_a_one_off_message_is_not_kept(app, client, make_partnership):
    """A view that flashes and renders in the same request leaves nothing in the
    session, but the page it made shows the message: it is not for the next visitor."""
    from flask import flash, render_template

    calls = []

    def shows_a_message() -> str:
        if not calls:  # to the first visitor only
            flash("Only for you.", "success")
        calls.append(1)
        return render_template("pages/accessibility.html")

    app.add_url_rule("/test-flash", "test_flash", shows_a_message)
    make_partnership()  # something written: a revision to keep pages under
    assert "Only for you." in client.get("/test-flash").get_data(as_text=True)
    assert kept(app) == 0
    assert "Only for you." not in app.test_client().get("/test-flash").get_data(as_text=True)


def test_rate_limits_still_count_requests_served_from_the_cache(app, client,
                                                               make_partnership):
    make_partnership()
    app.config["API_RATE_LIMIT"] = "2 per minute"
    assert [client.get("/api/v1/partnerships").status_code for _ in range(3)] == [
        200, 200, 429]
    assert kept(app) == 0  # the API counts every request, so none is served kept


# Views whose own rate limits are for POST only (``methods=["POST"]``): their GET may
# be kept. (The account pages need a sign-in, so they are never kept anyway.)
POST_ONLY_LIMITS = {"accounts.sign_in", "accounts.register", "accounts.reset_request",
                    "accounts.profile", "accounts.change_password", "accounts.delete",
                    "concerns.new"}


def test_every_view_with_its_own_rate_limit_is_never_looked_up(app):
    """Flask-Limiter counts a view's own limits (its decorators) as the view runs, not
    before the request: a kept answer would be served without counting. So any view
    with limits of its own is marked ``pagecache.never`` (or limits only its POSTs)."""
    from flask_limiter.util import get_qualified_name

    from partnerships.extensions import limiter

    marked = limiter._marked_for_limiting  # the names of views with their own limits
    unmarked = [
        rule.endpoint for rule in app.url_map.iter_rules() if "GET" in (rule.methods or ())
        and get_qualified_name(app.view_functions[rule.endpoint]) in marked
        and not getattr(app.view_functions[rule.endpoint], "never_cached", False)
        and rule.endpoint not in POST_ONLY_LIMITS]
    assert unmarked == [], unmarked
    assert "opendata.partnerships_list" not in POST_ONLY_LIMITS
