"""A message the server refuses is tried again after 1, 5 and 15 minutes, then every
hour, and is given up (and listed for the site administrators) only after more than
24 hours of trying."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from sqlalchemy import select

from partnerships import clock, mail
from partnerships.extensions import db
from partnerships.mail import OutboxMessage
from tests.mailserver import Inbox, Refusing, running, use_port

MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)


def _message(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    message = db.session.get(OutboxMessage, message_id)
    assert message is not None
    return message


def test_the_schedule_waits_longer_each_time_and_lasts_more_than_a_day():
    waits = [mail.schedule.delay_after(n) for n in range(1, mail.MAX_ATTEMPTS)]
    assert waits[:5] == [MINUTE, 5 * MINUTE, 15 * MINUTE, 60 * MINUTE, 60 * MINUTE]
    assert set(waits[3:]) == {60 * MINUTE}
    assert sum(waits, timedelta(0)) >= timedelta(hours=24)
    assert sum(waits[:-1], timedelta(0)) < timedelta(hours=24)  # no longer than needed


def test_a_refused_message_backs_off_and_fails_only_after_a_day(app):
    start = datetime.now(UTC).replace(microsecond=0)
    with clock.at(start):
        refused = OutboxMessage(to="nobody@example.org", subject="Hello", body="Hi")
        db.session.add(refused)
        db.session.commit()
    runner = app.test_cli_runner()
    tries = []
    moment = start
    with running(Refusing()) as port:
        use_port(app, port)
        while True:
            if tries:
                with clock.at(moment - SECOND):  # its wait is not over: not tried
                    assert mail.send_pending() == mail.SendResult(0, 0)
            with clock.at(moment):
                result = runner.invoke(args=["outbox", "send"])
            assert result.exit_code == 0, result.output  # the server is there: not an outage
            assert "Sent 0 message(s); 1 failed." in result.output
            tries.append(moment)
            message = _message(refused.id)
            assert message.attempts == len(tries)
            assert "SMTPRecipientsRefused" in message.last_error
            assert "550" in message.last_error
            if message.next_attempt_at is None:
                break
            assert mail.failed_messages() == []
            moment = message.next_attempt_at

    assert "failed for the last time" in result.output
    assert len(tries) == mail.MAX_ATTEMPTS
    waits = [later - earlier for earlier, later in pairwise(tries)]
    assert waits[:5] == [MINUTE, 5 * MINUTE, 15 * MINUTE, 60 * MINUTE, 60 * MINUTE]
    assert tries[-1] - tries[0] >= timedelta(hours=24)
    assert [m.id for m in mail.failed_messages()] == [refused.id]
    with clock.at(tries[-1] + timedelta(days=7)):  # failed for good: left alone
        assert mail.send_pending() == mail.SendResult(0, 0)


def test_one_refused_message_does_not_hold_up_the_others(app):
    class RefusesNobody(Inbox):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address.startswith("nobody@"):
                return "550 5.1.1 No such user here"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    db.session.add_all(OutboxMessage(to=to, subject="Hello", body="Hi") for to in
                       ("ada@example.org", "nobody@example.org", "grace@example.org"))
    db.session.commit()
    inbox = RefusesNobody()
    with running(inbox) as port:
        use_port(app, port)
        result = mail.send_pending()
    assert (result.sent, result.failed, result.unreachable) == (2, 1, False)
    assert inbox.recipients == ["ada@example.org", "grace@example.org"]
    refused = db.session.scalar(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)))
    assert refused is not None and refused.attempts == 1
    assert refused.next_attempt_at is not None
