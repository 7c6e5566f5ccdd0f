"""Secondments and shadowing: who hosts, who sees drafts, applications and placements.

Hosts are the host organisation's active admins, the active members its admins allow
to post opportunities (``OpportunityPoster``: say, the HR lead), and site admins. The
right follows the person's membership: whoever leaves the organisation, stops being
an admin, or has the right withdrawn, stops hosting at once, including opportunities
they posted themselves. An applicant's statement is for the applicant, their line
manager (who sees it through the emailed link, not through these predicates) and the
host, and the host sees an application only once the line manager approved it (or
approval is not needed). Each predicate runs at most one small query.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from ..extensions import db
from ..opportunities.models import (
    Application,
    Opportunity,
    OpportunityPoster,
    OpportunityStatus,
    Placement,
)
from ..organisations.models import MemberRole, Organisation, OrganisationMember, RequestStatus
from .core import Viewer, is_site_admin, signed_in
from .organisations import can_edit_organisation


def _hosts_for(user: Viewer, organisation_id: int) -> bool:
    """An active admin of the organisation, or an active member its admins allowed to
    post (one query: the allowance counts only alongside an active membership)."""
    if not signed_in(user):
        return False
    allowed = select(OpportunityPoster.id).where(
        OpportunityPoster.organisation_id == organisation_id,
        OpportunityPoster.user_id == user.id,
    ).exists()
    return db.session.scalar(
        select(OrganisationMember.id).where(
            OrganisationMember.organisation_id == organisation_id,
            OrganisationMember.user_id == user.id,
            OrganisationMember.status == RequestStatus.ACTIVE,
            or_(OrganisationMember.role == MemberRole.ADMIN, allowed),
        )
    ) is not None


def can_post_opportunity(user: Viewer, organisation: Organisation) -> bool:
    """The host organisation's admins, the members they allow, and site admins."""
    return is_site_admin(user) or _hosts_for(user, organisation.id)


def can_manage_opportunity_posters(user: Viewer, organisation: Organisation) -> bool:
    """Allow members to post the organisation's opportunities, or withdraw it: its
    admins (and site admins), never the allowed posters themselves."""
    return can_edit_organisation(user, organisation)


def can_manage_opportunity(user: Viewer, opportunity: Opportunity) -> bool:
    """Edit, publish, close, withdraw, see applications and decide, and run placements:
    whoever may post for the host organisation now (see ``can_post_opportunity``)."""
    if not signed_in(user):
        return False
    return is_site_admin(user) or _hosts_for(user, opportunity.organisation_id)


def can_view_opportunity(user: Viewer, opportunity: Opportunity) -> bool:
    """Drafts are for the host; published opportunities (even closed ones) are public."""
    if opportunity.status is OpportunityStatus.DRAFT:
        return can_manage_opportunity(user, opportunity)
    return True


def is_applicant(user: Viewer, application: Application) -> bool:
    return signed_in(user) and application.applicant_id == user.id


def can_view_application(user: Viewer, application: Application) -> bool:
    """The applicant; and the host once the line manager approved (or need not)."""
    if is_applicant(user, application):
        return True
    return application.host_can_see and can_manage_opportunity(user, application.opportunity)


def can_decide_application(user: Viewer, application: Application) -> bool:
    return application.host_can_see and can_manage_opportunity(user, application.opportunity)


def can_view_placement(user: Viewer, placement: Placement) -> bool:
    """The participant and the host only."""
    application = placement.application
    return is_applicant(user, application) or can_manage_opportunity(
        user, application.opportunity
    )


def can_mark_placement_started(user: Viewer, placement: Placement) -> bool:
    """Either side (the participant or the host) marks a placement started: whoever is
    there on the day. The services add when (from the agreed start date)."""
    return can_view_placement(user, placement)
