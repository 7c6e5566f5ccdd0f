"""Forms that create things carry a one-time token (partnerships/once.py): the same
form sent twice (two tabs, a resend after a slow answer) creates one thing, and the
second send lands on it. Two sends at the same moment make one, on either database."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from sqlalchemy import func, select

from partnerships.extensions import db
from partnerships.factories import forums, partnership
from partnerships.forums.models import MembershipPolicy, Thread
from partnerships.once import SubmittedForm
from tests.concurrency import (
    ROUNDS,
    all_at_once,
    file_database_app,
    form_token,
    make_user,
    signed_in_client,
)

ONCE_RE = re.compile(r'name="once"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="once"')


def once_token(client: Any, url: str) -> str:
    match = ONCE_RE.search(client.get(url).get_data(as_text=True))
    assert match, f"{url} carries no one-time token"
    return match.group(1) or match.group(2)


def _threads(title: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Thread.id)).where(Thread.title == title)) or 0


def test_the_same_discussion_sent_from_two_tabs_starts_once(client, auth, app):
    member = make_user("Mo Member", "mo@example.org")
    place = partnership.partnership("Northbridge Together", slug="northbridge")
    forums.forum(place, "Open Forum", convenors=[member], slug="open",
                 policy=MembershipPolicy.OPEN)
    db.session.commit()
    auth.login(member)
    url = "/partnerships/northbridge/forums/open/threads/new"
    first_tab, second_tab = once_token(client, url), once_token(client, url)
    assert first_tab != second_tab  # each page shown gets its own
    data = {"title": "Lift share", "body": "Anyone driving?", "once": first_tab}
    first = client.submit(url, data)
    assert first.status_code == 303
    again = client.submit(url, data)  # the same form again: lands on what it made
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    assert "You had already sent this form" in client.get(again.headers["Location"]).get_data(
        as_text=True)
    assert _threads("Lift share") == 1
    # The other tab's form is another form: it makes its own (the person meant two).
    assert client.submit(url, {**data, "once": second_tab}).status_code == 303
    assert _threads("Lift share") == 2


def test_a_form_shown_again_with_errors_keeps_its_token_and_a_refusal_claims_nothing(
        client, auth, app):
    member = make_user("Mo Member", "mo@example.org")
    place = partnership.partnership("Northbridge Together", slug="northbridge")
    forums.forum(place, "Open Forum", convenors=[member], slug="open",
                 policy=MembershipPolicy.OPEN)
    db.session.commit()
    auth.login(member)
    url = "/partnerships/northbridge/forums/open/threads/new"
    token = once_token(client, url)
    wrong = client.submit(url, {"title": "", "body": "No title", "once": token})
    assert wrong.status_code == 422
    assert f'value="{token}"' in wrong.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SubmittedForm)) == 0
    fixed = client.submit(url, {"title": "Titled now", "body": "No title", "once": token})
    assert fixed.status_code == 303 and _threads("Titled now") == 1


def test_a_token_is_only_its_senders(client, auth, app):
    """Someone else's token (copied from a page) neither finds what they made nor stops
    this person's own discussion."""
    mo = make_user("Mo Member", "mo@example.org")
    ann = make_user("Ann Other", "ann@example.org")
    place = partnership.partnership("Northbridge Together", slug="northbridge")
    forums.forum(place, "Open Forum", convenors=[mo], members=[ann], slug="open",
                 policy=MembershipPolicy.OPEN)
    db.session.commit()
    url = "/partnerships/northbridge/forums/open/threads/new"
    auth.login(mo)
    token = once_token(client, url)
    client.submit(url, {"title": "Mine", "body": "Text", "once": token})
    auth.login(ann)
    response = client.submit(url, {"title": "Hers", "body": "Text", "once": token})
    assert response.status_code == 303
    assert "Mine" not in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _threads("Hers") == 1 and _threads("Mine") == 1


def test_the_same_form_sent_many_times_at_once_starts_one_discussion(tmp_path) -> None:
    with file_database_app(tmp_path) as app:
        member = make_user("Mo Member", "mo@example.org")
        place = partnership.partnership("Northbridge Together", slug="northbridge")
        forums.forum(place, "Open Forum", convenors=[member], slug="open",
                     policy=MembershipPolicy.OPEN)
        db.session.commit()
        clients = [signed_in_client(app, member) for _ in range(6)]
        tokens = [form_token(client) for client in clients]
        url = "/partnerships/northbridge/forums/open/threads/new"
        for round_number in range(ROUNDS):
            once = once_token(clients[0], url)
            title = f"Round {round_number}"
            answers = all_at_once([partial(client.post, url, data={
                "title": title, "body": "Sent in a hurry", "once": once, "csrf_token": token})
                for client, token in zip(clients, tokens, strict=True)])
            assert [answer.status_code for answer in answers] == [303] * len(clients), [
                answer.get_data(as_text=True)[:200] for answer in answers]
            assert len({answer.headers["Location"] for answer in answers}) == 1
            assert _threads(title) == 1, f"round {round_number}"


def test_every_page_that_creates_something_carries_a_one_time_token(app):
    """Each view of a "…/new" route with a form goes through ``once.save`` (the next
    create page is covered without editing this test); the ones left out say why."""
    import inspect

    # Agenda items, papers, decisions, actions and requests for agenda items are made
    # by organisers at a desk, one at a time, each shown at once on the page they go
    # back to: a repeat is visible and removable there. Not yet covered.
    not_yet = {"meetings.agenda_item_new", "meetings.agenda_paper_new",
               "meetings.new_decision", "meetings.new_action", "meetings.item_request_new"}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.endswith("/new") or "POST" not in (rule.methods or ()):
            continue
        if rule.endpoint in not_yet:
            continue
        source = inspect.getsource(app.view_functions[rule.endpoint])
        if "once.save(" not in source:
            missing.append(rule.endpoint)
    assert missing == []
