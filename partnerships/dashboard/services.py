"""What needs the signed-in person, gathered from every domain for ``/my/``.

People arrive here after signing in and after confirming their email address, so the
page answers "what do I do next?" without a tour of the menus: their forums and the
discussions they have not read, their next meetings, actions they own, their own
applications, and the decisions waiting for them as a convenor, an organisation
admin, a partnership officer, a host or a signatory. Each list reuses the query its
own page uses (so the rules of who sees what stay in one place) and is cut short here,
with a link to the full page. A new account with no organisation and no forum gets
the first steps instead of empty lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..accounts.models import User
from ..extensions import db
from ..forums import discussions
from ..forums import services as forum_services
from ..forums.models import Forum, ForumMember, ForumMemberStatus, Thread
from ..meetings import queries as meeting_queries
from ..meetings import records
from ..meetings.models import ActionItem, ItemRequest, ItemRequestStatus, Meeting
from ..modelbase import utcnow
from ..mous.models import Mou, MouParty, MouSignature, MouVersion, VersionStatus
from ..opportunities import applications as opportunity_applications
from ..opportunities import services as opportunity_services
from ..opportunities.models import Application
from ..organisations import services as organisation_services
from ..organisations.models import MemberRole, OrganisationMember, RequestStatus
from ..partnership import services as partnership_services
from ..partnership.models import Partnership, PartnershipOfficer

SHOWN = 5  # of each list; the section links to its full page


@dataclass(frozen=True)
class Waiting:
    """A decision waiting for this person: ``text`` links to ``endpoint`` with
    ``values`` (url_for's arguments)."""

    text: str
    endpoint: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Dashboard:
    forums: list[ForumMember]
    pending_forums: list[ForumMember]
    unread: list[Thread]
    unread_more: bool
    meetings: list[Meeting]
    actions: records.MyActions
    applications: list[Application]
    waiting: list[Waiting]
    organisations: list[OrganisationMember]
    pending_organisations: list[OrganisationMember]

    @property
    def is_new(self) -> bool:
        """No organisation and no forum yet, not even asked for: show the first steps."""
        return not (self.organisations or self.pending_organisations or self.forums
                    or self.pending_forums)

    @property
    def open_actions(self) -> list[ActionItem]:
        return self.actions.open[:SHOWN]


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def dashboard(user: User) -> Dashboard:
    """Everything ``/my/`` shows, in a fixed number of queries however much there is."""
    forum_links = forum_services.my_memberships(user)
    all_organisation_links = organisation_services.memberships_of(user)
    organisation_links = [link for link in all_organisation_links
                          if link.status in (RequestStatus.ACTIVE, RequestStatus.PENDING)]
    unread = discussions.unread_threads(user, limit=SHOWN + 1)
    open_applications = [application for application in opportunity_applications.mine(user)
                         if application.status.is_open][:SHOWN]
    return Dashboard(
        forums=[link for link in forum_links if link.status is ForumMemberStatus.ACTIVE],
        pending_forums=[link for link in forum_links
                        if link.status is ForumMemberStatus.PENDING],
        unread=unread[:SHOWN],
        unread_more=len(unread) > SHOWN,
        meetings=meeting_queries.my_meetings(user, limit=SHOWN),
        actions=records.my_actions(user),
        applications=open_applications,
        waiting=waiting_for(user, all_organisation_links),
        organisations=sorted((link for link in organisation_links
                              if link.status is RequestStatus.ACTIVE),
                             key=lambda link: link.organisation.name.lower()),
        pending_organisations=[link for link in organisation_links
                               if link.status is RequestStatus.PENDING],
    )


def waiting_for(user: User,
                organisation_links: list[OrganisationMember] | None = None) -> list[Waiting]:
    """Decisions waiting for this person, one line per place to act.
    ``organisation_links`` are their organisation links if already read."""
    if organisation_links is None:
        organisation_links = organisation_services.memberships_of(user)
    convened = forum_services.convened_forums(user)
    waiting: list[Waiting] = []
    waiting += _forum_requests(convened)
    waiting += _organisation_requests(organisation_links)
    waiting += _partnership_requests(user)
    waiting += _applications_to_review(user)
    waiting += _agenda_requests(user, convened)
    waiting += _signatures(user)
    return waiting


def _forum_requests(convened: list[Forum]) -> list[Waiting]:
    counts = forum_services.pending_counts([forum.id for forum in convened])
    return [Waiting(f"{_plural(counts[forum.id], 'request', 'requests')} to join "
                    f"{forum.name}", "forums.requests",
                    {"slug": forum.partnership.slug, "forum_slug": forum.slug})
            for forum in convened if counts.get(forum.id)]


def _organisation_requests(links: list[OrganisationMember]) -> list[Waiting]:
    admin_links = [link for link in links
                   if link.status is RequestStatus.ACTIVE and link.is_admin]
    counts = organisation_services.JOIN_REQUESTS.waiting_counts(
        [link.organisation_id for link in admin_links])
    return [Waiting(f"{_plural(counts[link.organisation_id], 'person asks', 'people ask')} "
                    f"to join {link.organisation.name}", "organisations.members",
                    {"key": link.organisation.slug})
            for link in admin_links if counts.get(link.organisation_id)]


def _partnership_requests(user: User) -> list[Waiting]:
    officed = list(db.session.scalars(
        select(Partnership).join(PartnershipOfficer,
                                 PartnershipOfficer.partnership_id == Partnership.id)
        .where(PartnershipOfficer.user_id == user.id).order_by(Partnership.name)))
    counts = partnership_services.JOIN_REQUESTS.waiting_counts(
        [partnership.id for partnership in officed])
    return [Waiting(f"{_plural(counts[partnership.id], 'organisation asks', 'organisations ask')}"
                    f" to join {partnership.name}", "partnership.requests",
                    {"slug": partnership.slug})
            for partnership in officed if counts.get(partnership.id)]


def _applications_to_review(user: User) -> list[Waiting]:
    opportunities = opportunity_services.managed_opportunities(user)
    counts = opportunity_services.host_counts([item.id for item in opportunities])
    return [Waiting(f"{_plural(counts[item.id].to_review, 'application', 'applications')} "
                    f"to review for {item.title}", "opportunities.applications",
                    {"opportunity_id": item.id})
            for item in opportunities if counts[item.id].to_review]


def _agenda_requests(user: User, convened: list[Forum]) -> list[Waiting]:
    """Item requests waiting on meetings the person organises: of the forums they
    convene, and the own meetings of the partnerships they are an officer of."""
    convened_ids = [forum.id for forum in convened]
    own_meetings = and_(Meeting.forum_id.is_(None),
                        Meeting.partnership_id.in_(permissions.partnerships_run_by(user.id)))
    rows = db.session.execute(
        select(Meeting, func.count(ItemRequest.id))
        .join(ItemRequest, ItemRequest.meeting_id == Meeting.id)
        .where(or_(Meeting.forum_id.in_(convened_ids), own_meetings),
               ItemRequest.status == ItemRequestStatus.PENDING,
               Meeting.ends_at > utcnow())
        .group_by(Meeting.id).order_by(Meeting.starts_at)).tuples().all()
    return [Waiting(f"{_plural(count, 'request', 'requests')} for an item on the agenda of "
                    f"{meeting.title}", "meetings.item_requests", {"meeting_id": meeting.id})
            for meeting, count in rows]


def _signatures(user: User) -> list[Waiting]:
    """MoUs out for signature where the person may sign for a party that has not yet
    signed (or declined): an admin of the party, or the signatory it nominated."""
    administered = select(OrganisationMember.organisation_id).where(
        OrganisationMember.user_id == user.id, OrganisationMember.role == MemberRole.ADMIN,
        OrganisationMember.status == RequestStatus.ACTIVE)
    rows = db.session.execute(
        select(Mou, MouVersion, MouParty)
        .join(MouVersion, MouVersion.mou_id == Mou.id)
        .join(MouParty, MouParty.version_id == MouVersion.id)
        .outerjoin(MouSignature, and_(MouSignature.version_id == MouVersion.id,
                                      MouSignature.organisation_id == MouParty.organisation_id))
        .where(MouVersion.status == VersionStatus.SIGNING, MouSignature.id.is_(None),
               (MouParty.organisation_id.in_(administered))
               | (MouParty.nominated_signatory_id == user.id))
        .options(joinedload(Mou.partnership), joinedload(MouParty.organisation))
        .order_by(Mou.id, MouParty.position)).tuples().all()
    return [Waiting(f"Sign {version.title} for {party.organisation.name}", "mous.show",
                    {"slug": mou.partnership.slug, "mou_id": mou.id})
            for mou, version, party in rows]

