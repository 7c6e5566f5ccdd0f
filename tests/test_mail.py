"""Email: the outbox is part of the transaction, and ``flask outbox send`` delivers over
real SMTP (a local aiosmtpd server), once per message.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select

from partnerships import clock, mail
from partnerships.errors import ValidationError
from partnerships.extensions import db
from partnerships.mail import OutboxMessage
from partnerships.mail.kinds import Kind
from tests.mailserver import Inbox, free_port, running, use_port


@pytest.fixture
def smtp_server(app) -> Iterator[Inbox]:
    inbox = Inbox()
    with running(inbox) as port:
        use_port(app, port)
        yield inbox


def _queue(to: str = "ada@example.org") -> None:
    with db.session.no_autoflush:
        from flask import current_app

        with current_app.test_request_context():
            mail.queue(to, "Confirm your email address", "confirm_email",
                       kind=Kind.ACCOUNT_SECURITY,
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
    assert "http://localhost/x" in Inbox.text(message)
    db.session.expire_all()
    assert db.session.scalar(db.select(OutboxMessage.sent_at)) is not None

    again = runner.invoke(args=["outbox", "send"])
    assert "Sent 0 message(s)" in again.output
    assert len(smtp_server.messages) == 1


def test_outbox_send_spends_no_attempt_and_exits_non_zero_when_smtp_is_down(app):
    use_port(app, free_port())  # nothing listens there
    _queue()
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 1
    assert "Could not reach the mail server (ConnectionRefusedError" in result.output
    assert "No attempt was spent: 1 unsent message(s) are waiting." in result.output
    db.session.expire_all()
    message = db.session.scalar(db.select(OutboxMessage))
    assert message.sent_at is None
    assert (message.attempts, message.next_attempt_at, message.claimed_by) == (0, None, None)


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
    assert "/account/confirm/" in Inbox.text(message)


# --- One bad message never stops the others ------------------------------------------------

BAD_SUBJECT = "Ada\r\nBcc: evil@attacker.example has asked to join Eastside Food Bank"


def _raw_message(to: str, subject: str) -> int:
    """An outbox row written straight to the table, as data saved before subjects were
    made safe would be (neither ``queue`` nor the session's guard sees it)."""
    result = db.session.execute(insert(OutboxMessage.__table__).values(
        to=to, subject=subject, body="Hello", attempts=0, last_error="",
        created_at=datetime.now(UTC),
    ))
    db.session.commit()
    return result.inserted_primary_key[0]


def _message(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def test_a_message_that_cannot_be_built_is_recorded_and_the_next_one_is_sent(
    app, smtp_server
):
    bad = _raw_message("ada@example.org", BAD_SUBJECT)
    _queue("grace@example.org")  # a password reset, say, queued after it
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["outbox", "send"])

    assert result.exit_code == 0, result.output
    assert "Sent 1 message(s); 1 failed." in result.output
    [(recipients, _email)] = smtp_server.messages
    assert recipients == ["grace@example.org"]
    message = _message(bad)
    assert message.sent_at is None
    assert message.attempts == 1
    assert "linefeed" in message.last_error and message.last_error.startswith("ValueError")


def test_a_message_that_keeps_failing_is_given_up_and_listed_for_site_admins(
    app, client, auth, make_user, smtp_server
):
    bad = _raw_message("ada@example.org", BAD_SUBJECT)
    runner = app.test_cli_runner()
    moment = datetime.now(UTC)
    for _ in range(mail.MAX_ATTEMPTS - 1):
        with clock.at(moment):
            runner.invoke(args=["outbox", "send"])
        moment = _message(bad).next_attempt_at
    assert _message(bad).attempts == mail.MAX_ATTEMPTS - 1
    assert mail.failed_messages() == []

    with clock.at(moment):
        last = runner.invoke(args=["outbox", "send"])

    assert last.exit_code == 0, last.output
    assert "failed for the last time" in last.output
    assert [m.id for m in mail.failed_messages()] == [bad]
    assert _message(bad).next_attempt_at is None
    with clock.at(moment + mail.KEEP_TRYING_FOR):
        again = runner.invoke(args=["outbox", "send"])  # no longer tried
    assert "Sent 0 message(s); 0 failed." in again.output
    assert _message(bad).attempts == mail.MAX_ATTEMPTS
    assert smtp_server.messages == []

    auth.login(make_user(site_admin=True))
    page = client.get("/admin/").get_data(as_text=True)
    assert "Emails that could not be sent" in page
    assert "ada@example.org" in page and "Bcc: evil@attacker.example" in page
    assert "Header values may not contain linefeed" in page


class Flaky(Inbox):
    """Accepts every message except the first, which it refuses with 421 (closing the
    connection), as a server shutting down mid-run does."""

    async def handle_DATA(self, server, session, envelope):
        if not getattr(self, "refused", False):
            self.refused = True
            return "421 Service not available, closing transmission channel"
        return await super().handle_DATA(server, session, envelope)


def test_a_server_closing_mid_message_costs_it_no_attempt_and_the_run_reconnects(app):
    inbox = Flaky()
    with running(inbox) as port:
        use_port(app, port)
        _queue("ada@example.org")
        _queue("grace@example.org")
        db.session.commit()
        result = mail.send_pending()

        assert (result.sent, result.failed, result.unreachable) == (1, 0, False)
        assert inbox.recipients == ["grace@example.org"]
        first, second = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        assert first.sent_at is None and first.attempts == 0 and "421" in first.last_error
        assert first.next_attempt_at is None and first.claimed_by is None
        assert second.sent_at is not None and second.last_error == ""

        assert mail.send_pending().sent == 1  # the next run sends the first one
        assert inbox.recipients == ["grace@example.org", "ada@example.org"]


def test_a_server_that_goes_away_mid_run_stops_the_run_cleanly(app, smtp_server, monkeypatch):
    connect = mail.connect_smtp
    calls = []

    def connect_once():
        calls.append(1)
        if len(calls) > 1:
            raise ConnectionRefusedError(111, "Connection refused")
        return connect()

    def drop_connection(self, *args, **kwargs):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr("partnerships.mail.transport.connect_smtp", connect_once)
    monkeypatch.setattr(smtplib.SMTP, "send_message", drop_connection)
    for to in ("ada@example.org", "grace@example.org", "lin@example.org"):
        _queue(to)
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["outbox", "send"])

    assert result.exit_code == 1, result.output
    assert "Could not reach the mail server (ConnectionRefusedError" in result.output
    assert "3 unsent message(s) are waiting" in result.output
    first, *rest = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
    assert first.attempts == 0 and "SMTPServerDisconnected" in first.last_error
    assert [(m.attempts, m.last_error) for m in rest] == [(0, ""), (0, "")]
    assert [m.claimed_by for m in (first, *rest)] == [None, None, None]


def test_queue_puts_a_subject_on_one_line_so_no_header_can_be_added(app, smtp_server):
    with app.test_request_context():
        mail.queue("ada@example.org", BAD_SUBJECT + "\u2028\x00", "confirm_email",
                   kind=Kind.ACCOUNT_SECURITY,
                   user=type("U", (), {"name": "Ada"})(), link="http://localhost/x")
    db.session.commit()
    stored = db.session.scalar(select(OutboxMessage.subject))
    assert stored == ("Ada Bcc: evil@attacker.example has asked to join "
                      "Eastside Food Bank")

    assert mail.send_pending().sent == 1
    [(recipients, message)] = smtp_server.messages
    assert recipients == ["ada@example.org"]
    assert message["Bcc"] is None
    assert message["Subject"] == stored


def test_queue_shortens_a_subject_too_long_for_its_column(app):
    with app.test_request_context():
        message = mail.queue("ada@example.org", "x" * 300, "confirm_email",
                             kind=Kind.ACCOUNT_SECURITY,
                             user=type("U", (), {"name": "Ada"})(), link="http://x")
    assert len(message.subject) == mail.SUBJECT_MAX and message.subject.endswith("…")


@pytest.mark.parametrize("to", ["ada@example.org\r\nBcc: evil@attacker.example",
                                "ada@example.org\n", "ada\x00@example.org"])
def test_queue_refuses_an_address_with_a_line_break_or_control_character(app, to):
    with app.test_request_context(), pytest.raises(ValidationError):
        mail.queue(to, "Hello", "confirm_email", kind=Kind.ACCOUNT_SECURITY,
                   user=type("U", (), {"name": "Ada"})(), link="http://x")
    db.session.commit()
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
