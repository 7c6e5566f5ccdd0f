"""Discussion pages: threads, replies, editing, moderation, follow and mute.

Thin views: load -> authorise -> validate -> call ``discussions`` -> commit -> redirect.
Every action is an ordinary form POST answered with 303, so the pages work without
JavaScript. Replying also works with htmx: the new post comes back as the same
``_post.html`` fragment the page uses, plus a fresh reply form swapped in out of band.

Who gets what, applied to every route here:
- someone who cannot read the forum (a members-only forum they do not belong to,
  anonymous included) gets 404, so threads are never revealed;
- anonymous readers of a public forum are sent to sign in before any action;
- signed-in readers without the right (not a member, banned, not a convenor) get 403.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import formflow, once, pagination, permissions, transactions
from ..bounds import whole_number
from ..errors import Conflict
from ..extensions import db
from ..formflow import Page, found
from ..forms import ButtonForm
from ..htmx import hx_redirect, wants_fragment
from . import discussions, services
from .models import BODY_MAX, Forum, Post, Subscription, Thread
from .routes import bp
from .thread_forms import EditPostForm, HidePostForm, ReplyForm, ThreadForm
from .view_helpers import button

if TYPE_CHECKING:
    from ..permissions import ForumAccess

FORUM = "/partnerships/<slug>/forums/<forum_slug>"
THREAD = FORUM + "/threads/<int:thread_id>"
POST = THREAD + "/posts/<int:post_id>"

POST_REFUSED = "Only members of this forum can take part in its discussions."
MANAGE_REFUSED = "Only the forum's convenors can do that."
MODERATION_DONE = {
    "pin": "Pinned: this discussion now shows first in the forum.",
    "unpin": "Unpinned: this discussion is no longer shown first.",
    "lock": "Locked: nobody can reply to this discussion now.",
    "unlock": "Unlocked: members can reply again.",
}
SUBSCRIPTION_DONE = {
    Subscription.FOLLOWING: "You are following this discussion. We will email you when "
                            "someone replies.",
    Subscription.MUTED: "You have muted this discussion. It will not show as unread and we "
                        "will not email you about it.",
    Subscription.NORMAL: "You are no longer following or muting this discussion.",
}


# --- Loading and authorising ------------------------------------------------------------


def _forum(slug: str, forum_slug: str) -> tuple[Forum, ForumAccess]:
    """The forum and what the current user may do there. Someone who may not read it
    signs in first, or is told the discussions are for the forum's members, without
    learning whether the thread exists (``permissions.refuse``)."""
    forum = found(services.find_forum(slug, forum_slug, convenors=False))
    access = permissions.forum_access(current_user, forum)
    if not access.can_read:
        permissions.refuse(current_user, permissions.forum_audience(
            current_user, forum, "discussion"))
    return forum, access


def _thread(slug: str, forum_slug: str, thread_id: int) -> tuple[Forum, ForumAccess, Thread]:
    forum, access = _forum(slug, forum_slug)
    return forum, access, found(discussions.get_thread(forum, thread_id))


def _post(thread: Thread, post_id: int) -> Post:
    return found(discussions.get_post(thread, post_id))


def _sign_in(next_url: str) -> Response:
    """Anonymous readers of a public forum sign in first, then come back here. (For htmx
    the whole page goes to sign in, rather than the sign-in page landing in the thread.)"""
    flash("Sign in to take part in discussions.", "info")
    return hx_redirect(url_for("accounts.sign_in", next=next_url))


def _thread_url(forum: Forum, thread: Thread, page: int = 1, post: Post | None = None) -> str:
    args: dict[str, Any] = {"page": page} if page > 1 else {}
    url = url_for("forums.thread", slug=forum.partnership.slug, forum_slug=forum.slug,
                  thread_id=thread.id, **args)
    return url + (f"#post-{post.id}" if post is not None else "")


def _post_url(forum: Forum, thread: Thread, post: Post) -> str:
    """The page of the thread that shows ``post``, at the post."""
    return _thread_url(forum, thread, discussions.page_of_post(thread, post), post)


def _see_other(url: str) -> Response:
    """303 to a URL already built (with a page and a #post anchor), unlike
    ``formflow.see_other`` which takes an endpoint."""
    return redirect(url, code=303)


def _vary(response: Response) -> Response:
    """Replies answer htmx and plain requests differently: tell caches."""
    response.headers.add("Vary", "HX-Request")
    return response


def _page_count(thread: Thread) -> int:
    return pagination.page_count(thread.reply_count + 1, discussions.POSTS_PER_PAGE)


def _shown_page(thread: Thread) -> int:
    """The page the reply form was on (sent with the form), or the last page."""
    number = whole_number(request.form.get("page"), minimum=1)
    pages = _page_count(thread)
    return min(number, pages) if number is not None else pages


# --- Starting a discussion --------------------------------------------------------------


@bp.route(FORUM + "/threads/new", methods=["GET", "POST"])
def thread_new(slug: str, forum_slug: str) -> Page:
    forum, access = _forum(slug, forum_slug)
    if not current_user.is_authenticated:
        return _sign_in(request.path)
    if not access.can_post:
        abort(403, POST_REFUSED + " Join the forum to start a discussion.")
    form = ThreadForm()
    if saved := once.save(form, lambda: discussions.create_thread(
            current_user, forum, form.title.data or "", form.body.data or ""),
            lambda thread: _thread_url(forum, thread)):
        flash(once.ALREADY_SENT if saved.again else
              "Your discussion has started. We will email you when someone replies.",
              "info" if saved.again else "success")
        return _see_other(saved.url)
    return formflow.render("forums/thread_new.html", form, forum=forum, access=access,
                           body_max=BODY_MAX)


# --- Reading a thread -------------------------------------------------------------------


def _render_thread(forum: Forum, access: ForumAccess, thread: Thread, page: int,
                   form: ReplyForm, status: int = 200, problem: str | None = None,
                   mark_read: bool = False) -> Response:
    """The thread page: one page of posts, controls for what this person may do, and the
    reply form. Authors come with the posts and ``forum_access`` is cached for the request,
    so the number of queries does not grow with the number of posts."""
    pages = _page_count(thread)
    page = min(max(page, 1), pages)
    posts, _total = discussions.posts_page(thread, page)
    state = (discussions.reading_state(current_user, thread)
             if current_user.is_authenticated else None)
    editable = {post.id for post in posts if permissions.can_edit_post(current_user, post)}
    html = render_template(
        "forums/thread.html",
        forum=forum, access=access, thread=thread, posts=posts, page=page, pages=pages,
        state=state, editable=editable, form=form, problem=problem,
        # Posts newer than the last one they read are marked "New" (not on a first visit).
        last_read=state.last_read_post_id or None if state is not None else None,
        body_max=BODY_MAX,
        pagination=pagination.govuk_pagination(
            "forums.thread", page, pages, "Pages of this discussion",
            slug=forum.partnership.slug, forum_slug=forum.slug, thread_id=thread.id,
        ),
    )
    # Render first: committing expires every loaded row, and the page needs them.
    if mark_read and posts and state is not None and posts[-1].id > state.last_read_post_id:
        user_id, thread_id, newest = current_user.id, thread.id, posts[-1].id
        transactions.write_after_reading(
            lambda: discussions.mark_read(user_id, thread_id, newest))
    return make_response(html, status)


@bp.get(THREAD)
def thread(slug: str, forum_slug: str, thread_id: int) -> Response:
    forum, access, thread = _thread(slug, forum_slug, thread_id)
    return _render_thread(forum, access, thread, pagination.page_number(),
                          ReplyForm(formdata=None), mark_read=True)


# --- Replying (with or without htmx) ----------------------------------------------------


def _reply_form_fragment(forum: Forum, thread: Thread, form: ReplyForm, page: int,
                         notice: str | None = None) -> Response:
    """The reply form with its errors, or ``notice`` (why one cannot reply, with the text
    they typed so it is not lost), to replace the form in place, for htmx.

    htmx 2 does not swap 4xx responses, so this answers 200 and says where to swap."""
    response = make_response(render_template(
        "forums/_reply_form.html", forum=forum, thread=thread, form=form, page=page,
        notice=notice, show_summary=True, body_max=BODY_MAX,
    ))
    response.headers["HX-Retarget"] = "#reply-form"
    response.headers["HX-Reswap"] = "outerHTML"
    return _vary(response)


@bp.post(THREAD + "/reply")
def reply(slug: str, forum_slug: str, thread_id: int) -> Response:
    forum, access, thread = _thread(slug, forum_slug, thread_id)
    if not current_user.is_authenticated:
        return _vary(_sign_in(_thread_url(forum, thread, _page_count(thread))))
    shown_page = _shown_page(thread)
    form = ReplyForm()
    if not access.can_post:
        if wants_fragment():
            return _reply_form_fragment(forum, thread, form, shown_page, notice=POST_REFUSED)
        abort(403, POST_REFUSED)
    problem = "This discussion is locked: no more replies can be added." if thread.locked else None

    def add_reply() -> tuple[Post, int]:
        post = discussions.reply(current_user, thread, form.body.data or "")
        return post, discussions.page_of_post(thread, post)

    if problem is None:
        try:
            done = formflow.save(form, add_reply)
        except Conflict as error:  # locked while they were typing
            db.session.rollback()
            problem = error.message
        else:
            if done:
                post, page = done.value
                return _replied(forum, access, thread, post, page, shown_page)
    if problem is not None:
        if wants_fragment():
            return _reply_form_fragment(forum, thread, form, shown_page, notice=problem)
        return _vary(_render_thread(forum, access, thread, shown_page, form, status=409,
                                    problem=problem))
    if wants_fragment():
        return _reply_form_fragment(forum, thread, form, shown_page)
    return _vary(_render_thread(forum, access, thread, shown_page, form, status=422))


def _replied(forum: Forum, access: ForumAccess, thread: Thread, post: Post, page: int,
             shown_page: int) -> Response:
    """After a reply: the new post and a fresh form for htmx when the post belongs on the
    page being shown; otherwise go to the page that shows it, at the post."""
    url = _thread_url(forum, thread, page, post)
    if not wants_fragment() or page != shown_page:
        flash("Your reply has been posted.", "success")
        return _vary(hx_redirect(url))  # HX-Redirect for htmx, else 303 See Other
    response = make_response(render_template(
        "forums/_post_added.html", forum=forum, access=access, thread=thread, post=post,
        editable={post.id} if permissions.can_edit_post(current_user, post) else set(),
        last_read=None, form=ReplyForm(formdata=None), page=page,
        body_max=BODY_MAX,
    ))
    return _vary(response)


# --- Editing and hiding posts -----------------------------------------------------------


@bp.route(POST + "/edit", methods=["GET", "POST"])
def post_edit(slug: str, forum_slug: str, thread_id: int, post_id: int) -> Page:
    forum, access, thread = _thread(slug, forum_slug, thread_id)
    post = _post(thread, post_id)
    if not current_user.is_authenticated:
        return _sign_in(request.path)
    if not permissions.can_edit_post(current_user, post):
        abort(403, f"You can only edit your own posts, for "
                   f"{permissions.POST_EDIT_WINDOW_MINUTES} minutes after posting.")
    form = EditPostForm(obj=post)

    def edit() -> str:
        discussions.edit_post(current_user, post, form.body.data or "")
        return _post_url(forum, thread, post)  # before the commit expires what it reads

    if done := formflow.save(form, edit):
        flash("Your changes have been saved.", "success")
        return _see_other(done.value)
    return formflow.render(
        "forums/post_edit.html", form, forum=forum, access=access, thread=thread,
        post=post, body_max=BODY_MAX,
        back_url=_post_url(forum, thread, post),
        editable_until=post.created_at + timedelta(
            minutes=permissions.POST_EDIT_WINDOW_MINUTES),
    )


@bp.route(POST + "/delete", methods=["GET", "POST"])
def post_delete(slug: str, forum_slug: str, thread_id: int, post_id: int) -> Page:
    """The author deletes their own post (a page asks first; without JavaScript too)."""
    forum, access, thread = _thread(slug, forum_slug, thread_id)
    post = _post(thread, post_id)
    if not current_user.is_authenticated:
        return _sign_in(request.path)
    back_url = _post_url(forum, thread, post)
    if post.is_deleted:
        flash("This post has already been deleted.")
        return _see_other(back_url)
    if not permissions.can_delete_post(current_user, post):
        abort(403, "You can only delete your own posts.")
    takes_thread = discussions.opens_thread(post) and thread.reply_count == 0
    if request.method == "POST":
        forum_url = url_for("forums.show", slug=forum.partnership.slug, forum_slug=forum.slug)
        if button(lambda: discussions.delete_post(current_user, post)):
            flash("Your discussion has been deleted.", "success")
            return _see_other(forum_url)
        flash("Your post has been deleted. It shows as deleted by its author.", "success")
        return _see_other(back_url)
    return render_template("forums/post_delete.html", forum=forum, access=access,
                           thread=thread, post=post, back_url=back_url,
                           takes_thread=takes_thread, form=ButtonForm())


def _managed_post(slug: str, forum_slug: str, thread_id: int,
                  post_id: int) -> tuple[Forum, ForumAccess, Thread, Post] | Response:
    forum, access, thread = _thread(slug, forum_slug, thread_id)
    post = _post(thread, post_id)
    if not current_user.is_authenticated:
        return _sign_in(_post_url(forum, thread, post) if request.method == "POST"
                        else request.path)
    if not access.can_manage:
        abort(403, MANAGE_REFUSED)
    return forum, access, thread, post


@bp.route(POST + "/hide", methods=["GET", "POST"])
def post_hide(slug: str, forum_slug: str, thread_id: int, post_id: int) -> Page:
    loaded = _managed_post(slug, forum_slug, thread_id, post_id)
    if isinstance(loaded, Response):
        return loaded
    forum, access, thread, post = loaded
    back_url = _post_url(forum, thread, post)
    if post.is_hidden and request.method == "GET":
        flash("This post is already hidden.")
        return _see_other(back_url)
    form = HidePostForm()
    if formflow.save(form, lambda: discussions.hide_post(current_user, post,
                                                         form.reason.data or "")):
        flash("The post has been hidden. Its author can see your reason.", "success")
        return _see_other(back_url)
    return formflow.render("forums/post_hide.html", form, forum=forum, access=access,
                           thread=thread, post=post, back_url=back_url)


@bp.post(POST + "/unhide")
def post_unhide(slug: str, forum_slug: str, thread_id: int, post_id: int) -> Response:
    loaded = _managed_post(slug, forum_slug, thread_id, post_id)
    if isinstance(loaded, Response):
        return loaded
    forum, _access, thread, post = loaded

    def unhide() -> str:
        discussions.unhide_post(current_user, post)
        return _post_url(forum, thread, post)  # before the commit expires what it reads

    url = button(unhide)
    flash("The post is shown again.", "success")
    return _see_other(url)


# --- Pinning and locking ----------------------------------------------------------------


@bp.post(THREAD + "/<any(pin, unpin, lock, unlock):action>")
def thread_moderate(slug: str, forum_slug: str, thread_id: int, action: str) -> Response:
    forum, access, thread = _thread(slug, forum_slug, thread_id)
    if not current_user.is_authenticated:
        return _sign_in(_thread_url(forum, thread))
    if not access.can_manage:
        abort(403, MANAGE_REFUSED)

    def moderate() -> str:
        if action in ("pin", "unpin"):
            discussions.set_pinned(current_user, thread, action == "pin")
        else:
            discussions.set_locked(current_user, thread, action == "lock")
        return _thread_url(forum, thread)  # before the commit expires what it reads

    url = button(moderate)
    flash(MODERATION_DONE[action], "success")
    return _see_other(url)


# --- Following and muting ---------------------------------------------------------------


@bp.post(THREAD + "/subscription")
def thread_subscription(slug: str, forum_slug: str, thread_id: int) -> Response:
    forum, access, thread = _thread(slug, forum_slug, thread_id)
    if not current_user.is_authenticated:
        return _sign_in(_thread_url(forum, thread))
    if access.is_banned:
        abort(403, "You cannot follow this discussion.")
    try:
        subscription = Subscription(request.form.get("subscription", ""))
    except ValueError:
        abort(400)

    def subscribe() -> str:
        discussions.set_subscription(current_user, thread, subscription)
        return _thread_url(forum, thread)  # before the commit expires what it reads

    url = button(subscribe)
    flash(SUBSCRIPTION_DONE[subscription], "success")
    return _see_other(url)
