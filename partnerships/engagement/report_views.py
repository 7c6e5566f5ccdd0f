"""Annual report pages: the list of a partnership's reports, one report (printable),
the officers' form and the confirmation before publishing. Thin: load -> authorise ->
validate -> service -> commit -> flash -> redirect (303).

A draft is hidden as the app hides drafts (``formflow.allowed(..., hide=True)``): sign
in first when signed out, otherwise 404, so nobody learns a draft exists."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import formflow, once, permissions
from ..errors import Conflict
from ..extensions import db
from ..formflow import Page, allowed, found, see_other
from ..forms import ButtonForm
from ..partnership import services as partnership_services
from ..partnership.models import Partnership
from . import charts, record, reports, services
from .models import INTRODUCTION_MAX, SECTION_MAX, AnnualReport
from .report_forms import ReportForm
from .routes import bp

BASE = "/partnerships/<slug>/report"


def _partnership(slug: str) -> Partnership:
    return found(partnership_services.get_by_slug(slug))


def _checked_year(year: int) -> int:
    if not services.valid_year(year):
        abort(404)
    return year


def _report(partnership: Partnership, year: int) -> AnnualReport:
    """The year's report, if the current user may see it (a draft: its officers)."""
    return allowed(found(reports.get(partnership, _checked_year(year))),
                   permissions.can_view_annual_report, hide=True)


@bp.get(f"{BASE}/")
def report_list(slug: str) -> str:
    partnership = _partnership(slug)
    can_write = permissions.can_write_annual_report(current_user, partnership)
    listed = reports.listed(current_user, partnership)
    have = {report.year for report in listed}
    to_write = [year for year in record.record_years(partnership) if year not in have][:3] \
        if can_write else []
    return render_template("engagement/reports.html", partnership=partnership,
                           reports=listed, can_write=can_write, to_write=to_write)


@bp.get(f"{BASE}/<int:year>/")
def report_page(slug: str, year: int) -> Page:
    partnership = _partnership(slug)
    if reports.get(partnership, _checked_year(year)) is None \
            and permissions.can_write_annual_report(current_user, partnership):
        return see_other("engagement.report_edit", slug=partnership.slug, year=year)
    report = _report(partnership, year)
    figures = reports.figures_for(report)
    return render_template(
        "engagement/report.html", partnership=partnership, report=report, record=figures,
        charts=charts.record_charts(figures), late_shown=record.LATE_SHOWN,
        can_write=permissions.can_write_annual_report(current_user, partnership))


@bp.route(f"{BASE}/<int:year>/edit", methods=["GET", "POST"])
@login_required
def report_edit(slug: str, year: int) -> Page:
    partnership = allowed(_partnership(slug), permissions.can_write_annual_report)
    existing = reports.get(partnership, _checked_year(year))
    data = None if existing is None else {
        "introduction": existing.introduction, "went_well": existing.went_well,
        "will_change": existing.will_change}
    form = ReportForm(data=data)
    report_url = url_for("engagement.report_page", slug=partnership.slug, year=year)

    def saved_message(report: AnnualReport) -> str:
        if report.is_published:
            return f"The annual report for {year} is updated."
        return (f"The draft annual report for {year} is saved. Only the partnership's "
                "officers can see it until you publish it.")

    if existing is not None:
        del form.once  # changing a report that exists: sending twice changes nothing more
        if done := formflow.save(form, lambda: reports.save(current_user, partnership, year,
                                                            form.text())):
            flash(saved_message(done.value), "success")
            return redirect(report_url, code=303)
    elif saved := once.save(form, lambda: reports.save(current_user, partnership, year,
                                                       form.text()),
                            lambda _report: report_url):
        flash(once.ALREADY_SENT if saved.value is None else saved_message(saved.value),
              "info" if saved.again else "success")
        return redirect(saved.url, code=303)
    return formflow.render("engagement/report_form.html", form, partnership=partnership,
                           year=year, existing=existing, introduction_max=INTRODUCTION_MAX,
                           section_max=SECTION_MAX)


@bp.route(f"{BASE}/<int:year>/publish", methods=["GET", "POST"])
@login_required
def report_publish(slug: str, year: int) -> Page:
    """What publishing does, and the button that does it."""
    partnership = allowed(_partnership(slug), permissions.can_write_annual_report)
    report = found(reports.get(partnership, _checked_year(year)))
    report_url = url_for("engagement.report_page", slug=partnership.slug, year=year)
    if report.is_published:
        flash(f"The annual report for {year} is already published.")
        return redirect(report_url, code=303)
    if request.method == "GET":
        return render_template("engagement/report_publish.html", partnership=partnership,
                               report=report, form=ButtonForm())
    formflow.button_pressed()
    try:
        reports.publish(current_user, report)
    except Conflict as error:
        db.session.rollback()
        flash(error.message)
        return redirect(report_url, code=303)
    db.session.commit()
    flash(f"The annual report for {year} is published. Anyone can read it now.", "success")
    return redirect(report_url, code=303)
