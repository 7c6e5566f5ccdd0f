"""``flask outbox retry``: the operator puts email that failed for good back in the
queue (all of it, or one message), and the next ``outbox send`` delivers it."""

from __future__ import annotations

from sqlalchemy import select

from partnerships import mail
from partnerships.audit import AuditEvent
from partnerships.extensions import db
from partnerships.mail import MAX_ATTEMPTS, OutboxMessage
from partnerships.modelbase import utcnow
from tests.mailserver import Inbox, running, use_port


def _messages() -> dict[str, OutboxMessage]:
    """One failed for good, another failed for good, one still being tried, one sent."""
    messages = {
        "failed": OutboxMessage(to="ada@example.org", subject="A", body="x",
                                attempts=MAX_ATTEMPTS, last_error="550 No such user"),
        "also failed": OutboxMessage(to="grace@example.org", subject="B", body="x",
                                     attempts=MAX_ATTEMPTS, last_error="550 Mailbox full"),
        "trying": OutboxMessage(to="lin@example.org", subject="C", body="x", attempts=2,
                                next_attempt_at=utcnow()),
        "sent": OutboxMessage(to="sam@example.org", subject="D", body="x", attempts=1,
                              sent_at=utcnow()),
    }
    db.session.add_all(messages.values())
    db.session.commit()
    return messages


def _attempts() -> dict[str, int]:
    db.session.expire_all()
    rows = db.session.execute(select(OutboxMessage.to, OutboxMessage.attempts)).all()
    return {row.to: row.attempts for row in rows}


def test_outbox_retry_requeues_every_failed_message_and_the_next_run_sends_them(app):
    _messages()
    runner = app.test_cli_runner()

    result = runner.invoke(args=["outbox", "retry"])

    assert result.exit_code == 0, result.output
    assert "Put 2 failed message(s) back in the queue." in result.output
    assert _attempts() == {"ada@example.org": 0, "grace@example.org": 0,
                           "lin@example.org": 2, "sam@example.org": 1}
    assert mail.failed_messages() == []
    events = list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "email.retried")))
    assert len(events) == 2 and {event.actor_id for event in events} == {None}
    assert {event.details["last_error"] for event in events} == {
        "550 No such user", "550 Mailbox full"}

    inbox = Inbox()
    with running(inbox) as port:
        use_port(app, port)
        sent = runner.invoke(args=["outbox", "send"])
    assert "Sent 3 message(s); 0 failed." in sent.output
    assert sorted(inbox.recipients) == ["ada@example.org", "grace@example.org",
                                        "lin@example.org"]
    again = runner.invoke(args=["outbox", "retry"])
    assert "Put 0 failed message(s) back in the queue." in again.output


def test_outbox_retry_with_an_id_requeues_only_that_message(app):
    messages = _messages()

    result = app.test_cli_runner().invoke(
        args=["outbox", "retry", "--id", str(messages["also failed"].id)])

    assert result.exit_code == 0, result.output
    assert "Put 1 failed message(s) back in the queue." in result.output
    assert _attempts()["grace@example.org"] == 0
    assert _attempts()["ada@example.org"] == MAX_ATTEMPTS


def test_outbox_retry_refuses_a_message_that_has_not_failed(app):
    messages = _messages()
    runner = app.test_cli_runner()
    for which in ("trying", "sent"):
        result = runner.invoke(args=["outbox", "retry", "--id", str(messages[which].id)])
        assert result.exit_code == 1, result.output
        assert "has not failed for good" in result.output
    missing = max(message.id for message in messages.values()) + 1
    result = runner.invoke(args=["outbox", "retry", "--id", str(missing)])
    assert result.exit_code == 1 and "has not failed for good" in result.output
    assert _attempts() == {"ada@example.org": MAX_ATTEMPTS, "grace@example.org": MAX_ATTEMPTS,
                           "lin@example.org": 2, "sam@example.org": 1}


def test_outbox_retry_refuses_a_malformed_id(app):
    _messages()
    runner = app.test_cli_runner()
    for bad in ("0", "-3", "abc", "²", str(2**63)):
        result = runner.invoke(args=["outbox", "retry", "--id", bad])
        assert result.exit_code == 2, (bad, result.output)
    assert _attempts()["ada@example.org"] == MAX_ATTEMPTS
