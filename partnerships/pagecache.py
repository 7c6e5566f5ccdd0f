"""Pages kept, per process, for visitors who are not signed in.

Most requests to a public site come from people who are not signed in, and each of
them was rendered afresh: the partnership page costs several times the empty layout
page, mostly in templates. Forums, wikis and newspapers keep the page rendered for
signed-out readers (Discourse's anonymous cache, MediaWiki's file cache); so does
this, without ever serving a page after its data changed:

- The key is what the page can depend on: the path (and the root the site is served
  under) and query, the ``Accept`` header, any cookies other than the session's, the
  site's revision (``revision.py``: any committed change anywhere replaces it, and
  every kept page goes) and the minute (what the clock decides, such as which
  meetings are upcoming, is at most a minute late). Not the host: every absolute
  link comes from ``BASE_URL`` (``links.py``).
- Kept: a GET answered 200 for a visitor with nothing in their session but a CSRF
  secret (no flash message waiting or shown, not signed in, no remember-me cookie),
  not an htmx request, whose response sets no cookie and is not marked ``private``,
  ``no-cache`` or ``no-store`` (a registration's confirmation), and is at most an
  eighth of the cache. Views that write on GET or that are marked :func:`never` (the
  personal feed, ``/healthz``) are not looked up at all.
- The per-request parts of a page are not kept: the CSP nonce and the CSRF token are
  replaced with markers when the page is kept (both are random text that nothing
  else in a page contains) and with this request's own when it is served, so a kept
  page is byte for byte what rendering it now would give.
- A conditional request with ``If-None-Match`` is answered from the kept ETag
  (RFC 9110: it wins over ``If-Modified-Since``); one with only
  ``If-Modified-Since`` or a ``Range`` goes to the view, which knows its own rules.

Each worker keeps its own pages (``PAGE_CACHE_BYTES``, least recently used first out;
0 turns the cache off). Rate limits: Flask-Limiter checks the default and shared
application limits before this, but a view's own limits only as the view runs, so a
view limited on GET is marked :func:`never` (the open data API; a test checks them).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request, session
from flask.globals import request_ctx
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.http import unquote_etag

from . import clock, revision
from .security import csp_nonce

NONCE_MARK = b"\x00csp-nonce\x00"
CSRF_MARK = b"\x00csrf-token\x00"
KEPT_HEADERS = ("Content-Type", "Content-Disposition", "Cache-Control", "ETag",
                "Last-Modified", "Vary", "Content-Language", "Link")
UNCACHEABLE = ("private", "no-store", "no-cache")
EXTENSION = "page_cache"

View = TypeVar("View", bound=Callable[..., Any])
Key = tuple[str, ...]


def never(view: View) -> View:
    """Mark a view whose response is never kept, so it is not even looked up."""
    view.never_cached = True  # type: ignore[attr-defined]
    return view


@dataclass(frozen=True)
class Entry:
    minute: datetime
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    has_nonce: bool
    has_csrf: bool


class PageCache:
    """Kept pages of one revision, least recently used first out, within ``max_bytes``.

    Only one revision's pages are held: on seeing another, every page goes (they can
    never be served again). A request that read a revision other than the one last
    seen (an older one: a change committed meanwhile) keeps nothing."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Key, Entry] = OrderedDict()
        self._revision: int | None = None
        self._bytes = 0
        self._lock = threading.Lock()

    def _adopt(self, revision_value: int) -> None:
        if revision_value != self._revision:
            self._entries.clear()
            self._bytes = 0
            self._revision = revision_value

    def get(self, revision_value: int, key: Key, minute: datetime) -> Entry | None:
        with self._lock:
            self._adopt(revision_value)
            entry = self._entries.get(key)
            if entry is None or entry.minute != minute:
                return None
            self._entries.move_to_end(key)
            return entry

    @staticmethod
    def _size(key: Key, entry: Entry) -> int:
        """Bytes an entry holds: its body and its key (a query string or cookies sent
        to fill the cache count too)."""
        return len(entry.body) + sum(len(part) for part in key)

    def put(self, revision_value: int, key: Key, entry: Entry) -> None:
        size = self._size(key, entry)
        if size > self.max_bytes // 8:
            return
        with self._lock:
            if revision_value != self._revision:
                return  # read before a change another request has since seen
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= self._size(key, old)
            self._entries[key] = entry
            self._bytes += size
            while self._bytes > self.max_bytes:
                dropped_key, dropped = self._entries.popitem(last=False)
                self._bytes -= self._size(dropped_key, dropped)

    def __len__(self) -> int:
        return len(self._entries)


def _csrf_field() -> str:
    return str(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))


def _session_is_bare() -> bool:
    """Nothing in the session but (at most) the CSRF secret, and the "not fresh" mark
    Flask-Login's session protection puts in any session without a sign-in."""
    allowed = {_csrf_field(), "_fresh"}
    return all(name in allowed for name in session.keys())  # noqa: SIM118


def _key() -> Key | None:
    """The cache key of this request, or None if it is not one to look up."""
    if request.method != "GET" or request.endpoint in (None, "static"):
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "never_cached", False) or getattr(view, "writes_on_get", False):
        return None
    headers = request.headers
    if "HX-Request" in headers or "Range" in headers or (
            "If-Modified-Since" in headers and "If-None-Match" not in headers):
        return None
    config = current_app.config
    session_cookie = config["SESSION_COOKIE_NAME"]
    if config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies:
        return None
    if not _session_is_bare() or current_user.is_authenticated:
        return None
    cookies = "; ".join(f"{name}={value}" for name, value in sorted(request.cookies.items())
                        if name != session_cookie)
    # Not the host or scheme: absolute links come from BASE_URL alone (links.py).
    return (request.script_root, request.path, request.query_string.decode("latin-1"),
            headers.get("Accept", ""), cookies)


def _minute() -> datetime:
    return clock.now().replace(second=0, microsecond=0)


def _cache() -> PageCache:
    cache = current_app.extensions[EXTENSION]
    if not isinstance(cache, PageCache):  # only register() sets it
        raise TypeError(f"app.extensions[{EXTENSION!r}] is not a PageCache")
    return cache


def _serve_kept() -> Response | None:
    key = _key()
    if key is None:
        return None
    revision_value = revision.current()
    if revision_value is None:
        return None
    minute = _minute()
    entry = _cache().get(revision_value, key, minute)
    if entry is None:
        g.page_cache = (revision_value, key, minute)  # kept after the view, if it may be
        return None
    return _replay(entry)


def _replay(entry: Entry) -> Response:
    etag = dict(entry.headers).get("ETag")
    if etag is not None and request.if_none_match.contains_weak(unquote_etag(etag)[0]):
        return Response(status=304, headers=[
            (name, value) for name, value in entry.headers
            if name in ("Cache-Control", "ETag", "Last-Modified", "Vary")])
    body = entry.body
    if entry.has_nonce:
        body = body.replace(NONCE_MARK, csp_nonce().encode())
    if entry.has_csrf:
        body = body.replace(CSRF_MARK, generate_csrf().encode())
    return Response(body, status=entry.status, headers=list(entry.headers))


def _keep(response: Response) -> Response:
    kept_for: tuple[int, Key, datetime] | None = g.pop("page_cache", None)
    if (kept_for is None or response.status_code != 200 or response.is_streamed
            or response.direct_passthrough or "Set-Cookie" in response.headers
            or any(word in (response.headers.get("Cache-Control") or "").lower()
                   for word in UNCACHEABLE)
            or not _session_is_bare() or request_ctx.flashes):
        return response  # (a message flashed and shown in this same request is in the page)
    revision_value, key, minute = kept_for
    body = response.get_data()
    nonce = str(g.get("csp_nonce") or "").encode()
    csrf = str(g.get(_csrf_field()) or "").encode()
    has_nonce = bool(nonce) and nonce in body
    has_csrf = bool(csrf) and csrf in body
    if has_nonce:
        body = body.replace(nonce, NONCE_MARK)
    if has_csrf:
        body = body.replace(csrf, CSRF_MARK)
    headers = tuple((name, value) for name, value in response.headers.items()
                    if name in KEPT_HEADERS)
    _cache().put(revision_value, key, Entry(minute, response.status_code, headers, body,
                                            has_nonce, has_csrf))
    return response


def register(app: Flask) -> None:
    """Look up pages before the views (after the rate limits) and keep what qualifies."""
    max_bytes = int(app.config.get("PAGE_CACHE_BYTES", 0) or 0)
    if max_bytes <= 0:
        return
    app.extensions[EXTENSION] = PageCache(max_bytes)
    app.before_request(_serve_kept)
    app.after_request(_keep)
