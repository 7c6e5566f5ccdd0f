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

from dataclasses import dataclass
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


def can_set_organisation_email_domains(user: Any, organisation: Organisation) -> bool:
    """Record the organisation's email domains and require its staff's line managers'
    addresses to be on them: its admins (and site admins), as for its profile."""
    return can_edit_organisation(user, organisation)


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


# --- Forums ----------------------------------------------------------------------------
#
# A forum page asks many questions about one person and one forum; ``forum_access``
# answers them all with at most three small queries, and every forum predicate below
# goes through it, so views, templates and services agree.


@dataclass(frozen=True)
class ForumAccess:
    """What one person may do in one forum."""

    signed_in: bool
    membership: Any  # ForumMember | None
    is_convenor: bool
    is_officer: bool
    is_site_admin: bool
    is_banned: bool
    forum_is_public: bool

    @property
    def is_member(self) -> bool:
        from .forums.models import ForumMemberStatus

        return self.membership is not None and self.membership.status is ForumMemberStatus.ACTIVE

    @property
    def is_pending(self) -> bool:
        from .forums.models import ForumMemberStatus

        return (self.membership is not None
                and self.membership.status is ForumMemberStatus.PENDING)

    @property
    def can_manage(self) -> bool:
        """Convenors, the partnership's officers and site admins run the forum."""
        return self.is_convenor or self.is_officer or self.is_site_admin

    @property
    def can_read(self) -> bool:
        """Threads, member list and members-only meetings: public forums, or insiders."""
        return self.forum_is_public or self.is_member or self.can_manage

    @property
    def can_see_member_emails(self) -> bool:
        return self.is_member or self.can_manage

    @property
    def can_post(self) -> bool:
        return self.signed_in and not self.is_banned and (self.is_member or self.can_manage)


_NO_ACCESS = ForumAccess(False, None, False, False, False, False, False)


def forum_access(user: Any, forum: Any) -> ForumAccess:
    """Everything about ``user`` in ``forum``, cached for the rest of the request."""
    from flask import g, has_app_context

    from .forums.models import ForumBan, ForumConvenor, ForumMember

    if not _signed_in(user):
        return ForumAccess(False, None, False, False, False, False, forum.is_public)
    cache: dict[tuple[int, int], ForumAccess] | None = None
    if has_app_context():
        cache = g.setdefault("_forum_access", {})
        key = (user.id, forum.id)
        if key in cache:
            return cache[key]
    membership = db.session.scalar(
        select(ForumMember).where(ForumMember.forum_id == forum.id,
                                  ForumMember.user_id == user.id)
    )
    convenor_or_banned = db.session.execute(
        select(
            select(ForumConvenor.id).where(ForumConvenor.forum_id == forum.id,
                                           ForumConvenor.user_id == user.id).exists(),
            select(ForumBan.id).where(ForumBan.forum_id == forum.id,
                                      ForumBan.user_id == user.id).exists(),
        )
    ).one()
    access = ForumAccess(
        signed_in=True,
        membership=membership,
        is_convenor=bool(convenor_or_banned[0]),
        is_officer=is_partnership_officer(user, forum.partnership),
        is_site_admin=is_site_admin(user),
        is_banned=bool(convenor_or_banned[1]),
        forum_is_public=forum.is_public,
    )
    if cache is not None:
        cache[(user.id, forum.id)] = access
    return access


def forget_forum_access() -> None:
    """Drop cached answers after a service changed membership within this request."""
    from flask import g, has_app_context

    if has_app_context():
        g.pop("_forum_access", None)


def can_read_forum(user: Any, forum: Any) -> bool:
    return forum_access(user, forum).can_read


def can_manage_forum(user: Any, forum: Any) -> bool:
    return forum_access(user, forum).can_manage


def can_post_in_forum(user: Any, forum: Any) -> bool:
    return forum_access(user, forum).can_post


def can_create_forum(user: Any, partnership: Partnership) -> bool:
    """Officers and site admins, and convenors of another forum of the same partnership."""
    from .forums.models import Forum, ForumConvenor

    if not _signed_in(user):
        return False
    if can_manage_partnership(user, partnership):
        return True
    return db.session.scalar(
        select(ForumConvenor.id).join(Forum, Forum.id == ForumConvenor.forum_id).where(
            Forum.partnership_id == partnership.id, ForumConvenor.user_id == user.id
        ).limit(1)
    ) is not None


def can_create_forum_among(
    user: Any, partnership: Partnership, forums: list[Any],
    manages_partnership: bool | None = None,
) -> bool:
    """``can_create_forum`` for a page that has already loaded the partnership's forums
    with their convenors (and perhaps asked ``can_manage_partnership``): no extra query."""
    if not _signed_in(user):
        return False
    if any(c.user_id == user.id for forum in forums for c in forum.convenors):
        return True
    if manages_partnership is not None:
        return manages_partnership
    return can_manage_partnership(user, partnership)


POST_EDIT_WINDOW_MINUTES = 30


def can_edit_post(user: Any, post: Any, now: Any = None) -> bool:
    """Authors edit their own visible post for 30 minutes, while they may still post."""
    from datetime import timedelta

    from .modelbase import utcnow

    if not _signed_in(user) or post.author_id != user.id or post.is_hidden:
        return False
    if post.thread.locked:
        return False
    if (now or utcnow()) - post.created_at > timedelta(minutes=POST_EDIT_WINDOW_MINUTES):
        return False
    return can_post_in_forum(user, post.thread.forum)


# --- MoUs ------------------------------------------------------------------------------
#
# An MoU page asks many questions about one person; ``mou_access`` answers them all with
# two small queries (is the person an officer of the partnership; which organisations do
# they belong to, and administer), and every MoU predicate goes through it. Versions
# must come with their parties loaded (the MoU services load them), so no predicate
# queries per party or per row of the register.


@dataclass(frozen=True)
class MouAccess:
    """What one person may do with the MoUs of one partnership."""

    user_id: int | None
    is_site_admin: bool
    is_officer: bool
    admin_org_ids: frozenset[int]
    member_org_ids: frozenset[int]

    @property
    def manages(self) -> bool:
        """Officers of the partnership and site admins draft and run its MoUs."""
        return self.is_site_admin or self.is_officer

    def is_party_admin(self, version: Any) -> bool:
        return any(p.organisation_id in self.admin_org_ids for p in version.parties)

    def is_party_member(self, version: Any) -> bool:
        return any(p.organisation_id in self.member_org_ids for p in version.parties)

    def is_nominee(self, version: Any) -> bool:
        return self.user_id is not None and any(
            p.nominated_signatory_id == self.user_id for p in version.parties
        )

    def can_view_mou(self, mou: Any) -> bool:
        """Published MoUs that have been in force: everyone. Members-only ones: also
        the members of its parties. Before it is in force (draft, comments, signing):
        officers, site admins, the parties' admins and nominated signatories."""
        if self.manages:
            return True
        current = mou.current_version
        if current is not None and (mou.publish or self.is_party_member(current)):
            return True
        pending = mou.draft_version
        return pending is not None and (self.is_party_admin(pending) or self.is_nominee(pending))

    def can_view_version(self, version: Any) -> bool:
        """Signed versions follow the MoU; anything else is for the insiders."""
        from .mous.models import VersionStatus

        if version.status in (VersionStatus.SIGNED, VersionStatus.SUPERSEDED):
            return self.can_view_mou(version.mou)
        return self.manages or self.is_party_admin(version) or self.is_nominee(version)

    def can_see_comments(self, version: Any) -> bool:
        """Comments are the parties' working conversation, never public."""
        return self.manages or self.is_party_admin(version)

    def can_comment(self, version: Any) -> bool:
        from .mous.models import VersionStatus

        return version.status is VersionStatus.COMMENTS and self.can_see_comments(version)

    def is_authorised_signatory(self, version: Any, organisation_id: int) -> bool:
        """An active admin of the party's organisation, or the person it nominated."""
        party = version.party_for(organisation_id)
        if party is None or self.user_id is None:
            return False
        return (organisation_id in self.admin_org_ids
                or party.nominated_signatory_id == self.user_id)

    def can_sign(self, version: Any, organisation_id: int) -> bool:
        """Authorised, the version is out for signature, and the party has not yet
        signed or declined."""
        from .mous.models import VersionStatus

        return (version.status is VersionStatus.SIGNING
                and self.is_authorised_signatory(version, organisation_id)
                and version.signature_for(organisation_id) is None)

    def can_nominate(self, party: Any) -> bool:
        """An admin of the party's organisation, while the version is not yet signed."""
        return (party.organisation_id in self.admin_org_ids
                and party.version.status.is_in_progress
                and party.version.signature_for(party.organisation_id) is None)

    def signable_organisation_ids(self, version: Any) -> list[int]:
        return [p.organisation_id for p in version.parties
                if self.can_sign(version, p.organisation_id)]


def mou_access(user: Any, partnership: Partnership) -> MouAccess:
    """Everything the MoU predicates need to know about ``user`` (two small queries)."""
    if not _signed_in(user):
        return MouAccess(None, False, False, frozenset(), frozenset())
    rows = db.session.execute(
        select(OrganisationMember.organisation_id, OrganisationMember.role).where(
            OrganisationMember.user_id == user.id,
            OrganisationMember.status == RequestStatus.ACTIVE,
        )
    ).all()
    return MouAccess(
        user_id=user.id,
        is_site_admin=is_site_admin(user),
        is_officer=is_partnership_officer(user, partnership),
        admin_org_ids=frozenset(org_id for org_id, role in rows if role is MemberRole.ADMIN),
        member_org_ids=frozenset(org_id for org_id, _role in rows),
    )


def can_draft_mou(user: Any, partnership: Partnership) -> bool:
    return can_manage_partnership(user, partnership)


def can_manage_mou(user: Any, mou: Any) -> bool:
    """Edit drafts, send them round, open them for signature, amend, publish."""
    return can_manage_partnership(user, mou.partnership)


def can_view_mou(user: Any, mou: Any) -> bool:
    return mou_access(user, mou.partnership).can_view_mou(mou)


def can_view_version(user: Any, version: Any) -> bool:
    return mou_access(user, version.mou.partnership).can_view_version(version)


def can_comment(user: Any, version: Any) -> bool:
    return mou_access(user, version.mou.partnership).can_comment(version)


def can_sign(user: Any, version: Any, organisation: Organisation) -> bool:
    return mou_access(user, version.mou.partnership).can_sign(version, organisation.id)


def is_authorised_signatory(user: Any, version: Any, organisation: Organisation) -> bool:
    return mou_access(user, version.mou.partnership).is_authorised_signatory(
        version, organisation.id
    )


def can_nominate_signatory(user: Any, party: Any) -> bool:
    return mou_access(user, party.version.mou.partnership).can_nominate(party)


# --- Secondments -----------------------------------------------------------------------
#
# Hosts are the host organisation's active admins, the active members its admins allow
# to post opportunities (``OpportunityPoster``: say, the HR lead), and site admins. The
# right follows the person's membership: whoever leaves the organisation, stops being
# an admin, or has the right withdrawn, stops hosting at once, including opportunities
# they posted themselves. An applicant's statement is for the applicant, their line
# manager (who sees it through the emailed link, not through these predicates) and the
# host, and the host sees an application only once the line manager approved it (or
# approval is not needed). Each predicate runs at most one small query.


def _hosts_for(user: Any, organisation_id: int) -> bool:
    """An active admin of the organisation, or an active member its admins allowed to
    post (one query: the allowance counts only alongside an active membership)."""
    from sqlalchemy import or_

    from .opportunities.models import OpportunityPoster

    if not _signed_in(user):
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


def can_post_opportunity(user: Any, organisation: Organisation) -> bool:
    """The host organisation's admins, the members they allow, and site admins."""
    return is_site_admin(user) or _hosts_for(user, organisation.id)


def can_manage_opportunity_posters(user: Any, organisation: Organisation) -> bool:
    """Allow members to post the organisation's opportunities, or withdraw it: its
    admins (and site admins), never the allowed posters themselves."""
    return can_edit_organisation(user, organisation)


def can_manage_opportunity(user: Any, opportunity: Any) -> bool:
    """Edit, publish, close, withdraw, see applications and decide, and run placements:
    whoever may post for the host organisation now (see ``can_post_opportunity``)."""
    if not _signed_in(user):
        return False
    return is_site_admin(user) or _hosts_for(user, opportunity.organisation_id)


def can_view_opportunity(user: Any, opportunity: Any) -> bool:
    """Drafts are for the host; published opportunities (even closed ones) are public."""
    from .opportunities.models import OpportunityStatus

    if opportunity.status is OpportunityStatus.DRAFT:
        return can_manage_opportunity(user, opportunity)
    return True


def is_applicant(user: Any, application: Any) -> bool:
    return _signed_in(user) and application.applicant_id == user.id


def can_view_application(user: Any, application: Any) -> bool:
    """The applicant; and the host once the line manager approved (or need not)."""
    if is_applicant(user, application):
        return True
    return application.host_can_see and can_manage_opportunity(user, application.opportunity)


def can_decide_application(user: Any, application: Any) -> bool:
    return application.host_can_see and can_manage_opportunity(user, application.opportunity)


def can_view_placement(user: Any, placement: Any) -> bool:
    """The participant and the host only."""
    application = placement.application
    return is_applicant(user, application) or can_manage_opportunity(
        user, application.opportunity
    )


# --- Meetings --------------------------------------------------------------------------
#
# A meeting belongs to a forum and takes its people from ``forum_access`` (cached per
# request). A public meeting is for everyone; a members-only meeting, its joining link,
# papers and minutes are for the forum's members and those who run the forum, whatever
# the forum's own visibility. Organisers are the forum's convenors, the partnership's
# officers and site admins. Lists of meetings are filtered in SQL by
# ``meetings.queries.visible_to`` which encodes the same rule.


def _meeting_insider(user: Any, meeting: Any) -> bool:
    access = forum_access(user, meeting.forum)
    return access.is_member or access.can_manage


def can_view_meeting(user: Any, meeting: Any) -> bool:
    return meeting.is_public or _meeting_insider(user, meeting)


def can_manage_meeting(user: Any, meeting: Any) -> bool:
    """Edit, cancel, build the agenda, decide item requests, see registrations and
    access requirements, record attendance and minutes."""
    return forum_access(user, meeting.forum).can_manage


def can_schedule_meeting(user: Any, forum: Any) -> bool:
    return forum_access(user, forum).can_manage


def can_see_joining_link(user: Any, meeting: Any, registration: Any = None) -> bool:
    """Organisers and forum members; anyone else only once registered to attend, not
    waiting and not sending apologies (``registration`` is the person's own, if the
    page has loaded it)."""
    if not _signed_in(user) or not can_view_meeting(user, meeting):
        return False
    if _meeting_insider(user, meeting):
        return True
    from .meetings.models import RegistrationStatus, Response

    return (registration is not None and registration.user_id == user.id
            and registration.status is RegistrationStatus.CONFIRMED
            and registration.response is not Response.APOLOGIES)


def _may_answer_meeting(user: Any, meeting: Any) -> bool:
    if not _signed_in(user) or not can_view_meeting(user, meeting):
        return False
    return not forum_access(user, meeting.forum).is_banned


def can_register_for_meeting(user: Any, meeting: Any) -> bool:
    """Anyone signed in with a confirmed email address who can see the meeting, unless
    barred from its forum. Confirmed, as for joining a forum or an organisation: an
    answer may take one of a limited number of places, and it emails the joining link
    and tells the organisers, so it must come from an address the person really has."""
    return has_confirmed_email(user) and _may_answer_meeting(user, meeting)


def must_confirm_email_to_register(user: Any, meeting: Any) -> bool:
    """Would be allowed to register but for an unconfirmed address: pages say how to
    confirm rather than hiding the way in."""
    return (_signed_in(user) and not has_confirmed_email(user)
            and _may_answer_meeting(user, meeting))


def can_request_agenda_item(user: Any, meeting: Any) -> bool:
    """Members of the forum (and its organisers) with a confirmed address may ask for an
    item: the request emails the organisers."""
    access = forum_access(user, meeting.forum)
    return (access.signed_in and has_confirmed_email(user) and not access.is_banned
            and (access.is_member or access.can_manage))


def can_view_draft_agenda(user: Any, meeting: Any) -> bool:
    return can_manage_meeting(user, meeting)


def can_view_draft_minutes(user: Any, meeting: Any) -> bool:
    return can_manage_meeting(user, meeting)


def can_update_action(user: Any, action: Any) -> bool:
    """The action's owner, an admin of its owning organisation, or the organisers."""
    if not _signed_in(user):
        return False
    if action.owner_id == user.id:
        return True
    if action.owner_organisation_id is not None and _is_admin_of(
            user, action.owner_organisation_id):
        return True
    return can_manage_meeting(user, action.meeting)


def _is_admin_of(user: Any, organisation_id: int) -> bool:
    """An active admin of the organisation (one query). ``can_update_action`` lets the
    admins of an owning organisation update its actions."""
    if not _signed_in(user):
        return False
    return db.session.scalar(
        select(OrganisationMember.id).where(
            OrganisationMember.organisation_id == organisation_id,
            OrganisationMember.user_id == user.id,
            OrganisationMember.status == RequestStatus.ACTIVE,
            OrganisationMember.role == MemberRole.ADMIN,
        )
    ) is not None


def can_view_action(user: Any, action: Any) -> bool:
    """An action's page: whoever may update it (its owner, an admin of the owning
    organisation, the organisers), and whoever can read the minutes it belongs to
    (draft minutes are for the organisers only)."""
    meeting = action.meeting
    if can_view_meeting(user, meeting) and (
            meeting.minutes_published or can_view_draft_minutes(user, meeting)):
        return True
    return can_update_action(user, action)


def can_view_attendance_list(user: Any, meeting: Any) -> bool:
    """Who came, by name: the forum's members and organisers. Everyone else who can see
    the meeting sees only the counts, in the published minutes."""
    return _signed_in(user) and _meeting_insider(user, meeting)
