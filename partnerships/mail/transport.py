"""SMTP: building a message, connecting, and telling the server's refusal of one
message apart from trouble with the connection itself.

The difference decides who pays. A refusal (a 5xx or 4xx reply to this message's
sender, recipients or content, or a message that cannot even be built) is about the
message, and costs it an attempt. Trouble with the connection (the server cannot be
reached, will not let us sign in, says 421 "closing", hangs up or times out before it
has accepted the message) says nothing about the message, so it costs nothing and the
message waits for the next run.
"""

from __future__ import annotations

import smtplib
import ssl
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app

from .html import to_html
from .models import ERROR_MAX, OutboxMessage

SERVICE_CLOSING = 421  # "Service not available, closing transmission channel"
# Lines up to RFC 5322's limit: a long unsubscribe link stays one plain
# ``List-Unsubscribe: <https://...>`` line, rather than being folded into encoded words
# that mail providers would not read as a link.
POLICY = policy.default.clone(max_line_length=998)


def build(message: OutboxMessage) -> EmailMessage:
    """The email as it goes out: multipart/alternative, the plain text and an HTML part
    made from it (``html``), with the one-click unsubscribe headers on email that can
    be turned off. Raises (say ``ValueError`` for a header with a line
    break in a row saved before subjects were made safe) if it cannot be built."""
    email = EmailMessage(policy=POLICY)
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain="local-partnerships")
    if message.unsubscribe_url:  # RFC 8058: email that can be turned off, in one click
        email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(message.body)
    email.add_alternative(to_html(message.body, message.subject), subtype="html")
    return email


def connect_smtp() -> smtplib.SMTP:
    """A connection to the configured server, encrypted and signed in as configured."""
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
    try:
        if not cfg["SMTP_SSL"] and cfg["SMTP_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if cfg["SMTP_USERNAME"]:
            smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"] or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def disconnect(smtp: smtplib.SMTP) -> None:
    """Say goodbye if the server is still listening; let go of the socket either way."""
    try:
        smtp.quit()
    except Exception:  # the connection is already gone: just let go of it
        smtp.close()


def is_connection_trouble(error: BaseException) -> bool:
    """True when ``error``, raised while sending one message, is about the connection
    (hung up, timed out, 421) rather than the server refusing that message.

    ``SMTPException`` is itself an ``OSError``, so the refusals are sorted out first.
    """
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == SERVICE_CLOSING or isinstance(error, smtplib.SMTPHeloError)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in error.recipients.values()]
        return bool(codes) and all(code == SERVICE_CLOSING for code in codes)
    if isinstance(error, smtplib.SMTPException):
        return False
    return isinstance(error, OSError)  # refused, reset, timed out, TLS failed ...


def describe(error: BaseException) -> str:
    """The error as kept on the message and shown to site administrators."""
    text = str(error)
    described = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return described[:ERROR_MAX]
