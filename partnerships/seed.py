"""The Northbridge demo: load ``seed/northbridge.yaml`` into the database.

Why it works the way it does:

- **Data in YAML, one loader per section.** Later issues extend the demo by adding
  a section to the YAML file and a ``(name, loader)`` pair to ``SECTIONS``. A section
  the loader does not know, or a field an entry does not use, is an error rather
  than being silently ignored, so typos show up at once.
- **Through the services, as the people named.** Each step is the service a person
  would use on the site, called (through ``partnerships/factories``) as the acting
  user the file names (``by:``, ``created_by:``, an author, a member), so the demo
  obeys the site's rules and a step the site would refuse fails the load with the
  service's own message. The loaders check only the file's shape.
- **A reset, not a reconcile.** ``flask seed demo`` empties the database (every
  table dropped, then the migrations run, so the schema is exactly the migrated one)
  and loads the file into it. Running it again therefore puts the demo back exactly
  as it was, whatever people did in between.
- **One moment, and the past at its own moments.** The whole load runs at one
  moment of the app's clock (``clock.at``); what happened earlier (a forum started
  240 days ago, posts written, meetings held with their minutes) is done inside
  ``clock.at(that moment)``, counted back from the load, so the demo always reads
  as current and two loads differ only in when they ran.
- **Organisations** are registered by the site administrator, whose people ask to
  join with their job titles and are let in (and made admins where the file says);
  the administrator then leaves. Convenors are shown with the organisation they
  administer, as when a forum is created on the site.
- **Demo passwords** are all ``demo-partnerships`` (hashed once per run).
- **No email, no audit events.** The builders take back what the services queued
  and recorded: loading a demo is nobody's action and must email nobody.
- The caller commits (the ``flask seed demo`` command does); this module flushes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import flask_migrate
import yaml
from flask import current_app
from sqlalchemy import MetaData, Table, inspect
from sqlalchemy.schema import DropTable

from . import clock
from .accounts.models import User
from .accounts.services import normalise_email
from .errors import DomainError
from .extensions import db
from .factories import accounts as account_factory
from .factories import forums as forum_factory
from .factories import organisations as org_factory
from .factories import partnership as partnership_factory
from .factories import setting_up
from .forums.models import Forum, MembershipPolicy, Post, Visibility
from .organisations.models import IncomeBand, MemberRole, Organisation, OrgType
from .partnership.models import Partnership, Principle

DEMO_PASSWORD = "demo-partnerships"  # published in the README on purpose


class SeedError(ValueError):
    """The seed file says something the loader cannot load; the message says where."""


def seed_path() -> Path:
    """``seed/northbridge.yaml`` next to the package (the repository checkout)."""
    return Path(current_app.root_path).parent / "seed" / "northbridge.yaml"


@dataclass
class SeedContext:
    """What earlier sections loaded, for later sections to refer to by key, and the
    moment of loading that every time in the file counts from."""

    now: datetime = field(default_factory=clock.now)
    users: dict[str, User] = field(default_factory=dict)
    organisations: dict[str, Organisation] = field(default_factory=dict)
    partnerships: dict[str, Partnership] = field(default_factory=dict)
    forums: dict[tuple[str, str], Forum] = field(default_factory=dict)  # (partnership, forum)
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    def user(self, email: Any, where: str) -> User:
        return _find(self.users, normalise_email(str(email)), where,
                     f"{email!r} is not one of the accounts")

    def organisation(self, slug: Any, where: str) -> Organisation:
        return _find(self.organisations, str(slug), where,
                     f"no organisation with slug {slug!r}")

    def partnership(self, slug: Any, where: str) -> Partnership:
        return _find(self.partnerships, str(slug), where, f"no partnership with slug {slug!r}")

    def forum(self, partnership: Any, slug: Any, where: str) -> Forum:
        return _find(self.forums, (str(partnership), str(slug)), where,
                     f"no forum {slug!r} in {partnership}")

    @property
    def site_admin(self) -> User:
        admin = next((u for u in self.users.values() if u.is_site_admin), None)
        if admin is None:
            raise SeedError("accounts: the demo needs a site_admin account")
        return admin


K = TypeVar("K")
V = TypeVar("V")


def _find(found: dict[K, V], key: K, where: str, missing: str) -> V:
    if key not in found:
        raise SeedError(f"{where}: {missing} in the seed file")
    return found[key]


# --- The file's shape ------------------------------------------------------------------------


def entries(section: Any, name: str) -> list[dict[str, Any]]:
    if section is None:
        return []
    if not isinstance(section, list) or not all(isinstance(e, dict) for e in section):
        raise SeedError(f"{name}: expected a list of entries")
    return section


def check_fields(entry: dict[str, Any], required: set[str], optional: set[str],
                 where: str) -> None:
    missing = sorted(key for key in required if entry.get(key) in (None, ""))
    if missing:
        raise SeedError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(set(entry) - required - optional)
    if unknown:
        raise SeedError(f"{where}: unknown field(s) {', '.join(unknown)}")


def enum(enum_cls: type, value: Any, where: str) -> Any:
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_cls)  # type: ignore[attr-defined]
        raise SeedError(f"{where}: {value!r} is not one of {allowed}") from None


def text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def days(entry: dict[str, Any], key: str, default: float, where: str) -> timedelta:
    """``entry[key]`` (or ``default``) days, a number of 0 or more."""
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise SeedError(f"{where}: {key} should be a number of days (0 or more)")
    return timedelta(days=value)


def ago(entry: dict[str, Any], where: str) -> timedelta:
    """Exactly one of ``minutes_ago``, ``hours_ago`` or ``days_ago``, as a timedelta."""
    given = [key for key in ("minutes_ago", "hours_ago", "days_ago") if entry.get(key) is not None]
    if len(given) != 1:
        raise SeedError(f"{where}: say when it was written with one of minutes_ago, "
                        "hours_ago or days_ago")
    value = entry[given[0]]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise SeedError(f"{where}: {given[0]} should be a number (0 or more)")
    return timedelta(**{given[0].removesuffix("_ago"): value})


@contextmanager
def refused_as_seed_error(where: str) -> Iterator[None]:
    """A step the site refuses (a service's ``DomainError``) fails the load, saying
    which entry and what the service said."""
    try:
        yield
    except SeedError:
        raise
    except (DomainError, ValueError) as error:
        raise SeedError(f"{where}: {error}") from error


# --- Accounts, organisations, partnerships -----------------------------------------------------


def _load_accounts(section: Any, ctx: SeedContext) -> None:
    for entry in entries(section, "accounts"):
        where = f"accounts: {entry.get('email', '?')}"
        check_fields(entry, {"name", "email"}, {"site_admin", "confirmed"}, where)
        user = account_factory.user(text(entry["name"]), str(entry["email"]),
                                    password=DEMO_PASSWORD,
                                    site_admin=bool(entry.get("site_admin")),
                                    confirmed=entry.get("confirmed", True))
        ctx.users[user.email] = user
    ctx.count("accounts", len(ctx.users))


_ORG_FIELDS = {"charity_number", "company_number", "website", "description", "members"}


def _load_organisations(section: Any, ctx: SeedContext) -> None:
    admin = ctx.site_admin
    for entry in entries(section, "organisations"):
        where = f"organisations: {entry.get('slug', '?')}"
        check_fields(entry, {"name", "slug", "type", "income_band"}, _ORG_FIELDS, where)
        for key in ("charity_number", "company_number"):
            if entry.get(key) is not None and not isinstance(entry[key], str):
                raise SeedError(f"{where}: put {key} in quotes, or leading zeros are lost")
        details: dict[str, Any] = {key: text(entry.get(key))
                                   for key in _ORG_FIELDS - {"members"}}
        org = org_factory.organisation(
            text(entry["name"]), by=admin, slug=str(entry["slug"]),
            org_type=enum(OrgType, entry["type"], where),
            income_band=enum(IncomeBand, entry["income_band"], where),
            **details)
        ctx.organisations[org.slug] = org
        ctx.count("organisations")
        for member in entries(entry.get("members"), f"{where}: members"):
            mwhere = f"{where}: member {member.get('email', '?')}"
            check_fields(member, {"email", "role"}, {"job_title", "status", "message"}, mwhere)
            pending = member.get("status") == "pending"
            org_factory.member(org, ctx.user(member["email"], mwhere),
                               role=enum(MemberRole, member["role"], mwhere),
                               job_title=text(member.get("job_title")),
                               message=text(member.get("message")), by=admin, pending=pending)
            ctx.count("requests to join organisations" if pending else "organisation members")
        if org_factory.admins(org) != [admin] or not entry.get("members"):
            org_factory.leave(org, admin)  # (the last admin of members stays)


_PARTNERSHIP_FIELDS = {"description", "contact_email", "principles", "officers", "members",
                       "pending"}


def _load_partnerships(section: Any, ctx: SeedContext) -> None:
    admin = ctx.site_admin
    for entry in entries(section, "partnerships"):
        where = f"partnerships: {entry.get('slug', '?')}"
        check_fields(entry, {"name", "slug", "place"}, _PARTNERSHIP_FIELDS, where)
        partnership = partnership_factory.partnership(
            text(entry["name"]), by=admin, slug=str(entry["slug"]), place=text(entry["place"]),
            description=text(entry.get("description")),
            contact_email=text(entry.get("contact_email")),
            principles=[enum(Principle, value, where) for value in entry.get("principles") or []])
        ctx.partnerships[partnership.slug] = partnership
        ctx.count("partnerships")
        officers = []
        for item in entries(entry.get("officers"), f"{where}: officers"):
            owhere = f"{where}: officer {item.get('email', '?')}"
            check_fields(item, {"email", "role_title"}, {"organisation"}, owhere)
            org = ctx.organisation(item["organisation"], owhere) if item.get("organisation") \
                else None
            officers.append(partnership_factory.officer(
                partnership, ctx.user(item["email"], owhere), text(item["role_title"]), org,
                by=admin).user)
            ctx.count("partnership officers")
        for slug in entry.get("members") or []:
            partnership_factory.member(partnership, ctx.organisation(slug, f"{where}: members"),
                                       decided_by=officers[0] if officers else admin)
            ctx.count("partnership members")
        for item in entries(entry.get("pending"), f"{where}: pending"):
            pwhere = f"{where}: pending {item.get('organisation', '?')}"
            check_fields(item, {"organisation", "requested_by"}, {"message"}, pwhere)
            partnership_factory.member(
                partnership, ctx.organisation(item["organisation"], pwhere),
                requested_by=ctx.user(item["requested_by"], pwhere),
                message=text(item.get("message")), pending=True)
            ctx.count("requests to join partnerships")


# --- Forums -------------------------------------------------------------------------------
# Times count back from the moment of loading: the forum started ``created_days_ago``,
# members joined then (or ``joined_days_ago``), posts were written ``minutes_ago``,
# ``hours_ago`` or ``days_ago``, so threads show as unread to members who have not
# read them yet.

_FORUM_FIELDS = {"theme", "tags", "created_days_ago", "convenors", "members", "pending",
                 "threads"}
_POST_FIELDS = {"author", "minutes_ago", "hours_ago", "days_ago", "hidden_reason", "hidden_by"}


def _load_forum_people(forum: Forum, entry: dict[str, Any], ctx: SeedContext,
                       where: str, started: datetime) -> None:
    for key, pending in (("members", False), ("pending", True)):
        for item in entries(entry.get(key), f"{where}: {key}"):
            mwhere = f"{where}: {key} {item.get('email', '?')}"
            check_fields(item, {"email"}, {"organisation", "joined_days_ago", "days_ago",
                                           "introduction"}, mwhere)
            when = ctx.now - days(item, "days_ago", 1, mwhere) if pending else (
                ctx.now - days(item, "joined_days_ago", 0, mwhere)
                if item.get("joined_days_ago") is not None else started)
            org = ctx.organisation(item["organisation"], mwhere) if item.get("organisation") \
                else None
            with clock.at(when):
                forum_factory.member(forum, ctx.user(item["email"], mwhere), organisation=org,
                                     introduction=text(item.get("introduction")),
                                     pending=pending)
            ctx.count("requests to join forums" if pending else "forum members")


def _load_threads(forum: Forum, section: Any, ctx: SeedContext, where: str) -> None:
    for entry in entries(section, f"{where}: threads"):
        twhere = f"{where}: thread {entry.get('title', '?')!r}"
        check_fields(entry, {"title", "author", "posts"}, {"pinned", "locked"}, twhere)
        posts = entries(entry["posts"], f"{twhere}: posts")
        if not posts:
            raise SeedError(f"{twhere}: a discussion needs at least its opening post")
        thread = None
        for n, post in enumerate(posts, 1):
            pwhere = f"{twhere}: post {n}"
            # The opening post is the discussion's author's: it names no author.
            check_fields(post, {"body"} | ({"author"} if n > 1 else set()),
                         _POST_FIELDS - ({"author"} if n == 1 else set()), pwhere)
            author = ctx.user(post.get("author") or entry["author"], pwhere)
            at = ctx.now - ago(post, pwhere)
            with clock.at(at):
                if thread is None:
                    thread = forum_factory.thread(forum, author, str(entry["title"]),
                                                  text(post["body"]))
                    made = db.session.get(Post, thread.last_post_id)
                else:
                    made = forum_factory.reply(thread, author, text(post["body"]))
            assert made is not None  # the thread's first post, or the reply just made
            if post.get("hidden_reason") or post.get("hidden_by"):
                with clock.at(min(at + timedelta(hours=2), ctx.now)):
                    forum_factory.hide(made, text(post.get("hidden_reason")),
                                       by=ctx.user(post["hidden_by"], pwhere)
                                       if post.get("hidden_by") else None)
        assert thread is not None and thread.last_post_at is not None
        with clock.at(thread.last_post_at):
            forum_factory.thread_settings(thread, pinned=bool(entry.get("pinned")),
                                          locked=bool(entry.get("locked")),
                                          by=ctx.user(entry["author"], twhere))
        ctx.count("discussions")
        ctx.count("posts", len(posts))


def _load_forums(section: Any, ctx: SeedContext) -> None:
    for entry in entries(section, "forums"):
        where = f"forums: {entry.get('slug', '?')}"
        check_fields(
            entry, {"partnership", "slug", "name", "purpose", "membership_policy", "visibility",
                    "by"}, _FORUM_FIELDS, where)
        partnership = ctx.partnership(entry["partnership"], where)
        tags = entry.get("tags") or []
        if not isinstance(tags, list):
            raise SeedError(f"{where}: tags should be a list of words or phrases")
        convenors = entries(entry.get("convenors"), f"{where}: convenors")
        for item in convenors:
            check_fields(item, {"email"}, {"organisation"}, f"{where}: convenor")
        started = ctx.now - days(entry, "created_days_ago", 180, where)
        with clock.at(started):
            forum = forum_factory.forum(
                partnership, text(entry["name"]), by=ctx.user(entry["by"], where),
                slug=str(entry["slug"]), purpose=text(entry["purpose"]),
                theme=text(entry.get("theme")), tags=[str(tag) for tag in tags],
                policy=enum(MembershipPolicy, entry["membership_policy"], where),
                visibility=enum(Visibility, entry["visibility"], where),
                convenors=[ctx.user(item["email"], where) for item in convenors])
            for item in convenors:
                if item.get("organisation"):
                    forum_factory.shown_with(forum, ctx.user(item["email"], where),
                                             ctx.organisation(item["organisation"], where))
        ctx.forums[(partnership.slug, forum.slug)] = forum
        ctx.count("forums")
        ctx.count("forum members", len(convenors))
        _load_forum_people(forum, entry, ctx, where, started)
        _load_threads(forum, entry.get("threads"), ctx, where)


def _load_mous(section: Any, ctx: SeedContext) -> None:
    """MoUs: the loader lives with its domain (``partnerships/mous/seed.py``) and uses
    this module's helpers, so it is imported when the section runs."""
    from .mous.seed import load_mous

    load_mous(section, ctx)


def _load_opportunities(section: Any, ctx: SeedContext) -> None:
    """Secondments and shadowing: the loader lives with its domain
    (``partnerships/opportunities/seed.py``), imported when the section runs."""
    from .opportunities.seed import load_opportunities

    load_opportunities(section, ctx)


def _load_meetings(section: Any, ctx: SeedContext) -> None:
    """Meetings: the loader lives with its domain (``partnerships/meetings/seed.py``),
    imported when the section runs."""
    from .meetings.seed import load_meetings

    load_meetings(section, ctx)


def _load_engagement(section: Any, ctx: SeedContext) -> None:
    """Engagement plans: the loader lives with its domain
    (``partnerships/engagement/seed.py``), imported when the section runs."""
    from .engagement.seed import load_engagement

    load_engagement(section, ctx)
def _load_concerns(section: Any, ctx: SeedContext) -> None:
    """Concerns raised about a partnership: the loader lives with its domain
    (``partnerships/concerns/seed.py``), imported when the section runs."""
    from .concerns.seed import load_concerns

    load_concerns(section, ctx)


def _load_annual_reports(section: Any, ctx: SeedContext) -> None:
    """Annual reports: the loader lives with the engagement record
    (``partnerships/engagement/seed.py``), imported when the section runs."""
    from .engagement.seed import load_annual_reports

    load_annual_reports(section, ctx)


SeedLoader = Callable[[Any, SeedContext], None]

# In load order: each section may refer to what the sections before it loaded.
SECTIONS: list[tuple[str, SeedLoader]] = [
    ("accounts", _load_accounts),
    ("organisations", _load_organisations),
    ("partnerships", _load_partnerships),
    ("forums", _load_forums),
    ("meetings", _load_meetings),
    ("mous", _load_mous),
    ("opportunities", _load_opportunities),
    ("engagement", _load_engagement),
    ("concerns", _load_concerns),
    ("annual_reports", _load_annual_reports),
]


def empty_database() -> None:
    """Drop every table, ``alembic_version`` included, and run the migrations.

    Dropping and upgrading (rather than deleting rows) leaves exactly the migrated
    schema, whatever an earlier version of the app or a walkthrough left behind, on
    SQLite and PostgreSQL alike. SQLite cannot drop the foreign keys in a cycle (MoUs
    and their versions point at each other), so there foreign keys are off while the
    tables go, one by one (the pragma only takes effect outside a transaction);
    PostgreSQL drops the cycle's constraints first.
    """
    db.session.remove()
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # On the driver's connection, before SQLAlchemy begins a transaction: on a
            # database file the app's "begin" hook issues BEGIN at once (see
            # transactions.py), and inside it the pragma would be ignored.
            driver = conn.connection.dbapi_connection
            assert driver is not None
            driver.execute("PRAGMA foreign_keys=OFF")
            for name in inspect(conn).get_table_names():
                conn.execute(DropTable(Table(name, MetaData())))
            conn.commit()
            driver.execute("PRAGMA foreign_keys=ON")
        else:
            tables = MetaData()
            tables.reflect(bind=conn)
            tables.drop_all(bind=conn)
            conn.commit()
    flask_migrate.upgrade()


# libyaml's parser (PyYAML's C binding, in its wheels) when present: the same safe
# subset of YAML, a tenth of the time of the pure-Python one on the demo file.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_demo(path: Path | None = None) -> dict[str, int]:
    """Empty the database and load the Northbridge demo; return how many of each thing
    it holds.

    Refuses to run when the app is configured for production: it deletes everything,
    and the demo's accounts have a published password. The file is read and parsed
    before anything is dropped, so a file that is not YAML leaves the database alone.
    """
    if current_app.config.get("ENV_NAME") == "production":
        raise RuntimeError("Refusing to load demo data: the app is configured for production.")
    source = path or seed_path()
    data = yaml.load(source.read_text(encoding="utf-8"), Loader=_YAML_LOADER) or {}
    if not isinstance(data, dict):
        raise SeedError(f"{source}: expected sections such as accounts: and organisations:")
    known = {name for name, _ in SECTIONS}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SeedError(f"{source}: unknown section(s) {', '.join(map(str, unknown))}")
    empty_database()
    # One moment for the whole load: every "now" the loaders (and the columns' defaults)
    # ask for is the same instant, so two loads differ only in when they ran. Emails
    # are neither printed nor kept (see the module docstring).
    printing = current_app.config.get("MAIL_PRINT")
    current_app.config["MAIL_PRINT"] = False
    try:
        with clock.at(clock.now()) as moment, setting_up():
            ctx = SeedContext(now=moment)
            for name, loader in SECTIONS:
                with refused_as_seed_error(name):
                    loader(data.get(name), ctx)
    finally:
        current_app.config["MAIL_PRINT"] = printing
    return ctx.counts
