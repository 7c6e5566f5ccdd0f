"""Forum rules: creating forums, convenors, joining, requests, invitations, removal, bans.

Every membership decision (request, approve, decline, withdraw, leave, remove, ban,
invite, accept) is written to the audit log against the forum, so convenors can see
who did what, when and why. Services flush; the caller commits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from flask import url_for
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import audit, conditional, mail, permissions
from ..accounts.models import User
from ..accounts.services import find_by_email, normalise_email
from ..errors import Conflict, NotFound, PermissionDenied, ValidationError
from ..extensions import db
from ..mail.kinds import Kind
from ..meetings import registrations as meeting_registrations
from ..membership import JoinRequests
from ..modelbase import utcnow
from ..organisations.models import Organisation
from ..partnership.models import Partnership
from ..slugs import is_valid_slug, slugify
from . import counts
from .models import (
    INTRODUCTION_MAX,
    INVITATION_MESSAGE_MAX,
    NAME_MAX,
    NOTICE_DAYS_MAX,
    PURPOSE_MAX,
    REASON_MAX,
    TAGS_MAX,
    THEME_MAX,
    Forum,
    ForumBan,
    ForumConvenor,
    ForumInvitation,
    ForumMember,
    ForumMemberStatus,
    MembershipPolicy,
    Visibility,
)

# Requests to join a by-request forum: the shared rules (``membership``), with this
# domain's words. A forum's links also end by withdrawing, leaving or removal.
JOIN_REQUESTS = JoinRequests(
    ForumMember, ForumMember.forum_id, ForumMemberStatus, "reason",
    already_decided="This request has already been decided or withdrawn, perhaps by another "
                    "convenor.",
    reason_required="Enter a reason for declining. The person will see it.",
    reason_max=REASON_MAX, reason_too_long=f"Reason must be {REASON_MAX} characters or fewer",
    moved=counts.moved)
MEMBERS_PER_PAGE = 50
INVITATION_DAYS = 14
RESERVED_SLUGS = frozenset({"new"})


@dataclass
class ForumDetails:
    """What a convenor or officer enters about a forum."""

    name: str
    slug: str
    purpose: str
    membership_policy: MembershipPolicy
    visibility: Visibility
    theme: str = ""
    tags: list[str] = field(default_factory=list)
    # Clear working days of agenda notice; None keeps the forum's (or the default 5).
    notice_days: int | None = None


# --- Reading ---------------------------------------------------------------------------


def list_forums(partnership: Partnership, convenor_names: bool = True,
                convenors: bool = True) -> list[Forum]:
    """The partnership's forums by name, convenors loaded (with their names and
    organisations, unless ``convenor_names`` is False: the partnership page only asks
    whether the viewer convenes one; and not at all if ``convenors`` is False: an
    anonymous viewer convenes none, so the page needs no convenor rows)."""
    return list(db.session.scalars(_list_forums_statement(convenor_names, convenors),
                                   {"partnership_id": partnership.id}))


@cache
def _list_forums_statement(convenor_names: bool, convenors: bool) -> Any:
    """``list_forums``' statement (parameter ``partnership_id``), built once."""
    loaded = selectinload(Forum.convenors)
    options = [loaded.joinedload(ForumConvenor.user),
               selectinload(Forum.convenors).joinedload(ForumConvenor.organisation)] \
        if convenor_names else [loaded] if convenors else []
    return (select(Forum).where(Forum.partnership_id == bindparam("partnership_id"))
            .order_by(func.lower(Forum.name)).options(*options))


def member_counts(forum_ids: list[int]) -> dict[int, int]:
    """Active members per forum, in one query: the stored counts (``counts.py``), read
    afresh (a change earlier in the request is in them), by primary key."""
    if not forum_ids:
        return {}
    rows = db.session.execute(
        select(Forum.id, Forum.member_count).where(Forum.id.in_(forum_ids),
                                                   Forum.member_count > 0))
    return dict(rows.tuples().all())  # not dict(rows): a Result has .keys(), so dict() misreads it


@cache
def _find_forum_statement(convenors: bool) -> Any:
    """``find_forum``'s statement (parameters ``partnership_slug``, ``forum_slug``),
    built once: building it and its cache key cost more than running it, on every
    forum, thread and meeting page."""
    options: list[Any] = [joinedload(Forum.partnership)]
    if convenors:
        options += [selectinload(Forum.convenors).joinedload(ForumConvenor.user),
                    selectinload(Forum.convenors).joinedload(ForumConvenor.organisation)]
    return (select(Forum)
            .join(Partnership, Partnership.id == Forum.partnership_id)
            .where(Partnership.slug == bindparam("partnership_slug"),
                   Forum.slug == bindparam("forum_slug"))
            .options(*options))


def find_forum(partnership_slug: str, forum_slug: str, convenors: bool = True) -> Forum | None:
    """A forum by its partnership's slug and its own, partnership loaded in the same query
    (so forum pages stay within their query budgets)."""
    forum: Forum | None = db.session.scalar(
        _find_forum_statement(convenors),
        {"partnership_slug": partnership_slug, "forum_slug": forum_slug})
    return forum


def members_page(forum: Forum, page: int = 1) -> tuple[list[ForumMember], int]:
    """Active members, grouped by organisation name then person, one page; and the total."""
    conditions = [ForumMember.forum_id == forum.id,
                  ForumMember.status == ForumMemberStatus.ACTIVE]
    total = db.session.scalar(select(func.count(ForumMember.id)).where(*conditions)) or 0
    rows = db.session.scalars(
        select(ForumMember)
        .join(User, User.id == ForumMember.user_id)
        .outerjoin(Organisation, Organisation.id == ForumMember.organisation_id)
        .where(*conditions)
        .order_by(Organisation.name.is_(None), func.lower(Organisation.name),
                  func.lower(User.name), ForumMember.id)
        .limit(MEMBERS_PER_PAGE).offset((max(page, 1) - 1) * MEMBERS_PER_PAGE)
        .options(joinedload(ForumMember.user), joinedload(ForumMember.organisation))
    ).all()
    return list(rows), total


_PERSON_AND_ORGANISATION = (joinedload(ForumMember.user), joinedload(ForumMember.organisation))


def pending_requests(forum: Forum) -> list[ForumMember]:
    return JOIN_REQUESTS.waiting(forum.id, *_PERSON_AND_ORGANISATION)


def pending_counts(forum_ids: list[int]) -> dict[int, int]:
    return JOIN_REQUESTS.waiting_counts(forum_ids)


def get_membership(forum: Forum, member_id: int) -> ForumMember | None:
    return JOIN_REQUESTS.one(forum.id, member_id, *_PERSON_AND_ORGANISATION)


def bans(forum: Forum) -> list[ForumBan]:
    return list(
        db.session.scalars(
            select(ForumBan).where(ForumBan.forum_id == forum.id)
            .order_by(ForumBan.created_at.desc())
            .options(joinedload(ForumBan.user))
        )
    )


def open_invitations(forum: Forum) -> list[ForumInvitation]:
    return list(
        db.session.scalars(
            select(ForumInvitation)
            .where(ForumInvitation.forum_id == forum.id,
                   ForumInvitation.accepted_at.is_(None),
                   ForumInvitation.revoked_at.is_(None),
                   ForumInvitation.expires_at > utcnow())
            .order_by(ForumInvitation.created_at.desc())
            .options(joinedload(ForumInvitation.organisation))
        )
    )


def history(forum: Forum) -> list[audit.AuditEvent]:
    """Membership decisions about this forum, newest first, with who made them."""
    return list(
        db.session.scalars(
            select(audit.AuditEvent)
            .where(audit.AuditEvent.subject_type == "forum",
                   audit.AuditEvent.subject_id == forum.id,
                   audit.AuditEvent.action.like("forum.member_%"))
            .order_by(audit.AuditEvent.at.desc(), audit.AuditEvent.id.desc())
            .options(joinedload(audit.AuditEvent.actor))
        )
    )


def users_by_id(user_ids: set[int]) -> dict[int, User]:
    """People named in a history, in one query."""
    if not user_ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))}


def get_invitation(forum: Forum, invitation_id: int) -> ForumInvitation | None:
    return db.session.scalar(
        select(ForumInvitation).where(ForumInvitation.id == invitation_id,
                                      ForumInvitation.forum_id == forum.id)
    )


def get_ban(forum: Forum, ban_id: int) -> ForumBan | None:
    return db.session.scalar(
        select(ForumBan).where(ForumBan.id == ban_id, ForumBan.forum_id == forum.id)
    )


def invitable_organisations() -> list[Organisation]:
    """Organisations a convenor may invite someone to represent, by name."""
    return list(db.session.scalars(select(Organisation).order_by(func.lower(Organisation.name))))


def my_decisions(user: User) -> list[ForumMember]:
    """The person's declined requests and removals, with the reasons given (theirs to see)."""
    return list(
        db.session.scalars(
            select(ForumMember)
            .where(ForumMember.user_id == user.id,
                   ForumMember.status.in_([ForumMemberStatus.DECLINED,
                                           ForumMemberStatus.REMOVED]))
            .order_by(ForumMember.decided_at.desc(), ForumMember.id.desc())
            .options(joinedload(ForumMember.forum).joinedload(Forum.partnership))
        )
    )


def my_memberships(user: User) -> list[ForumMember]:
    """The person's active and pending forum memberships, forums and partnerships loaded."""
    return JOIN_REQUESTS.by_name(
        ForumMember.user_id == user.id, ForumMember.forum,
        joinedload(ForumMember.forum).joinedload(Forum.partnership),
        joinedload(ForumMember.organisation),
        statuses=[ForumMemberStatus.ACTIVE, ForumMemberStatus.PENDING])


def convened_forums(user: User) -> list[Forum]:
    return list(
        db.session.scalars(
            select(Forum)
            .join(ForumConvenor, ForumConvenor.forum_id == Forum.id)
            .where(ForumConvenor.user_id == user.id)
            .order_by(func.lower(Forum.name))
            .options(joinedload(Forum.partnership))
        )
    )


# --- Creating and editing --------------------------------------------------------------


def _clean(partnership: Partnership, details: ForumDetails,
           exclude_id: int | None = None) -> dict[str, object]:
    name = " ".join(details.name.split())
    if not name:
        raise ValidationError("Enter the forum's name", field="name")
    if len(name) > NAME_MAX:
        raise ValidationError(f"Name must be {NAME_MAX} characters or fewer", field="name")
    slug = (details.slug.strip().lower() or slugify(name))
    if not is_valid_slug(slug) or slug in RESERVED_SLUGS:
        raise ValidationError(
            "Web address must be lower-case letters, numbers and hyphens, like health-wellbeing",
            field="slug",
        )
    taken = db.session.scalar(
        select(Forum.id).where(Forum.partnership_id == partnership.id, Forum.slug == slug,
                               *([Forum.id != exclude_id] if exclude_id else []))
    )
    if taken is not None:
        raise ValidationError("Another forum in this partnership already uses this web address",
                              field="slug")
    purpose = details.purpose.strip()
    if not purpose:
        raise ValidationError("Enter the forum's purpose: what it is for and who should join",
                              field="purpose")
    if len(purpose) > PURPOSE_MAX:
        raise ValidationError(f"Purpose must be {PURPOSE_MAX} characters or fewer",
                              field="purpose")
    theme = details.theme.strip()
    if len(theme) > THEME_MAX:
        raise ValidationError(f"Theme must be {THEME_MAX} characters or fewer", field="theme")
    tags = sorted({" ".join(t.lower().split()) for t in details.tags if t.strip()})
    tag_text = ",".join(tags)
    if len(tag_text) > TAGS_MAX:
        raise ValidationError("Use fewer or shorter tags", field="tags")
    values: dict[str, object] = {
        "name": name, "slug": slug, "purpose": purpose, "theme": theme, "tags": tag_text,
        "membership_policy": MembershipPolicy(details.membership_policy),
        "visibility": Visibility(details.visibility),
    }
    if details.notice_days is not None:
        if not 0 <= details.notice_days <= NOTICE_DAYS_MAX:
            raise ValidationError(f"Agenda notice must be from 0 to {NOTICE_DAYS_MAX} clear "
                                  "working days", field="notice_days")
        values["notice_days"] = details.notice_days
    return values


def checked_reason(reason: str, required: str, limit: int) -> str:
    """A reason someone will read (for a removal, a hidden post), without surrounding
    spaces; ``required`` is the message when there is none."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(required, field="reason")
    if len(reason) > limit:
        raise ValidationError(f"Reason must be {limit} characters or fewer", field="reason")
    return reason


def _users_by_email(emails: list[str], field_name: str) -> list[User]:
    users: list[User] = []
    for raw in emails:
        email = normalise_email(raw)
        if not email:
            continue
        user = find_by_email(email)
        if user is None or not user.is_active:
            raise ValidationError(
                f"There is no account with the email address {email}. Ask them to create an "
                "account first.", field=field_name,
            )
        if user not in users:
            users.append(user)
    return users


def create_forum(
    actor: User, partnership: Partnership, details: ForumDetails,
    convenor_emails: list[str] | None = None, convene_myself: bool = True,
) -> Forum:
    """Create a forum; the convenors named (and the creator, if they say so) run it."""
    if not permissions.can_create_forum(actor, partnership):
        raise PermissionDenied("Only the partnership's officers and forum convenors can "
                               "create forums.")
    values = _clean(partnership, details)
    convenors = _users_by_email(convenor_emails or [], "convenors")
    if convene_myself and actor not in convenors:
        convenors.insert(0, actor)
    if not convenors:
        raise ValidationError("A forum needs at least one convenor. Tick the box to convene "
                              "it yourself, or name someone.", field="convenors")
    forum = Forum(partnership_id=partnership.id, created_by_id=actor.id, **values)
    db.session.add(forum)
    db.session.flush()
    for user in convenors:
        _add_convenor(forum, user)
    audit.record(actor, "forum.created", "forum", forum.id, name=forum.name,
                 partnership_id=partnership.id)
    permissions.forget_forum_access()
    return forum


def update_forum(actor: User, forum: Forum, details: ForumDetails) -> None:
    if not permissions.can_manage_forum(actor, forum):
        raise PermissionDenied("Only the forum's convenors can change it.")
    values = _clean(forum.partnership, details, exclude_id=forum.id)
    changed = [key for key, value in values.items() if getattr(forum, key) != value]
    for key in changed:
        setattr(forum, key, values[key])
    if changed:
        audit.record(actor, "forum.updated", "forum", forum.id, fields=changed)
    permissions.forget_forum_access()


def _default_organisation(user: User) -> Organisation | None:
    """The organisation a convenor is shown with: the first they administer, if any."""
    orgs = permissions.admin_organisations(user)
    return orgs[0] if orgs else None


def _add_convenor(forum: Forum, user: User, organisation: Organisation | None = None) -> None:
    org = organisation or _default_organisation(user)
    # Through the relationship, so ``forum.convenors`` (often already loaded) includes it.
    forum.convenors.append(ForumConvenor(user_id=user.id, user=user,
                                         organisation_id=org.id if org else None,
                                         organisation=org))
    membership = _own_membership(forum, user)
    if membership.status is not ForumMemberStatus.ACTIVE:
        membership.status = ForumMemberStatus.ACTIVE
        membership.organisation_id = org.id if org else membership.organisation_id
        membership.decided_at = utcnow()


def add_convenor(actor: User, forum: Forum, email: str) -> ForumConvenor:
    if not permissions.can_manage_forum(actor, forum):
        raise PermissionDenied("Only the forum's convenors can add convenors.")
    users = _users_by_email([email], "email")
    if not users:
        raise ValidationError("Enter the email address of the new convenor", field="email")
    user = users[0]
    if any(c.user_id == user.id for c in forum.convenors):
        raise ValidationError(f"{user.name} is already a convenor of this forum", field="email")
    if _banned(forum, user):
        raise ValidationError(f"{user.name} is banned from this forum", field="email")
    _add_convenor(forum, user)
    db.session.flush()
    audit.record(actor, "forum.convenor_added", "forum", forum.id, user_id=user.id)
    permissions.forget_forum_access()
    return next(c for c in forum.convenors if c.user_id == user.id)


def remove_convenor(actor: User, convenor: ForumConvenor) -> None:
    forum = convenor.forum
    if not permissions.can_manage_forum(actor, forum):
        raise PermissionDenied("Only the forum's convenors can remove convenors.")
    # Two convenors removing each other at once each counted the other and left none:
    # lock the forum, then count.
    conditional.lock(forum)
    db.session.expire(forum, ["convenors"])
    if convenor not in forum.convenors:
        raise Conflict("This person is no longer a convenor.")
    if len(forum.convenors) <= 1:
        raise ValidationError("A forum needs at least one convenor. Add another first.")
    audit.record(actor, "forum.convenor_removed", "forum", forum.id, user_id=convenor.user_id)
    forum.convenors.remove(convenor)
    db.session.delete(convenor)
    permissions.forget_forum_access()


# --- Joining ---------------------------------------------------------------------------


def _membership(forum: Forum, user: User) -> ForumMember | None:
    return db.session.scalar(
        select(ForumMember).where(ForumMember.forum_id == forum.id, ForumMember.user_id == user.id)
    )


def _own_membership(forum: Forum, user: User) -> ForumMember:
    """The person's membership row, added (in no state yet) if they have none."""
    membership = _membership(forum, user)
    if membership is None:
        membership = ForumMember(forum_id=forum.id, user_id=user.id)
        db.session.add(membership)
    return membership


def _banned(forum: Forum, user: User) -> bool:
    return db.session.scalar(
        select(ForumBan.id).where(ForumBan.forum_id == forum.id, ForumBan.user_id == user.id)
    ) is not None


def _convenor_users(forum: Forum) -> list[User]:
    return [c.user for c in forum.convenors if c.user.is_active]


def _check_organisation(actor: User, organisation: Organisation | None) -> None:
    if organisation is not None and not permissions.is_organisation_admin(actor, organisation):
        raise PermissionDenied(
            f"Only an admin of {organisation.name} can join on its behalf."
        )


def join(
    actor: User, forum: Forum, organisation: Organisation | None = None, introduction: str = ""
) -> ForumMember:
    """Join an open forum at once, or ask to join a by-request forum (convenors emailed)."""
    if not actor.is_confirmed:
        raise PermissionDenied("Confirm your email address first: follow the link we sent you.")
    if _banned(forum, actor):
        raise PermissionDenied("You cannot join this forum. A convenor has barred you from it.")
    if forum.membership_policy is MembershipPolicy.BY_INVITATION:
        raise PermissionDenied("This forum is by invitation only. Ask a convenor to invite you.")
    _check_organisation(actor, organisation)
    introduction = introduction.strip()
    if len(introduction) > INTRODUCTION_MAX:
        raise ValidationError(
            f"Your introduction must be {INTRODUCTION_MAX} characters or fewer",
            field="introduction",
        )
    # The same request sent twice at once (two tabs) would insert two rows: lock the
    # forum, then look for one.
    conditional.lock(forum)
    membership = _membership(forum, actor)
    if membership is not None:
        db.session.refresh(membership)
    JOIN_REQUESTS.refuse_repeat(
        membership, f"You are already a member of {forum.name}.",
        f"You have already asked to join {forum.name}. A convenor will decide.")
    if membership is None:
        membership = ForumMember(forum_id=forum.id, user_id=actor.id)
        db.session.add(membership)
    JOIN_REQUESTS.ask(membership, organisation_id=organisation.id if organisation else None,
                      introduction=introduction)
    action = "forum.member_requested"
    if forum.membership_policy is MembershipPolicy.OPEN:  # no one to ask: joined at once
        JOIN_REQUESTS.set_state(actor, membership, ForumMemberStatus.ACTIVE)
        action = "forum.member_joined"
    db.session.flush()
    audit.record(actor, action, "forum", forum.id, user_id=actor.id,
                 organisation_id=organisation.id if organisation else None)
    if membership.status is ForumMemberStatus.PENDING:
        review_url = url_for("forums.requests", slug=forum.partnership.slug,
                             forum_slug=forum.slug, _external=True)
        for convenor in _convenor_users(forum):
            mail.queue(convenor.email, f"{actor.name} has asked to join {forum.name}",
                       "forum_join_requested", kind=Kind.REQUESTS_TO_DECIDE,
                       recipient=convenor, convenor=convenor, requester=actor,
                       organisation=organisation, forum=forum, introduction=introduction,
                       review_url=review_url)
    permissions.forget_forum_access()
    return membership


def withdraw(actor: User, forum: Forum) -> None:
    membership = _membership(forum, actor)
    if membership is None or membership.status is not ForumMemberStatus.PENDING:
        raise Conflict("You have no request waiting for this forum.")
    JOIN_REQUESTS.set_state(actor, membership, ForumMemberStatus.WITHDRAWN)
    audit.record(actor, "forum.member_withdrew", "forum", forum.id, user_id=actor.id)
    permissions.forget_forum_access()


def leave(actor: User, forum: Forum) -> int:
    """Leave a forum. Returns how many registrations for its members-only meetings
    ended with the membership."""
    membership = _membership(forum, actor)
    if membership is None or membership.status is not ForumMemberStatus.ACTIVE:
        raise Conflict("You are not a member of this forum.")
    if any(c.user_id == actor.id for c in forum.convenors):
        raise ValidationError("You convene this forum. Ask another convenor to remove you as "
                              "convenor first.")
    JOIN_REQUESTS.set_state(actor, membership, ForumMemberStatus.LEFT)
    audit.record(actor, "forum.member_left", "forum", forum.id, user_id=actor.id)
    permissions.forget_forum_access()
    return meeting_registrations.forum_left(actor, actor, forum.id)


def decide(actor: User, membership: ForumMember, approve: bool, reason: str = "") -> None:
    """Approve or decline a request; someone else may already have decided it."""
    forum = membership.forum
    if not permissions.can_manage_forum(actor, forum):
        raise PermissionDenied("Only the forum's convenors can decide on requests.")
    reason = JOIN_REQUESTS.decide(actor, membership, approve, reason)
    audit.record(actor, "forum.member_approved" if approve else "forum.member_declined",
                 "forum", forum.id, reason=reason, user_id=membership.user_id)
    mail.queue(membership.user.email,
               f"Your request to join {forum.name} was {'approved' if approve else 'declined'}",
               "forum_join_decided", kind=Kind.MY_REQUEST_DECIDED, recipient=membership.user,
               user=membership.user, forum=forum, approved=approve, reason=reason,
               forum_url=url_for("forums.show", slug=forum.partnership.slug,
                                 forum_slug=forum.slug, _external=True))
    permissions.forget_forum_access()


def remove_member(actor: User, membership: ForumMember, reason: str, ban: bool = False) -> None:
    """Remove a member (and optionally ban them from rejoining), with a reason they see."""
    forum = membership.forum
    if not permissions.can_manage_forum(actor, forum):
        raise PermissionDenied("Only the forum's convenors can remove members.")
    if membership.user_id == actor.id:
        raise ValidationError("You cannot remove yourself. Leave the forum instead.")
    if any(c.user_id == membership.user_id for c in forum.convenors):
        raise ValidationError("Remove them as a convenor first.")
    reason = checked_reason(reason, "Enter a reason. The person will see it.", REASON_MAX)
    if membership.status not in (ForumMemberStatus.ACTIVE, ForumMemberStatus.PENDING) and not ban:
        raise Conflict("This person is no longer a member.")
    was_member = membership.status is ForumMemberStatus.ACTIVE
    if membership.status in (ForumMemberStatus.ACTIVE, ForumMemberStatus.PENDING):
        JOIN_REQUESTS.set_state(actor, membership, ForumMemberStatus.REMOVED, reason=reason)
    if ban and not _banned(forum, membership.user):
        db.session.add(ForumBan(forum_id=forum.id, user_id=membership.user_id, reason=reason,
                                banned_by_id=actor.id))
    audit.record(actor, "forum.member_banned" if ban else "forum.member_removed", "forum",
                 forum.id, reason=reason, user_id=membership.user_id)
    if was_member or ban:
        mail.queue(membership.user.email, f"You have been removed from {forum.name}",
                   "forum_member_removed", kind=Kind.MY_ROLE,
                   recipient=membership.user, user=membership.user, forum=forum, reason=reason,
                   banned=ban)
    permissions.forget_forum_access()
    meeting_registrations.forum_left(actor, membership.user, forum.id)


def lift_ban(actor: User, ban: ForumBan) -> None:
    forum = db.session.get(Forum, ban.forum_id)
    if forum is None or not permissions.can_manage_forum(actor, forum):
        raise PermissionDenied("Only the forum's convenors can lift a ban.")
    audit.record(actor, "forum.member_unbanned", "forum", forum.id, user_id=ban.user_id)
    db.session.delete(ban)
    permissions.forget_forum_access()


# --- Invitations -----------------------------------------------------------------------


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(
    actor: User, forum: Forum, email: str, organisation: Organisation | None = None,
    message: str = "",
) -> tuple[ForumInvitation, str]:
    """Email a single-use, expiring invitation. Returns the invitation and the raw token.

    Inviting the same address again replaces the earlier link (which stops working).
    """
    if not permissions.can_manage_forum(actor, forum):
        raise PermissionDenied("Only the forum's convenors can invite people.")
    email = normalise_email(email)
    if not email:
        raise ValidationError("Enter the email address of the person to invite", field="email")
    message = message.strip()
    if len(message) > INVITATION_MESSAGE_MAX:
        raise ValidationError(f"Message must be {INVITATION_MESSAGE_MAX} characters or fewer",
                              field="message")
    existing = find_by_email(email)
    if existing is not None:
        current = _membership(forum, existing)
        if current is not None and current.status is ForumMemberStatus.ACTIVE:
            raise ValidationError(f"{existing.name} is already a member of this forum",
                                  field="email")
        if _banned(forum, existing):
            raise ValidationError(f"{existing.name} is banned from this forum. Lift the ban "
                                  "first.", field="email")
    now = utcnow()
    for old in db.session.scalars(
        select(ForumInvitation).where(ForumInvitation.forum_id == forum.id,
                                      ForumInvitation.email == email,
                                      ForumInvitation.accepted_at.is_(None),
                                      ForumInvitation.revoked_at.is_(None))
    ):
        old.revoked_at = now
    token = secrets.token_urlsafe(24)
    invitation = ForumInvitation(
        forum_id=forum.id, email=email, organisation_id=organisation.id if organisation else None,
        token_hash=_hash_token(token), message=message, invited_by_id=actor.id,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(actor, "forum.member_invited", "forum", forum.id, email=email,
                 organisation_id=organisation.id if organisation else None)
    mail.queue(email, f"You are invited to join {forum.name}", "forum_invitation",
               kind=Kind.INVITATION,
               forum=forum, inviter=actor, organisation=organisation, message=message,
               link=url_for("forums.invitation", token=token, _external=True),
               expires_at=invitation.expires_at, has_account=existing is not None,
               invitee=existing)
    return invitation, token


def invitation_for_token(token: str, now: datetime | None = None) -> ForumInvitation:
    """The invitation behind a link, if it can still be used. Raises NotFound/Conflict."""
    invitation = db.session.scalar(
        select(ForumInvitation).where(ForumInvitation.token_hash == _hash_token(token))
        .options(joinedload(ForumInvitation.forum).joinedload(Forum.partnership),
                 joinedload(ForumInvitation.organisation))
    )
    if invitation is None:
        raise NotFound("This invitation link is not valid. Check you copied the whole link.")
    if invitation.accepted_at is not None:
        raise Conflict("This invitation has already been used.")
    if invitation.revoked_at is not None:
        raise Conflict("This invitation was replaced or withdrawn. Ask the convenor for a new "
                       "one.")
    if invitation.expires_at <= (now or utcnow()):
        raise Conflict("This invitation has expired. Ask the convenor for a new one.")
    return invitation


def accept_invitation(actor: User, token: str) -> ForumMember:
    """Accept an invitation sent to the actor's own email address; it then stops working."""
    invitation = invitation_for_token(token)
    forum = invitation.forum
    if normalise_email(actor.email) != invitation.email:
        raise PermissionDenied(
            f"This invitation was sent to {invitation.email}. Sign in with that email address "
            "to accept it."
        )
    if _banned(forum, actor):
        raise PermissionDenied("You cannot join this forum. A convenor has barred you from it.")
    organisation = invitation.organisation
    if organisation is not None and not permissions.is_organisation_admin(actor, organisation):
        organisation = None  # join as themselves; they cannot speak for the organisation
    now = utcnow()
    # Used once: the same link followed twice at the same moment, or withdrawn by a
    # convenor at that moment, finds it changed.
    if not conditional.change(invitation, ForumInvitation.accepted_at.is_(None),
                              ForumInvitation.revoked_at.is_(None),
                              accepted_at=now, accepted_by_id=actor.id):
        raise Conflict("This invitation has already been used or withdrawn.")
    membership = _own_membership(forum, actor)
    if membership.status is not ForumMemberStatus.ACTIVE:
        membership.status = ForumMemberStatus.ACTIVE
        membership.organisation_id = organisation.id if organisation else None
        membership.requested_at = membership.requested_at or utcnow()
        membership.decided_at = utcnow()
        membership.decided_by_id = invitation.invited_by_id
        membership.reason = ""
    # Following the emailed link proves the address.
    if actor.email_confirmed_at is None:
        actor.email_confirmed_at = now
    db.session.flush()
    audit.record(actor, "forum.member_accepted_invitation", "forum", forum.id, user_id=actor.id)
    permissions.forget_forum_access()
    return membership


def revoke_invitation(actor: User, invitation: ForumInvitation) -> None:
    if not permissions.can_manage_forum(actor, invitation.forum):
        raise PermissionDenied("Only the forum's convenors can withdraw invitations.")
    if not conditional.change(invitation, ForumInvitation.accepted_at.is_(None),
                              ForumInvitation.revoked_at.is_(None), revoked_at=utcnow()):
        raise Conflict("This invitation has already been used or withdrawn.")
    audit.record(actor, "forum.member_invitation_withdrawn", "forum", invitation.forum_id,
                 email=invitation.email)
