"""Partnerships, their officers and member organisations, through
``partnership.services``."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from ..accounts.models import User
from ..extensions import db
from ..modelbase import utcnow
from ..organisations.models import Organisation, RequestStatus
from ..partnership import services
from ..partnership.models import (
    Partnership,
    PartnershipMember,
    PartnershipOfficer,
    Principle,
)
from . import accounts, builder, number
from .organisations import admins


@builder
def partnership(name: str | None = None, *, by: User | None = None, slug: str = "",
                place: str = "Northbridge", description: str = "", contact_email: str = "",
                principles: Iterable[Principle] = (Principle.PARTNERSHIP,),
                officers: Iterable[User] = (),
                members: Iterable[Organisation] = ()) -> Partnership:
    """A partnership created by a site administrator ``by`` (by default one who is
    never saved), with its ``officers`` and member organisations."""
    admin = by or accounts.stand_in_admin()
    created = services.create_partnership(admin, services.PartnershipDetails(
        name=name or f"Partnership {number()}", slug=slug, place=place,
        description=description, contact_email=contact_email, principles=list(principles)))
    for person in officers:
        officer(created, person, by=admin)
    for org in members:
        member(created, org, decided_by=admin)
    return created


@builder
def officer(partnership: Partnership, user: User, role_title: str = "Partnership officer",
            organisation: Organisation | None = None,
            by: User | None = None) -> PartnershipOfficer:
    return services.appoint_officer(by or accounts.stand_in_admin(), partnership, user.email,
                                    role_title, organisation)


@builder
def member(partnership: Partnership, org: Organisation, *, requested_by: User | None = None,
           decided_by: User | None = None, message: str = "",
           pending: bool = False) -> PartnershipMember:
    """An admin of ``org`` (``requested_by``) asks to join and, unless ``pending``, an
    officer (``decided_by``) approves. An organisation with no admin cannot ask: it
    is recorded as a member the officers let in (``admitted``)."""
    asker = requested_by or next(iter(admins(org)), None)
    if asker is None:
        return admitted(partnership, org, decided_by)
    link = services.request_membership(asker, partnership, org, message)
    if not pending:
        services.decide_membership(decided_by or _officer_or_admin(partnership), link, True)
    return link


def _officer_or_admin(partnership: Partnership) -> User:
    first = db.session.scalar(select(PartnershipOfficer).where(
        PartnershipOfficer.partnership_id == partnership.id).order_by(PartnershipOfficer.id))
    return first.user if first else accounts.stand_in_admin()


def admitted(partnership: Partnership, org: Organisation,
             decided_by: User | None = None) -> PartnershipMember:
    """A member organisation that has no admin (so nobody could ask for it): the
    officers' record of it, active from now. The one partnership state no service
    makes, kept here rather than in a loader."""
    link = PartnershipMember(partnership_id=partnership.id, organisation_id=org.id,
                             status=RequestStatus.ACTIVE, requested_at=utcnow(),
                             decided_at=utcnow(),
                             decided_by_id=decided_by.id if decided_by else None)
    db.session.add(link)
    db.session.flush()
    return link
