"""The engagement record (public) and the engagement plan form (officers). Thin: load ->
authorise -> validate -> service -> commit -> flash -> redirect (303)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import formflow, once, permissions
from ..formflow import Page, allowed, found, see_other
from ..partnership import services as partnership_services
from ..partnership.models import Partnership
from ..timeutil import today_uk
from . import charts, record, reports, services
from .forms import plan_form
from .models import DEFAULT_MINUTES_DAYS
from .routes import bp


def _partnership(slug: str) -> Partnership:
    return found(partnership_services.get_by_slug(slug))


def _year(value: str | None) -> int:
    """The year asked for (``?year=``): this year if none; 404 for one out of range or
    not a year, rather than a page about nothing."""
    if value is None or value == "":
        return today_uk().year
    if not (value.isascii() and value.isdigit() and len(value) == 4):
        abort(404)
    year = int(value)
    if not services.valid_year(year):
        abort(404)
    return year


@bp.get("/partnerships/<slug>/record/")
def record_page(slug: str) -> str:
    partnership = _partnership(slug)
    year = _year(request.args.get("year"))
    figures = record.engagement_record(partnership, year)
    return render_template(
        "engagement/record.html", partnership=partnership, record=figures,
        years=record.record_years(partnership), charts=charts.record_charts(figures),
        late_shown=record.LATE_SHOWN,
        report_year_published=year in reports.published_years(partnership),
        can_edit=permissions.can_edit_engagement_plan(current_user, partnership))


@bp.route("/partnerships/<slug>/plan/<int:year>/", methods=["GET", "POST"])
@login_required
def plan(slug: str, year: int) -> Page:
    partnership = allowed(_partnership(slug), permissions.can_edit_engagement_plan)
    if not services.valid_year(year):
        abort(404)
    existing = services.plan_for(partnership, year)
    forums = services.plan_forums(partnership)
    bodies = services.public_bodies(partnership)
    data: dict[str, object] = {"notice_days": partnership.notice_days,
                               "minutes_days": DEFAULT_MINUTES_DAYS}
    if existing is not None:
        data = {"partnership_meetings": existing.partnership_meetings,
                "notice_days": existing.notice_days, "minutes_days": existing.minutes_days}
        data |= {f"forum_{row.forum_id}": row.meetings for row in existing.forums}
        for person in existing.accountable:
            data |= {f"name_{person.organisation_id}": person.name,
                     f"role_{person.organisation_id}": person.role}
    form = plan_form(forums, bodies, data=data)
    record_url = url_for("engagement.record_page", slug=partnership.slug, year=year)
    if existing is not None:
        del form.once  # changing a plan that exists: sending twice changes nothing more
        if formflow.save(form, lambda: services.save_plan(current_user, partnership, year,
                                                          form.details())):
            flash(f"The engagement plan for {year} is saved.", "success")
            return redirect(record_url, code=303)
    elif saved := once.save(form, lambda: services.save_plan(current_user, partnership, year,
                                                             form.details()),
                            lambda _plan: record_url):
        flash(once.ALREADY_SENT if saved.value is None else
              f"The engagement plan for {year} is saved.",
              "info" if saved.again else "success")
        return redirect(saved.url, code=303)
    return formflow.render("engagement/plan.html", form, partnership=partnership, year=year,
                           existing=existing, bodies=bodies, forums=forums)


@bp.get("/partnerships/<slug>/plan/")
@login_required
def plan_this_year(slug: str) -> Page:
    """The officers' way in: this year's plan."""
    partnership = allowed(_partnership(slug), permissions.can_edit_engagement_plan)
    return see_other("engagement.plan", slug=partnership.slug, year=today_uk().year)
