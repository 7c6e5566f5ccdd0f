"""The one place that answers "may this user do X to Y".

Views, templates, services, feeds, search and the JSON API all ask these
predicates, so a rule changes in one place. Every predicate accepts an anonymous
user (Flask-Login's ``AnonymousUserMixin``) or ``None`` and answers False for them
where signing in is needed. Predicates that need data beyond the objects passed in
run one small query; pages that list many objects should load the facts once in a
service query (e.g. ``places.services.memberships_in``) rather than calling a
predicate per row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from .extensions import db
from .organisations.models import MemberRole, OrganisationMember, RequestStatus

if TYPE_CHECKING:
    from .accounts.models import User
    from .organisations.models import Organisation
    from .places.models import Partnership


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def is_site_admin(user: Any) -> bool:
    return _signed_in(user) and bool(user.is_site_admin)


# --- Organisations -------------------------------------------------------------


def organisation_membership(user: Any, organisation: Organisation) -> OrganisationMember | None:
    """The user's link to the organisation, in any state, or None."""
    if not _signed_in(user):
        return None
    return db.session.scalar(
        select(OrganisationMember).where(
            OrganisationMember.organisation_id == organisation.id,
            OrganisationMember.user_id == user.id,
        )
    )


def is_organisation_member(user: Any, organisation: Organisation) -> bool:
    link = organisation_membership(user, organisation)
    return link is not None and link.status is RequestStatus.ACTIVE


def is_organisation_admin(user: Any, organisation: Organisation) -> bool:
    link = organisation_membership(user, organisation)
    return link is not None and link.is_admin


def can_edit_organisation(user: Any, organisation: Organisation) -> bool:
    return is_site_admin(user) or is_organisation_admin(user, organisation)


def can_manage_organisation_members(user: Any, organisation: Organisation) -> bool:
    """Approve colleagues who ask to join, promote admins, remove members."""
    return can_edit_organisation(user, organisation)


def can_see_organisation_members(user: Any, organisation: Organisation) -> bool:
    """Member names and job titles are for colleagues; the public sees the organisation only."""
    return is_site_admin(user) or is_organisation_member(user, organisation)


def has_confirmed_email(user: Any) -> bool:
    """Signed in with a confirmed address, so admins and partners can reach the person."""
    return _signed_in(user) and bool(user.is_confirmed)


def can_create_organisation(user: Any) -> bool:
    """Anyone with a confirmed email address may add their group or organisation."""
    return has_confirmed_email(user)


def can_ask_to_join_organisation(user: Any, organisation: Organisation) -> bool:
    if not _signed_in(user):
        return False
    link = organisation_membership(user, organisation)
    return link is None or link.status in (RequestStatus.DECLINED, RequestStatus.LEFT)


def admin_organisations(user: Any) -> list[Organisation]:
    """Organisations the user is an admin of (to act for them, e.g. joining a partnership)."""
    from .organisations.models import Organisation

    if not _signed_in(user):
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


# --- Partnerships --------------------------------------------------------------


def can_create_partnership(user: Any) -> bool:
    return is_site_admin(user)


def is_partnership_officer(user: Any, partnership: Partnership) -> bool:
    from .places.models import PartnershipOfficer

    if not _signed_in(user):
        return False
    return (
        db.session.scalar(
            select(PartnershipOfficer.id).where(
                PartnershipOfficer.partnership_id == partnership.id,
                PartnershipOfficer.user_id == user.id,
            )
        )
        is not None
    )


def can_manage_partnership(user: Any, partnership: Partnership) -> bool:
    """Edit the partnership's details and decide on membership requests."""
    return is_site_admin(user) or is_partnership_officer(user, partnership)


def can_appoint_officers(user: Any, partnership: Partnership) -> bool:
    return is_site_admin(user)


def can_request_partnership_membership(
    user: Any, partnership: Partnership, organisation: Organisation
) -> bool:
    """Only an admin of the organisation may ask for it to join a partnership."""
    return is_organisation_admin(user, organisation)


def can_see_partnership_requests(user: Any, partnership: Partnership) -> bool:
    return can_manage_partnership(user, partnership)


def can_view_admin(user: Any) -> bool:
    return is_site_admin(user)


def user_facts(user: User | None) -> dict[str, Any]:
    """Small summary used by the layout (e.g. whether to show the admin link)."""
    return {"is_site_admin": is_site_admin(user)}
