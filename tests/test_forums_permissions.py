"""Who may use each forum page (not the discussion pages), as a table: anonymous
visitors, signed-in people who are not members, members, banned people, convenors, an
officer of another partnership and an officer of this partnership, for a public and a
members-only forum. Refused requests change nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from partnerships.extensions import db
from partnerships.forums import services
from partnerships.forums.models import (
    Forum,
    ForumBan,
    ForumConvenor,
    ForumInvitation,
    ForumMember,
    ForumMemberStatus,
    MembershipPolicy,
    Visibility,
)
from partnerships.modelbase import utcnow
from tests.test_forums import add_forum

SIGN_IN = "/account/sign-in"
P = "/partnerships/northbridge-together"
F = P + "/forums/health-wellbeing/"
WHO = ["anonymous", "non-member", "member", "banned", "convenor", "other officer", "officer"]
INSIDERS = {"member", "convenor", "officer"}
MANAGERS = {"convenor", "officer"}

# (method, path, kind). Placeholders are filled from the world fixture.
ROUTES: list[tuple[str, str, str]] = [
    ("GET", P + "/forums/", "public"),
    ("GET", F, "public"),
    ("GET", P + "/forums/new", "create"),
    ("POST", P + "/forums/new", "create"),
    ("GET", F + "join", "self"),
    ("POST", F + "join", "self"),
    ("POST", F + "join/withdraw", "self"),
    ("POST", F + "leave", "self"),
    ("GET", F + "members", "read"),
    ("GET", F + "members/{member}/remove", "manage"),
    ("POST", F + "members/{member}/remove", "manage"),
    ("GET", F + "bans", "manage"),
    ("POST", F + "bans/{ban}/lift", "manage"),
    ("GET", F + "requests", "manage"),
    ("POST", F + "requests/{pending}/approve", "manage"),
    ("GET", F + "requests/{pending}/decline", "manage"),
    ("POST", F + "requests/{pending}/decline", "manage"),
    ("GET", F + "invitations", "manage"),
    ("POST", F + "invitations", "manage"),
    ("POST", F + "invitations/{invitation}/withdraw", "manage"),
    ("GET", F + "edit", "manage"),
    ("POST", F + "edit", "manage"),
    ("GET", F + "convenors", "manage"),
    ("POST", F + "convenors", "manage"),
    ("POST", F + "convenors/{convenor}/remove", "manage"),
    ("GET", "/invitations/{token}", "public"),
    ("POST", "/invitations/{token}", "accept"),
    ("GET", "/my/forums", "signed-in"),
]

HIJACK = {
    "name": "Hijacked", "slug": "hijacked", "purpose": "Taken over", "membership_policy": "open",
    "visibility": "public", "reason": "Because", "ban": "y", "email": "evil@example.org",
    "introduction": "Let me in", "organisation": "", "message": "",
}


def expected(kind: str, who: str, method: str, path: str, public: bool) -> int | None:
    """The status each person should get; None where it depends on their own state (the
    journeys in test_forums.py cover those) or where the action would succeed."""
    anonymous = who == "anonymous"
    if kind == "public":
        return 200
    if kind in ("self", "signed-in", "accept", "create") and anonymous:
        return 302
    if kind == "signed-in":
        return 200
    if kind == "accept":
        return 403  # the invitation was sent to someone else
    if kind == "create":
        return (200 if method == "GET" else None) if who in MANAGERS else 403
    if kind == "self":
        # Banned people are refused joining; other states are covered by the journeys.
        return 403 if who == "banned" and path.endswith("/join") else None
    readable = public or who in INSIDERS
    # A members-only forum's insides: sign in first, or the 403 page saying they are for
    # its members (the forum's own page is public).
    refused = 302 if anonymous else 403
    if kind == "read":
        return 200 if readable else refused
    # manage
    if not readable:
        return refused
    if anonymous:
        return 302
    if who in MANAGERS:
        return 200 if method == "GET" else None
    return 403


@pytest.fixture(params=[Visibility.PUBLIC, Visibility.MEMBERS], ids=["public", "members-only"])
def world(request, make_user, make_partnership, make_organisation) -> dict[str, Any]:
    officer = make_user("Olive Officer")
    other_officer = make_user("Oscar Elsewhere")
    convenor = make_user("Carla Convenor")
    co_convenor = make_user("Colin Cochair")
    member = make_user("Mo Member")
    banned = make_user("Bob Banned")
    requester = make_user("Rae Requester")
    partnership = make_partnership(officers=[officer])
    make_partnership("Eastshire Health", officers=[other_officer])
    forum = add_forum(partnership, visibility=request.param,
                      policy=MembershipPolicy.BY_REQUEST,
                      convenors=[convenor, co_convenor], members=[member])
    db.session.add(ForumMember(forum_id=forum.id, user_id=banned.id,
                               status=ForumMemberStatus.REMOVED, reason="Spam"))
    ban = ForumBan(forum_id=forum.id, user_id=banned.id, reason="Spam")
    pending = ForumMember(forum_id=forum.id, user_id=requester.id,
                          status=ForumMemberStatus.PENDING, requested_at=utcnow())
    db.session.add_all([ban, pending])
    db.session.commit()
    with request.getfixturevalue("app").test_request_context():
        invitation, token = services.invite(convenor, forum, "invitee@example.org")
        db.session.commit()
    member_row = db.session.scalar(select(ForumMember).where(ForumMember.user_id == member.id))
    co_row = db.session.scalar(select(ForumConvenor).where(ForumConvenor.user_id ==
                                                           co_convenor.id))
    return {
        "public": request.param is Visibility.PUBLIC,
        "forum": forum,
        "users": {"non-member": make_user("Nina Nonmember"), "member": member,
                  "banned": banned, "convenor": convenor, "other officer": other_officer,
                  "officer": officer},
        "ids": {"member": member_row.id, "ban": ban.id, "pending": pending.id,
                "invitation": invitation.id, "convenor": co_row.id, "token": token},
    }


def _snapshot(forum_id: int) -> tuple[Any, ...]:
    db.session.expire_all()
    forum = db.session.get(Forum, forum_id)
    statuses = tuple(db.session.execute(
        select(ForumMember.user_id, ForumMember.status).order_by(ForumMember.id)
    ).all())
    return (
        forum.name, forum.visibility, forum.membership_policy, statuses,
        db.session.scalar(select(func.count(ForumBan.id))),
        db.session.scalar(select(func.count(ForumConvenor.id))),
        db.session.scalar(select(func.count(ForumInvitation.id))),
        db.session.scalar(select(func.count(ForumInvitation.id))
                          .where(ForumInvitation.revoked_at.is_not(None))),
        db.session.scalar(select(func.count(Forum.id))),
    )


def _call(client: Any, method: str, url: str, who: str) -> Any:
    if method == "GET":
        return client.get(url)
    page = SIGN_IN if who == "anonymous" else "/account/sign-out"
    return client.submit(url, HIJACK, page=page)


@pytest.mark.parametrize("who", WHO)
def test_every_forum_route_answers_each_kind_of_person_as_it_should(client, auth, world, who):
    if who != "anonymous":
        auth.login(world["users"][who])
    before = _snapshot(world["forum"].id)
    checked = 0
    for method, template, kind in ROUTES:
        status = expected(kind, who, method, template, world["public"])
        if status is None:
            continue
        url = template.format(**world["ids"])
        response = _call(client, method, url, who)
        assert response.status_code == status, (who, method, url, kind)
        if status == 302:
            assert response.headers["Location"].startswith(SIGN_IN), (who, method, url)
        checked += 1
    assert checked >= 10
    assert _snapshot(world["forum"].id) == before, "a refused request changed something"


def test_a_member_of_a_members_only_forum_cannot_manage_it_but_can_read_it(
    client, auth, make_user, make_partnership
):
    member = make_user()
    forum = add_forum(make_partnership(), convenors=[make_user()], members=[member])
    auth.login(member)
    assert client.get(F + "members").status_code == 200
    assert client.get(F + "requests").status_code == 403
    assert forum.visibility is Visibility.MEMBERS


def test_the_permission_table_covers_every_forum_page(app):
    """A new forum route must be added to ``ROUTES`` so the table sees it (the discussion
    pages in thread_views have their own tests)."""
    covered = set()
    for _method, url, _kind in ROUTES:
        rule = (url.replace("/partnerships/northbridge-together", "/partnerships/<slug>")
                .replace("/health-wellbeing/", "/<forum_slug>/")
                .replace("{member}", "<int:member_id>").replace("{ban}", "<int:ban_id>")
                .replace("{pending}", "<int:member_id>")
                .replace("{invitation}", "<int:invitation_id>")
                .replace("{convenor}", "<int:convenor_id>").replace("{token}", "<token>"))
        covered.add(rule)
    registered = {
        rule.rule for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("forums.")
        and app.view_functions[rule.endpoint].__module__ == "partnerships.forums.views"
    }
    assert registered <= covered, registered - covered
