"""Organisations and their members, through ``organisations.services``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from ..accounts.models import User
from ..extensions import db
from ..organisations import services
from ..organisations.models import (
    IncomeBand,
    MemberRole,
    Organisation,
    OrganisationMember,
    OrgType,
    RequestStatus,
)
from ..slugs import is_valid_slug
from . import accounts, builder, number


def admins(org: Organisation) -> list[User]:
    return list(db.session.scalars(
        select(User).join(OrganisationMember, OrganisationMember.user_id == User.id)
        .where(OrganisationMember.organisation_id == org.id,
               OrganisationMember.status == RequestStatus.ACTIVE,
               OrganisationMember.role == MemberRole.ADMIN)
        .order_by(OrganisationMember.id)))


@builder
def organisation(name: str | None = None, *, by: User | None = None, admin: User | None = None,
                 members: Sequence[User] = (), org_type: OrgType = OrgType.COMMUNITY_GROUP,
                 income_band: IncomeBand = IncomeBand.UP_TO_10K, slug: str = "",
                 **details: Any) -> Organisation:
    """An organisation created by ``by`` (its first admin). With no ``by`` it is
    created by ``admin`` or, with neither, by a founder who lets the ``members`` in
    and then leaves, as when someone registers a group for others (an organisation
    with members keeps an admin, so then the founder stays).

    ``slug`` gives it a shorter web address than the one made from its name (the
    demo's ``/organisations/northbridge-pcc``): the site has no page for that, so it
    is set here, checked as the service checks a new one."""
    founder = by or admin or accounts.user(f"Founder {number()}")
    org = services.create_organisation(founder, services.OrganisationDetails(
        name=name or f"Organisation {number()}", org_type=org_type, income_band=income_band,
        **{key: value or "" for key, value in details.items()}))
    if slug and slug != org.slug:
        if not is_valid_slug(slug) or db.session.scalar(
                select(Organisation.id).where(Organisation.slug == slug)) is not None:
            raise ValueError(f"{slug!r} is not a free web address for an organisation")
        org.slug = slug
        db.session.flush()
    for person in members:
        member(org, person, by=founder)
    if by is None and admin is None and not members:
        leave(org, founder)
    return org


@builder
def member(org: Organisation, user: User, *, role: MemberRole = MemberRole.MEMBER,
           job_title: str = "", message: str = "", by: User | None = None,
           pending: bool = False) -> OrganisationMember:
    """``user`` asks to join and (unless ``pending``) an admin, ``by``, lets them in
    and makes them ``role``."""
    link = services.request_to_join(user, org, job_title, message)
    if not pending:
        approver = by or admins(org)[0]
        services.decide_join_request(approver, link, True)
        services.set_role(approver, link, role)
    return link


@builder
def leave(org: Organisation, user: User) -> None:
    link = db.session.scalar(select(OrganisationMember).where(
        OrganisationMember.organisation_id == org.id, OrganisationMember.user_id == user.id))
    assert link is not None, f"{user.email} is not in {org.name}"
    services.remove_member(user, link)
