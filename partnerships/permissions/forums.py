"""Forums: who reads, posts in and runs a forum, and its members-only content.

A forum page asks many questions about one person and one forum; ``forum_access``
answers them all with at most three small queries, and every forum predicate goes
through it, so views, templates and services agree.

The insiders of a forum are its active members, its convenors, the partnership's
officers and site admins. They read a members-only forum (and see members-only
meetings, see ``permissions.meetings``). The rule has three forms kept side by side
here and tested to agree (tests/test_permissions_agree.py):

- ``ForumAccess.can_read`` / ``can_read_forum``: one person, one forum, in Python;
- ``forums_readable_by(user)``: SQL condition on ``Forum``, for lists;
- ``people_who_may_read_forum(forum)``: SQL condition on ``User``, for emails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import g, has_app_context
from sqlalchemy import ColumnElement, SQLColumnExpression, or_, select, true
from sqlalchemy.orm import aliased

from ..accounts.models import User
from ..extensions import db
from ..forums.models import (
    Forum,
    ForumBan,
    ForumConvenor,
    ForumMember,
    ForumMemberStatus,
    Post,
    Visibility,
)
from ..modelbase import utcnow
from ..partnership.models import Partnership, PartnershipOfficer
from .core import Viewer, is_site_admin, signed_in
from .partnership import can_manage_partnership, is_partnership_officer


@dataclass(frozen=True)
class ForumAccess:
    """What one person may do in one forum."""

    signed_in: bool
    membership: ForumMember | None
    is_convenor: bool
    is_officer: bool
    is_site_admin: bool
    is_banned: bool
    forum_is_public: bool

    @property
    def is_member(self) -> bool:

        return self.membership is not None and self.membership.status is ForumMemberStatus.ACTIVE

    @property
    def is_pending(self) -> bool:

        return (self.membership is not None
                and self.membership.status is ForumMemberStatus.PENDING)

    @property
    def can_manage(self) -> bool:
        """Convenors, the partnership's officers and site admins run the forum."""
        return self.is_convenor or self.is_officer or self.is_site_admin

    @property
    def is_insider(self) -> bool:
        """An active member or someone who runs the forum: reads everything in it,
        whatever its visibility (members-only meetings included)."""
        return self.is_member or self.can_manage

    @property
    def can_read(self) -> bool:
        """Threads, member list and members-only meetings: public forums, or insiders."""
        return self.forum_is_public or self.is_insider

    @property
    def can_see_member_emails(self) -> bool:
        return self.is_insider

    @property
    def can_post(self) -> bool:
        return self.signed_in and not self.is_banned and self.is_insider


def forum_access(user: Viewer, forum: Forum) -> ForumAccess:
    """Everything about ``user`` in ``forum``, cached for the rest of the request."""

    if not signed_in(user):
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
    """Drop cached answers (``forum_access`` and ``partnership_access``) after a service
    changed membership within this request."""
    if has_app_context():
        g.pop("_forum_access", None)
        g.pop("_partnership_access", None)


# --- Insiders and members-only content: Python and SQL side by side --------------------


def can_read_forum(user: Viewer, forum: Forum) -> bool:
    return forum_access(user, forum).can_read


def insider_of(forum_id: SQLColumnExpression[int] | SQLColumnExpression[int | None],
               user: User) -> ColumnElement[bool]:
    """SQL: ``forum_id`` is a forum ``user`` is an insider of, leaving site admins
    aside (``ForumAccess.is_insider`` minus ``is_site_admin``). Callers add site
    admins themselves; the personal calendar feed's fingerprint relies on their not
    being included here."""

    member_of = select(ForumMember.forum_id).where(
        ForumMember.user_id == user.id, ForumMember.status == ForumMemberStatus.ACTIVE)
    convenes = select(ForumConvenor.forum_id).where(ForumConvenor.user_id == user.id)
    officer_of = select(Forum.id).join(
        PartnershipOfficer, PartnershipOfficer.partnership_id == Forum.partnership_id
    ).where(PartnershipOfficer.user_id == user.id)
    return or_(forum_id.in_(member_of), forum_id.in_(convenes), forum_id.in_(officer_of))


def forums_readable_by(user: Viewer) -> ColumnElement[bool]:
    """``can_read_forum`` as a SQL condition on ``Forum``."""

    public = Forum.visibility == Visibility.PUBLIC
    if not signed_in(user):
        return public
    if is_site_admin(user):
        return true()
    return or_(public, insider_of(Forum.id, user))


def forum_insiders(forum_id: int, partnership_id: int) -> ColumnElement[bool]:
    """SQL condition on ``User``: the insiders of one forum (``ForumAccess.is_insider``
    turned round), site admins included. It does not look at ``User.deleted_at``:
    callers that send email add that themselves."""

    members = select(ForumMember.user_id).where(
        ForumMember.forum_id == forum_id, ForumMember.status == ForumMemberStatus.ACTIVE)
    convenors = select(ForumConvenor.user_id).where(ForumConvenor.forum_id == forum_id)
    officers = select(PartnershipOfficer.user_id).where(
        PartnershipOfficer.partnership_id == partnership_id)
    return or_(User.is_site_admin.is_(True), User.id.in_(members), User.id.in_(convenors),
               User.id.in_(officers))


def people_who_may_read_forum(forum: Forum) -> ColumnElement[bool]:
    """``can_read_forum`` turned round: SQL condition on ``User`` (for emails about a
    thread, which must not reach people who have left a members-only forum)."""
    if forum.is_public:
        return true()
    return forum_insiders(forum.id, forum.partnership_id)


def person_may_read_forum(user_id: SQLColumnExpression[int]) -> ColumnElement[bool]:
    """``can_read_forum`` for many people and forums at once: SQL condition on ``Forum``
    for the person whose id is the column ``user_id`` of the same query (digests pair
    every reader with their forums in one query). Site admins included. The tables
    inside are aliased, so the query may itself join them (say ``ForumMember``)."""
    member, convenor, officer, person = (aliased(ForumMember), aliased(ForumConvenor),
                                         aliased(PartnershipOfficer), aliased(User))
    is_member = select(member.id).where(
        member.forum_id == Forum.id, member.user_id == user_id,
        member.status == ForumMemberStatus.ACTIVE).exists()
    is_convenor = select(convenor.id).where(
        convenor.forum_id == Forum.id, convenor.user_id == user_id).exists()
    is_officer = select(officer.id).where(
        officer.partnership_id == Forum.partnership_id, officer.user_id == user_id).exists()
    is_admin = select(person.id).where(person.id == user_id,
                                       person.is_site_admin.is_(True)).exists()
    return or_(Forum.visibility == Visibility.PUBLIC, is_admin, is_member, is_convenor,
               is_officer)


# --- Running and posting ----------------------------------------------------------------


def can_manage_forum(user: Viewer, forum: Forum) -> bool:
    return forum_access(user, forum).can_manage


def can_post_in_forum(user: Viewer, forum: Forum) -> bool:
    return forum_access(user, forum).can_post


def can_create_forum(user: Viewer, partnership: Partnership) -> bool:
    """Officers and site admins, and convenors of another forum of the same partnership."""

    if not signed_in(user):
        return False
    if can_manage_partnership(user, partnership):
        return True
    return db.session.scalar(
        select(ForumConvenor.id).join(Forum, Forum.id == ForumConvenor.forum_id).where(
            Forum.partnership_id == partnership.id, ForumConvenor.user_id == user.id
        ).limit(1)
    ) is not None


def can_create_forum_among(
    user: Viewer, partnership: Partnership, forums: list[Forum],
    manages_partnership: bool | None = None,
) -> bool:
    """``can_create_forum`` for a page that has already loaded the partnership's forums
    with their convenors (and perhaps asked ``can_manage_partnership``): no extra query."""
    if not signed_in(user):
        return False
    if any(c.user_id == user.id for forum in forums for c in forum.convenors):
        return True
    if manages_partnership is not None:
        return manages_partnership
    return can_manage_partnership(user, partnership)


POST_EDIT_WINDOW_MINUTES = 30


def can_delete_post(user: Viewer, post: Post) -> bool:
    """Authors delete their own posts at any time, hidden or not, locked thread or not:
    what they wrote is theirs to take back (the post keeps its place, without text)."""
    return signed_in(user) and post.author_id == user.id and not post.is_deleted


def can_edit_post(user: Viewer, post: Post, now: datetime | None = None) -> bool:
    """Authors edit their own visible post for 30 minutes, while they may still post."""
    if (not signed_in(user) or post.author_id != user.id or post.is_hidden
            or post.is_deleted):
        return False
    if post.thread.locked:
        return False
    if (now or utcnow()) - post.created_at > timedelta(minutes=POST_EDIT_WINDOW_MINUTES):
        return False
    return can_post_in_forum(user, post.thread.forum)
