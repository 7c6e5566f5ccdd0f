"""Partnerships (the ``partnership`` package): officers, and what they and site admins run."""

from __future__ import annotations

from sqlalchemy import Select, select

from ..extensions import db
from ..organisations.models import Organisation
from ..partnership.models import Partnership, PartnershipOfficer
from .core import Viewer, is_site_admin, signed_in
from .organisations import is_organisation_admin


def can_create_partnership(user: Viewer) -> bool:
    return is_site_admin(user)


def is_partnership_officer(user: Viewer, partnership: Partnership) -> bool:
    if not signed_in(user):
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


def partnerships_run_by(user_id: int) -> Select[tuple[int]]:
    """``is_partnership_officer`` as SQL: the ids of the partnerships the person is an
    officer of (for ``IN`` filters in the forum, meeting and MoU rules)."""
    return select(PartnershipOfficer.partnership_id).where(PartnershipOfficer.user_id == user_id)


def can_manage_partnership(user: Viewer, partnership: Partnership) -> bool:
    """Edit the partnership's details and decide on membership requests."""
    return is_site_admin(user) or is_partnership_officer(user, partnership)


def can_appoint_officers(user: Viewer, partnership: Partnership) -> bool:
    return is_site_admin(user)


def can_request_partnership_membership(
    user: Viewer, partnership: Partnership, organisation: Organisation
) -> bool:
    """Only an admin of the organisation may ask for it to join a partnership."""
    return is_organisation_admin(user, organisation)


def can_see_partnership_requests(user: Viewer, partnership: Partnership) -> bool:
    return can_manage_partnership(user, partnership)
