"""Partnership rules: create and edit partnerships, appoint officers, and decide
which organisations become members.

Only the site administrator creates partnerships and appoints officers. An admin of
an organisation asks for it to join; an officer approves, or declines with a reason
that the organisation's admins see.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from flask import url_for
from sqlalchemy import (
    Integer,
    String,
    bindparam,
    case,
    func,
    literal,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from .. import audit, conditional, mail, permissions
from ..accounts.models import User
from ..accounts.services import find_by_email
from ..errors import PermissionDenied, ValidationError
from ..extensions import db
from ..mail.kinds import Kind
from ..meetings import registrations as meeting_registrations
from ..membership import JoinRequests
from ..organisations.models import (
    IncomeBand,
    MemberRole,
    Organisation,
    OrganisationMember,
    OrgType,
    RequestStatus,
    Sector,
)
from ..slugs import MAX_SLUG, is_valid_slug, unique_slug
from . import listing
from .models import (
    CONTACT_EMAIL_MAX,
    MESSAGE_MAX,
    NAME_MAX,
    NOTICE_DAYS_MAX,
    PLACE_MAX,
    REASON_MAX,
    ROLE_TITLE_MAX,
    Partnership,
    PartnershipMember,
    PartnershipOfficer,
    PartnershipPrinciple,
    Principle,
)

# Organisations' requests to join: the shared rules (``membership``), with this domain's
# words.
JOIN_REQUESTS = JoinRequests(
    PartnershipMember, PartnershipMember.partnership_id, RequestStatus, "decline_reason",
    already_decided="This request has already been decided, perhaps by another officer.",
    reason_required="Enter a reason for declining, so the organisation knows why",
    reason_max=REASON_MAX, reason_too_long=f"The reason must be {REASON_MAX} characters or fewer")


@dataclass
class PartnershipDetails:
    name: str
    slug: str
    place: str
    description: str = ""
    contact_email: str = ""
    principles: list[Principle] = field(default_factory=list)
    # Clear working days of agenda notice for the partnership's own meetings; None
    # keeps what it is (5 for a new partnership).
    notice_days: int | None = None


@dataclass(frozen=True)
class MemberOrganisation:
    """A member organisation as the partnership page lists it."""

    slug: str
    name: str
    org_type: OrgType
    income_band: IncomeBand

    @property
    def is_small(self) -> bool | None:
        return self.income_band.is_small


@dataclass
class SectorGroup:
    """Member organisations of one sector, for the public page's "who takes part":
    how many (``total``, ``small_count``) and the first of them by name (``members``)."""

    key: str
    label: str
    members: list[MemberOrganisation]
    total: int = 0
    small_count: int = 0

    @property
    def more(self) -> int:
        """How many are not in ``members``."""
        return self.total - len(self.members)


# Public sector, VCSE, then everyone else (private sector and "other" together).
SECTOR_GROUPS: list[tuple[str, str]] = [
    ("public", "Public sector"),
    ("vcse", "Voluntary, community and social enterprise (VCSE)"),
    ("other", "Other organisations"),
]


# --- Reading ---------------------------------------------------------------------


def list_partnerships(limit: int | None = None) -> list[Partnership]:
    """Every partnership by name, with principles loaded (one extra query in all)."""
    stmt = (
        select(Partnership)
        .order_by(func.lower(Partnership.name))
        .options(selectinload(Partnership.principle_rows))
    )
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


@dataclass(frozen=True)
class PartnershipLink:
    """What a link to a partnership shows: its name and place."""

    slug: str
    name: str
    place: str


def partnership_links(limit: int) -> list[PartnershipLink]:
    """The first ``limit`` partnerships by name, as links (the home page): one query
    for three columns, not whole rows with their principles."""
    rows = db.session.execute(
        select(Partnership.slug, Partnership.name, Partnership.place)
        .order_by(func.lower(Partnership.name)).limit(limit))
    return [PartnershipLink(*row) for row in rows.tuples()]


def member_counts() -> dict[int, int]:
    """Active member organisations per partnership id, in one query."""
    rows = db.session.execute(
        select(PartnershipMember.partnership_id, func.count(PartnershipMember.id))
        .where(PartnershipMember.status == RequestStatus.ACTIVE)
        .group_by(PartnershipMember.partnership_id)
    )
    return dict(rows.tuples().all())


def pending_counts() -> dict[int, int]:
    """Requests waiting for a decision per partnership id, in one query (admin dashboard)."""
    return JOIN_REQUESTS.waiting_counts()


def pending_count(partnership: Partnership) -> int:
    return JOIN_REQUESTS.waiting_counts([partnership.id]).get(partnership.id, 0)


@cache
def _by_slug_statement() -> Any:
    """``get_by_slug``'s statement (parameter ``slug``), built once: building it and
    its cache key cost about as much as running it, on most pages."""
    return (select(Partnership).where(Partnership.slug == bindparam("slug"))
            .options(joinedload(Partnership.principle_rows)))


def get_by_slug(slug: str) -> Partnership | None:
    """The partnership with its principles, in one query (every page shows them)."""
    return db.session.execute(_by_slug_statement(), {"slug": slug}).unique().scalar_one_or_none()


def active_members(partnership: Partnership) -> list[PartnershipMember]:
    """The partnership's member organisations, by name, in one query."""
    return JOIN_REQUESTS.by_name(PartnershipMember.partnership_id == partnership.id,
                                 PartnershipMember.organisation)


def active_partnerships(organisation: Organisation) -> list[PartnershipMember]:
    """The partnerships this organisation is an active member of, by name, in one query."""
    return JOIN_REQUESTS.by_name(PartnershipMember.organisation_id == organisation.id,
                                 PartnershipMember.partnership)


def sector_key(sector: Sector) -> str:
    return sector.value if sector in (Sector.PUBLIC, Sector.VCSE) else "other"


def _sector_of_type() -> Any:
    """SQL: the ``SECTOR_GROUPS`` key of ``Organisation.org_type``."""
    return case(*[(Organisation.org_type.in_([t for t in OrgType if t.sector is sector]),
                   sector.value) for sector in (Sector.PUBLIC, Sector.VCSE)], else_="other")


# The public page lists this many member organisations of each sector, by name; the
# members page (``members_page``) lists them all, a page at a time.
SHOWN_PER_SECTOR = 10
MEMBERS_PER_PAGE = 50


@cache
def _member_overview_statement(shown: int) -> Any:
    """``member_overview``'s one query (parameter ``partnership_id``), built once: a
    row per sector with its count and its small ones, then up to ``shown`` rows of
    each sector's first members by name. Every part reads the index
    ``ix_partnership_members_listing`` in its order (``listing.py``), the first of a
    sector as its next ``shown`` entries, so the query's cost hardly grows with the
    partnership (the counts are one index-only scan)."""
    active = (PartnershipMember.partnership_id == bindparam("partnership_id"),
              PartnershipMember.status == RequestStatus.ACTIVE)
    none = literal(None, String)
    counts = (
        select(PartnershipMember.sector.label("sector"), func.count().label("n"),
               func.sum(case((PartnershipMember.is_small, 1), else_=0)).label("smalls"),
               none.label("slug"), none.label("name"), none.label("org_type"),
               none.label("income_band"), none.label("sort_name"),
               literal(None, Integer).label("organisation_id"))
        .where(*active).group_by(PartnershipMember.sector))
    parts: list[Any] = [counts]
    for key in listing.SECTOR_KEYS:
        first = (
            select(PartnershipMember.sector, literal(None, Integer), literal(None, Integer),
                   Organisation.slug, Organisation.name,
                   # The two enums as stored (a dict lookup each below, not SQLAlchemy's
                   # per-value check).
                   type_coerce(Organisation.org_type, String),
                   type_coerce(Organisation.income_band, String),
                   PartnershipMember.sort_name, PartnershipMember.organisation_id)
            .join(Organisation, Organisation.id == PartnershipMember.organisation_id)
            .where(*active, PartnershipMember.sector == key)
            .order_by(PartnershipMember.sort_name, PartnershipMember.organisation_id)
            .limit(shown).subquery(f"first_{key}"))
        parts.append(select(first))
    return union_all(*parts)


def member_overview(partnership: Partnership,
                    shown: int = SHOWN_PER_SECTOR) -> list[SectorGroup]:
    """The public page's "who takes part", in one query: per sector, how many members
    and how many small ones, and the first ``shown`` by name (``listing.py`` keeps each
    membership's copy of what this reads of its organisation)."""
    rows = db.session.execute(_member_overview_statement(shown),
                              {"partnership_id": partnership.id}).tuples().all()
    types = {org_type.value: org_type for org_type in OrgType}
    groups = {key: SectorGroup(key, label, []) for key, label in SECTOR_GROUPS}
    firsts: dict[str, list[tuple[str, int, MemberOrganisation]]] = {key: [] for key in groups}
    for sector, n, smalls, slug, name, org_type, income_band, sort_name, org_id in rows:
        if n is not None:
            groups[sector].total = n
            groups[sector].small_count = smalls or 0
        else:
            firsts[sector].append((sort_name, org_id, MemberOrganisation(
                slug, name, types[org_type], IncomeBand(income_band))))
    for key, group in groups.items():
        # A UNION ALL need not keep its parts' order: put each sector's back in order.
        group.members = [member for *_key, member in sorted(firsts[key],
                                                            key=lambda f: (f[0], f[1]))]
    return list(groups.values())


def members_page(partnership: Partnership, sector: str | None = None,
                 page: int = 1) -> tuple[list[PartnershipMember], int]:
    """One page of the partnership's member organisations by name (of one
    ``SECTOR_GROUPS`` sector, if given), and how many there are."""
    conditions = [PartnershipMember.partnership_id == partnership.id,
                  PartnershipMember.status == RequestStatus.ACTIVE]
    if sector is not None:
        conditions.append(_sector_of_type() == sector)
    total = db.session.scalar(
        select(func.count(PartnershipMember.id))
        .join(Organisation, Organisation.id == PartnershipMember.organisation_id)
        .where(*conditions)) or 0
    members = list(db.session.scalars(
        select(PartnershipMember)
        .join(Organisation, Organisation.id == PartnershipMember.organisation_id)
        .where(*conditions)
        .order_by(Organisation.sort_name, Organisation.id)
        .limit(MEMBERS_PER_PAGE).offset((max(page, 1) - 1) * MEMBERS_PER_PAGE)
        .options(contains_eager(PartnershipMember.organisation))))
    return members, total


def officers(partnership: Partnership) -> list[PartnershipOfficer]:
    return list(db.session.scalars(_officers_statement(), {"partnership_id": partnership.id}))


@cache
def _officers_statement() -> Any:
    """``officers``' statement (parameter ``partnership_id``), built once."""
    return (select(PartnershipOfficer)
            .join(User, User.id == PartnershipOfficer.user_id)
            .where(PartnershipOfficer.partnership_id == bindparam("partnership_id"),
                   User.deleted_at.is_(None))
            .order_by(func.lower(User.name))
            .options(joinedload(PartnershipOfficer.user),
                     joinedload(PartnershipOfficer.organisation)))


def get_officer(partnership: Partnership, officer_id: int) -> PartnershipOfficer | None:
    return db.session.scalar(
        select(PartnershipOfficer)
        .where(PartnershipOfficer.id == officer_id,
               PartnershipOfficer.partnership_id == partnership.id)
        .options(joinedload(PartnershipOfficer.user))
    )


def pending_requests(partnership: Partnership) -> list[PartnershipMember]:
    return JOIN_REQUESTS.waiting(partnership.id, joinedload(PartnershipMember.organisation),
                                 joinedload(PartnershipMember.requested_by))


def decided_requests(partnership: Partnership) -> list[PartnershipMember]:
    """Requests already approved or declined, newest decision first (the officers' history)."""
    return list(
        db.session.scalars(
            select(PartnershipMember)
            .where(PartnershipMember.partnership_id == partnership.id,
                   PartnershipMember.status.in_([RequestStatus.ACTIVE, RequestStatus.DECLINED]),
                   PartnershipMember.decided_at.is_not(None))
            .order_by(PartnershipMember.decided_at.desc(), PartnershipMember.id.desc())
            .options(joinedload(PartnershipMember.organisation),
                     joinedload(PartnershipMember.requested_by),
                     joinedload(PartnershipMember.decided_by))
        )
    )


def get_request(partnership: Partnership, member_id: int) -> PartnershipMember | None:
    """One membership row of this partnership (any state), for approve/decline."""
    return JOIN_REQUESTS.one(partnership.id, member_id,
                             joinedload(PartnershipMember.organisation))


def membership_of(partnership: Partnership, organisation: Organisation) -> PartnershipMember | None:
    return db.session.scalar(
        select(PartnershipMember).where(
            PartnershipMember.partnership_id == partnership.id,
            PartnershipMember.organisation_id == organisation.id,
        )
    )


def memberships_in(
    partnership: Partnership, organisations: Iterable[Organisation]
) -> dict[int, PartnershipMember]:
    """These organisations' links to the partnership by organisation id, in one query."""
    org_ids = [org.id for org in organisations]
    if not org_ids:
        return {}
    rows = db.session.scalars(
        select(PartnershipMember).where(
            PartnershipMember.partnership_id == partnership.id,
            PartnershipMember.organisation_id.in_(org_ids),
        )
    )
    return {row.organisation_id: row for row in rows}


def can_still_ask(link: PartnershipMember | None) -> bool:
    """An organisation may ask to join unless it is a member or already waiting."""
    return link is None or link.status in (RequestStatus.DECLINED, RequestStatus.LEFT)


def memberships_for_organisations(org_ids: list[int]) -> list[PartnershipMember]:
    """Partnership links of these organisations (for an admin's "your organisations" page)."""
    if not org_ids:
        return []
    return list(
        db.session.scalars(
            select(PartnershipMember)
            .where(PartnershipMember.organisation_id.in_(org_ids),
                   PartnershipMember.status != RequestStatus.LEFT)
            .options(joinedload(PartnershipMember.partnership),
                     joinedload(PartnershipMember.organisation))
            .order_by(PartnershipMember.updated_at.desc())
        )
    )


# --- Creating and editing --------------------------------------------------------


def _clean(details: PartnershipDetails, exclude_id: int | None = None) -> dict[str, object]:
    name = details.name.strip()
    slug = details.slug.strip().lower()
    place = details.place.strip()
    contact_email = details.contact_email.strip().lower()
    if not name:
        raise ValidationError("Enter the partnership's name", field="name")
    if len(name) > NAME_MAX:
        raise ValidationError(f"Name must be {NAME_MAX} characters or fewer", field="name")
    if not is_valid_slug(slug):
        raise ValidationError(
            "Web address must be lower-case letters, numbers and hyphens, like "
            f"northbridge-together, and {MAX_SLUG} characters or fewer",
            field="slug",
        )
    taken = db.session.scalar(
        select(Partnership.id).where(
            Partnership.slug == slug, *([Partnership.id != exclude_id] if exclude_id else [])
        )
    )
    if taken is not None:
        raise ValidationError("Another partnership already uses this web address", field="slug")
    if not place:
        raise ValidationError("Enter the place the partnership covers", field="place")
    if len(place) > PLACE_MAX:
        raise ValidationError(f"Place must be {PLACE_MAX} characters or fewer", field="place")
    if contact_email and ("@" not in contact_email or len(contact_email) > CONTACT_EMAIL_MAX):
        raise ValidationError(
            "Enter a contact email address in the correct format, like forum@example.org",
            field="contact_email",
        )
    values: dict[str, object] = {
        "name": name,
        "slug": slug,
        "place": place,
        "description": details.description.strip(),
        "contact_email": contact_email or None,
    }
    if details.notice_days is not None:
        if not 0 <= details.notice_days <= NOTICE_DAYS_MAX:
            raise ValidationError(f"Agenda notice must be from 0 to {NOTICE_DAYS_MAX} clear "
                                  "working days", field="notice_days")
        values["notice_days"] = details.notice_days
    return values


def _set_principles(partnership: Partnership, principles: Iterable[Principle]) -> None:
    wanted = set(principles)
    current = {row.principle: row for row in partnership.principle_rows}
    for principle, row in current.items():
        if principle not in wanted:
            partnership.principle_rows.remove(row)
    for principle in wanted - set(current):
        partnership.principle_rows.append(PartnershipPrinciple(principle=principle))


def suggest_slug(name: str) -> str:
    """A free web address made from the name (used when the administrator leaves it blank)."""
    return unique_slug(Partnership, name)


def create_partnership(actor: User, details: PartnershipDetails) -> Partnership:
    if not permissions.can_create_partnership(actor):
        raise PermissionDenied("Only a site administrator can create partnerships.")
    if not details.slug.strip() and details.name.strip():
        details = replace(details, slug=suggest_slug(details.name))
    partnership = Partnership(created_by_id=actor.id, **_clean(details))
    _set_principles(partnership, details.principles)
    db.session.add(partnership)
    db.session.flush()
    audit.record(actor, "partnership.created", "partnership", partnership.id,
                 name=partnership.name)
    return partnership


def update_partnership(actor: User, partnership: Partnership, details: PartnershipDetails) -> None:
    if not permissions.can_manage_partnership(actor, partnership):
        raise PermissionDenied("Only the partnership's officers can change its details.")
    values = _clean(details, exclude_id=partnership.id)
    if values["slug"] != partnership.slug and not permissions.is_site_admin(actor):
        raise ValidationError("Only a site administrator can change the web address",
                              field="slug")
    changed = [key for key, value in values.items() if getattr(partnership, key) != value]
    for key in changed:
        setattr(partnership, key, values[key])
    if set(details.principles) != set(partnership.principles):
        changed.append("principles")
    _set_principles(partnership, details.principles)
    db.session.flush()
    if changed:
        audit.record(actor, "partnership.updated", "partnership", partnership.id, fields=changed)


# --- Officers --------------------------------------------------------------------


def appoint_officer(
    actor: User, partnership: Partnership, email: str, role_title: str,
    organisation: Organisation | None = None,
) -> PartnershipOfficer:
    """Make an existing account an officer of the partnership."""
    if not permissions.can_appoint_officers(actor, partnership):
        raise PermissionDenied("Only a site administrator can appoint partnership officers.")
    user = find_by_email(email)
    if user is None or not user.is_active:
        raise ValidationError(
            "There is no account with this email address. Ask the person to create an account "
            "first.", field="email",
        )
    role_title = role_title.strip()
    if not role_title:
        raise ValidationError("Enter the officer's role, like Partnership officer",
                              field="role_title")
    if len(role_title) > ROLE_TITLE_MAX:
        raise ValidationError(f"Role must be {ROLE_TITLE_MAX} characters or fewer",
                              field="role_title")
    if permissions.is_partnership_officer(user, partnership):
        raise ValidationError(f"{user.name} is already an officer of this partnership",
                              field="email")
    officer = PartnershipOfficer(
        partnership_id=partnership.id, user_id=user.id, role_title=role_title,
        organisation_id=organisation.id if organisation else None, appointed_by_id=actor.id,
    )
    db.session.add(officer)
    db.session.flush()
    audit.record(actor, "partnership.officer_appointed", "partnership", partnership.id,
                 user_id=user.id, role_title=role_title)
    mail.queue(user.email, f"You are now an officer of {partnership.name}", "officer_appointed",
               kind=Kind.MY_ROLE, recipient=user, user=user, partnership=partnership,
               role_title=role_title,
               url=url_for("partnership.show", slug=partnership.slug, _external=True))
    return officer


def remove_officer(actor: User, officer: PartnershipOfficer) -> None:
    if not permissions.can_appoint_officers(actor, officer.partnership):
        raise PermissionDenied("Only a site administrator can remove partnership officers.")
    audit.record(actor, "partnership.officer_removed", "partnership", officer.partnership_id,
                 user_id=officer.user_id)
    user = officer.user
    db.session.delete(officer)
    db.session.flush()
    # No longer an officer: members-only meetings of the partnership they can no
    # longer see give up their places (unless their organisation is a member).
    meeting_registrations.partnership_access_lost(actor, user)


# --- Membership ------------------------------------------------------------------


def _site_admins() -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.is_site_admin, User.deleted_at.is_(None)).order_by(User.id)
        )
    )


def request_membership(
    actor: User, partnership: Partnership, organisation: Organisation, message: str = ""
) -> PartnershipMember:
    """An organisation admin asks for the organisation to join; officers are emailed.

    A partnership with no officers yet would leave the request unseen, so the site
    administrators are told instead.
    """
    if not permissions.can_request_partnership_membership(actor, partnership, organisation):
        raise PermissionDenied(
            f"Only an admin of {organisation.name} can ask for it to join a partnership."
        )
    message = message.strip()
    if len(message) > MESSAGE_MAX:
        raise ValidationError(f"Your message must be {MESSAGE_MAX} characters or fewer",
                              field="message")
    # The same request sent twice at once (two tabs) would insert two rows: lock the
    # partnership, then look for one.
    conditional.lock(partnership)
    existing = membership_of(partnership, organisation)
    if existing is not None:
        db.session.refresh(existing)
    JOIN_REQUESTS.refuse_repeat(
        existing, f"{organisation.name} is already a member of {partnership.name}.",
        f"{organisation.name} has already asked to join. An officer will decide.")
    member = JOIN_REQUESTS.ask(
        existing or PartnershipMember(partnership_id=partnership.id,
                                      organisation_id=organisation.id),
        message=message, requested_by_id=actor.id)
    db.session.add(member)
    db.session.flush()
    audit.record(actor, "partnership.membership_requested", "partnership", partnership.id,
                 organisation_id=organisation.id)
    review_url = url_for("partnership.requests", slug=partnership.slug, _external=True)
    recipients = [officer.user for officer in officers(partnership)] or _site_admins()
    for recipient in recipients:
        mail.queue(recipient.email,
                   f"{organisation.name} has asked to join {partnership.name}",
                   "partnership_membership_requested", kind=Kind.REQUESTS_TO_DECIDE,
                   recipient=recipient, officer=recipient,
                   organisation=organisation, partnership=partnership, message=message,
                   requester=actor, review_url=review_url)
    return member


def decide_membership(
    actor: User, member: PartnershipMember, approve: bool, reason: str = ""
) -> None:
    """An officer approves or declines (with a reason). Decided requests are refused."""
    partnership = member.partnership
    if not permissions.can_manage_partnership(actor, partnership):
        raise PermissionDenied("Only this partnership's officers can decide on requests.")
    reason = JOIN_REQUESTS.decide(actor, member, approve, reason)
    audit.record(actor, "partnership.membership_approved" if approve
                 else "partnership.membership_declined", "partnership", partnership.id,
                 reason=reason, organisation_id=member.organisation_id)
    admins = db.session.scalars(
        select(User).join(OrganisationMember, OrganisationMember.user_id == User.id).where(
            OrganisationMember.organisation_id == member.organisation_id,
            OrganisationMember.status == RequestStatus.ACTIVE,
            OrganisationMember.role == MemberRole.ADMIN,
            User.deleted_at.is_(None),
        )
    ).all()
    for admin in admins:
        mail.queue(admin.email,
                   f"{member.organisation.name}'s request to join {partnership.name} was "
                   f"{'approved' if approve else 'declined'}",
                   "partnership_membership_decided", kind=Kind.MY_REQUEST_DECIDED,
                   recipient=admin, admin=admin, partnership=partnership,
                   organisation=member.organisation, approved=approve, reason=reason,
                   url=url_for("partnership.show", slug=partnership.slug, _external=True))
