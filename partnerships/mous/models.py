"""Memoranda of Understanding: an MoU, its numbered versions, parties, clauses,
comments, signatures, attachments, related forums and sent review reminders.

An ``Mou`` is the record on the register; what the parties agree to lives in a
``MouVersion``. Version 1 is drafted, commented on, opened for signature and, once
every party has signed, comes into force. An amendment is a new version copied from
the one in force, which stays in force until the new one is signed by every party.
A version that has been opened for signature is frozen: the services refuse every
change to its text, clauses or parties, and signatures point at the version signed.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..enums import LabelledEnum
from ..extensions import db
from ..forums.models import Forum
from ..modelbase import Model, StoredFileMixin, TimestampMixin, UTCDateTime, str_enum, utcnow
from ..organisations.models import Organisation
from ..partnership.models import Partnership, Principle

# Length limits, each written once beside the column it protects (the forms' MaxLength
# and the services' checks use the same names). Text columns have no limit of their own
# in the database; these are the app's.
TITLE_MAX = 200  # MouVersion.title
PURPOSE_MAX = 20000  # MouVersion.purpose
NOTE_MAX = 5000  # MouVersion.data_sharing_note
CHANGELOG_MAX = 300  # MouVersion.changelog
ROLE_MAX = 300  # MouParty.role
CLAUSE_MAX = 5000  # MouClause.text
COMMENT_MAX = 5000  # MouComment.body
# Mou.not_published_reason and Mou.ended_reason, MouSignature.decline_reason, and the
# reasons and review notes kept in the audit log.
REASON_MAX = 1000
NAME_MAX = 120  # MouSignature.signer_name
SIGNER_ROLE_MAX = 120  # MouSignature.signer_role
STATEMENT_MAX = 300  # MouSignature.statement


class MouStatus(LabelledEnum):
    """Where the MoU as a whole is. Draft, comments and signing only happen before the
    first version comes into force; after that an MoU is active (perhaps with an
    amendment in progress) or ended."""

    DRAFT = "draft", "Draft"
    COMMENTS = "comments", "Out for comments"
    SIGNING = "signing", "Out for signature"
    ACTIVE = "active", "Active"
    ENDED = "ended", "Ended"


class VersionStatus(LabelledEnum):
    DRAFT = "draft", "Draft"
    COMMENTS = "comments", "Out for comments"
    SIGNING = "signing", "Out for signature"
    SIGNED = "signed", "In force"
    SUPERSEDED = "superseded", "Superseded"
    WITHDRAWN = "withdrawn", "Withdrawn"

    @property
    def is_editable(self) -> bool:
        """Only drafts (including during the comment round) may change."""
        return self in (VersionStatus.DRAFT, VersionStatus.COMMENTS)

    @property
    def is_in_progress(self) -> bool:
        return self in (VersionStatus.DRAFT, VersionStatus.COMMENTS, VersionStatus.SIGNING)


class EndKind(LabelledEnum):
    TERMINATED = "terminated", "Terminated"
    EXPIRED = "expired", "Expired"
    # Never came into force: the officer withdrew it before every party signed.
    WITHDRAWN = "withdrawn", "Withdrawn before it came into force"


class ReminderThreshold(StrEnum):
    DAYS_60 = "60"
    DAYS_30 = "30"
    DAYS_7 = "7"
    OVERDUE = "overdue"


class Mou(TimestampMixin, Model):
    """One memorandum of understanding on a partnership's register."""

    __tablename__ = "mous"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), nullable=False
    )
    # 1, 2, 3 ... within the partnership; shown as the reference "MOU-003".
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[MouStatus] = mapped_column(
        str_enum(MouStatus), nullable=False, default=MouStatus.DRAFT
    )
    # The version in force (None until version 1 is signed by every party). use_alter
    # breaks the mous <-> mou_versions cycle for CREATE and DROP.
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("mou_versions.id", ondelete="SET NULL", use_alter=True,
                   name="fk_mous_current_version_id_mou_versions")
    )
    # The version being drafted, commented on or signed (None when there is none).
    draft_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("mou_versions.id", ondelete="SET NULL", use_alter=True,
                   name="fk_mous_draft_version_id_mou_versions")
    )
    # True: on the public register once in force. False: members only, with the reason.
    publish: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    not_published_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Copied from the version in force, so lists and reminders need no join.
    review_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    end_kind: Mapped[EndKind | None] = mapped_column(str_enum(EndKind))
    ended_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    partnership: Mapped[Partnership] = relationship()
    current_version: Mapped[MouVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )
    draft_version: Mapped[MouVersion | None] = relationship(
        foreign_keys=[draft_version_id], post_update=True
    )
    versions: Mapped[list[MouVersion]] = relationship(
        back_populates="mou", foreign_keys="MouVersion.mou_id",
        order_by="MouVersion.number", cascade="all, delete-orphan",
    )
    principle_rows: Mapped[list[MouPrinciple]] = relationship(
        cascade="all, delete-orphan", order_by="MouPrinciple.principle"
    )
    forums: Mapped[list[Forum]] = relationship(
        secondary="mou_forum_links", order_by="Forum.name"
    )
    created_by: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("partnership_id", "number"),
        Index("ix_mous_partnership_status", "partnership_id", "status"),
        Index("ix_mous_review_date", "review_date"),
    )

    @property
    def reference(self) -> str:
        return f"MOU-{self.number:03d}"

    @property
    def principles(self) -> list[Principle]:
        order = list(Principle)
        return sorted((row.principle for row in self.principle_rows), key=order.index)

    @property
    def has_been_in_force(self) -> bool:
        return self.current_version_id is not None

    @property
    def shown_version(self) -> MouVersion | None:
        """The version in force, or (before there is one) the version in progress."""
        return self.current_version or self.draft_version

    def __repr__(self) -> str:
        return f"<Mou {self.id} {self.status.value}>"


class MouPrinciple(Model):
    """A Civil Society Covenant principle the MoU puts into practice (register filter)."""

    __tablename__ = "mou_principles"

    mou_id: Mapped[int] = mapped_column(ForeignKey("mous.id", ondelete="CASCADE"),
                                        primary_key=True)
    principle: Mapped[Principle] = mapped_column(str_enum(Principle), primary_key=True)


class MouVersion(TimestampMixin, Model):
    """What the parties agree to. Frozen from the moment it is opened for signature."""

    __tablename__ = "mou_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    mou_id: Mapped[int] = mapped_column(ForeignKey("mous.id", ondelete="CASCADE"),
                                        nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    purpose: Mapped[str] = mapped_column(Text, nullable=False, default="")
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    review_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(Date)
    data_sharing: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    data_sharing_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # One line: what changed from the version it is based on.
    changelog: Mapped[str] = mapped_column(String(CHANGELOG_MAX), nullable=False, default="")
    status: Mapped[VersionStatus] = mapped_column(
        str_enum(VersionStatus), nullable=False, default=VersionStatus.DRAFT
    )
    opened_for_signature_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the last party signed, i.e. when this version came into force.
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    based_on_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("mou_versions.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    mou: Mapped[Mou] = relationship(back_populates="versions", foreign_keys=[mou_id])
    parties: Mapped[list[MouParty]] = relationship(
        back_populates="version", cascade="all, delete-orphan",
        order_by=lambda: [MouParty.position, MouParty.id],
    )
    clauses: Mapped[list[MouClause]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="MouClause.number"
    )
    signatures: Mapped[list[MouSignature]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="MouSignature.id"
    )
    attachments: Mapped[list[MouAttachment]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="MouAttachment.id"
    )

    __table_args__ = (
        UniqueConstraint("mou_id", "number"),
        Index("ix_mou_versions_status", "status"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("review_date > start_date", name="review_after_start"),
        CheckConstraint("end_date IS NULL OR end_date > start_date", name="end_after_start"),
    )

    @property
    def is_editable(self) -> bool:
        return self.status.is_editable

    def party_for(self, organisation_id: int) -> MouParty | None:
        return next((p for p in self.parties if p.organisation_id == organisation_id), None)

    def signature_for(self, organisation_id: int) -> MouSignature | None:
        return next((s for s in self.signatures if s.organisation_id == organisation_id), None)

    @property
    def signed_count(self) -> int:
        return sum(1 for s in self.signatures if not s.declined)

    def __repr__(self) -> str:
        return f"<MouVersion {self.mou_id} v{self.number} {self.status.value}>"


class MouParty(TimestampMixin, Model):
    """An organisation that is party to one version, and the role it plays."""

    __tablename__ = "mou_parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("mou_versions.id", ondelete="CASCADE"),
                                            nullable=False)
    # No cascade: an organisation that is party to an MoU cannot silently disappear from it.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False)
    role: Mapped[str] = mapped_column(String(ROLE_MAX), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # A person the organisation's admin nominates to sign for it on this version.
    nominated_signatory_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    version: Mapped[MouVersion] = relationship(back_populates="parties")
    organisation: Mapped[Organisation] = relationship()
    nominated_signatory: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("version_id", "organisation_id"),
        Index("ix_mou_parties_organisation_id", "organisation_id"),
        Index("ix_mou_parties_nominated_signatory_id", "nominated_signatory_id"),
    )


mou_clause_parties = Table(
    "mou_clause_parties",
    db.metadata,
    Column("clause_id", ForeignKey("mou_clauses.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id"), primary_key=True),
)


class MouClause(TimestampMixin, Model):
    """A numbered commitment, with the party or parties responsible for it."""

    __tablename__ = "mou_clauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("mou_versions.id", ondelete="CASCADE"),
                                            nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)

    version: Mapped[MouVersion] = relationship(back_populates="clauses")
    responsible: Mapped[list[Organisation]] = relationship(
        secondary=mou_clause_parties, order_by="Organisation.name"
    )

    __table_args__ = (
        UniqueConstraint("version_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )


class MouComment(TimestampMixin, Model):
    """A party's comment on a draft, on one clause or (clause None) on the whole draft."""

    __tablename__ = "mou_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("mou_versions.id", ondelete="CASCADE"),
                                            nullable=False)
    clause_id: Mapped[int | None] = mapped_column(
        ForeignKey("mou_clauses.id", ondelete="SET NULL")
    )
    # The clause's number when the comment was made, so it still reads right if the
    # officer later removes or renumbers clauses.
    clause_number: Mapped[int | None] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(Text, nullable=False)

    clause: Mapped[MouClause | None] = relationship()
    author: Mapped[User | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()

    __table_args__ = (Index("ix_mou_comments_version_id", "version_id", "id"),)


class MouSignature(Model):
    """A party's signature on one exact version, or its decision to decline."""

    __tablename__ = "mou_signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("mou_versions.id", ondelete="CASCADE"),
                                            nullable=False)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False)
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    signer_name: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False)
    signer_role: Mapped[str] = mapped_column(String(SIGNER_ROLE_MAX), nullable=False, default="")
    # Exactly what the signer typed, e.g. "I agree on behalf of Northbridge Council".
    statement: Mapped[str] = mapped_column(String(STATEMENT_MAX), nullable=False, default="")
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    declined: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    decline_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    version: Mapped[MouVersion] = relationship(back_populates="signatures")
    organisation: Mapped[Organisation] = relationship()
    signer: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("version_id", "organisation_id"),
        CheckConstraint(
            "(declined AND declined_at IS NOT NULL AND signed_at IS NULL) OR "
            "(NOT declined AND signed_at IS NOT NULL AND declined_at IS NULL)",
            name="signed_or_declined",
        ),
    )


class MouAttachment(StoredFileMixin, Model):
    """A file attached to a version. Amendments copy the row, not the file, so several
    versions may point at one stored file."""

    __tablename__ = "mou_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("mou_versions.id", ondelete="CASCADE"),
                                            nullable=False)

    version: Mapped[MouVersion] = relationship(back_populates="attachments")

    __table_args__ = (
        Index("ix_mou_attachments_version_id", "version_id"),
        Index("ix_mou_attachments_stored_name", "stored_name"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
    )


class MouForumLink(Model):
    """A forum related to the MoU (e.g. the forum that oversees it)."""

    __tablename__ = "mou_forum_links"

    mou_id: Mapped[int] = mapped_column(ForeignKey("mous.id", ondelete="CASCADE"),
                                        primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"),
                                          primary_key=True)

    __table_args__ = (Index("ix_mou_forum_links_forum_id", "forum_id"),)


class MouReminder(Model):
    """A review reminder already sent, so `flask reminders send` never sends it twice."""

    __tablename__ = "mou_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    mou_id: Mapped[int] = mapped_column(ForeignKey("mous.id", ondelete="CASCADE"),
                                        nullable=False)
    review_date: Mapped[date] = mapped_column(Date, nullable=False)
    threshold: Mapped[ReminderThreshold] = mapped_column(
        str_enum(ReminderThreshold, length=10), nullable=False
    )
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    __table_args__ = (UniqueConstraint("mou_id", "review_date", "threshold"),)
