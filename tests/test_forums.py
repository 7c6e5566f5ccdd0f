"""Forums over HTTP: the list and the forum page, creating and editing forums, joining,
requests and decisions, invitations, members, removal and bans, convenors and "Your
forums". The permission boundaries of every route are in test_forums_permissions.py.
"""

from __future__ import annotations

import re
from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import func, select

from partnerships.accounts.models import User
from partnerships.audit import AuditEvent
from partnerships.extensions import db
from partnerships.forums.models import (
    Forum,
    ForumBan,
    ForumConvenor,
    ForumInvitation,
    ForumMember,
    ForumMemberStatus,
    MembershipPolicy,
    Post,
    Thread,
    Visibility,
)
from partnerships.modelbase import utcnow
from partnerships.organisations.models import IncomeBand, Organisation, OrgType
from partnerships.partnership.models import Partnership
from partnerships.slugs import slugify
from tests.conftest import link_in

SIGN_IN = "/account/sign-in"
FORUMS = "/partnerships/northbridge-together/forums/"
HW = FORUMS + "health-wellbeing/"
PURPOSE = "Bringing **voluntary groups** together on health.\n\nWe meet every month."

Member = User | tuple[User, Organisation | None]


def add_forum(
    partnership: Partnership,
    name: str = "Health and Wellbeing VCSE Forum",
    *,
    slug: str | None = "health-wellbeing",
    policy: MembershipPolicy = MembershipPolicy.BY_REQUEST,
    visibility: Visibility = Visibility.MEMBERS,
    convenors: list[Member] | None = None,
    members: list[Member] | None = None,
    purpose: str = PURPOSE,
    theme: str = "",
    tags: str = "",
) -> Forum:
    """A forum written straight to the database; convenors are active members too."""
    forum = Forum(
        partnership_id=partnership.id, slug=slug or slugify(name), name=name, purpose=purpose,
        membership_policy=policy, visibility=visibility, theme=theme, tags=tags,
    )
    db.session.add(forum)
    db.session.flush()

    def split(entry: Member) -> tuple[User, Organisation | None]:
        return entry if isinstance(entry, tuple) else (entry, None)

    for entry in convenors or []:
        user, org = split(entry)
        db.session.add(ForumConvenor(forum_id=forum.id, user_id=user.id,
                                     organisation_id=org.id if org else None))
        db.session.add(ForumMember(forum_id=forum.id, user_id=user.id,
                                   organisation_id=org.id if org else None,
                                   status=ForumMemberStatus.ACTIVE, decided_at=utcnow()))
    for entry in members or []:
        user, org = split(entry)
        db.session.add(ForumMember(forum_id=forum.id, user_id=user.id,
                                   organisation_id=org.id if org else None,
                                   status=ForumMemberStatus.ACTIVE, requested_at=utcnow(),
                                   decided_at=utcnow()))
    db.session.commit()
    return forum


def membership(forum_id: int, user_id: int) -> ForumMember | None:
    db.session.expire_all()
    return db.session.scalar(select(ForumMember).where(ForumMember.forum_id == forum_id,
                                                       ForumMember.user_id == user_id))


def count(model: Any) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def actions(forum_id: int) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.subject_type == "forum",
                                        AuditEvent.subject_id == forum_id)
        .order_by(AuditEvent.id)
    ))


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def make_organisation_for(name: str, org_type: OrgType) -> Organisation:
    org = Organisation(name=name, slug=slugify(name), org_type=org_type,
                       income_band=IncomeBand.OVER_100M)
    db.session.add(org)
    db.session.commit()
    return org


def _token(client: Any) -> str:
    """A CSRF token from a page with a form on it (the sign-out page)."""
    return client.csrf_token("/account/sign-out")


def _signout() -> str:
    return "/account/sign-out"


def _invite(client: Any, email: str, **extra: str) -> Any:
    return client.submit(HW + "invitations", {"email": email, "organisation": "",
                                               "message": "", **extra})


@pytest.fixture
def people(make_user, make_organisation, make_partnership) -> dict[str, Any]:
    """Northbridge: an officer, a CVS convenor, a food bank volunteer who runs her group,
    and a partnership next door with its own officer."""
    officer = make_user("Olive Officer", "olive@council.example")
    convenor = make_user("Carla Convenor", "carla@cvs.example")
    volunteer = make_user("Vera Volunteer", "volunteer@eastside-food.example.org")
    cvs = make_organisation("Northbridge CVS", org_type=OrgType.CHARITY,
                            income_band=IncomeBand.UP_TO_1M, admin=convenor)
    food_bank = make_organisation("Eastside Food Bank", admin=volunteer)
    partnership = make_partnership(officers=[officer])
    other_officer = make_user("Oscar Elsewhere", "oscar@eastshire.example")
    make_partnership("Eastshire Health", officers=[other_officer])
    return {"officer": officer, "convenor": convenor, "volunteer": volunteer, "cvs": cvs,
            "food_bank": food_bank, "partnership": partnership,
            "other_officer": other_officer}


FORM = {
    "name": "Community Safety Forum",
    "slug": "",
    "purpose": "Keeping **Northbridge** safe.\n\nOpen to all.",
    "theme": "Community safety",
    "tags": "policing, youth, Anti-social behaviour",
    "membership_policy": "open",
    "visibility": "public",
    "convene_myself": "y",
    "convenors": "",
}


# --- Creating a forum --------------------------------------------------------------------


def test_officer_creates_a_forum_with_a_co_convenor_and_lands_on_its_page(
    client, auth, people, make_user
):
    icb = make_user("Ian Icb", "ian@icb.example")
    auth.login(people["officer"])

    form = text(client.get(FORUMS + "new"))
    assert "You can use Markdown" in form
    assert 'name="convene_myself"' in form and "checked" in form

    response = client.submit(FORUMS + "new", {**FORM, "convenors": "IAN@icb.example\r\n"})

    assert response.status_code == 303
    assert response.headers["Location"] == FORUMS + "community-safety-forum/"
    forum = db.session.scalar(select(Forum))
    assert forum.name == "Community Safety Forum"
    assert forum.membership_policy is MembershipPolicy.OPEN
    assert forum.visibility is Visibility.PUBLIC
    assert forum.tag_list == ["anti-social behaviour", "policing", "youth"]
    assert [c.user_id for c in forum.convenors] == [people["officer"].id, icb.id]
    assert membership(forum.id, icb.id).status is ForumMemberStatus.ACTIVE
    assert "forum.created" in actions(forum.id)

    page = text(client.get(response.headers["Location"]))
    assert "Community Safety Forum has been created." in page
    assert "<strong>Northbridge</strong>" in page
    assert "Olive Officer" in page and "Ian Icb" in page


def test_convenor_of_another_forum_may_create_one_without_convening_it(
    client, auth, people, make_user
):
    add_forum(people["partnership"], convenors=[people["convenor"]])
    make_user("Ian Icb", "ian@icb.example")
    auth.login(people["convenor"])

    response = client.submit(FORUMS + "new", {**FORM, "slug": "safety", "convene_myself": "",
                                              "convenors": "ian@icb.example"})

    assert response.status_code == 303
    forum = db.session.scalar(select(Forum).where(Forum.slug == "safety"))
    assert [c.user.name for c in forum.convenors] == ["Ian Icb"]


@pytest.mark.parametrize(
    ("change", "message", "field_value"),
    [
        ({"name": ""}, "Enter the forum&#39;s name", None),
        ({"slug": "Not A Slug!"}, "Web address must be lower-case letters",
         'value="Not A Slug!"'),
        ({"slug": "health-wellbeing"}, "Another forum in this partnership already uses this",
         'value="health-wellbeing"'),
        ({"convenors": "nobody@example.org"},
         "There is no account with the email address nobody@example.org",
         "nobody@example.org</textarea>"),
        ({"purpose": ""}, "Enter the forum&#39;s purpose", None),
        ({"convene_myself": ""}, "A forum needs at least one convenor", None),
    ],
)
def test_create_forum_with_bad_input_keeps_what_was_typed_and_writes_nothing(
    client, auth, people, change, message, field_value
):
    add_forum(people["partnership"], convenors=[people["convenor"]])
    auth.login(people["officer"])

    response = client.submit(FORUMS + "new", {**FORM, **change})

    assert response.status_code == 422
    page = text(response)
    assert "There is a problem" in page
    assert message in page
    assert 'value="Community Safety Forum"' in page or change.get("name") == ""
    assert "Keeping **Northbridge** safe." in page or change.get("purpose") == ""
    if field_value:
        assert field_value in page
    assert count(Forum) == 1
    assert count(ForumConvenor) == 1


def test_same_web_address_is_allowed_in_another_partnership(client, auth, people):
    add_forum(people["partnership"], slug="community-safety-forum")
    auth.login(people["other_officer"])
    response = client.submit("/partnerships/eastshire-health/forums/new", FORM)
    assert response.status_code == 303
    assert count(Forum) == 2


# --- The list and the forum page ---------------------------------------------------------


def test_list_shows_purpose_tags_policy_convenors_and_member_counts(
    client, auth, people, make_user
):
    add_forum(
        people["partnership"], convenors=[(people["convenor"], people["cvs"])],
        members=[make_user(), make_user()], theme="Health", tags="carers,mental health",
    )
    add_forum(people["partnership"], "Community Safety Forum", slug="community-safety",
              policy=MembershipPolicy.OPEN, visibility=Visibility.PUBLIC,
              purpose="Safety for all.", convenors=[people["officer"]])

    page = text(client.get(FORUMS))

    assert f'href="{HW}"' in page
    assert "<strong>voluntary groups</strong>" in page
    assert "We meet every month." not in page  # only the first paragraph
    assert "By request" in page and "Members only" in page
    assert "Open" in page and "Public" in page
    assert "carers" in page and "mental health" in page and "Health" in page
    assert "Carla Convenor (Northbridge CVS)" in page
    assert "3 members" in page and "1 member." in page
    assert "Create a forum" not in page

    auth.login(people["officer"])
    assert "Create a forum" in text(client.get(FORUMS))
    auth.login(people["convenor"])
    assert "Create a forum" in text(client.get(FORUMS))
    auth.login(people["volunteer"])
    assert "Create a forum" not in text(client.get(FORUMS))


def test_unknown_partnership_or_forum_is_not_found(client, people):
    assert client.get("/partnerships/nowhere/forums/").status_code == 404
    assert client.get(FORUMS + "no-such-forum/").status_code == 404


def test_list_of_15_forums_stays_within_query_budget(
    client, auth, people, make_user, count_queries
):
    members = [make_user() for _ in range(3)]
    for n in range(15):
        add_forum(people["partnership"], f"Forum {n:02d}", slug=f"forum-{n}",
                  convenors=[(people["convenor"], people["cvs"]), (make_user(), None)],
                  members=members)
    db.session.expire_all()

    for user in (None, people["volunteer"], people["officer"], people["convenor"]):
        if user:
            auth.login(user)
        with count_queries() as log:
            response = client.get(FORUMS)
        assert response.status_code == 200
        assert text(response).count("Carla Convenor (Northbridge CVS)") == 15
        assert log.count <= 6, (user and user.name, log.statements)


def test_partnership_page_lists_forums_with_counts_and_create_link(
    client, auth, people, make_user
):
    add_forum(people["partnership"], convenors=[people["convenor"]], members=[make_user()])

    page = text(client.get("/partnerships/northbridge-together/"))
    assert "Health and Wellbeing VCSE Forum" in page
    assert f'href="{HW}"' in page
    assert f'href="{FORUMS}"' in page
    assert "2 members" in page
    assert "Members only" in page and "By request" in page
    assert "Create a forum" not in page

    auth.login(people["officer"])
    assert f'href="{FORUMS}new"' in text(client.get("/partnerships/northbridge-together/"))


def test_public_forum_page_shows_purpose_convenors_and_members_link(
    client, people, make_user
):
    icb = make_organisation_for("Northbridge ICB", OrgType.NHS_BODY)
    co = make_user("Colin Cochair")
    add_forum(people["partnership"], visibility=Visibility.PUBLIC,
              convenors=[(people["convenor"], people["cvs"]), (co, icb)],
              members=[make_user("Mo Member")])

    response = client.get(HW)

    assert response.status_code == 200
    page = text(response)
    assert "<strong>voluntary groups</strong>" in page and "We meet every month." in page
    assert "Carla Convenor" in page and "Northbridge CVS" in page
    assert "Voluntary, community and social enterprise" in page
    assert "Colin Cochair" in page and "Northbridge ICB" in page and "Public sector" in page
    assert "3 members" in page
    assert f'href="{HW}members"' in page
    assert f"/account/sign-in?next={HW}" in page
    assert "Create an account" in page
    assert "carla@cvs.example" not in page


def test_members_only_forum_page_shows_only_name_purpose_convenors_and_how_to_join(
    client, auth, people, make_user
):
    add_forum(people["partnership"], convenors=[people["convenor"]],
              members=[make_user("Secret Sam")])

    for user in (None, people["volunteer"], people["other_officer"]):
        if user:
            auth.login(user)
        page = text(client.get(HW))
        assert "Health and Wellbeing VCSE Forum" in page
        assert "<strong>voluntary groups</strong>" in page
        assert "Carla Convenor" in page
        assert "Secret Sam" not in page
        assert "2 members" not in page
        assert f'href="{HW}members"' not in page
        assert "Only members can see who belongs to this forum" in page

    auth.login(people["volunteer"])
    page = text(client.get(HW))
    assert f'href="{HW}join"' in page and "Ask to join" in page


def test_forum_page_offers_the_right_call_to_action(client, auth, people, make_user):
    add_forum(people["partnership"], "Open Forum", slug="open",
              policy=MembershipPolicy.OPEN, convenors=[people["convenor"]])
    add_forum(people["partnership"], "Invited Forum", slug="invited",
              policy=MembershipPolicy.BY_INVITATION, convenors=[people["convenor"]])
    auth.login(people["volunteer"])

    page = text(client.get(FORUMS + "open/"))
    assert f'action="{FORUMS}open/join"' in page and "Join this forum" in page
    assert "Join on behalf of an organisation you run" in page  # she runs the food bank

    page = text(client.get(FORUMS + "invited/"))
    assert "Ask a convenor to invite you" in page
    assert f"{FORUMS}invited/join" not in page

    auth.login(make_user("No Org"))
    page = text(client.get(FORUMS + "open/"))
    assert "Join on behalf of an organisation you run" not in page


def test_managers_see_links_to_run_the_forum_with_the_pending_count(
    client, auth, people, make_user
):
    forum = add_forum(people["partnership"], convenors=[people["convenor"]])
    db.session.add(ForumMember(forum_id=forum.id, user_id=make_user().id,
                               status=ForumMemberStatus.PENDING, requested_at=utcnow()))
    db.session.commit()

    for user in (people["convenor"], people["officer"], make_user(site_admin=True)):
        auth.login(user)
        page = text(client.get(HW))
        assert "You run this forum" in page
        assert "(1 waiting for a decision)" in page
        for link in ("requests", "members", "invitations", "bans", "edit", "convenors",
                     "requests#history"):
            assert f'href="{HW}{link}"' in page, (user.name, link)

    auth.login(people["volunteer"])
    assert "You run this forum" not in text(client.get(HW))


def test_forum_page_with_discussions_stays_within_query_budget(
    client, auth, people, make_user, count_queries
):
    members = [make_user() for _ in range(5)]
    forum = add_forum(people["partnership"], convenors=[(people["convenor"], people["cvs"])],
                      members=members)
    for n in range(30):
        thread = Thread(forum_id=forum.id, title=f"Thread {n}", author_id=members[n % 5].id,
                        last_post_at=utcnow(), pinned=n == 3)
        db.session.add(thread)
        db.session.flush()
        post = Post(thread_id=thread.id, author_id=thread.author_id, body="Hello")
        db.session.add(post)
        db.session.flush()
        thread.last_post_id = post.id
    db.session.commit()

    for user in (None, members[0], people["convenor"], people["officer"],
                 people["volunteer"]):
        auth.logout()
        if user:
            auth.login(user)
        with count_queries() as log:
            response = client.get(HW)
        assert response.status_code == 200
        assert log.count <= 12, (user and user.name, log.statements)


# --- Joining -----------------------------------------------------------------------------


def test_joining_an_open_forum_is_immediate(client, auth, people):
    forum = add_forum(people["partnership"], "Community Safety Forum",
                      slug="community-safety", policy=MembershipPolicy.OPEN,
                      visibility=Visibility.PUBLIC, convenors=[people["convenor"]])
    auth.login(people["volunteer"])

    response = client.submit(FORUMS + "community-safety/join", {},
                             page=FORUMS + "community-safety/")

    assert response.status_code == 303
    row = membership(forum.id, people["volunteer"].id)
    assert row.status is ForumMemberStatus.ACTIVE
    assert row.organisation_id is None
    assert actions(forum.id) == ["forum.member_joined"]
    page = text(client.get(FORUMS + "community-safety/"))
    assert "You are now a member of Community Safety Forum." in page
    assert "You are a member of this forum" in page
    assert "Leave this forum" in page


def test_joining_an_open_forum_for_an_organisation_you_run(client, auth, people):
    forum = add_forum(people["partnership"], "Open", slug="open",
                      policy=MembershipPolicy.OPEN, convenors=[people["convenor"]])
    auth.login(people["volunteer"])

    page = text(client.get(FORUMS + "open/join"))
    assert "Me, representing Eastside Food Bank" in page
    assert "Introduce yourself" not in page

    client.submit(FORUMS + "open/join", {"on_behalf": str(people["food_bank"].id)})

    assert membership(forum.id, people["volunteer"].id).organisation_id == \
        people["food_bank"].id


def test_request_journey_convenor_emailed_approves_and_requester_can_see_members(
    client, auth, people, outbox, make_user
):
    co = make_user("Colin Cochair", "colin@icb.example")
    forum = add_forum(people["partnership"], convenors=[people["convenor"], co],
                      members=[make_user("Mo Member", "mo@example.org")])
    volunteer = people["volunteer"]
    auth.login(volunteer)

    form = text(client.get(HW + "join"))
    assert "Just me" in form and "Me, representing Eastside Food Bank" in form
    assert 'data-maxlength="500"' in form  # the character count
    response = client.submit(HW + "join", {
        "on_behalf": str(people["food_bank"].id),
        "introduction": "We run a food bank on Tuesdays and see a lot of carers.",
    })

    assert response.status_code == 303
    assert response.headers["Location"] == HW
    row = membership(forum.id, volunteer.id)
    assert row.status is ForumMemberStatus.PENDING
    assert row.organisation_id == people["food_bank"].id
    page = text(client.get(HW))
    assert "You have asked to join" in page
    assert "You asked on" in page and "Withdraw your request" in page
    assert client.get(HW + "members").status_code == 403  # still not a member

    for address in ("carla@cvs.example", "colin@icb.example"):
        [email] = outbox(to=address)
        assert email.subject == "Vera Volunteer has asked to join Health and Wellbeing VCSE Forum"
        assert "Eastside Food Bank" in email.body
        assert "We run a food bank on Tuesdays" in email.body
        assert "small" in email.body
        assert link_in(email) == HW + "requests"

    auth.login(people["convenor"])
    requests = text(client.get(HW + "requests"))
    assert "Vera Volunteer" in requests and "representing Eastside Food Bank" in requests
    assert "Unincorporated community group" in requests
    assert ">\n  Small\n<" in requests
    assert "£10,000 or less \N{EN DASH} small" in requests
    assert "We run a food bank on Tuesdays" in requests
    assert "Asked to join" in requests  # the history

    response = client.submit(HW + f"requests/{row.id}/approve", {}, page=HW + "requests")

    assert response.status_code == 303
    row = membership(forum.id, volunteer.id)
    assert row.status is ForumMemberStatus.ACTIVE
    assert row.decided_by_id == people["convenor"].id
    [email] = outbox(to=volunteer.email)
    assert "has been approved" in email.body
    assert link_in(email) == HW
    history = text(client.get(HW + "requests"))
    assert "Approved a request to join" in history and "Carla Convenor" in history

    auth.login(volunteer)
    members = text(client.get(HW + "members"))
    assert "Eastside Food Bank" in members and "Vera Volunteer" in members
    assert "Mo Member" in members
    assert "mo@example.org" in members  # members see each other's email addresses


def test_decline_with_reason_is_shown_to_the_requester_and_managers_only(
    client, auth, people, outbox, make_user
):
    forum = add_forum(people["partnership"], visibility=Visibility.PUBLIC,
                      convenors=[people["convenor"]], members=[make_user("Mo Member")])
    auth.login(people["volunteer"])
    client.submit(HW + "join", {"introduction": "Hello"})
    row = membership(forum.id, people["volunteer"].id)

    auth.login(people["convenor"])
    page = text(client.get(HW + f"requests/{row.id}/decline"))
    assert "Reason for declining" in page
    response = client.submit(HW + f"requests/{row.id}/decline",
                             {"reason": "This forum is for health charities only."})
    assert response.status_code == 303
    assert membership(forum.id, people["volunteer"].id).status is ForumMemberStatus.DECLINED
    [email] = outbox(to=people["volunteer"].email)
    assert "declined" in email.body
    assert "This forum is for health charities only." in email.body
    assert "Declined a request to join" in text(client.get(HW + "requests"))
    assert "This forum is for health charities only." in text(client.get(HW + "requests"))

    auth.login(people["volunteer"])
    mine = text(client.get("/my/forums"))
    assert "your request was declined" in mine
    assert "This forum is for health charities only." in mine
    assert "This forum is for health charities only." in text(client.get(HW))

    auth.login(make_user("Mo Two"))
    for path in (HW, HW + "members"):
        assert "This forum is for health charities only." not in text(client.get(path))
    auth.logout()
    for path in (HW, HW + "members"):
        assert "This forum is for health charities only." not in text(client.get(path))


def test_decline_without_reason_is_refused_and_nothing_changes(client, auth, people, outbox):
    forum = add_forum(people["partnership"], convenors=[people["convenor"]])
    auth.login(people["volunteer"])
    client.submit(HW + "join", {"introduction": "Hello"})
    row = membership(forum.id, people["volunteer"].id)
    before = len(outbox())

    auth.login(people["convenor"])
    response = client.submit(HW + f"requests/{row.id}/decline", {"reason": "   "})

    assert response.status_code == 422
    assert "Enter a reason for declining" in text(response)
    assert membership(forum.id, people["volunteer"].id).status is ForumMemberStatus.PENDING
    assert len(outbox()) == before


def test_deciding_an_already_decided_request_is_a_conflict(client, auth, people, outbox):
    forum = add_forum(people["partnership"], convenors=[people["convenor"], people["officer"]])
    auth.login(people["volunteer"])
    client.submit(HW + "join", {})
    row = membership(forum.id, people["volunteer"].id)
    auth.login(people["convenor"])
    client.submit(HW + f"requests/{row.id}/approve", {}, page=HW + "requests")
    emails = len(outbox())

    auth.login(people["officer"])  # someone else got there first
    response = client.submit(HW + f"requests/{row.id}/approve", {}, page=_signout())
    assert response.status_code == 409
    assert "already been decided" in text(response)
    response = client.submit(HW + f"requests/{row.id}/decline", {"reason": "No"},
                             page=_signout())
    assert response.status_code == 409
    assert client.get(HW + f"requests/{row.id}/decline").status_code == 409
    assert membership(forum.id, people["volunteer"].id).status is ForumMemberStatus.ACTIVE
    assert len(outbox()) == emails
    assert actions(forum.id).count("forum.member_approved") == 1


def test_asking_twice_explains_and_writes_nothing_twice(client, auth, people, outbox):
    forum = add_forum(people["partnership"], convenors=[people["convenor"]])
    auth.login(people["volunteer"])
    token_page = HW + "join"
    client.submit(HW + "join", {"introduction": "First"}, page=token_page)
    emails = len(outbox())

    response = client.post(HW + "join", data={"introduction": "Second",
                                              "csrf_token": _token(client)})

    assert response.status_code == 303
    page = text(client.get(response.headers["Location"]))
    assert "You have already asked to join Health and Wellbeing VCSE Forum" in page
    assert membership(forum.id, people["volunteer"].id).introduction == "First"
    assert len(outbox()) == emails
    assert actions(forum.id) == ["forum.member_requested"]
    # The join form itself also sends them back with the same explanation.
    assert client.get(HW + "join").status_code == 303


def test_oversized_introduction_is_refused_keeping_what_was_typed(client, auth, people):
    forum = add_forum(people["partnership"], convenors=[people["convenor"]])
    auth.login(people["volunteer"])
    typed = "x" * 501

    response = client.submit(HW + "join", {"introduction": typed,
                                           "on_behalf": str(people["food_bank"].id)})

    assert response.status_code == 422
    page = text(response)
    assert "Your introduction must be 500 characters or fewer" in page
    assert typed in page
    assert membership(forum.id, people["volunteer"].id) is None


def test_joining_for_an_organisation_you_do_not_run_is_refused(client, auth, people):
    forum = add_forum(people["partnership"], convenors=[people["convenor"]])
    auth.login(people["volunteer"])
    response = client.submit(HW + "join", {"on_behalf": str(people["cvs"].id)})
    assert response.status_code == 422
    assert "Select who is joining" in text(response)
    assert membership(forum.id, people["volunteer"].id) is None


def test_unconfirmed_account_is_asked_to_confirm_first(client, auth, people, make_user):
    forum = add_forum(people["partnership"], convenors=[people["convenor"]])
    newcomer = make_user("New Person", confirmed=False)
    auth.login(newcomer)

    response = client.get(HW + "join")
    assert response.status_code == 403
    assert "Confirm your email address first" in text(response)
    response = client.submit(HW + "join", {}, page="/account/sign-out")
    assert response.status_code == 403
    assert membership(forum.id, newcomer.id) is None


def test_by_invitation_forum_cannot_be_joined_directly(client, auth, people):
    forum = add_forum(people["partnership"], policy=MembershipPolicy.BY_INVITATION,
                      convenors=[people["convenor"]])
    auth.login(people["volunteer"])
    response = client.get(HW + "join")
    assert response.status_code == 403
    assert "by invitation only" in text(response)
    assert client.submit(HW + "join", {}, page=_signout()).status_code == 403
    assert membership(forum.id, people["volunteer"].id) is None


def test_withdrawing_a_request(client, auth, people):
    forum = add_forum(people["partnership"], convenors=[people["convenor"]])
    auth.login(people["volunteer"])
    client.submit(HW + "join", {"introduction": "Hello"})

    response = client.submit(HW + "join/withdraw", {}, page=HW)

    assert response.status_code == 303
    assert membership(forum.id, people["volunteer"].id).status is ForumMemberStatus.WITHDRAWN
    page = text(client.get(HW))
    assert "You have withdrawn your request" in page
    assert "Ask to join" in page
    # Nothing left to withdraw.
    assert client.submit(HW + "join/withdraw", {}, page=_signout()).status_code == 409
    # They can ask again.
    assert client.submit(HW + "join", {"introduction": "Again"}).status_code == 303
    assert membership(forum.id, people["volunteer"].id).status is ForumMemberStatus.PENDING


def test_leaving_a_forum(client, auth, people):
    forum = add_forum(people["partnership"], convenors=[people["convenor"]],
                      members=[people["volunteer"]])
    auth.login(people["volunteer"])

    response = client.submit(HW + "leave", {}, page=HW)

    assert response.status_code == 303
    assert membership(forum.id, people["volunteer"].id).status is ForumMemberStatus.LEFT
    assert "You have left Health and Wellbeing VCSE Forum." in text(client.get(HW))
    assert client.get(HW + "members").status_code == 403
    assert "forum.member_left" in actions(forum.id)


def test_a_convenor_cannot_leave_without_handing_over(client, auth, people):
    forum = add_forum(people["partnership"], convenors=[people["convenor"]])
    auth.login(people["convenor"])
    assert "Leave this forum" not in text(client.get(HW))

    response = client.submit(HW + "leave", {}, page=_signout())

    assert response.status_code == 422
    assert "You convene this forum" in text(response)
    assert membership(forum.id, people["convenor"].id).status is ForumMemberStatus.ACTIVE


# --- Members, removal and bans -----------------------------------------------------------


def test_member_list_groups_organisations_and_shows_emails_only_to_members(
    client, auth, people, make_user
):
    rep = make_user("Rita Rep", "rita@foodbank.example")
    loner = make_user("Lou Loner", "lou@example.org")
    add_forum(people["partnership"], visibility=Visibility.PUBLIC,
              convenors=[(people["convenor"], people["cvs"])],
              members=[(rep, people["food_bank"]), loner])

    public = text(client.get(HW + "members"))
    assert "Eastside Food Bank" in public and "Rita Rep" in public
    assert public.index("Eastside Food Bank") < public.index("Rita Rep")
    assert "Northbridge CVS" in public and "Carla Convenor" in public
    assert "People taking part as themselves" in public and "Lou Loner" in public
    assert "Small" in public
    for address in ("rita@foodbank.example", "lou@example.org", "carla@cvs.example"):
        assert address not in public
    assert "Remove" not in public

    auth.login(people["volunteer"])  # signed in, not a member
    assert "rita@foodbank.example" not in text(client.get(HW + "members"))

    auth.login(loner)
    page = text(client.get(HW + "members"))
    assert "rita@foodbank.example" in page and "carla@cvs.example" in page
    assert "/remove" not in page

    auth.login(people["convenor"])
    page = text(client.get(HW + "members"))
    assert "rita@foodbank.example" in page
    assert page.count("/remove") == 4  # Remove and Ban for Rita and Lou, not the convenor


def test_member_list_of_120_is_paginated_within_query_budget(
    client, auth, people, make_user, count_queries
):
    orgs = [make_organisation_for(f"Org {n:02d}", OrgType.CHARITY) for n in range(10)]
    members: list[Member] = [(make_user(f"Person {n:03d}"), orgs[n % 10] if n % 3 else None)
                             for n in range(119)]
    add_forum(people["partnership"], visibility=Visibility.PUBLIC,
              convenors=[people["convenor"]], members=members)
    db.session.expire_all()

    for user in (None, members[0][0], people["convenor"], people["officer"]):
        auth.logout()
        if user:
            auth.login(user)
        with count_queries() as log:
            response = client.get(HW + "members")
        assert response.status_code == 200
        page = text(response)
        assert "120 members" in page
        assert f'href="{HW}members?page=3"' in page
        assert log.count <= 8, (user and user.name, log.statements)

    page3 = text(client.get(HW + "members?page=3"))
    assert page3.count("<li>") >= 20


def test_removing_a_member_with_a_reason_takes_access_away_at_once(
    client, auth, people, outbox
):
    forum = add_forum(people["partnership"], convenors=[people["convenor"]],
                      members=[people["volunteer"]])
    row = membership(forum.id, people["volunteer"].id)
    # The member is signed in, in their own browser.
    member_client = client.application.test_client()
    with member_client.session_transaction() as session:
        session["_user_id"] = people["volunteer"].get_id()
        session["_fresh"] = True
    assert member_client.get(HW + "members").status_code == 200

    auth.login(people["convenor"])
    page = text(client.get(HW + f"members/{row.id}/remove"))
    assert "Also ban them from rejoining" in page
    response = client.submit(HW + f"members/{row.id}/remove",
                             {"reason": "Repeated abusive posts."})

    assert response.status_code == 303
    assert membership(forum.id, people["volunteer"].id).status is ForumMemberStatus.REMOVED
    assert count(ForumBan) == 0
    [email] = outbox(to=people["volunteer"].email)
    assert "Repeated abusive posts." in email.body
    assert member_client.get(HW + "members").status_code == 403
    history = text(client.get(HW + "requests"))
    assert "Removed a member" in history and "Repeated abusive posts." in history


def test_remove_without_a_reason_is_refused(client, auth, people):
    forum = add_forum(people["partnership"], convenors=[people["convenor"]],
                      members=[people["volunteer"]])
    row = membership(forum.id, people["volunteer"].id)
    auth.login(people["convenor"])

    response = client.submit(HW + f"members/{row.id}/remove", {"reason": "", "ban": "y"})

    assert response.status_code == 422
    assert "Enter a reason" in text(response)
    assert 'name="ban"' in text(response) and "checked" in text(response)
    assert membership(forum.id, people["volunteer"].id).status is ForumMemberStatus.ACTIVE
    assert count(ForumBan) == 0


def test_a_banned_person_cannot_rejoin_until_the_ban_is_lifted(client, auth, people, outbox):
    forum = add_forum(people["partnership"], policy=MembershipPolicy.OPEN,
                      convenors=[people["convenor"]], members=[people["volunteer"]])
    row = membership(forum.id, people["volunteer"].id)
    auth.login(people["convenor"])
    assert "checked" in text(client.get(HW + f"members/{row.id}/remove?ban=1"))

    client.submit(HW + f"members/{row.id}/remove", {"reason": "Spam.", "ban": "y"})

    [ban] = db.session.scalars(select(ForumBan)).all()
    assert ban.user_id == people["volunteer"].id and ban.reason == "Spam."
    [email] = outbox(to=people["volunteer"].email)
    assert "barred you from rejoining" in email.body
    bans_page = text(client.get(HW + "bans"))
    assert "Vera Volunteer" in bans_page and "Spam." in bans_page

    auth.login(people["volunteer"])
    page = text(client.get(HW))
    assert "A convenor has barred you from this forum" in page
    assert "Join this forum" not in page
    response = client.submit(HW + "join", {}, page=_signout())
    assert response.status_code == 403
    assert "barred you" in text(response)
    assert client.get(HW + "join").status_code == 403
    assert membership(forum.id, people["volunteer"].id).status is ForumMemberStatus.REMOVED

    auth.login(people["convenor"])
    response = client.submit(HW + f"bans/{ban.id}/lift", {}, page=HW + "bans")
    assert response.status_code == 303
    assert count(ForumBan) == 0
    assert "Lifted a ban" in text(client.get(HW + "requests"))

    auth.login(people["volunteer"])
    assert client.submit(HW + "join", {}, page=HW).status_code == 303
    assert membership(forum.id, people["volunteer"].id).status is ForumMemberStatus.ACTIVE


# --- Invitations -------------------------------------------------------------------------


def test_invitation_journey_existing_account_accepts_once(client, auth, people, outbox):
    forum = add_forum(people["partnership"], policy=MembershipPolicy.BY_INVITATION,
                      convenors=[people["convenor"]])
    auth.login(people["convenor"])

    response = _invite(client, "Volunteer@Eastside-Food.example.org",
                       organisation=str(people["food_bank"].id),
                       message="We would love the food bank's voice.")

    assert response.status_code == 303
    page = text(client.get(HW + "invitations"))
    assert "We have emailed an invitation to volunteer@eastside-food.example.org" in page
    assert "Eastside Food Bank" in page
    [email] = outbox(to="volunteer@eastside-food.example.org")
    assert "We would love the food bank&#39;s voice." not in email.body
    assert "We would love the food bank's voice." in email.body
    link = link_in(email)
    assert link.startswith("/invitations/")

    auth.logout()
    page = text(client.get(link))
    assert "You are invited to join Health and Wellbeing VCSE Forum" in page
    assert "Sign in to accept" in page
    assert f"/account/sign-in?next={link}" in page

    auth.login(people["volunteer"])
    page = text(client.get(link))
    assert "Accept invitation" in page
    response = client.submit(link, {})

    assert response.status_code == 303
    assert response.headers["Location"] == HW
    row = membership(forum.id, people["volunteer"].id)
    assert row.status is ForumMemberStatus.ACTIVE
    assert row.organisation_id == people["food_bank"].id
    assert "You are now a member" in text(client.get(HW))

    # The link works once.
    again = client.get(link)
    assert again.status_code == 409
    assert "already been used" in text(again)
    assert client.submit(link, {}, page=_signout()).status_code == 409


def test_invitation_for_someone_without_an_account_explains_how_to_register(
    client, auth, people, outbox
):
    add_forum(people["partnership"], convenors=[people["convenor"]])
    auth.login(people["convenor"])
    _invite(client, "newbie@example.org")
    link = link_in(outbox(to="newbie@example.org")[0])
    auth.logout()

    page = text(client.get(link))

    assert "Create an account with newbie@example.org" in page
    assert "come straight back here" in page
    assert "/account/register?" in page

    # Registering from that link comes straight back to the invitation, then accepts it.
    register = page.split('href="/account/register?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    form_page = text(client.get("/account/register?" + register))
    assert 'value="newbie@example.org"' in form_page
    response = client.submit("/account/register?" + register,
                             {"name": "Nia Newbie", "email": "newbie@example.org",
                              "password": "maple lantern orbit 42"})
    assert response.status_code == 303
    # Registering signs in only once the emailed link is followed; that link then
    # comes back to the invitation.
    confirmation = link_in(outbox(to="newbie@example.org")[-1])
    assert client.get(confirmation).headers["Location"] == link
    accepted = client.submit(link, {})
    assert accepted.status_code == 303


def test_invitation_accepted_by_another_account_is_refused(client, auth, people, outbox):
    forum = add_forum(people["partnership"], convenors=[people["convenor"]])
    auth.login(people["convenor"])
    _invite(client, "volunteer@eastside-food.example.org")
    link = link_in(outbox(to="volunteer@eastside-food.example.org")[0])

    auth.login(people["officer"])
    assert "but you are signed in as olive@council.example" in text(client.get(link))
    response = client.submit(link, {}, page=_signout())

    assert response.status_code == 403
    assert "This invitation was sent to volunteer@eastside-food.example.org" in text(response)
    assert membership(forum.id, people["officer"].id) is None
    db.session.expire_all()
    assert db.session.scalar(select(ForumInvitation)).accepted_at is None


def test_expired_withdrawn_and_unknown_invitation_links(client, auth, people, outbox):
    add_forum(people["partnership"], convenors=[people["convenor"]])
    auth.login(people["convenor"])
    _invite(client, "volunteer@eastside-food.example.org")
    link = link_in(outbox(to="volunteer@eastside-food.example.org")[0])
    invitation = db.session.scalar(select(ForumInvitation))
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    auth.login(people["volunteer"])
    response = client.get(link)
    assert response.status_code == 409
    assert "has expired" in text(response)
    assert client.submit(link, {}, page=_signout()).status_code == 409

    assert client.get("/invitations/not-a-real-token").status_code == 404

    # A convenor withdraws a fresh invitation: its link stops working.
    auth.login(people["convenor"])
    _invite(client, "volunteer@eastside-food.example.org")
    fresh = link_in(outbox(to="volunteer@eastside-food.example.org")[-1])
    open_invitation = db.session.scalar(
        select(ForumInvitation).where(ForumInvitation.revoked_at.is_(None))
        .order_by(ForumInvitation.id.desc())
    )
    page = text(client.get(HW + "invitations"))
    assert "volunteer@eastside-food.example.org" in page
    response = client.submit(HW + f"invitations/{open_invitation.id}/withdraw", {},
                             page=HW + "invitations")
    assert response.status_code == 303
    assert "There are no open invitations." in text(client.get(HW + "invitations"))
    auth.login(people["volunteer"])
    assert client.get(fresh).status_code == 409


def test_invite_with_bad_email_is_refused_keeping_what_was_typed(client, auth, people):
    add_forum(people["partnership"], convenors=[people["convenor"]],
              members=[people["volunteer"]])
    auth.login(people["convenor"])

    response = _invite(client, "not-an-email", message="Come along")
    assert response.status_code == 422
    assert "Enter an email address in the correct format" in text(response)
    assert 'value="not-an-email"' in text(response) and "Come along" in text(response)

    response = _invite(client, "volunteer@eastside-food.example.org")
    assert response.status_code == 422
    assert "Vera Volunteer is already a member of this forum" in text(response)
    assert count(ForumInvitation) == 0


# --- Editing and convenors ---------------------------------------------------------------


def test_convenor_edits_the_forum(client, auth, people):
    forum = add_forum(people["partnership"], convenors=[people["convenor"]],
                      tags="carers,health")
    auth.login(people["convenor"])

    page = text(client.get(HW + "edit"))
    assert 'value="carers, health"' in page
    assert "I will convene this forum" not in page
    response = client.submit(HW + "edit", {
        **FORM, "name": "Health Forum", "slug": "health-wellbeing", "tags": "carers",
        "membership_policy": "open", "visibility": "public",
    })

    assert response.status_code == 303
    db.session.expire_all()
    forum = db.session.get(Forum, forum.id)
    assert forum.name == "Health Forum"
    assert forum.membership_policy is MembershipPolicy.OPEN
    assert forum.tags == "carers"
    assert "forum.updated" in actions(forum.id)


def test_edit_with_bad_input_keeps_what_was_typed(client, auth, people):
    forum = add_forum(people["partnership"], convenors=[people["convenor"]])
    auth.login(people["convenor"])

    response = client.submit(HW + "edit", {**FORM, "name": "", "slug": "health-wellbeing",
                                           "theme": "Typed theme"})

    assert response.status_code == 422
    assert "Enter the forum&#39;s name" in text(response)
    assert 'value="Typed theme"' in text(response)
    db.session.expire_all()
    assert db.session.get(Forum, forum.id).name == "Health and Wellbeing VCSE Forum"


def test_convenors_are_added_by_email_and_removed_but_never_the_last(
    client, auth, people, make_user
):
    forum = add_forum(people["partnership"], convenors=[people["convenor"]])
    make_user("Ian Icb", "ian@icb.example")
    auth.login(people["convenor"])

    response = client.submit(HW + "convenors", {"email": "nobody@example.org"})
    assert response.status_code == 422
    assert "There is no account with the email address nobody@example.org" in text(response)
    assert 'value="nobody@example.org"' in text(response)

    response = client.submit(HW + "convenors", {"email": "ian@icb.example"})
    assert response.status_code == 303
    page = text(client.get(HW + "convenors"))
    assert "Ian Icb is now a convenor" in page
    db.session.expire_all()
    convenors = db.session.scalars(select(ForumConvenor).order_by(ForumConvenor.id)).all()
    assert [c.user.name for c in convenors] == ["Carla Convenor", "Ian Icb"]

    response = client.submit(HW + f"convenors/{convenors[1].id}/remove", {},
                             page=HW + "convenors")
    assert response.status_code == 303
    assert count(ForumConvenor) == 1

    response = client.submit(HW + f"convenors/{convenors[0].id}/remove", {},
                             page=HW + "convenors")
    assert response.status_code == 422
    assert "A forum needs at least one convenor" in text(response)
    assert count(ForumConvenor) == 1
    assert forum.id


# --- Your forums -------------------------------------------------------------------------


def test_my_forums_lists_memberships_requests_convened_forums_and_decisions(
    client, auth, people, make_user
):
    add_forum(people["partnership"], convenors=[people["convenor"]])
    add_forum(people["partnership"], "Community Safety Forum",
                      slug="community-safety", convenors=[people["officer"]],
                      members=[(people["volunteer"], people["food_bank"])])
    youth = add_forum(people["partnership"], "Youth Forum", slug="youth",
                      convenors=[people["officer"]])
    auth.login(people["volunteer"])
    client.submit(HW + "join", {"introduction": "Hello"})
    client.submit(FORUMS + "youth/join", {"introduction": "Hi"})
    auth.login(people["officer"])
    youth_row = membership(youth.id, people["volunteer"].id)
    client.submit(FORUMS + f"youth/requests/{youth_row.id}/decline",
                  {"reason": "Under-25s only."})

    auth.login(people["volunteer"])
    page = text(client.get("/my/forums"))
    assert "Community Safety Forum" in page and "representing Eastside Food Bank" in page
    assert "Health and Wellbeing VCSE Forum" in page and "you asked on" in page
    assert f'action="{HW}join/withdraw"' in page
    assert "Under-25s only." in page

    response = client.submit(HW + "join/withdraw", {"next": "/my/forums"}, page="/my/forums")
    assert response.headers["Location"] == "/my/forums"

    auth.login(people["officer"])
    page = text(client.get("/my/forums"))
    assert "Forums you convene" in page
    assert f'href="{FORUMS}community-safety/requests"' in page
    assert "0 requests waiting" in page


def test_my_forums_needs_sign_in(client):
    response = client.get("/my/forums")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(SIGN_IN)


def test_my_forums_lists_unread_discussions(client, auth, people, make_user, app):
    if "forums.thread" not in app.view_functions:
        pytest.skip("the discussion pages (forums.thread) are not built yet")
    forum = add_forum(people["partnership"], convenors=[people["convenor"]],
                      members=[people["volunteer"]])
    row = membership(forum.id, people["volunteer"].id)
    row.decided_at = utcnow() - timedelta(days=1)
    thread = Thread(forum_id=forum.id, title="Winter pressures", author_id=people["convenor"].id,
                    last_post_at=utcnow())
    db.session.add(thread)
    db.session.flush()
    post = Post(thread_id=thread.id, author_id=people["convenor"].id, body="Thoughts?")
    db.session.add(post)
    db.session.flush()
    thread.last_post_id = post.id
    db.session.commit()
    auth.login(people["volunteer"])

    page = text(client.get("/my/forums"))

    assert "Winter pressures" in page
    assert f'href="{HW}threads/{thread.id}"' in page


# --- Page structure ----------------------------------------------------------------------

HEADING_RE = re.compile(r"<h([1-6])\b")


def test_forum_pages_have_one_h1_headings_in_order_and_no_inline_style(
    client, auth, people, outbox
):
    forum = add_forum(people["partnership"], visibility=Visibility.PUBLIC,
                      convenors=[people["convenor"]], members=[people["volunteer"]])
    row = membership(forum.id, people["volunteer"].id)
    auth.login(people["convenor"])
    _invite(client, "newbie@example.org")
    link = link_in(outbox(to="newbie@example.org")[0])
    db.session.add(ForumMember(forum_id=forum.id, user_id=people["officer"].id,
                               status=ForumMemberStatus.PENDING, requested_at=utcnow()))
    db.session.commit()
    pending = membership(forum.id, people["officer"].id)
    pages = [FORUMS, FORUMS + "new", HW, HW + "members", HW + f"members/{row.id}/remove",
             HW + "bans", HW + "requests", HW + f"requests/{pending.id}/decline",
             HW + "invitations", HW + "edit", HW + "convenors", "/my/forums", link,
             "/partnerships/northbridge-together/"]
    for path in pages:
        _check_structure(client, path)
    auth.login(people["other_officer"])
    _check_structure(client, HW + "join")
    auth.logout()
    _check_structure(client, link)


def _check_structure(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, path
    page = text(response)
    main = page[page.index('id="main-content"'):page.index("</main>")]
    levels = [int(level) for level in HEADING_RE.findall(main)]
    levels = levels[levels.index(1):]  # a notification banner's title may come first
    assert levels.count(1) == 1, (path, levels)
    for before, after in pairwise(levels):
        assert after <= before + 1, (path, levels)
    assert not re.search(r"\sstyle=", page), path
    assert not re.search(r"\son[a-z]+=", page), path
