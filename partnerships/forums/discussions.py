"""Discussion rules: threads, replies, editing, moderation, following and unread.

Thread counters (``reply_count``, ``last_post_id``, ``last_post_at``) are updated
here, in the same transaction as the post, so thread lists and "unread" need no
aggregate queries however long a thread grows.
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from flask import url_for
from sqlalchemy import (
    Select,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    not_,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload

from .. import audit, conditional, mail, permissions
from ..accounts.models import User
from ..errors import Conflict, PermissionDenied, ValidationError
from ..extensions import db
from ..mail.kinds import Kind
from ..modelbase import utcnow
from .models import (
    BODY_MAX,
    TITLE_MAX,
    Forum,
    ForumBan,
    ForumMember,
    ForumMemberStatus,
    Post,
    Subscription,
    Thread,
    ThreadState,
)
from .models import HIDDEN_REASON_MAX as REASON_MAX  # the seed reads it by this name
from .services import checked_reason

T = TypeVar("T")

THREADS_PER_PAGE = 20
POSTS_PER_PAGE = 25


# --- Reading ---------------------------------------------------------------------------


def _one_page(query: Select[tuple[T]], page: int, per_page: int) -> list[T]:
    """Page ``page`` (from 1; less counts as 1) of what ``query`` selects."""
    return list(db.session.scalars(query.limit(per_page).offset((max(page, 1) - 1) * per_page)))


def threads_page(forum: Forum, page: int = 1) -> tuple[list[Thread], int]:
    """Pinned threads first, then the most recently active; one page and the total."""
    count, rows = _threads_statements()
    params = {"forum_id": forum.id, "offset": (max(page, 1) - 1) * THREADS_PER_PAGE}
    total = db.session.scalar(count, params) or 0
    return list(db.session.scalars(rows, params)), total


@cache
def _threads_statements() -> tuple[Any, Any]:
    """``threads_page``' count and page statements (parameters ``forum_id``,
    ``offset``), built once."""
    forum_id: Any = bindparam("forum_id")
    return (select(func.count(Thread.id)).where(Thread.forum_id == forum_id),
            select(Thread).where(Thread.forum_id == forum_id)
            .order_by(Thread.pinned.desc(), Thread.last_post_at.desc(), Thread.id.desc())
            .options(joinedload(Thread.author))
            .limit(THREADS_PER_PAGE).offset(bindparam("offset")))


def get_thread(forum: Forum, thread_id: int) -> Thread | None:
    """A thread of this forum only (a thread id from another forum is not found)."""
    return db.session.scalar(
        select(Thread).where(Thread.id == thread_id, Thread.forum_id == forum.id)
        .options(joinedload(Thread.author))
    )


def posts_page(thread: Thread, page: int = 1) -> tuple[list[Post], int]:
    """One page of a thread's posts, oldest first, authors loaded; and the total."""
    total = thread.reply_count + 1
    return _one_page(
        select(Post).where(Post.thread_id == thread.id).order_by(Post.id)
        .options(joinedload(Post.author)), page, POSTS_PER_PAGE), total


def get_post(thread: Thread, post_id: int) -> Post | None:
    """A post of this thread only, author loaded."""
    return db.session.scalar(
        select(Post).where(Post.id == post_id, Post.thread_id == thread.id)
        .options(joinedload(Post.author))
    )


def page_of_post(thread: Thread, post: Post) -> int:
    """The page of the thread that shows ``post`` (for links to #post-<id>)."""
    position = db.session.scalar(
        select(func.count(Post.id)).where(Post.thread_id == thread.id, Post.id <= post.id)
    ) or 1
    return (position - 1) // POSTS_PER_PAGE + 1


def states_for(user: User | None, thread_ids: list[int]) -> dict[int, ThreadState]:
    """The person's read/follow state for these threads, in one query."""
    if user is None or not getattr(user, "is_authenticated", False) or not thread_ids:
        return {}
    rows = db.session.scalars(
        select(ThreadState).where(ThreadState.user_id == user.id,
                                  ThreadState.thread_id.in_(thread_ids))
    )
    return {state.thread_id: state for state in rows}


def unread_threads(user: User, limit: int = 50) -> list[Thread]:
    """Threads with posts the person has not read, in forums they belong to (not muted)."""
    state = ThreadState
    rows = db.session.scalars(
        select(Thread)
        .join(ForumMember, and_(ForumMember.forum_id == Thread.forum_id,
                                ForumMember.user_id == user.id,
                                ForumMember.status == ForumMemberStatus.ACTIVE))
        .outerjoin(state, and_(state.thread_id == Thread.id, state.user_id == user.id))
        .where(Thread.last_post_id.is_not(None),
               # With no record of reading it: unread only if active since they joined
               # (a membership with no decision date counts from the start).
               or_(and_(state.user_id.is_(None),
                        or_(ForumMember.decided_at.is_(None),
                            Thread.last_post_at > ForumMember.decided_at)),
                   and_(Thread.last_post_id > state.last_read_post_id,
                        state.subscription != Subscription.MUTED)))
        .order_by(Thread.last_post_at.desc())
        .limit(limit)
        .options(joinedload(Thread.forum).joinedload(Forum.partnership))
    )
    return list(rows)


# --- Writing ---------------------------------------------------------------------------


def _check_body(body: str) -> str:
    # Browsers send line breaks as CRLF: count them as one character, as the page does.
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise ValidationError("Enter your message", field="body")
    if len(body) > BODY_MAX:
        raise ValidationError(f"Your message must be {BODY_MAX:,} characters or fewer "
                              f"(it has {len(body):,})", field="body")
    return body


def _state(user: User, thread: Thread) -> ThreadState:
    state = db.session.get(ThreadState, (user.id, thread.id))
    if state is None:
        state = ThreadState(user_id=user.id, thread_id=thread.id, last_read_post_id=0,
                            subscription=Subscription.NORMAL)
        db.session.add(state)
    return state


def create_thread(actor: User, forum: Forum, title: str, body: str) -> Thread:
    """Start a discussion; the author follows it."""
    if not permissions.can_post_in_forum(actor, forum):
        raise PermissionDenied("Only members of this forum can start discussions.")
    title = " ".join(title.split())
    if not title:
        raise ValidationError("Enter a title for the discussion", field="title")
    if len(title) > TITLE_MAX:
        raise ValidationError(f"Title must be {TITLE_MAX} characters or fewer", field="title")
    body = _check_body(body)
    now = utcnow()
    thread = Thread(forum_id=forum.id, title=title, author_id=actor.id, last_post_at=now)
    db.session.add(thread)
    db.session.flush()
    post = Post(thread_id=thread.id, author_id=actor.id, body=body, created_at=now)
    db.session.add(post)
    db.session.flush()
    thread.last_post_id = post.id
    state = _state(actor, thread)
    state.subscription = Subscription.FOLLOWING
    state.last_read_post_id = post.id
    audit.record(actor, "forum.thread_started", "forum", forum.id, thread_id=thread.id)
    return thread


def reply(actor: User, thread: Thread, body: str) -> Post:
    """Add a reply; followers (not the author, not those who muted) are emailed."""
    forum = thread.forum
    if not permissions.can_post_in_forum(actor, forum):
        raise PermissionDenied("Only members of this forum can reply.")
    body = _check_body(body)
    # Locked first: its author may be deleting it (allowed while it has no replies).
    if not conditional.lock(thread):
        raise Conflict("This discussion has just been deleted by its author.")
    if thread.locked:
        raise Conflict("This discussion is locked: no more replies can be added.")
    now = utcnow()
    post = Post(thread_id=thread.id, author_id=actor.id, body=body, created_at=now)
    db.session.add(post)
    db.session.flush()
    thread.reply_count = Thread.reply_count + 1
    thread.last_post_id = post.id
    thread.last_post_at = now
    state = _state(actor, thread)
    if state.subscription is Subscription.NORMAL:
        state.subscription = Subscription.FOLLOWING
    state.last_read_post_id = post.id
    _notify_followers(actor, thread, post)
    return post


def _notify_followers(actor: User, thread: Thread, post: Post) -> None:
    """Email everyone following the thread who may still read it: in a members-only
    forum only active members and those who run it; never banned people or the author."""
    forum = thread.forum
    is_banned = exists().where(ForumBan.user_id == User.id, ForumBan.forum_id == forum.id)
    may_read = permissions.people_who_may_read_forum(forum)
    followers = db.session.scalars(
        select(User)
        .join(ThreadState, ThreadState.user_id == User.id)
        .where(ThreadState.thread_id == thread.id,
               ThreadState.subscription == Subscription.FOLLOWING,
               User.id != actor.id, User.deleted_at.is_(None),
               not_(is_banned), may_read)
        .order_by(User.id)
    ).all()
    if not followers:
        return
    page = page_of_post(thread, post)
    args: dict[str, Any] = {"page": page} if page > 1 else {}
    link = url_for("forums.thread", slug=forum.partnership.slug, forum_slug=forum.slug,
                   thread_id=thread.id, _external=True, **args) + f"#post-{post.id}"
    for user in followers:
        mail.queue(user.email, f"New reply in {forum.name}: {thread.title}", "forum_reply",
                   kind=Kind.FORUM_REPLY, recipient=user, scope=forum, user=user,
                   author=actor, thread=thread, forum=forum, post=post, link=link)


def edit_post(actor: User, post: Post, body: str) -> None:
    if not permissions.can_edit_post(actor, post):
        raise PermissionDenied(
            f"You can only edit your own posts, for {permissions.POST_EDIT_WINDOW_MINUTES} "
            "minutes after posting."
        )
    body = _check_body(body)
    if body != post.body:
        post.body = body
        post.edited_at = utcnow()


def opens_thread(post: Post) -> bool:
    """Whether ``post`` is its discussion's first post."""
    first = db.session.scalar(select(func.min(Post.id)).where(Post.thread_id == post.thread_id))
    return first == post.id


def delete_post(actor: User, post: Post) -> bool:
    """The author takes back what they wrote. The post keeps its place (replies may
    answer it) with its text erased, shown as deleted by its author; a discussion's
    opening post with no replies takes the discussion with it. True if the whole
    discussion went. A reply arriving at the same moment keeps the discussion (its
    row is the condition), and then only the post's text goes."""
    if not permissions.can_delete_post(actor, post):
        raise PermissionDenied("You can only delete your own posts.")
    thread = post.thread
    forum_id, thread_id, title = thread.forum_id, thread.id, thread.title
    if opens_thread(post) and thread.reply_count == 0:
        gone = conditional.rows_updated(delete(Thread).where(
            Thread.id == thread_id, Thread.reply_count == 0)) == 1
        if gone:
            db.session.expunge(post)
            db.session.expunge(thread)
            audit.record(actor, "forum.thread_deleted", "forum", forum_id,
                         thread_id=thread_id, title=title)
            return True
    if not conditional.change(post, Post.deleted_at.is_(None), deleted_at=utcnow(), body=""):
        raise Conflict("This post has already been deleted.")
    audit.record(actor, "forum.post_deleted", "forum", forum_id, thread_id=thread_id,
                 post_id=post.id)
    return False


def hide_post(actor: User, post: Post, reason: str) -> None:
    forum = post.thread.forum
    if not permissions.can_manage_forum(actor, forum):
        raise PermissionDenied("Only the forum's convenors can hide posts.")
    if post.is_deleted:
        raise Conflict("This post was deleted by its author: there is nothing to hide.")
    if post.is_hidden:
        raise Conflict("This post is already hidden.")
    reason = checked_reason(reason, "Enter a reason. The author will see it.", REASON_MAX)
    post.hidden_at = utcnow()
    post.hidden_by_id = actor.id
    post.hidden_reason = reason
    audit.record(actor, "forum.post_hidden", "forum", forum.id, reason=reason, post_id=post.id)


def unhide_post(actor: User, post: Post) -> None:
    forum = post.thread.forum
    if not permissions.can_manage_forum(actor, forum):
        raise PermissionDenied("Only the forum's convenors can show hidden posts.")
    if not post.is_hidden:
        raise Conflict("This post is not hidden.")
    post.hidden_at = None
    post.hidden_by_id = None
    post.hidden_reason = ""
    audit.record(actor, "forum.post_unhidden", "forum", forum.id, post_id=post.id)


def set_pinned(actor: User, thread: Thread, pinned: bool) -> None:
    _moderate(actor, thread, "pinned", pinned, "Only the forum's convenors can pin discussions.",
              "forum.thread_pinned" if pinned else "forum.thread_unpinned")


def set_locked(actor: User, thread: Thread, locked: bool) -> None:
    _moderate(actor, thread, "locked", locked, "Only the forum's convenors can lock discussions.",
              "forum.thread_locked" if locked else "forum.thread_unlocked")


def _moderate(actor: User, thread: Thread, flag: str, value: bool, refused: str,
              action: str) -> None:
    """Set a thread's ``pinned`` or ``locked`` flag (convenors only), recording a change."""
    if not permissions.can_manage_forum(actor, thread.forum):
        raise PermissionDenied(refused)
    if getattr(thread, flag) != value:
        setattr(thread, flag, value)
        audit.record(actor, action, "forum", thread.forum_id, thread_id=thread.id)


def set_subscription(actor: User, thread: Thread, subscription: Subscription) -> None:
    """Follow (email on replies), mute (never unread, no email) or go back to normal."""
    access = permissions.forum_access(actor, thread.forum)
    if not access.signed_in or not access.can_read or access.is_banned:
        raise PermissionDenied("You cannot follow this discussion.")
    _state(actor, thread).subscription = Subscription(subscription)


def reading_state(user: User, thread: Thread) -> ThreadState:
    """The person's state for the thread, created (not yet saved) if they have none: one
    query, shared by the thread page (follow or mute) and ``mark_read``."""
    return _state(user, thread)


def mark_read(user_id: int, thread_id: int, up_to_post_id: int) -> None:
    """Remember the newest post the person has seen (never moves backwards). One
    statement, an upsert with the condition in it, so two tabs opening the thread at
    once neither fail on the new row nor move the mark back; run it with
    ``transactions.write_after_reading`` once the page is rendered."""
    table = ThreadState.__table__
    assert isinstance(table, Table)
    dialect = db.session.get_bind().dialect.name
    insert_into = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert_into(table).values(
        user_id=user_id, thread_id=thread_id, last_read_post_id=up_to_post_id,
        subscription=Subscription.NORMAL,
    )
    db.session.execute(statement.on_conflict_do_update(
        index_elements=[table.c.user_id, table.c.thread_id],
        set_={"last_read_post_id": up_to_post_id},
        where=table.c.last_read_post_id < up_to_post_id,
    ))
