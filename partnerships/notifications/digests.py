"""Daily and weekly digests: ``flask digests send`` (run hourly from cron).

When they go out. A daily digest is due at 07:00 UK time each day and covers what
happened up to then since the person's last one; a weekly digest at 07:00 UK time each
Monday. The settings page says so. A run sends each digest whose time has passed by
``SETTLE`` (five minutes): an item is recorded with the time its change was made, in
the transaction that commits it a moment later, so a window that ends five minutes
before the run cannot miss an item that was committed late. Hourly runs catch up on
a missed hour, or a missed day, by themselves.

What they hold, built from the records (never from queued messages), grouped by forum
and partnership: new discussions and replies (first lines, a link), meetings
scheduled, changed or cancelled, agendas published, minutes published, and the
person's own open actions that have come within ``DUE_SOON`` of their due date. A
person gets a digest for each forum they are an active member of, and each partnership
they belong to, whose level (or default) is a digest level; what they may not see is
left out with the permissions layer's SQL rules (``person_may_read_forum``,
``person_may_see_meeting``), and hidden or deleted posts and unpublished agendas and
minutes are never in one. A person with nothing new gets no email.

Once only. ``DigestCursor`` records, per person and forum or partnership, the end of
the last window sent. Each person's digest is claimed by moving their cursors with a
conditional UPDATE on the value read (or by inserting the first one, under its unique
constraint) in the same transaction that queues the email: a second run at the same
time, or the same run twice, finds the cursor moved and sends nothing. A window
starts at the cursor (or, for a first digest, a day or week before, but not before the
person chose the digest level, whose emails came at once until then).

Bounded. Building every digest takes a fixed number of queries whatever the activity
(two for who gets one, one each for posts, meetings, members-only meetings' readers,
actions, forums and partnerships); sending then costs each person an UPDATE (or
INSERT) per forum or partnership in it and the email's INSERT.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import url_for
from sqlalchemy import and_, func, or_, select, true, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

from .. import mail, permissions, transactions
from ..accounts.models import User
from ..conditional import rows_updated
from ..extensions import db
from ..forums.discussions import POSTS_PER_PAGE
from ..forums.models import Forum, ForumMember, ForumMemberStatus, Post, Thread
from ..mail.kinds import Kind
from ..meetings.models import ActionItem, ActionStatus, Meeting, MeetingStatus
from ..modelbase import utcnow
from ..organisations.models import OrganisationMember, RequestStatus
from ..partnership.models import Partnership, PartnershipMember, PartnershipOfficer
from ..revision import quietly
from ..timeutil import format_day, format_uk, to_uk, uk_local_to_utc
from .models import DEFAULT_LEVEL, DIGEST_LEVELS, DigestCursor, Level, NotificationDefault
from .models import NotificationLevel as Chosen

DIGEST_TIME = time(7, 0)  # UK time, daily; and on Mondays for the weekly digest
WEEKLY_ON = 0  # Monday
SETTLE = timedelta(minutes=5)
PERIOD = {Level.DAILY: timedelta(days=1), Level.WEEKLY: timedelta(days=7)}
DUE_SOON = timedelta(days=7)
THREADS_MAX = 20  # discussions listed per forum; the rest are counted, with a link
REPLIES_SHOWN = 3  # latest replies quoted per discussion
FIRST_LINE_MAX = 140


def slot(level: Level, now: datetime) -> datetime:
    """The latest digest time of ``level`` that is at least ``SETTLE`` before ``now``:
    where a digest sent now ends."""
    local = to_uk(now - SETTLE)
    day = local.date()
    if local.time() < DIGEST_TIME:
        day -= timedelta(days=1)
    if level is Level.WEEKLY:
        day -= timedelta(days=(day.weekday() - WEEKLY_ON) % 7)
    return uk_local_to_utc(day, DIGEST_TIME)


# --- Who is due a digest ----------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """One person's digest of one forum or partnership: the window (start, end]."""

    user_id: int
    scope_type: str  # "forum" or "partnership"
    scope_id: int
    level: Level
    start: datetime
    end: datetime
    cursor: datetime | None  # as read: the claim's condition


def _level_columns(scope_column: str, scope_id: Any) -> tuple[Any, Any, Any, list[Any]]:
    """The person's level for a scope (its own, else their default, else the app's),
    when it was set, their cursor for it, and the outer joins these need, for the
    candidates' query (``User`` and the scope's id are in it already)."""
    chosen = aliased(Chosen)
    cursor = aliased(DigestCursor)
    default = aliased(NotificationDefault)
    level = func.coalesce(chosen.level, default.level, DEFAULT_LEVEL.value)
    set_at = func.coalesce(chosen.updated_at, default.updated_at)
    joins = [
        (chosen, and_(chosen.user_id == User.id, getattr(chosen, scope_column) == scope_id)),
        (default, default.user_id == User.id),
        (cursor, and_(cursor.user_id == User.id, getattr(cursor, scope_column) == scope_id)),
    ]
    return level, set_at, cursor.sent_until, joins


def _candidates(now: datetime) -> list[Due]:
    """Everyone on a digest level for a forum or partnership they belong to (the
    settings page's list, ``services.my_scopes``), whose window has something in it."""
    digest_values = [level.value for level in DIGEST_LEVELS]
    rows: list[tuple[str, Any]] = []

    level, set_at, sent_until, joins = _level_columns("forum_id", Forum.id)
    forums = (select(User.id, Forum.id, level, set_at, sent_until)
              .select_from(ForumMember)
              .join(User, User.id == ForumMember.user_id)
              .join(Forum, Forum.id == ForumMember.forum_id))
    for model, on in joins:
        forums = forums.outerjoin(model, on)
    forums = forums.where(ForumMember.status == ForumMemberStatus.ACTIVE,
                          User.deleted_at.is_(None), level.in_(digest_values),
                          permissions.person_may_read_forum(User.id))
    rows += [("forum", row) for row in db.session.execute(forums)]

    belongs = union(
        select(PartnershipOfficer.user_id.label("user_id"),
               PartnershipOfficer.partnership_id.label("partnership_id")),
        select(OrganisationMember.user_id, PartnershipMember.partnership_id)
        .join(PartnershipMember,
              PartnershipMember.organisation_id == OrganisationMember.organisation_id)
        .where(OrganisationMember.status == RequestStatus.ACTIVE,
               PartnershipMember.status == RequestStatus.ACTIVE),
    ).subquery()
    level, set_at, sent_until, joins = _level_columns("partnership_id",
                                                      belongs.c.partnership_id)
    partnerships = (select(User.id, belongs.c.partnership_id, level, set_at, sent_until)
                    .select_from(belongs).join(User, User.id == belongs.c.user_id))
    for model, on in joins:
        partnerships = partnerships.outerjoin(model, on)
    partnerships = partnerships.where(User.deleted_at.is_(None), level.in_(digest_values))
    rows += [("partnership", row) for row in db.session.execute(partnerships)]

    due = []
    for scope_type, (user_id, scope_id, level_value, chosen_at, cursor) in rows:
        chosen_level = Level(level_value)
        end = slot(chosen_level, now)
        start = cursor if cursor is not None else end - PERIOD[chosen_level]
        if cursor is None and chosen_at is not None:
            start = max(start, chosen_at)
        if start < end:
            due.append(Due(user_id, scope_type, scope_id, chosen_level, start, end, cursor))
    return due


# --- What happened ------------------------------------------------------------------------


def first_line(text: str) -> str:
    """The first line with words in it, without Markdown's leading marks, shortened."""
    for line in text.splitlines():
        line = line.strip().lstrip("#>*-+ ").strip()
        if line:
            return line if len(line) <= FIRST_LINE_MAX else (
                line[:FIRST_LINE_MAX - 1].rstrip() + "…")
    return ""


@dataclass
class PostRow:
    id: int
    thread_id: int
    forum_id: int
    title: str
    author: str
    line: str
    created_at: datetime
    opens: bool
    page: int


@dataclass
class Discussion:
    title: str
    url: str
    opened_by: str = ""  # a new discussion: who started it
    opening: str = ""  # and its first line
    replies: int = 0
    latest: list[tuple[str, str]] = field(default_factory=list)  # (author, first line)


@dataclass
class MeetingNews:
    title: str
    url: str
    when: str
    what: list[str]


@dataclass
class ActionNews:
    text: str
    due: str
    url: str


@dataclass
class Section:
    """One forum's or partnership's part of a digest."""

    name: str
    where: str  # "Forum in Northbridge Together" or "Partnership"
    url: str
    discussions: list[Discussion]
    more_discussions: int
    meetings: list[MeetingNews]
    actions: list[ActionNews] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.discussions or self.meetings or self.actions)


@dataclass
class _World:
    """Everything read for this run, shared by every person's digest."""

    forums: dict[int, Forum]
    partnerships: dict[int, Partnership]
    posts: dict[int, list[PostRow]]  # by forum id, oldest first
    meetings: dict[tuple[str, int], list[Meeting]]  # by scope
    hidden_meetings: set[tuple[int, int]]  # (user id, meeting id) the person may not see
    actions: dict[int, list[ActionItem]]  # by owner id
    users: dict[int, User]


def _read(due: list[Due]) -> _World:
    forum_ids = {d.scope_id for d in due if d.scope_type == "forum"}
    partnership_ids = {d.scope_id for d in due if d.scope_type == "partnership"}
    user_ids = {d.user_id for d in due}
    earliest = min(d.start for d in due)
    latest = max(d.end for d in due)

    forums = {forum.id: forum for forum in db.session.scalars(
        select(Forum).options(joinedload(Forum.partnership)).where(Forum.id.in_(forum_ids)))}
    partnerships = {p.id: p for p in db.session.scalars(
        select(Partnership).where(Partnership.id.in_(
            partnership_ids | {forum.partnership_id for forum in forums.values()})))}
    users = {user.id: user for user in db.session.scalars(
        select(User).where(User.id.in_(user_ids)))}

    earlier = aliased(Post)
    position = (select(func.count(earlier.id))
                .where(earlier.thread_id == Post.thread_id, earlier.id <= Post.id)
                .scalar_subquery())
    first = (select(func.min(earlier.id)).where(earlier.thread_id == Post.thread_id)
             .scalar_subquery())
    author = aliased(User)
    posts: dict[int, list[PostRow]] = defaultdict(list)
    if forum_ids:
        for row in db.session.execute(
                select(Post.id, Post.thread_id, Thread.forum_id, Thread.title,
                       func.coalesce(author.name, ""), Post.body, Post.created_at,
                       Post.id == first, position)
                .join(Thread, Thread.id == Post.thread_id)
                .outerjoin(author, author.id == Post.author_id)
                .where(Thread.forum_id.in_(forum_ids), Post.created_at > earliest,
                       Post.created_at <= latest, Post.hidden_at.is_(None),
                       Post.deleted_at.is_(None))
                .order_by(Post.id)):
            (post_id, thread_id, forum_id, title, name, body, created_at, opens,
             number) = row
            posts[forum_id].append(PostRow(
                post_id, thread_id, forum_id, title, name or "A former member",
                first_line(body), created_at, bool(opens),
                (int(number) - 1) // POSTS_PER_PAGE + 1))

    happened = or_(*(and_(column > earliest, column <= latest) for column in (
        Meeting.created_at, Meeting.changed_at, Meeting.agenda_published_at,
        Meeting.minutes_published_at)))
    hosted = or_(Meeting.forum_id.in_(forum_ids),
                 and_(Meeting.forum_id.is_(None), Meeting.partnership_id.in_(partnership_ids)))
    meetings: dict[tuple[str, int], list[Meeting]] = defaultdict(list)
    members_only: list[int] = []
    for meeting in db.session.scalars(select(Meeting).where(hosted, happened)
                                      .order_by(Meeting.starts_at, Meeting.id)):
        key = (("forum", meeting.forum_id) if meeting.forum_id is not None
               else ("partnership", meeting.partnership_id))
        meetings[key].append(meeting)
        if not meeting.is_public:
            members_only.append(meeting.id)
    hidden: set[tuple[int, int]] = set()
    if members_only:
        seen = set(db.session.execute(
            select(User.id, Meeting.id).select_from(User).join(Meeting, true())
            .where(User.id.in_(user_ids),
                                              Meeting.id.in_(members_only),
                                              permissions.person_may_see_meeting(User.id))
        ).tuples())
        hidden = {(user_id, meeting_id) for user_id in user_ids
                  for meeting_id in members_only} - seen

    actions: dict[int, list[ActionItem]] = defaultdict(list)
    for action in db.session.scalars(
            select(ActionItem).options(joinedload(ActionItem.meeting))
            .where(ActionItem.owner_id.in_(user_ids), ActionItem.status == ActionStatus.OPEN,
                   ActionItem.due_date.is_not(None),
                   ActionItem.due_date >= to_uk(earliest).date(),
                   ActionItem.due_date <= to_uk(latest + DUE_SOON).date())
            .order_by(ActionItem.due_date, ActionItem.id)):
        assert action.owner_id is not None
        actions[action.owner_id].append(action)
    return _World(forums, partnerships, posts, meetings, hidden, actions, users)


def _within(moment: datetime | None, due: Due) -> bool:
    return moment is not None and due.start < moment <= due.end


def _discussions(world: _World, forum: Forum, due: Due) -> tuple[list[Discussion], int]:
    threads: dict[int, Discussion] = {}
    for post in world.posts.get(forum.id, []):
        if not _within(post.created_at, due):
            continue
        found = threads.get(post.thread_id)
        if found is None:
            args: dict[str, Any] = {"page": post.page} if post.page > 1 else {}
            url = url_for("forums.thread", slug=forum.partnership.slug, forum_slug=forum.slug,
                          thread_id=post.thread_id, _external=True, **args)
            found = threads[post.thread_id] = Discussion(
                post.title, url + ("" if post.opens else f"#post-{post.id}"))
        if post.opens:
            found.opened_by, found.opening = post.author, post.line
        else:
            found.replies += 1
            found.latest = [*found.latest, (post.author, post.line)][-REPLIES_SHOWN:]
    listed = list(threads.values())
    listed.sort(key=lambda d: (not d.opened_by, -d.replies))  # new ones first
    return listed[:THREADS_MAX], max(len(listed) - THREADS_MAX, 0)


def _meeting_news(world: _World, due: Due) -> list[MeetingNews]:
    news = []
    for meeting in world.meetings.get((due.scope_type, due.scope_id), []):
        if (due.user_id, meeting.id) in world.hidden_meetings:
            continue
        what = []
        if _within(meeting.created_at, due):
            what.append("Cancelled" if meeting.is_cancelled else "New meeting scheduled")
        elif _within(meeting.changed_at, due):
            what.append({MeetingStatus.CANCELLED: "Cancelled",
                         MeetingStatus.POSTPONED: "Postponed"}.get(
                meeting.status, "Time, place or joining details changed"))
        if meeting.agenda_published and _within(meeting.agenda_published_at, due):
            what.append("Agenda published")
        if meeting.minutes_published and _within(meeting.minutes_published_at, due):
            what.append("Minutes published")
        if what:
            news.append(MeetingNews(meeting.title, url_for(
                "meetings.show", meeting_id=meeting.id, _external=True),
                format_uk(meeting.starts_at), what))
    return news


def _due_soon_from(day: date) -> datetime:
    """When an action due on ``day`` comes within ``DUE_SOON``: the start of that UK day."""
    return uk_local_to_utc(day - DUE_SOON, time(0, 0))


def _action_news(world: _World, due: Due) -> list[ActionNews]:
    """The person's open actions here that came within ``DUE_SOON`` of their due date
    in this window (or were set in it already that close): each in one digest."""
    news = []
    for action in world.actions.get(due.user_id, []):
        meeting = action.meeting
        scope = (("forum", meeting.forum_id) if meeting.forum_id is not None
                 else ("partnership", meeting.partnership_id))
        if scope != (due.scope_type, due.scope_id) or action.due_date is None:
            continue
        if action.due_date < to_uk(due.end).date():
            continue  # already past its date when the digest goes
        if _within(max(action.created_at, _due_soon_from(action.due_date)), due):
            news.append(ActionNews(first_line(action.description), format_day(action.due_date),
                                   url_for("meetings.action", action_id=action.id,
                                           _external=True)))
    return news


def _section(world: _World, due: Due,
             discussions: dict[tuple[str, int, datetime, datetime],
                               tuple[list[Discussion], int]]) -> Section:
    """One person's section for one forum or partnership. The discussions depend only
    on the forum and the window, so people with the same window share them."""
    if due.scope_type == "forum":
        forum = world.forums[due.scope_id]
        key = (due.scope_type, due.scope_id, due.start, due.end)
        if key not in discussions:
            discussions[key] = _discussions(world, forum, due)
        listed, more = discussions[key]
        return Section(forum.name, f"Forum in {forum.partnership.name}",
                       url_for("forums.show", slug=forum.partnership.slug,
                               forum_slug=forum.slug, _external=True),
                       listed, more, _meeting_news(world, due), _action_news(world, due))
    partnership = world.partnerships[due.scope_id]
    return Section(partnership.name, "Partnership",
                   url_for("partnership.show", slug=partnership.slug, _external=True),
                   [], 0, _meeting_news(world, due), _action_news(world, due))


# --- Sending -------------------------------------------------------------------------------


def _subject(levels: set[Level], sections: list[Section]) -> str:
    which = ("Daily digest" if levels == {Level.DAILY} else
             "Weekly digest" if levels == {Level.WEEKLY} else "Your digest")
    where = (sections[0].name if len(sections) == 1
             else f"{len(sections)} forums and partnerships")
    counts = []
    new = sum(1 for s in sections for d in s.discussions if d.opened_by)
    replies = sum(d.replies for s in sections for d in s.discussions)
    meetings = sum(len(s.meetings) for s in sections)
    actions = sum(len(s.actions) for s in sections)
    for n, one, many in ((new, "new discussion", "new discussions"),
                         (replies, "reply", "replies"),
                         (meetings, "meeting update", "meeting updates"),
                         (actions, "action due soon", "actions due soon")):
        if n:
            counts.append(f"{n} {one if n == 1 else many}")
    return f"{which} for {where}: {', '.join(counts)}"


def _claim(due: Due) -> bool:
    """Move this scope's cursor from what was read to the window's end; False if
    another run has moved (or made) it since."""
    column = DigestCursor.forum_id if due.scope_type == "forum" else DigestCursor.partnership_id
    if due.cursor is not None:
        return rows_updated(update(DigestCursor).where(
            DigestCursor.user_id == due.user_id, column == due.scope_id,
            DigestCursor.sent_until == due.cursor).values(sent_until=due.end)) == 1
    try:
        with db.session.begin_nested():
            db.session.add(DigestCursor(user_id=due.user_id, sent_until=due.end, **{
                column.key: due.scope_id}))
    except IntegrityError:
        return False
    return True


@dataclass
class Result:
    sent: int = 0
    skipped: int = 0  # claimed by another run first


def send(now: datetime | None = None) -> Result:
    """Send every digest that is due: build them all from one set of reads, then queue
    each person's in a transaction of its own that claims it first."""
    now = now or utcnow()
    due = _candidates(now)
    result = Result()
    if not due:
        db.session.commit()
        return result
    world = _read(due)
    by_person: dict[int, list[Due]] = defaultdict(list)
    for item in due:
        by_person[item.user_id].append(item)
    digests = []
    shared: dict[tuple[str, int, datetime, datetime], tuple[list[Discussion], int]] = {}
    for user_id, items in sorted(by_person.items()):
        parts = []
        for item in items:
            section = _section(world, item, shared)
            if not section.empty:
                parts.append((item, section))
        if parts:
            parts.sort(key=lambda part: (part[0].scope_type != "forum", part[1].name))
            digests.append((world.users[user_id], parts))
    for user in world.users.values():
        db.session.expunge(user)  # kept as read: a commit below must not reload each one
    db.session.commit()  # end the reads: each digest is claimed and queued on its own

    # Quiet: cursors and queued email are on no page a visitor not signed in gets
    # (revision.quietly), so a run leaves the kept pages alone.
    with transactions.writing(), quietly():
        for user, parts in digests:
            items = [item for item, _section in parts]
            if not all(_claim(item) for item in items):
                db.session.rollback()
                result.skipped += 1
                continue
            sections = [section for _item, section in parts]
            mail.queue(user.email, _subject({item.level for item in items}, sections),
                       "digest", kind=Kind.DIGEST, recipient=user, user=user,
                       sections=sections, since=format_uk(min(item.start for item in items)),
                       settings_url=url_for("notifications.settings", _external=True))
            db.session.commit()
            result.sent += 1
    return result
