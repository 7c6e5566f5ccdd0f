"""Mail survives an outage: a server that cannot be reached (or will not let us sign
in) costs no message an attempt, however many runs it lasts, and the first run after
it comes back sends everything that waited, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from partnerships import clock, mail
from partnerships.extensions import db
from partnerships.mail import OutboxMessage
from tests.mailserver import Inbox, free_port, running, use_port

PEOPLE = [f"person{n}@example.org" for n in range(6)]


def _queue_for(people: list[str]) -> None:
    db.session.add_all(OutboxMessage(to=to, subject="Your meeting", body="Hello")
                       for to in people)
    db.session.commit()


def _messages() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_runs_during_an_outage_spend_no_attempt_and_the_mail_goes_when_it_is_back(app):
    port = free_port()
    use_port(app, port)  # nothing listens there yet
    _queue_for(PEOPLE)
    runner = app.test_cli_runner()

    for _ in range(mail.MAX_ATTEMPTS + 2):  # more runs than any message has attempts
        down = runner.invoke(args=["outbox", "send"])
        assert down.exit_code == 1, down.output
        assert "Could not reach the mail server" in down.output
        assert f"{len(PEOPLE)} unsent message(s) are waiting" in down.output
    assert [(m.attempts, m.next_attempt_at, m.claimed_by) for m in _messages()] == [
        (0, None, None)] * len(PEOPLE)
    assert mail.failed_messages() == []

    inbox = Inbox()
    with running(inbox, port):
        back = runner.invoke(args=["outbox", "send"])
        assert back.exit_code == 0, back.output
        assert f"Sent {len(PEOPLE)} message(s); 0 failed." in back.output
        again = runner.invoke(args=["outbox", "send"])
        assert "Sent 0 message(s); 0 failed." in again.output

    assert sorted(inbox.recipients) == sorted(PEOPLE)  # each once
    assert [(m.attempts, m.sent_at is not None) for m in _messages()] == [(1, True)] * 6


def test_a_server_that_will_not_let_us_sign_in_spends_no_attempt(app):
    def authenticate(server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        return AuthResult(success=auth_data.password == b"right", handled=False)

    inbox = Inbox()
    _queue_for(PEOPLE[:2])
    with running(inbox, authenticator=authenticate, auth_require_tls=False) as port:
        use_port(app, port)
        app.config.update(SMTP_USERNAME="outbox", SMTP_PASSWORD="wrong")
        refused = app.test_cli_runner().invoke(args=["outbox", "send"])

        assert refused.exit_code == 1, refused.output
        assert "Could not reach the mail server (SMTPAuthenticationError" in refused.output
        assert [m.attempts for m in _messages()] == [0, 0]

        app.config["SMTP_PASSWORD"] = "right"
        assert mail.send_pending().sent == 2
    assert inbox.recipients == PEOPLE[:2]


def test_a_message_claimed_by_a_run_that_died_is_sent_once_its_claim_lapses(app):
    _queue_for(PEOPLE[:2])
    [stuck, free] = _messages()
    start = datetime.now(UTC)
    lapses = start + mail.sending.claim_length()
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == stuck.id)
                       .values(claimed_by="a-run-that-was-killed", claimed_until=lapses))
    db.session.commit()

    inbox = Inbox()
    with running(inbox) as port:
        use_port(app, port)
        with clock.at(start):
            assert mail.send_pending().sent == 1  # the claimed one is left alone
        assert inbox.recipients == [free.to]
        with clock.at(lapses - timedelta(seconds=1)):
            assert mail.send_pending().sent == 0
        with clock.at(lapses + timedelta(seconds=1)):
            assert mail.send_pending().sent == 1
    assert inbox.recipients == [free.to, stuck.to]
    assert [(m.claimed_by, m.claimed_until) for m in _messages()] == [(None, None)] * 2
