"""Calendar feeds: which meetings each feed carries, a cheap fingerprint of everything
its bytes depend on, and the secret tokens of personal feeds.

Feeds cover ``queries.calendar_window`` (about three months back, eighteen ahead).
A cancelled meeting stays, marked cancelled, until it has ended, so subscribed
calendars learn of the cancellation; then it drops out.

* Partnership and forum feeds carry public meetings only, whoever asks (calendar apps
  fetch anonymously, and a feed must not depend on who happened to open it).
* The personal feed carries every meeting of the forums the person is an active member
  of or convenes (members-only ones included) and every meeting they registered for
  and did not cancel, as far as they may still see it (``permissions.meetings_visible_to``).
  Joining links appear where ``permissions.can_see_joining_link`` allows.

The fingerprint is one query over the rows a feed would carry, summed up per forum:
which meetings and the latest ``updated_at`` among them (every change to a meeting row
moves it), the forum and partnership names the text uses, and for a personal feed
whether the person is an insider of the forum and which of their registrations let
the joining link in (what the joining-link rule reads). So any change to the bytes
changes the fingerprint: an edit, a meeting entering or leaving the window or the
person's forums, a renamed forum, an answer changed to apologies. The views use it
to answer 304s, and to send a body already built, without building the calendar.

Personal tokens: ``token = base64url(HMAC-SHA256(SECRET_KEY, "calendar-feed:" + salt))``
cut to 32 characters (192 bits; the Google "add by URL" link stays well under 256
characters). The database keeps the salt and the SHA-256 of the token (to find the
row); the page can show the address again because it is derived. Resetting draws a
new salt, so the old address stops working at once. Changing ``SECRET_KEY`` also
invalidates every address: the page then offers a reset.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import quote

from flask import current_app, url_for
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.orm import joinedload

from .. import audit, permissions
from ..accounts.models import User
from ..extensions import db
from ..forums.models import Forum, Visibility
from ..partnership.models import Partnership
from . import ical, queries
from .models import (
    CalendarToken,
    Meeting,
    MeetingStatus,
    Registration,
    RegistrationStatus,
    Response,
)

TOKEN_LENGTH = 32
TOKEN_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}")
# Record when a calendar app last fetched the personal feed at most this often.
LAST_USED_RESOLUTION = timedelta(hours=1)


# --- Which meetings ------------------------------------------------------------------


def _window(now: datetime) -> dict[str, Any]:
    """The values of ``_public_conditions``' window parameters at ``now``."""
    start, end = queries.calendar_window(now)
    return {"window_start": start, "window_from": start - queries.MAX_LENGTH,
            "window_end": end, "now": now}


@cache
def _window_conditions() -> tuple[ColumnElement[bool], ...]:
    """``in_window`` with its moments as parameters (``_window``), built once."""
    moment = Meeting.ends_at.type
    return (Meeting.ends_at > bindparam("window_start", type_=moment),
            Meeting.starts_at > bindparam("window_from", type_=moment),  # queries.not_ended
            Meeting.starts_at < bindparam("window_end", type_=moment),
            or_(Meeting.status != MeetingStatus.CANCELLED,
                Meeting.ends_at > bindparam("now", type_=moment)))


@cache
def _public_conditions(scope: str) -> tuple[ColumnElement[bool], ...]:
    """A public feed's conditions, built once: public meetings of a partnership
    (``scope="partnership"``, parameter ``partnership_id``) or of a forum
    (``forum_id``) within ``in_window``, its moments as parameters (``_window``).
    One statement object per kind of feed lets SQLAlchemy reuse its cache key and
    compiled SQL, which is most of what a 304 costs in Python."""
    moment = Meeting.ends_at.type
    where: ColumnElement[bool]
    if scope == "partnership":
        where = Meeting.partnership_id == bindparam("partnership_id")
    else:
        where = Meeting.forum_id == bindparam("forum_id")
    return (Meeting.visibility == Visibility.PUBLIC, where,
            Meeting.ends_at > bindparam("window_start", type_=moment),
            Meeting.starts_at > bindparam("window_from", type_=moment),  # queries.not_ended
            Meeting.starts_at < bindparam("window_end", type_=moment),
            or_(Meeting.status != MeetingStatus.CANCELLED,
                Meeting.ends_at > bindparam("now", type_=moment)))


@dataclass
class Feed:
    """One feed: its cache key, name, and the SQL conditions on ``Meeting`` (with the
    values of their bind ``params``); ``owner`` is the person of a personal feed
    (joining links per their permissions). A feed with a ``shape`` has conditions
    that are the same objects for every feed of that shape, so its statements are
    built once (``_statement``)."""

    key: tuple[Any, ...]
    name: str
    about: str
    conditions: Sequence[ColumnElement[bool]]
    owner: User | None = None
    extra: list[Any] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    shape: str | None = None


@dataclass(frozen=True)
class PartnershipName:
    id: int
    name: str


@cache
def _partnership_fingerprint_by_slug() -> Any:
    """The partnership feed's fingerprint statement, found by the partnership's slug
    (parameter ``slug``), so the feed finds its partnership and its fingerprint in one
    query (a 304 runs nothing else); no row for an unknown slug. Built once.

    First row: the partnership's id and name and, over its meetings in the feed, how
    many, the sum of their ids and of the ids' squares (which meetings) and the latest
    ``updated_at`` (every change to a meeting row moves it), read from the covering
    index ``ix_meetings_partnership_calendar`` alone, with no join and one group.
    Then a row per forum of the partnership, its id and name (what a meeting's host
    name reads): forums are few, whatever the number of meetings. (Grouping the
    meetings by forum instead joined and sorted every meeting in the feed, which made
    the feed's cost grow with its length, 304s too.)"""
    moment = Meeting.ends_at.type
    stamp = type_coerce(func.max(Meeting.updated_at), String)  # as stored: no datetimes
    public = and_(  # ``_public_conditions("partnership")``, joined on the partnership
        Meeting.partnership_id == Partnership.id, Meeting.visibility == Visibility.PUBLIC,
        Meeting.ends_at > bindparam("window_start", type_=moment),
        Meeting.starts_at > bindparam("window_from", type_=moment),
        Meeting.starts_at < bindparam("window_end", type_=moment),
        or_(Meeting.status != MeetingStatus.CANCELLED,
            Meeting.ends_at > bindparam("now", type_=moment)))
    slug: Any = bindparam("slug")
    meetings = (
        select(literal(0, Integer).label("kind"), Partnership.id.label("host_id"),
               Partnership.name.label("host_name"), func.count(Meeting.id).label("n"),
               func.sum(Meeting.id).label("ids"),
               func.sum(cast(Meeting.id, BigInteger) * Meeting.id).label("squares"),
               stamp.label("stamp"))
        .select_from(Partnership).outerjoin(Meeting, public)
        .where(Partnership.slug == slug)
        .group_by(Partnership.id, Partnership.name))
    forums = (
        select(literal(1, Integer), Forum.id, Forum.name, null(), null(), null(), null())
        .join(Partnership, Partnership.id == Forum.partnership_id)
        .where(Partnership.slug == slug))
    both = union_all(meetings, forums).subquery("fingerprint")
    return select(both).order_by(both.c.kind, both.c.host_id)


def partnership_feed_by_slug(slug: str, now: datetime,
                             base_url: str) -> tuple[Feed, str] | None:
    """The partnership feed at ``slug`` and its fingerprint, in one query; None if no
    partnership has that slug. Its later fingerprints (``fingerprint``) are read the
    same way."""
    params = {"slug": slug, **_window(now)}
    rows = list(db.session.connection().execute(_partnership_fingerprint_by_slug(), params))
    if not rows:
        return None
    feed = partnership_feed(PartnershipName(rows[0][1], rows[0][2]), now)
    feed.params["slug"] = slug
    feed.shape = "partnership by slug"
    return feed, _digest(feed, base_url, rows)


def partnership_feed(partnership: PartnershipName | Partnership, now: datetime) -> Feed:
    return Feed(
        key=("partnership", partnership.id),
        name=f"{partnership.name} meetings",
        about=f"Public meetings of {partnership.name} and of its forums.",
        conditions=_public_conditions("partnership"),
        params={"partnership_id": partnership.id, **_window(now)},
        shape="partnership",
    )


def forum_feed(forum: Forum, now: datetime) -> Feed:
    return Feed(
        key=("forum", forum.id),
        name=f"{forum.name} meetings ({forum.partnership.name})",
        about=f"Public meetings of {forum.name}, {forum.partnership.name}.",
        conditions=_public_conditions("forum"),
        params={"forum_id": forum.id, **_window(now)},
        shape="forum",
    )


def personal_feed(user: User, now: datetime) -> Feed:
    """Same choice of meetings as ``queries.my_meetings``, over the calendar window.

    Its conditions read the person's memberships in SQL (subqueries on their id), so
    for the same person, with the same standing, they are the same: they are kept
    (``_personal_conditions``) and with them the statements built from them, whose
    building and cache key were most of a request's time in Python. The window's
    moments are parameters, as the public feeds' are."""
    shape = f"personal {user.id} {bool(user.is_site_admin)} {permissions.signed_in(user)}"
    return Feed(
        key=("personal", user.id),
        name=f"My meetings ({current_app.config['SERVICE_NAME']})",
        about="Meetings of your forums and partnerships, and meetings you registered for.",
        conditions=_personal_conditions(shape, user),
        params=_window(now),
        owner=user,
        extra=[bool(user.is_site_admin)],
        shape=shape,
    )


def _personal_conditions(shape: str, user: User) -> list[ColumnElement[bool]]:
    key = ("conditions", shape)
    found: list[ColumnElement[bool]] | None = _statements.get(key)
    if found is None:
        found = [queries.is_mine(user), permissions.meetings_visible_to(user),
                 *_window_conditions()]
        _remember(key, found)
    return found


# Statements (and a personal feed's conditions) by what they are for and the shape of
# the feed: the public shapes are few, a personal one is a person's, so the least
# recently used go first past ``STATEMENTS_KEPT``.
STATEMENTS_KEPT = 1024
_statements: OrderedDict[tuple[str, str], Any] = OrderedDict()
_statements_lock = threading.Lock()


def _remember(key: tuple[str, str], value: Any) -> None:
    with _statements_lock:
        _statements[key] = value
        while len(_statements) > STATEMENTS_KEPT:
            _statements.popitem(last=False)


def _statement(feed: Feed, purpose: str, build: Callable[[], Any]) -> Any:
    """The statement ``build`` makes for this feed: made once per shape of feed."""
    if feed.shape is None:
        return build()
    key = (purpose, feed.shape)
    found = _statements.get(key)
    if found is None:
        found = build()
        _remember(key, found)
    else:
        with _statements_lock:
            if key in _statements:
                _statements.move_to_end(key)
    return found


# --- Fingerprint and contents ------------------------------------------------------------


def fingerprint(feed: Feed, base_url: str) -> str:
    """A digest of everything the feed's bytes depend on, in one query that returns a
    row per forum, not per meeting (no ORM objects, no calendar), so a 304 costs the
    same for a feed of ten meetings or a thousand.

    Per host (a forum, or a partnership for its own meetings): its name and its
    partnership's; over its meetings in the feed, how many, the sum of their ids and of
    the ids' squares (which meetings: one entering as another leaves changes the sums),
    and the latest ``updated_at`` (every change to a meeting row moves it). For a
    personal feed also whether the person is an insider of the host, and the sum of
    the ids of the meetings whose registration lets the joining link in (confirmed,
    not apologies): what ``joining_links_for`` reads."""
    stmt = (_partnership_fingerprint_by_slug() if feed.shape == "partnership by slug"
            else _statement(feed, "fingerprint", lambda: _fingerprint_statement(feed)))
    return _digest(feed, base_url, db.session.connection().execute(stmt, feed.params))


def _digest(feed: Feed, base_url: str, rows: Iterable[Any]) -> str:
    digest = hashlib.sha256(json.dumps(
        [list(feed.key), feed.name, feed.about, base_url, ical.uid_host(), feed.extra],
        default=str).encode())
    for row in rows:
        digest.update(repr(tuple(row)).encode())  # repr: unambiguous, whatever the names
    return digest.hexdigest()


def _fingerprint_statement(feed: Feed) -> Any:
    stamp = type_coerce(func.max(Meeting.updated_at), String)  # as stored: no datetimes
    columns: list[Any] = [
        Partnership.id, Forum.id, Forum.name, Partnership.name, func.count(Meeting.id),
        func.sum(Meeting.id), func.sum(cast(Meeting.id, BigInteger) * Meeting.id), stamp]
    group: list[Any] = [Partnership.id, Forum.id, Forum.name, Partnership.name]
    stmt = select(*columns)
    if feed.owner is not None:
        # On grouped columns only: a forum's insiders, or (no forum) the partnership's.
        insider = case((or_(
            and_(Forum.id.is_not(None), permissions.insider_of(Forum.id, feed.owner)),
            and_(Forum.id.is_(None),
                 Partnership.id.in_(permissions.partnerships_inside(feed.owner.id)))),
            1), else_=0)
        linked = func.sum(case((and_(Registration.status == RegistrationStatus.CONFIRMED,
                                     Registration.response != Response.APOLOGIES),
                                Meeting.id), else_=0))
        stmt = select(*columns, insider, linked).outerjoin(
            Registration, (Registration.meeting_id == Meeting.id)
            & (Registration.user_id == feed.owner.id))
    return (stmt.select_from(Meeting).outerjoin(Forum, Forum.id == Meeting.forum_id)
            .join(Partnership, Partnership.id == Meeting.partnership_id)
            .where(*feed.conditions).group_by(*group).order_by(Partnership.id, Forum.id))


def entries(feed: Feed) -> list[tuple[Meeting, bool]]:
    """The feed's meetings, soonest first, each with whether its joining link goes in
    (for a personal feed, decided for all of them at once: ``joining_links_for``)."""
    stmt = _statement(feed, "entries", lambda: (
        select(Meeting).options(joinedload(Meeting.forum).joinedload(Forum.partnership),
                                joinedload(Meeting.partnership))
        .where(*feed.conditions).order_by(Meeting.starts_at, Meeting.id)))
    meetings = list(db.session.scalars(stmt, feed.params))
    if feed.owner is None:
        return [(meeting, False) for meeting in meetings]
    mine = queries.my_registrations(feed.owner, [meeting.id for meeting in meetings])
    links = permissions.joining_links_for(feed.owner, meetings, mine)
    return [(meeting, links[meeting.id]) for meeting in meetings]


# --- Links to subscribe or add ------------------------------------------------------------


def webcal(url: str) -> str:
    """The same address with the webcal scheme, which opens the calendar app."""
    return "webcal://" + url.split("://", 1)[1]


def google_subscribe(url: str) -> str:
    """Google Calendar's "add by URL" link for a feed (kept under 256 characters)."""
    return "https://calendar.google.com/calendar/render?cid=" + quote(webcal(url), safe="")


def subscribe_links(url: str) -> dict[str, str]:
    return {"https": url, "webcal": webcal(url), "google": google_subscribe(url)}


def _compact(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%SZ")


def add_links(meeting: Meeting, joining_link: bool) -> dict[str, str]:
    """Links that open a new event in Google Calendar or Outlook.com, filled in."""
    page = url_for("meetings.show", meeting_id=meeting.id, _external=True)
    details = ical.description(meeting, page, joining_link)
    where = ical.location(meeting)
    google = ("https://calendar.google.com/calendar/render?action=TEMPLATE"
              f"&text={quote(meeting.title, safe='')}"
              f"&dates={_compact(meeting.starts_at)}/{_compact(meeting.ends_at)}"
              f"&details={quote(details, safe='')}&location={quote(where, safe='')}")
    outlook = ("https://outlook.live.com/calendar/0/deeplink/compose"
               "?path=%2Fcalendar%2Faction%2Fcompose&rru=addevent"
               f"&subject={quote(meeting.title, safe='')}"
               f"&startdt={quote(meeting.starts_at.strftime('%Y-%m-%dT%H:%M:%SZ'), safe='')}"
               f"&enddt={quote(meeting.ends_at.strftime('%Y-%m-%dT%H:%M:%SZ'), safe='')}"
               f"&body={quote(details, safe='')}&location={quote(where, safe='')}")
    return {"ics": url_for("meetings.meeting_ics", meeting_id=meeting.id),
            "google": google, "outlook": outlook}


# --- Personal tokens ----------------------------------------------------------------------


def _derive(salt: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    mac = hmac.new(key, f"calendar-feed:{salt}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")[:TOKEN_LENGTH]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_of(row: CalendarToken) -> str | None:
    """The secret of ``row``, or None if it no longer matches (the secret key changed)."""
    token = _derive(row.salt)
    return token if hmac.compare_digest(_hash(token), row.token_hash) else None


def _token_row(user: User) -> CalendarToken | None:
    return db.session.scalar(select(CalendarToken).where(CalendarToken.user_id == user.id))


def _fill(row: CalendarToken) -> None:
    row.salt = secrets.token_hex(16)
    row.token_hash = _hash(_derive(row.salt))
    row.last_used_at = None


def create_token(actor: User) -> CalendarToken:
    """The person's personal feed secret, made on first request (idempotent)."""
    row = _token_row(actor)
    if row is not None:
        return row
    row = CalendarToken(user_id=actor.id)
    _fill(row)
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "calendar.feed_created", "user", actor.id)
    return row


def reset_token(actor: User) -> CalendarToken:
    """A new secret: the old address stops working at once."""
    row = _token_row(actor)
    if row is None:
        return create_token(actor)
    _fill(row)
    db.session.flush()
    audit.record(actor, "calendar.feed_reset", "user", actor.id)
    return row


def owner_of(token: str) -> tuple[User, CalendarToken] | None:
    """The active person whose feed ``token`` opens, or None (wrong, reset, or their
    account is closed): the caller answers a plain 404 either way."""
    if not TOKEN_PATTERN.fullmatch(token):
        return None
    found = db.session.execute(
        select(User, CalendarToken).join(CalendarToken, CalendarToken.user_id == User.id)
        .where(CalendarToken.token_hash == _hash(token))).first()
    if found is None:
        return None
    user, row = found
    if not hmac.compare_digest(_derive(row.salt), token) or not user.is_active:
        return None
    return user, row


def due_for_noting(row: CalendarToken, now: datetime) -> bool:
    """Whether to record this fetch: at most once an hour, not on every fetch."""
    return row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION


def note_use(token_id: int, now: datetime) -> None:
    """Remember that a calendar app fetched the feed (shown on "My meetings"). One
    conditional UPDATE, so that fetches at the same moment write it once; run it with
    ``transactions.write_after_reading`` after the feed is built."""
    db.session.execute(
        update(CalendarToken)
        .where(CalendarToken.id == token_id,
               or_(CalendarToken.last_used_at.is_(None),
                   CalendarToken.last_used_at <= now - LAST_USED_RESOLUTION))
        .values(last_used_at=now)
    )


def personal_feed_context(user: User) -> dict[str, Any]:
    """For "My meetings": the person's feed address and links, if they made one."""
    row = _token_row(user)
    token = token_of(row) if row is not None else None
    url = url_for("meetings.personal_feed", token=token, _external=True) if token else None
    return {
        "personal_feed_exists": row is not None,
        "personal_feed_links": subscribe_links(url) if url else None,
        "personal_feed_last_used": row.last_used_at if row is not None else None,
    }
