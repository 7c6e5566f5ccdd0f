"""Authors delete their own posts (issue 14): a reply keeps its place, shown as deleted
by its author with its text erased; a discussion with no replies goes altogether when
its author deletes its opening post. Nobody else may delete a post, and nothing of a
deleted post's text is left on the page or in the database."""

from __future__ import annotations

from sqlalchemy import select

from partnerships.audit import AuditEvent
from partnerships.extensions import db
from partnerships.forums.models import Post, Thread
from partnerships.modelbase import utcnow
from tests import test_forum_discussions as discussions_tests
from tests.test_forum_discussions import (
    assert_sign_in,
    count,
    fresh,
    html,
    make_thread,
    post,
    posts_of,
)

world = discussions_tests.world  # the same cast of people and forums


def _events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_an_author_deletes_their_reply_and_it_shows_as_deleted(client, auth, world):
    thread = make_thread(world.public, world.other_member, replies=[
        (world.member, "My phone number is 07700 900123"), (world.other_member, "Thanks")])
    reply = posts_of(thread)[1]
    url = world.thread_url(thread, f"posts/{reply.id}/delete")
    auth.login(world.member)
    page = html(client.get(url))
    assert "Delete your post?" in page and "07700 900123" in page
    response = post(client, url)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"#post-{reply.id}")
    deleted = fresh(Post, reply.id)
    assert deleted.deleted_at is not None and deleted.body == ""
    shown = html(client.get(world.thread_url(thread)))
    assert "This post was deleted by its author." in shown
    assert "07700 900123" not in shown
    assert fresh(Thread, thread.id).reply_count == 2  # replies to it still make sense
    assert len(_events("forum.post_deleted")) == 1
    again = post(client, url)  # a second tap: nothing more to do, no error
    assert again.status_code == 303


def test_deleting_the_opening_post_of_a_discussion_nobody_answered_deletes_it(
        client, auth, world):
    thread = make_thread(world.private, world.member, title="Wrong forum, sorry")
    opening = posts_of(thread)[0]
    url = world.thread_url(thread, f"posts/{opening.id}/delete")
    thread_url = world.thread_url(thread)
    auth.login(world.member)
    assert "Delete your discussion?" in html(client.get(url))
    response = post(client, url)
    assert response.status_code == 303
    assert response.headers["Location"] == world.url(world.private)
    assert fresh(Thread, thread.id) is None and count(Post) == 0
    assert "Wrong forum, sorry" not in html(client.get(world.url(world.private)))
    assert client.get(thread_url).status_code == 404
    assert len(_events("forum.thread_deleted")) == 1


def test_the_opening_post_of_an_answered_discussion_keeps_the_discussion(client, auth, world):
    thread = make_thread(world.public, world.member, body="Original question",
                         replies=[(world.other_member, "An answer")])
    opening = posts_of(thread)[0]
    url = world.thread_url(thread, f"posts/{opening.id}/delete")
    auth.login(world.member)
    assert "Delete your post?" in html(client.get(url))
    assert post(client, url).status_code == 303
    assert fresh(Thread, thread.id) is not None
    page = html(client.get(world.thread_url(thread)))
    assert "Original question" not in page and "An answer" in page
    assert "This post was deleted by its author." in page


def test_an_author_may_delete_a_post_a_convenor_hid(client, auth, world):
    thread = make_thread(world.public, world.other_member,
                         replies=[(world.member, "Something regrettable")])
    reply = posts_of(thread)[1]
    reply.hidden_at, reply.hidden_by_id, reply.hidden_reason = utcnow(), world.convenor.id, "Rude"
    db.session.commit()
    auth.login(world.member)
    assert post(client, world.thread_url(thread, f"posts/{reply.id}/delete")).status_code == 303
    assert fresh(Post, reply.id).body == ""


def test_only_the_author_may_delete_a_post(client, auth, world):
    thread = make_thread(world.public, world.member,
                         replies=[(world.other_member, "Mine, not yours")])
    reply = posts_of(thread)[1]
    url = world.thread_url(thread, f"posts/{reply.id}/delete")
    assert_sign_in(client.get(url))
    assert_sign_in(post(client, url))
    for person in (world.member, world.convenor, world.officer, world.outsider):
        auth.login(person)
        assert client.get(url).status_code == 403, person.name
        assert post(client, url).status_code == 403, person.name
    assert fresh(Post, reply.id).body == "Mine, not yours"
    auth.login(world.member)  # the thread's author sees no Delete link on others' posts
    page = html(client.get(world.thread_url(thread)))
    assert f"posts/{reply.id}/delete" not in page
    assert f"posts/{posts_of(thread)[0].id}/delete" in page


def test_a_post_in_another_thread_or_that_does_not_exist_is_not_found(client, auth, world):
    thread = make_thread(world.public, world.member)
    other = make_thread(world.public, world.member, title="Another one")
    auth.login(world.member)
    stranger = posts_of(other)[0]
    assert client.get(world.thread_url(thread, f"posts/{stranger.id}/delete")).status_code == 404
    assert client.get(world.thread_url(thread, "posts/999999/delete")).status_code == 404


def test_deleting_a_discussion_while_people_reply_never_fails_or_loses_a_reply(tmp_path):
    """Either the discussion goes before any reply lands (the replies are refused), or
    a reply lands first and only the opening post's text goes: never a 500, never a
    reply in a discussion that no longer exists."""
    from functools import partial

    from partnerships.factories import forums, partnership
    from partnerships.forums.models import MembershipPolicy
    from tests.concurrency import (
        ROUNDS,
        all_at_once,
        file_database_app,
        form_token,
        make_user,
        signed_in_client,
    )

    with file_database_app(tmp_path) as app:
        people = [make_user(f"Person {i}", f"p{i}@example.org") for i in range(4)]
        place = partnership.partnership("Northbridge Together", slug="northbridge")
        forum = forums.forum(place, "Open Forum", convenors=people[:1], members=people[1:],
                             policy=MembershipPolicy.OPEN, slug="open")
        db.session.commit()
        clients = [signed_in_client(app, person) for person in people]
        tokens = [form_token(client) for client in clients]
        base = f"/partnerships/{place.slug}/forums/open/threads"
        for round_number in range(ROUNDS):
            thread_id = forums.thread(forum, people[0], f"Round {round_number}").id
            db.session.commit()
            opening = db.session.scalar(select(Post.id).where(Post.thread_id == thread_id))
            answers = all_at_once(
                [partial(clients[0].post, f"{base}/{thread_id}/posts/{opening}/delete",
                         data={"csrf_token": tokens[0]})]
                + [partial(client.post, f"{base}/{thread_id}/reply",
                           data={"body": "Me too", "csrf_token": token})
                   for client, token in zip(clients[1:], tokens[1:], strict=True)])
            assert all(answer.status_code < 500 for answer in answers), [
                answer.get_data(as_text=True)[:200] for answer in answers]
            db.session.expire_all()
            left = db.session.get(Thread, thread_id)
            replies = db.session.scalars(select(Post).where(Post.thread_id == thread_id)).all()
            if left is None:
                assert replies == []
            else:
                assert left.reply_count == len(replies) - 1 >= 1
                assert db.session.get(Post, opening).body == ""
