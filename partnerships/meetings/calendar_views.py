"""Calendar downloads and feeds over HTTP, and the personal feed's secret on "My meetings".

* ``/meetings/<id>.ics``: one meeting, for whoever may see it (404 otherwise), with
  the joining link only if that person may see it.
* ``/partnerships/<slug>/calendar.ics`` and ``.../forums/<forum>/calendar.ics``:
  public meetings only, whoever asks.
* ``/calendar/<token>.ics``: the personal feed, rate limited per token; a wrong or
  reset token is a plain 404.

Conditional requests. The ETag is strong, a hash of the body. Building a big feed
costs far more than ``feeds.fingerprint`` (one small query), so each process remembers,
per feed, the fingerprint it last built from with that body's ETag, and the body
itself while it fits in ``BODY_CACHE_BYTES``: while the fingerprint is unchanged, a
matching ``If-None-Match`` gets a 304, and any other request the same bytes, without
building (most calendar apps poll without validators). After a restart, or in
another worker, the first request builds once.

``Last-Modified`` cannot come from the data alone: a meeting leaving the window or
turned members-only changes a feed without any timestamp a public feed may show. So a
body's modification time is taken when this process first built it, and it answers
``If-Modified-Since`` only from the next whole second after the fingerprint was read
("settled"): any body that was current before could only have been stamped with an
earlier second, by any worker, so a 304 never goes to a client holding another body.
The header sent is never later than the request's own time.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, flash, render_template, request
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import pagecache, permissions, revision, transactions
from ..extensions import db, limiter
from ..formflow import Page, found, see_other
from ..forums import services as forum_services
from ..modelbase import utcnow
from ..slugs import slugify
from ..timeutil import to_uk
from . import feeds, ical, queries
from .routes import bp
from .view_helpers import load_meeting

CONTENT_TYPE = "text/calendar; charset=utf-8"
PUBLIC_FEED_CACHE = "public, max-age=3600"
PERSONAL_FEED_CACHE = "private, max-age=900"
VALIDATOR_CACHE_SIZE = 4096
# Bodies kept per process, at most (the least recently used go first; their
# validators stay, so 304s still need no building).
BODY_CACHE_BYTES = 32 * 1024 * 1024
NEVER = datetime.max.replace(tzinfo=UTC)


# --- Conditional responses -------------------------------------------------------------


@dataclass(frozen=True)
class Validators:
    fingerprint: str
    etag: str
    settled: datetime  # If-Modified-Since at or after this matches this body


class ValidatorCache:
    """Per process: feed key -> the validators of the body last built for it, and
    (within ``body_bytes``) that body."""

    def __init__(self, size: int = VALIDATOR_CACHE_SIZE,
                 body_bytes: int = BODY_CACHE_BYTES) -> None:
        self._items: OrderedDict[tuple[object, ...], Validators] = OrderedDict()
        self._prints: OrderedDict[tuple[object, ...], tuple[int, datetime, str]] = \
            OrderedDict()
        self._bodies: OrderedDict[tuple[object, ...], tuple[str, bytes]] = OrderedDict()
        self._body_bytes = 0
        self._max_body_bytes = body_bytes
        self._lock = threading.Lock()
        self._size = size

    def body(self, key: tuple[object, ...], etag: str) -> bytes | None:
        """The body last built for ``key``, if it is still kept and has ``etag``."""
        with self._lock:
            found = self._bodies.get(key)
            if found is None or found[0] != etag:
                return None
            self._bodies.move_to_end(key)
            return found[1]

    def put_body(self, key: tuple[object, ...], etag: str, body: bytes) -> None:
        with self._lock:
            old = self._bodies.pop(key, None)
            if old is not None:
                self._body_bytes -= len(old[1])
            if len(body) > self._max_body_bytes:
                return
            self._bodies[key] = (etag, body)
            self._body_bytes += len(body)
            while self._body_bytes > self._max_body_bytes:
                _key, (_etag, dropped) = self._bodies.popitem(last=False)
                self._body_bytes -= len(dropped)

    def known_print(self, key: tuple[object, ...], revision_value: int,
                    minute: datetime) -> str | None:
        """The fingerprint worked out for ``key`` at this revision and minute, if any."""
        with self._lock:
            found = self._prints.get(key)
            if found is None or found[:2] != (revision_value, minute):
                return None
            self._prints.move_to_end(key)
            return found[2]

    def put_print(self, key: tuple[object, ...], revision_value: int, minute: datetime,
                  value: str) -> None:
        with self._lock:
            self._prints[key] = (revision_value, minute, value)
            self._prints.move_to_end(key)
            while len(self._prints) > self._size:
                self._prints.popitem(last=False)

    def get(self, key: tuple[object, ...]) -> Validators | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[object, ...], value: Validators) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                dropped, _validators = self._items.popitem(last=False)
                body = self._bodies.pop(dropped, None)
                if body is not None:
                    self._body_bytes -= len(body[1])


def validator_cache() -> ValidatorCache:
    cache = current_app.extensions.setdefault("meeting_calendar_validators", ValidatorCache())
    if not isinstance(cache, ValidatorCache):  # only this function sets the key
        raise TypeError("app.extensions['meeting_calendar_validators'] is not a ValidatorCache")
    return cache


def _second(value: datetime) -> datetime:
    return value.replace(microsecond=0)


def _etag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:40]


def _not_modified(known: Validators) -> bool:
    """RFC 9110 13.2.2: If-None-Match (weak comparison) wins over If-Modified-Since."""
    if request.if_none_match:
        return request.if_none_match.contains_weak(known.etag)
    since = request.if_modified_since
    return since is not None and since >= known.settled


def calendar_response(key: tuple[object, ...], started: datetime,
                      fingerprint: Callable[[], str], build: Callable[[], bytes], *,
                      filename: str, cache_control: str) -> Response:
    """200 with the calendar, or 304; the calendar is built only when needed.

    A body (and its validators) is remembered under a fingerprint only if the
    fingerprint read again after building is the same, so a change made while building
    is never filed under the state before it."""
    print_ = fingerprint()
    read = utcnow()
    cache = validator_cache()
    known = cache.get(key)
    if known is not None and known.fingerprint == print_:
        if _not_modified(known):
            return _headers(Response(status=304), known, started, cache_control)
        kept = cache.body(key, known.etag)
        if kept is not None:
            return _calendar(kept, known, started, filename, cache_control)
    body = build()
    etag = _etag(body)
    if fingerprint() == print_:
        if known is not None and known.etag == etag:
            settled = known.settled  # the same bytes: validators already sent stay good
        else:
            settled = _second(read) + timedelta(seconds=1)
        known = Validators(print_, etag, settled)
        cache.put(key, known)
        cache.put_body(key, etag, body)
    else:
        known = Validators("", etag, NEVER)  # changed meanwhile: only the ETag can match
    if _not_modified(known):
        return _headers(Response(status=304), known, started, cache_control)
    return _calendar(body, known, started, filename, cache_control)


def _calendar(body: bytes, known: Validators, started: datetime, filename: str,
              cache_control: str) -> Response:
    response = Response(body, content_type=CONTENT_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _headers(response, known, started, cache_control)


def _headers(response: Response, known: Validators, started: datetime,
             cache_control: str) -> Response:
    response.set_etag(known.etag)
    response.last_modified = min(known.settled, _second(started))  # never after "now"
    response.headers["Cache-Control"] = cache_control
    return response


# --- Downloads and feeds -------------------------------------------------------------------


@bp.get("/meetings/<int:meeting_id>.ics")
def meeting_ics(meeting_id: int) -> Response:
    """One meeting, as the person asking may see it."""
    started = utcnow()
    meeting = load_meeting(meeting_id)
    registration = queries.my_registrations(current_user, [meeting.id]).get(meeting.id)
    joining_link = permissions.can_see_joining_link(current_user, meeting, registration)
    signed_in = bool(current_user.is_authenticated)
    base_url = current_app.config["BASE_URL"]

    def fingerprint() -> str:
        return hashlib.sha256(repr((
            meeting.id, meeting.updated_at.isoformat(), meeting.host_full_name, joining_link,
            base_url, ical.uid_host(),
        )).encode()).hexdigest()

    day = to_uk(meeting.starts_at).date().isoformat()
    response = calendar_response(
        ("meeting", meeting.id, current_user.id if signed_in else None), started,
        fingerprint, lambda: ical.calendar([(meeting, joining_link)]),
        filename=f"{slugify(meeting.title)}-{day}.ics",
        cache_control="private, no-cache" if signed_in else "public, max-age=300")
    response.vary.add("Cookie")
    return response


def _print_at_revision(key: tuple[object, ...], work_out: Callable[[], str]) -> str:
    """A feed's fingerprint, worked out once per site revision and minute.

    The fingerprint depends only on the data and the feed's window (which moves with
    the clock), and every committed change gives the site a new revision
    (``revision.py``): so at the same revision, in the same minute, it is the same, and
    one small read replaces the query that groups the feed's meetings (a personal
    feed's grows with the person's forums). The revision is read first, so the
    fingerprint worked out after it is at least as new: never an old one filed under
    a new revision. As the page cache, at most a minute late for the clock alone (a
    meeting leaving the window, a cancelled one ending)."""
    revision_value = revision.current()
    if revision_value is None:
        return work_out()
    minute = utcnow().replace(second=0, microsecond=0)
    cache = validator_cache()
    value = cache.known_print(key, revision_value, minute)
    if value is None:
        value = work_out()
        cache.put_print(key, revision_value, minute, value)
    return value


def _feed_response(feed: feeds.Feed, started: datetime, filename: str,
                   cache_control: str, first_print: str | None = None) -> Response:
    """The feed's calendar or a 304; ``first_print``, the fingerprint if already read
    (with the feed itself: ``feeds.partnership_feed_by_slug``), is used once."""
    base_url = current_app.config["BASE_URL"]
    known = [first_print] if first_print is not None else []
    key = (*feed.key, base_url)

    def fingerprint() -> str:
        if known:
            return known.pop()
        return _print_at_revision(key, lambda: feeds.fingerprint(feed, base_url))

    return calendar_response(
        key, started, fingerprint,
        lambda: ical.calendar(feeds.entries(feed), name=feed.name, about=feed.about),
        filename=filename, cache_control=cache_control)


# Public feeds have no rate limit (calendar services fetch them for many people from
# few addresses), so they skip the limiter's per-request bookkeeping too.
@bp.get("/partnerships/<slug>/calendar.ics")
@limiter.exempt
def partnership_feed(slug: str) -> Response:
    started = utcnow()
    feed, first_print = found(feeds.partnership_feed_by_slug(
        slug, started, current_app.config["BASE_URL"]))
    return _feed_response(feed, started, f"{slug}-meetings.ics", PUBLIC_FEED_CACHE,
                          first_print)


@bp.get("/partnerships/<slug>/forums/<forum_slug>/calendar.ics")
@limiter.exempt
def forum_feed(slug: str, forum_slug: str) -> Response:
    started = utcnow()
    forum = found(forum_services.find_forum(slug, forum_slug, convenors=False))
    return _feed_response(feeds.forum_feed(forum, started), started,
                          f"{slug}-{forum.slug}-meetings.ics", PUBLIC_FEED_CACHE)


def _feed_rate_limit() -> str:
    return current_app.config.get("CALENDAR_FEED_RATE_LIMIT") or "60 per hour"


def _token_key() -> str:
    """Rate-limit per token (calendar services fetch many people's feeds from few
    addresses), keyed by a hash so the limiter's store never holds the secret."""
    token = (request.view_args or {}).get("token", "")
    return "calendar-feed:" + hashlib.sha256(str(token).encode()).hexdigest()


@bp.get("/calendar/<token>.ics")
@pagecache.never  # private to its owner, and each fetch is noted
@limiter.limit(_feed_rate_limit, key_func=_token_key)
def personal_feed(token: str) -> Response:
    started = utcnow()
    user, row = found(feeds.owner_of(token))
    response = _feed_response(feeds.personal_feed(user, started), started, "my-meetings.ics",
                              PERSONAL_FEED_CACHE)
    response.headers["X-Robots-Tag"] = "noindex"
    if feeds.due_for_noting(row, started):
        token_id = row.id
        transactions.write_after_reading(lambda: feeds.note_use(token_id, started))
    return response


# --- The personal feed's secret ---------------------------------------------------------------


def _to_my_meetings() -> Response:
    return see_other("meetings.mine", _anchor="calendar-feed")


@bp.post("/my/meetings/calendar")
@login_required
def create_personal_feed() -> Response:
    feeds.create_token(current_user)
    db.session.commit()
    flash("Your calendar link is ready. Add it to your calendar app below.", "success")
    return _to_my_meetings()


@bp.route("/my/meetings/calendar/reset", methods=["GET", "POST"])
@login_required
def reset_personal_feed() -> Page:
    """Ask first: every calendar app using the old link stops getting updates."""
    if request.method == "GET":
        context = feeds.personal_feed_context(current_user)
        if not context["personal_feed_exists"]:
            return _to_my_meetings()
        return render_template("meetings/calendar_reset.html", **context)
    feeds.reset_token(current_user)
    db.session.commit()
    flash("Your calendar link has been reset. The old link no longer works: add the new "
          "one to your calendar apps.", "success")
    return _to_my_meetings()


@bp.context_processor
def _calendar_links() -> dict[str, object]:
    return {"calendar_add_links": feeds.add_links,
            "calendar_subscribe_links": feeds.subscribe_links}
