"""The open opportunities dataset: secondments, shadowing and other exchanges taking
applications today (published, open, closing today or later), as the browse page
lists them. Drafts, closed, withdrawn and past-closing opportunities are not
included and their ids answer 404. The host's contact person is left out: people
apply through the opportunity's page, which the item links to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..opportunities.models import Opportunity, OpportunityKind, OpportunityStatus
from ..timeutil import today_uk
from . import refs
from .datasets import Dataset, Detail, field_column, register
from .params import Param
from .partnerships import PARTNERSHIP_FILTER, partnership_id

KIND_FILTER = Param("kind", "Only opportunities of this kind.", "choice",
                    choices=tuple(kind.value for kind in OpportunityKind))


def is_open() -> list[Any]:
    """Taking applications today (``services._browse_query``'s rule)."""
    return [Opportunity.status == OpportunityStatus.OPEN,
            Opportunity.closing_date >= today_uk()]


def _conditions(values: dict[str, Any]) -> list[Any]:
    conditions = is_open()
    partnership = partnership_id(values)
    if partnership is not None:
        conditions.append(Opportunity.partnership_id == partnership)
    if values.get("kind") is not None:
        conditions.append(Opportunity.kind == OpportunityKind(values["kind"]))
    return conditions


def _options() -> list[Any]:
    return [joinedload(Opportunity.organisation), joinedload(Opportunity.partnership)]


def _fetch(values: dict[str, Any], offset: int, limit: int) -> tuple[list[Opportunity], int]:
    conditions = _conditions(values)
    total = db.session.scalar(select(func.count(Opportunity.id)).where(*conditions)) or 0
    rows = list(db.session.scalars(
        select(Opportunity).where(*conditions).options(*_options())
        .order_by(Opportunity.closing_date, Opportunity.id).offset(offset).limit(limit)))
    return rows, total


def _load(opportunity_id: int) -> Opportunity | None:
    return db.session.scalar(select(Opportunity).where(
        Opportunity.id == opportunity_id, *is_open()).options(*_options()))


def serialise(opportunity: Opportunity) -> dict[str, Any]:
    host = opportunity.organisation
    return {
        "id": opportunity.id,
        "title": opportunity.title,
        "kind": refs.labelled(opportunity.kind),
        "description": opportunity.description,
        "skills_sought": opportunity.skills_sought,
        "host": {"name": host.name, "sector": refs.labelled(host.sector),
                 "url": refs.url("organisations.show", key=host.slug)},
        "host_team": opportunity.host_team,
        "location": refs.labelled(opportunity.location_kind),
        "place": opportunity.place,
        "time_commitment": opportunity.time_commitment,
        "total_days": opportunity.total_days,
        "duration": opportunity.duration,
        "starts_earliest": refs.day(opportunity.starts_earliest),
        "starts_latest": refs.day(opportunity.starts_latest),
        "places": opportunity.places,
        "places_left": opportunity.places_left,
        "open_to": refs.labelled(opportunity.open_to),
        "seniority": opportunity.seniority,
        "pay_and_backfill": opportunity.pay_and_backfill,
        "closing_date": refs.day(opportunity.closing_date),
        "published_at": refs.moment(opportunity.published_at),
        "partnership": (refs.partnership_ref(opportunity.partnership)
                        if opportunity.partnership is not None else None),
        "links": {
            "self": refs.url("opendata.opportunities_detail", opportunity_id=opportunity.id),
            "html": refs.url("opportunities.show", opportunity_id=opportunity.id),
        },
    }


_TEXT = {"type": "string"}
SCHEMA = {
    "type": "object",
    "required": ["id", "title", "kind", "description", "skills_sought", "host", "host_team",
                 "location", "place", "time_commitment", "total_days", "duration",
                 "starts_earliest", "starts_latest", "places", "places_left", "open_to",
                 "seniority", "pay_and_backfill", "closing_date", "published_at",
                 "partnership", "links"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer"},
        "title": _TEXT,
        "kind": refs.ref("Labelled"),
        "description": {"type": "string", "description": "Markdown."},
        "skills_sought": _TEXT,
        "host": {"type": "object", "required": ["name", "sector", "url"],
                 "additionalProperties": False,
                 "properties": {"name": _TEXT, "sector": refs.ref("Labelled"),
                                "url": refs.LINK}},
        "host_team": _TEXT,
        "location": refs.ref("Labelled"),
        "place": _TEXT,
        "time_commitment": _TEXT,
        "total_days": refs.nullable({"type": "integer", "minimum": 1}),
        "duration": _TEXT,
        "starts_earliest": refs.DAY,
        "starts_latest": refs.DAY,
        "places": {"type": "integer", "minimum": 1},
        "places_left": {"type": "integer", "minimum": 0},
        "open_to": {**refs.ref("Labelled"), "description":
                    "Whose staff may apply, by the sector of their organisation."},
        "seniority": _TEXT,
        "pay_and_backfill": _TEXT,
        "closing_date": {**refs.DAY, "description":
                         "Applications close at the end of this day, UK time."},
        "published_at": refs.nullable(refs.MOMENT),
        "partnership": refs.nullable(refs.ref("PartnershipRef")),
        "links": {"type": "object", "required": ["self", "html"],
                  "additionalProperties": False,
                  "properties": {"self": refs.LINK, "html": refs.LINK}},
    },
}

DATASET = register(Dataset(
    name="opportunities",
    title="Open opportunities",
    description="Secondments, shadowing, placements and other exchanges between sectors "
                "that are taking applications now, closing soonest first.",
    schema_name="Opportunity",
    schema=SCHEMA,
    filters=(PARTNERSHIP_FILTER, KIND_FILTER),
    fetch=_fetch,
    serialise=serialise,
    columns=(
        field_column("id"), field_column("title"), field_column("kind", "kind", "code"),
        field_column("host", "host", "name"),
        field_column("host_sector", "host", "sector", "code"),
        field_column("location", "location", "code"), field_column("place"),
        field_column("time_commitment"), field_column("total_days"),
        field_column("duration"), field_column("starts_earliest"),
        field_column("starts_latest"), field_column("places"), field_column("places_left"),
        field_column("open_to", "open_to", "code"), field_column("closing_date"),
        field_column("published_at"),
        field_column("partnership", "partnership", "slug"),
        field_column("url", "links", "html"), field_column("api_url", "links", "self"),
    ),
    detail=Detail("opportunity_id", "id", _load, "One open opportunity, by its id."),
))
