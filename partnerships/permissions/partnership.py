"""Partnerships (the ``partnership`` package): officers, and what they and site admins run."""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, has_app_context
from sqlalchemy import ColumnElement, Select, SQLColumnExpression, or_, select, union

from ..accounts.models import User
from ..extensions import db
from ..organisations.models import Organisation, OrganisationMember, RequestStatus
from ..partnership.models import Partnership, PartnershipMember, PartnershipOfficer
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


# --- Insiders of a partnership: Python and SQL side by side --------------------------------
#
# The people of a partnership are its officers and the people of its member organisations
# (an active link to an organisation whose membership of the partnership is active). They
# see the partnership's own members-only meetings (``permissions.meetings``); site admins
# see everything anyway.


@dataclass(frozen=True)
class PartnershipAccess:
    """What one person is to one partnership (officer, member organisation's person)."""

    signed_in: bool
    is_officer: bool
    is_site_admin: bool
    in_member_organisation: bool

    @property
    def can_manage(self) -> bool:
        """Officers and site admins run the partnership and its own meetings."""
        return self.is_officer or self.is_site_admin

    @property
    def is_insider(self) -> bool:
        return self.in_member_organisation or self.can_manage


def member_organisations(partnership_id: int | SQLColumnExpression[int]
                         ) -> Select[tuple[int]]:
    """The ids of the partnership's member organisations (membership active)."""
    return select(PartnershipMember.organisation_id).where(
        PartnershipMember.partnership_id == partnership_id,
        PartnershipMember.status == RequestStatus.ACTIVE)


def partnership_access(user: Viewer, partnership: Partnership) -> PartnershipAccess:
    """Everything about ``user`` in ``partnership`` (one query), cached for the rest of
    the request like ``forum_access`` (``forget_forum_access`` drops both)."""
    if not signed_in(user):
        return PartnershipAccess(False, False, False, False)
    cache: dict[tuple[int, int], PartnershipAccess] | None = None
    if has_app_context():
        cache = g.setdefault("_partnership_access", {})
        if (user.id, partnership.id) in cache:
            return cache[(user.id, partnership.id)]
    officer, member = db.session.execute(select(
        select(PartnershipOfficer.id).where(
            PartnershipOfficer.partnership_id == partnership.id,
            PartnershipOfficer.user_id == user.id).exists(),
        select(OrganisationMember.id).where(
            OrganisationMember.user_id == user.id,
            OrganisationMember.status == RequestStatus.ACTIVE,
            OrganisationMember.organisation_id.in_(member_organisations(partnership.id)),
        ).exists(),
    )).one()
    access = PartnershipAccess(True, bool(officer), is_site_admin(user), bool(member))
    if cache is not None:
        cache[(user.id, partnership.id)] = access
    return access


def is_partnership_insider(user: Viewer, partnership: Partnership) -> bool:
    """One of the partnership's people: officer, site admin, or a person of a member
    organisation."""
    return partnership_access(user, partnership).is_insider


def partnerships_inside(user_id: int) -> Select[tuple[int]]:
    """``is_partnership_insider`` as SQL, site admins aside: the ids of the
    partnerships the person is an officer of or belongs to through a member
    organisation (for ``IN`` filters)."""
    through_organisation = (
        select(PartnershipMember.partnership_id)
        .join(OrganisationMember,
              OrganisationMember.organisation_id == PartnershipMember.organisation_id)
        .where(OrganisationMember.user_id == user_id,
               OrganisationMember.status == RequestStatus.ACTIVE,
               PartnershipMember.status == RequestStatus.ACTIVE))
    return union(partnerships_run_by(user_id), through_organisation)  # type: ignore[return-value]


def partnership_people(partnership_id: int) -> ColumnElement[bool]:
    """SQL condition on ``User``: the partnership's officers and the people of its
    member organisations (its insiders but site admins): whom its own meetings' agendas
    and minutes are sent to, and who may present or own an action there."""
    officers = select(PartnershipOfficer.user_id).where(
        PartnershipOfficer.partnership_id == partnership_id)
    people = select(OrganisationMember.user_id).where(
        OrganisationMember.status == RequestStatus.ACTIVE,
        OrganisationMember.organisation_id.in_(member_organisations(partnership_id)))
    return or_(User.id.in_(officers), User.id.in_(people))


def partnership_insiders(partnership_id: int) -> ColumnElement[bool]:
    """``is_partnership_insider`` turned round: SQL condition on ``User``, site admins
    included. Like ``forum_insiders`` it leaves ``User.deleted_at`` to the caller."""
    return or_(User.is_site_admin.is_(True), partnership_people(partnership_id))
