"""Organisation rules: create and edit profiles, join requests, admins.

The creator of an organisation becomes its first admin. Colleagues ask to join;
an admin approves or declines with a reason. An organisation always keeps at
least one admin while it has members.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import joinedload

from .. import audit, conditional, mail, permissions
from ..accounts.models import User
from ..bounds import identifier, is_whole_number
from ..errors import Conflict, PermissionDenied, ValidationError
from ..extensions import db
from ..mail.kinds import Kind
from ..meetings import registrations as meeting_registrations
from ..membership import JoinRequests
from ..modelbase import utcnow
from ..slugs import unique_slug
from .domains import DomainError, parse_domains
from .models import (
    DESCRIPTION_MAX,
    EMAIL_DOMAINS_MAX,
    JOB_TITLE_MAX,
    MESSAGE_MAX,
    NAME_MAX,
    ORG_TYPE_SECTORS,
    SMALL_BANDS,
    WEBSITE_MAX,
    IncomeBand,
    MemberRole,
    Organisation,
    OrganisationMember,
    OrgType,
    RequestStatus,
    Sector,
)
from .numbers import (
    CHARITY_FORMAT_HELP,
    COMPANY_FORMAT_HELP,
    normalise_charity_number,
    normalise_company_number,
)

PAGE_SIZE = 25

# Colleagues' requests to join: the shared rules (``membership``), with this domain's words.
JOIN_REQUESTS = JoinRequests(
    OrganisationMember, OrganisationMember.organisation_id, RequestStatus, "decline_reason",
    already_decided="This request has already been decided, perhaps by another admin.",
    reason_required="Enter a reason for declining, so the person knows why")

# Slugs that would be confused with the blueprint's own pages.
_RESERVED_SLUGS = frozenset({"new", "mine"})


@dataclass
class OrganisationDetails:
    """What a person enters about an organisation (validated by the service)."""

    name: str
    org_type: OrgType
    income_band: IncomeBand
    charity_number: str = ""
    company_number: str = ""
    website: str = ""
    description: str = ""


def _require_confirmed(actor: User) -> None:
    if not actor.is_confirmed:
        raise PermissionDenied(
            "Confirm your email address first: follow the link we sent you."
        )


def _clean(details: OrganisationDetails, exclude_id: int | None = None) -> dict[str, object]:
    name = " ".join(details.name.split())
    if not name:
        raise ValidationError("Enter the name of your organisation or group", field="name")
    if len(name) > NAME_MAX:
        raise ValidationError(f"Name must be {NAME_MAX} characters or fewer", field="name")
    duplicate = db.session.scalar(
        select(Organisation.id).where(
            func.lower(Organisation.name) == name.lower(),
            *([Organisation.id != exclude_id] if exclude_id else []),
        )
    )
    if duplicate is not None:
        raise ValidationError(
            "An organisation with this name is already registered. Find it in the list of "
            "organisations and ask to join it instead.",
            field="name",
        )
    charity = None
    if details.charity_number.strip():
        charity = normalise_charity_number(details.charity_number)
        if charity is None:
            raise ValidationError(CHARITY_FORMAT_HELP, field="charity_number")
    company = None
    if details.company_number.strip():
        company = normalise_company_number(details.company_number)
        if company is None:
            raise ValidationError(COMPANY_FORMAT_HELP, field="company_number")
    website = _clean_website(details.website)
    description = details.description.strip()
    if len(description) > DESCRIPTION_MAX:
        raise ValidationError(
            f"Description must be {DESCRIPTION_MAX} characters or fewer", field="description"
        )
    return {
        "name": name,
        "org_type": OrgType(details.org_type),
        "income_band": IncomeBand(details.income_band),
        "charity_number": charity,
        "company_number": company,
        "website": website,
        "description": description,
    }


def website_problem(value: str) -> tuple[str | None, str | None]:
    """The web address people can follow (https:// added when missing), and what is
    wrong with it if anything. The form shows the problem with the others; the service
    refuses it."""
    website = value.strip()
    if not website:
        return None, None
    if not website.lower().startswith(("http://", "https://")):
        website = "https://" + website
    host = website.split("://", 1)[1].split("/", 1)[0]
    if any(ch.isspace() for ch in website) or "." not in host or host.startswith("."):
        return None, "Enter a website address in the correct format, like www.example.org.uk"
    if len(website) > WEBSITE_MAX:
        return None, f"Website address must be {WEBSITE_MAX} characters or fewer"
    return website, None


def _clean_website(value: str) -> str | None:
    """A web address people can follow: https:// added when missing, spaces refused."""
    website, problem = website_problem(value)
    if problem:
        raise ValidationError(problem, field="website")
    return website


def _new_slug(name: str) -> str:
    """A unique slug that is never all digits (those are ids) nor one of our page names."""
    slug = unique_slug(Organisation, name)
    if slug.isdigit() or slug in _RESERVED_SLUGS:
        slug = unique_slug(Organisation, f"organisation {name}")
    return slug


def create_organisation(actor: User, details: OrganisationDetails) -> Organisation:
    """Create an organisation with ``actor`` as its first admin."""
    _require_confirmed(actor)
    values = _clean(details)
    org = Organisation(slug=_new_slug(str(values["name"])), created_by_id=actor.id, **values)
    db.session.add(org)
    db.session.flush()
    db.session.add(
        OrganisationMember(
            organisation_id=org.id, user_id=actor.id, role=MemberRole.ADMIN,
            status=RequestStatus.ACTIVE, decided_at=utcnow(), decided_by_id=actor.id,
        )
    )
    audit.record(actor, "organisation.created", "organisation", org.id, name=org.name)
    db.session.flush()
    return org


def update_organisation(actor: User, org: Organisation, details: OrganisationDetails) -> None:
    if not permissions.can_edit_organisation(actor, org):
        raise PermissionDenied("Only an admin of this organisation can change its profile.")
    values = _clean(details, exclude_id=org.id)
    changed = [key for key, value in values.items() if getattr(org, key) != value]
    for key in changed:
        setattr(org, key, values[key])
    if changed:
        audit.record(actor, "organisation.updated", "organisation", org.id, fields=changed)


# --- Email domains, and line managers' addresses -------------------------------------


def set_email_domains(actor: User, org: Organisation, domains_text: str,
                      require_for_managers: bool) -> bool:
    """Record the organisation's email domains ("northbridge.gov.uk, nhs.net") and whether
    its staff must name a line manager on one of them. Returns whether anything changed."""
    if not permissions.can_set_organisation_email_domains(actor, org):
        raise PermissionDenied("Only an admin of this organisation can change its email "
                               "domains.")
    try:
        domains = parse_domains(domains_text)
    except DomainError as error:
        raise ValidationError(str(error), field="email_domains") from error
    if require_for_managers and not domains:
        raise ValidationError("Enter your organisation's email domains, so we know which "
                              "line managers' addresses to accept", field="email_domains")
    value = " ".join(domains)
    if len(value) > EMAIL_DOMAINS_MAX:
        raise ValidationError(f"Email domains must be {EMAIL_DOMAINS_MAX} characters or "
                              "fewer in all", field="email_domains")
    if (org.email_domains, org.require_manager_email_domain) == (value, require_for_managers):
        return False
    org.email_domains = value
    org.require_manager_email_domain = require_for_managers
    db.session.flush()
    audit.record(actor, "organisation.email_domains_changed", "organisation", org.id,
                 email_domains=domains, require_for_managers=require_for_managers)
    return True


def search(
    query: str = "", org_type: OrgType | None = None, sector: Sector | None = None,
    small_only: bool = False, page: int = 1,
) -> tuple[list[Organisation], int]:
    """Organisations matching the filters, by name, one page at a time; and the total."""
    conditions = []
    query = query.strip().lower()
    if query:
        conditions.append(
            or_(func.lower(Organisation.name).contains(query, autoescape=True),
                func.lower(Organisation.description).contains(query, autoescape=True))
        )
    if org_type is not None:
        conditions.append(Organisation.org_type == org_type)
    if sector is not None:
        types = [t for t, s in ORG_TYPE_SECTORS.items() if s is sector]
        conditions.append(Organisation.org_type.in_(types))
    if small_only:
        conditions.append(Organisation.income_band.in_(sorted(SMALL_BANDS)))
    total = db.session.scalar(select(func.count(Organisation.id)).where(*conditions)) or 0
    rows = db.session.scalars(
        select(Organisation).where(*conditions)
        .order_by(Organisation.sort_name, Organisation.id)
        .limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE)
    ).all()
    return list(rows), total


def get_by_id_or_slug(key: str) -> Organisation | None:
    """Slugs are never all digits (see ``_new_slug``), so a number is always an id."""
    if is_whole_number(key):
        number = identifier(key)
        return db.session.get(Organisation, number) if number is not None else None
    return db.session.scalar(select(Organisation).where(Organisation.slug == key))


def active_members(org: Organisation) -> list[OrganisationMember]:
    """Current members, admins first, with their accounts loaded (one query)."""
    return list(
        db.session.scalars(
            select(OrganisationMember)
            .where(OrganisationMember.organisation_id == org.id,
                   OrganisationMember.status == RequestStatus.ACTIVE)
            .join(User, User.id == OrganisationMember.user_id)
            # Admins first (the enum's values sort the wrong way round), then by name.
            .order_by(case((OrganisationMember.role == MemberRole.ADMIN, 0), else_=1),
                      func.lower(User.name))
            .options(joinedload(OrganisationMember.user))
        )
    )


def pending_requests(org: Organisation) -> list[OrganisationMember]:
    return JOIN_REQUESTS.waiting(org.id, joinedload(OrganisationMember.user))


def _admins(org: Organisation) -> list[User]:
    return list(
        db.session.scalars(
            select(User).join(OrganisationMember, OrganisationMember.user_id == User.id).where(
                OrganisationMember.organisation_id == org.id,
                OrganisationMember.status == RequestStatus.ACTIVE,
                OrganisationMember.role == MemberRole.ADMIN,
                User.deleted_at.is_(None),
            )
        )
    )


def request_to_join(
    actor: User, org: Organisation, job_title: str, message: str
) -> OrganisationMember:
    """Ask to join an organisation; its admins are emailed."""
    _require_confirmed(actor)
    # The same request sent twice at once (two tabs) would insert two rows: lock the
    # organisation, then look for one.
    conditional.lock(org)
    link = permissions.organisation_membership(actor, org)
    if link is not None:
        db.session.refresh(link)
    JOIN_REQUESTS.refuse_repeat(
        link, f"You are already a member of {org.name}.",
        f"You have already asked to join {org.name}. An admin will decide soon.")
    job_title, message = job_title.strip(), message.strip()
    if len(job_title) > JOB_TITLE_MAX:
        raise ValidationError(f"Job title must be {JOB_TITLE_MAX} characters or fewer",
                              field="job_title")
    if len(message) > MESSAGE_MAX:
        raise ValidationError(f"Your message must be {MESSAGE_MAX} characters or fewer",
                              field="message")
    if link is None:
        link = OrganisationMember(organisation_id=org.id, user_id=actor.id)
        db.session.add(link)
    JOIN_REQUESTS.ask(link, role=MemberRole.MEMBER, job_title=job_title, message=message)
    db.session.flush()
    audit.record(actor, "organisation.join_requested", "organisation", org.id, user_id=actor.id)
    review = url_for("organisations.members", key=org.slug, _external=True)
    for admin in _admins(org):
        mail.queue(admin.email, f"{actor.name} has asked to join {org.name}", "org_join_requested",
                   kind=Kind.REQUESTS_TO_DECIDE, recipient=admin, admin=admin, requester=actor,
                   organisation=org, link=link, review_url=review)
    return link


def decide_join_request(
    actor: User, link: OrganisationMember, approve: bool, reason: str = ""
) -> None:
    """Approve or decline a pending request. Refuses one already decided by someone else."""
    org = link.organisation
    if not permissions.can_manage_organisation_members(actor, org):
        raise PermissionDenied("Only an admin of this organisation can decide on requests.")
    reason = JOIN_REQUESTS.decide(actor, link, approve, reason)
    action = "organisation.join_approved" if approve else "organisation.join_declined"
    audit.record(actor, action, "organisation", org.id, reason=reason, user_id=link.user_id)
    mail.queue(
        link.user.email,
        f"Your request to join {org.name} was {'approved' if approve else 'declined'}",
        "org_join_decided",
        kind=Kind.MY_REQUEST_DECIDED,
        recipient=link.user,
        user=link.user, organisation=org, approved=approve, reason=reason,
        org_url=url_for("organisations.show", key=org.slug, _external=True),
        mine_url=url_for("organisations.mine", _external=True),
    )


def _lock_members(org: Organisation, link: OrganisationMember) -> None:
    """Lock the organisation's row and read the link again, before a change that must
    leave it an admin: two admins stepping down (or leaving) at the same moment each
    counted the other and left none. Changes of role and removals take this lock
    first, so the second sees the first's change."""
    conditional.lock(org)
    db.session.refresh(link)


def set_role(actor: User, link: OrganisationMember, role: MemberRole) -> None:
    """Promote a member to admin, or make an admin a member again (never the last admin)."""
    org = link.organisation
    if not permissions.can_manage_organisation_members(actor, org):
        raise PermissionDenied("Only an admin of this organisation can change roles.")
    _lock_members(org, link)
    if link.status is not RequestStatus.ACTIVE:
        raise Conflict("Only current members can be made admins.")
    if link.role is role:
        return
    if role is MemberRole.MEMBER and len(_admins(org)) <= 1:
        raise ValidationError("An organisation needs at least one admin. Make someone else an "
                              "admin first.")
    link.role = role
    audit.record(actor, f"organisation.role_{role.value}", "organisation", org.id,
                 user_id=link.user_id)


def remove_member(actor: User, link: OrganisationMember) -> None:
    """An admin removes a colleague, or a member leaves (never the last admin)."""
    org = link.organisation
    leaving = link.user_id == actor.id
    if not leaving and not permissions.can_manage_organisation_members(actor, org):
        raise PermissionDenied("Only an admin of this organisation can remove members.")
    _lock_members(org, link)
    if link.status is not RequestStatus.ACTIVE:
        raise Conflict("This person is not a current member.")
    if link.is_admin and len(_admins(org)) <= 1 and len(active_members(org)) > 1:
        raise ValidationError("An organisation needs at least one admin. Make someone else an "
                              "admin first.")
    JOIN_REQUESTS.set_state(actor, link, RequestStatus.LEFT, role=MemberRole.MEMBER)
    audit.record(actor, "organisation.member_left" if leaving else "organisation.member_removed",
                 "organisation", org.id, user_id=link.user_id)
    # Members-only meetings of the organisation's partnerships that they can no longer
    # see: their places go to the people waiting.
    meeting_registrations.partnership_access_lost(actor, link.user)


def memberships_of(user: User) -> list[OrganisationMember]:
    """All of a user's organisation links (pending, active, declined), newest first."""
    return list(
        db.session.scalars(
            select(OrganisationMember)
            .where(OrganisationMember.user_id == user.id,
                   OrganisationMember.status != RequestStatus.LEFT)
            .order_by(OrganisationMember.updated_at.desc())
            .options(joinedload(OrganisationMember.organisation))
        )
    )


def get_member_link(org: Organisation, member_id: int) -> OrganisationMember | None:
    """One person's link to this organisation (None if it belongs to another one)."""
    return JOIN_REQUESTS.one(org.id, member_id, joinedload(OrganisationMember.user))
