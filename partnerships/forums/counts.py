"""``Forum.member_count``: how many active members a forum has, stored.

The partnership page and the list of forums show each forum's member count. Counting
``forum_members`` rows for a dozen forums read thousands of index entries at full
scale, so the page's time grew with the forums' sizes. The count is stored on the
forum and moved in the same transaction as the membership, whatever writes it
(services, seed, factories, tests adding rows):

- a membership inserted as active, or changed to active, adds one; one changed from
  active (left, removed), or deleted while active, takes one away: through the ORM
  (mapper events below) or through ``JoinRequests``' conditional ``UPDATE``s, which
  run no ORM events and call ``moved`` once they have changed the row;
- each move is a single ``UPDATE forums SET member_count = member_count + delta``
  on the forum's row, so two memberships changing at once both count (the database
  applies one after the other; neither reads the count first).

Bulk loads (``flask seed scale``) and migration 0024 set it with ``refresh``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, func, inspect, select, update
from sqlalchemy.engine import Connection

from ..extensions import db
from .models import Forum, ForumMember, ForumMemberStatus

ACTIVE = ForumMemberStatus.ACTIVE


def refresh(connection: Connection, *conditions: Any) -> None:
    """Set the count of the forums matching ``conditions`` (all, if none) from their
    memberships, in one ``UPDATE`` of those whose count is not already right."""
    counted = (select(func.count(ForumMember.id))
               .where(ForumMember.forum_id == Forum.id, ForumMember.status == ACTIVE)
               .scalar_subquery())
    connection.execute(update(Forum).where(*conditions, Forum.member_count != counted)
                       .values(member_count=counted))


def _move(connection: Connection, forum_id: int, delta: int) -> None:
    connection.execute(update(Forum).where(Forum.id == forum_id)
                       .values(member_count=Forum.member_count + delta))


def moved(member: ForumMember, was: Any, now: Any) -> None:
    """``JoinRequests.moved``: a membership's status changed by a conditional
    ``UPDATE`` (join requests decided, left, withdrawn, removed), which runs no ORM
    events; called in the same transaction, once the ``UPDATE`` has changed the row."""
    if (was is ACTIVE) != (now is ACTIVE):
        _move(db.session.connection(), member.forum_id, 1 if now is ACTIVE else -1)


@event.listens_for(ForumMember, "after_insert")
def _inserted(_mapper: Any, connection: Connection, member: ForumMember) -> None:
    if member.status is ACTIVE:
        _move(connection, member.forum_id, 1)


@event.listens_for(ForumMember, "after_update")
def _updated(_mapper: Any, connection: Connection, member: ForumMember) -> None:
    history = inspect(member).attrs.status.history
    if not history.has_changes():
        return
    was = ACTIVE in (history.deleted or ())
    now = member.status is ACTIVE
    if was != now:
        _move(connection, member.forum_id, 1 if now else -1)


@event.listens_for(ForumMember, "after_delete")
def _deleted(_mapper: Any, connection: Connection, member: ForumMember) -> None:
    history = inspect(member).attrs.status.history
    stored = history.deleted[0] if history.deleted else member.status
    if stored is ACTIVE:
        _move(connection, member.forum_id, -1)
