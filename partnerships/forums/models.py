"""Forums inside a partnership: membership, invitations, bans, and discussions.

A forum's membership is per person; a person may join on behalf of an organisation
they administer, which records the organisation as taking part (for the member
list and for reporting who takes part by sector and size).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..enums import LabelledEnum
from ..modelbase import Model, TimestampMixin, UTCDateTime, str_enum
from ..organisations.models import Organisation
from ..partnership.models import Partnership


class _ShortLabelled(LabelledEnum):
    """A choice whose label starts with its short name: "Open: anyone signed in ..."."""

    @property
    def short_label(self) -> str:
        """The label's short name, for tags ("Open", "Members only")."""
        return self.label.split(":", 1)[0]


class MembershipPolicy(_ShortLabelled):
    OPEN = "open", "Open: anyone signed in can join at once"
    BY_REQUEST = "by_request", "By request: people ask to join and a convenor decides"
    BY_INVITATION = "by_invitation", "By invitation only: convenors invite people by email"


class Visibility(_ShortLabelled):
    PUBLIC = "public", "Public: anyone can read the forum, its members and its discussions"
    MEMBERS = "members", "Members only: the public sees only the name, purpose and how to join"


# Length limits, beside the columns they protect; forms and services read them here.
NAME_MAX = 160
THEME_MAX = 160
TAGS_MAX = 300
PURPOSE_MAX = 5000
NOTICE_DAYS_MAX = 20  # clear working days of agenda notice, from 0
INTRODUCTION_MAX = 500
REASON_MAX = 1000
INVITATION_MESSAGE_MAX = INTRODUCTION_MAX
TITLE_MAX = 160
BODY_MAX = 10_000
HIDDEN_REASON_MAX = 1000


class ForumMemberStatus(StrEnum):
    """The life of a person's forum membership; every change is also in the audit log."""

    PENDING = "pending"
    ACTIVE = "active"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    LEFT = "left"
    REMOVED = "removed"


class Forum(TimestampMixin, Model):
    """A standing group inside a partnership, such as a VCSE alliance or a thematic forum."""

    __tablename__ = "forums"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), nullable=False
    )
    slug: Mapped[str] = mapped_column(String(80), nullable=False)
    name: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False)
    purpose: Mapped[str] = mapped_column(Text, nullable=False, default="")  # PURPOSE_MAX
    theme: Mapped[str] = mapped_column(String(THEME_MAX), nullable=False, default="")
    # Comma-separated, lower-case, for display and simple filtering.
    tags: Mapped[str] = mapped_column(String(TAGS_MAX), nullable=False, default="")
    membership_policy: Mapped[MembershipPolicy] = mapped_column(
        str_enum(MembershipPolicy), nullable=False, default=MembershipPolicy.BY_REQUEST
    )
    visibility: Mapped[Visibility] = mapped_column(
        str_enum(Visibility), nullable=False, default=Visibility.PUBLIC
    )
    # Clear working days between publishing a meeting's agenda and the meeting.
    notice_days: Mapped[int] = mapped_column(Integer, nullable=False, default=5,
                                             server_default="5")
    # How many active members: kept by ``forums/counts.py`` in the same transaction as
    # each membership's change, so lists of forums read it rather than counting rows.
    member_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                              server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    partnership: Mapped[Partnership] = relationship()
    convenors: Mapped[list[ForumConvenor]] = relationship(
        back_populates="forum", cascade="all, delete-orphan", order_by="ForumConvenor.id"
    )

    __table_args__ = (
        UniqueConstraint("partnership_id", "slug"),
        Index("ix_forums_partnership_id", "partnership_id"),
    )

    @property
    def is_public(self) -> bool:
        return self.visibility is Visibility.PUBLIC

    @property
    def tag_list(self) -> list[str]:
        return [tag for tag in self.tags.split(",") if tag]

    def __repr__(self) -> str:
        return f"<Forum {self.slug}>"


class ForumConvenor(TimestampMixin, Model):
    """A person who runs a forum; co-chairs may come from different sectors."""

    __tablename__ = "forum_convenors"

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"),
                                          nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         nullable=False)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )

    forum: Mapped[Forum] = relationship(back_populates="convenors")
    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation | None] = relationship()

    __table_args__ = (
        UniqueConstraint("forum_id", "user_id"),
        Index("ix_forum_convenors_user_id", "user_id"),
    )


class ForumMember(TimestampMixin, Model):
    """A person's membership of a forum, from request (or invitation) to leaving."""

    __tablename__ = "forum_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"),
                                          nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         nullable=False)
    # The organisation the person represents here, if they joined on its behalf.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    # active_history: the status a change replaces is always known (forums/counts.py).
    status: Mapped[ForumMemberStatus] = mapped_column(
        str_enum(ForumMemberStatus), nullable=False, default=ForumMemberStatus.PENDING,
        active_history=True,
    )
    introduction: Mapped[str] = mapped_column(Text, nullable=False, default="")  # INTRODUCTION_MAX
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Why a request was declined or the member removed (REASON_MAX).
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")

    forum: Mapped[Forum] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    organisation: Mapped[Organisation | None] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        UniqueConstraint("forum_id", "user_id"),
        Index("ix_forum_members_forum_status", "forum_id", "status"),
        Index("ix_forum_members_user_status", "user_id", "status"),
    )


class ForumBan(TimestampMixin, Model):
    """A person a convenor has barred from rejoining the forum."""

    __tablename__ = "forum_bans"

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"),
                                          nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    banned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    __table_args__ = (UniqueConstraint("forum_id", "user_id"),)


class ForumInvitation(TimestampMixin, Model):
    """An emailed invitation: the link works once and expires. Only a hash is stored."""

    __tablename__ = "forum_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"),
                                          nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    # Invite someone to represent this organisation (they must be its admin to accept).
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")  # INVITATION_MESSAGE_MAX
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    forum: Mapped[Forum] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    __table_args__ = (Index("ix_forum_invitations_forum_id", "forum_id"),)


class Thread(TimestampMixin, Model):
    """A discussion in a forum. Counters are kept up to date by the services so lists
    need no aggregate queries."""

    __tablename__ = "forum_threads"

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"),
                                          nullable=False)
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    pinned: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    reply_count: Mapped[int] = mapped_column(nullable=False, default=0)
    last_post_id: Mapped[int | None] = mapped_column()
    last_post_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    forum: Mapped[Forum] = relationship()
    author: Mapped[User | None] = relationship()

    __table_args__ = (
        Index("ix_forum_threads_forum_order", "forum_id", "pinned", "last_post_at"),
    )


class Post(TimestampMixin, Model):
    """A message in a thread (the first one opens it). Hidden posts keep their text for
    the author and convenors; everyone else sees that it was hidden. A post its author
    deleted keeps its place in the conversation (replies may answer it) but not its
    text: everyone sees "deleted by its author"."""

    __tablename__ = "forum_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("forum_threads.id", ondelete="CASCADE"),
                                           nullable=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text, nullable=False)  # BODY_MAX
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Up to HIDDEN_REASON_MAX characters.
    hidden_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    thread: Mapped[Thread] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])

    __table_args__ = (Index("ix_forum_posts_thread_id_id", "thread_id", "id"),)

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class Subscription(StrEnum):
    NORMAL = "normal"
    FOLLOWING = "following"
    MUTED = "muted"


class ThreadState(Model):
    """A person's relation to a thread: what they have read, and follow or mute."""

    __tablename__ = "forum_thread_states"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("forum_threads.id", ondelete="CASCADE"), primary_key=True
    )
    last_read_post_id: Mapped[int] = mapped_column(nullable=False, default=0)
    subscription: Mapped[Subscription] = mapped_column(
        str_enum(Subscription), nullable=False, default=Subscription.NORMAL
    )

    __table_args__ = (Index("ix_forum_thread_states_thread_id", "thread_id"),)
