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
from typing import Any, NamedTuple

from flask import current_app, render_template
from sqlalchemy import Index, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from . import textguard
from .errors import NotFound, PermissionDenied, ValidationError
from .extensions import db
from .modelbase import Model, UTCDateTime, utcnow

MAX_ATTEMPTS = 5
SUBJECT_MAX = 200


class OutboxMessage(Model):
    """An email waiting to be sent (or sent, with when)."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0, nullable=False)
    last_error: Mapped[str] = mapped_column(Text, nullable=False, default="")

    __table_args__ = (Index("ix_outbox_messages_sent_at", "sent_at"),)


ERROR_MAX = 1000  # how much of an error to keep on the message
FAILED_LIST_MAX = 50  # the newest failed messages the site administrators see


def queue(to: str, subject: str, template: str, **context: object) -> OutboxMessage:
    """Render ``templates/email/<template>.txt`` and add it to the outbox.

    The subject is made safe for a header whatever the caller built it from: any control
    characters or line breaks (say from a name saved before single-line fields refused
    them) become a space, and it is shortened to fit. An address with them is refused.
    """
    if not textguard.is_single_line(to):
        raise ValidationError(textguard.single_line_message("Email address"), field="email")
    subject = textguard.one_line(subject)
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1].rstrip() + "…"
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


def connect_smtp() -> smtplib.SMTP:
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


def _disconnect(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except Exception:  # the connection is already gone: just let go of it
        smtp.close()


# The server refused this one message and smtplib has reset the session (or closed it,
# after a 421), so the next message can follow. Anything else while sending (a dropped
# connection, a time-out, a surprise) leaves it in an unknown state: the next message
# reconnects.
_MESSAGE_REFUSED = (
    smtplib.SMTPResponseException,
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPNotSupportedError,
)


class SendResult(NamedTuple):
    """What a run of ``send_pending`` did."""

    sent: int
    failed: int
    gave_up: int = 0  # messages that failed for the last time (MAX_ATTEMPTS) this run
    unreachable: bool = False  # the run stopped because the server could not be reached


def _describe(error: BaseException) -> str:
    text = str(error)
    described = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return described[:ERROR_MAX]


def send_pending(limit: int = 200) -> SendResult:
    """Send unsent messages, oldest first; commit after each one.

    One bad message never holds up the others: whatever goes wrong while building or
    sending it is recorded on it (``attempts``, ``last_error``) and the run goes on.
    After ``MAX_ATTEMPTS`` it is no longer tried and is listed for the site
    administrators as failed. If the server cannot be reached (at the start, or again
    after a dropped connection) every message left is marked as tried and the run stops.
    """
    pending = list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )
    sent = failed = gave_up = 0

    def record_failure(message: OutboxMessage, error: str) -> None:
        nonlocal failed, gave_up
        message.attempts += 1
        message.last_error = error
        failed += 1
        if message.attempts >= MAX_ATTEMPTS:
            gave_up += 1

    smtp: smtplib.SMTP | None = None
    try:
        for index, message in enumerate(pending):
            try:
                email = _build(message)
            except Exception as exc:  # a header with a line break, a bad address ...
                record_failure(message, _describe(exc))
                db.session.commit()
                continue
            if smtp is None:
                try:
                    smtp = connect_smtp()
                except Exception as exc:  # OSError, SMTPException, ssl errors ...
                    for left in pending[index:]:
                        record_failure(left, f"could not connect: {exc}"[:ERROR_MAX])
                    db.session.commit()
                    return SendResult(sent, failed, gave_up, unreachable=True)
            try:
                smtp.send_message(email)
            except _MESSAGE_REFUSED as exc:
                record_failure(message, _describe(exc))
                if smtp.sock is None:  # smtplib hangs up after a 421 ("closing")
                    smtp = None
            except Exception as exc:  # a dropped connection, a time-out, a surprise ...
                record_failure(message, _describe(exc))
                _disconnect(smtp)
                smtp = None
            else:
                message.sent_at = utcnow()
                message.attempts += 1
                message.last_error = ""
                sent += 1
            db.session.commit()
    finally:
        if smtp is not None:
            _disconnect(smtp)
    return SendResult(sent, failed, gave_up)


def failed() -> tuple[Any, ...]:
    """The condition for messages that failed for good: never sent, no tries left."""
    return (OutboxMessage.sent_at.is_(None), OutboxMessage.attempts >= MAX_ATTEMPTS)


def failed_messages(limit: int = FAILED_LIST_MAX) -> list[OutboxMessage]:
    """The newest messages that will not be tried again."""
    return list(db.session.scalars(
        select(OutboxMessage)
        .where(*failed())
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    ))


def retry(actor: Any, message_id: int) -> OutboxMessage:
    """Put a failed message back in the queue for the next run (site administrators)."""
    from . import audit, permissions

    if not permissions.can_view_admin(actor):
        raise PermissionDenied("Only site administrators can send failed email again.")
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.id == message_id, *failed())
    )
    if message is None:
        raise NotFound("That email is not waiting to be sent again.")
    message.attempts = 0
    audit.record(actor, "email.retried", "outbox_message", message.id,
                 last_error=message.last_error[:200])
    db.session.flush()
    return message
