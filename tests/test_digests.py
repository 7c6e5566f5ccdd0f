"""Daily and weekly digests (issue 16): the digest levels at the queue, ``flask digests
send`` and what a digest holds, once only (also with two runs at once), a bounded number
of queries, the digest's unsubscribe link; the admin list of addresses that keep
failing; and what account deletion removes."""

from __future__ import annotations

import email
import email.policy
import html
import re
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from partnerships import clock
from partnerships.extensions import db
from partnerships.factories import forums as forum_factory
from partnerships.factories import meetings as meeting_factory
from partnerships.forums.models import Visibility
from partnerships.mail import OutboxMessage, transport
from partnerships.mail.kinds import Kind
from partnerships.notifications.models import Level
from partnerships.notifications.services import set_level
from partnerships.timeutil import format_day, format_uk, today_uk, uk_local_to_utc
from tests.test_notifications import BASE, HREF_RE, LINK_RE, Forum, _replies


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


# --- Time: everything the tests make happens on fixed UK days after the fixture's -------

DAY = today_uk() + timedelta(days=2)  # the fixture's posts are all before this


def uk(days: int, hour: int, minute: int = 0) -> datetime:
    """A UK time ``days`` after ``DAY``."""
    return uk_local_to_utc(DAY + timedelta(days=days), time(hour, minute))


def send_digests(app: Any, at: datetime) -> str:
    """``flask digests send`` as cron runs it, at ``at``."""
    with clock.at(at):
        result = app.test_cli_runner().invoke(args=["digests", "send"])
    assert result.exit_code == 0, result.output
    return result.output


def digests(outbox: Any, to: str | None = None) -> list[Any]:
    return [m for m in outbox(to) if m.kind == Kind.DIGEST.value]


def reply_at(place: Forum, client: Any, auth: Any, at: datetime, body: str) -> None:
    with clock.at(at):
        place.reply(client, auth, body)


# --- Contents -------------------------------------------------------------------------------


def test_a_daily_digest_groups_what_happened_by_forum(place, app, client, auth, outbox,
                                                       make_meeting):
    from partnerships.meetings.models import ActionItem, AgendaStatus, MinutesStatus
    _level(place.follower, place.forum, Level.DAILY)
    reply_at(place, client, auth, uk(0, 9), "Tuesdays suit me.\nSecond line not shown.")
    with clock.at(uk(0, 9, 30)), place.request():
        forum_factory.thread(place.forum, place.poster, "Carers week",
                             body="Who is running a stall?")
        db.session.commit()
    with clock.at(uk(-10, 9)):
        agenda = make_meeting(place.forum, "Spring meeting", starts_in=timedelta(days=20))
        minutes = make_meeting(place.forum, "Winter meeting", starts_in=timedelta(days=3))
    with clock.at(uk(0, 10)):
        scheduled = make_meeting(place.forum, "Summer meeting", starts_in=timedelta(days=40))
        agenda.agenda_status, agenda.agenda_published_at = AgendaStatus.PUBLISHED, uk(0, 10)
        minutes.minutes_status = MinutesStatus.PUBLISHED
        minutes.minutes_published_at = uk(0, 11)
        db.session.add(ActionItem(meeting_id=minutes.id, forum_id=place.forum.id,
                                  description="Book the hall\nfor the stall",
                                  owner_id=place.follower.id, due_date=DAY + timedelta(days=4)))
        db.session.commit()

    assert digests(outbox) == []  # nothing is sent before 7am the next day
    send_digests(app, uk(1, 6, 50))
    assert digests(outbox) == []
    assert "Queued 1 digest(s)." in send_digests(app, uk(1, 7, 10))
    [digest] = digests(outbox)
    assert digest.to == place.follower.email
    assert digest.subject == ("Daily digest for Health and Wellbeing VCSE Forum: 1 new "
                              "discussion, 1 reply, 3 meeting updates, 1 action due soon")
    body = digest.body
    assert "HEALTH AND WELLBEING VCSE FORUM" in body
    assert "New discussion: Carers week\nPat Poster: \"Who is running a stall?\"" in body
    assert "Winter pressures\n1 new reply:\n- Rob Replier: \"Tuesdays suit me.\"" in body
    assert "Second line" not in body
    assert f"/threads/{place.thread.id}#post-" in body
    assert f"Summer meeting, {format_uk(scheduled.starts_at)}\nNew meeting scheduled." in body
    assert "Spring meeting" in body and "Agenda published." in body
    assert "Winter meeting" in body and "Minutes published." in body
    assert f"Book the hall\nDue {format_day(DAY + timedelta(days=4))}: " in body
    assert "Stop digest emails" in body and digest.unsubscribe_url in body
    # Nothing else was queued for Fay's reply (held back for the digest).
    assert [m.kind for m in outbox(place.follower.email)] == [Kind.DIGEST.value]


def test_a_digest_as_it_goes_out_is_multipart_with_absolute_links_and_one_click(
        place, app, client, auth, outbox):
    app.config["BASE_URL"] = BASE
    _level(place.follower, place.forum, Level.DAILY)
    reply_at(place, client, auth, uk(0, 9), "Tuesdays suit me.")
    send_digests(app, uk(1, 7, 10))
    [digest] = digests(outbox)
    with app.test_request_context():
        built = transport.build(digest)
    parsed = email.message_from_bytes(built.as_bytes(), policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",)).get_content()
    page = parsed.get_body(("html",)).get_content()
    assert "Tuesdays suit me." in text and "Tuesdays suit me." in html.unescape(page)
    links = LINK_RE.findall(text)
    hrefs = HREF_RE.findall(page)
    assert links and hrefs
    for link in links + [html.unescape(h) for h in hrefs]:
        assert link.startswith(BASE + "/"), link
    assert parsed["List-Unsubscribe"] == f"<{digest.unsubscribe_url}>"
    assert digest.unsubscribe_url.startswith(BASE + "/unsubscribe/")
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_weekly_digest_goes_on_monday_mornings_with_the_week(place, app, client, auth, outbox):
    _level(place.follower, place.forum, Level.WEEKLY)
    monday = (-DAY.weekday()) % 7 + 7  # days from DAY to a Monday at least a week on
    reply_at(place, client, auth, uk(monday - 6, 12), "Early in the week")
    reply_at(place, client, auth, uk(monday - 1, 12), "On Sunday")
    send_digests(app, uk(monday - 1, 7, 10))  # a Sunday: nothing
    assert digests(outbox) == []
    send_digests(app, uk(monday, 7, 10))
    [digest] = digests(outbox)
    assert digest.subject.startswith("Weekly digest for Health and Wellbeing VCSE Forum: ")
    assert '"Early in the week"' in digest.body and '"On Sunday"' in digest.body


def test_nothing_new_means_no_email(place, app, outbox):
    _level(place.follower, place.forum, Level.DAILY)
    assert "Queued 0 digest(s)." in send_digests(app, uk(1, 7, 10))
    assert digests(outbox) == []


def test_every_message_and_about_me_levels_get_no_digest(place, app, client, auth, outbox):
    _level(place.follower, place.forum, Level.EVERY)
    _level(place.poster, place.forum, Level.ABOUT_ME)
    reply_at(place, client, auth, uk(0, 9), "Tuesdays suit me.")
    send_digests(app, uk(1, 7, 10))
    assert digests(outbox) == []


# --- What the person may no longer see ------------------------------------------------------


def test_hidden_and_deleted_posts_are_left_out(place, app, client, auth, outbox):
    _level(place.follower, place.forum, Level.DAILY)
    reply_at(place, client, auth, uk(0, 9), "Shown reply")
    with clock.at(uk(0, 10)), place.request():
        hidden = forum_factory.reply(place.thread, place.poster, "Rude reply")
        forum_factory.hide(hidden, "Not kind")
        gone = forum_factory.reply(place.thread, place.poster, "Regretted reply")
        from partnerships.forums.discussions import delete_post
        delete_post(place.poster, gone)
        db.session.commit()
    send_digests(app, uk(1, 7, 10))
    [digest] = digests(outbox)
    assert "Shown reply" in digest.body
    assert "Rude reply" not in digest.body and "Regretted reply" not in digest.body


@pytest.mark.parametrize("public", [True, False])
def test_someone_who_left_the_forum_gets_nothing_of_it(
        place, app, client, auth, outbox, make_meeting, public):
    from partnerships.forums.models import ForumMember, ForumMemberStatus, Visibility
    if not public:
        place.forum.visibility = Visibility.MEMBERS
        db.session.commit()
    for person in (place.follower, place.poster):
        _level(person, place.forum, Level.DAILY)
    reply_at(place, client, auth, uk(0, 9), "Tuesdays suit me.")
    with clock.at(uk(0, 10)):
        make_meeting(place.forum, "Members meeting", public=False)
    membership = db.session.scalar(select(ForumMember).where(
        ForumMember.user_id == place.follower.id, ForumMember.forum_id == place.forum.id))
    membership.status = ForumMemberStatus.LEFT
    db.session.commit()
    send_digests(app, uk(1, 7, 10))
    assert digests(outbox, place.follower.email) == []
    [kept] = digests(outbox, place.poster.email)  # a member still: both, members-only too
    assert "Members meeting" in kept.body and "Tuesdays suit me." in kept.body


def test_a_partnership_digest_holds_its_own_meetings_members_only_for_its_people(
        place, app, outbox, make_user):
    from partnerships.organisations.models import OrganisationMember, RequestStatus
    officer = make_user("Olive Officer", "olive@example.org")
    from partnerships.partnership.models import PartnershipOfficer
    db.session.add(PartnershipOfficer(partnership_id=place.partnership.id, user_id=officer.id,
                                     role_title="Chair"))
    db.session.commit()
    set_level(place.starter, "partnership", place.partnership.id, Level.DAILY)
    set_level(officer, "partnership", place.partnership.id, Level.DAILY)
    db.session.commit()
    with clock.at(uk(0, 10)), place.request():
        meeting_factory.meeting(place.partnership, "Board meeting", day=DAY + timedelta(days=9),
                                start=time(10), end=time(12), by=officer,
                                visibility=Visibility.MEMBERS)
        db.session.commit()
    # Sam's organisation leaves the partnership's people: he may no longer see it.
    link = db.session.scalar(select(OrganisationMember).where(
        OrganisationMember.user_id == place.starter.id))
    link.status = RequestStatus.LEFT
    db.session.commit()
    send_digests(app, uk(1, 7, 10))
    assert digests(outbox, place.starter.email) == []
    [digest] = digests(outbox, officer.email)
    assert "Board meeting" in digest.body and "NORTHBRIDGE TOGETHER" in digest.body


def test_the_sql_rules_digests_use_agree_with_the_pages(place, make_meeting, make_user):
    """``person_may_read_forum`` / ``person_may_see_meeting`` give the same answers as
    ``can_read_forum`` / ``can_view_meeting`` for members, convenors, officers,
    outsiders and site admins, public and members-only."""
    from partnerships import permissions
    from partnerships.accounts.models import User
    from partnerships.forums.models import Forum as ForumModel
    from partnerships.meetings.models import Meeting
    outsider = make_user("Olu Outsider", "olu@example.org")
    admin = make_user("Ada Admin", "ada@example.org", site_admin=True)
    closed = make_meeting(place.forum, "Closed", public=False)
    make_meeting(place.forum, "Open")
    with place.request():
        meeting_factory.meeting(place.partnership, "Board", day=DAY, start=time(10),
                                end=time(11), visibility=Visibility.MEMBERS)
        db.session.commit()
    people = [place.follower, place.convenor, place.starter, outsider, admin]
    for visibility in (Visibility.PUBLIC, Visibility.MEMBERS):
        place.forum.visibility = visibility
        db.session.commit()
        for person in people:
            permissions.forget_forum_access()  # answers are cached per app context
            with place.request():
                sql = set(db.session.scalars(select(ForumModel.id).join(
                    User, User.id == person.id).where(
                    permissions.person_may_read_forum(User.id))))
                assert (place.forum.id in sql) == permissions.can_read_forum(
                    person, place.forum), (person.name, visibility)
                seen = set(db.session.scalars(select(Meeting.id).join(
                    User, User.id == person.id).where(
                    permissions.person_may_see_meeting(User.id))))
                for meeting in db.session.scalars(select(Meeting)):
                    assert (meeting.id in seen) == permissions.can_view_meeting(
                        person, meeting), (person.name, meeting.title)
    assert closed.id is not None


# --- Once only --------------------------------------------------------------------------------


def test_each_item_is_in_exactly_one_digest(place, app, client, auth, outbox):
    _level(place.follower, place.forum, Level.DAILY)
    reply_at(place, client, auth, uk(0, 9), "First day reply")
    send_digests(app, uk(1, 7, 10))
    assert "Queued 0 digest(s)." in send_digests(app, uk(1, 7, 10))  # the same run again
    send_digests(app, uk(1, 8, 5))  # the next hour's run
    [first] = digests(outbox)
    # Made four minutes before 7am, committed late: the next digest, not lost.
    reply_at(place, client, auth, uk(2, 6, 56), "Second day reply")
    reply_at(place, client, auth, uk(2, 7, 3), "Third day reply")
    send_digests(app, uk(2, 7, 4))  # too soon: the window is not settled
    assert len(digests(outbox)) == 1
    send_digests(app, uk(2, 7, 5))
    send_digests(app, uk(3, 9, 0))  # a missed 7am run is caught up
    first, second, third = digests(outbox)
    assert "First day reply" in first.body and "Second day reply" not in first.body
    assert "Second day reply" in second.body and "First day reply" not in second.body
    assert "Third day reply" not in second.body and "Third day reply" in third.body


def test_a_first_digest_starts_when_the_level_was_chosen(place, app, client, auth, outbox):
    reply_at(place, client, auth, uk(0, 9), "Sent at once, before the digest")
    with clock.at(uk(0, 10)):
        _level(place.follower, place.forum, Level.DAILY)
    reply_at(place, client, auth, uk(0, 11), "After the digest was chosen")
    send_digests(app, uk(1, 7, 10))
    [digest] = digests(outbox)
    assert "After the digest was chosen" in digest.body
    assert "Sent at once" not in digest.body


def test_two_runs_at_once_send_each_digest_once(tmp_path):
    from tests.concurrency import ROUNDS, all_at_once, file_database_app, make_user

    with file_database_app(tmp_path) as race_app:
        from partnerships.factories import organisations, partnership
        people = [make_user(f"Reader {n}", f"reader{n}@example.org") for n in range(6)]
        writer = make_user("Wendy Writer", "wendy@example.org")
        home = partnership.partnership("Eastside", principles=[], officers=[], members=[
            organisations.organisation("Eastside CVS", admin=writer)])
        with race_app.test_request_context(method="POST"):
            forum = forum_factory.forum(home, "Food Forum", convenors=[writer],
                                        members=people)
            for person in people:
                set_level(person, "forum", forum.id, Level.DAILY)
            db.session.commit()

        def run(at: datetime) -> Any:
            def go() -> Any:
                with clock.at(at):
                    return race_app.test_cli_runner().invoke(args=["digests", "send"])
            return go

        for round_ in range(ROUNDS):
            with clock.at(uk(round_, 9)), race_app.test_request_context(method="POST"):
                thread = forum_factory.thread(forum, writer, f"Round {round_}")
                db.session.commit()
            results = all_at_once([run(uk(round_ + 1, 7, 10)) for _ in range(3)])
            assert all(r.exit_code == 0 for r in results), [r.output for r in results]
            db.session.expire_all()
            sent = [m for m in db.session.scalars(select(OutboxMessage))
                    if m.kind == Kind.DIGEST.value and f"Round {round_}" in m.body]
            assert sorted(m.to for m in sent) == sorted(p.email for p in people), round_
            assert thread.id


# --- Bounded -----------------------------------------------------------------------------------


def test_a_thousand_posts_and_five_hundred_members_in_a_bounded_number_of_queries(
        app, make_user, make_partnership, make_forum, count_queries, outbox):
    import time as clock_time

    from partnerships.accounts.models import User
    from partnerships.forums.models import ForumMember, ForumMemberStatus, Post, Thread
    from partnerships.notifications.models import NotificationDefault

    writer = make_user("Wendy Writer", "wendy@example.org")
    forum = make_forum(make_partnership("Busy Together"), "Busy Forum", convenors=[writer])
    users = [User(name=f"Member {n}", email=f"member{n}@example.org") for n in range(500)]
    db.session.add_all(users)
    db.session.flush()
    db.session.add_all([ForumMember(forum_id=forum.id, user_id=u.id,
                                    status=ForumMemberStatus.ACTIVE) for u in users])
    db.session.add_all([NotificationDefault(user_id=u.id, level=Level.DAILY,
                                            updated_at=uk(-5, 9)) for u in users])
    threads = [Thread(forum_id=forum.id, title=f"Topic {n}", author_id=writer.id,
                      created_at=uk(0, 8)) for n in range(50)]
    db.session.add_all(threads)
    db.session.flush()
    db.session.add_all([Post(thread_id=threads[n % 50].id, author_id=writer.id,
                             body=f"Post number {n}", created_at=uk(0, 8) + timedelta(
                                 seconds=n * 30)) for n in range(1000)])
    db.session.commit()

    started = clock_time.perf_counter()
    with count_queries() as log:
        send_digests(app, uk(1, 7, 10))
    took = clock_time.perf_counter() - started
    sent = digests(outbox)
    assert len(sent) == 500
    # Reading and building: a fixed handful; then per person the claim (a savepoint
    # and the cursor's INSERT) and the email's INSERT.
    per_person = 4
    assert log.count <= 15 + per_person * 500, log.count
    reads = [s for s in log.statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) <= 10, len(reads)
    print(f"digests for 500 members and 1,000 posts: {log.count} queries, {took:.2f} s")
    assert took < 60, took
    assert "And 30 more discussions with news" in sent[0].body


# --- The digest's unsubscribe link -------------------------------------------------------------


def test_the_digest_link_turns_digests_off_without_signing_in(
        place, app, client, auth, outbox, make_forum):
    from partnerships.notifications.models import NotificationDefault
    other = make_forum(place.partnership, "Carers Forum", members=[place.follower])
    _level(place.follower, place.forum, Level.DAILY)
    db.session.add(NotificationDefault(user_id=place.follower.id, level=Level.WEEKLY))
    db.session.commit()  # the Carers Forum has no level of its own: weekly by default
    reply_at(place, client, auth, uk(0, 9), "Tuesdays suit me.")
    send_digests(app, uk(1, 7, 10))
    [digest] = digests(outbox)
    url = re.sub(r"^https?://[^/]+", "", digest.unsubscribe_url)
    page = client.get(url)
    assert page.status_code == 200
    assert "Stop daily and weekly digest emails?" in page.get_data(as_text=True)
    response = client.post(url, data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert "You will not get daily and weekly digest emails any more" in response.get_data(
        as_text=True)
    with place.request():
        from partnerships.notifications import services
        scopes = services.my_scopes(place.follower)
        levels = services.levels(place.follower, scopes)
    assert levels[f"forum-{place.forum.id}"] is Level.ABOUT_ME
    assert levels[f"forum-{other.id}"] is Level.ABOUT_ME
    assert services.default_level(place.follower.id) is Level.ABOUT_ME
    reply_at(place, client, auth, uk(1, 9), "Another reply")
    send_digests(app, uk(2, 7, 10))
    assert len(digests(outbox)) == 1


def test_the_settings_page_offers_digests_and_says_when_they_come(place, client, auth, outbox):
    auth.login(place.follower)
    page = client.get("/account/notifications").get_data(as_text=True)
    assert 'value="daily"' in page and 'value="weekly"' in page
    assert "at about 7am" in page and "Monday mornings" in page
    response = client.submit("/account/notifications", {
        f"level_forum_{place.forum.id}": "weekly",
        f"level_partnership_{place.partnership.id}": "every", "default": "daily",
        "personal": []})
    assert response.status_code == 303
    with place.request():
        from partnerships.notifications import services
        assert services.level_for(place.follower.id, "forum", place.forum.id) is Level.WEEKLY
        assert services.default_level(place.follower.id) is Level.DAILY


# --- Account deletion ------------------------------------------------------------------------


def test_deleting_an_account_removes_settings_digest_records_and_optional_queued_mail(
        place, app, client, auth, outbox):
    from partnerships.notifications.models import (
        DigestCursor,
        NotificationDefault,
        NotificationKindOff,
        NotificationLevel,
    )
    from partnerships.notifications.services import switch_off
    from tests.conftest import PASSWORD
    person = place.follower
    address = person.email
    _level(person, place.forum, Level.DAILY)
    set_level(person, "partnership", place.partnership.id, Level.WEEKLY)
    switch_off(person, Kind.REMINDERS)
    db.session.add(NotificationDefault(user_id=person.id, level=Level.DAILY))
    db.session.commit()
    reply_at(place, client, auth, uk(0, 9), "Tuesdays suit me.")
    send_digests(app, uk(1, 7, 10))
    with place.request():
        from partnerships import mail
        mail.queue(address, "Reset your password", "reset_password",
                   kind=Kind.ACCOUNT_SECURITY, user=person, link="https://x.example/r")
        db.session.commit()
    assert {m.kind for m in outbox(address)} == {Kind.DIGEST.value,
                                                  Kind.ACCOUNT_SECURITY.value}
    assert db.session.scalar(select(DigestCursor.id).where(DigestCursor.user_id == person.id))
    others = len(outbox()) - 2

    auth.login(person)
    response = client.submit("/account/delete", {"password": PASSWORD})
    assert response.status_code == 303
    db.session.expire_all()
    for model in (NotificationLevel, NotificationDefault, NotificationKindOff, DigestCursor):
        assert db.session.scalar(select(model).where(model.user_id == person.id)) is None, model
    # The digest waiting to be sent goes; essential email already queued is still sent;
    # nobody else's email is touched.
    assert [m.kind for m in outbox(address)] == [Kind.ACCOUNT_SECURITY.value]
    assert len(outbox()) - 1 == others
    assert "Queued 0 digest(s)." in send_digests(app, uk(2, 7, 10))
