"""The benchmarks' data and harness, at a tiny size (``make bench`` itself is not part
of the suite): ``flask seed scale`` writes what the services would have written, the
services work on it, it is reproducible, and the harness's in-process part (each
page's status and query count) runs, with the same query count at two sizes."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from bench.pages import find as find_landmarks
from bench.pages import measure, pages
from partnerships.accounts.models import User
from partnerships.extensions import db
from partnerships.factories import scale
from partnerships.forums.models import (
    Forum,
    ForumMember,
    ForumMemberStatus,
    Post,
    Thread,
)
from partnerships.meetings.models import (
    AgendaStatus,
    Meeting,
    MeetingStatus,
    MinutesStatus,
    Registration,
    RegistrationStatus,
)
from partnerships.modelbase import utcnow
from partnerships.mous.models import Mou, MouParty, MouSignature, MouStatus, VersionStatus
from partnerships.opportunities.models import Opportunity
from partnerships.organisations.models import Organisation
from partnerships.partnership.models import Partnership
from tests.conftest import AppClient, Auth

TINY = 0.01


def _build(fraction: float = TINY) -> dict[str, int]:
    counts = scale.build(fraction)
    db.session.commit()
    return counts


def _empty() -> None:
    db.session.remove()
    db.drop_all()
    db.create_all()


def test_it_builds_each_thing_in_the_proportion_asked(app: Flask) -> None:
    counts = _build(0.02)
    sizes = scale.FULL.scaled(0.02)
    assert counts["users"] == sizes.users == 200
    assert counts["organisations"] == 40
    assert counts["posts"] == 2000
    assert counts["meetings"] == 400
    assert counts["opportunities"] == 20
    assert counts["mous"] == 10
    assert db.session.scalar(select(func.count()).select_from(Post)) == 2000
    # The landmarks the benchmarks open: a public discussion with 500 replies.
    marks = scale.landmarks()
    big = db.session.get(Thread, marks.big_thread_id)
    assert big is not None and big.reply_count == scale.BIG_THREAD_REPLIES


def test_counters_and_statuses_agree_with_the_rows_as_the_services_keep_them(
        app: Flask) -> None:
    _build()
    # Threads: reply_count, last_post_id and last_post_at match the posts.
    for thread in db.session.scalars(select(Thread)):
        posts = list(db.session.scalars(
            select(Post).where(Post.thread_id == thread.id).order_by(Post.id)))
        assert thread.reply_count == len(posts) - 1
        assert thread.last_post_id == posts[-1].id
        assert thread.last_post_at == posts[-1].created_at
        assert posts[0].author_id == thread.author_id
    # Every post's author is an active member of the forum.
    strangers = db.session.scalar(
        select(func.count(Post.id)).join(Thread, Thread.id == Post.thread_id)
        .outerjoin(ForumMember, (ForumMember.forum_id == Thread.forum_id)
                   & (ForumMember.user_id == Post.author_id)
                   & (ForumMember.status == ForumMemberStatus.ACTIVE))
        .where(ForumMember.id.is_(None)))
    assert strangers == 0
    # Every forum has a convenor, and convenors are active members.
    for forum in db.session.scalars(select(Forum)):
        assert forum.convenors
        for convenor in forum.convenors:
            status = db.session.scalar(select(ForumMember.status).where(
                ForumMember.forum_id == forum.id, ForumMember.user_id == convenor.user_id))
            assert status is ForumMemberStatus.ACTIVE
    # Meetings: places_taken counts the registrations holding a place, within capacity;
    # a published agenda or minutes has its time; minutes only once the meeting is over.
    now = utcnow()
    held = Counter(db.session.scalars(select(Registration.meeting_id).where(
        Registration.holds_place, Registration.status == RegistrationStatus.CONFIRMED)))
    for meeting in db.session.scalars(select(Meeting)):
        assert meeting.places_taken == held[meeting.id]
        assert meeting.capacity is None or meeting.places_taken <= meeting.capacity
        assert meeting.items
        if meeting.agenda_status is AgendaStatus.PUBLISHED:
            assert meeting.agenda_published_at is not None and meeting.notice_met is not None
        if meeting.minutes_status is not MinutesStatus.NONE:
            assert meeting.ends_at < now and meeting.status is MeetingStatus.SCHEDULED
        if meeting.minutes_status is MinutesStatus.PUBLISHED:
            assert meeting.minutes_published_at is not None
        assert meeting.created_at <= now and meeting.updated_at <= now
    # MoUs in force: their version is signed by every party, and its dates are copied.
    for mou in db.session.scalars(select(Mou)):
        if mou.status in (MouStatus.ACTIVE, MouStatus.ENDED):
            version = mou.current_version
            assert version is not None and version.status is VersionStatus.SIGNED
            assert mou.draft_version_id is None and mou.review_date == version.review_date
            parties = set(db.session.scalars(select(MouParty.organisation_id).where(
                MouParty.version_id == version.id)))
            signed = set(db.session.scalars(select(MouSignature.organisation_id).where(
                MouSignature.version_id == version.id)))
            assert len(parties) >= 2 and parties == signed
        else:
            assert mou.current_version_id is None and mou.draft_version is not None
            assert mou.draft_version.status.is_in_progress
    # Opportunities are offered by member organisations of their partnership.
    for opportunity in db.session.scalars(select(Opportunity)):
        assert opportunity.partnership_id is not None
        assert opportunity.starts_latest >= opportunity.starts_earliest


def test_the_services_work_on_the_scale_data(app: Flask, client: AppClient,
                                             auth: Auth) -> None:
    """A member replies to the big discussion and registers for an upcoming meeting
    through the site, as on data the services made."""
    _build()
    marks = scale.landmarks()
    forum = db.session.scalars(select(Forum).where(Forum.slug == marks.forum_slug)).one()
    person = db.session.get(User, marks.person_id)
    assert person is not None
    auth.login(person)
    thread_url = (f"/partnerships/{marks.partnership_slug}/forums/{forum.slug}/threads/"
                  f"{marks.big_thread_id}")
    response = client.submit(f"{thread_url}/reply", {"body": "Thank you all."},
                             page=thread_url)
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Thread, marks.big_thread_id).reply_count == (  # type: ignore[union-attr]
        scale.BIG_THREAD_REPLIES + 1)
    mine = select(Registration.meeting_id).where(Registration.user_id == person.id)
    upcoming = db.session.scalars(
        select(Meeting).where(Meeting.forum_id == forum.id, Meeting.starts_at > utcnow(),
                              Meeting.status == MeetingStatus.SCHEDULED,
                              Meeting.id.not_in(mine))
        .order_by(Meeting.starts_at)).first()
    assert upcoming is not None
    answer = "online" if upcoming.format.value == "online" else "in_person"
    register = f"/meetings/{upcoming.id}/register"
    response = client.submit(register, {"response": answer})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert db.session.scalar(select(Registration.status).where(
        Registration.meeting_id == upcoming.id, Registration.user_id == person.id)) in (
        RegistrationStatus.CONFIRMED, RegistrationStatus.WAITING)


def _names() -> list[tuple[str, ...]]:
    return [
        *db.session.execute(select(User.id, User.name, User.email).order_by(User.id)).tuples(),
        *db.session.execute(select(Organisation.id, Organisation.name).order_by(
            Organisation.id)).tuples(),
        *db.session.execute(select(Partnership.slug)).tuples(),
        *db.session.execute(select(Post.id, Post.thread_id, Post.body).order_by(
            Post.id)).tuples(),
        *db.session.execute(select(Meeting.id, Meeting.forum_id, Meeting.title).order_by(
            Meeting.id)).tuples(),
        *db.session.execute(select(Mou.id, Mou.status, Mou.number).order_by(Mou.id)).tuples(),
    ]


def test_the_same_fraction_builds_the_same_rows(app: Flask) -> None:
    _build(0.005)
    first = _names()
    _empty()
    _build(0.005)
    assert _names() == first


def test_after_a_build_the_next_ids_follow_the_largest_and_the_sequences_show_as_used(
    app: Flask, make_user: Any
) -> None:
    """New rows get ids after the built ones; on PostgreSQL each sequence is left as
    used (``pg_sequences`` shows where it is), which the suite relies on to put every
    used sequence back between tests (a sequence left "unused" at 500 made the next
    test's ids start at 500)."""
    _build(TINY)
    db.session.commit()
    top = db.session.scalar(select(func.max(User.id)))
    assert make_user().id == top + 1
    if db.engine.dialect.name == "postgresql":
        unread = db.session.scalars(text(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' "
            "AND last_value IS NULL AND sequencename IN ('users_id_seq', 'forum_posts_id_seq',"
            " 'meeting_decisions_id_seq')")).all()
        assert unread == []


def test_the_harness_counts_the_same_queries_at_two_sizes(app: Flask) -> None:
    """The in-process part of ``make bench``: every page answers as expected, and its
    query count does not grow with the data (here 1% and 2% of the full size)."""
    counts = []
    for fraction in (TINY, 2 * TINY):
        if counts:
            _empty()
        _build(fraction)
        marks, token = find_landmarks(app)
        page_list = pages(marks, token)
        measured = measure(app, page_list, repeats=1)
        for page in page_list:
            assert measured[page.name].status == page.status, page
        counts.append({name: found.queries for name, found in measured.items()})
    assert counts[0] == counts[1]


def test_seed_scale_builds_through_the_command_line(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["seed", "scale", "--fraction", "0.005"])
    assert result.exit_code == 0, result.output
    assert "posts: 500" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 100


def test_seed_scale_refuses_in_production_and_writes_nothing(app: Flask) -> None:
    app.config["ENV_NAME"] = "production"
    result = app.test_cli_runner().invoke(args=["seed", "scale", "--fraction", "0.005"])
    assert result.exit_code != 0
    assert "production" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.parametrize("fraction", ["0", "-1", "11", "lots"])
def test_seed_scale_refuses_a_fraction_out_of_range(app: Flask, fraction: str) -> None:
    result = app.test_cli_runner().invoke(args=["seed", "scale", "--fraction", fraction])
    assert result.exit_code == 2
