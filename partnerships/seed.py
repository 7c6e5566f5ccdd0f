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
- The caller commits (the ``flask seed demo`` command does); this module flushes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from flask import current_app
from sqlalchemy import select

from .accounts.models import User, new_session_token
from .accounts.passwords import hash_password, verify_password
from .accounts.services import normalise_email
from .extensions import db
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


SeedLoader = Callable[[Any, SeedContext], None]

# In load order: each section may refer to what the sections before it loaded.
SECTIONS: list[tuple[str, SeedLoader]] = [
    ("accounts", _load_accounts),
    ("organisations", _load_organisations),
    ("partnerships", _load_partnerships),
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
