"""Queueing an email: rendered now, added to the caller's transaction, sent later."""

from __future__ import annotations

import sys

from flask import current_app, render_template

from .. import textguard
from ..errors import ValidationError
from ..extensions import db
from .models import SUBJECT_MAX, OutboxMessage


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
