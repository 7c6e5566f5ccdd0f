"""A forum's stored count of active members (``forums/counts.py``) stays equal to its
active memberships through every way a membership changes, and when people join and
leave at the same moment (issue 13, benchmarks: lists of forums read the count instead
of counting thousands of rows).
"""

from __future__ import annotations

from functools import partial

from sqlalchemy import func, select

from partnerships.extensions import db
from partnerships.factories import accounts, forums
from partnerships.factories import partnership as partnerships
from partnerships.forums import counts
from partnerships.forums import services as forum_services
from partnerships.forums.models import (
    Forum,
    ForumMember,
    ForumMemberStatus,
    MembershipPolicy,
)
from tests.concurrency import ROUNDS, all_at_once, form_token, make_user, signed_in_client


def active_members(forum: Forum) -> int:
    return db.session.scalar(select(func.count(ForumMember.id)).where(
        ForumMember.forum_id == forum.id, ForumMember.status == ForumMemberStatus.ACTIVE)) or 0


def stored(forum: Forum) -> int:
    return db.session.scalar(select(Forum.member_count).where(Forum.id == forum.id)) or 0


def agrees(forum: Forum, expected: int) -> None:
    db.session.flush()
    assert (stored(forum), active_members(forum)) == (expected, expected)


def test_the_count_follows_every_change_of_membership(app, make_partnership, make_user):
    convenor = make_user("Cora Convenor")
    people = [make_user(f"Person {n}") for n in range(5)]
    partnership = make_partnership()
    forum = forums.forum(partnership, "Health and wellbeing", convenors=[convenor],
                         policy=MembershipPolicy.BY_REQUEST)
    db.session.commit()
    agrees(forum, 1)  # the convenor
    # Asking does not count; approving does; declining does not.
    asked = [forum_services.join(person, forum) for person in people[:3]]
    agrees(forum, 1)
    forum_services.decide(convenor, asked[0], approve=True)
    forum_services.decide(convenor, asked[1], approve=False, reason="Not this time")
    agrees(forum, 2)
    forum_services.withdraw(people[2], forum)
    agrees(forum, 2)
    # Leaving and being removed take one away; asking again and approval add it back.
    forum_services.leave(people[0], forum)
    agrees(forum, 1)
    again = forum_services.join(people[0], forum)
    forum_services.decide(convenor, again, approve=True)
    agrees(forum, 2)
    forum_services.remove_member(convenor, again, "Spam", ban=True)
    agrees(forum, 1)
    # An invitation accepted, a convenor added, rows added by hand: all counted.
    _invitation, token = forum_services.invite(convenor, forum, people[3].email)
    forum_services.accept_invitation(people[3], token)
    agrees(forum, 2)
    forum_services.add_convenor(convenor, forum, people[4].email)
    agrees(forum, 3)
    extra = make_user("Hand Added")
    row = ForumMember(forum_id=forum.id, user_id=extra.id, status=ForumMemberStatus.ACTIVE)
    db.session.add(row)
    agrees(forum, 4)
    row.status = ForumMemberStatus.LEFT
    agrees(forum, 3)
    row.status = ForumMemberStatus.ACTIVE
    agrees(forum, 4)
    db.session.delete(row)
    agrees(forum, 3)
    db.session.commit()
    # A forum whose count went wrong (say, rows loaded in bulk) is put right by refresh.
    db.session.execute(Forum.__table__.update().values(member_count=99))
    counts.refresh(db.session.connection())
    agrees(forum, 3)


def test_the_page_and_the_partnership_page_show_the_stored_count(
        app, client, make_partnership, make_user):
    partnership = make_partnership()
    forum = forums.forum(partnership, "Open forum", policy=MembershipPolicy.OPEN,
                         convenors=[make_user("Cora Convenor")],
                         members=[make_user(f"Member {n}") for n in range(3)])
    db.session.commit()
    assert "4 members" in client.get(f"/partnerships/{partnership.slug}/").get_data(
        as_text=True)
    assert "4 members" in client.get(
        f"/partnerships/{partnership.slug}/forums/").get_data(as_text=True)
    assert stored(forum) == 4


def test_people_joining_and_leaving_at_once_are_all_counted(file_app):
    """Several join an open forum and others leave it at the same moment: each change
    moves the stored count on the database's row (never a count read first and written
    back), so none is lost."""
    joiners = [make_user(f"Joiner {i}", f"joiner{i}@example.org") for i in range(4)]
    leavers = [make_user(f"Leaver {i}", f"leaver{i}@example.org") for i in range(2)]
    partnership = partnerships.partnership("Race Together")
    convenor = accounts.user("Race Convenor", "convenor@example.org")
    db.session.commit()
    clients = [signed_in_client(file_app, person) for person in [*joiners, *leavers]]
    tokens = [form_token(client) for client in clients]

    for round_number in range(ROUNDS):
        forum = forums.forum(partnership, f"Round {round_number}", convenors=[convenor],
                             members=leavers, policy=MembershipPolicy.OPEN)
        db.session.commit()
        base = f"/partnerships/{partnership.slug}/forums/{forum.slug}"
        requests = [partial(client.post, f"{base}/join",
                            data={"csrf_token": token, "on_behalf": "me"})
                    for client, token in zip(clients[:4], tokens[:4], strict=True)]
        requests += [partial(client.post, f"{base}/leave", data={"csrf_token": token})
                     for client, token in zip(clients[4:], tokens[4:], strict=True)]
        responses = all_at_once(requests)
        assert [r.status_code for r in responses] == [303] * 6, [
            r.get_data(as_text=True)[:300] for r in responses]
        db.session.expire_all()
        assert (stored(forum), active_members(forum)) == (5, 5), f"round {round_number}"
