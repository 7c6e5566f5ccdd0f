"""Meetings: who sees a meeting, its joining link, papers and minutes, and who runs it.

A meeting belongs to a forum, or to a partnership itself (``forum_id`` empty: its board,
an annual assembly), and takes its people from its host: ``forum_access`` or
``partnership_access`` (each cached per request). A public meeting is for everyone; a
members-only meeting, its joining link, papers and minutes are for the host's insiders:

- a forum's meeting: the forum's active members and those who run the forum
  (convenors, the partnership's officers, site admins), whatever the forum's own
  visibility;
- a partnership's own meeting: the people of its member organisations (an active link
  to an organisation whose membership of the partnership is active), its officers
  and site admins. Its organisers are the officers and site admins.

The visibility rule has three forms kept side by side here and tested to agree
(tests/test_permissions_agree.py):

- ``can_view_meeting(user, meeting)``: one person, one meeting, in Python;
- ``meetings_visible_to(user)``: SQL condition on ``Meeting``, for lists and feeds;
- ``people_who_may_see_meeting(meeting)``: SQL condition on ``User``, for emails.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, or_, select, true
from sqlalchemy.orm import aliased

from ..accounts.models import User
from ..extensions import db
from ..forums.models import (
    Forum,
    ForumConvenor,
    ForumMember,
    ForumMemberStatus,
    Visibility,
)
from ..meetings.models import (
    ActionItem,
    Meeting,
    Registration,
    RegistrationStatus,
    Response,
)
from ..organisations.models import OrganisationMember, RequestStatus
from ..partnership.models import Partnership, PartnershipMember, PartnershipOfficer
from .core import Viewer, has_confirmed_email, is_site_admin, signed_in
from .forums import ForumAccess, forum_access, forum_insiders, insider_of
from .organisations import is_admin_of
from .partnership import (
    PartnershipAccess,
    partnership_access,
    partnership_insiders,
    partnerships_inside,
)


def _host_access(user: Viewer, meeting: Meeting) -> ForumAccess | PartnershipAccess:
    """What ``user`` is to the meeting's host: its forum, or its partnership for a
    meeting of the partnership itself."""
    if meeting.forum is not None:
        return forum_access(user, meeting.forum)
    return partnership_access(user, meeting.partnership)


# --- Who may see the meeting: Python and SQL side by side --------------------------------


def _meeting_insider(user: Viewer, meeting: Meeting) -> bool:
    return _host_access(user, meeting).is_insider


def can_view_meeting(user: Viewer, meeting: Meeting) -> bool:
    return meeting.is_public or _meeting_insider(user, meeting)


def meetings_visible_to(user: Viewer) -> ColumnElement[bool]:
    """``can_view_meeting`` as a SQL condition on ``Meeting``: a list of a thousand
    meetings costs one query, not a permission check per row."""
    public = Meeting.visibility == Visibility.PUBLIC
    if not signed_in(user):
        return public
    if is_site_admin(user):
        return true()
    return or_(public, meeting_insider_of(user))


def meeting_insider_of(user: User) -> ColumnElement[bool]:
    """SQL condition on ``Meeting``: ``user`` is an insider of its host (its forum, or
    its partnership for the partnership's own meetings), site admins aside. Each side
    names the ``forum_id`` it is about, so the condition is never NULL (``NOT`` of it
    is the meetings hidden from the person)."""
    return or_(
        and_(Meeting.forum_id.is_not(None), insider_of(Meeting.forum_id, user)),
        and_(Meeting.forum_id.is_(None), Meeting.partnership_id.in_(partnerships_inside(user.id))),
    )


def people_who_may_see_meeting(meeting: Meeting) -> ColumnElement[bool]:
    """``can_view_meeting`` turned round: SQL condition on ``User``. Emails about a
    members-only meeting use it, so a registrant who has since left or been removed
    from the forum is not sent its agenda, changes or joining link. Like
    ``forum_insiders`` it leaves ``User.deleted_at`` to the caller."""
    if meeting.is_public:
        return true()
    if meeting.forum_id is None:
        return partnership_insiders(meeting.partnership_id)
    return forum_insiders(meeting.forum_id, meeting.partnership_id)


def person_may_see_meeting(user_id: SQLColumnExpression[int]) -> ColumnElement[bool]:
    """``can_view_meeting`` for many people and meetings at once: SQL condition on
    ``Meeting`` for the person whose id is the column ``user_id`` of the same query
    (digests). Site admins included. The tables inside are aliased, so the query may
    itself join them."""
    member, convenor, officer, person = (aliased(ForumMember), aliased(ForumConvenor),
                                         aliased(PartnershipOfficer), aliased(User))
    link, joined = aliased(OrganisationMember), aliased(PartnershipMember)
    forum_member = select(member.id).where(
        member.forum_id == Meeting.forum_id, member.user_id == user_id,
        member.status == ForumMemberStatus.ACTIVE).exists()
    is_convenor = select(convenor.id).where(
        convenor.forum_id == Meeting.forum_id, convenor.user_id == user_id).exists()
    is_officer = select(officer.id).where(
        officer.partnership_id == Meeting.partnership_id, officer.user_id == user_id).exists()
    in_member_organisation = select(link.id).join(
        joined, joined.organisation_id == link.organisation_id).where(
        link.user_id == user_id, link.status == RequestStatus.ACTIVE,
        joined.partnership_id == Meeting.partnership_id,
        joined.status == RequestStatus.ACTIVE).exists()
    is_admin = select(person.id).where(person.id == user_id,
                                       person.is_site_admin.is_(True)).exists()
    return or_(
        Meeting.visibility == Visibility.PUBLIC, is_admin, is_officer,
        and_(Meeting.forum_id.is_not(None), or_(forum_member, is_convenor)),
        and_(Meeting.forum_id.is_(None), in_member_organisation),
    )


# --- Running the meeting -----------------------------------------------------------------


def can_manage_meeting(user: Viewer, meeting: Meeting) -> bool:
    """Edit, cancel, build the agenda, decide item requests, see registrations and
    access requirements, record attendance and minutes: the forum's convenors, or for
    a partnership's own meeting its officers; and site admins."""
    return _host_access(user, meeting).can_manage


def can_schedule_meeting(user: Viewer, host: Forum | Partnership) -> bool:
    """Schedule a meeting of a forum (its convenors, the officers, site admins) or of
    the partnership itself (its officers and site admins)."""
    if isinstance(host, Partnership):
        return partnership_access(user, host).can_manage
    return forum_access(user, host).can_manage


def can_view_draft_agenda(user: Viewer, meeting: Meeting) -> bool:
    return can_manage_meeting(user, meeting)


def can_view_draft_minutes(user: Viewer, meeting: Meeting) -> bool:
    return can_manage_meeting(user, meeting)


# --- Taking part -------------------------------------------------------------------------


def can_see_joining_link(user: Viewer, meeting: Meeting,
                         registration: Registration | None = None) -> bool:
    """Organisers and forum members; anyone else only once registered to attend, not
    waiting and not sending apologies (``registration`` is the person's own, if the
    page has loaded it)."""
    if not signed_in(user) or not can_view_meeting(user, meeting):
        return False
    if _meeting_insider(user, meeting):
        return True
    return (registration is not None and registration.user_id == user.id
            and registration.status is RegistrationStatus.CONFIRMED
            and registration.response is not Response.APOLOGIES)


def joining_links_for(user: Viewer, meetings: Iterable[Meeting],
                      registrations: Mapping[int, Registration]) -> dict[int, bool]:
    """``can_see_joining_link`` for many meetings at once (a personal calendar feed),
    by meeting id: the same rule, with who is an insider of which forum (and which
    partnership, for its own meetings) asked in one query each (``insider_of``,
    ``partnerships_inside``) rather than per host. ``registrations`` are the person's
    own, by meeting id. Tested to agree with the one-by-one form."""
    meetings = list(meetings)
    if not signed_in(user):
        return {meeting.id: False for meeting in meetings}
    forum_ids = {meeting.forum_id for meeting in meetings if meeting.forum_id is not None}
    partnership_ids = {meeting.partnership_id for meeting in meetings
                       if meeting.forum_id is None}
    if is_site_admin(user):
        forums_inside, inside = forum_ids, partnership_ids
    else:
        forums_inside = set(db.session.scalars(
            select(Forum.id).where(Forum.id.in_(forum_ids), insider_of(Forum.id, user)))
        ) if forum_ids else set()
        inside = set(db.session.scalars(partnerships_inside(user.id))) & partnership_ids \
            if partnership_ids else set()
    answers = {}
    for meeting in meetings:
        insider = (meeting.forum_id in forums_inside if meeting.forum_id is not None
                   else meeting.partnership_id in inside)
        registration = registrations.get(meeting.id)
        answers[meeting.id] = (meeting.is_public or insider) and (insider or (
            registration is not None and registration.user_id == user.id
            and registration.status is RegistrationStatus.CONFIRMED
            and registration.response is not Response.APOLOGIES))
    return answers


def _is_barred(user: Viewer, meeting: Meeting) -> bool:
    """Barred from the meeting's forum (a partnership bars no one from its meetings)."""
    return meeting.forum is not None and forum_access(user, meeting.forum).is_banned


def _may_answer_meeting(user: Viewer, meeting: Meeting) -> bool:
    if not signed_in(user) or not can_view_meeting(user, meeting):
        return False
    return not _is_barred(user, meeting)


def can_register_for_meeting(user: Viewer, meeting: Meeting) -> bool:
    """Anyone signed in with a confirmed email address who can see the meeting, unless
    barred from its forum. Confirmed, as for joining a forum or an organisation: an
    answer may take one of a limited number of places, and it emails the joining link
    and tells the organisers, so it must come from an address the person really has."""
    return has_confirmed_email(user) and _may_answer_meeting(user, meeting)


def must_confirm_email_to_register(user: Viewer, meeting: Meeting) -> bool:
    """Would be allowed to register but for an unconfirmed address: pages say how to
    confirm rather than hiding the way in."""
    return (signed_in(user) and not has_confirmed_email(user)
            and _may_answer_meeting(user, meeting))


def can_request_agenda_item(user: Viewer, meeting: Meeting) -> bool:
    """The host's insiders (members of the forum and its organisers; for a partnership's
    own meeting the people of its member organisations and its officers) with a
    confirmed address may ask for an item: the request emails the organisers."""
    return (signed_in(user) and has_confirmed_email(user) and not _is_barred(user, meeting)
            and _meeting_insider(user, meeting))


def can_ask_for_item(user: Viewer, meeting: Meeting) -> bool:
    """``can_request_agenda_item``, while the meeting is upcoming and not cancelled (the
    agenda panel offers the form only then)."""
    return (not meeting.is_cancelled and not meeting.has_started()
            and can_request_agenda_item(user, meeting))


def can_download_paper(user: Viewer, meeting: Meeting) -> bool:
    """Papers follow the meeting's visibility; a draft agenda's papers are for the
    organisers only."""
    if not can_view_meeting(user, meeting):
        return False
    return meeting.agenda_published or can_view_draft_agenda(user, meeting)


# --- Records: attendance, minutes, actions -------------------------------------------------


def can_view_attendance_list(user: Viewer, meeting: Meeting) -> bool:
    """Who came, by name: the host's insiders (the forum's members and organisers, or
    the partnership's people). Everyone else who can see the meeting sees only the
    counts, in the published minutes."""
    return signed_in(user) and _meeting_insider(user, meeting)


def can_update_action(user: Viewer, action: ActionItem) -> bool:
    """The action's owner, an admin of its owning organisation, or the organisers."""
    if not signed_in(user):
        return False
    if action.owner_id == user.id:
        return True
    if action.owner_organisation_id is not None and is_admin_of(
            user, action.owner_organisation_id):
        return True
    return can_manage_meeting(user, action.meeting)


def can_view_action(user: Viewer, action: ActionItem) -> bool:
    """An action's page: whoever may update it (its owner, an admin of the owning
    organisation, the organisers), and whoever can read the minutes it belongs to
    (draft minutes are for the organisers only)."""
    meeting = action.meeting
    if can_view_meeting(user, meeting) and (
            meeting.minutes_published or can_view_draft_minutes(user, meeting)):
        return True
    return can_update_action(user, action)
