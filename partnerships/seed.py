"""The Northbridge demo: load ``seed/northbridge.yaml`` into the database.

Why it works the way it does:

- **Data in YAML, one loader per section.** Later issues extend the demo by adding
  a section to the YAML file and a ``(name, loader)`` pair to ``SECTIONS``. A section
  the loader does not know, or a field an entry does not use, is an error rather
  than being silently ignored, so typos show up at once.
- **Idempotent, and a reset.** Records are matched by natural keys (account email,
  organisation and partnership slug, and the pairs that link them) and brought back
  to what the file says; nothing is duplicated. Links *between two records the file
  declares* that the file does not list (say the demo volunteer asked for Eastside
  Food Bank to join Northbridge Together during a walkthrough) are removed, so
  running the seed again resets the demo. Anything else people created (their own
  accounts, organisations, and their links) is left alone.
- **Demo passwords are reset** to ``demo-partnerships`` on every run, so the
  documented sign-ins always work (changing one signs that account out elsewhere).
  scrypt is slow on purpose, so the password is hashed at most once per run and
  every account shares the hash; an account that already has a hash of the demo
  password keeps it, checked once per distinct hash.
- **Models are written directly**, not through the services: the services check
  that a confirmed person is acting and send emails, and loading a demo is neither.
  No email is queued.
- **Nothing is audited.** The audit log answers "who did what"; the seed is not a
  person's action and only runs outside production (``load_demo`` refuses there as
  well as the CLI). An audit event per run would also make two runs differ.
- **Forum times are fixed, not "now".** Posts say how long ago they were written
  (``minutes_ago``, ``hours_ago`` or ``days_ago``), counted back from an anchor
  that never moves: the moment the forum's partnership was first loaded (its
  ``created_at``, which no run changes). A fresh demo therefore reads as recent,
  and every later run computes exactly the same times, so it changes nothing. A
  fixed date in the file would not do: the demo would look months old, or have
  posts from the future. The forum itself started ``created_days_ago`` before the
  anchor, and members joined then (or ``joined_days_ago``), so threads show as
  unread to demo members who have not read them yet.
- **Forum walkthroughs are reset too.** In a forum the file declares, demo
  accounts' memberships, convenor roles, bans, invitations, posts and thread
  read/follow states that the file does not list are removed or put back (say the
  volunteer joined Health and Wellbeing, or the convenor hid a post). Declared
  threads are matched by title and their posts by author and text, in order; a
  thread a demo account started during a walkthrough is removed unless someone
  else has replied to it. Forums not in the file, and everything people outside the
  demo wrote or joined, are left alone. Thread counters count every post.
- The caller commits (the ``flask seed demo`` command does); this module flushes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from flask import current_app
from sqlalchemy import delete, func, or_, select

from .accounts.models import User, new_session_token
from .accounts.passwords import hash_password, verify_password
from .accounts.services import normalise_email
from .extensions import db
from .forums.discussions import BODY_MAX, TITLE_MAX
from .forums.discussions import REASON_MAX as HIDE_REASON_MAX
from .forums.models import (
    Forum,
    ForumBan,
    ForumConvenor,
    ForumInvitation,
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
    _RESERVED_SLUGS as RESERVED_FORUM_SLUGS,  # the same rule as the "create a forum" form
)
from .forums.services import (
    INTRODUCTION_MAX,
    NAME_MAX,
    PURPOSE_MAX,
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
from .places.models import (
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
    _verified: dict[str, bool] = field(default_factory=dict)

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

    def has_demo_password(self, user: User) -> bool:
        """Whether the account's password is the demo one (one scrypt per distinct hash)."""
        current = user.password_hash
        if not current:
            return False
        if current == self._hash:
            return True
        if current not in self._verified:
            self._verified[current] = verify_password(current, DEMO_PASSWORD)
            if self._verified[current] and self._hash is None:
                self._hash = current  # reuse it for new accounts instead of hashing again
        return self._verified[current]


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
    """Set only what differs, so a re-run does not touch ``updated_at``."""
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)


def _delete_undeclared(existing: dict[int, Any], declared: Iterable[int], keep: set[int]) -> None:
    """Remove links to declared records that the file no longer lists (see the docstring)."""
    for key in set(declared) - keep:
        if key in existing:
            db.session.delete(existing[key])


# --- Sections -----------------------------------------------------------------------------


def _load_accounts(section: Any, ctx: SeedContext) -> None:
    for entry in _entries(section, "accounts"):
        where = f"accounts: {entry.get('email', '?')}"
        _check_fields(entry, {"name", "email"}, {"site_admin", "confirmed"}, where)
        email = normalise_email(str(entry["email"]))
        if email in ctx.users:
            raise SeedError(f"{where}: listed twice")
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, name=_text(entry["name"]), password_hash=ctx.password_hash())
            db.session.add(user)
        elif not ctx.has_demo_password(user):
            user.password_hash = ctx.password_hash()
            user.session_token = new_session_token()
        _assign(user, name=_text(entry["name"]), is_site_admin=bool(entry.get("site_admin")))
        if not entry.get("confirmed", True):
            _assign(user, email_confirmed_at=None)
        elif user.email_confirmed_at is None:
            user.email_confirmed_at = utcnow()
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
    declared_users = {user.id for user in ctx.users.values()}
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
        org = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
        if org is None:
            first_admin = next((m for m in members if m.get("role") == "admin"), None)
            creator = ctx.user(first_admin["email"], where) if first_admin else None
            org = Organisation(slug=slug, created_by_id=creator.id if creator else None)
            db.session.add(org)
        _assign(org, **values)
        db.session.flush()
        ctx.organisations[slug] = org
        ctx.count("organisations")

        existing = {
            link.user_id: link
            for link in db.session.scalars(
                select(OrganisationMember).where(OrganisationMember.organisation_id == org.id)
            )
        }
        keep: set[int] = set()
        for member in members:
            mwhere = f"{where}: member {member.get('email', '?')}"
            _check_fields(member, {"email", "role"}, {"job_title", "status", "message"}, mwhere)
            user = ctx.user(member["email"], mwhere)
            role = _enum(MemberRole, member["role"], mwhere)
            status = _enum(RequestStatus, member.get("status", "active"), mwhere)
            if status not in (RequestStatus.ACTIVE, RequestStatus.PENDING):
                raise SeedError(f"{mwhere}: status must be active or pending")
            link = existing.get(user.id)
            if link is None:
                link = OrganisationMember(organisation_id=org.id, user_id=user.id)
                db.session.add(link)
            was = link.status
            _assign(
                link, role=role if status is RequestStatus.ACTIVE else MemberRole.MEMBER,
                status=status, job_title=_text(member.get("job_title")),
                message=_text(member.get("message")), decline_reason="",
            )
            if status is RequestStatus.PENDING:
                _assign(link, decided_at=None, decided_by_id=None)
                ctx.count("requests to join organisations")
            else:
                if link.decided_at is None or was is not RequestStatus.ACTIVE:
                    link.decided_at = utcnow()
                ctx.count("organisation members")
            keep.add(user.id)
        _delete_undeclared(existing, declared_users, keep)
    db.session.flush()


_PARTNERSHIP_FIELDS = {"description", "contact_email", "principles", "officers", "members",
                       "pending"}


def _set_principles(partnership: Partnership, values: Any, where: str) -> None:
    if not isinstance(values or [], list):
        raise SeedError(f"{where}: principles should be a list")
    wanted = {_enum(Principle, value, where) for value in values or []}
    have = {row.principle for row in partnership.principle_rows}
    for row in list(partnership.principle_rows):
        if row.principle not in wanted:
            partnership.principle_rows.remove(row)
    for principle in sorted(wanted - have, key=list(Principle).index):
        partnership.principle_rows.append(PartnershipPrinciple(principle=principle))


def _load_officers(partnership: Partnership, officers: Any, ctx: SeedContext, where: str) -> None:
    existing = {
        row.user_id: row
        for row in db.session.scalars(
            select(PartnershipOfficer).where(PartnershipOfficer.partnership_id == partnership.id)
        )
    }
    keep: set[int] = set()
    admin = ctx.site_admin
    for entry in _entries(officers, f"{where}: officers"):
        owhere = f"{where}: officer {entry.get('email', '?')}"
        _check_fields(entry, {"email", "role_title"}, {"organisation"}, owhere)
        user = ctx.user(entry["email"], owhere)
        org = ctx.organisation(entry["organisation"], owhere) if entry.get("organisation") else None
        row = existing.get(user.id)
        if row is None:
            row = PartnershipOfficer(
                partnership_id=partnership.id, user_id=user.id,
                appointed_by_id=admin.id if admin else None,
            )
            db.session.add(row)
        _assign(row, role_title=_text(entry["role_title"]),
                organisation_id=org.id if org else None)
        keep.add(user.id)
        ctx.count("partnership officers")
    _delete_undeclared(existing, (user.id for user in ctx.users.values()), keep)


def _load_partnership_members(
    partnership: Partnership, entry: dict[str, Any], ctx: SeedContext, where: str
) -> None:
    members = entry.get("members") or []
    if not isinstance(members, list):
        raise SeedError(f"{where}: members should be a list of organisation slugs")
    pending = _entries(entry.get("pending"), f"{where}: pending")
    existing = {
        row.organisation_id: row
        for row in db.session.scalars(
            select(PartnershipMember).where(PartnershipMember.partnership_id == partnership.id)
        )
    }
    first_officer = db.session.scalar(
        select(PartnershipOfficer.user_id)
        .where(PartnershipOfficer.partnership_id == partnership.id)
        .order_by(PartnershipOfficer.id)
    )
    keep: set[int] = set()

    def row_for(org: Organisation, mwhere: str) -> PartnershipMember:
        if org.id in keep:
            raise SeedError(f"{mwhere}: listed twice")
        keep.add(org.id)
        row = existing.get(org.id)
        if row is None:
            row = PartnershipMember(partnership_id=partnership.id, organisation_id=org.id)
            db.session.add(row)
        return row

    for slug in members:
        org = ctx.organisation(slug, f"{where}: members")
        row = row_for(org, f"{where}: member {slug}")
        now = utcnow()
        if row.status is not RequestStatus.ACTIVE or row.decided_at is None:
            row.decided_at = now
        _assign(row, status=RequestStatus.ACTIVE, decided_by_id=first_officer, decline_reason="")
        if row.requested_at is None:
            row.requested_at = now
        ctx.count("partnership members")

    for request in pending:
        pwhere = f"{where}: pending {request.get('organisation', '?')}"
        _check_fields(request, {"organisation", "requested_by"}, {"message"}, pwhere)
        org = ctx.organisation(request["organisation"], pwhere)
        user = ctx.user(request["requested_by"], pwhere)
        row = row_for(org, pwhere)
        if row.status is not RequestStatus.PENDING or row.requested_at is None:
            row.requested_at = utcnow()
        _assign(
            row, status=RequestStatus.PENDING, message=_text(request.get("message")),
            requested_by_id=user.id, decided_by_id=None, decided_at=None, decline_reason="",
        )
        ctx.count("requests to join partnerships")

    _delete_undeclared(existing, (org.id for org in ctx.organisations.values()), keep)


def _load_partnerships(section: Any, ctx: SeedContext) -> None:
    for entry in _entries(section, "partnerships"):
        where = f"partnerships: {entry.get('slug', '?')}"
        _check_fields(entry, {"name", "slug", "place"}, _PARTNERSHIP_FIELDS, where)
        slug = str(entry["slug"])
        if not is_valid_slug(slug):
            raise SeedError(f"{where}: slugs are lower-case words joined by hyphens")
        if slug in ctx.partnerships:
            raise SeedError(f"{where}: listed twice")
        partnership = db.session.scalar(select(Partnership).where(Partnership.slug == slug))
        if partnership is None:
            admin = ctx.site_admin
            partnership = Partnership(slug=slug, created_by_id=admin.id if admin else None)
            db.session.add(partnership)
        contact = _text(entry.get("contact_email"))
        _assign(
            partnership, name=_text(entry["name"]), place=_text(entry["place"]),
            description=_text(entry.get("description")),
            contact_email=normalise_email(contact) if contact else None,
        )
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
    requests; demo accounts' other memberships, convenor roles, bans and invitations
    in this forum are walkthrough leftovers and go."""
    declared = {user.id for user in ctx.users.values()}
    existing = {
        row.user_id: row
        for row in db.session.scalars(select(ForumMember).where(ForumMember.forum_id == forum.id))
    }
    listed: set[int] = set()
    roster = _Roster()

    def row_for(user: User, pwhere: str) -> ForumMember:
        if user.id in listed:
            raise SeedError(f"{pwhere}: listed twice (convenors are members already)")
        listed.add(user.id)
        row = existing.get(user.id)
        if row is None:
            row = ForumMember(forum_id=forum.id, user_id=user.id)
            db.session.add(row)
        return row

    convenor_rows = {row.user_id: row for row in forum.convenors}
    for item in _entries(entry.get("convenors"), f"{where}: convenors"):
        cwhere = f"{where}: convenor {item.get('email', '?')}"
        _check_fields(item, {"email"}, {"organisation"}, cwhere)
        user = ctx.user(item["email"], cwhere)
        org = _represented(item, user, ctx, cwhere, admin=False)
        row = row_for(user, cwhere)
        _assign(row, status=ForumMemberStatus.ACTIVE, organisation_id=org.id if org else None,
                introduction="", requested_at=started, decided_at=started, decided_by_id=None,
                reason="")
        convenor = convenor_rows.get(user.id)
        if convenor is None:
            convenor = ForumConvenor(user_id=user.id)
            forum.convenors.append(convenor)
        _assign(convenor, organisation_id=org.id if org else None)
        roster.joined[user.id] = started
        roster.convenors.append(user)
        ctx.count("forum members")
    wanted = {user.id for user in roster.convenors}
    for convenor in list(forum.convenors):
        if convenor.user_id in declared and convenor.user_id not in wanted:
            forum.convenors.remove(convenor)

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

    _delete_undeclared(existing, declared, listed)
    for leftover in (
        *db.session.scalars(select(ForumBan).where(ForumBan.forum_id == forum.id,
                                                   ForumBan.user_id.in_(declared))),
        *db.session.scalars(select(ForumInvitation).where(
            ForumInvitation.forum_id == forum.id, ForumInvitation.invited_by_id.in_(declared))),
    ):
        db.session.delete(leftover)
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


def _sync_posts(thread: Thread, specs: list[_PostSpec], declared: set[int]) -> list[Post]:
    """Bring the demo accounts' posts in a declared thread back to the file, in order.

    The demo posts are walked in id order and kept while they match the next post in
    the file; any that do not (a walkthrough reply, or text since changed in the file)
    are removed and the rest of the file's posts added after them, so ids stay in
    the order the posts were written. Posts by anyone else are left alone.
    """
    matched: list[Post] = []
    for post in db.session.scalars(
        select(Post).where(Post.thread_id == thread.id, Post.author_id.in_(declared))
        .order_by(Post.id)
    ):
        n = len(matched)
        if n < len(specs) and (post.author_id, post.body) == (specs[n].author.id, specs[n].body):
            matched.append(post)
        else:
            db.session.delete(post)
    for spec in specs[len(matched):]:
        post = Post(thread_id=thread.id, author_id=spec.author.id, body=spec.body)
        db.session.add(post)
        matched.append(post)
    for post, spec in zip(matched, specs, strict=True):
        _assign(post, created_at=spec.at, edited_at=None, hidden_at=spec.hidden_at,
                hidden_by_id=spec.hidden_by.id if spec.hidden_by else None,
                hidden_reason=spec.hidden_reason)
    db.session.flush()
    # The counters the thread lists rely on, over every post (including other people's).
    count, last_id = db.session.execute(
        select(func.count(Post.id), func.max(Post.id)).where(Post.thread_id == thread.id)
    ).one()
    last_at = db.session.scalar(select(Post.created_at).where(Post.id == last_id))
    _assign(thread, reply_count=count - 1, last_post_id=last_id, last_post_at=last_at)
    return matched


def _sync_thread_states(
    thread: Thread, specs: list[_PostSpec], posts: list[Post], declared: set[int]
) -> None:
    """Authors follow the thread and have read up to their own last post, as after
    posting through the site; other demo accounts have no state (so it reads as unread)."""
    last_own: dict[int, int] = {}
    for post, spec in zip(posts, specs, strict=True):
        last_own[spec.author.id] = post.id
    existing = {
        state.user_id: state
        for state in db.session.scalars(
            select(ThreadState).where(ThreadState.thread_id == thread.id)
        )
    }
    for user_id, post_id in last_own.items():
        state = existing.get(user_id)
        if state is None:
            state = ThreadState(user_id=user_id, thread_id=thread.id)
            db.session.add(state)
        _assign(state, subscription=Subscription.FOLLOWING, last_read_post_id=post_id)
    _delete_undeclared(existing, declared, set(last_own))


def _delete_walkthrough_threads(forum: Forum, kept: set[int], declared: set[int]) -> None:
    """Threads demo accounts started in a declared forum that the file does not list,
    unless someone outside the demo (or a deleted account) has posted in them."""
    others_posted = (
        select(Post.id)
        .where(Post.thread_id == Thread.id,
               or_(Post.author_id.is_(None), Post.author_id.not_in(declared)))
        .exists()
    )
    ids = list(db.session.scalars(
        select(Thread.id).where(Thread.forum_id == forum.id, Thread.id.not_in(kept),
                                Thread.author_id.in_(declared), ~others_posted)
    ))
    if ids:
        db.session.execute(delete(ThreadState).where(ThreadState.thread_id.in_(ids)))
        db.session.execute(delete(Post).where(Post.thread_id.in_(ids)))
        db.session.execute(delete(Thread).where(Thread.id.in_(ids)))


def _load_threads(
    forum: Forum, section: Any, ctx: SeedContext, where: str, roster: _Roster,
    anchor: datetime,
) -> None:
    declared = {user.id for user in ctx.users.values()}
    existing: dict[str, Thread] = {}
    for thread in db.session.scalars(
        select(Thread).where(Thread.forum_id == forum.id).order_by(Thread.id)
    ):
        existing.setdefault(thread.title, thread)
    kept: set[int] = set()
    for entry in _entries(section, f"{where}: threads"):
        twhere = f"{where}: thread {entry.get('title', '?')!r}"
        _check_fields(entry, {"title", "author", "posts"}, {"pinned", "locked"}, twhere)
        title = " ".join(str(entry["title"]).split())
        if len(title) > TITLE_MAX:
            raise SeedError(f"{twhere}: title is longer than {TITLE_MAX} characters")
        author = ctx.user(entry["author"], twhere)
        specs = _post_specs(entry, author, ctx, twhere, roster, anchor)
        thread = existing.get(title)
        if thread is None:
            thread = Thread(forum_id=forum.id, title=title)
            db.session.add(thread)
        _assign(thread, author_id=author.id, pinned=bool(entry.get("pinned")),
                locked=bool(entry.get("locked")), created_at=specs[0].at)
        db.session.flush()
        if thread.id in kept:
            raise SeedError(f"{twhere}: listed twice")
        kept.add(thread.id)
        posts = _sync_posts(thread, specs, declared)
        _sync_thread_states(thread, specs, posts, declared)
        ctx.count("discussions")
        ctx.count("posts", len(specs))
    _delete_walkthrough_threads(forum, kept, declared)


def _load_forums(section: Any, ctx: SeedContext) -> None:
    for entry in _entries(section, "forums"):
        where = f"forums: {entry.get('slug', '?')}"
        _check_fields(
            entry, {"partnership", "slug", "name", "purpose", "membership_policy", "visibility"},
            _FORUM_FIELDS, where,
        )
        partnership = ctx.partnership(entry["partnership"], where)
        slug = str(entry["slug"])
        if not is_valid_slug(slug) or slug in RESERVED_FORUM_SLUGS:
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
        forum = db.session.scalar(
            select(Forum).where(Forum.partnership_id == partnership.id, Forum.slug == slug)
        )
        if forum is None:
            creator = ctx.user(convenors[0].get("email"), f"{where}: convenors")
            forum = Forum(partnership_id=partnership.id, slug=slug, created_by_id=creator.id)
            db.session.add(forum)
        _assign(forum, created_at=started, **values)
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


def load_demo(path: Path | None = None) -> dict[str, int]:
    """Load (or bring back) the Northbridge demo and return how many of each thing it holds.

    Refuses to run when the app is configured for production: the demo's accounts
    have a published password.
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
    ctx = SeedContext()
    for name, loader in SECTIONS:
        loader(data.get(name), ctx)
    db.session.flush()
    return ctx.counts
