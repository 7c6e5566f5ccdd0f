"""Opportunity pages: browse with filters, each opportunity's page, posting and editing,
publishing, closing, reopening and withdrawing, the host's list of applications,
"My opportunities" and the figures by direction.

Thin: load -> authorise (``permissions``) -> the form-view flow (``formflow``).
Drafts are 404 to everyone but the host, so they reveal nothing.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import formflow, once, pagination, permissions
from ..formflow import Page, press, see_other
from ..forms import ButtonForm
from ..htmx import render_page_or_partial
from ..timeutil import today_uk
from . import applications as application_rules
from . import placements, services
from .forms import FilterForm, OpportunityForm, WithdrawOpportunityForm
from .models import Opportunity, OpportunityStatus
from .routes import bp
from .view_helpers import load_visible

# --- Loading and authorising -------------------------------------------------------------


def _to_opportunity(opportunity: Opportunity) -> Response:
    return see_other("opportunities.show", opportunity_id=opportunity.id)


def _managed(opportunity_id: int, withdrawn: str = "") -> Opportunity:
    """An opportunity this person hosts: anonymous people sign in first, others get 403.
    ``withdrawn``, if given, is the 409 page's message for a withdrawn opportunity."""
    opportunity = load_visible(opportunity_id)
    if not current_user.is_authenticated:
        abort(current_app.login_manager.unauthorized())  # type: ignore[attr-defined]
    if not permissions.can_manage_opportunity(current_user, opportunity):
        abort(403)
    if withdrawn and opportunity.status is OpportunityStatus.WITHDRAWN:
        abort(409, withdrawn)
    return opportunity


# --- Browse -------------------------------------------------------------------------------


@bp.get("/opportunities/")
def index() -> Response:
    partnerships = services.partnership_choices()
    form = FilterForm(formdata=request.args)
    form.set_partnerships(partnerships)
    filters = form.filters(partnerships)
    today = today_uk()
    opportunities, total, page, pages = pagination.fetch_page(
        lambda number: services.browse(filters, number, today), services.PAGE_SIZE)
    args = form.query_args(filters)
    return render_page_or_partial(
        "opportunities/index.html", "opportunities/_results_fragment.html",
        form=form, opportunities=opportunities, total=total, page_number=page, pages=pages,
        filtered=filters.any, today=today,
        closing_soon_days=services.CLOSING_SOON_DAYS,
        pagination=pagination.govuk_pagination(
            "opportunities.index", page, pages, "Pages of opportunities", **args
        ),
    )


# --- Posting and editing -------------------------------------------------------------------


@bp.route("/opportunities/new", methods=["GET", "POST"])
@login_required
def new() -> Page:
    organisations = services.host_organisations(current_user)
    if not organisations:
        abort(403, "Only admins of an organisation, and the members they allow, can post "
                   "opportunities for it. Ask an admin of your organisation to allow you to "
                   "post opportunities, or to post it for you.")
    form = OpportunityForm()
    if not form.is_submitted() and len(organisations) == 1:
        form.organisation_id.data = str(organisations[0].id)
    form.set_choices(organisations,
                     services.partnerships_of([org.id for org in organisations]))

    def create() -> Opportunity:
        organisation = form.chosen_organisation(organisations)
        assert organisation is not None  # checked by the form
        return services.create_opportunity(current_user, organisation, form.details())

    if saved := once.save(form, create, lambda made: url_for("opportunities.show",
                                                            opportunity_id=made.id)):
        flash(once.ALREADY_SENT if saved.again else "Your opportunity has been saved as a "
              "draft. Publish it when it is ready.", "info" if saved.again else "success")
        return redirect(saved.url, code=303)
    return formflow.render("opportunities/form.html", form, opportunity=None)


@bp.route("/opportunities/<int:opportunity_id>/edit", methods=["GET", "POST"])
@login_required
def edit(opportunity_id: int) -> Page:
    opportunity = _managed(opportunity_id, withdrawn="This opportunity has been withdrawn, "
                                                     "so it cannot be changed.")
    form = OpportunityForm(obj=opportunity)
    if not form.is_submitted():
        form.fill(opportunity)
    form.set_choices(None, services.partnerships_of([opportunity.organisation_id]))
    if formflow.save(form, lambda: services.update_opportunity(current_user, opportunity,
                                                               form.details())):
        flash("Your changes have been saved.", "success")
        return _to_opportunity(opportunity)
    return formflow.render("opportunities/form.html", form, opportunity=opportunity)


# --- An opportunity's page -----------------------------------------------------------------


@bp.get("/opportunities/<int:opportunity_id>/")
def show(opportunity_id: int) -> Page:
    opportunity = load_visible(opportunity_id)
    manages = permissions.can_manage_opportunity(current_user, opportunity)
    today = today_uk()
    context: dict[str, Any] = {}
    if manages:
        context["counts"] = services.host_counts([opportunity.id])[opportunity.id]
    return render_template(
        "opportunities/show.html",
        opportunity=opportunity,
        manages=manages,
        closed_note=services.closing_note(opportunity, today),
        application=application_rules.find_for(current_user, opportunity),
        today=today,
        form=ButtonForm(),
        **context,
    )


@bp.post("/opportunities/<int:opportunity_id>/publish")
@login_required
def publish(opportunity_id: int) -> Response:
    opportunity = _managed(opportunity_id)
    return press(lambda: services.publish(current_user, opportunity),
                 "Your opportunity is published. Anyone can now find it and apply.",
                 _to_opportunity(opportunity))


@bp.post("/opportunities/<int:opportunity_id>/close")
@login_required
def close(opportunity_id: int) -> Response:
    opportunity = _managed(opportunity_id)
    return press(lambda: services.close(current_user, opportunity),
                 "The opportunity is closed. It takes no more applications; you can still "
                 "decide on the ones you have.", _to_opportunity(opportunity))


@bp.post("/opportunities/<int:opportunity_id>/reopen")
@login_required
def reopen(opportunity_id: int) -> Response:
    opportunity = _managed(opportunity_id)
    return press(lambda: services.reopen(current_user, opportunity),
                 "The opportunity is open for applications again.",
                 _to_opportunity(opportunity))


@bp.route("/opportunities/<int:opportunity_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(opportunity_id: int) -> Page:
    opportunity = _managed(opportunity_id,
                           withdrawn="This opportunity has already been withdrawn.")
    form = WithdrawOpportunityForm()
    if done := formflow.save(form, lambda: services.withdraw(current_user, opportunity,
                                                            form.reason.data or "")):
        people = "1 applicant" if done.value == 1 else f"{done.value} applicants"
        flash(f"The opportunity has been withdrawn. We have told {people}.", "success")
        return _to_opportunity(opportunity)
    return formflow.render("opportunities/withdraw.html", form, opportunity=opportunity)


# --- The host's applications ----------------------------------------------------------------


@bp.get("/opportunities/<int:opportunity_id>/applications")
@login_required
def applications(opportunity_id: int) -> Page:
    opportunity = _managed(opportunity_id)
    visible, waiting = application_rules.for_host(opportunity)
    return render_template("opportunities/applications.html", opportunity=opportunity,
                           applications=visible, waiting=waiting,
                           manager_checks={a.id: application_rules.manager_check_for(a)
                                           for a in visible})


@bp.get("/my/opportunities")
@login_required
def mine() -> str:
    opportunities = services.managed_opportunities(current_user)
    return render_template(
        "opportunities/mine.html", opportunities=opportunities,
        counts=services.host_counts([o.id for o in opportunities]),
        can_post=bool(services.host_organisations(current_user)), today=today_uk(),
        admin_of=permissions.admin_organisations(current_user),
    )


# --- Figures ------------------------------------------------------------------------------


@bp.get("/opportunities/figures")
def figures() -> str:
    partnerships = services.all_partnerships()
    slug = request.args.get("partnership", "")
    partnership = next((p for p in partnerships if p.slug == slug), None)
    counts, other = placements.direction_counts(partnership.id if partnership else None)
    return render_template("opportunities/figures.html", partnerships=partnerships,
                           partnership=partnership, counts=counts, other=other,
                           total=sum(counts.values()) + other)
