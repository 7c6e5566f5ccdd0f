"""Email: the outbox is part of the transaction, and ``flask outbox send`` delivers over
real SMTP (a local aiosmtpd server), once per message.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller

from partnerships import mail
from partnerships.extensions import db
from partnerships.mail import OutboxMessage


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(app) -> Iterator[Inbox]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False,
                      SMTP_SSL=False, SMTP_USERNAME=None)
    try:
        yield inbox
    finally:
        controller.stop()


def _queue(to: str = "ada@example.org") -> None:
    with db.session.no_autoflush:
        from flask import current_app

        with current_app.test_request_context():
            mail.queue(to, "Confirm your email address", "confirm_email",
                       user=type("U", (), {"name": "Ada"})(), link="http://localhost/x")


def test_outbox_send_delivers_over_smtp_once(app, smtp_server):
    _queue()
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert "Sent 1 message(s)" in result.output
    [(recipients, message)] = smtp_server.messages
    assert recipients == ["ada@example.org"]
    assert message["Subject"] == "Confirm your email address"
    assert "http://localhost/x" in message.get_payload(decode=True).decode()
    db.session.expire_all()
    assert db.session.scalar(db.select(OutboxMessage.sent_at)) is not None

    again = runner.invoke(args=["outbox", "send"])
    assert "Sent 0 message(s)" in again.output
    assert len(smtp_server.messages) == 1


def test_outbox_send_records_failure_and_exits_non_zero_when_smtp_is_down(app):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=_free_port(), SMTP_TIMEOUT=2)
    _queue()
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 1
    db.session.expire_all()
    message = db.session.scalar(db.select(OutboxMessage))
    assert message.sent_at is None
    assert message.attempts == 1
    assert "could not connect" in message.last_error


def test_a_rolled_back_change_takes_its_email_with_it(app):
    _queue()
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 0


def test_registration_email_reaches_a_real_smtp_server(app, client, smtp_server):
    client.submit("/account/register", {"name": "Ada Okafor", "email": "ada@example.org",
                                        "password": "maple lantern orbit 42"})
    app.test_cli_runner().invoke(args=["outbox", "send"])
    [(recipients, message)] = smtp_server.messages
    assert recipients == ["ada@example.org"]
    assert "/account/confirm/" in message.get_payload(decode=True).decode()
