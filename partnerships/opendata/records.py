"""The engagement record as open data: ``/api/v1/partnerships/<slug>/record/<year>`` (the
whole record, JSON) and ``.../record/<year>/figures.csv`` (one row per figure).

The record is one document per partnership and year, not a list, so it is not a
``Dataset``: it registers an ``Endpoint`` (its paths and schemas for the OpenAPI
document) and adds its own routes. Its figures come from
``engagement.record.engagement_record``, which counts only public things, so nothing
members-only reaches it."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from .. import permissions
from ..engagement import record as engagement
from ..engagement import reports as annual_reports
from ..engagement.models import YEAR_MAX, YEAR_MIN
from ..partnership.services import get_by_slug
from . import csvout, params, problems, refs
from .datasets import Column, Endpoint, Json, register_endpoint
from .params import Param
from .problems import InvalidParam, bad_parameters

YEAR = Param("year", "The calendar year.", "integer", minimum=YEAR_MIN, maximum=YEAR_MAX)
SLUG = Param("slug", "The partnership's slug.", "slug")
PATH = "/api/v1/partnerships/{slug}/record/{year}"


def _load(slug: str, year: str) -> engagement.EngagementRecord:
    params.read(request.args, ())
    invalid = []
    slug_value, slug_reason = SLUG.parse(slug)
    if slug_reason:
        invalid.append(InvalidParam("slug", slug_reason))
    year_value, year_reason = YEAR.parse(year)
    if year_reason:
        invalid.append(InvalidParam("year", year_reason))
    if invalid:
        raise bad_parameters(invalid)
    partnership = get_by_slug(str(slug_value))
    if partnership is None:
        raise problems.not_found("partnership")
    assert isinstance(year_value, int)
    return engagement.engagement_record(partnership, year_value)


def _timeliness(figure: engagement.Timeliness) -> Json:
    return {
        "days": figure.days, "judged": figure.judged, "on_time": figure.on_time,
        "percent": figure.percent,
        "late": [{"meeting_id": m.id, "title": m.title, "host": m.host or None,
                  "starts_at": refs.moment(m.starts_at),
                  "published_at": refs.moment(m.published_at), "due_day": refs.day(m.due_day),
                  "url": refs.url("opendata.meetings_detail", meeting_id=m.id)}
                 for m in figure.late],
    }


def _shares(shares: tuple[engagement.Share, ...]) -> list[Json]:
    return [{"code": s.key, "label": s.label, "count": s.count} for s in shares]


def _concerns(record: engagement.EngagementRecord) -> Json:
    """Counts and median waits only: a concern's words are open data nowhere (the
    public list shows those its raisers agreed to)."""
    figures = record.concerns
    return {
        "raised": figures.raised, "acknowledged": figures.acknowledged,
        "responded": figures.responded, "closed": figures.closed,
        "shown_publicly": figures.published,
        "median_days_to_acknowledge": figures.median_days_to_acknowledge,
        "median_days_to_respond": figures.median_days_to_respond,
        "by_category": [{"code": category.value, "label": category.label, "count": count}
                        for category, count in figures.categories],
        "public_list": refs.url("concerns.index", slug=record.partnership_slug),
    }


def serialise(record: engagement.EngagementRecord) -> Json:
    slug, year = record.partnership_slug, record.year
    plan = record.plan
    return {
        "partnership": {"id": record.partnership_id, "slug": slug,
                        "name": record.partnership_name,
                        "url": refs.url("opendata.partnerships_detail", slug=slug)},
        "year": year,
        "as_of": refs.day(record.as_of),
        "plan": None if plan is None else {
            "partnership_meetings": plan.partnership_meetings,
            "notice_days": plan.notice_days, "minutes_days": plan.minutes_days,
            "accountable": [{"organisation": o, "name": n, "role": r}
                            for o, n, r in plan.accountable]},
        "meetings": [{"host": h.name, "forum_slug": h.forum_slug, "committed": h.committed,
                      "held": h.held, "cancelled": h.cancelled, "to_come": h.to_come,
                      "met": h.met, "standing": h.standing} for h in record.hosts],
        "notice": _timeliness(record.notice),
        "minutes": _timeliness(record.minutes),
        "attendance": {"present": record.attendance.present,
                       "by_sector": _shares(record.attendance.by_sector),
                       "by_size": _shares(record.attendance.by_size),
                       "small_percent": record.attendance.small_percent},
        "item_requests": {"requested": record.item_requests.requested,
                          "accepted": record.item_requests.accepted,
                          "declined": record.item_requests.declined,
                          "pending": record.item_requests.pending},
        "join_requests": [{"what": j.what, "received": j.received, "answered": j.answered,
                           "median_days": j.median_days} for j in record.joins],
        "exchanges": {"completed": record.exchanges.total,
                      "by_direction": _shares(record.exchanges.by_direction),
                      "by_kind": _shares(record.exchanges.by_kind)},
        "mous": {"as_of": refs.day(record.mous.as_of), "active": record.mous.active,
                 "review_due": record.mous.review_due,
                 "review_overdue": record.mous.review_overdue},
        "concerns": _concerns(record),
        "links": {
            "self": refs.url("opendata.record", slug=slug, year=year),
            "html": refs.url("engagement.record_page", slug=slug, year=year),
            "csv": refs.url("opendata.record_csv", slug=slug, year=year),
        },
    }


def figures(record: engagement.EngagementRecord) -> list[Json]:
    """One row per figure, for the CSV."""
    rows: list[Json] = []

    def add(section: str, figure: str, value: Any) -> None:
        rows.append({"section": section, "figure": figure, "value": value})

    for host in record.hosts:
        add("meetings", f"{host.name}: planned", host.committed)
        add("meetings", f"{host.name}: held", host.held)
        add("meetings", f"{host.name}: cancelled", host.cancelled)
    for name, part in (("notice", record.notice), ("minutes", record.minutes)):
        add(name, "days", part.days)
        add(name, "meetings judged", part.judged)
        add(name, "on time", part.on_time)
        add(name, "percent on time", part.percent)
    add("attendance", "present", record.attendance.present)
    for share in record.attendance.by_sector:
        add("attendance by sector", share.label, share.count)
    for share in record.attendance.by_size:
        add("attendance by size", share.label, share.count)
    items = record.item_requests
    for label, value in (("requested", items.requested), ("accepted", items.accepted),
                         ("declined", items.declined), ("pending", items.pending)):
        add("agenda items requested by VCSE members", label, value)
    for join in record.joins:
        add("join requests", f"{join.what}: received", join.received)
        add("join requests", f"{join.what}: answered", join.answered)
        add("join requests", f"{join.what}: median days", join.median_days)
    for share in record.exchanges.by_direction:
        add("exchanges completed by direction", share.label, share.count)
    add("mous", "active", record.mous.active)
    add("mous", "review due", record.mous.review_due)
    add("mous", "review overdue", record.mous.review_overdue)
    concerns = record.concerns
    concern_rows: tuple[tuple[str, float | None], ...] = (
        ("raised", concerns.raised), ("acknowledged", concerns.acknowledged),
        ("responded", concerns.responded), ("closed", concerns.closed),
        ("shown publicly", concerns.published),
        ("median days to acknowledge", concerns.median_days_to_acknowledge),
        ("median days to respond", concerns.median_days_to_respond))
    for label, number in concern_rows:
        add("concerns", label, number)
    for category, count in concerns.categories:
        add("concerns by category", category.label, count)
    return rows


COLUMNS = (Column("section", lambda row: row["section"]),
           Column("figure", lambda row: row["figure"]),
           Column("value", lambda row: row["value"]))

_COUNT = {"type": "integer", "minimum": 0}
_PERCENT = refs.nullable({"type": "integer", "minimum": 0, "maximum": 100})
_SHARES = {"type": "array", "items": {
    "type": "object", "required": ["code", "label", "count"], "additionalProperties": False,
    "properties": {"code": {"type": "string"}, "label": {"type": "string"},
                   "count": _COUNT}}}
_TIMELINESS = {
    "type": "object", "required": ["days", "judged", "on_time", "percent", "late"],
    "additionalProperties": False,
    "properties": {
        "days": _COUNT, "judged": _COUNT, "on_time": _COUNT, "percent": _PERCENT,
        "late": {"type": "array", "items": {
            "type": "object",
            "required": ["meeting_id", "title", "host", "starts_at", "published_at",
                         "due_day", "url"],
            "additionalProperties": False,
            "properties": {
                "meeting_id": {"type": "integer"}, "title": {"type": "string"},
                "host": refs.nullable({"type": "string"}), "starts_at": refs.MOMENT,
                "published_at": refs.nullable(refs.MOMENT), "due_day": refs.DAY,
                "url": refs.LINK}}}},
}


def _object(properties: dict[str, Any]) -> Json:
    return {"type": "object", "required": list(properties), "additionalProperties": False,
            "properties": properties}


SCHEMA = _object({
    "partnership": refs.ref("PartnershipRef"),
    "year": {"type": "integer"},
    "as_of": {**refs.DAY, "description": "Today, or the last day of a past year."},
    "plan": refs.nullable(_object({
        "partnership_meetings": _COUNT, "notice_days": _COUNT, "minutes_days": _COUNT,
        "accountable": {"type": "array", "items": _object({
            "organisation": {"type": "string"}, "name": {"type": "string"},
            "role": {"type": "string"}})}})),
    "meetings": {"type": "array", "items": _object({
        "host": {"type": "string"}, "forum_slug": refs.nullable({"type": "string"}),
        "committed": refs.nullable(_COUNT), "held": _COUNT, "cancelled": _COUNT,
        "to_come": _COUNT, "met": refs.nullable({"type": "boolean"}),
        "standing": {"enum": ["met", "on_course", "behind", "missed", None],
                     "description": "Met; for a year not over, on course (enough "
                                    "scheduled) or behind; missed once it is over; null "
                                    "when nothing was committed."}})},
    "notice": _TIMELINESS,
    "minutes": _TIMELINESS,
    "attendance": _object({"present": _COUNT, "by_sector": _SHARES, "by_size": _SHARES,
                           "small_percent": _PERCENT}),
    "item_requests": _object({"requested": _COUNT, "accepted": _COUNT, "declined": _COUNT,
                              "pending": _COUNT}),
    "join_requests": {"type": "array", "items": _object({
        "what": {"type": "string"}, "received": _COUNT, "answered": _COUNT,
        "median_days": refs.nullable({"type": "number", "minimum": 0})})},
    "exchanges": _object({"completed": _COUNT, "by_direction": _SHARES,
                          "by_kind": _SHARES}),
    "mous": _object({"as_of": refs.DAY, "active": _COUNT, "review_due": _COUNT,
                     "review_overdue": _COUNT}),
    "concerns": {**_object({
        "raised": _COUNT, "acknowledged": _COUNT, "responded": _COUNT, "closed": _COUNT,
        "shown_publicly": {**_COUNT, "description": "How many are on the public list "
                                                    "(their raisers agreed)."},
        "median_days_to_acknowledge": refs.nullable({"type": "number", "minimum": 0}),
        "median_days_to_respond": refs.nullable({"type": "number", "minimum": 0}),
        "by_category": _SHARES,
        "public_list": refs.LINK}),
        "description": "Concerns raised in the year about how the partnership engages: "
                       "counts and median calendar days from raising, never their text."},
    "links": {"type": "object", "required": ["self", "html", "csv"],
              "additionalProperties": False,
              "properties": {
                  "self": refs.LINK, "html": refs.LINK, "csv": refs.LINK,
                  "report": {**refs.nullable(refs.LINK),
                             "description": "The year's published annual report, if any "
                                            "(on the record itself, not in a report)."},
                  "previous": {**refs.nullable(refs.LINK),
                               "description": "The record of the year before, while the "
                                              "partnership has records."}}},
})


def record_view(slug: str, year: str) -> Response:
    """The record, with links to the year's published annual report and to the year
    before (while there are records), so a client can walk back through the years."""
    record = _load(slug, year)
    body = serialise(record)
    partnership = get_by_slug(record.partnership_slug)
    assert partnership is not None
    report = annual_reports.get(partnership, record.year)
    body["links"]["report"] = (
        refs.url("opendata.report", slug=record.partnership_slug, year=record.year)
        if report is not None and permissions.can_view_annual_report(None, report) else None)
    earlier = record.year - 1
    body["links"]["previous"] = (
        refs.url("opendata.record", slug=record.partnership_slug, year=earlier)
        if earlier in engagement.record_years(partnership) else None)
    return jsonify(body)


def record_csv_view(slug: str, year: str) -> Response:
    record = _load(slug, year)
    return csvout.download(COLUMNS, figures(record),
                           f"{record.partnership_slug}-record-{record.year}.csv")


ENDPOINT = register_endpoint(Endpoint(
    name="record",
    title="Engagement records",
    description="A partnership's engagement record for a year: its plan and, from its "
                "public records, meetings held against the plan, agenda notice, minutes "
                "on time, attendance by sector and size, agenda items asked for by VCSE "
                "members, requests to join answered, completed secondments and shadowing, "
                "MoU reviews, and concerns raised and answered. Members-only meetings and "
                "forums are not counted.",
    schema_name="EngagementRecord",
    schema=SCHEMA,
    path=PATH,
    path_params=(SLUG, YEAR),
    view=record_view,
    csv_view=record_csv_view,
))
