"""Forum pages: the partnership's forums, each forum's page, creating and editing forums,
joining and leaving, requests, members, bans, invitations, convenors and "My forums".

Thin: load -> authorise (``permissions.forum_access``, computed once per request) ->
validate -> service -> commit -> flash -> redirect (303). For a members-only forum,
whoever cannot read it gets 404 for every page below the forum's own page, so neither
its members nor its management pages reveal anything. Discussion threads are in
``thread_views``.
"""

from __future__ import annotations

from itertools import groupby
from typing import TYPE_CHECKING, Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import formflow, once, pagination, permissions
from ..accounts.services import find_by_email
from ..errors import Conflict
from ..extensions import db
from ..formflow import Page, allowed, found, see_other
from ..forms import ButtonForm
from ..meetings import queries as meeting_queries
from ..membership import history_labels
from ..organisations.models import Organisation
from ..partnership import services as partnership_services
from ..partnership.models import Partnership
from ..redirects import safe_next_url
from . import discussions, services
from .forms import ConvenorForm, DeclineForm, ForumForm, InviteForm, JoinForm, RemoveForm
from .models import Forum, ForumMember, ForumMemberStatus, MembershipPolicy
from .routes import bp
from .view_helpers import button

if TYPE_CHECKING:
    from ..permissions import ForumAccess

# What each membership event in the history means, in plain English: the join-request
# flow's words, and a forum's own events (leaving, removal, bans, invitations).
HISTORY_LABELS = history_labels(
    "forum.member_",
    left="Left the forum",
    removed="Removed a member",
    banned="Removed a member and banned them from rejoining",
    unbanned="Lifted a ban",
    invited="Invited someone by email",
    invitation_withdrawn="Withdrew an invitation",
    accepted_invitation="Accepted an invitation and joined",
)


# --- Loading and authorising -------------------------------------------------------------


def _to_forum(forum: Forum) -> Response:
    return see_other("forums.show", slug=forum.partnership.slug, forum_slug=forum.slug)


def _partnership(slug: str) -> Partnership:
    return found(partnership_services.get_by_slug(slug))


def _forum(slug: str, forum_slug: str, convenors: bool = True) -> tuple[Forum, ForumAccess]:
    """The forum (404 if unknown) and what the current person may do in it."""
    forum = found(services.find_forum(slug, forum_slug, convenors=convenors))
    return forum, permissions.forum_access(current_user, forum)


def _readable(slug: str, forum_slug: str, convenors: bool = True) -> tuple[Forum, ForumAccess]:
    """A forum whose insides this person may read; otherwise sign in first, or the page
    saying it is for the forum's members (``permissions.refuse``)."""
    forum, access = _forum(slug, forum_slug, convenors)
    if not access.can_read:
        permissions.refuse(current_user, permissions.forum_audience(current_user, forum, "page"))
    return forum, access


def _managed(slug: str, forum_slug: str, convenors: bool = True) -> tuple[Forum, ForumAccess]:
    """A forum this person runs. Non-readers get 404, anonymous visitors of a public forum
    the sign-in page, and other signed-in people 403."""
    forum, access = _readable(slug, forum_slug, convenors)
    if not current_user.is_authenticated:
        abort(current_app.login_manager.unauthorized())  # type: ignore[attr-defined]
    if not access.can_manage:
        abort(403)
    return forum, access


def _button_pressed() -> None:
    """A button-only form must carry a valid CSRF token (checked by Flask-WTF)."""
    if not ButtonForm().validate_on_submit():
        abort(400)


def _back(default: str) -> Response:
    """Back to where the button was (a hidden ``next`` field), if it is on this site."""
    return redirect(safe_next_url(request.form.get("next"), default), code=303)


def _forum_url(forum: Forum, endpoint: str = "forums.show") -> str:
    return url_for(endpoint, slug=forum.partnership.slug, forum_slug=forum.slug)


# --- The partnership's forums ------------------------------------------------------------


@bp.get("/partnerships/<slug>/forums/")
def index(slug: str) -> str:
    partnership = _partnership(slug)
    forums = services.list_forums(partnership)
    return render_template(
        "forums/index.html",
        partnership=partnership,
        forums=forums,
        counts=services.member_counts([forum.id for forum in forums]),
        can_create=permissions.can_create_forum_among(current_user, partnership, forums),
    )


@bp.route("/partnerships/<slug>/forums/new", methods=["GET", "POST"])
@login_required
def new(slug: str) -> Page:
    partnership = allowed(_partnership(slug), permissions.can_create_forum)
    form = ForumForm()
    if saved := once.save(form, lambda: services.create_forum(
            current_user, partnership, form.details(), form.convenor_emails(),
            convene_myself=bool(form.convene_myself.data)),
            lambda forum: url_for("forums.show", slug=forum.partnership.slug,
                                  forum_slug=forum.slug)):
        flash(once.ALREADY_SENT if saved.value is None else
              f"{saved.value.name} has been created.", "info" if saved.again else "success")
        return redirect(saved.url, code=303)
    return formflow.render("forums/form.html", form, partnership=partnership, forum=None)


# --- A forum's page ----------------------------------------------------------------------


def _render_show(forum: Forum, access: ForumAccess, problem: str | None = None,
                 status: int = 200) -> Page:
    """The forum's page: what it is, who runs it, how to join; its discussions for readers."""
    context: dict[str, Any] = {}
    if access.can_read:
        threads, total, page, pages = pagination.fetch_page(
            lambda number: discussions.threads_page(forum, number),
            discussions.THREADS_PER_PAGE)
        context.update(
            threads=threads,
            thread_total=total,
            thread_states=discussions.states_for(current_user, [t.id for t in threads]),
            thread_pagination=pagination.govuk_pagination(
                "forums.show", page, pages, "Pages of discussions",
                slug=forum.partnership.slug, forum_slug=forum.slug,
            ),
            member_count=services.member_counts([forum.id]).get(forum.id, 0),
        )
    can_join = (access.signed_in and not access.is_member and not access.is_pending
                and not access.is_banned
                and forum.membership_policy is not MembershipPolicy.BY_INVITATION)
    return render_template(
        "forums/show.html",
        forum=forum,
        partnership=forum.partnership,
        access=access,
        can_join=can_join,
        # Offer to join for an organisation only to people who run one.
        runs_organisations=bool(
            can_join and forum.membership_policy is MembershipPolicy.OPEN
            and permissions.admin_organisations(current_user)
        ),
        pending_count=(services.pending_counts([forum.id]).get(forum.id, 0)
                       if access.can_manage else 0),
        problem=problem,
        next_meetings=meeting_queries.next_meetings(current_user, forum_id=forum.id),
        # Insiders see every meeting of the forum: nothing hidden, no query.
        hidden_meetings=(0 if access.is_insider or access.is_site_admin else
                         meeting_queries.hidden_upcoming_count(current_user, forum_id=forum.id)),
        can_schedule=access.can_manage,
        **context,
    ), status


@bp.get("/partnerships/<slug>/forums/<forum_slug>/")
def show(slug: str, forum_slug: str) -> Page:
    forum, access = _forum(slug, forum_slug)
    return _render_show(forum, access)


# --- Joining, withdrawing, leaving -------------------------------------------------------


@bp.route("/partnerships/<slug>/forums/<forum_slug>/join", methods=["GET", "POST"])
@login_required
def join(slug: str, forum_slug: str) -> Page:
    forum, access = _forum(slug, forum_slug)
    if not permissions.has_confirmed_email(current_user):
        return render_template("organisations/confirm_first.html",
                               what=f"join {forum.name}"), 403
    if access.is_banned:
        abort(403, "You cannot join this forum. A convenor has barred you from it.")
    if access.is_member:
        flash(f"You are already a member of {forum.name}.")
        return _to_forum(forum)
    if access.is_pending:
        flash(f"You have already asked to join {forum.name}. A convenor will decide, and we "
              "will email you.")
        return _to_forum(forum)
    if forum.membership_policy is MembershipPolicy.BY_INVITATION:
        abort(403, f"{forum.name} is by invitation only. Ask a convenor to invite you.")
    organisations = permissions.admin_organisations(current_user)
    form = JoinForm()
    form.set_organisations(organisations)
    is_open = forum.membership_policy is MembershipPolicy.OPEN
    if is_open:
        form.submit.label.text = "Join this forum"
    try:
        if formflow.save(form, lambda: services.join(
                current_user, forum, form.organisation(organisations),
                "" if is_open else form.introduction.data or "")):
            if is_open:
                flash(f"You are now a member of {forum.name}.", "success")
            else:
                flash(f"You have asked to join {forum.name}. A convenor will decide, and we "
                      "will email you when they do.", "success")
            return _to_forum(forum)
    except Conflict as error:  # the same request sent twice, e.g. from two tabs
        db.session.rollback()
        flash(error.message)
        return _to_forum(forum)
    return formflow.render("forums/join.html", form, forum=forum, partnership=forum.partnership,
                           organisations=organisations, is_open=is_open)


@bp.post("/partnerships/<slug>/forums/<forum_slug>/join/withdraw")
@login_required
def withdraw(slug: str, forum_slug: str) -> Response:
    forum, _access = _forum(slug, forum_slug, convenors=False)
    _button_pressed()
    button(lambda: services.withdraw(current_user, forum))
    flash(f"You have withdrawn your request to join {forum.name}.", "success")
    return _back(_forum_url(forum))


@bp.post("/partnerships/<slug>/forums/<forum_slug>/leave")
@login_required
def leave(slug: str, forum_slug: str) -> Page:
    forum, access = _forum(slug, forum_slug)
    _button_pressed()
    outcome = formflow.apply(lambda: services.leave(current_user, forum))
    if isinstance(outcome, formflow.Refused):
        return _render_show(forum, access, problem=outcome.message, status=422)
    ended = outcome.value
    flash(f"You have left {forum.name}." + (
        " Your registration for one of its members-only meetings is cancelled."
        if ended == 1 else
        f" Your registrations for {ended} of its members-only meetings are cancelled."
        if ended else ""), "success")
    return _to_forum(forum)


# --- Members, removal and bans -----------------------------------------------------------


def _by_organisation(members: list[ForumMember]) -> list[tuple[Organisation | None,
                                                               list[ForumMember]]]:
    """Members grouped by the organisation they represent (in the service's order)."""
    return [(group[0].organisation, group) for group in (
        list(rows) for _key, rows in groupby(members, key=lambda m: m.organisation_id)
    )]


@bp.get("/partnerships/<slug>/forums/<forum_slug>/members")
def members(slug: str, forum_slug: str) -> str:
    forum, access = _readable(slug, forum_slug, convenors=False)
    rows, total, page, pages = pagination.fetch_page(
        lambda number: services.members_page(forum, number), services.MEMBERS_PER_PAGE)
    return render_template(
        "forums/members.html",
        forum=forum,
        partnership=forum.partnership,
        access=access,
        groups=_by_organisation(rows),
        total=total,
        # Convenors are loaded only for managers, who see Remove and Ban actions.
        convenor_ids={c.user_id for c in forum.convenors} if access.can_manage else set(),
        member_pagination=pagination.govuk_pagination(
            "forums.members", page, pages, "Pages of members",
            slug=forum.partnership.slug, forum_slug=forum.slug,
        ),
    )


@bp.route("/partnerships/<slug>/forums/<forum_slug>/members/<int:member_id>/remove",
          methods=["GET", "POST"])
def remove_member(slug: str, forum_slug: str, member_id: int) -> Page:
    forum, _access = _managed(slug, forum_slug)
    membership = found(services.get_membership(forum, member_id))
    form = RemoveForm()
    if request.method == "GET" and request.args.get("ban"):
        form.ban.data = True
    name, banned = membership.user.display_name, bool(form.ban.data)
    if formflow.save(form, lambda: services.remove_member(
            current_user, membership, form.reason.data or "", ban=banned)):
        flash(f"{name} has been removed{' and banned' if banned else ''}. We have "
              "emailed them your reason.", "success")
        return see_other("forums.members", slug=slug, forum_slug=forum.slug)
    return formflow.render("forums/remove.html", form, forum=forum,
                           partnership=forum.partnership, membership=membership)


@bp.get("/partnerships/<slug>/forums/<forum_slug>/bans")
def bans(slug: str, forum_slug: str) -> str:
    forum, _access = _managed(slug, forum_slug)
    return render_template("forums/bans.html", forum=forum, partnership=forum.partnership,
                           bans=services.bans(forum))


@bp.post("/partnerships/<slug>/forums/<forum_slug>/bans/<int:ban_id>/lift")
def lift_ban(slug: str, forum_slug: str, ban_id: int) -> Response:
    forum, _access = _managed(slug, forum_slug)
    ban = found(services.get_ban(forum, ban_id))
    _button_pressed()
    name = ban.user.display_name
    button(lambda: services.lift_ban(current_user, ban))
    flash(f"The ban on {name} has been lifted. They can join or ask to join again.",
          "success")
    return see_other("forums.bans", slug=slug, forum_slug=forum.slug)


# --- Requests and history ----------------------------------------------------------------


def _request(forum: Forum, member_id: int) -> ForumMember:
    """A membership of this forum (404 otherwise); deciding one that is no longer waiting
    is the service's Conflict (409)."""
    return found(services.get_membership(forum, member_id))


@bp.get("/partnerships/<slug>/forums/<forum_slug>/requests")
def requests(slug: str, forum_slug: str) -> str:
    forum, _access = _managed(slug, forum_slug)
    events = services.history(forum)
    people = services.users_by_id({
        event.details["user_id"] for event in events
        if isinstance(event.details.get("user_id"), int)
    })
    return render_template(
        "forums/requests.html",
        forum=forum,
        partnership=forum.partnership,
        pending=services.pending_requests(forum),
        events=events,
        people=people,
        labels=HISTORY_LABELS,
    )


@bp.post("/partnerships/<slug>/forums/<forum_slug>/requests/<int:member_id>/approve")
def approve(slug: str, forum_slug: str, member_id: int) -> Response:
    forum, _access = _managed(slug, forum_slug)
    membership = _request(forum, member_id)
    _button_pressed()
    button(lambda: services.decide(current_user, membership, approve=True))
    flash(f"{membership.user.display_name} is now a member of {forum.name}. We have emailed "
          "them.", "success")
    return see_other("forums.requests", slug=slug, forum_slug=forum.slug)


@bp.route("/partnerships/<slug>/forums/<forum_slug>/requests/<int:member_id>/decline",
          methods=["GET", "POST"])
def decline(slug: str, forum_slug: str, member_id: int) -> Page:
    forum, _access = _managed(slug, forum_slug)
    membership = _request(forum, member_id)
    if membership.status is not ForumMemberStatus.PENDING:
        raise Conflict("This request has already been decided or withdrawn, perhaps by "
                       "another convenor.")
    form = DeclineForm()
    if formflow.save(form, lambda: services.decide(current_user, membership, approve=False,
                                                   reason=form.reason.data or "")):
        flash(f"You have declined {membership.user.display_name}'s request. We have "
              "emailed them your reason.", "success")
        return see_other("forums.requests", slug=slug, forum_slug=forum.slug)
    return formflow.render("forums/decline.html", form, forum=forum,
                           partnership=forum.partnership, membership=membership)


# --- Invitations -------------------------------------------------------------------------


@bp.route("/partnerships/<slug>/forums/<forum_slug>/invitations", methods=["GET", "POST"])
def invitations(slug: str, forum_slug: str) -> Page:
    forum, _access = _managed(slug, forum_slug)
    organisations = services.invitable_organisations()
    form = InviteForm()
    form.set_organisations(organisations)
    if done := formflow.save(form, lambda: services.invite(
            current_user, forum, form.email.data or "", form.chosen(organisations),
            form.message.data or "")):
        invitation, _token = done.value
        flash(f"We have emailed an invitation to {invitation.email}.", "success")
        return see_other("forums.invitations", slug=slug, forum_slug=forum.slug)
    return formflow.render("forums/invitations.html", form, forum=forum,
                           partnership=forum.partnership,
                           invitations=services.open_invitations(forum))


@bp.post("/partnerships/<slug>/forums/<forum_slug>/invitations/<int:invitation_id>/withdraw")
def withdraw_invitation(slug: str, forum_slug: str, invitation_id: int) -> Response:
    forum, _access = _managed(slug, forum_slug)
    invitation = found(services.get_invitation(forum, invitation_id))
    _button_pressed()
    button(lambda: services.revoke_invitation(current_user, invitation))
    flash(f"The invitation to {invitation.email} has been withdrawn. The link no longer "
          "works.", "success")
    return see_other("forums.invitations", slug=slug, forum_slug=forum.slug)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str) -> Page:
    """The emailed link: shows the forum, and accepts once the right person is signed in.
    Unknown links are 404; used, withdrawn or expired ones 409 (the service says which)."""
    invite = services.invitation_for_token(token)
    forum = invite.forum
    if request.method == "POST":
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined,no-any-return]
        _button_pressed()
        button(lambda: services.accept_invitation(current_user, token))
        flash(f"You are now a member of {forum.name}.", "success")
        return _to_forum(forum)
    has_account = (find_by_email(invite.email) is not None
                   if not current_user.is_authenticated else True)
    return render_template(
        "forums/invitation.html", invitation=invite, forum=forum,
        partnership=forum.partnership, has_account=has_account,
        right_account=(current_user.is_authenticated
                       and current_user.email.lower() == invite.email),
    )


# --- Editing and convenors ---------------------------------------------------------------


@bp.route("/partnerships/<slug>/forums/<forum_slug>/edit", methods=["GET", "POST"])
def edit(slug: str, forum_slug: str) -> Page:
    forum, _access = _managed(slug, forum_slug)
    form = ForumForm(obj=forum)
    del form.convene_myself
    del form.convenors
    form.submit.label.text = "Save changes"
    if request.method == "GET":
        form.tags.data = ", ".join(forum.tag_list)
    if formflow.save(form, lambda: services.update_forum(current_user, forum, form.details())):
        flash("Your changes are saved.", "success")
        return _to_forum(forum)
    return formflow.render("forums/form.html", form, partnership=forum.partnership, forum=forum)


def _render_convenors(forum: Forum, form: ConvenorForm, problem: str | None = None,
                      status: int = 200) -> Page:
    return render_template("forums/convenors.html", forum=forum,
                           partnership=forum.partnership, form=form, problem=problem), status


@bp.route("/partnerships/<slug>/forums/<forum_slug>/convenors", methods=["GET", "POST"])
def convenors(slug: str, forum_slug: str) -> Page:
    forum, _access = _managed(slug, forum_slug)
    form = ConvenorForm()
    if done := formflow.save(form, lambda: services.add_convenor(current_user, forum,
                                                                 form.email.data or "")):
        flash(f"{done.value.user.display_name} is now a convenor of {forum.name}.",
              "success")
        return see_other("forums.convenors", slug=slug, forum_slug=forum.slug)
    return _render_convenors(forum, form, status=formflow.status_for(form))


@bp.post("/partnerships/<slug>/forums/<forum_slug>/convenors/<int:convenor_id>/remove")
def remove_convenor(slug: str, forum_slug: str, convenor_id: int) -> Page:
    forum, _access = _managed(slug, forum_slug)
    convenor = found(next((c for c in forum.convenors if c.id == convenor_id), None))
    _button_pressed()
    name = convenor.user.display_name
    outcome = formflow.apply(lambda: services.remove_convenor(current_user, convenor))
    if isinstance(outcome, formflow.Refused):
        return _render_convenors(forum, ConvenorForm(formdata=None), problem=outcome.message,
                                 status=422)
    flash(f"{name} is no longer a convenor of {forum.name}. They are still a member.",
          "success")
    if not permissions.can_manage_forum(current_user, forum):
        return _to_forum(forum)
    return see_other("forums.convenors", slug=slug, forum_slug=forum.slug)


# --- My forums ---------------------------------------------------------------------------


@bp.get("/my/forums")
@login_required
def mine() -> str:
    memberships = services.my_memberships(current_user)
    convened = services.convened_forums(current_user)
    return render_template(
        "forums/mine.html",
        active=[m for m in memberships if m.status is ForumMemberStatus.ACTIVE],
        pending=[m for m in memberships if m.status is ForumMemberStatus.PENDING],
        decisions=services.my_decisions(current_user),
        convened=convened,
        pending_counts=services.pending_counts([forum.id for forum in convened]),
        unread=discussions.unread_threads(current_user),
    )
