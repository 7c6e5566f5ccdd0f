"""`flask seed demo`: the Northbridge demo loads into an emptied database, so running it
again after a walkthrough gives the same demo; it signs in with the published password,
makes the README's "things to try" true, and refuses to run in production.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from flask import Flask
from sqlalchemy import Column, DateTime, func, select

from partnerships import clock, permissions, uploads
from partnerships.accounts.models import User
from partnerships.accounts.services import authenticate
from partnerships.audit import AuditEvent
from partnerships.extensions import db
from partnerships.forums.models import (
    Forum,
    ForumBan,
    ForumConvenor,
    ForumMember,
    ForumMemberStatus,
    MembershipPolicy,
    Post,
    Subscription,
    Thread,
    ThreadState,
    Visibility,
)
from partnerships.mail import OutboxMessage
from partnerships.meetings.models import (
    ActionItem,
    ActionUpdate,
    AgendaItem,
    Decision,
    ItemRequest,
    Meeting,
    MeetingSeries,
    Paper,
    Registration,
)
from partnerships.modelbase import UTCDateTime, utcnow
from partnerships.mous.models import (
    EndKind,
    Mou,
    MouClause,
    MouForumLink,
    MouParty,
    MouPrinciple,
    MouSignature,
    MouStatus,
    MouVersion,
    VersionStatus,
)
from partnerships.organisations.models import (
    MemberRole,
    Organisation,
    OrganisationMember,
    OrgType,
    RequestStatus,
    Sector,
)
from partnerships.organisations.numbers import (
    normalise_charity_number,
    normalise_company_number,
)
from partnerships.partnership.models import (
    Partnership,
    PartnershipMember,
    PartnershipOfficer,
    PartnershipPrinciple,
)
from partnerships.seed import DEMO_PASSWORD, SeedError, load_demo, seed_path
from partnerships.timeutil import today_uk
from tests.conftest import AppClient
from tests.demo import demo_loaded

DEMO_ACCOUNTS = [
    "admin@example.org",
    "officer@northbridge.example.org",
    "convenor@northbridge-cvs.example.org",
    "volunteer@eastside-food.example.org",
    "staff@northbridge-icb.example.org",
    "manager@northbridge-icb.example.org",
]
TABLES = [
    User, Organisation, OrganisationMember, Partnership, PartnershipPrinciple,
    PartnershipOfficer, PartnershipMember, Forum, ForumConvenor, ForumMember, ForumBan,
    Thread, Post, ThreadState,
    Mou, MouVersion, MouParty, MouClause, MouSignature, MouPrinciple, MouForumLink,
    MeetingSeries, Meeting, AgendaItem, Paper, ItemRequest, Registration, Decision, ActionItem,
    ActionUpdate,
]
VOLUNTEER = "volunteer@eastside-food.example.org"


def _row_counts() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) or 0
        for model in TABLES
    }


_SECRETS = {"password_hash", "session_token", "token_hash", "manager_token_hash"}


def _is_time(column: Column[Any]) -> bool:
    return isinstance(column.type, UTCDateTime | DateTime)


def _demo_state() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table in primary key order, without the columns that depend on
    when the demo was loaded (times) or are random (password hashes, tokens): "the same
    demo" means this."""
    dump = {}
    for table in db.metadata.sorted_tables:
        if table.name == "site_revision":
            continue  # random by design, and new after every change (revision.py)
        columns = [column for column in table.columns
                   if not _is_time(column) and column.name not in _SECRETS]
        query = select(*columns).order_by(*table.primary_key.columns)
        dump[table.name] = [tuple(row) for row in db.session.execute(query)]
    return dump


def _times_from_loading() -> dict[str, list[float | None]]:
    """Every time in the database, as seconds after the moment the demo was loaded."""
    anchor = _partnership("northbridge-together").created_at
    times: dict[str, list[float | None]] = {}
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if _is_time(column):
                query = select(column).order_by(*table.primary_key.columns)
                times[f"{table.name}.{column.name}"] = [
                    None if value is None else (value - anchor).total_seconds()
                    for value in db.session.scalars(query)]
    return times


def _user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None, email
    return user


def _org(slug: str) -> Organisation:
    org = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    assert org is not None, slug
    return org


def _partnership(slug: str) -> Partnership:
    partnership = db.session.scalar(select(Partnership).where(Partnership.slug == slug))
    assert partnership is not None, slug
    return partnership


def _membership(partnership: Partnership, org: Organisation) -> PartnershipMember | None:
    return db.session.scalar(
        select(PartnershipMember).where(
            PartnershipMember.partnership_id == partnership.id,
            PartnershipMember.organisation_id == org.id,
        )
    )


def _forum(slug: str, partnership: str = "northbridge-together") -> Forum:
    forum = db.session.scalar(
        select(Forum).join(Partnership, Partnership.id == Forum.partnership_id)
        .where(Partnership.slug == partnership, Forum.slug == slug)
    )
    assert forum is not None, slug
    return forum


def _forum_member(forum: Forum, email: str) -> ForumMember | None:
    return db.session.scalar(
        select(ForumMember).where(ForumMember.forum_id == forum.id,
                                  ForumMember.user_id == _user(email).id)
    )


def _thread(forum: Forum, title: str) -> Thread:
    thread = db.session.scalar(
        select(Thread).where(Thread.forum_id == forum.id, Thread.title == title)
    )
    assert thread is not None, title
    return thread


def _posts(thread: Thread) -> list[Post]:
    return list(db.session.scalars(
        select(Post).where(Post.thread_id == thread.id).order_by(Post.id)
    ))


@pytest.fixture
def seeded(app: Flask) -> dict[str, int]:
    """The demo as ``load_demo`` makes it (copied from this worker's first load: see
    tests/demo.py); tests of loading itself call ``load_demo``."""
    return demo_loaded()


# --- Idempotence ------------------------------------------------------------------------


def test_loading_twice_gives_exactly_the_same_demo_on_the_migrated_schema(app: Flask) -> None:
    """Counts, rows and times of two loads, and the schema they leave (one test: each
    load takes seconds). Both loads are at the same moment of the app's clock: then
    everything, times included, is exactly the same (at another moment, the times
    move with it)."""
    moment = utcnow().replace(second=0, microsecond=0)
    with clock.at(moment):
        first = load_demo()
        db.session.commit()
    rows_after_first = _row_counts()
    before = _demo_state()
    assert before["forum_posts"] and before["forum_thread_states"]
    assert before["mou_versions"] and before["mou_signatures"] and before["mou_clause_parties"]
    assert before["meetings"] and before["meeting_papers"] and before["meeting_registrations"]
    assert before["meeting_actions"] and before["meeting_action_updates"]
    times_before = _times_from_loading()
    assert _partnership("northbridge-together").created_at == moment

    with clock.at(moment):
        second = load_demo()
        db.session.commit()

    assert first == second
    assert _row_counts() == rows_after_first
    assert _demo_state() == before
    assert _times_from_loading() == times_before
    assert first["accounts"] == rows_after_first["users"]
    assert first["organisations"] == rows_after_first["organisations"]
    assert first["partnerships"] == rows_after_first["partnerships"] == 2
    assert first["forums"] == rows_after_first["forums"] == 3
    assert first["discussions"] == rows_after_first["forum_threads"]
    assert first["posts"] == rows_after_first["forum_posts"]
    assert (first["forum members"] + first["requests to join forums"]
            == rows_after_first["forum_members"])
    assert first["MoUs"] == rows_after_first["mous"] == 4
    assert first["MoU versions"] == rows_after_first["mou_versions"]
    assert first["MoU signatures"] == rows_after_first["mou_signatures"]
    assert first["meetings"] == rows_after_first["meetings"] >= 15
    assert first["meeting series"] == rows_after_first["meeting_series"] == 2
    assert first["agenda items"] == rows_after_first["agenda_items"]
    assert first["meeting papers"] == rows_after_first["meeting_papers"]
    assert first["meeting registrations"] == rows_after_first["meeting_registrations"]
    assert first["decisions"] == rows_after_first["meeting_decisions"]
    assert first["actions"] == rows_after_first["meeting_actions"]

    from sqlalchemy import inspect, text

    tables = set(inspect(db.engine).get_table_names())
    assert tables == {table.name for table in db.metadata.sorted_tables} | {"alembic_version"}
    head = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    versions = Path(__file__).parent.parent / "migrations" / "versions"
    assert any(path.name.startswith(head) for path in versions.glob("*.py"))
    if db.engine.dialect.name == "sqlite":
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar_one() == 1


def test_loading_sends_no_email_and_writes_no_audit_events(seeded: dict[str, int]) -> None:
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0


# --- The demo accounts ----------------------------------------------------------------


def test_the_six_demo_accounts_have_their_roles(seeded: dict[str, int]) -> None:
    users = {email: _user(email) for email in DEMO_ACCOUNTS}
    assert all(user.is_confirmed for user in users.values())
    assert [e for e, u in users.items() if u.is_site_admin] == ["admin@example.org"]

    together = _partnership("northbridge-together")
    council = _org("northbridge-borough-council")
    officer = users["officer@northbridge.example.org"]
    assert permissions.is_partnership_officer(officer, together)
    role = db.session.scalar(
        select(PartnershipOfficer).where(
            PartnershipOfficer.partnership_id == together.id,
            PartnershipOfficer.user_id == officer.id,
        )
    )
    assert role is not None
    assert role.role_title == "Partnership officer"
    assert role.organisation_id == council.id
    assert permissions.is_organisation_member(officer, council)

    cvs = _org("northbridge-cvs")
    assert cvs.org_type is OrgType.CHARITY
    assert permissions.is_organisation_admin(users["convenor@northbridge-cvs.example.org"], cvs)

    eastside = _org("eastside-food-bank")
    volunteer = users["volunteer@eastside-food.example.org"]
    assert eastside.org_type is OrgType.COMMUNITY_GROUP
    assert eastside.is_small is True
    assert eastside.charity_number is None and eastside.company_number is None
    assert permissions.is_organisation_admin(volunteer, eastside)
    assert permissions.can_request_partnership_membership(volunteer, together, eastside)

    icb = _org("northbridge-riverside-icb")
    assert icb.org_type is OrgType.NHS_BODY
    for email in ("staff@northbridge-icb.example.org", "manager@northbridge-icb.example.org"):
        assert permissions.is_organisation_member(users[email], icb)
    staff_link = permissions.organisation_membership(
        users["staff@northbridge-icb.example.org"], icb
    )
    manager_link = permissions.organisation_membership(
        users["manager@northbridge-icb.example.org"], icb
    )
    assert staff_link is not None and manager_link is not None
    assert staff_link.job_title and manager_link.job_title
    assert staff_link.role is MemberRole.MEMBER


def test_the_demo_password_works_for_every_demo_account(seeded: dict[str, int]) -> None:
    for email in DEMO_ACCOUNTS:
        assert authenticate(email, DEMO_PASSWORD) is not None, email
        assert authenticate(email, "not-the-demo-password") is None, email


def test_each_demo_account_can_sign_in_through_the_form(
    app: Flask, seeded: dict[str, int]
) -> None:
    for email in DEMO_ACCOUNTS:
        client: AppClient = app.test_client()  # type: ignore[assignment]
        response = client.submit(
            "/account/sign-in", {"email": email, "password": "demo-partnerships"}
        )
        assert response.status_code == 303, email
        assert response.headers["Location"].endswith("/my/"), email
        profile = client.get("/account/profile")
        assert profile.status_code == 200, email
        assert email in profile.get_data(as_text=True)


# --- The organisations and partnerships -------------------------------------------------


def test_the_demo_has_four_kinds_of_public_body_and_twelve_varied_vcse_organisations(
    seeded: dict[str, int],
) -> None:
    orgs = list(db.session.scalars(select(Organisation)))
    public_types = {org.org_type for org in orgs if org.sector is Sector.PUBLIC}
    assert {OrgType.LOCAL_AUTHORITY, OrgType.NHS_BODY, OrgType.POLICE, OrgType.FIRE} <= public_types

    vcse = [org for org in orgs if org.is_vcse]
    assert len(vcse) >= 12
    assert sum(1 for org in vcse if org.is_small) >= 4
    assert sum(1 for org in vcse if org.is_small is False) >= 3
    assert [org.slug for org in vcse if org.org_type is OrgType.COMMUNITY_GROUP] == [
        "eastside-food-bank"
    ]
    assert len({org.org_type for org in vcse}) >= 4
    names = {org.name for org in orgs}
    assert {
        "Northbridge Borough Council",
        "NHS Northbridge and Riverside Integrated Care Board",
        "Office of the Northbridge Police and Crime Commissioner",
        "Northbridge Fire and Rescue Service",
        "Northbridge CVS",
        "Eastside Food Bank",
    } <= names


def test_every_organisation_has_valid_numbers_an_example_website_and_a_description(
    seeded: dict[str, int],
) -> None:
    for org in db.session.scalars(select(Organisation)):
        if org.charity_number:
            assert normalise_charity_number(org.charity_number) == org.charity_number
        if org.company_number:
            assert normalise_company_number(org.company_number) == org.company_number
        assert org.website and urlparse(org.website).hostname.endswith("example.org"), org.slug
        assert 20 < len(org.description) < 400, org.slug


def test_no_address_in_the_demo_can_reach_a_real_person(seeded: dict[str, int]) -> None:
    emails = list(db.session.scalars(select(User.email)))
    emails += [e for e in db.session.scalars(select(Partnership.contact_email)) if e]
    assert all(email.endswith("example.org") for email in emails)


def test_both_partnerships_exist_with_officers_members_and_a_written_description(
    seeded: dict[str, int],
) -> None:
    together = _partnership("northbridge-together")
    riverside = _partnership("riverside-health-care")
    for partnership in (together, riverside):
        assert partnership.officers
        assert sum(m.status is RequestStatus.ACTIVE for m in partnership.members) >= 5
        assert partnership.principles
        assert partnership.description.count("\n\n") >= 2  # a few paragraphs of Markdown
        assert partnership.contact_email
    assert together.name == "Northbridge Together"


def test_eastside_food_bank_is_not_yet_in_northbridge_together_but_a_request_waits(
    seeded: dict[str, int],
) -> None:
    together = _partnership("northbridge-together")
    assert _membership(together, _org("eastside-food-bank")) is None
    pending = [m for m in together.members if m.status is RequestStatus.PENDING]
    assert len(pending) == 1
    assert pending[0].organisation.is_vcse
    assert pending[0].requested_by is not None and pending[0].message
    assert pending[0].requested_at is not None


def test_the_public_partnership_page_shows_the_demo(client: AppClient, seeded: dict) -> None:
    response = client.get("/partnerships/northbridge-together/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Northbridge Together" in page
    # The Markdown headings sit under the page's "About the partnership" h2.
    assert '<h3 class="govuk-heading-s">How to get involved</h3>' in page
    assert "Northbridge Refugee Welcome" not in page  # a pending request is not public


# --- The forums -------------------------------------------------------------------------


def test_health_and_wellbeing_is_by_request_members_only_and_co_convened_by_cvs_and_icb(
    seeded: dict[str, int],
) -> None:
    forum = _forum("health-wellbeing")
    assert forum.name == "Health and Wellbeing VCSE Forum"
    assert forum.membership_policy is MembershipPolicy.BY_REQUEST
    assert forum.visibility is Visibility.MEMBERS
    assert forum.purpose.count("\n\n") >= 2 and forum.theme and forum.tag_list
    convenors = {c.user.email: c.organisation.slug for c in forum.convenors if c.organisation}
    assert convenors == {
        "convenor@northbridge-cvs.example.org": "northbridge-cvs",
        "manager@northbridge-icb.example.org": "northbridge-riverside-icb",
    }
    assert {_org(slug).sector for slug in convenors.values()} == {Sector.VCSE, Sector.PUBLIC}
    for email in convenors:  # convenors are members, as when a forum is created on the site
        membership = _forum_member(forum, email)
        assert membership is not None and membership.status is ForumMemberStatus.ACTIVE
        assert membership.decided_at is not None
        assert permissions.can_manage_forum(_user(email), forum)

    active = db.session.scalars(
        select(ForumMember).where(ForumMember.forum_id == forum.id,
                                  ForumMember.status == ForumMemberStatus.ACTIVE)
    ).all()
    assert len(active) >= 8
    assert sum(1 for m in active if m.organisation and m.organisation.is_vcse) >= 5
    assert _forum_member(forum, "staff@northbridge-icb.example.org") is not None
    for member in active:  # anyone who represents an organisation may act for it
        if member.organisation is not None:
            assert permissions.is_organisation_admin(member.user, member.organisation)


def test_the_volunteer_is_not_in_health_and_wellbeing_but_someone_elses_request_waits(
    seeded: dict[str, int],
) -> None:
    forum = _forum("health-wellbeing")
    volunteer = _user(VOLUNTEER)
    assert _forum_member(forum, VOLUNTEER) is None
    access = permissions.forum_access(volunteer, forum)
    assert not access.is_member and not access.is_pending and not access.is_banned
    assert not access.can_read  # members only: the join journey starts from the outside

    pending = db.session.scalars(
        select(ForumMember).where(ForumMember.forum_id == forum.id,
                                  ForumMember.status == ForumMemberStatus.PENDING)
    ).all()
    assert len(pending) == 1
    request = pending[0]
    assert request.user.email != VOLUNTEER
    assert request.organisation is not None and request.organisation.is_vcse
    assert 20 < len(request.introduction) <= 500
    assert request.requested_at is not None and request.decided_at is None


def test_community_safety_is_open_public_and_co_convened_by_the_council_and_the_pcc(
    seeded: dict[str, int],
) -> None:
    forum = _forum("community-safety")
    assert forum.name == "Community Safety Forum"
    assert forum.membership_policy is MembershipPolicy.OPEN
    assert forum.visibility is Visibility.PUBLIC
    assert forum.purpose.count("\n\n") >= 2
    assert {c.organisation.org_type for c in forum.convenors if c.organisation} == {
        OrgType.LOCAL_AUTHORITY, OrgType.POLICE,
    }
    assert "officer@northbridge.example.org" in {c.user.email for c in forum.convenors}
    types = {
        m.organisation.org_type
        for m in db.session.scalars(select(ForumMember).where(ForumMember.forum_id == forum.id))
        if m.organisation
    }
    assert OrgType.FIRE in types and OrgType.CHARITY in types
    assert _forum_member(forum, VOLUNTEER) is None  # so joining an open forum can be tried too


def test_every_discussion_has_replies_and_counters_that_match_its_posts(
    seeded: dict[str, int],
) -> None:
    threads = list(db.session.scalars(select(Thread)))
    assert len(threads) == seeded["discussions"] >= 5
    now = utcnow()
    for thread in threads:
        posts = _posts(thread)
        assert len(posts) >= 3, thread.title
        assert thread.reply_count == len(posts) - 1, thread.title
        assert thread.last_post_id == posts[-1].id, thread.title
        assert thread.last_post_at == posts[-1].created_at, thread.title
        assert thread.author_id == posts[0].author_id, thread.title
        times = [post.created_at for post in posts]
        assert times == sorted(times) and times[-1] <= now, thread.title
        assert thread.forum.created_at < times[0], thread.title
        for post in posts:  # only members write, and only after they joined
            membership = _forum_member(thread.forum, post.author.email)  # type: ignore[union-attr]
            assert membership is not None and membership.status is ForumMemberStatus.ACTIVE
            assert membership.decided_at <= post.created_at  # type: ignore[operator]

    wellbeing = _forum("health-wellbeing")
    assert _thread(wellbeing, "Agenda ideas for the next meeting").pinned
    assert any(t.locked for t in threads)
    assert len([t for t in threads if t.forum_id == wellbeing.id]) >= 3


def test_authors_follow_their_discussions_and_have_read_up_to_their_own_last_post(
    seeded: dict[str, int],
) -> None:
    thread = _thread(_forum("health-wellbeing"), "Winter pressures: what are you seeing?")
    posts = _posts(thread)
    states = {s.user_id: s for s in db.session.scalars(
        select(ThreadState).where(ThreadState.thread_id == thread.id)
    )}
    assert set(states) == {post.author_id for post in posts}
    for user_id, state in states.items():
        assert state.subscription is Subscription.FOLLOWING
        assert state.last_read_post_id == max(p.id for p in posts if p.author_id == user_id)
    # So a convenor who wrote earlier sees the newer replies as unread.
    assert any(state.last_read_post_id < thread.last_post_id  # type: ignore[operator]
               for state in states.values())


def test_a_hidden_post_keeps_its_text_and_says_why_and_which_convenor_hid_it(
    seeded: dict[str, int],
) -> None:
    forum = _forum("community-safety")
    hidden = db.session.scalars(select(Post).where(Post.hidden_at.is_not(None))).all()
    assert len(hidden) == 1
    post = hidden[0]
    assert post.thread.forum_id == forum.id
    assert post.body and post.hidden_reason
    assert post.hidden_by_id in {c.user_id for c in forum.convenors}
    assert post.created_at < post.hidden_at <= utcnow()  # type: ignore[operator]


def test_forum_times_count_back_from_when_the_partnership_was_first_loaded(
    seeded: dict[str, int],
) -> None:
    together = _partnership("northbridge-together")
    forum = _forum("health-wellbeing")
    assert forum.created_at == together.created_at - timedelta(days=240)
    agenda = _posts(_thread(forum, "Agenda ideas for the next meeting"))
    assert agenda[0].created_at == together.created_at - timedelta(days=6)
    assert agenda[-1].created_at == together.created_at - timedelta(hours=20)


# --- Re-running resets a forum walkthrough ----------------------------------------------


def test_a_rerun_resets_a_forum_walkthrough_by_the_demo_accounts(
    seeded: dict[str, int],
) -> None:
    forum = _forum("health-wellbeing")
    safety = _forum("community-safety")
    volunteer = _user(VOLUNTEER)
    convenor = _user("convenor@northbridge-cvs.example.org")
    chloe = _user("chloe@northbridge-minds.example.org")
    winter = _thread(forum, "Winter pressures: what are you seeing?")
    winter_before = (winter.reply_count, winter.last_post_id)
    agenda = _thread(forum, "Agenda ideas for the next meeting")
    first_post = _posts(agenda)[0]
    request = db.session.scalar(select(ForumMember).where(
        ForumMember.forum_id == forum.id, ForumMember.status == ForumMemberStatus.PENDING))
    assert request is not None
    before = _demo_state()

    # The walkthrough: the volunteer joins and replies, starts a discussion elsewhere;
    # the convenor approves the waiting request, hides a post, unpins, bans Chloe.
    db.session.add(ForumMember(forum_id=forum.id, user_id=volunteer.id,
                               organisation_id=_org("eastside-food-bank").id,
                               status=ForumMemberStatus.ACTIVE, requested_at=utcnow(),
                               decided_at=utcnow(), decided_by_id=convenor.id))
    reply = Post(thread_id=winter.id, author_id=volunteer.id, body="We see it too.")
    db.session.add(reply)
    db.session.flush()
    winter.reply_count += 1
    winter.last_post_id, winter.last_post_at = reply.id, utcnow()
    db.session.add(ThreadState(user_id=volunteer.id, thread_id=winter.id,
                               last_read_post_id=reply.id,
                               subscription=Subscription.FOLLOWING))
    db.session.merge(ThreadState(user_id=convenor.id, thread_id=winter.id,
                                 last_read_post_id=reply.id, subscription=Subscription.MUTED))
    db.session.add(ForumMember(forum_id=safety.id, user_id=volunteer.id,
                               status=ForumMemberStatus.ACTIVE, decided_at=utcnow()))
    db.session.add(ForumConvenor(forum_id=safety.id, user_id=volunteer.id))
    started = Thread(forum_id=safety.id, title="Food bank collection point", pinned=False,
                     author_id=volunteer.id, last_post_at=utcnow())
    db.session.add(started)
    db.session.flush()
    db.session.add(Post(thread_id=started.id, author_id=volunteer.id, body="Hello all"))
    request.status = ForumMemberStatus.ACTIVE
    request.decided_at, request.decided_by_id = utcnow(), convenor.id
    first_post.hidden_at, first_post.hidden_by_id = utcnow(), convenor.id
    first_post.hidden_reason = "Testing"
    agenda.pinned = False
    db.session.add(ForumBan(forum_id=forum.id, user_id=chloe.id, reason="Testing",
                            banned_by_id=convenor.id))
    _forum_member(forum, chloe.email).status = ForumMemberStatus.REMOVED  # type: ignore[union-attr]
    db.session.commit()

    reply_id, started_id, first_post_id = reply.id, started.id, first_post.id
    chloe_email = chloe.email
    load_demo()  # the session is closed (the database emptied): look everything up again
    db.session.commit()
    forum, safety = _forum("health-wellbeing"), _forum("community-safety")

    assert _forum_member(forum, VOLUNTEER) is None
    assert _forum_member(safety, VOLUNTEER) is None
    assert db.session.get(Post, reply_id) is None
    assert db.session.get(Thread, started_id) is None
    winter = _thread(forum, "Winter pressures: what are you seeing?")
    assert (winter.reply_count, winter.last_post_id) == winter_before
    assert _demo_state() == before  # ids and all: the same rows as before
    assert _forum_member(forum, chloe_email).status is ForumMemberStatus.ACTIVE  # type: ignore[union-attr]
    assert db.session.get(Post, first_post_id).hidden_at is None  # type: ignore[union-attr]
    assert _thread(forum, "Agenda ideas for the next meeting").pinned


# --- Re-running resets a walkthrough: the database is emptied first -------------------------


def test_a_rerun_resets_what_the_demo_accounts_did_in_a_walkthrough(
    app: Flask, seeded: dict[str, int]
) -> None:
    together = _partnership("northbridge-together")
    eastside = _org("eastside-food-bank")
    refugee = _org("northbridge-refugee-welcome")

    volunteer: AppClient = app.test_client()  # type: ignore[assignment]
    volunteer.submit("/account/sign-in", {"email": DEMO_ACCOUNTS[3], "password": DEMO_PASSWORD})
    response = volunteer.submit(
        "/partnerships/northbridge-together/join",
        {"organisation": str(eastside.id), "message": "We would like to take part."},
    )
    assert response.status_code == 303

    officer: AppClient = app.test_client()  # type: ignore[assignment]
    officer.submit("/account/sign-in", {"email": DEMO_ACCOUNTS[1], "password": DEMO_PASSWORD})
    request_id = _membership(together, refugee).id  # type: ignore[union-attr]
    response = officer.submit(
        f"/partnerships/northbridge-together/requests/{request_id}/approve",
        page="/partnerships/northbridge-together/requests",
    )
    assert response.status_code == 303

    user = _user(DEMO_ACCOUNTS[3])
    user.password_hash = "scrypt:32768:8:1$changed$0000"
    db.session.commit()
    db.session.expire_all()
    assert _membership(together, eastside) is not None
    assert _membership(together, refugee).status is RequestStatus.ACTIVE  # type: ignore[union-attr]

    load_demo()
    db.session.commit()
    db.session.expire_all()

    assert _membership(together, eastside) is None
    again = _membership(together, refugee)
    assert again is not None and again.status is RequestStatus.PENDING
    assert again.decided_at is None and again.decided_by_id is None
    assert authenticate(DEMO_ACCOUNTS[3], DEMO_PASSWORD) is not None


def test_a_rerun_empties_the_database_so_what_anyone_else_created_goes_too(
    seeded: dict[str, int], make_user, make_organisation
) -> None:
    together = _partnership("northbridge-together")
    someone = make_user("Real Person", "real.person@example.net")
    their_org = make_organisation("Westfield Allotment Society", admin=someone)
    db.session.add(PartnershipMember(
        partnership_id=together.id, organisation_id=their_org.id, status=RequestStatus.PENDING,
    ))
    db.session.add(Forum(partnership_id=together.id, slug="allotments", name="Allotments",
                         purpose="Growing food together.", created_by_id=someone.id))
    db.session.commit()
    before = _row_counts()

    load_demo()
    db.session.commit()
    db.session.expire_all()

    assert db.session.scalar(select(User).where(User.email == "real.person@example.net")) is None
    assert db.session.scalar(select(Organisation).where(
        Organisation.slug == "westfield-allotment-society")) is None
    assert db.session.scalar(select(Forum).where(Forum.slug == "allotments")) is None
    after = _row_counts()
    assert after["users"] == before["users"] - 1
    assert after["forums"] == before["forums"] - 1


# --- The command line and production ----------------------------------------------------


def test_the_cli_loads_the_demo_and_commits(app: Flask) -> None:
    folder = uploads.upload_folder()
    left_behind = folder / "0123456789abcdef0123456789abcdef.pdf"  # say a walkthrough's
    left_behind.write_bytes(b"%PDF-1.7\n%%EOF\n")
    result = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert result.exit_code == 0, result.output
    assert "Demo data loaded:" in result.output
    assert "accounts" in result.output
    assert "forums: 3" in result.output
    db.session.expire_all()
    assert _user("admin@example.org").is_site_admin
    assert not left_behind.exists()
    papers = set(db.session.scalars(select(Paper.stored_name)))
    assert papers and papers <= {path.name for path in folder.iterdir()}
    assert app.test_cli_runner().invoke(args=["seed", "demo"]).exit_code == 0


def test_make_run_on_a_database_file_upgrades_then_loads_the_demo_twice(
    tmp_path: Path, database_url: str
) -> None:
    """What ``make run`` does on a new machine and every time after: ``flask db upgrade``
    then ``flask seed demo``, on a database file (the app's own transaction handling,
    not the tests' in-memory database). Dropping the tables on a file once failed:
    the pragma that turns foreign keys off was sent inside a transaction."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the new-machine path is SQLite's; PostgreSQL loads through the CLI above")
    from partnerships import create_app
    from tests.conftest import app_settings

    app = create_app(app_settings(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'app.sqlite'}",
        UPLOAD_FOLDER=str(tmp_path / "uploads")))
    runner = app.test_cli_runner()
    for args in (["db", "upgrade"], ["seed", "demo"], ["db", "upgrade"], ["seed", "demo"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (args, result.output, result.exception)
    with app.app_context():
        assert _user("admin@example.org").is_site_admin
        assert db.session.scalar(select(func.count()).select_from(Forum)) == 3
        db.engine.dispose()


def test_the_cli_refuses_in_production_and_writes_nothing(app: Flask) -> None:
    app.config["ENV_NAME"] = "production"
    result = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert result.exit_code != 0
    assert "production" in result.output
    db.session.expire_all()
    assert all(count == 0 for count in _row_counts().values())


def test_load_demo_itself_refuses_in_production(app: Flask) -> None:
    app.config["ENV_NAME"] = "production"
    with pytest.raises(RuntimeError, match="production"):
        load_demo()
    assert all(count == 0 for count in _row_counts().values())


# --- The seed file's own checks ---------------------------------------------------------


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "seed.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


ADMIN = {"accounts": [{"name": "S", "email": "s@example.org", "site_admin": True}]}


def test_the_seed_file_is_found_next_to_the_package(app: Flask) -> None:
    assert seed_path().is_file()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"calendar": []}, "unknown section"),
        ({"accounts": [{"name": "A", "email": "a@example.org", "admin": True}]}, "unknown field"),
        ({"accounts": [{"name": "A"}]}, "missing email"),
        ({**ADMIN, "organisations": [{"name": "X", "slug": "x", "type": "charity",
                                      "income_band": "up_to_10k", "charity_number": "12"}]},
         "organisations: .*charity number"),
        ({**ADMIN, "organisations": [{"name": "X", "slug": "x", "type": "club",
                                      "income_band": "up_to_10k"}]}, "'club' is not one of"),
        ({**ADMIN, "organisations": [{"name": "X", "slug": "x", "type": "charity",
                                      "income_band": "up_to_10k",
                                      "members": [{"email": "nobody@example.org",
                                                   "role": "admin"}]}]},
         "not one of the accounts"),
        ({**ADMIN, "partnerships": [{"name": "P", "slug": "p", "place": "Q",
                                     "members": ["nope"]}]},
         "no organisation with slug 'nope'"),
        ({"organisations": [{"name": "X", "slug": "x", "type": "charity",
                             "income_band": "up_to_10k"}]}, "needs a site_admin account"),
    ],
)
def test_mistakes_in_the_seed_file_are_reported_clearly(
    app: Flask, tmp_path: Path, data: dict, message: str
) -> None:
    with pytest.raises(SeedError, match=message):
        load_demo(_write(tmp_path, data))


def _forum_file() -> dict[str, Any]:
    """The smallest seed file with a forum in it; each mistake below changes one thing."""
    return {
        "accounts": [{"name": "A", "email": "a@example.org"},
                     {"name": "B", "email": "b@example.org"},
                     {"name": "C", "email": "c@example.org"},
                     {"name": "S", "email": "s@example.org", "site_admin": True}],
        "organisations": [{"name": "X", "slug": "x", "type": "community_group",
                           "income_band": "up_to_10k",
                           "members": [{"email": "a@example.org", "role": "admin"},
                                       {"email": "b@example.org", "role": "member"}]}],
        "partnerships": [{"name": "P", "slug": "p", "place": "Q"}],
        "forums": [{
            "partnership": "p", "slug": "f", "by": "s@example.org", "name": "F",
            "purpose": "Why we meet.",
            "membership_policy": "by_request", "visibility": "members",
            "convenors": [{"email": "a@example.org", "organisation": "x"}],
            "members": [{"email": "b@example.org"}],
            "pending": [{"email": "c@example.org", "introduction": "Hello"}],
            "threads": [{"title": "T", "author": "a@example.org", "posts": [
                {"days_ago": 2, "body": "Hi"},
                {"author": "b@example.org", "days_ago": 1, "body": "Hello"},
            ]}],
        }],
    }


def test_the_smallest_forum_file_loads(app: Flask, tmp_path: Path) -> None:
    summary = load_demo(_write(tmp_path, _forum_file()))
    assert (summary["forums"], summary["forum members"], summary["requests to join forums"],
            summary["discussions"], summary["posts"]) == (1, 2, 1, 1, 2)


def _set(path: str, value: Any) -> Any:
    """A change to the forum file: ``path`` like "threads.0.posts.1.author"."""
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = data["forums"][0]
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(last) if last.isdigit() else last] = value
    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set("partnership", "nope"), "no partnership with slug 'nope'"),
        (_set("slug", "new"), "Web address must be lower-case"),
        (_set("visibility", "secret"), "'secret' is not one of"),
        (_set("convenors", []), "at least one convenor"),
        (_set("members", [{"email": "b@example.org", "organisation": "x"}]),
         "Only an admin of X can join on its behalf"),
        (_set("members", [{"email": "b@example.org"}, {"email": "b@example.org"}]),
         "already a member of F"),
        (_set("members", [{"email": "a@example.org"}]), "already a member of F"),
        (_set("membership_policy", "open"), "only by_request forums have requests"),
        (_set("threads.0.posts.1.author", "c@example.org"), "Only members of this forum"),
        (_set("threads.0.posts.0.author", "b@example.org"), "unknown field.* author"),
        (_set("threads.0.posts.1", {"author": "b@example.org", "body": "Hi"}),
         "one of minutes_ago, hours_ago or days_ago"),
        (_set("threads.0.posts.1.hidden_by", "a@example.org"), "Enter a reason"),
        (_set("threads.0.posts.1", {"author": "b@example.org", "body": "Hi", "days_ago": 1,
                                    "hidden_reason": "Rude", "hidden_by": "b@example.org"}),
         "Only the forum's convenors can hide posts"),
        (_set("threads.0.posts", []), "at least its opening post"),
    ],
)
def test_mistakes_in_the_forums_section_are_reported_clearly(
    app: Flask, tmp_path: Path, change: Any, message: str
) -> None:
    data = _forum_file()
    change(data)
    with pytest.raises(SeedError, match=message):
        load_demo(_write(tmp_path, data))


# --- The MoUs ----------------------------------------------------------------------------


def _mou(number: int, partnership: str = "northbridge-together") -> Mou:
    mou = db.session.scalar(
        select(Mou).join(Partnership, Partnership.id == Mou.partnership_id)
        .where(Partnership.slug == partnership, Mou.number == number)
    )
    assert mou is not None, number
    return mou


def test_the_demo_has_an_mou_in_force_with_two_versions_between_council_icb_and_cvs(
    seeded: dict[str, int], client: AppClient,
) -> None:
    mou = _mou(1)
    assert mou.status is MouStatus.ACTIVE and mou.publish
    assert [(v.number, v.status) for v in mou.versions] == [
        (1, VersionStatus.SUPERSEDED), (2, VersionStatus.SIGNED)]
    current = mou.current_version
    assert current is not None and current.number == 2 and mou.draft_version_id is None
    assert [p.organisation.slug for p in current.parties] == [
        "northbridge-borough-council", "northbridge-riverside-icb", "northbridge-cvs"]
    assert {p.organisation.org_type for p in current.parties} == {
        OrgType.LOCAL_AUTHORITY, OrgType.NHS_BODY, OrgType.CHARITY}
    assert current.data_sharing and current.based_on_version_id == mou.versions[0].id
    assert mou.review_date == current.review_date > today_uk()
    assert current.signed_at == max(s.signed_at for s in current.signatures)
    assert [f.slug for f in mou.forums] == ["health-wellbeing"]

    compared = client.get(f"/partnerships/northbridge-together/mous/{mou.id}/"
                          "compare?from=1&to=2")
    html = compared.get_data(as_text=True)
    assert compared.status_code == 200
    assert "Clause 4: added" in html and "Clause 3: changed" in html


def test_the_demo_has_an_mou_out_for_signature_that_the_cvs_convenor_can_sign(
    seeded: dict[str, int],
) -> None:
    mou = _mou(2)
    version = mou.draft_version
    assert mou.status is MouStatus.SIGNING and mou.current_version_id is None
    assert version is not None and version.status is VersionStatus.SIGNING
    assert [s.organisation.slug for s in version.signatures] == ["northbridge-borough-council"]
    assert len(version.parties) == 3
    convenor = _user("convenor@northbridge-cvs.example.org")
    assert permissions.can_sign(convenor, version, _org("northbridge-cvs"))
    assert not permissions.can_sign(convenor, version, _org("northbridge-pcc"))


def test_the_demo_has_an_mou_overdue_for_review_and_one_that_has_ended(
    seeded: dict[str, int], client: AppClient,
) -> None:
    overdue = _mou(3)
    assert overdue.status is MouStatus.ACTIVE
    assert overdue.review_date is not None and overdue.review_date < today_uk()
    ended = _mou(4)
    assert ended.status is MouStatus.ENDED and ended.end_kind is EndKind.EXPIRED
    assert ended.end_date is not None and ended.ended_reason and ended.ended_at is not None
    assert ended.current_version is not None  # it stays readable as agreed

    register = client.get("/partnerships/northbridge-together/mous/").get_data(as_text=True)
    assert "Volunteering across health and care" in register and "Review overdue" in register
    assert "Warm spaces for the winter" in register and "<dd>Expired</dd>" in register
    assert "Safer streets" not in register  # never in force, so not public yet
    data = client.get("/partnerships/northbridge-together/mous.json").get_json()
    assert [m["reference"] for m in data["mous"]] == ["MOU-004", "MOU-003", "MOU-001"]


def test_every_demo_signature_is_by_an_admin_of_the_party_it_signs_for(
    seeded: dict[str, int],
) -> None:
    signatures = list(db.session.scalars(select(MouSignature)))
    assert len(signatures) == seeded["MoU signatures"] >= 10
    for signature in signatures:
        version = signature.version
        assert version.party_for(signature.organisation_id) is not None
        assert signature.signer is not None
        assert permissions.is_organisation_admin(signature.signer, signature.organisation)
        assert signature.statement == f"I agree on behalf of {signature.organisation.name}"
        assert version.opened_for_signature_at <= signature.signed_at  # type: ignore[operator]
    for version in db.session.scalars(select(MouVersion)):
        for clause in version.clauses:
            assert {o.id for o in clause.responsible} <= {p.organisation_id
                                                          for p in version.parties}


def _sign_in(app: Flask, email: str) -> AppClient:
    client: AppClient = app.test_client()  # type: ignore[assignment]
    client.submit("/account/sign-in", {"email": email, "password": DEMO_PASSWORD})
    return client


def test_a_rerun_resets_an_mou_walkthrough(app: Flask, seeded: dict[str, int]) -> None:
    base = "/partnerships/northbridge-together/mous"
    first, signing, overdue = _mou(1).id, _mou(2), _mou(3).id
    cvs = _org("northbridge-cvs")
    before = _demo_state()

    # The CVS convenor signs MOU-002; the officer amends MOU-001, continues MOU-003
    # with a new review date and makes MOU-002 members only.
    convenor = _sign_in(app, "convenor@northbridge-cvs.example.org")
    signed = convenor.submit(f"{base}/{signing.id}/sign/{cvs.id}", {
        "version": "1", "name": "Tom Okonkwo", "role": "Networks lead",
        "statement": "I agree on behalf of Northbridge CVS"})
    assert signed.status_code == 303
    officer = _sign_in(app, "officer@northbridge.example.org")
    assert officer.submit(f"{base}/{first}/amend",
                          {"changelog": "A walkthrough change"}).status_code == 303
    later = today_uk() + timedelta(days=200)
    reviewed = officer.submit(f"{base}/{overdue}/review", {
        "outcome": "continue",
        "continue-review_date": [str(later.day), str(later.month), str(later.year)]})
    assert reviewed.status_code == 303
    assert officer.submit(f"{base}/{signing.id}/publication",
                          {"publish": "no", "reason": "Testing"}).status_code == 303
    db.session.expire_all()
    assert len(_mou(1).versions) == 3 and _mou(3).review_date == later

    load_demo()
    db.session.commit()
    db.session.expire_all()

    assert _demo_state() == before
    assert len(_mou(2).draft_version.signatures) == 1  # type: ignore[union-attr]


def _mou_file() -> dict[str, Any]:
    """The smallest seed file with an MoU in it; each mistake below changes one thing."""
    return {
        "accounts": [{"name": "A", "email": "a@example.org"},
                     {"name": "B", "email": "b@example.org"},
                     {"name": "S", "email": "s@example.org", "site_admin": True}],
        "organisations": [
            {"name": "X", "slug": "x", "type": "local_authority", "income_band": "over_100m",
             "members": [{"email": "a@example.org", "role": "admin"}]},
            {"name": "Y", "slug": "y", "type": "charity", "income_band": "up_to_10k",
             "members": [{"email": "b@example.org", "role": "admin"}]},
            {"name": "Z", "slug": "z", "type": "charity", "income_band": "up_to_10k"},
        ],
        "partnerships": [{"name": "P", "slug": "p", "place": "Q", "members": ["x", "y"],
                          "officers": [{"email": "a@example.org", "role_title": "Officer"}]}],
        "mous": [{
            "partnership": "p", "number": 1,
            "versions": [{
                "status": "signed", "title": "T", "purpose": "Why.", "start_day": -10,
                "review_day": 100,
                "parties": [{"organisation": "x", "role": "Lead"},
                            {"organisation": "y", "role": "Helps"}],
                "clauses": [{"text": "We meet.", "responsible": ["x", "y"]}],
                "signatures": [
                    {"organisation": "x", "by": "a@example.org", "role": "CEO",
                     "signed_day": -20},
                    {"organisation": "y", "by": "b@example.org", "role": "Chair",
                     "signed_day": -19}],
            }],
        }],
    }


def test_the_smallest_mou_file_loads(app: Flask, tmp_path: Path) -> None:
    summary = load_demo(_write(tmp_path, _mou_file()))
    assert (summary["MoUs"], summary["MoU versions"], summary["MoU signatures"]) == (1, 1, 2)
    mou = db.session.scalar(select(Mou))
    assert mou is not None and mou.status is MouStatus.ACTIVE
    assert mou.current_version.changelog == "First version"  # type: ignore[union-attr]


def _mou_change(path: str, value: Any) -> Any:
    """A change to the MoU file: ``path`` like "versions.0.signatures.1.by"."""
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = data["mous"][0]
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(last) if last.isdigit() else last] = value
    return change


def _second_version(status: str) -> Any:
    def change(data: dict[str, Any]) -> None:
        version = dict(data["mous"][0]["versions"][0], status=status, changelog="Second")
        data["mous"][0]["versions"].append(version)
    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_mou_change("partnership", "nope"), "no partnership with slug 'nope'"),
        (_mou_change("number", 0), "number should be 1, 2, 3"),
        (_mou_change("number", 2), "in the order the partnership's MoUs are listed"),
        (_mou_change("colour", "red"), "unknown field"),
        (_mou_change("versions.0.parties.1.organisation", "z"),
         "Parties must be member organisations"),
        (_mou_change("versions.0.parties", [{"organisation": "x", "role": "Lead"}]),
         "Select at least two member organisations as parties"),
        (_mou_change("versions.0.review_day", -10), "review date must be after the start"),
        (_mou_change("versions.0.start_day", "yesterday"), "whole number of days"),
        (_mou_change("versions.0.clauses.0.responsible", ["z"]),
         "responsible for clause 1 must be parties to the MoU"),
        (_mou_change("versions.0.signatures.1.by", "a@example.org"), "Only an admin of Y"),
        (_mou_change("versions.0.signatures", []),
         "the file says signed, but after the steps listed it is signing"),
        (_mou_change("versions.0.status", "signing"), "the file says signing, but .* signed"),
        (_mou_change("versions.0.status", "draft"), "not open for signature yet"),
        (_mou_change("versions.0.opened_day", -19.5), "whole number of days"),
        (_mou_change("versions.0.opened_day", -5), "signed before it was opened"),
        (_second_version("superseded"),
         "version 1: the file says signed, but after the steps listed it is superseded"),
        (_second_version("signed"),
         "version 1: the file says signed, but after the steps listed it is superseded"),
        (_second_version("signing"),
         "version 1: the file says signed, but after the steps listed it is superseded"),
        (_mou_change("ended", {"kind": "withdrawn", "end_day": -1, "reason": "R"}),
         "Select whether the MoU has expired or is being terminated"),
        (_mou_change("ended", {"kind": "expired", "end_day": 5, "reason": "R"}),
         "end_day is in the future"),
        (_mou_change("publish", False), "Enter why the parties agreed not to publish"),
        (_mou_change("not_published_reason", "Secret"), "not_published_reason"),
        (_mou_change("forums", ["nope"]), "no forum 'nope'"),
        (_mou_change("principles", ["kindness"]), "'kindness' is not one of"),
    ],
)
def test_mistakes_in_the_mous_section_are_reported_clearly(
    app: Flask, tmp_path: Path, change: Any, message: str
) -> None:
    data = _mou_file()
    change(data)
    with pytest.raises(SeedError, match=message):
        load_demo(_write(tmp_path, data))


# --- Secondments and shadowing -----------------------------------------------------------


def _opportunity(title: str) -> Any:
    from partnerships.opportunities.models import Opportunity

    opportunity = db.session.scalar(select(Opportunity).where(Opportunity.title == title))
    assert opportunity is not None, title
    return opportunity


def test_the_demo_offers_opportunities_of_every_type_from_many_hosts(
    seeded: dict[str, int],
) -> None:
    from partnerships.opportunities.models import (
        ApplicationStatus,
        Opportunity,
        OpportunityKind,
        OpportunityStatus,
    )
    from partnerships.timeutil import to_uk

    opportunities = list(db.session.scalars(select(Opportunity)))
    assert seeded["opportunities"] == len(opportunities) >= 10
    open_ones = [o for o in opportunities if o.status is OpportunityStatus.OPEN]
    assert len(open_ones) >= 10
    assert {o.kind for o in open_ones} == set(OpportunityKind)
    assert len({o.organisation_id for o in open_ones}) >= 8
    assert {o.organisation.sector for o in open_ones} == {Sector.PUBLIC, Sector.VCSE}
    anchor = to_uk(_partnership("northbridge-together").created_at).date()
    assert sum(1 for o in open_ones if (o.closing_date - anchor).days <= 14) >= 2
    [filled] = [o for o in open_ones if o.is_filled]
    statuses = sorted(a.status.value for a in filled.applications)
    assert statuses == [ApplicationStatus.ACCEPTED.value, ApplicationStatus.RESERVE.value]
    assert filled.places_taken == filled.places == 1


def test_the_demo_staff_member_waits_for_a_manager_and_has_a_completed_placement(
    app: Flask, seeded: dict[str, int],
) -> None:
    from partnerships.opportunities.models import (
        Application,
        ApplicationStatus,
        ManagerDecision,
        PlacementStatus,
    )
    from tests.conftest import link_in

    staff = _user("staff@northbridge-icb.example.org")
    applications = list(db.session.scalars(
        select(Application).where(Application.applicant_id == staff.id)))
    [waiting] = [a for a in applications if a.manager_decision is ManagerDecision.PENDING]
    assert waiting.manager_email == "manager@northbridge-icb.example.org"
    assert waiting.status is ApplicationStatus.SUBMITTED
    [done] = [a for a in applications if a.placement is not None]
    placement = done.placement
    assert placement.status is PlacementStatus.COMPLETED and placement.checklist_done
    assert 1 <= len(placement.objectives) <= 5
    assert {r.role.value for r in placement.reflections} == {"participant", "host"}
    assert all(r.learned and r.changes for r in placement.reflections)

    # The walkthrough: the staff member sends a reminder and the manager gets a link.
    client: AppClient = app.test_client()  # type: ignore[assignment]
    client.submit("/account/sign-in", {"email": staff.email, "password": DEMO_PASSWORD})
    page = client.get("/my/applications").get_data(as_text=True)
    assert "Reverse mentoring on disability and access" in page
    assert "Shadow the CVS funding team" in page and "Placement: completed" in page
    url = f"/applications/{waiting.id}/"
    response = client.submit(f"{url}remind", page=url)
    assert response.status_code == 303
    [email] = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to == "manager@northbridge-icb.example.org"))
    manager = app.test_client()
    assert "Jamie Patel" in manager.get(link_in(email)).get_data(as_text=True)
    assert "Public sector to VCSE" in client.get("/opportunities/figures").get_data(
        as_text=True)


def test_a_rerun_resets_an_opportunities_walkthrough(
    seeded: dict[str, int], make_user
) -> None:
    from partnerships.opportunities.models import (
        Application,
        ApplicationStatus,
        ManagerDecision,
        Opportunity,
        OpportunityKind,
        Placement,
        PlacementStatus,
    )

    before = _demo_state()
    survey = _opportunity("Data analysis for the carers' survey")
    accepted = next(a for a in survey.applications if a.status is ApplicationStatus.ACCEPTED)
    reserve = next(a for a in survey.applications if a.status is ApplicationStatus.RESERVE)
    # The accepted person withdraws, the host accepts the reserve, the staff member
    # withdraws and applies elsewhere, reflections change, an ICB admin posts a new one.
    accepted.status = ApplicationStatus.WITHDRAWN
    accepted.placement.status = PlacementStatus.CANCELLED
    reserve.status = ApplicationStatus.ACCEPTED
    db.session.add(Placement(application_id=reserve.id))
    staff = _user("staff@northbridge-icb.example.org")
    waiting = db.session.scalar(select(Application).where(
        Application.applicant_id == staff.id,
        Application.manager_decision == ManagerDecision.PENDING))
    waiting.status = ApplicationStatus.WITHDRAWN
    board = _opportunity("Board observer at Northbridge CVS")
    db.session.add(Application(opportunity_id=board.id, applicant_id=staff.id,
                               organisation_id=_org("northbridge-riverside-icb").id,
                               statement="Walkthrough", manager_name="R",
                               manager_email="manager@northbridge-icb.example.org"))
    done = _opportunity("Shadow the CVS funding team").applications[0].placement
    done.reflections[0].learned = "Changed in a walkthrough"
    done.objectives[0].text = "Changed too"
    helen = _user("helen.carter@northbridge-icb.example.org")
    walkthrough = Opportunity(
        organisation_id=_org("northbridge-riverside-icb").id, posted_by_id=helen.id,
        kind=OpportunityKind.SHADOWING, title="Posted in a walkthrough", description="d",
        location_kind=survey.location_kind, time_commitment="1 day", total_days=1,
        starts_earliest=survey.starts_earliest, starts_latest=survey.starts_latest,
        closing_date=survey.closing_date, contact_name="H", contact_email="h@example.org")
    db.session.add(walkthrough)
    # Someone outside the demo applies for a demo opportunity.
    someone = make_user("Real Person", "real.person@example.net")
    theirs = Application(opportunity_id=board.id, applicant_id=someone.id,
                         organisation_id=_org("northbridge-borough-council").id,
                         statement="Mine", manager_name="M", manager_email="m@example.net")
    db.session.add(theirs)
    survey.places_taken = 1
    db.session.commit()

    load_demo()
    db.session.commit()
    db.session.expire_all()

    assert _demo_state() == before
    assert _opportunity("Data analysis for the carers' survey").places_taken == 1


def _opportunity_file() -> dict[str, Any]:
    """The smallest seed file with an opportunity; each mistake below changes one thing."""
    return {
        "accounts": [{"name": "A", "email": "a@example.org"},
                     {"name": "B", "email": "b@example.org"},
                     {"name": "S", "email": "s@example.org", "site_admin": True}],
        "organisations": [
            {"name": "Host", "slug": "host", "type": "charity", "income_band": "up_to_10k",
             "members": [{"email": "a@example.org", "role": "admin"}]},
            {"name": "Council", "slug": "council", "type": "local_authority",
             "income_band": "over_100m",
             "members": [{"email": "b@example.org", "role": "member"}]},
        ],
        "partnerships": [{"name": "P", "slug": "p", "place": "Q", "members": ["host"]}],
        "opportunities": [{
            "host": "host", "posted_by": "a@example.org", "partnership": "p",
            "title": "Shadow us", "type": "shadowing", "description": "Come and see.",
            "location": "remote", "time_commitment": "1 day", "total_days": 1,
            "start_days": [10, 20], "closing_day": 5, "contact_name": "A",
            "contact_email": "a@example.org",
            "applications": [{
                "applicant": "b@example.org", "organisation": "council",
                "statement": "Please", "availability": "Mondays", "applied_day": -1,
                "manager_name": "M", "manager_email": "m@example.org",
                "manager_decision": "approved", "manager_decided_day": 0,
                "status": "accepted", "decided_day": 0,
                "placement": {"status": "agreed", "start_day": 10},
            }],
        }],
    }


def test_the_smallest_opportunity_file_loads(app: Flask, tmp_path: Path) -> None:
    summary = load_demo(_write(tmp_path, _opportunity_file()))
    assert (summary["opportunities"], summary["applications"], summary["placements"]) == (
        1, 1, 1)


def _opp(path: str, value: Any) -> Any:
    """A change to the opportunity file: ``path`` like "applications.0.status"."""
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = data["opportunities"][0]
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(last) if last.isdigit() else last] = value
    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_opp("posted_by", "b@example.org"), "Only admins of Host"),
        (_opp("type", "holiday"), "'holiday' is not one of"),
        (_opp("closing_day", "soon"), "closing_day should be a whole number of days"),
        (_opp("start_days", [20, 10]), "latest start date must be"),
        (_opp("manager_approval_required", False),
         "does not ask for the line manager's approval"),
        (_opp("open_to", "vcse"), "Council is not in that sector"),
        (_opp("applications.0.applicant", "a@example.org"),
         "Select the organisation you work for"),
        (_opp("applications.0.manager_decision", "pending"),
         "Only the host can decide on this application"),
        (_opp("applications.0.status", "submitted"), "only an accepted application"),
        (_opp("applications.0.applied_day", 3), "in the future"),
        (_opp("places", 0), "Number of places must be between"),
        (_opp("applications.0.placement", {"status": "completed", "start_day": 10}),
         "Agree everything on the checklist first"),
        (_opp("title", ""), "missing title"),
    ],
)
def test_mistakes_in_the_opportunities_section_are_reported_clearly(
    app: Flask, tmp_path: Path, change: Any, message: str
) -> None:
    data = _opportunity_file()
    change(data)
    with pytest.raises(SeedError, match=message):
        load_demo(_write(tmp_path, data))


# --- Meetings ----------------------------------------------------------------------------


def _anchor(partnership: str = "northbridge-together") -> Any:
    return _partnership(partnership).created_at


def _meetings(forum: str, partnership: str = "northbridge-together") -> list[Meeting]:
    return list(db.session.scalars(
        select(Meeting).where(Meeting.forum_id == _forum(forum, partnership).id)
        .order_by(Meeting.starts_at, Meeting.id)))


def _upcoming(forum: str, partnership: str = "northbridge-together") -> list[Meeting]:
    anchor = _anchor(partnership)
    return [m for m in _meetings(forum, partnership) if m.starts_at > anchor]


def _past(forum: str, partnership: str = "northbridge-together") -> list[Meeting]:
    anchor = _anchor(partnership)
    return [m for m in _meetings(forum, partnership) if m.ends_at <= anchor]


def _registrations(meeting: Meeting) -> list[Registration]:
    return list(db.session.scalars(select(Registration).where(
        Registration.meeting_id == meeting.id).order_by(Registration.id)))


def _actions(meeting: Meeting) -> list[ActionItem]:
    return list(db.session.scalars(select(ActionItem).where(
        ActionItem.meeting_id == meeting.id).order_by(ActionItem.id)))


DEMO_FORUMS = [("health-wellbeing", "northbridge-together"),
               ("community-safety", "northbridge-together"),
               ("home-from-hospital", "riverside-health-care")]


@pytest.mark.parametrize(("forum", "partnership"), DEMO_FORUMS)
def test_every_demo_forum_has_past_meetings_with_agenda_papers_attendance_and_minutes(
    seeded: dict[str, int], forum: str, partnership: str
) -> None:
    from partnerships.meetings.models import (
        ActionStatus,
        AgendaStatus,
        Attendance,
        MinutesStatus,
        StandardItem,
    )

    past = _past(forum, partnership)
    assert len(past) >= 2
    for meeting in past:
        assert meeting.agenda_status is AgendaStatus.PUBLISHED
        assert meeting.agenda_published_at <= meeting.starts_at  # type: ignore[operator]
        assert meeting.notice_met is not None
        assert meeting.minutes_status is MinutesStatus.PUBLISHED and meeting.minutes_summary
        assert meeting.minutes_published_at is not None
        assert meeting.starts_at < meeting.minutes_published_at <= _anchor(partnership)
        items = list(meeting.items)
        assert [item.position for item in items] == list(range(1, len(items) + 1))
        assert items[0].standard is StandardItem.WELCOME
        real = [item for item in items if item.standard is None]
        assert real and all(item.presenter_id or item.presenter_name for item in real)
        assert all(item.minutes for item in items)
        marks = {r.attendance for r in _registrations(meeting)}
        assert Attendance.PRESENT in marks and None not in marks
        assert db.session.scalar(select(func.count(Decision.id)).where(
            Decision.meeting_id == meeting.id))
        assert _actions(meeting)
    assert any(paper for meeting in past for item in meeting.items for paper in item.papers)
    statuses = {action.status for meeting in past for action in _actions(meeting)}
    assert {ActionStatus.OPEN, ActionStatus.DONE} <= statuses
    assert any(r.user_id is None and r.walk_in_name
               for meeting in past for r in _registrations(meeting)) or forum == (
        "home-from-hospital")


def test_the_demo_records_present_apologies_absent_and_walk_ins(seeded: dict[str, int]) -> None:
    from partnerships.meetings.models import Attendance, RegistrationStatus

    rows = list(db.session.scalars(select(Registration).where(
        Registration.attendance.is_not(None))))
    assert {row.attendance for row in rows} == set(Attendance)
    walk_ins = [row for row in rows if row.user_id is None]
    assert len(walk_ins) >= 2
    assert all(w.attendance is Attendance.PRESENT and not w.holds_place
               and w.status is RegistrationStatus.CONFIRMED for w in walk_ins)


def test_demo_papers_are_real_pdfs_stored_under_names_from_their_hash(
    app: Flask, seeded: dict[str, int]
) -> None:
    import hashlib
    import re

    from partnerships import uploads

    papers = list(db.session.scalars(select(Paper)))
    assert len(papers) >= 5
    for paper in papers:
        data = uploads.path_for(paper.stored_name).read_bytes()
        assert uploads.detect_kind(data) is uploads.FileKind.PDF
        assert paper.content_type == "application/pdf" and paper.kind_label == "PDF"
        assert paper.size_bytes == len(data)
        assert paper.sha256 == hashlib.sha256(data).hexdigest()
        assert paper.stored_name == f"{paper.sha256[:32]}.pdf"
        assert paper.original_filename.endswith(".pdf")
        # A well-formed PDF: every cross-reference points at its object.
        start = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", data).group(1))  # type: ignore[union-attr]
        table = re.match(rb"xref\n0 (\d+)\n0000000000 65535 f \n", data[start:])
        assert table is not None
        offsets = data[start + table.end():].split(b"\n")[: int(table.group(1)) - 1]
        for number, line in enumerate(offsets, 1):
            assert data[int(line[:10]):].startswith(f"{number} 0 obj".encode())
    files = sorted(path.name for path in uploads.upload_folder().iterdir())

    load_demo()
    db.session.commit()

    assert sorted(path.name for path in uploads.upload_folder().iterdir()) == files


def test_a_published_paper_downloads_for_the_public_and_a_draft_one_does_not(
    client: AppClient, seeded: dict[str, int]
) -> None:
    from partnerships.meetings.models import AgendaStatus

    public = next(p for p in db.session.scalars(select(Paper))
                  if p.item.meeting.is_public and p.item.meeting.agenda_published)
    with client.get(f"/meetings/{public.item.meeting_id}/papers/{public.id}") as download:
        assert download.status_code == 200 and download.data.startswith(b"%PDF-")
    draft = next(p for p in db.session.scalars(select(Paper))
                 if p.item.meeting.agenda_status is AgendaStatus.DRAFT)
    # Not the file: 404 (a draft) for a public meeting; sign in first for a members-only one.
    with client.get(f"/meetings/{draft.item.meeting_id}/papers/{draft.id}") as refused:
        assert refused.status_code == (404 if draft.item.meeting.is_public else 302)
        assert not refused.data.startswith(b"%PDF-")


def test_the_demo_has_a_monthly_series_at_the_same_uk_time_across_a_clock_change(
    seeded: dict[str, int],
) -> None:
    from partnerships.meetings.models import RecurrenceKind
    from partnerships.timeutil import to_uk

    # The forum's monthly series (the partnership board's is quarterly).
    [series] = db.session.scalars(select(MeetingSeries).where(
        MeetingSeries.kind == RecurrenceKind.MONTHLY_NTH_WEEKDAY))
    assert series.kind is RecurrenceKind.MONTHLY_NTH_WEEKDAY
    occurrences = list(db.session.scalars(select(Meeting).where(
        Meeting.series_id == series.id).order_by(Meeting.starts_at)))
    assert len(occurrences) == series.count == 12
    assert [m.occurrence_date for m in occurrences] == [
        to_uk(m.starts_at).date() for m in occurrences]
    assert {to_uk(m.starts_at).time() for m in occurrences} == {series.local_start}
    assert len({m.starts_at.hour for m in occurrences}) == 2  # BST and GMT
    anchor = _anchor("riverside-health-care")
    assert sum(m.starts_at > anchor for m in occurrences) >= 6
    assert sum(m.ends_at <= anchor and m.minutes_published for m in occurrences) == 3


def test_the_demo_has_an_upcoming_hybrid_meeting_whose_draft_agenda_is_due_soon(
    app: Flask, seeded: dict[str, int]
) -> None:
    from partnerships.meetings.models import MeetingFormat
    from partnerships.timeutil import latest_day_for_notice, to_uk

    anchor_day = to_uk(_anchor()).date()
    forum = _forum("health-wellbeing")
    nxt = _upcoming("health-wellbeing")[0]
    assert nxt.format is MeetingFormat.HYBRID and nxt.joining_url.startswith("https://")
    assert nxt.venue_name and nxt.venue_address and not nxt.is_public
    assert not nxt.agenda_published and len(nxt.items) >= 5
    due = latest_day_for_notice(to_uk(nxt.starts_at).date(), forum.notice_days)
    assert anchor_day < due <= anchor_day + timedelta(days=7)
    assert to_uk(nxt.starts_at).strftime("%H:%M") == "10:00"
    [request] = db.session.scalars(select(ItemRequest).where(ItemRequest.meeting_id == nxt.id))
    assert request.requested_by_id == _user("kofi@northbridge-disability-rights.example.org").id

    # The convenor sees when it is due; the staff member sees the joining link.
    convenor = _sign_in(app, "convenor@northbridge-cvs.example.org")
    page = convenor.get(f"/meetings/{nxt.id}/").get_data(as_text=True)
    assert "Publish the agenda by" in page
    staff = _sign_in(app, "staff@northbridge-icb.example.org")
    assert nxt.joining_url in staff.get(f"/meetings/{nxt.id}/").get_data(as_text=True)


def test_open_actions_come_up_under_matters_arising_at_the_next_meeting(
    app: Flask, seeded: dict[str, int]
) -> None:
    from partnerships.meetings.models import ActionStatus
    from partnerships.meetings.queries import open_actions_before

    last = _past("health-wellbeing")[-1]
    nxt = _upcoming("health-wellbeing")[0]
    open_ones = [a for a in _actions(last) if a.status is ActionStatus.OPEN]
    assert open_ones and {a.id for a in open_ones} <= {a.id for a in open_actions_before(nxt)}
    overdue = [a for a in open_ones if a.due_date and a.due_date < _anchor().date()]
    assert overdue
    convenor = _sign_in(app, "convenor@northbridge-cvs.example.org")
    page = convenor.get(f"/meetings/{nxt.id}/").get_data(as_text=True)
    assert overdue[0].description.split(",")[0] in page
    # The demo staff member has an open action of their own.
    staff = _sign_in(app, "staff@northbridge-icb.example.org")
    mine = [a for a in open_ones if a.owner_id == _user("staff@northbridge-icb.example.org").id]
    assert mine and mine[0].description[:40] in staff.get("/my/actions").get_data(as_text=True)
    # The README: "sign in as the line manager to see an open action on 'Your actions'".
    manager_email = "manager@northbridge-icb.example.org"
    manager = _sign_in(app, manager_email)
    theirs = [a for a in open_ones if a.owner_id == _user(manager_email).id]
    page = manager.get("/my/actions").get_data(as_text=True)
    assert theirs and theirs[0].description.split("'")[0] in page


def test_the_demo_has_a_cancelled_meeting_and_a_members_only_one_in_a_public_forum(
    client: AppClient, seeded: dict[str, int]
) -> None:
    from partnerships.meetings.models import MeetingStatus

    upcoming = _upcoming("community-safety")
    [cancelled] = [m for m in upcoming if m.status is MeetingStatus.CANCELLED]
    assert cancelled.status_reason and cancelled.status_changed_at <= _anchor()  # type: ignore[operator]
    assert cancelled.changed_at == cancelled.status_changed_at
    assert "Cancelled" in client.get(f"/meetings/{cancelled.id}/").get_data(as_text=True)
    assert _forum("community-safety").visibility is Visibility.PUBLIC
    [members_only] = [m for m in upcoming if not m.is_public]
    assert members_only.joining_url
    signed_out = client.get(f"/meetings/{members_only.id}/")  # sign in first
    assert signed_out.status_code == 302 and members_only.title not in signed_out.text


def test_the_demo_has_a_full_workshop_with_a_waiting_list(seeded: dict[str, int]) -> None:
    from partnerships.meetings.models import RegistrationStatus

    [full] = [m for m in _upcoming("community-safety") if m.capacity]
    rows = _registrations(full)
    holding = [r for r in rows if r.holds_place]
    waiting = [r for r in rows if r.status is RegistrationStatus.WAITING]
    assert full.places_taken == full.capacity == len(holding) and full.is_full
    assert len(waiting) >= 2 and all(r.waiting_since and not r.holds_place for r in waiting)
    assert max(r.created_at for r in holding) < min(r.waiting_since for r in waiting)  # type: ignore[type-var]
    # The demo volunteer is free to try joining the waiting list.
    assert _user(VOLUNTEER).id not in {r.user_id for r in rows}


def test_every_demo_meeting_counts_its_places_and_has_settled_calendar_fields(
    seeded: dict[str, int],
) -> None:
    from partnerships.meetings.registrations import takes_place

    for meeting in db.session.scalars(select(Meeting)):
        rows = _registrations(meeting)
        assert meeting.places_taken == sum(r.holds_place for r in rows), meeting
        for row in rows:
            if row.user_id is not None:
                assert row.holds_place == (row.status.value == "confirmed"
                                           and takes_place(meeting, row.response)), row
        # Scheduled once; a cancellation is one change calendars pick up.
        assert meeting.sequence == (0 if meeting.status_changed_at is None else 1)
        assert meeting.changed_at == (meeting.status_changed_at or meeting.created_at)
        assert meeting.changed_at <= meeting.partnership.created_at
        assert meeting.created_at <= meeting.changed_at


def test_a_rerun_resets_a_meetings_walkthrough(
    seeded: dict[str, int], make_user
) -> None:
    from partnerships import uploads
    from partnerships.meetings.models import (
        ActionStatus,
        AgendaRevision,
        ItemRequestStatus,
        MeetingFormat,
        MeetingStatus,
        RegistrationStatus,
        Response,
    )

    before = _demo_state()
    convenor = _user("convenor@northbridge-cvs.example.org")
    officer = _user("officer@northbridge.example.org")

    # The convenor reorders, extends and cancels the next meeting, removes its paper
    # and accepts Kofi's item; Chloe gives up her place.
    nxt = _upcoming("health-wellbeing")[0]
    items = list(nxt.items)
    items[4].position, items[5].position = items[5].position, items[4].position
    extra = AgendaItem(meeting_id=nxt.id, position=len(items) + 1, title="Walkthrough item")
    db.session.add(extra)
    paper = next(p for item in items for p in item.papers)
    uploads.delete(paper.stored_name)
    paper.item.papers.remove(paper)
    db.session.flush()
    request = db.session.scalar(select(ItemRequest).where(ItemRequest.meeting_id == nxt.id))
    request.status, request.item_id = ItemRequestStatus.ACCEPTED, extra.id  # type: ignore[union-attr]
    db.session.add(AgendaRevision(meeting_id=nxt.id, note="Item added", created_by_id=convenor.id))
    chloe = next(r for r in _registrations(nxt)
                 if r.user_id == _user("chloe@northbridge-minds.example.org").id)
    chloe.status, chloe.holds_place = RegistrationStatus.CANCELLED, False
    nxt.places_taken -= 1
    nxt.status, nxt.status_reason, nxt.sequence = MeetingStatus.CANCELLED, "Testing", 1
    nxt.changed_at = utcnow()

    # At the workshop someone cancels, the first person waiting is promoted and the
    # volunteer joins the list, as does someone outside the demo.
    [workshop] = [m for m in _upcoming("community-safety") if m.capacity]
    rows = _registrations(workshop)
    rows[0].status, rows[0].holds_place = RegistrationStatus.CANCELLED, False
    first_waiting = next(r for r in rows if r.status is RegistrationStatus.WAITING)
    first_waiting.status, first_waiting.holds_place = RegistrationStatus.CONFIRMED, True
    first_waiting.promoted_at, first_waiting.waiting_since = utcnow(), None
    someone = make_user("Real Person", "real.person@example.net")
    for person in (_user(VOLUNTEER), someone):
        db.session.add(Registration(meeting_id=workshop.id, user_id=person.id,
                                    response=Response.IN_PERSON,
                                    status=RegistrationStatus.WAITING, waiting_since=utcnow()))

    # After the last meeting: an action closed, the minutes corrected, a decision and a
    # walk-in added.
    last = _past("health-wellbeing")[-1]
    action = next(a for a in _actions(last) if a.status is ActionStatus.OPEN)
    action.status = ActionStatus.DONE
    action.updates.append(ActionUpdate(body="Done in a walkthrough", status=ActionStatus.DONE,
                                       created_by_id=action.owner_id))
    last.minutes_summary = "Corrected in a walkthrough"
    db.session.add(Decision(meeting_id=last.id, text="Walkthrough", created_by_id=convenor.id))
    db.session.add(Registration(meeting_id=last.id, walk_in_name="Someone",
                                response=Response.IN_PERSON))

    # The officer schedules two meetings: one a demo account registered for, and one
    # someone outside the demo did.
    forum = _forum("community-safety")
    made = []
    for title in ("Walkthrough meeting", "Real meeting"):
        meeting = Meeting(forum_id=forum.id, title=title, starts_at=nxt.starts_at,
                          ends_at=nxt.ends_at, format=MeetingFormat.ONLINE,
                          created_by_id=officer.id)
        db.session.add(meeting)
        made.append(meeting)
    db.session.flush()
    db.session.add(Registration(meeting_id=made[0].id, user_id=_user(VOLUNTEER).id,
                                response=Response.ONLINE))
    db.session.add(Registration(meeting_id=made[1].id, user_id=someone.id,
                                response=Response.ONLINE))
    db.session.commit()
    workshop_id, stored_name = workshop.id, paper.stored_name

    load_demo()
    db.session.commit()

    assert _demo_state() == before
    # The removed paper is back, as a file too.
    assert uploads.path_for(stored_name).is_file()
    assert all(meeting.title not in ("Walkthrough meeting", "Real meeting")
               for meeting in db.session.scalars(select(Meeting)))
    workshop = db.session.get(Meeting, workshop_id)
    assert workshop.places_taken == workshop.capacity  # type: ignore[union-attr]


def _meeting_file() -> dict[str, Any]:
    """The smallest seed file with a meeting; each mistake below changes one thing."""
    data = _forum_file()
    data["meetings"] = [{
        "partnership": "p", "forum": "f", "title": "M", "day": -10, "start": "10:00",
        "end": "11:00", "format": "in_person", "created_by": "a@example.org", "capacity": 1,
        "venue": {"name": "Hall", "address": "1 High Street"},
        "agenda": {"published_days_before": 7, "items": [
            {"standard": "welcome", "minutes": "Hello."},
            {"title": "Plans", "presenter": "b@example.org",
             "papers": [{"title": "Plan", "filename": "plan.pdf", "text": "Our plan."}]}]},
        "registrations": [{"email": "b@example.org", "response": "in_person",
                           "attendance": "present"}],
        "walk_ins": [{"name": "Guest"}],
        "minutes": {"published_days_after": 1, "summary": "We met.",
                    "decisions": [{"text": "Agreed.", "item": 2}],
                    "actions": [{"description": "Do it", "owner": "b@example.org",
                                 "due_day": 5}]},
    }]
    return data


def test_the_smallest_meeting_file_loads_and_reloads_unchanged(
    app: Flask, tmp_path: Path
) -> None:
    path = _write(tmp_path, _meeting_file())
    summary = load_demo(path)
    db.session.commit()
    assert (summary["meetings"], summary["agenda items"], summary["meeting papers"],
            summary["meeting registrations"], summary["actions"]) == (1, 2, 1, 2, 1)
    before = _demo_state()
    assert load_demo(path) == summary
    db.session.commit()
    db.session.expire_all()
    assert _demo_state() == before
    meeting = db.session.scalar(select(Meeting))
    assert meeting is not None and not meeting.is_public  # the forum is members only
    assert meeting.places_taken == 1 and meeting.minutes_published


def _meet(path: str, value: Any) -> Any:
    """A change to the meeting file: ``path`` like "agenda.items.1.presenter"."""
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = data["meetings"][0]
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is None:
            del target[int(last) if last.isdigit() else last]
        else:
            target[int(last) if last.isdigit() else last] = value
    return change


def _online_with_a_venue(data: dict[str, Any]) -> None:
    data["meetings"][0].update(format="online", joining_url="https://meet.example.org/m")
    data["meetings"][0]["registrations"][0]["response"] = "online"


def test_a_second_answer_to_a_full_meeting_waits(app: Flask, tmp_path: Path) -> None:
    data = _meeting_file()
    data["meetings"][0]["registrations"].append({"email": "a@example.org",
                                                 "response": "in_person"})
    load_demo(_write(tmp_path, data))
    meeting = db.session.scalar(select(Meeting))
    assert meeting is not None and meeting.places_taken == meeting.capacity == 1
    assert [r.status.value for r in _registrations(meeting) if r.user_id] == [
        "confirmed", "waiting"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_meet("forum", "nope"), "no forum 'nope'"),
        (_meet("colour", "red"), "unknown field"),
        (_meet("start", 600), "put start in quotes"),
        (_meet("end", "09:00"), "end time must be after the start"),
        (_meet("weekday", "someday"), "weekday should be one of"),
        (_meet("agenda_due_day", 3), "one of day or agenda_due_day"),
        (_meet("created_by", "b@example.org"), "Only the forum's convenors and the "
                                                 "partnership's officers can schedule"),
        (_meet("venue", None), "Enter the venue"),
        (_meet("registrations.0.email", "c@example.org"), "cannot register for this meeting"),
        (_meet("registrations.0.response", "online"), "attend in person or send apologies"),
        (_meet("day", 10), "has not started yet"),
        (_meet("agenda.items", []), "at least one item before publishing"),
        (_meet("agenda.items.1.presenter", "c@example.org"), "presenter from the forum's "
                                                               "members"),
        (_meet("agenda.items.1.papers.0.filename", "plan.docx"), "is called .docx"),
        (_meet("minutes.actions.0.owner", "c@example.org"), "member of the forum from the"),
        (_meet("minutes.actions.0.status", "done"), "unknown field"),
        (_meet("minutes.decisions.0.item", 9), "item 9 is not on the agenda"),
        (_meet("status", "cancelled"), "status_changed_day should be a whole number"),
        (_meet("series", {"kind": "monthly_nth_weekday", "count": 3}),
         "go under occurrences"),
    ],
)
def test_mistakes_in_the_meetings_section_are_reported_clearly(
    app: Flask, tmp_path: Path, change: Any, message: str
) -> None:
    data = _meeting_file()
    change(data)
    with pytest.raises(SeedError, match=message):
        load_demo(_write(tmp_path, data))


def test_the_demo_partnership_board_has_past_minutes_with_an_open_action_and_a_next_agenda(
        seeded: dict[str, int]) -> None:
    """Issue 15: a quarterly "Northbridge Together partnership board" series of the
    partnership itself (no forum): the last meeting has published minutes and an open
    action, the next one a published agenda."""
    from partnerships.meetings.models import ActionStatus, AgendaStatus, MinutesStatus

    partnership = _partnership("northbridge-together")
    board = list(db.session.scalars(
        select(Meeting).where(Meeting.partnership_id == partnership.id,
                              Meeting.forum_id.is_(None))
        .order_by(Meeting.starts_at)))
    assert board and {m.title for m in board} == {"Northbridge Together partnership board"}
    assert board[0].series is not None and board[0].series.forum_id is None
    anchor = _anchor()
    past = [m for m in board if m.ends_at <= anchor]
    upcoming = [m for m in board if m.starts_at > anchor]
    assert len(past) == 1 and upcoming
    held = past[0]
    assert held.minutes_status is MinutesStatus.PUBLISHED
    assert [a.status for a in _actions(held)] == [ActionStatus.OPEN]
    assert _actions(held)[0].forum_id is None
    assert upcoming[0].agenda_status is AgendaStatus.PUBLISHED
    assert all(m.agenda_status is AgendaStatus.DRAFT for m in upcoming[1:])


# --- Concerns --------------------------------------------------------------------------------


def test_the_demo_has_one_concern_answered_publicly_and_one_open(
        client: AppClient, seeded: dict[str, int]) -> None:
    from partnerships.concerns.models import Concern, ConcernStatus

    concerns = list(db.session.scalars(select(Concern).order_by(Concern.raised_at)))
    assert [c.status for c in concerns] == [ConcernStatus.CLOSED, ConcernStatus.OPEN]
    answered, still_open = concerns
    assert answered.is_published and answered.anonymous and not still_open.is_published
    page = client.get("/partnerships/northbridge-together/concerns/").get_data(as_text=True)
    assert "at least five working days" in page
    assert "Pat Resident" not in page and "a.resident@example.org" not in page
    assert "no lift" not in page


def _concern_file() -> dict[str, Any]:
    """The smallest seed file with a concern; each mistake below changes one thing."""
    return {
        "accounts": [{"name": "A", "email": "a@example.org"},
                     {"name": "S", "email": "s@example.org", "site_admin": True}],
        "partnerships": [{"name": "P", "slug": "p", "place": "Q",
                          "officers": [{"email": "a@example.org", "role_title": "Officer"}]}],
        "concerns": [{"partnership": "p", "category": "other", "details": "It happened.",
                      "email": "r@example.org", "raised_day": -5, "acknowledged_day": -4,
                      "response": "Sorry.", "responded_day": -3, "closed_day": -2}],
    }


def test_the_smallest_concern_file_loads(app: Flask, tmp_path: Path) -> None:
    assert load_demo(_write(tmp_path, _concern_file()))["concerns"] == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"partnership": "nope"}, r"concerns\[0\]: no partnership with slug 'nope'"),
        ({"category": "rude"}, r"concerns\[0\]: category: 'rude' is not one of"),
        ({"colour": "red"}, r"concerns\[0\]: unknown field\(s\) colour"),
        ({"by": "a@example.org"}, "either by .* or email"),
        ({"email": None, "by": "a@example.org", "name": "X"}, "name is only for someone"),
        ({"publish": "yes"}, "publish should be true or false"),
        ({"response": None}, "both response and responded_day"),
        ({"response": None, "responded_day": None}, "closed: Only a concern that has been "
                                                     "responded to can be closed"),
        ({"raised_day": 3}, "raised_day is in the future"),
        ({"details": ""}, "missing details"),
    ],
)
def test_mistakes_in_the_concerns_section_are_reported_clearly(
        app: Flask, tmp_path: Path, changes: dict[str, Any], message: str) -> None:
    data = _concern_file()
    entry = data["concerns"][0]
    for key, value in changes.items():
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    with pytest.raises(SeedError, match=message):
        load_demo(_write(tmp_path, data))


# --- Annual reports --------------------------------------------------------------------------


def test_the_demo_has_a_published_annual_report_for_last_year(
        client: AppClient, seeded: dict[str, int]) -> None:
    from partnerships.engagement.models import AnnualReport

    assert seeded["annual reports"] == 1
    report = db.session.scalars(select(AnnualReport)).one()
    last_year = _anchor().year - 1
    assert report.year == last_year and report.is_published and report.figures
    base = "/partnerships/northbridge-together/report"
    page = client.get(f"{base}/{last_year}/").get_data(as_text=True)
    assert f"Annual report {last_year}" in page and "What went well" in page
    assert "Figures as at" in page and "Community Safety Forum" in page
    assert f"{base}/{last_year}/" in client.get(f"{base}/").get_data(as_text=True)
    body = client.get(f"/api/v1/partnerships/northbridge-together/reports/{last_year}")
    assert body.status_code == 200 and body.get_json()["year"] == last_year


def _report_file() -> dict[str, Any]:
    """The smallest seed file with an annual report; each mistake below changes one thing."""
    return {
        "accounts": [{"name": "A", "email": "a@example.org"},
                     {"name": "B", "email": "b@example.org"},
                     {"name": "S", "email": "s@example.org", "site_admin": True}],
        "partnerships": [{"name": "P", "slug": "p", "place": "Q",
                          "officers": [{"email": "a@example.org", "role_title": "Officer"}]}],
        "annual_reports": [{"partnership": "p", "by": "a@example.org", "year": -1,
                            "went_well": "Much.", "will_change": "Some.", "publish": True}],
    }


def test_the_smallest_annual_report_file_loads(app: Flask, tmp_path: Path) -> None:
    assert load_demo(_write(tmp_path, _report_file()))["annual reports"] == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"partnership": "nope"}, r"annual_reports\[0\]: no partnership with slug 'nope'"),
        ({"colour": "red"}, r"annual_reports\[0\]: unknown field\(s\) colour"),
        ({"publish": "yes"}, "publish should be true or false"),
        ({"went_well": ""}, "missing went_well"),
        ({"by": "b@example.org"}, "Only the partnership's officers"),
    ],
)
def test_mistakes_in_the_annual_reports_section_are_reported_clearly(
        app: Flask, tmp_path: Path, changes: dict[str, Any], message: str) -> None:
    data = _report_file()
    entry = data["annual_reports"][0]
    entry.update(changes)
    with pytest.raises(SeedError, match=message):
        load_demo(_write(tmp_path, data))
