"""Lists of meetings, filtered in SQL by who may see them.

Who may see a meeting is ``permissions.meetings_visible_to``, the SQL form of
``permissions.can_view_meeting`` kept beside it (and tested to agree), so a list of a
thousand meetings costs one query, not a permission check per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, or_, select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..extensions import db
from ..forums.models import Forum, ForumConvenor, ForumMember, ForumMemberStatus, Visibility
from ..modelbase import utcnow
from .models import (
    ActionItem,
    ActionStatus,
    Meeting,
    MeetingStatus,
    Registration,
    RegistrationStatus,
)

PER_PAGE = 20
# Every meeting starts and ends on the same UK day (``scheduling`` takes a day, a
# start and an end), so none lasts 25 hours. Lists that ask "not ended by t" also say
# "started after t - MAX_LENGTH", which adds nothing to the answer but lets the
# database read an index range on ``starts_at`` instead of every meeting ever held.
MAX_LENGTH = timedelta(hours=25)


def not_ended(moment: datetime) -> list[ColumnElement[bool]]:
    """Meetings that have not ended at ``moment``, with the bound on ``starts_at`` that
    ``MAX_LENGTH`` allows."""
    return [Meeting.ends_at > moment, Meeting.starts_at > moment - MAX_LENGTH]


def _with_forum() -> Any:
    """The meeting's host, loaded with it: its forum (if any) and its partnership."""
    return (joinedload(Meeting.forum).joinedload(Forum.partnership),
            joinedload(Meeting.partnership))


@dataclass
class MeetingPage:
    meetings: list[Meeting]
    total: int
    page: int


def listing(user: Any, *, partnership_id: int | None = None, forum_id: int | None = None,
            past: bool = False, page: int = 1, now: datetime | None = None) -> MeetingPage:
    """Upcoming meetings (soonest first, including those in progress) or past ones
    (latest first) of a partnership (its own and its forums') or a forum, as ``user``
    may see them."""
    now = now or utcnow()
    shared = _shared_visibility(user)
    if shared is not None and (forum_id is None or partnership_id is None):
        host, host_id = (("forum", forum_id) if forum_id is not None else
                         ("partnership", partnership_id) if partnership_id is not None
                         else ("any", None))
        count, rows = _listing_statements(shared, host, past)
        params = {"host_id": host_id, "moment": now, "moment_from": now - MAX_LENGTH,
                  "offset": (page - 1) * PER_PAGE}
        total = db.session.scalar(count, params) or 0
        return MeetingPage(list(db.session.scalars(rows, params)), total, page)
    conditions = [permissions.meetings_visible_to(user)]
    if forum_id is not None:
        conditions.append(Meeting.forum_id == forum_id)
    if partnership_id is not None:
        conditions.append(Meeting.partnership_id == partnership_id)
    conditions += [Meeting.ends_at <= now] if past else not_ended(now)
    order = (Meeting.starts_at.desc(), Meeting.id.desc()) if past else (
        Meeting.starts_at, Meeting.id)
    total = db.session.scalar(select(func.count(Meeting.id)).where(*conditions)) or 0
    meetings = list(db.session.scalars(
        select(Meeting).options(*_with_forum()).where(*conditions).order_by(*order)
        .limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ))
    return MeetingPage(meetings, total, page)


@cache
def _listing_statements(visibility: str, host: str, past: bool) -> tuple[Any, Any]:
    """``listing``'s count and page statements for a shared visibility, built once
    (parameters ``host_id``, ``moment``, ``moment_from``, ``offset``)."""
    user = _VISIBILITY_STAND_INS[visibility]
    moment = Meeting.ends_at.type
    when = ([Meeting.ends_at <= bindparam("moment", type_=moment)] if past
            else _not_ended_parameters())
    conditions = [permissions.meetings_visible_to(user), *_host_parameter(host), *when]
    order = (Meeting.starts_at.desc(), Meeting.id.desc()) if past else (
        Meeting.starts_at, Meeting.id)
    return (select(func.count(Meeting.id)).where(*conditions),
            select(Meeting).options(*_with_forum()).where(*conditions).order_by(*order)
            .limit(PER_PAGE).offset(bindparam("offset")))


def _shared_visibility(user: Any) -> str | None:
    """Whose ``meetings_visible_to`` ``user``'s is the same as: everyone signed out
    shares one, site admins another; anyone else's reads their memberships (None)."""
    if not permissions.signed_in(user):
        return "public"
    return "admin" if permissions.is_site_admin(user) else None


@cache
def _next_meetings_statement(visibility: str, host: str, limit: int) -> Any:
    """``next_meetings``' statement for a shared visibility, built once (parameters
    ``host_id``, ``moment`` and ``moment_from``): building it and its cache key cost
    more than running it, on every partnership, forum and meetings page."""
    user = _VISIBILITY_STAND_INS[visibility]
    return (select(Meeting).options(*_with_forum())
            .where(permissions.meetings_visible_to(user), *_not_ended_parameters(),
                   *_host_parameter(host))
            .order_by(Meeting.starts_at, Meeting.id).limit(limit))


@cache
def _hidden_upcoming_statement(visibility: str, host: str) -> Any:
    """``hidden_upcoming_count``'s statement for a shared visibility, built once."""
    user = _VISIBILITY_STAND_INS[visibility]
    where = (Meeting.forum_id == bindparam("host_id") if host == "forum" else
             (Meeting.partnership_id == bindparam("host_id")) & Meeting.forum_id.is_(None))
    return select(func.count(Meeting.id)).where(
        where, ~permissions.meetings_visible_to(user),
        Meeting.status != MeetingStatus.CANCELLED, *_not_ended_parameters())


class _SignedOut:
    is_authenticated = False
    is_site_admin = False


class _SiteAdmin:
    is_authenticated = True
    is_active = True
    is_site_admin = True


_VISIBILITY_STAND_INS: dict[str, Any] = {"public": _SignedOut(), "admin": _SiteAdmin()}


def _not_ended_parameters() -> list[ColumnElement[bool]]:
    """``not_ended`` with its moment as parameters ``moment`` and ``moment_from``
    (``moment`` less ``MAX_LENGTH``)."""
    moment = Meeting.ends_at.type
    return [Meeting.ends_at > bindparam("moment", type_=moment),
            Meeting.starts_at > bindparam("moment_from", type_=moment)]


def _host_parameter(host: str) -> list[ColumnElement[bool]]:
    if host == "forum":
        return [Meeting.forum_id == bindparam("host_id")]
    if host == "partnership":
        return [Meeting.partnership_id == bindparam("host_id")]
    return []


def next_meetings(user: Any, *, forum_id: int | None = None,
                  partnership_id: int | None = None, limit: int = 3) -> list[Meeting]:
    """The next few meetings ``user`` may see, for a forum's or partnership's page
    (one query)."""
    now = utcnow()
    shared = _shared_visibility(user)
    if shared is not None and (forum_id is None or partnership_id is None):
        host, host_id = (("forum", forum_id) if forum_id is not None else
                         ("partnership", partnership_id) if partnership_id is not None
                         else ("any", None))
        return list(db.session.scalars(
            _next_meetings_statement(shared, host, limit),
            {"host_id": host_id, "moment": now, "moment_from": now - MAX_LENGTH}))
    conditions = [permissions.meetings_visible_to(user), *not_ended(now)]
    if forum_id is not None:
        conditions.append(Meeting.forum_id == forum_id)
    if partnership_id is not None:
        conditions.append(Meeting.partnership_id == partnership_id)
    return list(db.session.scalars(
        select(Meeting).options(*_with_forum()).where(*conditions)
        .order_by(Meeting.starts_at, Meeting.id).limit(limit)))


def hidden_upcoming_count(user: Any, *, forum_id: int | None = None,
                          partnership_id: int | None = None) -> int:
    """How many meetings of the forum (or of the partnership itself, ``forum_id``
    None) are coming up (not ended, not cancelled) that ``user`` may not see: its
    members-only meetings, for someone outside it. The pages say how many, never which
    (one query)."""
    now = utcnow()
    shared = _shared_visibility(user)
    if shared is not None:
        host, host_id = (("forum", forum_id) if forum_id is not None
                         else ("partnership", partnership_id))
        return db.session.scalar(
            _hidden_upcoming_statement(shared, host),
            {"host_id": host_id, "moment": now, "moment_from": now - MAX_LENGTH}) or 0
    host_condition = (Meeting.forum_id == forum_id if forum_id is not None else
                      (Meeting.partnership_id == partnership_id) & Meeting.forum_id.is_(None))
    return db.session.scalar(
        select(func.count(Meeting.id)).where(
            host_condition, ~permissions.meetings_visible_to(user),
            Meeting.status != MeetingStatus.CANCELLED, *not_ended(now))) or 0


def has_public_meetings(forum_id: int) -> bool:
    """Whether the forum has any public meeting, so its public calendar feed is worth
    offering (a members-only forum's meetings usually are all members-only)."""
    return db.session.scalar(
        select(Meeting.id).where(Meeting.forum_id == forum_id,
                                 Meeting.visibility == Visibility.PUBLIC).limit(1)) is not None


def is_mine(user: Any) -> ColumnElement[bool]:
    """A meeting of a forum ``user`` belongs to or convenes, a meeting of a
    partnership they are one of the people of (an officer, or through a member
    organisation), or one they registered for (and did not cancel): "My meetings" and
    the personal calendar feed."""
    member_of = select(ForumMember.forum_id).where(
        ForumMember.user_id == user.id, ForumMember.status == ForumMemberStatus.ACTIVE)
    convenes = select(ForumConvenor.forum_id).where(ForumConvenor.user_id == user.id)
    registered = select(Registration.meeting_id).where(
        Registration.user_id == user.id, Registration.status != RegistrationStatus.CANCELLED)
    own_meeting_of = (Meeting.forum_id.is_(None)
                      & Meeting.partnership_id.in_(permissions.partnerships_inside(user.id)))
    return or_(Meeting.forum_id.in_(member_of), Meeting.forum_id.in_(convenes),
               own_meeting_of, Meeting.id.in_(registered))


def my_meetings(user: Any, *, past: bool = False, now: datetime | None = None,
                limit: int = 100) -> list[Meeting]:
    """Meetings of the forums ``user`` belongs to or convenes, and meetings they
    registered for (and did not cancel)."""
    now = now or utcnow()
    mine = is_mine(user)
    when = [Meeting.ends_at <= now] if past else not_ended(now)
    order = (Meeting.starts_at.desc(),) if past else (Meeting.starts_at,)
    return list(db.session.scalars(
        select(Meeting).options(*_with_forum())
        .where(mine, *when, permissions.meetings_visible_to(user))
        .order_by(*order, Meeting.id).limit(limit)
    ))


def my_registrations(user: Any, meeting_ids: list[int]) -> dict[int, Registration]:
    """The person's own registrations for these meetings, by meeting id (one query)."""
    if not meeting_ids or not getattr(user, "is_authenticated", False):
        return {}
    rows = db.session.scalars(select(Registration).where(
        Registration.user_id == user.id, Registration.meeting_id.in_(meeting_ids)))
    return {row.meeting_id: row for row in rows}


@cache
def _get_meeting_statement() -> Any:
    """``get_meeting``'s statement (parameter ``meeting_id``), built once."""
    return select(Meeting).options(*_with_forum()).where(Meeting.id == bindparam("meeting_id"))


def get_meeting(meeting_id: int) -> Meeting | None:
    meeting: Meeting | None = db.session.scalar(_get_meeting_statement(),
                                                {"meeting_id": meeting_id})
    return meeting


def open_actions_before(meeting: Meeting) -> list[ActionItem]:
    """Open actions agreed at earlier meetings of the same forum (or of the partnership
    itself, for its own meetings): the "matters arising" of ``meeting``, carried
    automatically until someone marks them done or dropped."""
    if meeting.forum_id is not None:
        params = {"host_id": meeting.forum_id, "starts_at": meeting.starts_at}
    else:
        params = {"host_id": meeting.partnership_id, "starts_at": meeting.starts_at}
    return list(db.session.scalars(_open_actions_statement(meeting.forum_id is not None),
                                   params))


@cache
def _open_actions_statement(of_forum: bool) -> Any:
    """``open_actions_before``'s statement for a forum's meetings or a partnership's
    own (parameters ``host_id``, ``starts_at``), built once."""
    if of_forum:
        same_host = [Meeting.forum_id == bindparam("host_id")]
        action_host = [ActionItem.forum_id == bindparam("host_id")]
    else:
        same_host = [Meeting.partnership_id == bindparam("host_id"),
                     Meeting.forum_id.is_(None)]
        action_host = [ActionItem.forum_id.is_(None)]
    earlier = select(Meeting.id).where(
        *same_host, Meeting.starts_at < bindparam("starts_at", type_=Meeting.starts_at.type))
    return (select(ActionItem)
            .options(joinedload(ActionItem.owner), joinedload(ActionItem.owner_organisation),
                     joinedload(ActionItem.meeting))
            .where(*action_host, ActionItem.status == ActionStatus.OPEN,
                   ActionItem.meeting_id.in_(earlier))
            .order_by(ActionItem.due_date.is_(None), ActionItem.due_date, ActionItem.id))


def calendar_window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """Feeds carry about three months back and eighteen months ahead (well under the
    1 MB Google accepts)."""
    now = now or utcnow()
    return now - timedelta(days=92), now + timedelta(days=549)
