"""Shared fixtures: a fresh app and database per test, a test client that submits
forms with their CSRF token, a sign-in helper, factories and a query counter.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.pool import StaticPool
from sqlalchemy.util import LRUCache

from partnerships import create_app
from partnerships.accounts.models import User
from partnerships.config import TestConfig
from partnerships.extensions import db
from partnerships.factories import accounts, forums, meetings, organisations, partnership
from partnerships.factories.accounts import PASSWORD as PASSWORD  # tests import it here
from partnerships.mail import OutboxMessage
from partnerships.modelbase import utcnow
from partnerships.organisations.models import (
    IncomeBand,
    Organisation,
    OrgType,
)
from partnerships.partnership.models import (
    Partnership,
    Principle,
)
from partnerships.timeutil import to_uk, today_uk, uk_local_to_utc
from tests import databases

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class AppClient(FlaskClient):
    """A test client that can submit a form the way a browser does, CSRF token included.

    Each request runs in its own app context (so its own ``g`` and database session),
    as in production. Without this, Flask would reuse the test's app context and
    leak ``g`` (e.g. Flask-Login's cached user) from one request into the next.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)

    def csrf_token(self, page: str) -> str:
        response = self.get(page)
        match = CSRF_RE.search(response.get_data(as_text=True))
        assert match, f"no CSRF token on {page} (status {response.status_code})"
        return match.group(1)

    def submit(
        self,
        url: str,
        data: dict[str, Any] | None = None,
        *,
        page: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """GET ``page`` (default ``url``) for a CSRF token, then POST ``data`` to ``url``."""
        payload = dict(data or {})
        payload["csrf_token"] = self.csrf_token(page or url)
        return self.post(url, data=payload, **kwargs)


class _SharedTemplates(BytecodeCache):
    """Compiled templates shared by every test in this process: each test has a new app,
    and compiling the same templates again for each of a thousand tests is a large part
    of the suite's time. Buckets are keyed by template name and source checksum, so an
    edited template is compiled afresh."""

    def __init__(self) -> None:
        self.compiled: dict[str, Any] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        # The code object itself (immutable, so any number of apps can run it), rather
        # than its marshalled bytes read back for each app.
        bucket.code = self.compiled.get(bucket.key)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.code


SHARED_TEMPLATES = _SharedTemplates()


def _share_rule_compiling() -> None:
    """Compile each route's rule once per process, not once per app.

    Binding a rule to an app's URL map compiles it (``Rule.compile``): the rule's text
    parsed part by part with a regular expression, then two Python functions built
    for making its URLs (an AST walked, then ``compile()``). That was nine tenths of
    ``create_app``, and so most of the setup of every test, which makes an app. What
    it makes depends only on the rule's text, its defaults, where it binds (subdomain
    or host, merged slashes) and which converter class each name means in the map;
    the URL builders read the converters from the rule they are bound to when called.
    So rules that are the same in every test's app share the parts, the trace and the
    builders, and get converters of their own (they belong to their map), made with
    the arguments the first compile gave them. A rule whose defaults or converter
    arguments cannot be a key is compiled as Werkzeug does. Production builds its app
    once per process and never needs this.
    """
    from werkzeug.routing.rules import Rule

    compile_rule = Rule.compile
    compiled: dict[Any, Any] = {}

    def shared(self: Rule) -> None:
        assert self.map is not None
        try:
            key = (self.rule, self.subdomain, self.host, self.merge_slashes,
                   self.map.host_matching, tuple(self.map.converters.items()),
                   tuple(sorted((self.defaults or {}).items())))
            found = compiled.get(key)
        except TypeError:  # a default that cannot be a key
            compile_rule(self)
            return
        if found is not None:
            parts, trace, made, arguments, build, build_unknown = found
            self._parts, self._trace = list(parts), list(trace)
            self._converters = {variable: self.get_converter(variable, name, args, kwargs)
                                for variable, name, args, kwargs in made}
            self.arguments.update(arguments)
            self._build = build.__get__(self, None)
            self._build_unknown = build_unknown.__get__(self, None)
            return
        made = []
        get_converter = self.get_converter

        def recording(variable: str, name: str, args: Any, kwargs: Any) -> Any:
            made.append((variable, name, args, kwargs))
            return get_converter(variable, name, args, kwargs)

        self.get_converter = recording  # type: ignore[method-assign]
        try:
            compile_rule(self)
        finally:
            del self.get_converter
        try:
            hash(tuple((v, n, a, tuple(sorted(k.items()))) for v, n, a, k in made))
        except TypeError:  # converter arguments that cannot be a key: not shared
            return
        compiled[key] = (list(self._parts), list(self._trace), made,
                         frozenset(self.arguments), self._build.__func__,  # type: ignore[attr-defined]
                         self._build_unknown.__func__)  # type: ignore[attr-defined]

    Rule.compile = shared  # type: ignore[method-assign]


_share_rule_compiling()


class _SharedStatements(LRUCache):  # type: ignore[type-arg]
    """Compiled SQL shared by every test's engine in this process.

    SQLAlchemy keeps each statement's compiled form in a cache of the engine's own,
    and each test has a new app and so a new engine: every test compiled its forty or
    so statements afresh, a quarter of the suite's time. The engine's cache is keyed
    by its dialect object; here the key is the dialect's kind (its class and the
    server's version), which is what the compiled form depends on, so engines of the
    same kind reuse what another compiled. Production has one engine per process.
    """

    def __init__(self) -> None:
        super().__init__(5000)

    @staticmethod
    def _kind(key: tuple[Any, ...]) -> tuple[Any, ...]:
        dialect, *rest = key
        return (type(dialect), dialect.server_version_info, *rest)

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(self._kind(key), default)

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(self._kind(key), value)


SHARED_STATEMENTS = _SharedStatements()


def app_settings(**overrides: Any) -> dict[str, Any]:
    """TestConfig as a dict, with ``overrides``: for tests that build an app of their own.
    Its engine shares compiled SQL with the other tests' (``_SharedStatements``)."""
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    settings.update(overrides)
    options = dict(settings.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options["execution_options"] = {**options.get("execution_options", {}),
                                    "compiled_cache": SHARED_STATEMENTS}
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = options
    return settings


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """In-memory SQLite (a new database for each test), or this worker's own PostgreSQL
    database with the schema built once (see tests/databases.py)."""
    if not databases.on_postgresql():
        yield TestConfig.SQLALCHEMY_DATABASE_URI
        return
    url = databases.create_database("suite")
    schema = create_app(app_settings(SQLALCHEMY_DATABASE_URI=url))
    with schema.app_context():
        db.create_all()
        with db.engine.begin() as connection:
            connection.execute(text(EMPTY_EVERY_TABLE_FUNCTION))
        db.engine.dispose()
    yield url
    engine = _SHARED_ENGINES.pop(url, None)
    if engine is not None:
        engine.dispose()
    databases.drop_database(url)


# DELETE, not TRUNCATE: truncating the 46 tables makes new files for each and its
# indexes (84 ms a test, about a minute of the run); deleting from mostly empty tables
# takes 2.5 ms. Foreign keys are not checked meanwhile (replica mode, as a superuser,
# which the demo copies need anyway), and only sequences that were used are reset.
EMPTY_EVERY_TABLE_FUNCTION = """
CREATE OR REPLACE FUNCTION lp_empty_every_table() RETURNS void LANGUAGE plpgsql AS $$
DECLARE item record;
BEGIN
  SET LOCAL session_replication_role = replica;
  FOR item IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format('DELETE FROM %I', item.tablename);
  END LOOP;
  FOR item IN SELECT sequencename FROM pg_sequences
              WHERE schemaname = 'public' AND last_value IS NOT NULL LOOP
    PERFORM setval(format('%I', item.sequencename), 1, false);
  END LOOP;
END $$
"""


def _empty_every_table() -> None:
    """Start the next test from empty tables with ids from 1, as a new database would."""
    with db.engine.begin() as connection:
        connection.execute(text("SELECT lp_empty_every_table()"))


_EMPTY_SCHEMA: list[sqlite3.Connection] = []


def _copy_empty_schema() -> None:
    """Give this test's in-memory SQLite database the tables by copying a database
    that has them (SQLite's backup, well under a millisecond), rather than creating
    46 tables and their indexes for each test and dropping them after (which cost
    as much as many tests do). The copy is made once per process by ``create_all``,
    so it is exactly what the models say."""
    if not _EMPTY_SCHEMA:
        template = sqlite3.connect(":memory:", check_same_thread=False)
        db.metadata.create_all(create_engine("sqlite://", creator=lambda: template,
                                             poolclass=StaticPool))
        _EMPTY_SCHEMA.append(template)
    connection = db.engine.raw_connection()
    try:
        _EMPTY_SCHEMA[0].backup(connection.driver_connection)  # type: ignore[arg-type]
    finally:
        connection.close()


_MIGRATED: list[sqlite3.Connection] = []  # SQLite: the migrated, empty database
_HEAD: list[str] = []  # PostgreSQL: the revision this worker's database was migrated to


def _share_migrated_schema() -> None:
    """Migrate once per process, not on each load of the demo.

    ``flask seed demo`` (``seed.empty_database``) drops every table and runs all the
    migrations, a second of each of the hundred tests that load a seed file (most of
    them small files with one mistake in them). In a test's in-memory SQLite database,
    the first call in the process runs the real thing and keeps a copy of what it
    made; later calls copy it back (SQLite's backup: the same tables, indexes and
    ``alembic_version``). On PostgreSQL, where the worker's database keeps its schema
    between tests, later calls empty every table and put the revision back. A database
    file (the ``make run`` test) always gets the real thing.
    """
    from partnerships import seed

    real = seed.empty_database

    def empty_database() -> None:
        if db.engine.dialect.name == "sqlite":
            if str(db.engine.url) != "sqlite://":
                real()
                return
            db.session.remove()
            connection = db.engine.raw_connection()
            try:
                driver = connection.driver_connection
                assert isinstance(driver, sqlite3.Connection)
                if _MIGRATED:
                    _MIGRATED[0].backup(driver)
                    return
                real()
                template = sqlite3.connect(":memory:", check_same_thread=False)
                driver.backup(template)
                _MIGRATED.append(template)
            finally:
                connection.close()
            return
        if not _HEAD:
            real()
            _HEAD.append(db.session.execute(
                text("SELECT version_num FROM alembic_version")).scalar_one())
            db.session.remove()
            # The tables were dropped and made again: no connection that the engine
            # keeps (it serves every test, see _share_postgresql_engine) should hold
            # statements prepared on the old ones.
            db.engine.dispose()
            return
        db.session.remove()
        _empty_every_table()
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"),
                               {"v": _HEAD[0]})

    seed.empty_database = empty_database


_share_migrated_schema()


_SHARED_ENGINES: dict[str, Any] = {}


def _share_postgresql_engine() -> None:
    """On PostgreSQL, every test's app uses one engine per process, so its connections
    stay open from test to test.

    A new engine for each test's app meant a new server connection for each test: a
    backend started, the dialect's first-connect queries, and the driver's and
    server's caches filled again, about 60 ms a test. The tests' apps make no engine
    settings of their own on PostgreSQL (the SQLite-only ones in
    partnerships/transactions.py are why SQLite keeps an engine per test), and a test
    leaves nothing on a connection: the pool rolls back what it returns, and the
    session settings the app and tests make are ``SET LOCAL``. Only the apps of the
    ``app`` fixture share (``_SHARED_ENGINE`` in their settings); apps on databases of
    their own (races, migrations, crashes) keep theirs.
    """
    from flask_sqlalchemy.extension import SQLAlchemy

    make_engine = SQLAlchemy._make_engine

    def shared(self: SQLAlchemy, bind_key: str | None, options: dict[str, Any],
               app: Flask) -> Any:
        url = str(options.get("url", ""))
        if not app.config.get("_SHARED_ENGINE") or not url.startswith("postgresql"):
            return make_engine(self, bind_key, options, app)
        engine = _SHARED_ENGINES.get(url)
        if engine is None:
            engine = _SHARED_ENGINES[url] = make_engine(self, bind_key, options, app)
        return engine

    SQLAlchemy._make_engine = shared  # type: ignore[method-assign]


_share_postgresql_engine()


@pytest.fixture
def app(tmp_path: Any, database_url: str) -> Iterator[Flask]:
    app = create_app(app_settings(SQLALCHEMY_DATABASE_URI=database_url, _SHARED_ENGINE=True))
    app.jinja_env.bytecode_cache = SHARED_TEMPLATES
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")  # never the real instance/
    app.test_client_class = AppClient
    in_memory = database_url == "sqlite://"
    with app.app_context():
        if in_memory:
            _copy_empty_schema()
        elif database_url.startswith("sqlite"):
            db.create_all()
        yield app
        db.session.remove()
        if in_memory:
            pass  # the database goes with its last connection (dispose, below)
        elif database_url.startswith("sqlite"):
            db.drop_all()
        else:
            _empty_every_table()
            return  # the engine and its connections serve the next test
        db.engine.dispose()


@pytest.fixture
def file_app(tmp_path: Any) -> Iterator[Flask]:
    """An app on a database of its own that several threads can write to at once (a
    SQLite file, or a fresh PostgreSQL database): for the race tests. See
    tests/concurrency.py."""
    from tests.concurrency import file_database_app  # it imports this module

    with file_database_app(tmp_path) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> AppClient:
    return app.test_client()  # type: ignore[return-value]


@dataclass
class Auth:
    client: AppClient

    def login(self, user: User) -> None:
        """Sign in as ``user`` (the session a real sign-in would create)."""
        with self.client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True

    def logout(self) -> None:
        with self.client.session_transaction() as session:
            session.clear()


@pytest.fixture
def auth(client: AppClient) -> Auth:
    return Auth(client)


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    counter = {"n": 0}

    def make(
        name: str | None = None, email: str | None = None, *, confirmed: bool = True,
        site_admin: bool = False, password: str | None = None,
    ) -> User:
        counter["n"] += 1
        n = counter["n"]
        user = accounts.user(name or f"Test Person {n}", email or f"person{n}@example.org",
                             password=password or PASSWORD, confirmed=confirmed,
                             site_admin=site_admin)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_organisation(app: Flask) -> Callable[..., Organisation]:
    def make(
        name: str = "Eastside Food Bank", *, org_type: OrgType = OrgType.COMMUNITY_GROUP,
        income_band: IncomeBand = IncomeBand.UP_TO_10K, admin: User | None = None,
        members: list[User] | None = None, **extra: Any,
    ) -> Organisation:
        org = organisations.organisation(name, admin=admin, members=members or [],
                                         org_type=org_type, income_band=income_band, **extra)
        db.session.commit()
        return org

    return make


@pytest.fixture
def make_partnership(app: Flask) -> Callable[..., Partnership]:
    def make(
        name: str = "Northbridge Together", *, slug: str | None = None,
        place: str = "Northbridge", officers: list[User] | None = None,
        members: list[Organisation] | None = None, description: str = "",
        principles: list[Principle] | None = None,
    ) -> Partnership:
        made = partnership.partnership(
            name, slug=slug or "", place=place, description=description,
            principles=principles or [Principle.PARTNERSHIP], officers=officers or [],
            members=members or [])
        db.session.commit()
        return made

    return make


@dataclass
class QueryLog:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], Any]:
    """``with count_queries() as log: ...`` then ``assert log.count <= budget``."""

    @contextmanager
    def counting() -> Iterator[QueryLog]:
        log = QueryLog()

        def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            log.statements.append(statement)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield log
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


@pytest.fixture
def render_every_time(app: Flask) -> None:
    """Pages for visitors not signed in are rendered on every request: the page cache
    (pagecache.py) keeps none. For tests that measure what rendering a page costs; the
    site revision is still read, one query, as on any such visitor's request."""
    app.extensions["page_cache"].max_bytes = 0


@pytest.fixture
def outbox(app: Flask) -> Callable[..., list[OutboxMessage]]:
    """Messages queued so far, optionally only those to one address."""

    def messages(to: str | None = None) -> list[OutboxMessage]:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if to:
            stmt = stmt.where(OutboxMessage.to == to.lower())
        return list(db.session.scalars(stmt))

    return messages


LINK_RE = re.compile(r"https?://\S+")


def link_in(message: OutboxMessage) -> str:
    """The first link in an email, as a path the test client can follow."""
    match = LINK_RE.search(message.body)
    assert match, f"no link in email {message.subject!r}"
    return re.sub(r"^https?://[^/]+", "", match.group(0))


@pytest.fixture
def make_forum(app: Flask) -> Callable[..., Any]:
    """A forum in ``partnership`` with active ``members``, run by ``convenors`` (a forum
    needs one, so with none named a new account convenes it)."""
    from partnerships.forums.models import Forum, MembershipPolicy, Visibility

    def make(partnership: Partnership, name: str = "VCSE Alliance", *, public: bool = True,
             convenors: list[User] | None = None, members: list[User] | None = None,
             policy: MembershipPolicy = MembershipPolicy.BY_REQUEST,
             notice_days: int = 5) -> Forum:
        made = forums.forum(partnership, name, convenors=convenors or [accounts.user()],
                            members=members or [],
                            policy=policy, notice_days=notice_days,
                            visibility=Visibility.PUBLIC if public else Visibility.MEMBERS)
        db.session.commit()
        return made

    return make


MEETING_TIME = time(10, 0)  # UK time: a two-hour meeting then never crosses midnight


def meeting_start(starts_in: timedelta = timedelta(days=14)) -> datetime:
    """When a test meeting starts: at ``MEETING_TIME`` on the UK day ``starts_in`` whole
    days from today, or (when ``starts_in`` is not whole days, as for a meeting under
    way) ``starts_in`` from now to the minute."""
    if starts_in % timedelta(days=1):
        return (utcnow() + starts_in).replace(second=0, microsecond=0)
    return uk_local_to_utc(today_uk() + starts_in, MEETING_TIME)


@pytest.fixture
def make_meeting(app: Flask) -> Callable[..., Any]:
    """A meeting of ``forum`` scheduled by its first convenor, by default a public
    in-person meeting at 10:00 UK time on the UK day 14 days from today, lasting two
    hours (a whole number of days in ``starts_in`` picks the day; anything finer counts
    from now). Keyword arguments set any other ``Meeting`` column."""
    from dataclasses import fields

    from partnerships.forums.models import Visibility
    from partnerships.meetings.models import Meeting
    from partnerships.meetings.scheduling import MeetingDetails

    details = {f.name for f in fields(MeetingDetails)}

    def make(forum: Any, title: str = "Quarterly meeting", *,
             starts_in: timedelta = timedelta(days=14), hours: float = 2,
             public: bool = True, **columns: Any) -> Meeting:
        starts_at = columns.pop("starts_at", None) or meeting_start(starts_in)
        ends_at = columns.pop("ends_at", None) or starts_at + timedelta(hours=hours)
        start, end = to_uk(starts_at), to_uk(ends_at)
        made = meetings.meeting(
            forum, title, day=start.date(), start=start.time(), end=end.time(),
            visibility=Visibility.PUBLIC if public else Visibility.MEMBERS,
            **{name: value for name, value in columns.items() if name in details})
        # What became of the meeting later (its status, agenda, minutes, places taken),
        # which the services reach only through steps these tests leave out: the one
        # direct write, column by column as the test names them.
        for name, value in columns.items():
            if name not in details:
                setattr(made[0], name, value)
        db.session.commit()
        return made[0]

    return make


# --- The opportunities world: a partnership with an ICB, a council and a CVS ----------------


@dataclass
class World:
    app: Flask
    partnership: Partnership
    icb: Organisation  # public sector
    council: Organisation  # public sector
    cvs: Organisation  # VCSE
    icb_admin: User
    cvs_admin: User
    council_admin: User
    council_staff: User  # applies from the council
    cvs_staff: User
    outsider: User  # signed in, no organisation
    site_admin: User


def build_world(app: Flask, make_user: Any, make_organisation: Any,
                make_partnership: Any) -> World:
    icb_admin = make_user("Ida ICB Admin", "ida@icb.example.org")
    cvs_admin = make_user("Cyril CVS Admin", "cyril@cvs.example.org")
    council_admin = make_user("Cora Council Admin", "cora@council.example.org")
    council_staff = make_user("Sam Staff", "sam@council.example.org")
    cvs_staff = make_user("Val Volunteer", "val@cvs.example.org")
    outsider = make_user("Owen Outsider", "owen@example.org")
    site_admin = make_user("Sita Site Admin", "sita@example.org", site_admin=True)
    icb = make_organisation("Northbridge ICB", org_type=OrgType.NHS_BODY, admin=icb_admin)
    council = make_organisation("Northbridge Council", org_type=OrgType.LOCAL_AUTHORITY,
                                admin=council_admin, members=[council_staff])
    cvs = make_organisation("Northbridge CVS", org_type=OrgType.CHARITY, admin=cvs_admin,
                            members=[cvs_staff])
    partnership = make_partnership(members=[icb, council, cvs])
    return World(app, partnership, icb, council, cvs, icb_admin, cvs_admin, council_admin,
                 council_staff, cvs_staff, outsider, site_admin)


@pytest.fixture
def world(app: Flask, make_user: Any, make_organisation: Any, make_partnership: Any) -> World:
    """The opportunities world, shared by the ``test_opportunities*`` files (a module
    that means another world, as the meetings tests do, defines its own ``world``)."""
    return build_world(app, make_user, make_organisation, make_partnership)
