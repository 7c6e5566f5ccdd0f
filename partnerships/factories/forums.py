"""Forums, their members and discussions, through ``forums.services`` and
``forums.discussions``."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from .. import permissions
from ..accounts.models import User
from ..extensions import db
from ..forums import discussions, services
from ..forums.models import Forum, ForumMember, MembershipPolicy, Post, Thread, Visibility
from ..organisations.models import Organisation
from ..partnership.models import Partnership
from . import accounts, builder, number


@builder
def forum(partnership: Partnership, name: str | None = None, *, by: User | None = None,
          convenors: Iterable[User] = (), members: Iterable[User] = (), slug: str = "",
          purpose: str = "", policy: MembershipPolicy = MembershipPolicy.BY_REQUEST,
          visibility: Visibility = Visibility.PUBLIC, theme: str = "",
          tags: Iterable[str] = (), notice_days: int | None = None) -> Forum:
    """A forum created by ``by`` (an officer; by default a site administrator who is
    never saved) and run by ``convenors``, with active ``members``."""
    name = name or f"Forum {number()}"
    made = services.create_forum(
        by or accounts.stand_in_admin(), partnership,
        services.ForumDetails(name=name, slug=slug, purpose=purpose or f"The purpose of {name}.",
                              membership_policy=policy, visibility=visibility, theme=theme,
                              tags=list(tags), notice_days=notice_days),
        convenor_emails=[person.email for person in convenors], convene_myself=False)
    for person in members:
        member(made, person)
    return made


@builder
def member(forum: Forum, user: User, *, organisation: Organisation | None = None,
           introduction: str = "", by: User | None = None,
           pending: bool = False) -> ForumMember:
    """``user`` joins as the forum lets them: at once in an open forum; by asking, then
    a convenor (``by``) approving (unless ``pending``); or by accepting an invitation."""
    convenor = by or forum.convenors[0].user
    if pending and forum.membership_policy is not MembershipPolicy.BY_REQUEST:
        raise ValueError("only by_request forums have requests to join")
    if forum.membership_policy is MembershipPolicy.BY_INVITATION:
        _, token = services.invite(convenor, forum, user.email, organisation)
        return services.accept_invitation(user, token)
    membership = services.join(user, forum, organisation, introduction)
    if forum.membership_policy is MembershipPolicy.BY_REQUEST and not pending:
        services.decide(convenor, membership, True)
    return membership


@builder
def thread(forum: Forum, author: User, title: str | None = None, body: str = "",
           *, pinned: bool = False, locked: bool = False, by: User | None = None) -> Thread:
    """A discussion with its opening post; ``by`` (a convenor) pins or locks it."""
    started = discussions.create_thread(author, forum, title or f"Discussion {number()}",
                                        body or "The opening post.")
    thread_settings(started, pinned=pinned, locked=locked, by=by)
    return started


@builder
def thread_settings(thread: Thread, *, pinned: bool = False, locked: bool = False,
                    by: User | None = None) -> None:
    """Pin or lock a discussion, as ``by`` (a convenor; by default the first)."""
    convenor = by or thread.forum.convenors[0].user
    if pinned:
        discussions.set_pinned(convenor, thread, True)
    if locked:
        discussions.set_locked(convenor, thread, True)


@builder
def reply(thread: Thread, author: User, body: str = "", *, hidden_by: User | None = None,
          hidden_reason: str = "") -> Post:
    post = discussions.reply(author, thread, body or f"Reply {number()}.")
    if hidden_reason:
        hide(post, hidden_reason, by=hidden_by)
    return post


@builder
def hide(post: Post, reason: str, *, by: User | None = None) -> None:
    discussions.hide_post(by or post.thread.forum.convenors[0].user, post, reason)


@builder
def shown_with(forum: Forum, user: User, organisation: Organisation) -> None:
    """Show a convenor with an organisation they belong to but do not administer (the
    site shows the first they administer, or none): the demo's partnership officer
    convenes for the council she works for. Refuses anyone not in the organisation."""
    if not permissions.is_organisation_member(user, organisation):
        raise ValueError(f"{user.email} is not a member of {organisation.name}")
    convenor = next(c for c in forum.convenors if c.user_id == user.id)
    convenor.organisation = organisation
    membership = db.session.scalar(select(ForumMember).where(
        ForumMember.forum_id == forum.id, ForumMember.user_id == user.id))
    assert membership is not None
    membership.organisation_id = organisation.id
    db.session.flush()
