"""A person's email settings. No row means the default: every message for forums and
partnerships (or the person's own default for new memberships), every personal kind on.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..enums import LabelledEnum
from ..modelbase import Model, UTCDateTime, str_enum, utcnow


class Level(LabelledEnum):
    """How much of a forum's or partnership's activity a person is emailed about."""

    EVERY = "every", "Every message"
    DAILY = "daily", "Daily digest", ("One email a day, at about 7am, with what happened "
                                      "the day before. What is about you still comes at once.")
    WEEKLY = "weekly", "Weekly digest", ("One email on Monday mornings, at about 7am, with "
                                         "what happened the week before. What is about you "
                                         "still comes at once.")
    ABOUT_ME = "about_me", "Only what is about me"
    NONE = "none", "No email", "Only the email that cannot be turned off."


DEFAULT_LEVEL = Level.EVERY
DIGEST_LEVELS = (Level.DAILY, Level.WEEKLY)
KIND_MAX = 40


class NotificationDefault(Model):
    """The level a person's new forum and partnership memberships start with."""

    __tablename__ = "notification_defaults"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    level: Mapped[Level] = mapped_column(str_enum(Level, 20), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                 onupdate=utcnow, nullable=False)


class NotificationLevel(Model):
    """A person's level for one forum or one partnership (exactly one of the two)."""

    __tablename__ = "notification_levels"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         nullable=False)
    forum_id: Mapped[int | None] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    partnership_id: Mapped[int | None] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"))
    level: Mapped[Level] = mapped_column(str_enum(Level, 20), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                 onupdate=utcnow, nullable=False)

    __table_args__ = (
        UniqueConstraint("user_id", "forum_id", name="uq_notification_levels_user_forum"),
        UniqueConstraint("user_id", "partnership_id",
                         name="uq_notification_levels_user_partnership"),
        CheckConstraint("(forum_id IS NULL) <> (partnership_id IS NULL)",
                        name="one_scope"),
    )


class NotificationKindOff(Model):
    """A personal kind of email the person has switched off."""

    __tablename__ = "notification_kinds_off"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    kind: Mapped[str] = mapped_column(String(KIND_MAX), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                 nullable=False)


class DigestCursor(Model):
    """How far a person's digests of one forum or partnership have gone: everything up
    to ``sent_until`` has been in a digest (or came before the person chose one).

    Advanced only by a conditional UPDATE on the value read (or inserted once, under
    the unique constraints) in the same transaction that queues the digest, so two
    ``digests send`` runs at once never put the same item in two digests."""

    __tablename__ = "digest_cursors"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         nullable=False)
    forum_id: Mapped[int | None] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    partnership_id: Mapped[int | None] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"))
    sent_until: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        UniqueConstraint("user_id", "forum_id", name="uq_digest_cursors_user_forum"),
        UniqueConstraint("user_id", "partnership_id",
                         name="uq_digest_cursors_user_partnership"),
        CheckConstraint("(forum_id IS NULL) <> (partnership_id IS NULL)",
                        name="one_scope"),
    )
