"""The register of MoUs (with its filters and, for officers, what is due for review)
and its open-data exports, /partnerships/<slug>/mous.csv and mous.json.

The exports are built from the anonymous register whoever asks (see ``mou_register``),
so they never include drafts or members-only MoUs.
"""

from __future__ import annotations

from flask import Response, jsonify, render_template, request
from flask_login import current_user

from .. import pagination, permissions
from ..partnership.models import Partnership
from ..timeutil import today_uk
from . import mou_register
from .forms import RegisterFilterForm
from .routes import bp
from .view_helpers import BASE, load_partnership


@bp.get(BASE + "/", endpoint="register")
def register_page(slug: str) -> str:
    """The register: everyone sees published MoUs in force or ended; members also
    see members-only ones (with the reason); insiders see drafts in progress."""
    partnership = load_partnership(slug)
    access = permissions.mou_access(current_user, partnership)
    filters = mou_register.RegisterFilters.from_args(request.args)
    today = today_uk()
    number = pagination.page_number()
    found = mou_register.register_page(partnership, current_user, access, filters, today,
                                       number)
    pages = pagination.page_count(found.total, mou_register.PER_PAGE)
    if number > pages:  # a stale link past the end: show the last page instead
        number = pages
        found = mou_register.register_page(partnership, current_user, access, filters,
                                           today, number)
    form = RegisterFilterForm(formdata=request.args)
    form.set_parties(found.parties)
    # Show what was applied (a stale value falls back to "any", as the filters do).
    form.status.data = filters.status.value if filters.status else ""
    form.party.data = str(filters.party_id) if filters.party_id else ""
    form.principle.data = filters.principle.value if filters.principle else ""
    return render_template(
        "mous/register.html", partnership=partnership, entries=found.entries,
        total=found.total, page=number, pages=pages,
        pagination=pagination.govuk_pagination(
            "mous.register", number, pages, "Pages of the register", slug=slug,
            **filters.query_args()),
        access=access, can_draft=access.manages, form=form, filters=filters,
        due=found.due, export_args=filters.query_args(), today=today,
    )


def _public(slug: str) -> tuple[Partnership, list[mou_register.Entry]]:
    partnership = load_partnership(slug)
    filters = mou_register.RegisterFilters.from_args(request.args)
    return partnership, mou_register.public_entries(partnership, filters, today_uk())


@bp.get("/partnerships/<slug>/mous.csv")
def export_csv(slug: str) -> Response:
    partnership, entries = _public(slug)
    body = mou_register.export_csv(entries)
    response = Response(body.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{partnership.slug}-mous.csv"')
    return response


@bp.get("/partnerships/<slug>/mous.json")
def export_json(slug: str) -> Response:
    partnership, entries = _public(slug)
    response = jsonify(mou_register.export_json(partnership, entries))
    response.headers["Access-Control-Allow-Origin"] = "*"  # open data, no cookies needed
    return response
