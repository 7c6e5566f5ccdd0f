"""The outbox table: one row per email, written in the same transaction as the change
it tells people about, and marked when it is sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..modelbase import Model, UTCDateTime, utcnow

SUBJECT_MAX = 200
ERROR_MAX = 1000  # how much of an error to keep on the message
CLAIM_TOKEN_LENGTH = 32
KIND_MAX = 40


class OutboxMessage(Model):
    """An email waiting to be sent (or sent, with when).

    ``attempts`` counts only the times the mail server refused it (or it could not be
    built); an unreachable server costs it nothing. ``next_attempt_at`` is when it may
    be tried again after such a refusal (``None``: as soon as possible).
    ``claimed_by``/``claimed_until`` mark it as being sent by one ``outbox send`` run,
    so that a run going at the same time leaves it alone; a claim lapses at
    ``claimed_until``, so a run killed mid-send does not strand it.
    """

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0, nullable=False)
    last_error: Mapped[str] = mapped_column(Text, nullable=False, default="")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(CLAIM_TOKEN_LENGTH))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The kind of email (``kinds.Kind``), and for email that can be turned off, its
    # signed one-click unsubscribe link (the ``List-Unsubscribe`` header); ``None``
    # on essential email, which carries no such header.
    kind: Mapped[str] = mapped_column(String(KIND_MAX), nullable=False, default="",
                                      server_default="")
    unsubscribe_url: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_outbox_messages_sent_at", "sent_at"),)
