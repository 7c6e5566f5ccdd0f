"""Published annual reports as open data: ``/api/v1/partnerships/<slug>/reports/<year>``
(the report's words and its frozen engagement record, JSON) and
``.../reports/<year>/figures.csv`` (the frozen figures, one row per figure, as the
record's CSV).

Only published reports answer; a draft is a 404 exactly as a year without a report,
so the API never reveals that a draft exists. The figures are the ones frozen at
publication (``engagement.reports.frozen_record``), serialised by the record's own
``records.serialise``, so the report's ``record`` has the ``EngagementRecord`` schema.
"""

from __future__ import annotations

from flask import Response, jsonify, request

from .. import permissions
from ..engagement import reports as annual_reports
from ..engagement.models import AnnualReport
from ..partnership.services import get_by_slug
from . import csvout, params, problems, records, refs
from .datasets import Endpoint, Json, register_endpoint
from .problems import InvalidParam, bad_parameters

PATH = "/api/v1/partnerships/{slug}/reports/{year}"


def _load(slug: str, year: str) -> AnnualReport:
    params.read(request.args, ())
    invalid = []
    slug_value, slug_reason = records.SLUG.parse(slug)
    if slug_reason:
        invalid.append(InvalidParam("slug", slug_reason))
    year_value, year_reason = records.YEAR.parse(year)
    if year_reason:
        invalid.append(InvalidParam("year", year_reason))
    if invalid:
        raise bad_parameters(invalid)
    partnership = get_by_slug(str(slug_value))
    if partnership is None:
        raise problems.not_found("partnership")
    assert isinstance(year_value, int)
    report = annual_reports.get(partnership, year_value)
    if report is None or not permissions.can_view_annual_report(None, report):
        raise problems.not_found("annual report")
    return report


def serialise(report: AnnualReport) -> Json:
    slug, year = report.partnership.slug, report.year
    return {
        "partnership": {"id": report.partnership_id, "slug": slug,
                        "name": report.partnership.name,
                        "url": refs.url("opendata.partnerships_detail", slug=slug)},
        "year": year,
        "published_at": refs.moment(report.published_at),
        "updated_at": refs.moment(report.revised_at or report.published_at),
        "figures_as_at": refs.moment(report.figures_at),
        "introduction": report.introduction or None,
        "went_well": report.went_well,
        "will_change": report.will_change,
        "record": records.serialise(annual_reports.frozen_record(report)),
        "links": {
            "self": refs.url("opendata.report", slug=slug, year=year),
            "html": refs.url("engagement.report_page", slug=slug, year=year),
            "csv": refs.url("opendata.report_csv", slug=slug, year=year),
        },
    }


_MARKDOWN = {"type": "string", "description": "Markdown, as the officers wrote it."}

SCHEMA: Json = {
    "type": "object", "additionalProperties": False,
    "required": ["partnership", "year", "published_at", "updated_at", "figures_as_at",
                 "introduction", "went_well", "will_change", "record", "links"],
    "properties": {
        "partnership": refs.ref("PartnershipRef"),
        "year": {"type": "integer"},
        "published_at": refs.MOMENT,
        "updated_at": {**refs.MOMENT, "description": "When its words were last revised "
                                                     "(its publication if never)."},
        "figures_as_at": {**refs.MOMENT, "description": "When the figures in ``record`` "
                                                        "were frozen: its publication."},
        "introduction": refs.nullable(_MARKDOWN),
        "went_well": _MARKDOWN,
        "will_change": _MARKDOWN,
        "record": {**refs.ref("EngagementRecord"),
                   "description": "The engagement record as it stood at publication."},
        "links": {"type": "object", "additionalProperties": False,
                  "required": ["self", "html", "csv"],
                  "properties": {"self": refs.LINK, "html": refs.LINK, "csv": refs.LINK}},
    },
}


def report_view(slug: str, year: str) -> Response:
    return jsonify(serialise(_load(slug, year)))


def report_csv_view(slug: str, year: str) -> Response:
    report = _load(slug, year)
    return csvout.download(
        records.COLUMNS, records.figures(annual_reports.frozen_record(report)),
        f"{report.partnership.slug}-annual-report-{report.year}.csv")


ENDPOINT = register_endpoint(Endpoint(
    name="report",
    title="Annual reports",
    description="A partnership's published annual report for a year: what went well and "
                "what it will change, in its officers' words, and its engagement record "
                "with the figures as they stood when the report was published. Drafts "
                "are not published here.",
    schema_name="AnnualReport",
    schema=SCHEMA,
    path=PATH,
    path_params=(records.SLUG, records.YEAR),
    view=report_view,
    csv_view=report_csv_view,
))
