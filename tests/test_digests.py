"""Daily and weekly digests (issue 16): the digest levels at the queue, ``flask digests
send`` and what a digest holds, once only (also with two runs at once), a bounded number
of queries, the digest's unsubscribe link; the admin list of addresses that keep
failing; and what account deletion removes."""

from __future__ import annotations

from typing import Any

import pytest

from partnerships.extensions import db
from partnerships.mail.kinds import Kind
from partnerships.notifications.models import Level
from partnerships.notifications.services import set_level
from tests.test_notifications import Forum, _replies


@pytest.fixture
def place(app, make_user, make_organisation, make_partnership, make_forum) -> Forum:
    return Forum(make_user, make_organisation, make_partnership, make_forum)


def _level(user: Any, forum: Any, level: Level) -> None:
    set_level(user, "forum", forum.id, level)
    db.session.commit()


# --- The digest levels at the queue ----------------------------------------------------


@pytest.mark.parametrize("level", [Level.DAILY, Level.WEEKLY])
def test_a_digest_level_holds_back_activity_but_not_what_is_about_me(
        place, client, auth, outbox, level):
    for person in (place.starter, place.poster, place.follower):
        _level(person, place.forum, level)
    place.reply(client, auth)
    # Sam started the discussion and Pat posted in it: about them, so at once. Fay only
    # follows it: hers waits for the digest.
    assert set(_replies(outbox)) == {place.starter.email, place.poster.email}
    assert all(m.kind == Kind.FORUM_REPLY.value for m in outbox(place.follower.email)) and \
        outbox(place.follower.email) == []


def test_every_message_still_sends_at_once_beside_a_digest_level(place, client, auth, outbox):
    _level(place.follower, place.forum, Level.DAILY)
    _level(place.poster, place.forum, Level.EVERY)
    place.reply(client, auth)
    assert place.poster.email in _replies(outbox)
    assert place.follower.email not in _replies(outbox)
