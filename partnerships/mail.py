"""Email: an outbox table written in the same transaction as the change.

``queue`` adds a message to the session; if the change rolls back, so does the
email. ``flask outbox send`` delivers unsent messages over SMTP. In development
each message is also printed when queued, so the demo works with no mail server.
"""

from __future__ import annotations

import smtplib
import ssl
import sys
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, render_template
from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .modelbase import UTCDateTime, utcnow

MAX_ATTEMPTS = 5


class OutboxMessage(db.Model):
    """An email waiting to be sent (or sent, with when)."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0, nullable=False)
    last_error: Mapped[str] = mapped_column(Text, nullable=False, default="")

    __table_args__ = (Index("ix_outbox_messages_sent_at", "sent_at"),)


def queue(to: str, subject: str, template: str, **context: object) -> OutboxMessage:
    """Render ``templates/email/<template>.txt`` and add it to the outbox."""
    body = render_template(f"email/{template}.txt", **context)
    message = OutboxMessage(to=to, subject=subject, body=body)
    db.session.add(message)
    if current_app.config.get("MAIL_PRINT"):
        print(
            f"\n----- email to {to} -----\nSubject: {subject}\n\n{body}\n------------------------",
            file=sys.stderr,
            flush=True,
        )
    return message


def _build(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain="local-partnerships")
    email.set_content(message.body)
    return email


def _connect() -> smtplib.SMTP:
    cfg = current_app.config
    timeout = cfg["SMTP_TIMEOUT"]
    smtp: smtplib.SMTP
    if cfg["SMTP_SSL"]:
        smtp = smtplib.SMTP_SSL(
            cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=timeout,
            context=ssl.create_default_context(),
        )
    else:
        smtp = smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=timeout)
        if cfg["SMTP_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())
    if cfg["SMTP_USERNAME"]:
        smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"] or "")
    return smtp


def send_pending(limit: int = 200) -> tuple[int, int]:
    """Send unsent messages; commit after each one. Return (sent, failed)."""
    pending = list(
        db.session.scalars(
            db.select(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )
    if not pending:
        return 0, 0
    sent = failed = 0
    try:
        smtp = _connect()
    except (OSError, smtplib.SMTPException) as exc:
        for message in pending:
            message.attempts += 1
            message.last_error = f"could not connect: {exc}"
        db.session.commit()
        return 0, len(pending)
    with smtp:
        for message in pending:
            try:
                smtp.send_message(_build(message))
            except smtplib.SMTPException as exc:
                message.attempts += 1
                message.last_error = str(exc)
                failed += 1
            else:
                message.sent_at = utcnow()
                message.attempts += 1
                message.last_error = ""
                sent += 1
            db.session.commit()
    return sent, failed
