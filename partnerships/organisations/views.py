"""Organisation pages. Thin: load, authorise, validate, call the service, commit, redirect.

The public sees the directory and each organisation's profile; colleagues see who
else is a member; admins approve requests to join and manage roles. Every action is
a POST to its own URL and answers 303, so each works without JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import formflow, once, pagination, permissions
from ..errors import Conflict
from ..extensions import db
from ..formflow import Page, allowed, found, see_other
from ..forms import ButtonForm
from ..partnership import services as partnership_services
from . import services
from .domains import usable_as_work_domain, website_domain
from .forms import DeclineForm, EmailDomainsForm, FilterForm, JoinForm, OrganisationForm
from .models import MemberRole, Organisation, OrganisationMember, RequestStatus
from .routes import bp


def _load(key: str, may: Callable[[Any, Organisation], bool] | None = None) -> Organisation:
    """The organisation (404 if unknown); 403 if ``may`` (a ``permissions`` check) says
    the current user may not do what the page does."""
    org = found(services.get_by_id_or_slug(key))
    return org if may is None else allowed(org, may)


def _confirm_first(what: str) -> tuple[str, int]:
    """Unconfirmed accounts are told how to confirm, rather than shown a bare 403."""
    return render_template("organisations/confirm_first.html", what=what), 403


# --- The public directory -----------------------------------------------------------


@bp.get("/")
def index() -> str:
    form = FilterForm(formdata=request.args)
    org_type, sector, small = form.org_type(), form.sector_value(), bool(form.small.data)
    query = (form.q.data or "")[:200]
    organisations, total, page_number, pages = pagination.fetch_page(
        lambda page: services.search(query, org_type, sector, small, page), services.PAGE_SIZE)
    args = {key: value for key, value in {
        "q": query, "type": org_type.value if org_type else "",
        "sector": sector.value if sector else "", "small": "y" if small else "",
    }.items() if value}
    return render_template(
        "organisations/index.html", form=form, organisations=organisations, total=total,
        page=page_number, pages=pages, filtered=bool(args),
        pagination=pagination.govuk_pagination(
            "organisations.index", page_number, pages, "Pages of organisations", **args
        ),
    )


# --- Create and edit ----------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Page:
    if not permissions.can_create_organisation(current_user):
        return _confirm_first("add an organisation")
    form = OrganisationForm()
    if saved := once.save(form, lambda: services.create_organisation(current_user,
                                                                     form.details()),
                          lambda org: url_for("organisations.show", key=org.slug)):
        flash(once.ALREADY_SENT if saved.value is None else
              f"{saved.value.name} has been added. You are its admin.",
              "info" if saved.again else "success")
        return redirect(saved.url, code=303)
    return formflow.render("organisations/form.html", form, organisation=None)


@bp.route("/<key>/edit", methods=["GET", "POST"])
@login_required
def edit(key: str) -> Page:
    org = _load(key, permissions.can_edit_organisation)
    form = OrganisationForm(obj=org)
    if formflow.save(form, lambda: services.update_organisation(current_user, org,
                                                                form.details())):
        flash("Your changes have been saved.", "success")
        return see_other("organisations.show", key=org.slug)
    return formflow.render("organisations/form.html", form, organisation=org)


@bp.route("/<key>/email-domains", methods=["GET", "POST"])
@login_required
def email_domains(key: str) -> Page:
    """The organisation's email domains, and whether its staff's line managers must be
    on them (so nobody approves their own secondment from a private address)."""
    org = _load(key, permissions.can_set_organisation_email_domains)
    form = EmailDomainsForm()
    if not form.is_submitted():
        form.fill(org)
    if done := formflow.save(form, lambda: services.set_email_domains(
            current_user, org, form.email_domains.data or "",
            bool(form.require_manager_email_domain.data))):
        flash("Your email domains have been saved." if done.value
              else "Nothing has changed.", "success" if done.value else "info")
        return see_other("organisations.show", key=org.slug)
    site = website_domain(org.website)
    return formflow.render("organisations/email_domains.html", form, organisation=org,
                           website_domain=site if usable_as_work_domain(site) else None)


# --- The profile page ---------------------------------------------------------------


def _render_show(org: Organisation, problem: str | None = None, status: int = 200) -> Page:
    """The profile, with what this viewer may see; ``problem`` shows an error summary."""
    link = permissions.organisation_membership(current_user, org)
    can_see_members = permissions.can_see_organisation_members(current_user, org)
    return render_template(
        "organisations/show.html",
        organisation=org,
        partnerships=partnership_services.active_partnerships(org),
        link=link,
        members=services.active_members(org) if can_see_members else None,
        can_edit=permissions.can_edit_organisation(current_user, org),
        can_ask_to_join=permissions.can_ask_to_join_organisation(current_user, org),
        action_form=ButtonForm(),
        problem=problem,
    ), status


@bp.get("/<key>/")
def show(key: str) -> Page:
    return _render_show(_load(key))


@bp.post("/<key>/leave")
@login_required
def leave(key: str) -> Page:
    org = _load(key)
    link = permissions.organisation_membership(current_user, org)
    if link is None or link.status is not RequestStatus.ACTIVE:
        abort(403)
    outcome = formflow.apply(lambda: services.remove_member(current_user, link))
    if isinstance(outcome, formflow.Refused):
        return _render_show(org, problem=outcome.message, status=422)
    flash(f"You have left {org.name}.", "success")
    return see_other("organisations.mine")


# --- Asking to join -----------------------------------------------------------------


@bp.route("/<key>/join", methods=["GET", "POST"])
@login_required
def join(key: str) -> Page:
    org = _load(key)
    if not permissions.has_confirmed_email(current_user):
        return _confirm_first(f"ask to join {org.name}")
    if not permissions.can_ask_to_join_organisation(current_user, org):
        link = permissions.organisation_membership(current_user, org)
        if link is not None and link.status is RequestStatus.PENDING:
            flash(f"You have already asked to join {org.name}. An admin will decide soon.")
        else:
            flash(f"You are already a member of {org.name}.")
        return see_other("organisations.show", key=org.slug)
    form = JoinForm()
    try:
        if formflow.save(form, lambda: services.request_to_join(
                current_user, org, form.job_title.data or "", form.message.data or "")):
            flash(f"You have asked to join {org.name}. We will email you when an admin "
                  "decides.", "success")
            return see_other("organisations.show", key=org.slug)
    except Conflict as error:  # e.g. the same request sent twice from two tabs
        db.session.rollback()
        flash(error.message)
        return see_other("organisations.show", key=org.slug)
    return formflow.render("organisations/join.html", form, organisation=org)


# --- Members and requests -----------------------------------------------------------


def _render_members(org: Organisation, problem: str | None = None, status: int = 200) -> Page:
    can_manage = permissions.can_manage_organisation_members(current_user, org)
    return render_template(
        "organisations/members.html",
        organisation=org,
        members=services.active_members(org),
        pending=services.pending_requests(org) if can_manage else [],
        can_manage=can_manage,
        action_form=ButtonForm(),
        problem=problem,
    ), status


@bp.get("/<key>/members")
@login_required
def members(key: str) -> Page:
    org = _load(key, permissions.can_see_organisation_members)
    return _render_members(org)


def _managed_link(key: str, member_id: int) -> tuple[Organisation, OrganisationMember]:
    """The organisation and one of its member links, if this user may manage members."""
    org = _load(key, permissions.can_manage_organisation_members)
    return org, found(services.get_member_link(org, member_id))


def _member_action(key: str, member_id: int, *, act: Callable[[OrganisationMember], None],
                   done: str) -> Page:
    """Run one admin action from the members page, then go back to it (303)."""
    org, link = _managed_link(key, member_id)
    name = link.user.display_name
    outcome = formflow.apply(lambda: act(link))
    if isinstance(outcome, formflow.Refused):
        return _render_members(org, problem=outcome.message, status=422)
    flash(done.format(name=name, org=org.name), "success")
    return see_other("organisations.members", key=org.slug)


# The members page's buttons, each a POST to its own URL: the end of the URL and the
# endpoint, what the service does to the person's link, and what the admin is told.
MEMBER_ACTIONS: list[tuple[str, str, Callable[[OrganisationMember], None], str]] = [
    ("approve", "approve",
     lambda link: services.decide_join_request(current_user, link, approve=True),
     "{name} is now a member of {org}. We have emailed them."),
    ("make-admin", "make_admin",
     lambda link: services.set_role(current_user, link, MemberRole.ADMIN),
     "{name} is now an admin of {org}."),
    ("remove-admin", "remove_admin",
     lambda link: services.set_role(current_user, link, MemberRole.MEMBER),
     "{name} is no longer an admin of {org}."),
    ("remove", "remove",
     lambda link: services.remove_member(current_user, link),
     "{name} has been removed from {org}."),
]
for _path, _endpoint, _act, _done in MEMBER_ACTIONS:
    bp.add_url_rule(f"/<key>/members/<int:member_id>/{_path}", _endpoint,
                    login_required(partial(_member_action, act=_act, done=_done)),
                    methods=["POST"])


@bp.route("/<key>/members/<int:member_id>/decline", methods=["GET", "POST"])
@login_required
def decline(key: str, member_id: int) -> Page:
    org, link = _managed_link(key, member_id)
    if link.status is not RequestStatus.PENDING:
        raise Conflict("This request has already been decided, perhaps by another admin.")
    form = DeclineForm()
    if formflow.save(form, lambda: services.decide_join_request(
            current_user, link, approve=False, reason=form.reason.data or "")):
        flash(f"You declined {link.user.display_name}'s request. We have emailed them "
              "your reason.", "success")
        return see_other("organisations.members", key=org.slug)
    return formflow.render("organisations/decline.html", form, organisation=org, link=link)


# --- The signed-in user's own organisations -----------------------------------------


@bp.get("/mine")
@login_required
def mine() -> str:
    links = services.memberships_of(current_user)
    active = sorted((link for link in links if link.status is RequestStatus.ACTIVE),
                    key=lambda link: link.organisation.name.lower())
    admin_org_ids = [link.organisation_id for link in active if link.is_admin]
    partnership_links = partnership_services.memberships_for_organisations(admin_org_ids)
    by_org: dict[int, list[Any]] = {}
    for member in partnership_links:
        by_org.setdefault(member.organisation_id, []).append(member)
    return render_template(
        "organisations/mine.html",
        active=active,
        pending=[link for link in links if link.status is RequestStatus.PENDING],
        declined=[link for link in links if link.status is RequestStatus.DECLINED],
        admin_links=[link for link in active if link.is_admin],
        partnership_links=by_org,
    )
