"""Forum discussions over HTTP: starting threads, replying with and without htmx, editing,
hiding, pinning and locking, following and muting, unread, who may do what in public and
members-only forums, and query budgets on long lists."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from partnerships.accounts.models import User
from partnerships.audit import AuditEvent
from partnerships.extensions import db
from partnerships.forums import discussions
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
from partnerships.modelbase import utcnow
from partnerships.partnership.models import Partnership
from tests.conftest import link_in

HX = {"HX-Request": "true"}
TOKEN_RE = re.compile(r"X-CSRFToken(?:&#34;|&quot;|\")\s*:\s*(?:&#34;|&quot;|\")([^&\"]+)")


# --- Building forums, members and threads directly -----------------------------------------


def make_forum(partnership: Partnership, slug: str, *, public: bool, convenor: User,
               members: list[User] = (),  # type: ignore[assignment]
               name: str | None = None) -> Forum:
    """A forum with a convenor (also an active member) and active members."""
    forum = Forum(
        partnership_id=partnership.id, slug=slug, name=name or slug.replace("-", " ").title(),
        purpose="Working together.", membership_policy=MembershipPolicy.BY_REQUEST,
        visibility=Visibility.PUBLIC if public else Visibility.MEMBERS,
    )
    db.session.add(forum)
    db.session.flush()
    db.session.add(ForumConvenor(forum_id=forum.id, user_id=convenor.id))
    joined = utcnow() - timedelta(days=30)
    for user in [convenor, *members]:
        db.session.add(ForumMember(forum_id=forum.id, user_id=user.id,
                                   status=ForumMemberStatus.ACTIVE, requested_at=joined,
                                   decided_at=joined))
    db.session.commit()
    return forum


def ban(forum: Forum, user: User) -> None:
    """What a convenor's "remove and ban" leaves behind."""
    membership = db.session.scalar(select(ForumMember).where(
        ForumMember.forum_id == forum.id, ForumMember.user_id == user.id))
    assert membership is not None
    membership.status = ForumMemberStatus.REMOVED
    membership.reason = "Repeated abuse"
    db.session.add(ForumBan(forum_id=forum.id, user_id=user.id, reason="Repeated abuse"))
    db.session.commit()


def make_thread(forum: Forum, author: User, title: str = "Winter rota",
                body: str = "Who can help in December?",
                replies: list[tuple[User, str]] = (),  # type: ignore[assignment]
                follow: bool = True, ago: timedelta = timedelta(days=1)) -> Thread:
    """A thread with its opening post and replies, counters set as the services would."""
    at = utcnow() - ago
    thread = Thread(forum_id=forum.id, title=title, author_id=author.id, last_post_at=at,
                    created_at=at, reply_count=len(replies))
    db.session.add(thread)
    db.session.flush()
    posts = [Post(thread_id=thread.id, author_id=author.id, body=body, created_at=at)]
    posts += [Post(thread_id=thread.id, author_id=user.id, body=text,
                   created_at=at + timedelta(minutes=i + 1))
              for i, (user, text) in enumerate(replies)]
    db.session.add_all(posts)
    db.session.flush()
    thread.last_post_id = posts[-1].id
    thread.last_post_at = posts[-1].created_at
    if follow:
        db.session.add(ThreadState(user_id=author.id, thread_id=thread.id,
                                   last_read_post_id=posts[0].id,
                                   subscription=Subscription.FOLLOWING))
    db.session.commit()
    return thread


def set_state(user: User, thread: Thread, subscription: Subscription,
              last_read: int = 0) -> None:
    db.session.merge(ThreadState(user_id=user.id, thread_id=thread.id,
                                 last_read_post_id=last_read, subscription=subscription))
    db.session.commit()


def fresh(model: type, ident: Any) -> Any:
    """The row as the requests left it (the fixture's session is not the request's)."""
    db.session.expire_all()
    return db.session.get(model, ident)


def posts_of(thread: Thread) -> list[Post]:
    db.session.expire_all()
    return list(db.session.scalars(select(Post).where(Post.thread_id == thread.id)
                                   .order_by(Post.id)))


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def token(client: Any) -> str:
    """The CSRF token every page carries for htmx (on <body>), for any signed-in state."""
    match = TOKEN_RE.search(client.get("/").get_data(as_text=True))
    assert match
    return match.group(1)


def post(client: Any, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """POST as a browser would, with a valid CSRF token from the session."""
    return client.post(url, data={**(data or {}), "csrf_token": token(client)}, **kwargs)


def html(response: Any) -> str:
    return response.get_data(as_text=True)


def assert_sign_in(response: Any) -> None:
    assert response.status_code in (302, 303)
    assert response.headers["Location"].startswith("/account/sign-in")


# --- The cast -------------------------------------------------------------------------------


@dataclass
class World:
    partnership: Partnership
    public: Forum
    private: Forum
    convenor: User
    member: User
    other_member: User
    outsider: User
    banned: User
    officer: User
    foreign_officer: User

    def forum(self, kind: str) -> Forum:
        return self.public if kind == "public" else self.private

    def url(self, forum: Forum, rest: str = "") -> str:
        return f"/partnerships/{self.partnership.slug}/forums/{forum.slug}/{rest}"

    def thread_url(self, thread: Thread, rest: str = "") -> str:
        forum = self.public if thread.forum_id == self.public.id else self.private
        return self.url(forum, f"threads/{thread.id}{'/' + rest if rest else ''}")


@pytest.fixture
def world(make_user: Callable[..., User], make_partnership: Callable[..., Partnership]) -> World:
    convenor = make_user("Cara Convenor", "cara@cvs.example.org")
    member = make_user("Mo Member", "mo@eastside.example.org")
    other_member = make_user("Olu Other", "olu@westside.example.org")
    outsider = make_user("Nia Nonmember", "nia@example.org")
    banned = make_user("Ben Banned", "ben@example.org")
    officer = make_user("Pat Officer", "pat@council.example.org")
    foreign_officer = make_user("Fay Foreign", "fay@southmoor.example.org")
    partnership = make_partnership("Northbridge Together", officers=[officer])
    make_partnership("Southmoor Partnership", officers=[foreign_officer])
    cast = [member, other_member, banned]
    public = make_forum(partnership, "community-safety", public=True, convenor=convenor,
                        members=cast)
    private = make_forum(partnership, "health-wellbeing", public=False, convenor=convenor,
                         members=cast)
    ban(public, banned)
    ban(private, banned)
    return World(partnership, public, private, convenor, member, other_member, outsider,
                 banned, officer, foreign_officer)


# --- Starting a discussion ------------------------------------------------------------------


def test_member_starts_a_discussion_and_follows_it(client, auth, world):
    auth.login(world.member)
    new = world.url(world.private, "threads/new")
    page = client.get(new)
    assert page.status_code == 200
    assert "Start a discussion" in html(page)
    assert "**bold**" in html(page)  # the Markdown hint

    response = client.submit(new, {"title": "  Winter   food bank rota ",
                                   "body": "Who can help on **Tuesdays**?"})

    assert response.status_code == 303
    thread = db.session.scalar(select(Thread).where(Thread.forum_id == world.private.id))
    assert thread is not None and thread.title == "Winter food bank rota"
    assert response.headers["Location"] == world.thread_url(thread)
    [opening] = posts_of(thread)
    assert opening.body == "Who can help on **Tuesdays**?"
    assert thread.last_post_id == opening.id and thread.reply_count == 0
    state = fresh(ThreadState, (world.member.id, thread.id))
    assert state.subscription is Subscription.FOLLOWING
    shown = html(client.get(response.headers["Location"]))
    assert "Winter food bank rota" in shown
    assert "<strong>Tuesdays</strong>" in shown
    assert "Mo Member" in shown
    listing = html(client.get(world.url(world.private)))
    assert "Winter food bank rota" in listing


@pytest.mark.parametrize("title, body, message, kept", [
    ("", "I typed all of this", "Enter a title for the discussion", "I typed all of this"),
    ("My careful title", "   ", "Enter your message", "My careful title"),
])
def test_starting_a_discussion_without_title_or_message_keeps_what_was_typed(
        client, auth, world, title, body, message, kept):
    auth.login(world.member)
    response = client.submit(world.url(world.public, "threads/new"),
                             {"title": title, "body": body})
    assert response.status_code == 422
    text = html(response)
    assert message in text
    assert "govuk-error-summary" in text
    assert kept in text
    assert count(Thread) == 0 and count(Post) == 0


def test_a_message_over_the_limit_is_refused_and_kept(client, auth, world):
    auth.login(world.member)
    body = "x" * (discussions.BODY_MAX + 1)
    response = client.submit(world.url(world.public, "threads/new"),
                             {"title": "Too long", "body": body})
    assert response.status_code == 422
    assert "Your message must be 10,000 characters or fewer (it has 10,001)" in html(response)
    assert body in html(response)
    assert count(Thread) == 0


def test_line_breaks_count_as_one_character_as_the_page_counts_them(client, auth, world):
    auth.login(world.member)
    # 5,000 lines: 10,000 characters as the page counts them, 15,000 as the browser sends.
    body = "\r\n".join(["a"] * 5000) + "a" * 1
    assert len(body.replace("\r\n", "\n")) <= discussions.BODY_MAX < len(body)
    response = client.submit(world.url(world.public, "threads/new"),
                             {"title": "Many short lines", "body": body})
    assert response.status_code == 303
    [opening] = posts_of(db.session.scalar(select(Thread)))
    assert "\r" not in opening.body


def test_markdown_in_posts_is_rendered_safely(client, auth, world):
    thread = make_thread(world.public, world.member,
                         body="<script>alert(1)</script> [x](javascript:alert(1)) # Heading")
    page = html(client.get(world.thread_url(thread)))
    assert "<script>alert(1)" not in page
    assert 'href="javascript:' not in page


# --- Reading a thread -----------------------------------------------------------------------


def test_thread_page_shows_posts_with_authors_and_former_members(client, world):
    thread = make_thread(world.public, world.member, replies=[(world.other_member, "Me too")])
    world.other_member.deleted_at = utcnow()
    db.session.commit()
    page = html(client.get(world.thread_url(thread)))
    assert "Mo Member" in page
    assert "Former member" in page and "Olu Other" not in page
    for p in posts_of(thread):
        assert f'id="post-{p.id}"' in page
    assert "Sign in</a> to reply" in page


def test_long_thread_is_paginated_and_a_late_page_past_the_end_shows_the_last(client, world):
    replies = [(world.other_member, f"Reply number {i}") for i in range(1, 30)]
    thread = make_thread(world.public, world.member, replies=replies)
    first = html(client.get(world.thread_url(thread)))
    assert "Reply number 24" in first and "Reply number 25" not in first
    assert "?page=2" in first
    second = html(client.get(world.thread_url(thread) + "?page=2"))
    assert "Reply number 25" in second and "Reply number 29" in second
    assert "Reply number 24" not in second
    beyond = client.get(world.thread_url(thread) + "?page=99")
    assert beyond.status_code == 200 and "Reply number 29" in html(beyond)


def test_forum_page_lists_discussions_with_tags_and_who_may_start_one(client, auth, world):
    locked = make_thread(world.public, world.member, title="Closed topic")
    locked.locked = True
    make_thread(world.public, world.other_member, title="Open topic",
                replies=[(world.member, "Yes")])
    world.other_member.deleted_at = utcnow()
    db.session.commit()
    start = world.url(world.public, "threads/new")

    anonymous = html(client.get(world.url(world.public)))
    assert "Closed topic" in anonymous and "Open topic" in anonymous
    assert "Locked" in anonymous and "1 reply" in anonymous
    assert "Started by Former member" in anonymous
    assert start not in anonymous
    auth.login(world.outsider)
    assert start not in html(client.get(world.url(world.public)))
    auth.login(world.member)
    assert start in html(client.get(world.url(world.public)))


# --- Replying without JavaScript ------------------------------------------------------------


def test_reply_without_javascript_goes_to_the_new_post_and_emails_followers(
        client, auth, world, outbox):
    replies = [(world.other_member, f"Reply {i}") for i in range(1, 25)]  # 25 posts: page 1
    thread = make_thread(world.private, world.convenor, replies=replies)
    set_state(world.member, thread, Subscription.FOLLOWING)      # the author: not emailed
    set_state(world.other_member, thread, Subscription.MUTED)    # muted: not emailed
    set_state(world.officer, thread, Subscription.FOLLOWING)     # runs it: emailed
    set_state(world.banned, thread, Subscription.FOLLOWING)      # banned: not emailed
    set_state(world.outsider, thread, Subscription.FOLLOWING)    # cannot read: not emailed
    auth.login(world.member)

    response = client.submit(world.thread_url(thread, "reply"), {"body": "I can do Tuesdays"},
                             page=world.thread_url(thread))

    new_post = posts_of(thread)[-1]
    assert response.status_code == 303
    assert response.headers["Location"] == world.thread_url(thread) + f"?page=2#post-{new_post.id}"
    assert new_post.body == "I can do Tuesdays" and new_post.author_id == world.member.id
    thread = fresh(Thread, thread.id)
    assert thread.reply_count == 25
    assert thread.last_post_id == new_post.id
    assert {m.to for m in outbox()} == {world.convenor.email, world.officer.email}
    [email] = outbox(world.convenor.email)
    assert email.subject == f"New reply in {world.private.name}: Winter rota"
    assert "I can do Tuesdays" in email.body and "Mo Member" in email.body
    auth.login(world.convenor)
    page = client.get(link_in(email))
    assert page.status_code == 200 and f'id="post-{new_post.id}"' in html(page)


def test_reply_without_javascript_with_an_empty_message_keeps_the_page(client, auth, world):
    thread = make_thread(world.public, world.convenor)
    auth.login(world.member)
    response = client.submit(world.thread_url(thread, "reply"), {"body": "  "},
                             page=world.thread_url(thread))
    assert response.status_code == 422
    text = html(response)
    assert "Enter your message" in text and "govuk-error-summary" in text
    assert "Winter rota" in text and "Who can help in December?" in text
    assert "HX-Request" in response.headers.get("Vary", "")
    assert len(posts_of(thread)) == 1


def test_reply_over_the_limit_without_javascript_keeps_the_text(client, auth, world):
    thread = make_thread(world.public, world.convenor)
    auth.login(world.member)
    body = "y" * (discussions.BODY_MAX + 5)
    response = client.submit(world.thread_url(thread, "reply"), {"body": body},
                             page=world.thread_url(thread))
    assert response.status_code == 422
    assert body in html(response)
    assert len(posts_of(thread)) == 1


# --- Replying with htmx ---------------------------------------------------------------------


def test_reply_with_htmx_returns_the_post_and_a_fresh_form_out_of_band(client, auth, world):
    thread = make_thread(world.public, world.convenor)
    auth.login(world.member)
    response = post(client, world.thread_url(thread, "reply"),
                    {"body": "Count me in for **Tuesdays**", "page": "1"}, headers=HX)

    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    text = html(response)
    new_post = posts_of(thread)[-1]
    assert text.lstrip().startswith(f'<li class="app-post" id="post-{new_post.id}"')
    assert "<strong>Tuesdays</strong>" in text
    assert "<html" not in text and "govuk-header" not in text
    assert 'id="reply-form" class="app-reply-form" hx-swap-oob="true"' in text
    form = text[text.index('id="reply-form"'):]
    assert re.search(r"<textarea[^>]*>\s*</textarea>", form)  # a fresh, empty form
    assert 'name="csrf_token"' in form
    assert 'id="reply-status" hx-swap-oob="innerHTML"' in text
    assert "Your reply has been posted." in text
    # The page has the status region that message goes into, and the htmx attributes.
    page = html(client.get(world.thread_url(thread)))
    assert 'id="reply-status" role="status"' in page
    assert 'hx-post="' + world.thread_url(thread, "reply") + '"' in page
    assert 'hx-target="#posts"' in page and 'hx-swap="beforeend"' in page
    assert '<ol class="app-post-list" id="posts">' in page


def test_reply_with_htmx_from_an_earlier_page_goes_to_the_page_with_the_post(
        client, auth, world):
    replies = [(world.other_member, f"Reply {i}") for i in range(1, 30)]
    thread = make_thread(world.public, world.convenor, replies=replies)
    auth.login(world.member)
    response = post(client, world.thread_url(thread, "reply"),
                    {"body": "Back on page one", "page": "1"}, headers=HX)
    new_post = posts_of(thread)[-1]
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == (
        world.thread_url(thread) + f"?page=2#post-{new_post.id}")


def test_htmx_validation_error_puts_the_form_back_with_the_error(client, auth, world):
    thread = make_thread(world.public, world.convenor)
    auth.login(world.member)
    response = post(client, world.thread_url(thread, "reply"), {"body": "", "page": "1"},
                    headers=HX)
    assert response.status_code == 200  # htmx 2 does not swap 4xx responses
    assert response.headers["HX-Retarget"] == "#reply-form"
    assert response.headers["HX-Reswap"] == "outerHTML"
    assert "HX-Request" in response.headers["Vary"]
    text = html(response)
    assert text.lstrip().startswith('<div id="reply-form"')
    assert "Enter your message" in text and "govuk-error-summary" in text
    assert "<html" not in text
    assert len(posts_of(thread)) == 1


def test_htmx_reply_over_the_limit_keeps_the_text(client, auth, world):
    thread = make_thread(world.public, world.convenor)
    auth.login(world.member)
    body = "z" * (discussions.BODY_MAX + 1)
    response = post(client, world.thread_url(thread, "reply"), {"body": body, "page": "1"},
                    headers=HX)
    assert response.status_code == 200 and response.headers["HX-Retarget"] == "#reply-form"
    assert body in html(response)
    assert len(posts_of(thread)) == 1


# --- Editing one's own post -----------------------------------------------------------------


def test_author_edits_their_post_within_thirty_minutes(client, auth, world):
    thread = make_thread(world.public, world.member, ago=timedelta(minutes=5))
    [opening] = posts_of(thread)
    auth.login(world.member)
    page = html(client.get(world.thread_url(thread)))
    edit = world.thread_url(thread, f"posts/{opening.id}/edit")
    assert f'href="{edit}"' in page
    form = client.get(edit)
    assert form.status_code == 200 and "Who can help in December?" in html(form)

    response = client.submit(edit, {"body": "Who can help in January?"})

    assert response.status_code == 303
    assert response.headers["Location"] == world.thread_url(thread) + f"#post-{opening.id}"
    edited = fresh(Post, opening.id)
    assert edited.body == "Who can help in January?" and edited.edited_at is not None
    shown = html(client.get(world.thread_url(thread)))
    assert "Who can help in January?" in shown and "edited" in shown


def test_editing_with_an_empty_message_is_refused(client, auth, world):
    thread = make_thread(world.public, world.member, ago=timedelta(minutes=5))
    [opening] = posts_of(thread)
    auth.login(world.member)
    response = client.submit(world.thread_url(thread, f"posts/{opening.id}/edit"), {"body": ""})
    assert response.status_code == 422 and "Enter your message" in html(response)
    assert fresh(Post, opening.id).body == "Who can help in December?"


def test_editing_is_refused_after_thirty_minutes(client, auth, world):
    thread = make_thread(world.public, world.member, ago=timedelta(minutes=5))
    [opening] = posts_of(thread)
    auth.login(world.member)
    edit = world.thread_url(thread, f"posts/{opening.id}/edit")
    csrf = token(client)
    opening.created_at = utcnow() - timedelta(minutes=31)
    db.session.commit()
    assert client.get(edit).status_code == 403
    assert client.post(edit, data={"body": "Too late", "csrf_token": csrf}).status_code == 403
    assert fresh(Post, opening.id).body == "Who can help in December?"
    assert f'href="{edit}"' not in html(client.get(world.thread_url(thread)))


@pytest.mark.parametrize("who", ["other_member", "convenor"])
def test_nobody_edits_someone_elses_post(client, auth, world, who):
    thread = make_thread(world.public, world.member, ago=timedelta(minutes=5))
    [opening] = posts_of(thread)
    auth.login(getattr(world, who))
    edit = world.thread_url(thread, f"posts/{opening.id}/edit")
    assert client.get(edit).status_code == 403
    assert post(client, edit, {"body": "Not mine"}).status_code == 403
    assert fresh(Post, opening.id).body == "Who can help in December?"


# --- Hiding posts ---------------------------------------------------------------------------


def test_convenor_hides_a_post_with_a_reason_the_author_sees(client, auth, world):
    thread = make_thread(world.public, world.convenor, replies=[(world.member, "Rude words")])
    reply = posts_of(thread)[-1]
    hide = world.thread_url(thread, f"posts/{reply.id}/hide")
    auth.login(world.convenor)
    page = html(client.get(world.thread_url(thread)))
    assert f'href="{hide}"' in page

    refused = client.submit(hide, {"reason": " "})
    assert refused.status_code == 422 and "Enter a reason" in html(refused)
    assert fresh(Post, reply.id).hidden_at is None

    response = client.submit(hide, {"reason": "Personal remarks about a volunteer"})
    assert response.status_code == 303
    hidden = fresh(Post, reply.id)
    assert hidden.is_hidden and hidden.hidden_reason == "Personal remarks about a volunteer"
    assert hidden.hidden_by_id == world.convenor.id
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "forum.post_hidden"))

    convenor_view = html(client.get(world.thread_url(thread)))
    assert "This post was hidden by a convenor" in convenor_view
    assert "Personal remarks about a volunteer" in convenor_view
    assert "Rude words" in convenor_view and "Unhide" in convenor_view

    auth.login(world.member)  # the author sees why
    author_view = html(client.get(world.thread_url(thread)))
    assert "This post was hidden by a convenor" in author_view
    assert "Personal remarks about a volunteer" in author_view
    assert "Unhide" not in author_view

    for viewer in (world.other_member, None):  # everyone else only sees that it was hidden
        if viewer is None:
            auth.logout()
        else:
            auth.login(viewer)
        view = html(client.get(world.thread_url(thread)))
        assert "This post was hidden by a convenor" in view
        assert "Personal remarks" not in view and "Rude words" not in view

    auth.login(world.convenor)
    shown = client.submit(world.thread_url(thread, f"posts/{reply.id}/unhide"),
                          page=world.thread_url(thread))
    assert shown.status_code == 303
    assert not fresh(Post, reply.id).is_hidden
    auth.login(world.other_member)
    assert "Rude words" in html(client.get(world.thread_url(thread)))


def test_hiding_an_already_hidden_post_changes_nothing(client, auth, world):
    thread = make_thread(world.public, world.convenor, replies=[(world.member, "Rude words")])
    reply = posts_of(thread)[-1]
    reply.hidden_at, reply.hidden_reason = utcnow(), "First reason"
    db.session.commit()
    auth.login(world.officer)
    hide = world.thread_url(thread, f"posts/{reply.id}/hide")
    assert client.get(hide).status_code == 303
    assert post(client, hide, {"reason": "Second reason"}).status_code == 409
    assert fresh(Post, reply.id).hidden_reason == "First reason"


# --- Pinning and locking --------------------------------------------------------------------


def test_convenor_pins_a_thread_to_the_top_and_unpins_it(client, auth, world):
    older = make_thread(world.public, world.convenor, title="Older news", ago=timedelta(days=9))
    make_thread(world.public, world.convenor, title="Newer news", ago=timedelta(days=1))
    auth.login(world.convenor)
    assert post(client, world.thread_url(older, "pin")).status_code == 303
    assert fresh(Thread, older.id).pinned
    threads, _ = discussions.threads_page(world.public)
    assert [t.title for t in threads] == ["Older news", "Newer news"]
    listing = html(client.get(world.url(world.public)))
    assert listing.index("Older news") < listing.index("Newer news")
    assert "Pinned" in listing
    assert post(client, world.thread_url(older, "unpin")).status_code == 303
    assert not fresh(Thread, older.id).pinned


def test_locked_thread_refuses_replies_with_a_clear_message(client, auth, world):
    thread = make_thread(world.public, world.convenor)
    auth.login(world.convenor)
    assert post(client, world.thread_url(thread, "lock")).status_code == 303
    assert fresh(Thread, thread.id).locked

    auth.login(world.member)
    page = html(client.get(world.thread_url(thread)))
    assert "This discussion is locked" in page
    assert 'id="reply-form"' not in page
    response = post(client, world.thread_url(thread, "reply"), {"body": "Can I still say?"})
    assert response.status_code == 409
    assert "This discussion is locked" in html(response)
    assert "Can I still say?" in html(response)  # kept, so it can be copied
    with_htmx = post(client, world.thread_url(thread, "reply"),
                     {"body": "And now?", "page": "1"}, headers=HX)
    assert with_htmx.status_code == 200 and with_htmx.headers["HX-Retarget"] == "#reply-form"
    assert "This discussion is locked" in html(with_htmx) and "And now?" in html(with_htmx)
    assert len(posts_of(thread)) == 1

    auth.login(world.convenor)
    assert post(client, world.thread_url(thread, "unlock")).status_code == 303
    auth.login(world.member)
    assert post(client, world.thread_url(thread, "reply"), {"body": "Now I can"}
                ).status_code == 303


# --- Following and muting -------------------------------------------------------------------


def test_member_follows_mutes_and_goes_back_to_normal(client, auth, world):
    thread = make_thread(world.private, world.convenor)
    auth.login(world.member)
    url = world.thread_url(thread, "subscription")
    assert "Follow this discussion" in html(client.get(world.thread_url(thread)))
    for choice in ("following", "muted", "normal"):
        response = post(client, url, {"subscription": choice})
        assert response.status_code == 303
        assert fresh(ThreadState, (world.member.id, thread.id)).subscription == choice
    assert post(client, url, {"subscription": "everything"}).status_code == 400


# --- Unread ---------------------------------------------------------------------------------


def test_unread_threads_show_new_posts_until_read(client, auth, world):
    thread = make_thread(world.private, world.convenor, ago=timedelta(days=1))
    db.session.expire_all()
    assert [t.id for t in discussions.unread_threads(world.member)] == [thread.id]
    auth.login(world.member)
    listing = html(client.get(world.url(world.private)))
    assert "Unread" not in listing  # no record of reading: the list shows nothing

    client.get(world.thread_url(thread))  # reading marks it read
    db.session.expire_all()
    assert discussions.unread_threads(world.member) == []
    state = fresh(ThreadState, (world.member.id, thread.id))
    assert state.last_read_post_id == thread.last_post_id

    auth.login(world.other_member)
    post(client, world.thread_url(thread, "reply"), {"body": "Something new"})
    db.session.expire_all()
    assert [t.id for t in discussions.unread_threads(world.member)] == [thread.id]
    auth.login(world.member)
    listing = html(client.get(world.url(world.private)))
    assert "Unread" in listing
    page = html(client.get(world.thread_url(thread)))
    assert "New" in page  # the post they had not seen is marked
    assert "Unread" not in html(client.get(world.url(world.private)))

    set_state(world.member, thread, Subscription.MUTED)
    auth.login(world.other_member)
    post(client, world.thread_url(thread, "reply"), {"body": "More news"})
    db.session.expire_all()
    assert discussions.unread_threads(world.member) == []


# --- Who may do what ------------------------------------------------------------------------


ROLES = ["anonymous", "outsider", "member", "banned", "convenor", "officer", "foreign_officer"]
ACTIONS = ["read", "new_form", "new", "reply", "edit_form", "edit", "hide_form", "hide",
           "unhide", "pin", "lock", "subscribe"]


def expected(kind: str, role: str, action: str) -> int | str:
    """The rule: anonymous non-readers sign in first and other non-readers get the
    members-only page (403, nothing of the thread); anonymous readers sign in; then the
    right or 403."""
    readers = {"member", "convenor", "officer"}
    if kind == "members" and role not in readers:
        return "sign-in" if role == "anonymous" else 403
    if action == "read":
        return 200
    if role == "anonymous":
        return "sign-in"
    allowed = {
        "new_form": {"member", "convenor", "officer"},
        "new": {"member", "convenor", "officer"},
        "reply": {"member", "convenor", "officer"},
        "edit_form": {"member"},  # the author
        "edit": {"member"},
        "subscribe": {"outsider", "member", "convenor", "officer", "foreign_officer"},
    }.get(action, {"convenor", "officer"})
    if role not in allowed:
        return 403
    return 200 if action.endswith("_form") else 303


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ["public", "members"])
def test_discussion_permission_boundaries(client, auth, world, kind, role):
    """Every discussion route, for each kind of person, in a public and a members-only
    forum. Each action gets its own thread, so one action's effect cannot mask another's."""
    forum = world.forum(kind)
    csrf = token(client)
    if role != "anonymous":
        auth.login(getattr(world, role))

    for action in ACTIONS:
        thread = make_thread(forum, world.convenor, ago=timedelta(minutes=5),
                             title=f"Thread for {action}",
                             replies=[(world.member, "My reply"), (world.other_member, "Gone")])
        mine, hidden = posts_of(thread)[1:]
        hidden.hidden_at, hidden.hidden_reason = utcnow(), "Off topic"
        db.session.commit()
        at = world.thread_url(thread)
        method, url, data = {
            "read": ("GET", at, None),
            "new_form": ("GET", world.url(forum, "threads/new"), None),
            "new": ("POST", world.url(forum, "threads/new"), {"title": "New", "body": "B"}),
            "reply": ("POST", f"{at}/reply", {"body": "Hello"}),
            "edit_form": ("GET", f"{at}/posts/{mine.id}/edit", None),
            "edit": ("POST", f"{at}/posts/{mine.id}/edit", {"body": "Changed"}),
            "hide_form": ("GET", f"{at}/posts/{mine.id}/hide", None),
            "hide": ("POST", f"{at}/posts/{mine.id}/hide", {"reason": "Off topic"}),
            "unhide": ("POST", f"{at}/posts/{hidden.id}/unhide", {}),
            "pin": ("POST", f"{at}/pin", {}),
            "lock": ("POST", f"{at}/lock", {}),
            "subscribe": ("POST", f"{at}/subscription", {"subscription": "following"}),
        }[action]
        response = (client.get(url) if method == "GET"
                    else client.post(url, data={**(data or {}), "csrf_token": csrf}))
        want = expected(kind, role, action)
        if want == "sign-in":
            assert_sign_in(response)
        else:
            assert response.status_code == want, f"{action}: {html(response)[:300]}"
        if want in (403, 404) and kind == "members":
            assert f"Thread for {action}" not in html(response) and "My reply" not in html(response)
        if want in (403, 404, "sign-in"):
            assert len(posts_of(thread)) == 3, action
            assert fresh(Post, mine.id).body == "My reply", action
            assert not fresh(Post, mine.id).is_hidden and fresh(Post, hidden.id).is_hidden
            after = fresh(Thread, thread.id)
            assert not after.pinned and not after.locked, action
            if action == "new":
                assert not db.session.scalar(select(Thread).where(Thread.title == "New"))


def test_a_banned_member_loses_access_at_once(client, auth, world):
    thread = make_thread(world.private, world.convenor)
    auth.login(world.other_member)
    assert client.get(world.thread_url(thread)).status_code == 200
    ban(world.private, world.other_member)
    assert client.get(world.thread_url(thread)).status_code == 403
    assert post(client, world.thread_url(thread, "reply"), {"body": "Still here?"}
                ).status_code == 403
    assert len(posts_of(thread)) == 1


def test_a_thread_of_another_forum_is_not_found_through_this_one(client, auth, world):
    secret = make_thread(world.private, world.convenor, title="Secret plans")
    auth.login(world.outsider)
    url = world.url(world.public, f"threads/{secret.id}")
    assert client.get(url).status_code == 404


def test_members_only_thread_list_is_not_shown_to_the_public(client, world):
    make_thread(world.private, world.convenor, title="Secret plans")
    page = client.get(world.url(world.private))
    assert "Secret plans" not in html(page)


# --- Query budgets --------------------------------------------------------------------------


def _many_replies(thread: Thread, authors: list[User], n: int) -> None:
    """Add ``n`` replies in one statement, counters set as the services would."""
    start = utcnow() - timedelta(days=2)
    db.session.execute(insert(Post), [
        {"thread_id": thread.id, "author_id": authors[i % len(authors)].id,
         "body": f"Reply {i}", "created_at": start + timedelta(seconds=i), "updated_at": start}
        for i in range(1, n + 1)
    ])
    thread.reply_count = n
    thread.last_post_id = db.session.scalar(select(func.max(Post.id)))
    thread.last_post_at = start + timedelta(seconds=n)
    db.session.commit()


@pytest.mark.parametrize("viewer", ["member", "anonymous"])
def test_a_thread_with_a_thousand_replies_loads_in_a_few_queries(
        client, auth, world, count_queries, viewer):
    thread = make_thread(world.public, world.convenor)
    _many_replies(thread, [world.member, world.other_member, world.convenor, world.officer],
                  1000)
    if viewer == "member":
        auth.login(world.member)
    last_page = -(-1001 // discussions.POSTS_PER_PAGE)
    for page in (1, last_page):
        url = world.thread_url(thread) + f"?page={page}"
        with count_queries() as log:
            response = client.get(url)
        assert response.status_code == 200
        assert html(response).count('class="app-post"') == (
            discussions.POSTS_PER_PAGE if page == 1 else 1001 % discussions.POSTS_PER_PAGE)
        assert log.count <= 10, "\n".join(log.statements)


def test_forum_page_with_sixty_threads_loads_in_a_few_queries(
        client, auth, world, count_queries):
    users = [world.member, world.other_member, world.convenor, world.officer]
    for i in range(60):
        make_thread(world.private, users[i % 4], title=f"Topic {i}", follow=i % 2 == 0,
                    ago=timedelta(hours=i + 1))
    auth.login(world.convenor)
    counts = []
    for page in ("", "?page=3"):
        url = world.url(world.private) + page
        with count_queries() as log:
            response = client.get(url)
        assert response.status_code == 200
        links = re.findall(r'href="[^"]*/threads/\d+"', html(response))
        assert len(links) == discussions.THREADS_PER_PAGE
        assert log.count <= 12, "\n".join(log.statements)
        counts.append(log.count)
    assert counts[0] == counts[1]  # nothing runs per thread
