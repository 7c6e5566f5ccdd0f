"""The Northbridge demo: load ``seed/northbridge.yaml`` into the database.

Why it works the way it does:

- **Data in YAML, one loader per section.** Later issues extend the demo by adding
  a section to the YAML file and a ``(name, loader)`` pair to ``SECTIONS``. A section
  the loader does not know, or a field an entry does not use, is an error rather
  than being silently ignored, so typos show up at once.
- **A reset, not a reconcile.** ``flask seed demo`` empties the database (every
  table dropped, then the migrations run, so the schema is exactly the migrated one)
  and loads the file into it. Running it again therefore puts the demo back exactly
  as it was, whatever people did in between, without a second set of rules for
  "undoing" their actions. Clock-dependent parts (when posts were written, past and
  upcoming meetings, reviews that are overdue) count from the moment of loading, so
  the demo always reads as current. The whole load runs at that one moment of the
  app's clock (``clock.at``), so every "now" in it is the same instant.
- **Demo passwords** are all ``demo-partnerships``. scrypt is slow on purpose, so
  the password is hashed once per run and every account shares the hash.
- **Models are written directly**, not through the services: the services check
  that a confirmed person is acting and send emails, and loading a demo is neither.
  No email is queued.
- **Nothing is audited.** The audit log answers "who did what"; the seed is not a
  person's action and only runs outside production (``load_demo`` refuses there as
  well as the CLI). An audit event per run would also make two runs differ.
- **Forum times count back from loading.** Posts say how long ago they were written
  (``minutes_ago``, ``hours_ago`` or ``days_ago``), counted back from when the
  partnership was loaded (its ``created_at``); the forum itself started
  ``created_days_ago`` before that, and members joined then (or ``joined_days_ago``),
  so threads show as unread to demo members who have not read them yet.
- The caller commits (the ``flask seed demo`` command does); this module flushes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import flask_migrate
import yaml
from flask import current_app
from sqlalchemy import MetaData, Table, inspect, select
from sqlalchemy.schema import DropTable

from . import clock
from .accounts.models import User
from .accounts.passwords import hash_password
from .accounts.services import normalise_email
from .extensions import db
from .forums.discussions import BODY_MAX, TITLE_MAX
from .forums.discussions import REASON_MAX as HIDE_REASON_MAX
from .forums.models import (
    Forum,
    ForumConvenor,
    ForumMember,
    ForumMemberStatus,
    MembershipPolicy,
    Post,
    Subscription,
    Thread,
    ThreadState,
    Visibility,
)
from .forums.services import (
    INTRODUCTION_MAX,
    NAME_MAX,
    PURPOSE_MAX,
    RESERVED_SLUGS,
    TAGS_MAX,
    THEME_MAX,
)
from .modelbase import utcnow
from .organisations.models import (
    IncomeBand,
    MemberRole,
    Organisation,
    OrganisationMember,
    OrgType,
    RequestStatus,
)
from .organisations.numbers import normalise_charity_number, normalise_company_number
from .partnership.models import (
    Partnership,
    PartnershipMember,
    PartnershipOfficer,
    PartnershipPrinciple,
    Principle,
)
from .slugs import is_valid_slug

DEMO_PASSWORD = "demo-partnerships"  # published in the README on purpose


class SeedError(ValueError):
    """The seed file says something the loader cannot load; the message says where."""


def seed_path() -> Path:
    """``seed/northbridge.yaml`` next to the package (the repository checkout)."""
    return Path(current_app.root_path).parent / "seed" / "northbridge.yaml"


@dataclass
class SeedContext:
    """What earlier sections loaded, for later sections to refer to by key."""

    users: dict[str, User] = field(default_factory=dict)
    organisations: dict[str, Organisation] = field(default_factory=dict)
    partnerships: dict[str, Partnership] = field(default_factory=dict)
    forums: dict[tuple[str, str], Forum] = field(default_factory=dict)  # (partnership, forum)
    counts: dict[str, int] = field(default_factory=dict)
    _hash: str | None = None

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    def user(self, email: Any, where: str) -> User:
        user = self.users.get(normalise_email(str(email)))
        if user is None:
            raise SeedError(f"{where}: {email!r} is not one of the accounts in the seed file")
        return user

    def organisation(self, slug: Any, where: str) -> Organisation:
        org = self.organisations.get(str(slug))
        if org is None:
            raise SeedError(f"{where}: no organisation with slug {slug!r} in the seed file")
        return org

    def partnership(self, slug: Any, where: str) -> Partnership:
        partnership = self.partnerships.get(str(slug))
        if partnership is None:
            raise SeedError(f"{where}: no partnership with slug {slug!r} in the seed file")
        return partnership

    @property
    def site_admin(self) -> User | None:
        return next((u for u in self.users.values() if u.is_site_admin), None)

    def password_hash(self) -> str:
        """A hash of the demo password, computed at most once per run."""
        if self._hash is None:
            self._hash = hash_password(DEMO_PASSWORD)
        return self._hash


# --- Helpers ------------------------------------------------------------------------------


def _entries(section: Any, name: str) -> list[dict[str, Any]]:
    if section is None:
        return []
    if not isinstance(section, list) or not all(isinstance(e, dict) for e in section):
        raise SeedError(f"{name}: expected a list of entries")
    return section


def _check_fields(
    entry: dict[str, Any], required: set[str], optional: set[str], where: str
) -> None:
    missing = sorted(key for key in required if entry.get(key) in (None, ""))
    if missing:
        raise SeedError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(set(entry) - required - optional)
    if unknown:
        raise SeedError(f"{where}: unknown field(s) {', '.join(unknown)}")


def _enum(enum_cls: type, value: Any, where: str) -> Any:
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_cls)  # type: ignore[attr-defined]
        raise SeedError(f"{where}: {value!r} is not one of {allowed}") from None


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _assign(obj: Any, **values: Any) -> None:
    """Set several attributes at once (the loaders build records in steps)."""
    for key, value in values.items():
        setattr(obj, key, value)


# --- Sections -----------------------------------------------------------------------------


def _load_accounts(section: Any, ctx: SeedContext) -> None:
    for entry in _entries(section, "accounts"):
        where = f"accounts: {entry.get('email', '?')}"
        _check_fields(entry, {"name", "email"}, {"site_admin", "confirmed"}, where)
        email = normalise_email(str(entry["email"]))
        if email in ctx.users:
            raise SeedError(f"{where}: listed twice")
        user = User(email=email, name=_text(entry["name"]), password_hash=ctx.password_hash(),
                    is_site_admin=bool(entry.get("site_admin")),
                    email_confirmed_at=utcnow() if entry.get("confirmed", True) else None)
        db.session.add(user)
        ctx.users[email] = user
    db.session.flush()
    ctx.count("accounts", len(ctx.users))


_ORG_FIELDS = {"charity_number", "company_number", "website", "description", "members"}


def _org_values(entry: dict[str, Any], where: str) -> dict[str, Any]:
    charity = company = None
    for key in ("charity_number", "company_number"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            raise SeedError(f"{where}: put {key} in quotes, or leading zeros are lost")
    if entry.get("charity_number"):
        charity = normalise_charity_number(entry["charity_number"])
        if charity is None:
            raise SeedError(f"{where}: {entry['charity_number']!r} is not a charity number")
    if entry.get("company_number"):
        company = normalise_company_number(entry["company_number"])
        if company is None:
            raise SeedError(f"{where}: {entry['company_number']!r} is not a company number")
    website = _text(entry.get("website")) or None
    if website and not website.startswith("https://"):
        raise SeedError(f"{where}: website should start with https://")
    return {
        "name": _text(entry["name"]),
        "org_type": _enum(OrgType, entry["type"], where),
        "income_band": _enum(IncomeBand, entry["income_band"], where),
        "charity_number": charity,
        "company_number": company,
        "website": website,
        "description": _text(entry.get("description")),
    }


def _load_organisations(section: Any, ctx: SeedContext) -> None:
    for entry in _entries(section, "organisations"):
        where = f"organisations: {entry.get('slug', '?')}"
        _check_fields(entry, {"name", "slug", "type", "income_band"}, _ORG_FIELDS, where)
        slug = str(entry["slug"])
        if not is_valid_slug(slug):
            raise SeedError(f"{where}: slugs are lower-case words joined by hyphens")
        if slug in ctx.organisations:
            raise SeedError(f"{where}: listed twice")
        values = _org_values(entry, where)
        members = _entries(entry.get("members"), f"{where}: members")
        first_admin = next((m for m in members if m.get("role") == "admin"), None)
        creator = ctx.user(first_admin["email"], where) if first_admin else None
        org = Organisation(slug=slug, created_by_id=creator.id if creator else None, **values)
        db.session.add(org)
        db.session.flush()
        ctx.organisations[slug] = org
        ctx.count("organisations")
        seen: set[int] = set()
        for member in members:
            mwhere = f"{where}: member {member.get('email', '?')}"
            _check_fields(member, {"email", "role"}, {"job_title", "status", "message"}, mwhere)
            user = ctx.user(member["email"], mwhere)
            role = _enum(MemberRole, member["role"], mwhere)
            status = _enum(RequestStatus, member.get("status", "active"), mwhere)
            if status not in (RequestStatus.ACTIVE, RequestStatus.PENDING):
                raise SeedError(f"{mwhere}: status must be active or pending")
            if user.id in seen:
                raise SeedError(f"{mwhere}: listed twice")
            seen.add(user.id)
            link = OrganisationMember(
                organisation_id=org.id, user_id=user.id,
                role=role if status is RequestStatus.ACTIVE else MemberRole.MEMBER,
                status=status, job_title=_text(member.get("job_title")),
                message=_text(member.get("message")),
            )
            db.session.add(link)
            if status is RequestStatus.PENDING:
                ctx.count("requests to join organisations")
            else:
                link.decided_at = utcnow()
                ctx.count("organisation members")
    db.session.flush()


_PARTNERSHIP_FIELDS = {"description", "contact_email", "principles", "officers", "members",
                       "pending"}


def _set_principles(partnership: Partnership, values: Any, where: str) -> None:
    if not isinstance(values or [], list):
        raise SeedError(f"{where}: principles should be a list")
    wanted = {_enum(Principle, value, where) for value in values or []}
    for principle in sorted(wanted, key=list(Principle).index):
        partnership.principle_rows.append(PartnershipPrinciple(principle=principle))


def _load_officers(partnership: Partnership, officers: Any, ctx: SeedContext, where: str) -> None:
    admin = ctx.site_admin
    for entry in _entries(officers, f"{where}: officers"):
        owhere = f"{where}: officer {entry.get('email', '?')}"
        _check_fields(entry, {"email", "role_title"}, {"organisation"}, owhere)
        user = ctx.user(entry["email"], owhere)
        org = ctx.organisation(entry["organisation"], owhere) if entry.get("organisation") else None
        db.session.add(PartnershipOfficer(
            partnership_id=partnership.id, user_id=user.id,
            appointed_by_id=admin.id if admin else None, role_title=_text(entry["role_title"]),
            organisation_id=org.id if org else None,
        ))
        ctx.count("partnership officers")


def _load_partnership_members(
    partnership: Partnership, entry: dict[str, Any], ctx: SeedContext, where: str
) -> None:
    members = entry.get("members") or []
    if not isinstance(members, list):
        raise SeedError(f"{where}: members should be a list of organisation slugs")
    pending = _entries(entry.get("pending"), f"{where}: pending")
    first_officer = db.session.scalar(
        select(PartnershipOfficer.user_id)
        .where(PartnershipOfficer.partnership_id == partnership.id)
        .order_by(PartnershipOfficer.id)
    )
    listed: set[int] = set()

    def add(org: Organisation, mwhere: str, **values: Any) -> None:
        if org.id in listed:
            raise SeedError(f"{mwhere}: listed twice")
        listed.add(org.id)
        db.session.add(PartnershipMember(partnership_id=partnership.id, organisation_id=org.id,
                                         requested_at=utcnow(), **values))

    for slug in members:
        org = ctx.organisation(slug, f"{where}: members")
        add(org, f"{where}: member {slug}", status=RequestStatus.ACTIVE, decided_at=utcnow(),
            decided_by_id=first_officer)
        ctx.count("partnership members")

    for request in pending:
        pwhere = f"{where}: pending {request.get('organisation', '?')}"
        _check_fields(request, {"organisation", "requested_by"}, {"message"}, pwhere)
        org = ctx.organisation(request["organisation"], pwhere)
        user = ctx.user(request["requested_by"], pwhere)
        add(org, pwhere, status=RequestStatus.PENDING, message=_text(request.get("message")),
            requested_by_id=user.id)
        ctx.count("requests to join partnerships")


def _load_partnerships(section: Any, ctx: SeedContext) -> None:
    for entry in _entries(section, "partnerships"):
        where = f"partnerships: {entry.get('slug', '?')}"
        _check_fields(entry, {"name", "slug", "place"}, _PARTNERSHIP_FIELDS, where)
        slug = str(entry["slug"])
        if not is_valid_slug(slug):
            raise SeedError(f"{where}: slugs are lower-case words joined by hyphens")
        if slug in ctx.partnerships:
            raise SeedError(f"{where}: listed twice")
        admin = ctx.site_admin
        contact = _text(entry.get("contact_email"))
        partnership = Partnership(
            slug=slug, created_by_id=admin.id if admin else None, name=_text(entry["name"]),
            place=_text(entry["place"]), description=_text(entry.get("description")),
            contact_email=normalise_email(contact) if contact else None,
        )
        db.session.add(partnership)
        _set_principles(partnership, entry.get("principles"), where)
        db.session.flush()
        ctx.partnerships[slug] = partnership
        ctx.count("partnerships")
        _load_officers(partnership, entry.get("officers"), ctx, where)
        db.session.flush()
        _load_partnership_members(partnership, entry, ctx, where)
    db.session.flush()


# --- Forums -------------------------------------------------------------------------------

_FORUM_FIELDS = {"theme", "tags", "created_days_ago", "convenors", "members", "pending",
                 "threads"}
_POST_FIELDS = {"author", "minutes_ago", "hours_ago", "days_ago", "hidden_reason", "hidden_by"}


@dataclass
class _Roster:
    """Who is in a declared forum, for checking that posts come from its members."""

    joined: dict[int, datetime] = field(default_factory=dict)  # active members (and convenors)
    convenors: list[User] = field(default_factory=list)


@dataclass
class _PostSpec:
    author: User
    body: str
    at: datetime
    hidden_at: datetime | None = None
    hidden_by: User | None = None
    hidden_reason: str = ""


def _days(entry: dict[str, Any], key: str, default: float, where: str) -> timedelta:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise SeedError(f"{where}: {key} should be a number of days (0 or more)")
    return timedelta(days=value)


def _ago(entry: dict[str, Any], where: str) -> timedelta:
    """Exactly one of ``minutes_ago``, ``hours_ago`` or ``days_ago``, as a timedelta."""
    given = [key for key in ("minutes_ago", "hours_ago", "days_ago") if entry.get(key) is not None]
    if len(given) != 1:
        raise SeedError(f"{where}: say when it was written with one of minutes_ago, "
                        "hours_ago or days_ago")
    value = entry[given[0]]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise SeedError(f"{where}: {given[0]} should be a number (0 or more)")
    return timedelta(**{given[0].removesuffix("_ago"): value})


def _forum_values(entry: dict[str, Any], where: str) -> dict[str, Any]:
    """The forum's own fields, checked against the same limits as the forum form."""
    tags = entry.get("tags") or []
    if not isinstance(tags, list) or any("," in str(tag) for tag in tags):
        raise SeedError(f"{where}: tags should be a list of words or phrases, without commas")
    clean_tags = {" ".join(str(tag).lower().split()) for tag in tags if str(tag).strip()}
    values = {
        "name": " ".join(str(entry["name"]).split()),
        "purpose": _text(entry["purpose"]),
        "theme": _text(entry.get("theme")),
        "tags": ",".join(sorted(clean_tags)),
        "membership_policy": _enum(MembershipPolicy, entry["membership_policy"], where),
        "visibility": _enum(Visibility, entry["visibility"], where),
    }
    for key, limit in (("name", NAME_MAX), ("purpose", PURPOSE_MAX), ("theme", THEME_MAX),
                       ("tags", TAGS_MAX)):
        if len(values[key]) > limit:
            raise SeedError(f"{where}: {key} is longer than {limit} characters")
    return values


def _represented(entry: dict[str, Any], user: User, ctx: SeedContext, where: str,
                 *, admin: bool) -> Organisation | None:
    """The organisation a convenor is shown with (they must belong to it) or a member
    represents (they must be its admin, as when joining through the site)."""
    if not entry.get("organisation"):
        return None
    org = ctx.organisation(entry["organisation"], where)
    link = db.session.scalar(
        select(OrganisationMember).where(OrganisationMember.organisation_id == org.id,
                                         OrganisationMember.user_id == user.id)
    )
    if (link is None or link.status is not RequestStatus.ACTIVE
            or (admin and link.role is not MemberRole.ADMIN)):
        needed = "an admin" if admin else "an active member"
        raise SeedError(f"{where}: {user.email} is not {needed} of {org.slug}, "
                        "so cannot represent it")
    return org


def _load_forum_people(
    forum: Forum, entry: dict[str, Any], ctx: SeedContext, where: str,
    started: datetime, anchor: datetime,
) -> _Roster:
    """Convenors (also active members, as the services make them), members and pending
    requests."""
    listed: set[int] = set()
    roster = _Roster()

    def row_for(user: User, pwhere: str) -> ForumMember:
        if user.id in listed:
            raise SeedError(f"{pwhere}: listed twice (convenors are members already)")
        listed.add(user.id)
        row = ForumMember(forum_id=forum.id, user_id=user.id)
        db.session.add(row)
        return row

    for item in _entries(entry.get("convenors"), f"{where}: convenors"):
        cwhere = f"{where}: convenor {item.get('email', '?')}"
        _check_fields(item, {"email"}, {"organisation"}, cwhere)
        user = ctx.user(item["email"], cwhere)
        org = _represented(item, user, ctx, cwhere, admin=False)
        row = row_for(user, cwhere)
        _assign(row, status=ForumMemberStatus.ACTIVE, organisation_id=org.id if org else None,
                introduction="", requested_at=started, decided_at=started, decided_by_id=None,
                reason="")
        forum.convenors.append(ForumConvenor(user_id=user.id,
                                             organisation_id=org.id if org else None))
        roster.joined[user.id] = started
        roster.convenors.append(user)
        ctx.count("forum members")

    # Who let members in: themselves in an open forum, otherwise the first convenor.
    open_forum = forum.membership_policy is MembershipPolicy.OPEN
    for item in _entries(entry.get("members"), f"{where}: members"):
        mwhere = f"{where}: member {item.get('email', '?')}"
        _check_fields(item, {"email"}, {"organisation", "joined_days_ago"}, mwhere)
        user = ctx.user(item["email"], mwhere)
        org = _represented(item, user, ctx, mwhere, admin=True)
        joined = started
        if item.get("joined_days_ago") is not None:
            joined = anchor - _days(item, "joined_days_ago", 0, mwhere)
            if joined < started:
                raise SeedError(f"{mwhere}: joined before the forum started (created_days_ago)")
        row = row_for(user, mwhere)
        _assign(row, status=ForumMemberStatus.ACTIVE, organisation_id=org.id if org else None,
                introduction="", requested_at=joined, decided_at=joined,
                decided_by_id=user.id if open_forum else roster.convenors[0].id, reason="")
        roster.joined[user.id] = joined
        ctx.count("forum members")

    for item in _entries(entry.get("pending"), f"{where}: pending"):
        pwhere = f"{where}: pending {item.get('email', '?')}"
        _check_fields(item, {"email"}, {"organisation", "introduction", "days_ago"}, pwhere)
        if forum.membership_policy is not MembershipPolicy.BY_REQUEST:
            raise SeedError(f"{pwhere}: only by_request forums have requests to join")
        user = ctx.user(item["email"], pwhere)
        org = _represented(item, user, ctx, pwhere, admin=True)
        introduction = _text(item.get("introduction"))
        if len(introduction) > INTRODUCTION_MAX:
            raise SeedError(f"{pwhere}: introduction is longer than {INTRODUCTION_MAX} characters")
        asked = anchor - _days(item, "days_ago", 1, pwhere)
        if asked < started:
            raise SeedError(f"{pwhere}: asked before the forum started (created_days_ago)")
        row = row_for(user, pwhere)
        _assign(row, status=ForumMemberStatus.PENDING, organisation_id=org.id if org else None,
                introduction=introduction, requested_at=asked, decided_at=None,
                decided_by_id=None, reason="")
        ctx.count("requests to join forums")

    return roster


def _post_specs(
    entry: dict[str, Any], author: User, ctx: SeedContext, where: str,
    roster: _Roster, anchor: datetime,
) -> list[_PostSpec]:
    """A thread's posts, checked: members only, in the order written, none before joining."""
    posts = _entries(entry["posts"], f"{where}: posts")
    if not posts:
        raise SeedError(f"{where}: a discussion needs at least its opening post")
    convenor_ids = {user.id for user in roster.convenors}
    specs: list[_PostSpec] = []
    for n, post in enumerate(posts, 1):
        pwhere = f"{where}: post {n}"
        _check_fields(post, {"body"}, _POST_FIELDS, pwhere)
        if n == 1:
            who = ctx.user(post.get("author") or author.email, pwhere)
            if who.id != author.id:
                raise SeedError(f"{pwhere}: the opening post is by the discussion's author")
        elif not post.get("author"):
            raise SeedError(f"{pwhere}: missing author")
        else:
            who = ctx.user(post["author"], pwhere)
        joined = roster.joined.get(who.id)
        if joined is None:
            raise SeedError(f"{pwhere}: {who.email} is not a member of the forum, so cannot post")
        at = anchor - _ago(post, pwhere)
        if at < joined:
            raise SeedError(f"{pwhere}: written before {who.email} joined the forum")
        if specs and at < specs[-1].at:
            raise SeedError(f"{pwhere}: written before the post above it; list posts in order")
        body = _text(post["body"])
        if len(body) > BODY_MAX:
            raise SeedError(f"{pwhere}: body is longer than {BODY_MAX:,} characters")
        spec = _PostSpec(author=who, body=body, at=at)
        reason = _text(post.get("hidden_reason"))
        if post.get("hidden_by") and not reason:
            raise SeedError(f"{pwhere}: hidden_by needs a hidden_reason (the author sees it)")
        if reason:
            hider = (ctx.user(post["hidden_by"], pwhere) if post.get("hidden_by")
                     else roster.convenors[0])
            if hider.id not in convenor_ids:
                raise SeedError(f"{pwhere}: only the forum's convenors hide posts")
            if len(reason) > HIDE_REASON_MAX:
                raise SeedError(f"{pwhere}: hidden_reason is longer than {HIDE_REASON_MAX} "
                                "characters")
            spec.hidden_at = min(at + timedelta(hours=2), anchor)
            spec.hidden_by, spec.hidden_reason = hider, reason
        specs.append(spec)
    return specs


def _add_posts(thread: Thread, specs: list[_PostSpec]) -> list[Post]:
    """The thread's posts in the order written, and the counters its lists rely on."""
    posts = [
        Post(thread_id=thread.id, author_id=spec.author.id, body=spec.body, created_at=spec.at,
             hidden_at=spec.hidden_at, hidden_reason=spec.hidden_reason,
             hidden_by_id=spec.hidden_by.id if spec.hidden_by else None)
        for spec in specs
    ]
    db.session.add_all(posts)
    db.session.flush()
    _assign(thread, reply_count=len(posts) - 1, last_post_id=posts[-1].id,
            last_post_at=specs[-1].at)
    return posts


def _add_thread_states(thread: Thread, specs: list[_PostSpec], posts: list[Post]) -> None:
    """Authors follow the thread and have read up to their own last post, as after
    posting through the site; other demo accounts have no state (so it reads as unread)."""
    last_own: dict[int, int] = {}
    for post, spec in zip(posts, specs, strict=True):
        last_own[spec.author.id] = post.id
    for user_id, post_id in last_own.items():
        db.session.add(ThreadState(user_id=user_id, thread_id=thread.id,
                                   subscription=Subscription.FOLLOWING,
                                   last_read_post_id=post_id))


def _load_threads(
    forum: Forum, section: Any, ctx: SeedContext, where: str, roster: _Roster,
    anchor: datetime,
) -> None:
    titles: set[str] = set()
    for entry in _entries(section, f"{where}: threads"):
        twhere = f"{where}: thread {entry.get('title', '?')!r}"
        _check_fields(entry, {"title", "author", "posts"}, {"pinned", "locked"}, twhere)
        title = " ".join(str(entry["title"]).split())
        if len(title) > TITLE_MAX:
            raise SeedError(f"{twhere}: title is longer than {TITLE_MAX} characters")
        author = ctx.user(entry["author"], twhere)
        specs = _post_specs(entry, author, ctx, twhere, roster, anchor)
        if title in titles:
            raise SeedError(f"{twhere}: listed twice")
        titles.add(title)
        thread = Thread(forum_id=forum.id, title=title, author_id=author.id,
                        pinned=bool(entry.get("pinned")), locked=bool(entry.get("locked")),
                        created_at=specs[0].at)
        db.session.add(thread)
        db.session.flush()
        posts = _add_posts(thread, specs)
        _add_thread_states(thread, specs, posts)
        ctx.count("discussions")
        ctx.count("posts", len(specs))


def _load_forums(section: Any, ctx: SeedContext) -> None:
    for entry in _entries(section, "forums"):
        where = f"forums: {entry.get('slug', '?')}"
        _check_fields(
            entry, {"partnership", "slug", "name", "purpose", "membership_policy", "visibility"},
            _FORUM_FIELDS, where,
        )
        partnership = ctx.partnership(entry["partnership"], where)
        slug = str(entry["slug"])
        if not is_valid_slug(slug) or slug in RESERVED_SLUGS:
            raise SeedError(f"{where}: slugs are lower-case words joined by hyphens (not 'new')")
        if (partnership.slug, slug) in ctx.forums:
            raise SeedError(f"{where}: listed twice")
        convenors = _entries(entry.get("convenors"), f"{where}: convenors")
        if not convenors:
            raise SeedError(f"{where}: a forum needs at least one convenor")
        values = _forum_values(entry, where)
        # See the module docstring: times count back from when the partnership was loaded.
        anchor = partnership.created_at
        started = anchor - _days(entry, "created_days_ago", 180, where)
        creator = ctx.user(convenors[0].get("email"), f"{where}: convenors")
        forum = Forum(partnership_id=partnership.id, slug=slug, created_by_id=creator.id,
                      created_at=started, **values)
        db.session.add(forum)
        db.session.flush()
        ctx.forums[(partnership.slug, slug)] = forum
        ctx.count("forums")
        roster = _load_forum_people(forum, entry, ctx, where, started, anchor)
        db.session.flush()
        _load_threads(forum, entry.get("threads"), ctx, where, roster, anchor)
    db.session.flush()


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
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            for name in inspect(conn).get_table_names():
                conn.execute(DropTable(Table(name, MetaData())))
            conn.commit()
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        else:
            tables = MetaData()
            tables.reflect(bind=conn)
            tables.drop_all(bind=conn)
            conn.commit()
    flask_migrate.upgrade()


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
    data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise SeedError(f"{source}: expected sections such as accounts: and organisations:")
    known = {name for name, _ in SECTIONS}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SeedError(f"{source}: unknown section(s) {', '.join(map(str, unknown))}")
    empty_database()
    ctx = SeedContext()
    # One moment for the whole load: every "now" the loaders (and the columns' defaults)
    # ask for is the same instant, so two loads differ only in when they ran.
    with clock.at(clock.now()):
        for name, loader in SECTIONS:
            loader(data.get(name), ctx)
        db.session.flush()
    return ctx.counts
