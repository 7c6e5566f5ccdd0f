"""Site administration: the dashboard, creating partnerships, appointing officers and
finding accounts. Every route is for site administrators only (one guard below).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import formflow, mail, once, pagination, permissions
from ..extensions import login_manager
from ..formflow import Page, found, see_other
from ..forms import ButtonForm
from ..modelbase import utcnow
from ..partnership import services as place_services
from ..partnership.forms import PartnershipForm
from ..partnership.models import Partnership
from . import services
from .forms import OfficerForm, UserSearchForm
from .routes import bp


@bp.before_request
def _site_admins_only() -> Response | None:
    """Anonymous visitors go to sign in; signed-in people who are not site admins get 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not permissions.can_view_admin(current_user):
        abort(403)
    return None


def _load_partnership(slug: str) -> Partnership:
    return found(place_services.get_by_slug(slug))


@bp.get("/")
def index() -> str:
    counts = services.dashboard_counts()
    return render_template(
        "admin/index.html",
        counts=counts,
        partnerships=place_services.list_partnerships(),
        pending=place_services.pending_counts(),
        members=place_services.member_counts(),
        failed_emails=mail.failed_messages() if counts.failed_emails else [],
        failing_addresses=mail.failing_addresses(utcnow()),
        repeated_failures=mail.REPEATED_FAILURES,
        repeated_days=mail.REPEATED_WITHIN.days,
        max_attempts=mail.MAX_ATTEMPTS,
    )


@bp.post("/emails/<int:message_id>/retry")
def retry_email(message_id: int) -> Response:
    """Put an email that failed for good back in the outbox for the next run."""
    formflow.button_pressed()
    done = formflow.apply(lambda: mail.retry(current_user, message_id).to)
    if isinstance(done, formflow.Done):
        flash(f"The email to {done.value} will be sent again the next time email is sent.",
              "success")
    return see_other("admin.index", _anchor="failed-emails")


@bp.route("/partnerships/new", methods=["GET", "POST"])
def new_partnership() -> Page:
    form = PartnershipForm()
    form.submit.label.text = "Create partnership"
    if saved := once.save(form, lambda: place_services.create_partnership(
            current_user, form.details()),
            lambda made: url_for("partnership.show", slug=made.slug)):
        flash(once.ALREADY_SENT if saved.value is None else
              f"{saved.value.name} has been created. Next, appoint its officers.",
              "info" if saved.again else "success")
        return redirect(saved.url, code=303)
    return formflow.render("admin/new_partnership.html", form)


@bp.route("/partnerships/<slug>/officers", methods=["GET", "POST"])
def officers(slug: str) -> Page:
    partnership = _load_partnership(slug)
    form = OfficerForm()
    form.set_organisations(services.organisation_choices())
    if form.validate_on_submit():
        org_id = form.organisation_id
        organisation = services.get_organisation(org_id) if org_id else None
        if done := formflow.save(form, lambda: place_services.appoint_officer(
                current_user, partnership, form.email.data or "", form.role_title.data or "",
                organisation,
        ).user.name, validate=False):
            flash(f"{done.value} is now an officer of {partnership.name}. We have emailed them.",
                  "success")
            return see_other("admin.officers", slug=partnership.slug)
    return formflow.render(
        "admin/officers.html", form, partnership=partnership,
        officers=place_services.officers(partnership), remove_form=ButtonForm(),
    )


@bp.post("/partnerships/<slug>/officers/<int:officer_id>/remove")
def remove_officer(slug: str, officer_id: int) -> Response:
    partnership = _load_partnership(slug)
    officer = found(place_services.get_officer(partnership, officer_id))
    formflow.button_pressed()
    name = officer.user.name
    if formflow.apply(lambda: place_services.remove_officer(current_user, officer)):
        flash(f"{name} is no longer an officer of {partnership.name}.", "success")
    return see_other("admin.officers", slug=partnership.slug)


@bp.get("/users")
def users() -> Page:
    form = UserSearchForm(request.args)
    query = (form.q.data or "") if form.validate() else ""
    found, total, page, _pages = pagination.fetch_page(
        lambda number: services.search_users(query, number), services.PAGE_SIZE)
    return formflow.render(
        "admin/users.html", form, users=found, total=total, query=query,
        pagination=_pagination(page, total, query),
    )


def _pagination(page: int, total: int, query: str) -> dict[str, Any] | None:
    """Params for govukPagination (previous/next and numbered pages), or None for one page."""
    pages = max(1, -(-total // services.PAGE_SIZE))
    if pages <= 1:
        return None

    def href(number: int) -> str:
        args: dict[str, Any] = {"page": number}
        if query:
            args["q"] = query
        return url_for("admin.users", **args)

    params: dict[str, Any] = {
        "items": [
            {"number": number, "href": href(number), "current": number == page}
            for number in range(1, pages + 1)
            if number in (1, pages) or abs(number - page) <= 2
        ]
    }
    # Mark gaps with ellipses, as GOV.UK pagination does.
    items: list[dict[str, Any]] = []
    for item in params["items"]:
        if items and item["number"] - items[-1].get("number", 0) > 1:
            items.append({"ellipsis": True})
        items.append(item)
    params["items"] = items
    if page > 1:
        params["previous"] = {"href": href(page - 1)}
    if page < pages:
        params["next"] = {"href": href(page + 1)}
    return params
