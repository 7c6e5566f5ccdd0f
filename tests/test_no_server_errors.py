"""No input gets a server error: the URL map and the main forms, tried with hostile
values by fixed sweeps and by hypothesis, on whichever database the suite runs on.

Routes. Every GET route is found on the demo data by following links from a few pages,
so each is tried with path arguments that fit together (a thread of that forum of that
partnership), then with them made hostile: ids at and past 2**31 and 2**63, Unicode
digits ("²", "٣"), NUL and other control characters, very long strings, path
separators. The query string gets hostile values for the keys that page reads (learned
by watching which keys it asks ``request.args`` for: the search boxes and filters
among them) and for some it does not. Every POST route then gets hostile values in each
field it reads.

Main forms (sign in, register, forum, discussion, reply, meeting, registration, MoU,
opportunity, organisation): a valid submission, signed in and with its CSRF token,
with one field at a time made hostile, with every field at once, and with one to three
chosen by hypothesis.

A 5xx, or an exception out of a view, fails the test, and so does bad input that got
as far as the database (the ``errors.py`` backstop turns that into a 400 and logs
"reached the database"): the bounds belong in the converters, the forms and the
services, and the backstop is only for what they miss. Every failure is listed, not
only the first.

Runs are repeatable (each route and form has its own fixed seed) and sized for CI, about
a minute on one core; set ``NO_500_EXAMPLES`` to try more hypothesis examples.
"""

from __future__ import annotations

import logging
import os
import re
import zlib
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from partnerships import factories
from partnerships.accounts.models import User
from partnerships.extensions import db, limiter
from partnerships.meetings.models import Meeting
from partnerships.organisations.models import OrgType
from partnerships.seed import load_demo
from partnerships.timeutil import today_uk
from tests.conftest import CSRF_RE, PASSWORD, AppClient, Auth

EXAMPLES = int(os.environ.get("NO_500_EXAMPLES", "0")) or None
ROUTE_EXAMPLES = EXAMPLES or 3
FORM_EXAMPLES = EXAMPLES or 5

# --- Hostile values -----------------------------------------------------------------------

_HUGE = [2**31 - 1, 2**31, 2**32, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**30]
HOSTILE: list[str] = [
    *(str(n) for n in _HUGE), *(f"-{n}" for n in _HUGE),
    "0", "-1", "00", "01", "1.5", "1e9", "0x1f", "+1", " 1", "1 ", "1_000",
    "²", "³", "١٢", "٣", "\uff11\uff12", "Ⅻ", "½", "\U0001d7d9", "1²",
    "\x00", "1\x00", "a\x00b", "\x01", "\x1b[31m", "\x7f", "\x85", "\u202e", "\u2028",
    "\ufeff", "\n", "\r\n", "\t", "", " ",
    "/", "//", "..", "../../etc/passwd", "..\\..\\windows", "%2e%2e%2f", "%00", "%", "?",
    "#", "&", "=", ";", "a" * 300, "a" * 10_000, "é" * 1_000, "💥" * 100,
    "<script>alert(1)</script>", "' OR 1=1 --", '"', "None", "null", "NaN", "inf", "true",
    "[]", "{}", "{{7*7}}",
]
# Tried on every path argument of every route, and on every query key each page reads.
SURE = ["2147483648", "9223372036854775808", "²", "a\x00b", "a" * 3_000, "../x"]
hostile_value = st.one_of(
    st.sampled_from(HOSTILE),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=30),
)
# Query keys no page reads, and a few that many do.
EXTRA_KEYS = ["page", "q", "next", "email", "id", "\x00", "page\x00", "a" * 300]

SETTINGS = settings(deadline=None, database=None, print_blob=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# --- Watching the app ---------------------------------------------------------------------


class _Reading:
    """The query-string and form keys read during the current request."""

    keys: set[str] = set()


class RecordingMultiDict(MultiDict):
    """``request.args``/``request.form`` that note which keys a view asks for."""

    def __contains__(self, key: object) -> bool:
        _Reading.keys.add(str(key))
        return super().__contains__(key)

    def __getitem__(self, key: Any) -> Any:
        _Reading.keys.add(str(key))
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:
        _Reading.keys.add(str(key))
        return super().get(key, default, type)

    def getlist(self, key: Any, type: Any = None) -> Any:
        _Reading.keys.add(str(key))
        return super().getlist(key, type)


@dataclass
class Failure:
    what: str
    detail: str


@dataclass
class Probe:
    """Sends requests and keeps every server error (or escaped exception) it saw."""

    client: AppClient
    failures: list[Failure] = field(default_factory=list)
    requests: int = 0

    def send(self, method: str, url: str, data: Any = None,
             client: AppClient | None = None) -> Any:
        self.requests += 1
        _Reading.keys = set()
        try:
            response = (client or self.client).open(url, method=method, data=data)
        except Exception as error:  # a view's exception, propagated by the test app
            self.failures.append(Failure(f"{method} {_short(url)}", _describe(error)))
            return None
        response.get_data()  # read (a file download) and close it
        response.close()
        if response.status_code >= 500:
            self.failures.append(Failure(f"{method} {_short(url)}",
                                         f"status {response.status_code}"))
        return response


def _short(text: str, limit: int = 300) -> str:
    shown = repr(text)
    return shown if len(shown) <= limit else shown[:limit] + "…"


def _describe(error: BaseException) -> str:
    return _short(f"{type(error).__name__}: {error}".splitlines()[0], 200)


class _BackstopLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "reached the database" in message:
            self.messages.append(message)


@contextmanager
def watching(app: Flask) -> Iterator[_BackstopLog]:
    """Record the keys each view reads, and any use of the database backstop."""
    base = app.request_class
    app.request_class = type("RecordingRequest", (base,),
                             {"parameter_storage_class": RecordingMultiDict})
    handler = _BackstopLog()
    app.logger.addHandler(handler)
    try:
        yield handler
    finally:
        app.logger.removeHandler(handler)
        app.request_class = base


def report(probe: Probe, backstop: _BackstopLog) -> str:
    lines = [f"{len(probe.failures)} server errors in {probe.requests} requests:"]
    seen: set[tuple[str, str]] = set()
    for failure in probe.failures:
        if (failure.what, failure.detail) not in seen:
            seen.add((failure.what, failure.detail))
            lines.append(f"  {failure.what}: {failure.detail}")
    lines += [f"  backstop: {message}" for message in backstop.messages[:20]]
    return "\n".join(lines[:200])


# --- The demo, and a signed-in site administrator -----------------------------------------


@pytest.fixture
def demo(app: Flask) -> None:
    load_demo()
    db.session.commit()


def _user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None, email
    return user


def _client_for(app: Flask, who: User | str | None) -> AppClient:
    client: AppClient = app.test_client()  # type: ignore[assignment]
    if who is not None:
        Auth(client).login(_user(who) if isinstance(who, str) else who)
    return client


# --- Every GET route ----------------------------------------------------------------------

HREF_RE = re.compile(r'href="(/[^"#]*)')
START = ["/", "/partnerships/", "/organisations/", "/opportunities/", "/my/meetings",
         "/my/forums", "/my/actions", "/my/applications", "/my/opportunities", "/admin/",
         "/opportunities/figures", "/organisations/mine", "/account/profile"]


@dataclass
class Route:
    rule: Rule
    args: dict[str, str]  # values that fit together, from a page that answered 200
    keys: set[str]  # the query keys the page read


def _unescape(href: str) -> str:
    return href.replace("&amp;", "&")


def crawl(app: Flask, probe: Probe, client: AppClient, start: list[str],
          follow: bool = True) -> dict[str, Route]:
    """Follow links from ``start`` until each GET endpoint has answered 200 once (or
    nothing new is linked), keeping its arguments and the query keys it read."""
    adapter = app.url_map.bind("localhost")
    found: dict[str, Route] = {}
    queue = deque(start)
    queued = set(queue)
    while queue:
        url = queue.popleft()
        path, _, query = url.partition("?")
        try:
            rule, args = adapter.match(path, method="GET", return_rule=True)
        except HTTPException:
            continue
        if rule.endpoint in found and not query:
            continue
        response = probe.send("GET", url, client=client)
        if response is None or response.status_code != 200:
            continue
        route = found.setdefault(rule.endpoint, Route(
            rule, {name: str(value) for name, value in args.items()}, set()))
        route.keys |= _Reading.keys
        route.keys |= {key for key, _ in parse_qsl(query)}
        if not follow or not response.mimetype.endswith("html"):
            continue
        for href in HREF_RE.findall(response.get_data(as_text=True)):
            href = _unescape(href)
            if href not in queued:
                queued.add(href)
                queue.append(href)
    return found


def seen_args(found: dict[str, Route]) -> dict[str, str]:
    """A value for each argument name, from the first route found that has it."""
    seen: dict[str, str] = {}
    for route in found.values():
        for name, value in route.args.items():
            seen.setdefault(name, value)
    return seen


def routes(app: Flask, found: dict[str, Route]) -> list[Route]:
    """Every GET route: as found, or (not reached) with arguments of the same names
    taken from routes that were ("1" for a name none had)."""
    seen = seen_args(found)
    return [found.get(rule.endpoint) or Route(
        rule, {name: seen.get(name, "1") for name in rule.arguments}, set())
        for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)
        if "GET" in (rule.methods or ())]


def _path(rule: Rule, args: dict[str, str]) -> str:
    """``rule`` with ``args`` put in, each quoted as a browser would."""
    def put(match: re.Match[str]) -> str:
        name = match.group(1).rpartition(":")[2]
        return quote(args[name], safe="")

    return re.sub(r"<([^>]+)>", put, rule.rule)


def sweep_route(probe: Probe, route: Route, client: AppClient) -> None:
    """Each of ``SURE`` in each path argument, then in every query key the page reads."""
    for name in sorted(route.args):
        for value in SURE:
            probe.send("GET", _path(route.rule, {**route.args, name: value}), client=client)
    if route.keys:
        for value in SURE:
            query = urlencode([(key, value) for key in sorted(route.keys)], quote_via=quote)
            probe.send("GET", f"{_path(route.rule, route.args)}?{query}", client=client)


def try_route(probe: Probe, route: Route, clients: list[AppClient]) -> None:
    """Hypothesis: hostile values for some of ``route``'s arguments and its query."""
    keys = sorted(route.keys or EXTRA_KEYS)

    @seed(zlib.crc32(route.rule.rule.encode()))
    @settings(SETTINGS, max_examples=ROUTE_EXAMPLES)
    @given(st.data())
    def attempt(data: st.DataObject) -> None:
        args = dict(route.args)
        names = sorted(args)
        if names:
            for name in sorted(data.draw(st.sets(st.sampled_from(names)))):
                args[name] = data.draw(hostile_value)
        query = data.draw(st.lists(st.tuples(st.one_of(st.sampled_from(keys),
                                                       st.sampled_from(EXTRA_KEYS),
                                                       st.text(max_size=8)),
                                             hostile_value), min_size=1, max_size=4))
        url = f"{_path(route.rule, args)}?{urlencode(query, quote_via=quote)}"
        probe.send("GET", url, client=data.draw(st.sampled_from(clients)))

    attempt()


# Posted in every field a form reads, on every POST route (after the GET routes: a
# button that works changes the demo).
POSTED = ["9223372036854775808", "²", "a\x00b"]


def sweep_posts(app: Flask, probe: Probe, client: AppClient, args: dict[str, str]) -> None:
    """Every POST route (but signing out) with arguments from the pages found: once
    empty, to learn the fields it reads, then with each of ``POSTED`` in all of them."""
    token = _token(client, "/account/profile")
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if "POST" not in (rule.methods or ()) or rule.endpoint.startswith("accounts.sign_out"):
            continue
        url = _path(rule, {name: args.get(name, "1") for name in rule.arguments})
        limiter.reset()
        probe.send("POST", url, {"csrf_token": token}, client=client)
        keys = sorted(_Reading.keys - {"csrf_token"})
        for value in POSTED if keys else ():
            limiter.reset()
            probe.send("POST", url, {**dict.fromkeys(keys, value), "csrf_token": token},
                       client=client)


def test_no_route_answers_a_server_error_whatever_its_path_query_or_form(
    app: Flask, client: AppClient, demo: None
) -> None:
    admin = _client_for(app, "admin@example.org")
    probe = Probe(client)
    with watching(app) as backstop:
        first_meeting = db.session.scalar(select(Meeting.id).order_by(Meeting.id))
        # Signed out, only the pages a signed-in person is sent away from.
        found = crawl(app, probe, client, ["/account/sign-in", "/account/register",
                                           "/account/reset", "/assets/css/app.css"],
                      follow=False)
        for endpoint, route in crawl(app, probe, admin, [
                *START, f"/meetings/{first_meeting}/", "/admin/users?q=a&page=1"]).items():
            route.keys |= found[endpoint].keys if endpoint in found else set()
            found[endpoint] = route
        every = routes(app, found)
        assert len(found) >= 0.6 * len(every), sorted(
            route.rule.rule for route in every if route.rule.endpoint not in found)

        for route in every:
            sweep_route(probe, route, admin)
        for route in every:
            try_route(probe, route, [admin, client])
        sweep_posts(app, probe, admin, seen_args(found))
    assert not probe.failures and not backstop.messages, report(probe, backstop)


# --- The main forms -----------------------------------------------------------------------


def _date(days: int) -> list[str]:
    day = today_uk() + timedelta(days=days)
    return [str(day.day), str(day.month), str(day.year)]


@dataclass
class Form:
    name: str
    url: str
    data: dict[str, Any]
    who: User | None  # who is signed in
    page: str | None = None  # where the form is shown, if not at ``url``


def _forms(make_user: Any, make_organisation: Any, make_partnership: Any, make_forum: Any,
           make_meeting: Any) -> list[Form]:
    """Each main form, with a submission that succeeds, in a small world of its own."""
    officer = make_user("Olive Officer", "olive@council.example.org")
    convenor = make_user("Cass Convenor", "cass@cvs.example.org")
    host = make_user("Ida Host", "ida@icb.example.org")
    person = make_user("Sam Person", "sam@example.org")
    council = make_organisation("Northbridge Council", org_type=OrgType.LOCAL_AUTHORITY)
    icb = make_organisation("Northbridge ICB", org_type=OrgType.NHS_BODY, admin=host)
    cvs = make_organisation("Northbridge CVS", org_type=OrgType.CHARITY, admin=convenor)
    together = make_partnership("Northbridge Together", officers=[officer],
                                members=[council, icb, cvs])
    forum = make_forum(together, "VCSE Alliance", convenors=[convenor])
    thread = factories.forums.thread(forum, convenor, "Rota", "Who can help?")
    meeting = make_meeting(forum, capacity=30)
    db.session.commit()
    base = f"/partnerships/{together.slug}"
    forum_url = f"{base}/forums/{forum.slug}"
    return [
        Form("sign in", "/account/sign-in", {"email": person.email, "password": PASSWORD},
             None),
        Form("register", "/account/register",
             {"name": "Rita Register", "email": "rita@example.org",
              "password": "maple lantern orbit 42"}, None),
        Form("forum", f"{base}/forums/new",
             {"name": "Winter Forum", "slug": "", "purpose": "Winter.", "theme": "Winter",
              "tags": "winter", "membership_policy": "open", "visibility": "public",
              "notice_days": "5", "convene_myself": "y", "convenors": ""}, officer),
        Form("discussion", f"{forum_url}/threads/new",
             {"title": "Rota", "body": "Who can help?"}, convenor),
        Form("reply", f"{forum_url}/threads/{thread.id}/reply",
             {"body": "I can.", "page": "1"}, convenor,
             page=f"{forum_url}/threads/{thread.id}"),
        Form("meeting", f"{forum_url}/meetings/new",
             {"title": "Extra meeting", "description": "", "day": _date(40),
              "start": "10:00", "end": "12:00", "format": "in_person",
              "venue_name": "Civic Centre", "venue_address": "1 Market Square",
              "step_free_access": "yes", "hearing_loop": "", "parking": "",
              "public_transport": "", "access_notes": "", "joining_url": "",
              "joining_details": "", "capacity": "30", "visibility": "public",
              "repeat": "every_n_weeks", "interval_weeks": "2", "until": ["", "", ""],
              "count": "3"}, convenor),
        Form("registration", f"/meetings/{meeting.id}/register",
             {"response": "in_person", "access_requirements": "A seat near the door."},
             person),
        Form("mou", f"{base}/mous/new",
             {"title": "Working together", "purpose": "Keep people well.",
              "parties": [str(council.id), str(icb.id)], f"role-{council.id}": "Lead",
              f"role-{icb.id}": "Funder", "start_date": _date(30), "review_date": _date(300),
              "end_date": ["", "", ""], "principles": ["partnership"]}, officer),
        Form("opportunity", "/opportunities/new",
             {"organisation_id": str(icb.id), "kind": "secondment", "title": "Secondment",
              "description": "Work with us.", "skills_sought": "", "host_team": "",
              "location_kind": "hybrid", "place": "Northbridge House",
              "time_commitment": "2 days a week", "total_days": "", "duration": "",
              "starts_earliest": _date(40), "starts_latest": _date(70), "places": "2",
              "open_to": "both", "seniority": "", "pay_and_backfill": "Employer pays.",
              "closing_date": _date(21), "contact_name": "Hannah Host",
              "contact_email": "hannah@example.org", "partnership_id": ""}, host),
        Form("organisation", "/organisations/new",
             {"name": "Westside Group", "org_type": "community_group",
              "income_band": "up_to_10k", "charity_number": "", "company_number": "",
              "website": "", "description": "We help."}, person),
    ]


def _token(client: AppClient, page: str) -> str:
    match = CSRF_RE.search(client.get(page).get_data(as_text=True))
    assert match, f"no CSRF token on {page}"
    return match.group(1)


# Put in one field at a time, the rest of the form valid, so each reaches the service and
# the database: out of int32 and int64, a Unicode digit, NUL, longer than any column.
ONE_AT_A_TIME = ["9223372036854775808", "²", "a\x00b", "x" * 3_000]


def sweep_form(probe: Probe, form: Form, keys: list[str], client: AppClient,
               token: str) -> None:
    """Each of ``SURE`` in every field at once (every field's checks meet it), then each
    of ``ONE_AT_A_TIME`` in one field with the others valid."""
    for value in SURE:
        limiter.reset()
        probe.send("POST", form.url, {**dict.fromkeys(keys, value), "csrf_token": token},
                   client=client)
    for key in keys:
        for value in ONE_AT_A_TIME:
            limiter.reset()
            probe.send("POST", form.url, {**form.data, key: value, "csrf_token": token},
                       client=client)


def try_form(probe: Probe, form: Form, keys: list[str], client: AppClient,
             token: str) -> None:
    """Hypothesis: the valid submission with one to three fields made hostile."""

    @seed(zlib.crc32(form.name.encode()))
    @settings(SETTINGS, max_examples=FORM_EXAMPLES)
    @given(st.data())
    def attempt(data: st.DataObject) -> None:
        posted = dict(form.data)
        for key in data.draw(st.sets(st.sampled_from(keys), min_size=1, max_size=3)):
            posted[key] = data.draw(st.one_of(
                hostile_value, st.lists(hostile_value, min_size=2, max_size=3)))
        limiter.reset()
        probe.send("POST", form.url, {**posted, "csrf_token": token}, client=client)

    attempt()


def test_no_main_form_answers_a_server_error_whatever_is_posted(
    app: Flask, client: AppClient, make_user: Any, make_organisation: Any,
    make_partnership: Any, make_forum: Any, make_meeting: Any
) -> None:
    forms = _forms(make_user, make_organisation, make_partnership, make_forum, make_meeting)
    probe = Probe(client)
    with watching(app) as backstop:
        for form in forms:
            form_client = _client_for(app, form.who)
            token = _token(form_client, form.page or form.url)
            limiter.reset()
            first = probe.send("POST", form.url, {**form.data, "csrf_token": token},
                               client=form_client)
            assert first is not None and first.status_code == 303, (
                form.name, first and first.status_code, first and re.findall(
                    r"</span>([^<]*)</p>", first.get_data(as_text=True)))
            keys = sorted(key for key in set(form.data) | _Reading.keys
                          if key != "csrf_token")
            if form.who is None:  # a successful sign-in signed this client in
                form_client = _client_for(app, None)
                token = _token(form_client, form.page or form.url)
            sweep_form(probe, form, keys, form_client, token)
            try_form(probe, form, keys, form_client, token)
    assert not probe.failures and not backstop.messages, report(probe, backstop)

