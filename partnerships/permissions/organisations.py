"""Organisations: membership, admins, and what each may do with the organisation."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..organisations.models import MemberRole, Organisation, OrganisationMember, RequestStatus
from .core import Viewer, has_confirmed_email, is_site_admin, signed_in


def organisation_membership(user: Viewer, organisation: Organisation) -> OrganisationMember | None:
    """The user's link to the organisation, in any state, or None."""
    if not signed_in(user):
        return None
    return db.session.scalar(
        select(OrganisationMember).where(
            OrganisationMember.organisation_id == organisation.id,
            OrganisationMember.user_id == user.id,
        )
    )


def is_organisation_member(user: Viewer, organisation: Organisation) -> bool:
    link = organisation_membership(user, organisation)
    return link is not None and link.status is RequestStatus.ACTIVE


def is_organisation_admin(user: Viewer, organisation: Organisation) -> bool:
    link = organisation_membership(user, organisation)
    return link is not None and link.is_admin


def is_admin_of(user: Viewer, organisation_id: int) -> bool:
    """An active admin of the organisation, by id (one query): for callers that hold an
    id rather than a loaded organisation, e.g. an action's owning organisation."""
    if not signed_in(user):
        return False
    return db.session.scalar(
        select(OrganisationMember.id).where(
            OrganisationMember.organisation_id == organisation_id,
            OrganisationMember.user_id == user.id,
            OrganisationMember.status == RequestStatus.ACTIVE,
            OrganisationMember.role == MemberRole.ADMIN,
        )
    ) is not None


def can_edit_organisation(user: Viewer, organisation: Organisation) -> bool:
    return is_site_admin(user) or is_organisation_admin(user, organisation)


def can_set_organisation_email_domains(user: Viewer, organisation: Organisation) -> bool:
    """Record the organisation's email domains and require its staff's line managers'
    addresses to be on them: its admins (and site admins), as for its profile."""
    return can_edit_organisation(user, organisation)


def can_manage_organisation_members(user: Viewer, organisation: Organisation) -> bool:
    """Approve colleagues who ask to join, promote admins, remove members."""
    return can_edit_organisation(user, organisation)


def can_see_organisation_members(user: Viewer, organisation: Organisation) -> bool:
    """Member names and job titles are for colleagues; the public sees the organisation only."""
    return is_site_admin(user) or is_organisation_member(user, organisation)


def can_create_organisation(user: Viewer) -> bool:
    """Anyone with a confirmed email address may add their group or organisation."""
    return has_confirmed_email(user)


def can_ask_to_join_organisation(user: Viewer, organisation: Organisation) -> bool:
    if not signed_in(user):
        return False
    link = organisation_membership(user, organisation)
    return link is None or link.status in (RequestStatus.DECLINED, RequestStatus.LEFT)


def admin_organisations(user: Viewer) -> list[Organisation]:
    """Organisations the user is an admin of (to act for them, e.g. joining a partnership)."""
    if not signed_in(user):
        return []
    return list(
        db.session.scalars(
            select(Organisation)
            .join(OrganisationMember)
            .where(
                OrganisationMember.user_id == user.id,
                OrganisationMember.status == RequestStatus.ACTIVE,
                OrganisationMember.role == MemberRole.ADMIN,
            )
            .order_by(Organisation.name)
        )
    )
