"""Partnership pages: the public list and page, asking to join, deciding on requests
and editing the details. Thin: load -> authorise -> validate -> service -> commit ->
flash -> redirect (303).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, render_template, request
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import formflow, pagination, permissions
from ..formflow import Page, allowed, found, see_other
from ..forms import ButtonForm
from ..forums import services as forum_services
from ..meetings import queries as meeting_queries
from . import services
from .forms import DeclineForm, JoinForm, PartnershipForm
from .models import Partnership, PartnershipMember
from .routes import bp


def _load(slug: str, may: Callable[[Any, Partnership], bool] | None = None) -> Partnership:
    """The partnership (404 if unknown); 403 if ``may`` (a ``permissions`` check, such as
    ``can_manage_partnership``: its officers and site administrators) says the current
    user may not do what the page does."""
    partnership = found(services.get_by_slug(slug))
    return partnership if may is None else allowed(partnership, may)


def _load_request(partnership: Partnership, member_id: int) -> PartnershipMember:
    return found(services.get_request(partnership, member_id))


@bp.get("/")
def index() -> str:
    return render_template(
        "partnership/index.html",
        partnerships=services.list_partnerships(),
        counts=services.member_counts(),
    )


@bp.get("/<slug>/")
def show(slug: str) -> str:
    partnership = _load(slug)
    groups = services.member_overview(partnership)
    can_manage = permissions.can_manage_partnership(current_user, partnership)
    my_organisations = permissions.admin_organisations(current_user)
    my_links = services.memberships_in(partnership, my_organisations)
    # Convenors only matter to a signed-in viewer ("Create a forum" for a convenor).
    forums = forum_services.list_forums(partnership, convenor_names=False,
                                        convenors=current_user.is_authenticated)
    return render_template(
        "partnership/show.html",
        partnership=partnership,
        forums=forums,
        next_meetings=meeting_queries.next_meetings(current_user,
                                                    partnership_id=partnership.id),
        forum_counts=forum_services.member_counts([forum.id for forum in forums]),
        officers=services.officers(partnership),
        groups=groups,
        member_count=sum(group.total for group in groups),
        small_count=sum(group.small_count for group in groups),
        can_manage=can_manage,
        pending_count=services.pending_count(partnership) if can_manage else 0,
        my_organisations=my_organisations,
        my_links=my_links,
        can_ask=any(services.can_still_ask(my_links.get(org.id)) for org in my_organisations),
    )


@bp.get("/<slug>/members")
def members(slug: str) -> str:
    """Every member organisation, by name, a page at a time (of one sector if asked:
    ``?sector=public``, ``vcse`` or ``other``)."""
    partnership = _load(slug)
    labels = dict(services.SECTOR_GROUPS)
    sector = request.args.get("sector", "")
    sector = sector if sector in labels else ""
    page = pagination.page_number()
    members, total = services.members_page(partnership, sector or None, page)
    pages = pagination.page_count(total, services.MEMBERS_PER_PAGE)
    if page > pages:  # a stale link past the end: show the last page instead
        page = pages
        members, total = services.members_page(partnership, sector or None, page)
    return render_template(
        "partnership/members.html", partnership=partnership, members=members, total=total,
        sector=sector, sector_label=labels.get(sector), sectors=services.SECTOR_GROUPS,
        page=page, pages=pages,
        pagination=pagination.govuk_pagination(
            "partnership.members", page, pages, "Pages of member organisations", slug=slug,
            **({"sector": sector} if sector else {})),
    )


@bp.route("/<slug>/join", methods=["GET", "POST"])
@login_required
def join(slug: str) -> Page:
    partnership = _load(slug)
    my_organisations = permissions.admin_organisations(current_user)
    if not my_organisations:
        return render_template("partnership/join_not_admin.html", partnership=partnership), 403
    links = services.memberships_in(partnership, my_organisations)
    form = JoinForm()
    # Accept any of the user's organisations, so a second "ask" for one already waiting
    # gets the service's clear explanation (409) rather than "not a valid choice".
    form.set_organisations(my_organisations)
    if form.validate_on_submit():
        organisation = next(o for o in my_organisations if str(o.id) == form.organisation.data)
        if formflow.save(form, lambda: services.request_membership(
                current_user, partnership, organisation, form.message.data or ""),
                validate=False):
            flash(
                f"You have asked for {organisation.name} to join {partnership.name}. The "
                "partnership officers will decide, and we will email you when they do.",
                "success",
            )
            return see_other("partnership.show", slug=partnership.slug)
    eligible = [org for org in my_organisations if services.can_still_ask(links.get(org.id))]
    form.set_organisations(eligible)
    return formflow.render(
        "partnership/join.html", form, partnership=partnership, eligible=eligible,
        my_organisations=my_organisations, links=links,
    )


@bp.get("/<slug>/requests")
@login_required
def requests(slug: str) -> str:
    partnership = _load(slug, permissions.can_see_partnership_requests)
    return render_template(
        "partnership/requests.html",
        partnership=partnership,
        pending=services.pending_requests(partnership),
        decided=services.decided_requests(partnership),
        approve_form=ButtonForm(),
        decline_form=DeclineForm(),
    )


@bp.post("/<slug>/requests/<int:member_id>/approve")
@login_required
def approve(slug: str, member_id: int) -> Response:
    partnership = _load(slug, permissions.can_manage_partnership)
    member = _load_request(partnership, member_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    outcome = formflow.apply(lambda: services.decide_membership(current_user, member,
                                                               approve=True))
    if isinstance(outcome, formflow.Refused):
        abort(422, outcome.message)
    flash(
        f"{member.organisation.name} is now a member of {partnership.name}. We have emailed "
        "its admins.",
        "success",
    )
    return see_other("partnership.requests", slug=partnership.slug)


@bp.route("/<slug>/requests/<int:member_id>/decline", methods=["GET", "POST"])
@login_required
def decline(slug: str, member_id: int) -> Page:
    partnership = _load(slug, permissions.can_manage_partnership)
    member = _load_request(partnership, member_id)
    form = DeclineForm()
    if formflow.save(form, lambda: services.decide_membership(
            current_user, member, approve=False, reason=form.reason.data or "")):
        flash(
            f"You have declined {member.organisation.name}'s request. We have emailed its "
            "admins with your reason.",
            "success",
        )
        return see_other("partnership.requests", slug=partnership.slug)
    return formflow.render("partnership/decline.html", form, partnership=partnership,
                           member=member)


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str) -> Page:
    partnership = _load(slug, permissions.can_manage_partnership)
    can_change_slug = permissions.is_site_admin(current_user)
    form = PartnershipForm(obj=partnership)
    form.submit.label.text = "Save changes"
    if can_change_slug:
        form.slug.description = (
            "The end of the partnership's web address: lower-case letters, numbers and "
            "hyphens. Changing it breaks links and calendar subscriptions people already have."
        )
    else:
        del form.slug
    if formflow.save(form, lambda: services.update_partnership(
            current_user, partnership,
            form.details(slug=None if can_change_slug else partnership.slug))):
        flash("Your changes are saved.", "success")
        return see_other("partnership.show", slug=partnership.slug)
    return formflow.render("partnership/edit.html", form, partnership=partnership,
                           can_change_slug=can_change_slug)
