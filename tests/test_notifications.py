"""Email people control (issue 16): every email names its kind; levels per forum and
partnership, personal switches and essential email, checked when the email is queued;
the settings page; signed one-click unsubscribe links (RFC 8058 headers); and the
multipart email layout, parsed back with Python's ``email`` package."""

from __future__ import annotations

import ast
import html
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from partnerships.extensions import db
from partnerships.factories import forums as forum_factory
from partnerships.factories import meetings as meeting_factory
from partnerships.forums.forms import JUST_ME
from partnerships.mail import OutboxMessage
from partnerships.mail.kinds import REGISTRY, Kind, Sort
from partnerships.notifications import unsubscribe
from partnerships.notifications.models import Level, NotificationKindOff, NotificationLevel
from partnerships.notifications.services import set_level, switch_off
from tests.mailserver import Inbox, running, use_port

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://partnerships.example.org"
LINK_RE = re.compile(r"https?://[^\s<>\"]+")
HREF_RE = re.compile(r'href="([^"]+)"')


# --- Every email has a kind -----------------------------------------------------------


def _queue_calls() -> list[tuple[str, ast.Call]]:
    calls = []
    for path in sorted((ROOT / "partnerships").rglob("*.py")):
        if "mail" in path.relative_to(ROOT / "partnerships").parts[:1]:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "queue" and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "mail"):
                calls.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return calls


def test_every_queue_call_names_a_kind_from_the_registry():
    calls = _queue_calls()
    assert len(calls) >= 40  # the app sends some 47 kinds of email from these
    for where, call in calls:
        kinds = [k.value for k in call.keywords if k.arg == "kind"]
        assert kinds, f"{where}: mail.queue without kind="
        [kind] = kinds
        assert (isinstance(kind, ast.Attribute) and isinstance(kind.value, ast.Name)
                and kind.value.id == "Kind" and kind.attr in Kind.__members__), (
            f"{where}: kind= must name a member of mail.kinds.Kind")
        if REGISTRY[Kind[kind.attr]].sort is Sort.ACTIVITY:
            assert any(k.arg == "scope" for k in call.keywords), (
                f"{where}: activity email without scope= (the forum or partnership)")


def test_every_email_template_is_queued_somewhere():
    """A new template is sent by some ``mail.queue`` call (and so has a kind)."""
    source = "\n".join(path.read_text() for path in (ROOT / "partnerships").rglob("*.py"))
    for template in sorted((ROOT / "templates" / "email").glob("*.txt")):
        name = template.stem
        if name.startswith("_"):
            continue
        prefix = re.sub(r"_[a-z]+$", "_", name)
        assert f'"{name}"' in source or f"{prefix}{{" in source, (
            f"templates/email/{template.name} is not queued with a kind")


def test_the_registry_says_why_and_when_for_each_kind():
    for entry in REGISTRY.values():
        assert entry.label and entry.why, entry.kind
        assert (entry.about_me is not None) == (entry.sort is Sort.ACTIVITY), entry.kind
    essential = {entry.kind for entry in REGISTRY.values() if entry.essential}
    assert {Kind.ACCOUNT_SECURITY, Kind.MY_MEETING, Kind.MY_REQUEST_DECIDED,
            Kind.MANAGER_APPROVAL} <= essential


# --- A forum to talk in ----------------------------------------------------------------


class Forum:
    """A forum of an organisation's partnership: Cara convenes; Sam started a discussion
    and Pat posted in it; Fay only follows it; Rob writes the new reply."""

    def __init__(self, make_user: Any, make_organisation: Any, make_partnership: Any,
                 make_forum: Any) -> None:
        self.convenor = make_user("Cara Convenor", "cara@example.org")
        self.starter = make_user("Sam Starter", "sam@example.org")
        self.poster = make_user("Pat Poster", "pat@example.org")
        self.follower = make_user("Fay Follower", "fay@example.org")
        self.replier = make_user("Rob Replier", "rob@example.org")
        org = make_organisation("Northbridge CVS", admin=self.starter)
        self.partnership = make_partnership("Northbridge Together", members=[org])
        self.forum = make_forum(self.partnership, "Health and Wellbeing VCSE Forum",
                                convenors=[self.convenor],
                                members=[self.starter, self.poster, self.follower,
                                         self.replier])
        with self.request():
            self.thread = forum_factory.thread(self.forum, self.starter, "Winter pressures")
            forum_factory.reply(self.thread, self.poster, "Count me in.")
            from partnerships.forums.discussions import set_subscription
            from partnerships.forums.models import Subscription
            set_subscription(self.follower, self.thread, Subscription.FOLLOWING)
            db.session.commit()
        self.app = None

    @staticmethod
    def request() -> Any:
        from flask import current_app
        return current_app.test_request_context()

    @property
    def thread_url(self) -> str:
        return (f"/partnerships/{self.partnership.slug}/forums/{self.forum.slug}"
                f"/threads/{self.thread.id}")

    def reply(self, client: Any, auth: Any, body: str = "Tuesdays suit me.") -> None:
        auth.login(self.replier)
        response = client.submit(self.thread_url + "/reply", {"body": body},
                                 page=self.thread_url)
        assert response.status_code == 303
        auth.logout()


@pytest.fixture
def place(app, make_user, make_organisation, make_partnership, make_forum) -> Forum:
    return Forum(make_user, make_organisation, make_partnership, make_forum)


def _replies(outbox: Any) -> dict[str, OutboxMessage]:
    return {m.to: m for m in outbox() if m.kind == Kind.FORUM_REPLY.value}


def _level(user: Any, forum: Any, level: Level) -> None:
    set_level(user, "forum", forum.id, level)
    db.session.commit()


# --- Levels, checked when the email is queued ------------------------------------------


def test_every_message_emails_each_follower(place, client, auth, outbox):
    place.reply(client, auth)
    replies = _replies(outbox)
    assert set(replies) == {place.starter.email, place.poster.email, place.follower.email}
    assert replies[place.follower.email].subject == (
        "New reply in Health and Wellbeing VCSE Forum: Winter pressures")


def test_only_what_is_about_me_keeps_replies_in_discussions_i_started_or_posted_in(
        place, client, auth, outbox):
    for person in (place.starter, place.poster, place.follower):
        _level(person, place.forum, Level.ABOUT_ME)
    place.reply(client, auth)
    assert set(_replies(outbox)) == {place.starter.email, place.poster.email}


def test_no_email_level_sends_no_activity(place, client, auth, outbox):
    _level(place.poster, place.forum, Level.NONE)
    place.reply(client, auth)
    assert place.poster.email not in _replies(outbox)
    assert place.follower.email in _replies(outbox)


def test_a_level_for_another_forum_changes_nothing_here(
        place, client, auth, outbox, make_forum):
    other = make_forum(place.partnership, "Carers Forum", members=[place.follower])
    _level(place.follower, other, Level.NONE)
    place.reply(client, auth)
    assert place.follower.email in _replies(outbox)


def test_the_default_applies_to_forums_without_their_own_level(place, client, auth, outbox):
    from partnerships.notifications.models import NotificationDefault
    db.session.add(NotificationDefault(user_id=place.follower.id, level=Level.NONE))
    db.session.commit()
    place.reply(client, auth)
    assert place.follower.email not in _replies(outbox)


def test_the_permissions_layer_still_chooses_the_recipients(
        place, client, auth, outbox, make_user):
    """A follower who can no longer read a members-only forum hears nothing, whatever
    their level: the settings only ever narrow who gets an email."""
    from partnerships.forums.models import Subscription, ThreadState, Visibility
    outsider = make_user("Olu Outsider", "olu@example.org")
    place.forum.visibility = Visibility.MEMBERS
    db.session.merge(ThreadState(user_id=outsider.id, thread_id=place.thread.id,
                                 last_read_post_id=0, subscription=Subscription.FOLLOWING))
    db.session.commit()
    _level(outsider, place.forum, Level.EVERY)
    place.reply(client, auth)
    assert outsider.email not in _replies(outbox)


def test_personal_kinds_have_a_switch(place, client, auth, outbox, make_user):
    asker = make_user("Ann Asker", "ann@example.org")
    join = f"/partnerships/{place.partnership.slug}/forums/{place.forum.slug}/join"
    switch_off(place.convenor, Kind.REQUESTS_TO_DECIDE)
    db.session.commit()
    auth.login(asker)
    response = client.submit(join, {"on_behalf": JUST_ME, "introduction": "Hello"})
    assert response.status_code == 303
    assert outbox(place.convenor.email) == []  # switched off: no request email

    second = make_user("Bea Asker", "bea@example.org")
    db.session.execute(NotificationKindOff.__table__.delete())
    db.session.commit()
    auth.login(second)
    client.submit(join, {"on_behalf": JUST_ME, "introduction": "Hello"})
    [told] = outbox(place.convenor.email)
    assert told.kind == Kind.REQUESTS_TO_DECIDE.value


def test_a_cancelled_meeting_reaches_those_registered_whatever_their_settings(
        place, client, auth, outbox, make_meeting):
    meeting = make_meeting(place.forum)
    with place.request():
        meeting_factory.registration(meeting, place.follower)
        db.session.commit()
    _level(place.follower, place.forum, Level.NONE)
    for entry in REGISTRY.values():
        if entry.sort is Sort.PERSONAL:
            switch_off(place.follower, entry.kind)
    db.session.commit()
    auth.login(place.convenor)
    response = client.submit(f"/meetings/{meeting.id}/cancel", {"reason": "The hall flooded"})
    assert response.status_code == 303
    [told] = [m for m in outbox(place.follower.email) if m.kind == Kind.MY_MEETING.value]
    assert told.subject.startswith("Meeting cancelled in Health and Wellbeing VCSE Forum: ")
    assert told.unsubscribe_url is None and "unsubscribe" not in told.body.lower()


@pytest.mark.parametrize("kind", [entry.kind for entry in REGISTRY.values()
                                  if entry.essential])
def test_each_essential_kind_is_queued_whatever_the_settings(place, kind):
    """At the queue itself: everything a person can turn off is off; essential email
    still goes, with no footer and no List-Unsubscribe link."""
    from partnerships import mail
    person = place.follower
    _level(person, place.forum, Level.NONE)
    for entry in REGISTRY.values():
        if entry.sort is Sort.PERSONAL:
            switch_off(person, entry.kind)
    db.session.commit()
    with place.request():
        message = mail.queue(person.email, "Hello", "email_changed", kind=kind,
                             recipient=person, scope=place.forum, user=person,
                             new_email="new@example.org")
    assert message is not None and message.unsubscribe_url is None


@pytest.mark.parametrize("kind", [entry.kind for entry in REGISTRY.values()
                                  if entry.sort is Sort.PERSONAL])
def test_each_personal_kind_is_checked_at_the_queue(place, kind):
    from partnerships import mail
    person = place.follower
    with place.request():
        sent = mail.queue(person.email, "Hello", "email_changed", kind=kind, recipient=person,
                          user=person, new_email="x@example.org")
        assert sent is not None and sent.unsubscribe_url
        switch_off(person, kind)
        assert mail.queue(person.email, "Hello", "email_changed", kind=kind,
                          recipient=person, user=person, new_email="x@example.org") is None


# --- The settings page ---------------------------------------------------------------


SETTINGS = "/account/notifications"


def test_settings_page_needs_sign_in(client):
    response = client.get(SETTINGS)
    assert response.status_code == 302 and "/account/sign-in" in response.headers["Location"]


def test_settings_page_is_linked_from_the_account_and_your_page(place, client, auth):
    auth.login(place.follower)
    for page in ("/account/profile", "/my/"):
        assert f'href="{SETTINGS}"' in client.get(page).get_data(as_text=True), page


def test_settings_lists_my_forums_and_partnerships_and_what_cannot_be_turned_off(
        place, client, auth):
    auth.login(place.starter)  # a member of the forum, and admin of a partnership member
    page = html.unescape(client.get(SETTINGS).get_data(as_text=True))
    assert f'name="level_forum_{place.forum.id}"' in page
    assert f'name="level_partnership_{place.partnership.id}"' in page
    assert "Emails you always get" in page
    for entry in REGISTRY.values():
        if entry.essential:
            assert entry.label in page and entry.why.split(",")[0] in page
        if entry.sort is Sort.PERSONAL:
            assert f'value="{entry.kind.value}"' in page


def _form(place: Any, *, forum: str = "every", partnership: str = "every",
          default: str = "every", personal: list[str] | None = None) -> dict[str, Any]:
    return {f"level_forum_{place.forum.id}": forum,
            f"level_partnership_{place.partnership.id}": partnership,
            "default": default,
            "personal": personal if personal is not None else
            [e.kind.value for e in REGISTRY.values() if e.sort is Sort.PERSONAL]}


def test_saving_settings_takes_effect_at_once(place, client, auth, outbox):
    auth.login(place.starter)
    response = client.submit(SETTINGS, _form(place, forum="none", personal=[
        Kind.REMINDERS.value]))
    assert response.status_code == 303
    page = client.get(SETTINGS).get_data(as_text=True)
    assert "Your email settings are saved" in page
    assert re.search(rf'name="level_forum_{place.forum.id}"[^>]*value="none"[^>]*checked'
                     r'|value="none"[^>]*checked', page)
    off = set(db.session.scalars(select(NotificationKindOff.kind).where(
        NotificationKindOff.user_id == place.starter.id)))
    assert off == {e.kind.value for e in REGISTRY.values()
                   if e.sort is Sort.PERSONAL} - {Kind.REMINDERS.value}
    auth.logout()
    place.reply(client, auth)
    assert place.starter.email not in _replies(outbox)


def test_the_default_is_only_for_new_memberships(place, client, auth, outbox):
    auth.login(place.follower)
    client.submit(SETTINGS, _form(place, forum="every", default="none"))
    auth.logout()
    place.reply(client, auth)
    assert place.follower.email in _replies(outbox)  # the forum kept "every message"


def test_a_bad_answer_is_refused_with_an_error_summary_and_nothing_saved(place, client, auth):
    auth.login(place.starter)
    response = client.submit(SETTINGS, _form(place, forum="fortnightly", default="hourly",
                                             personal=["made_up"]))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    summary = page[page.index("govuk-error-summary"):page.index("</ul>", page.index(
        "govuk-error-summary"))]
    assert summary.index("Health and Wellbeing VCSE Forum") < summary.index("you join")
    assert "Select emails from the list" in summary
    assert db.session.scalar(select(NotificationLevel.id)) is None
    assert db.session.scalar(select(NotificationKindOff.kind)) is None


def test_someone_with_no_forums_still_sees_the_default_and_switches(client, auth, make_user):
    auth.login(make_user())
    page = client.get(SETTINGS).get_data(as_text=True)
    assert "You are not a member of a forum or partnership yet." in page
    assert 'name="default"' in page and 'name="personal"' in page


# --- Unsubscribe links ---------------------------------------------------------------


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def test_activity_email_has_a_footer_and_one_click_link_for_that_forum(
        place, client, auth, outbox):
    place.reply(client, auth)
    message = _replies(outbox)[place.follower.email]
    assert message.unsubscribe_url and message.unsubscribe_url in message.body
    assert "Stop emails about activity in Health and Wellbeing VCSE Forum" in message.body
    assert "/account/notifications" in message.body

    url = _path(message.unsubscribe_url)
    page = client.get(url)  # no session: a confirmation page, nothing changed yet
    assert page.status_code == 200
    assert "Stop emails about activity in Health and Wellbeing VCSE Forum?" in page.get_data(
        as_text=True)
    assert db.session.scalar(select(NotificationLevel.id)) is None

    done = client.post(url)  # the button: no CSRF token, no session
    assert done.status_code == 200
    text = done.get_data(as_text=True)
    assert "Emails stopped" in text and 'href="/account/notifications"' in text
    assert db.session.scalar(select(NotificationLevel.level).where(
        NotificationLevel.user_id == place.follower.id,
        NotificationLevel.forum_id == place.forum.id)) is Level.NONE

    before = len(outbox())
    place.reply(client, auth, "Another reply")
    assert place.follower.email not in {m.to for m in outbox()[before:]}


def test_rfc_8058_one_click_post_without_session_or_csrf(place, client, auth, outbox):
    place.reply(client, auth)
    message = _replies(outbox)[place.poster.email]
    response = client.post(_path(message.unsubscribe_url),
                           data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert db.session.scalar(select(NotificationLevel.level).where(
        NotificationLevel.user_id == place.poster.id)) is Level.NONE
    again = client.post(_path(message.unsubscribe_url), data="List-Unsubscribe=One-Click",
                        content_type="application/x-www-form-urlencoded")
    assert again.status_code == 200  # pressing it twice is harmless


def test_a_personal_kind_link_switches_off_that_kind_only(place, client):
    with place.request():
        url = unsubscribe.link(place.convenor, Kind.REQUESTS_TO_DECIDE, None)
    assert client.post(_path(url)).status_code == 200
    assert set(db.session.scalars(select(NotificationKindOff.kind))) == {
        Kind.REQUESTS_TO_DECIDE.value}


def test_an_old_link_still_works_after_settings_change(place, client, auth):
    with place.request():
        url = _path(unsubscribe.link(place.follower, Kind.FORUM_REPLY, place.forum))
    auth.login(place.follower)
    client.submit(SETTINGS, _form(place, forum="about_me"))
    auth.logout()
    assert client.post(url).status_code == 200
    assert db.session.scalar(select(NotificationLevel.level).where(
        NotificationLevel.user_id == place.follower.id,
        NotificationLevel.forum_id == place.forum.id)) is Level.NONE


@pytest.mark.parametrize("mangle", [lambda t: t[:-3], lambda t: "x" + t[1:], lambda t: "abc"])
def test_a_tampered_link_says_what_to_do(place, client, mangle):
    with place.request():
        url = _path(unsubscribe.link(place.follower, Kind.FORUM_REPLY, place.forum))
    prefix, token = url.rsplit("/", 1)
    for method in (client.get, client.post):
        response = method(f"{prefix}/{mangle(token)}")
        assert response.status_code == 400
        text = response.get_data(as_text=True)
        assert "This unsubscribe link does not work" in text
        assert "sign in and change your email settings" in text
    assert db.session.scalar(select(NotificationLevel.id)) is None


def test_a_link_signed_for_another_purpose_does_not_unsubscribe(place, client):
    from partnerships.accounts import tokens
    with place.request():
        other = tokens.make_confirm_token(place.follower)
    assert client.post(f"/unsubscribe/{other}").status_code == 400


# --- The email as it goes out ----------------------------------------------------------


@pytest.fixture
def inbox(app) -> Any:
    box = Inbox()
    with running(box) as port:
        use_port(app, port)
        yield box


def _sent(app: Any, inbox: Inbox) -> dict[str, Any]:
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    return {recipients[0]: message for recipients, message in inbox.messages}


def test_emails_are_multipart_with_absolute_links_and_one_click_headers(
        app, place, client, auth, inbox):
    app.config["BASE_URL"] = BASE
    place.reply(client, auth, "See <b>this</b> & https://example.com/rota.")
    client.submit("/account/reset", {"email": place.poster.email})
    sent = _sent(app, inbox)
    reply = sent[place.follower.email]
    assert reply.get_content_type() == "multipart/alternative"
    text = reply.get_body(("plain",)).get_content()
    html_part = reply.get_body(("html",)).get_content()
    assert "Tuesdays" not in text and "See <b>this</b>" in text
    assert "See &lt;b&gt;this&lt;/b&gt; &amp;" in html_part and "<b>this" not in html_part
    assert app.config["SERVICE_NAME"] in html_part
    assert "<img" not in html_part
    text_links = [url.rstrip(".") for url in LINK_RE.findall(text)]
    own_links = [url for url in text_links if "example.com" not in url]
    assert own_links and all(url.startswith(BASE + "/") for url in own_links)
    hrefs = HREF_RE.findall(html_part)
    assert set(text_links) <= {h.replace("&amp;", "&") for h in hrefs}
    [one_click] = [url for url in text_links if url.startswith(f"{BASE}/unsubscribe/")]
    assert reply["List-Unsubscribe"] == f"<{one_click}>"
    assert reply["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # One plain line as it arrived, not folded into encoded words providers cannot read.
    assert any(f"\nList-Unsubscribe: <{one_click}>\r\n".encode() in raw
               for raw in inbox.raw)

    reset = [m for to, m in sent.items() if to == place.poster.email
             and m["Subject"] == "Reset your password"]
    [reset_message] = reset
    assert reset_message.get_content_type() == "multipart/alternative"
    assert reset_message.get_body(("html",)) is not None
    assert reset_message["List-Unsubscribe"] is None
    assert reset_message["List-Unsubscribe-Post"] is None
    reset_text = reset_message.get_body(("plain",)).get_content()
    assert "unsubscribe" not in reset_text.lower()
    assert all(url.startswith(BASE + "/") for url in LINK_RE.findall(reset_text))


def test_unsubscribe_link_from_a_sent_email_works_without_signing_in(
        app, place, client, auth, inbox):
    place.reply(client, auth)
    message = _sent(app, inbox)[place.follower.email]
    url = message["List-Unsubscribe"].strip("<>")
    response = client.post(_path(url), data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert db.session.scalar(select(NotificationLevel.level).where(
        NotificationLevel.user_id == place.follower.id)) is Level.NONE


def test_meeting_agenda_about_me_means_meetings_i_registered_for(
        place, client, auth, outbox, make_meeting):
    """Agendas at "only what is about me": registered people hear, others do not."""
    from partnerships.meetings import agenda
    meeting = make_meeting(place.forum, starts_in=timedelta(days=30))
    with place.request():
        meeting_factory.registration(meeting, place.poster)
        for person in (place.poster, place.follower):
            set_level(person, "forum", place.forum.id, Level.ABOUT_ME)
        agenda.add_item(place.convenor, meeting, agenda.ItemDetails(title="Welcome"))
        db.session.commit()
    auth.login(place.convenor)
    response = client.submit(f"/meetings/{meeting.id}/agenda/publish")
    assert response.status_code == 303
    told = {m.to: m for m in outbox() if m.kind == Kind.MEETING_AGENDA.value}
    assert place.poster.email in told and place.follower.email not in told
    assert place.starter.email in told  # every message (the default)
    assert told[place.starter.email].subject.startswith(
        "Agenda published in Health and Wellbeing VCSE Forum: Quarterly meeting")


def test_only_the_unsubscribe_link_is_exempt_from_csrf(place, client, auth):
    """The signed token protects the unsubscribe POST; the settings form still needs its
    CSRF token."""
    auth.login(place.follower)
    response = client.post(SETTINGS, data=_form(place, forum="none"))
    assert response.status_code == 400
    assert db.session.scalar(select(NotificationLevel.id)) is None
