"""The people and organisations of a meeting's host, as SQL conditions: its forum, or
the partnership itself for the partnership's own meetings (board, assembly).

Agendas, minutes and item requests are sent to these people, and presenters and
action owners are chosen from them, so the services ask here rather than branching on
the forum. Who may *see* a members-only meeting stays in ``permissions.meetings``;
every email list here is also filtered by ``people_who_may_see_meeting`` where the
meeting is members-only.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, or_, select, union

from .. import permissions
from ..accounts.models import User
from ..forums.models import ForumConvenor, ForumMember, ForumMemberStatus
from ..organisations.models import RequestStatus
from ..partnership.models import PartnershipMember, PartnershipOfficer
from .models import Meeting


def _forum_members(forum_id: int) -> Select[tuple[int]]:
    return select(ForumMember.user_id).where(ForumMember.forum_id == forum_id,
                                             ForumMember.status == ForumMemberStatus.ACTIVE)


def members(meeting: Meeting) -> ColumnElement[bool]:
    """SQL on ``User``: the host's members, told when an agenda or minutes are
    published: a forum's active members; a partnership's officers and the people of
    its member organisations."""
    if meeting.forum_id is None:
        return permissions.partnership_people(meeting.partnership_id)
    return User.id.in_(_forum_members(meeting.forum_id))


def members_and_organisers(meeting: Meeting) -> ColumnElement[bool]:
    """SQL on ``User``: who can present an item or own an action: a forum's active
    members and convenors; a partnership's officers and its member organisations'
    people."""
    if meeting.forum_id is None:
        return permissions.partnership_people(meeting.partnership_id)
    convenors = select(ForumConvenor.user_id).where(ForumConvenor.forum_id == meeting.forum_id)
    return or_(User.id.in_(_forum_members(meeting.forum_id)), User.id.in_(convenors))


def organisers(meeting: Meeting) -> ColumnElement[bool]:
    """SQL on ``User``: who is told of an item request: a forum's convenors; a
    partnership's officers (site admins are not emailed about every meeting)."""
    if meeting.forum_id is None:
        return User.id.in_(select(PartnershipOfficer.user_id).where(
            PartnershipOfficer.partnership_id == meeting.partnership_id))
    return User.id.in_(select(ForumConvenor.user_id).where(
        ForumConvenor.forum_id == meeting.forum_id))


def organisation_ids(meeting: Meeting) -> Select[tuple[int]]:
    """The ids of organisations that can present or own an action: the partnership's
    member organisations and, for a forum, those its members and convenors
    represent."""
    partners = select(PartnershipMember.organisation_id).where(
        PartnershipMember.partnership_id == meeting.partnership_id,
        PartnershipMember.status == RequestStatus.ACTIVE)
    if meeting.forum_id is None:
        return partners
    ids = union(
        select(ForumMember.organisation_id).where(
            ForumMember.forum_id == meeting.forum_id,
            ForumMember.status == ForumMemberStatus.ACTIVE,
            ForumMember.organisation_id.is_not(None)),
        select(ForumConvenor.organisation_id).where(
            ForumConvenor.forum_id == meeting.forum_id,
            ForumConvenor.organisation_id.is_not(None)),
        partners,
    ).subquery()
    return select(ids.c[0])
