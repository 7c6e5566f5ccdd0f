"""Who may post an organisation's opportunities besides its admins.

An organisation's admins allow named members (say, the HR or secondments lead) to
post and manage its opportunities without making them admins of everything else,
and withdraw that again. ``permissions.can_post_opportunity`` counts an allowance only
while the person is an active member, so leaving the organisation ends it without
anyone having to remember. Every change is audited (subject ("organisation", id)) and
the person is emailed; the caller commits.
"""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import audit, mail, permissions
from ..accounts.models import User
from ..errors import Conflict, PermissionDenied, ValidationError
from ..extensions import db
from ..mail.kinds import Kind
from ..organisations.models import Organisation, OrganisationMember, RequestStatus
from .models import OpportunityPoster


def posters_of(organisation: Organisation) -> list[OpportunityPoster]:
    """Everyone allowed to post for the organisation, by name, with who allowed them
    (one query)."""
    return list(db.session.scalars(
        select(OpportunityPoster)
        .join(User, User.id == OpportunityPoster.user_id)
        .where(OpportunityPoster.organisation_id == organisation.id)
        .options(joinedload(OpportunityPoster.user), joinedload(OpportunityPoster.granted_by))
        .order_by(User.name, OpportunityPoster.id)
    ))


def get(organisation: Organisation, poster_id: int) -> OpportunityPoster | None:
    return db.session.scalar(
        select(OpportunityPoster).where(OpportunityPoster.id == poster_id,
                                        OpportunityPoster.organisation_id == organisation.id)
        .options(joinedload(OpportunityPoster.user))
    )


def candidates(members: list[OrganisationMember],
               posters: list[OpportunityPoster]) -> list[OrganisationMember]:
    """Of the organisation's active members (``organisations.services.active_members``),
    those who could be allowed: not admins (they post already), not allowed already."""
    allowed = {p.user_id for p in posters}
    return [m for m in members if not m.is_admin and m.user_id not in allowed]


def _require_admin(actor: User, organisation: Organisation) -> None:
    if not permissions.can_manage_opportunity_posters(actor, organisation):
        raise PermissionDenied(f"Only admins of {organisation.name} can choose who posts its "
                               "opportunities.")


def allow(actor: User, organisation: Organisation, user_id: int | None) -> OpportunityPoster:
    """Allow an active member to post and manage the organisation's opportunities; they
    are emailed to say so."""
    _require_admin(actor, organisation)
    link = db.session.scalar(
        select(OrganisationMember).where(
            OrganisationMember.organisation_id == organisation.id,
            OrganisationMember.user_id == (user_id or 0),
            OrganisationMember.status == RequestStatus.ACTIVE,
        ).options(joinedload(OrganisationMember.user))
    )
    if link is None:
        raise ValidationError(f"Select a current member of {organisation.name}",
                              field="user_id")
    if link.is_admin:
        raise ValidationError(f"{link.user.display_name} is an admin of {organisation.name}, "
                              "so they can post opportunities already", field="user_id")
    existing = db.session.scalar(
        select(OpportunityPoster.id).where(OpportunityPoster.organisation_id == organisation.id,
                                           OpportunityPoster.user_id == link.user_id)
    )
    if existing is not None:
        raise ValidationError(f"{link.user.display_name} can already post opportunities for "
                              f"{organisation.name}", field="user_id")
    poster = OpportunityPoster(organisation_id=organisation.id, user_id=link.user_id,
                               granted_by_id=actor.id)
    db.session.add(poster)
    db.session.flush()
    audit.record(actor, "organisation.opportunity_poster_allowed", "organisation",
                 organisation.id, user_id=link.user_id)
    mail.queue(link.user.email, f"You can now post opportunities for {organisation.name}",
               "opportunity_poster_allowed", kind=Kind.MY_ROLE, recipient=link.user,
               user=link.user, organisation=organisation,
               actor=actor, url=url_for("opportunities.new", _external=True),
               mine_url=url_for("opportunities.mine", _external=True))
    return poster


def withdraw(actor: User, organisation: Organisation, poster: OpportunityPoster) -> None:
    """Stop someone posting for the organisation. Opportunities they posted stay, run by
    the organisation's admins and the other people allowed."""
    _require_admin(actor, organisation)
    if poster.organisation_id != organisation.id:
        raise Conflict("That person is not allowed to post for this organisation.")
    user = poster.user
    db.session.delete(poster)
    db.session.flush()
    audit.record(actor, "organisation.opportunity_poster_withdrawn", "organisation",
                 organisation.id, user_id=user.id)
    if user.is_active:
        mail.queue(user.email, f"You can no longer post opportunities for {organisation.name}",
                   "opportunity_poster_withdrawn", kind=Kind.MY_ROLE, recipient=user,
                   user=user, organisation=organisation,
                   actor=actor)
