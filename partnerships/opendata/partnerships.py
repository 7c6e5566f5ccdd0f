"""The partnerships dataset. Every partnership is public (its page is), so this list has
no visibility condition; the ``partnership`` filter of the other datasets is resolved
here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..partnership.models import Partnership
from ..timeutil import today_uk
from . import refs
from .datasets import Column, Dataset, Detail, field_column, register
from .params import Param
from .problems import InvalidParam, bad_parameters

PARTNERSHIP_FILTER = Param("partnership", "Only those of this partnership (its slug).", "slug")


def partnership_id(values: dict[str, Any]) -> int | None:
    """The id of the partnership the ``partnership`` filter names, None if it names
    none, or a 400 problem if no partnership has that slug."""
    slug = values.get("partnership")
    if slug is None:
        return None
    found = db.session.scalar(select(Partnership.id).where(Partnership.slug == slug))
    if found is None:
        raise bad_parameters([InvalidParam("partnership", "is not the slug of a partnership")])
    return found


def _fetch(values: dict[str, Any], offset: int, limit: int) -> tuple[list[Partnership], int]:
    total = db.session.scalar(select(func.count(Partnership.id))) or 0
    rows = list(db.session.scalars(
        select(Partnership).options(selectinload(Partnership.principle_rows))
        .order_by(Partnership.name, Partnership.id).offset(offset).limit(limit)))
    return rows, total


def _load(slug: str) -> Partnership | None:
    return db.session.scalar(select(Partnership).where(Partnership.slug == slug)
                             .options(selectinload(Partnership.principle_rows)))


def serialise(partnership: Partnership) -> dict[str, Any]:
    slug = partnership.slug
    return {
        "id": partnership.id,
        "slug": slug,
        "name": partnership.name,
        "place": partnership.place,
        "description": partnership.description,
        "principles": [refs.labelled(p) for p in partnership.principles],
        "notice_days": partnership.notice_days,
        "contact_email": partnership.contact_email or None,
        "created_at": refs.moment(partnership.created_at),
        "updated_at": refs.moment(partnership.updated_at),
        "links": {
            "self": refs.url("opendata.partnerships_detail", slug=slug),
            "html": refs.url("partnership.show", slug=slug),
            "forums": refs.url("opendata.forums_list", partnership=slug),
            "meetings": refs.url("opendata.meetings_list", partnership=slug),
            "mous": refs.url("opendata.mous_list", partnership=slug),
            "opportunities": refs.url("opendata.opportunities_list", partnership=slug),
            "record": refs.url("opendata.record", slug=slug, year=today_uk().year),
        },
    }


LINKS = ("self", "html", "forums", "meetings", "mous", "opportunities", "record")
SCHEMA = {
    "type": "object",
    "required": ["id", "slug", "name", "place", "description", "principles", "notice_days",
                 "contact_email", "created_at", "updated_at", "links"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer"},
        "slug": {"type": "string"},
        "name": {"type": "string"},
        "place": {"type": "string"},
        "description": {"type": "string", "description": "Markdown."},
        "principles": {"type": "array", "items": refs.ref("Labelled"),
                       "description": "The Civil Society Covenant principles it commits to."},
        "notice_days": {"type": "integer", "minimum": 0, "description":
                        "Clear working days of notice its own meetings' agendas promise."},
        "contact_email": refs.nullable({"type": "string"}),
        "created_at": refs.MOMENT,
        "updated_at": refs.MOMENT,
        "links": {"type": "object", "required": list(LINKS), "additionalProperties": False,
                  "properties": dict.fromkeys(LINKS, refs.LINK)},
    },
}

DATASET = register(Dataset(
    name="partnerships",
    title="Partnerships",
    description="Every place-based partnership: its place, purpose, the Covenant "
                "principles it commits to and the notice its meetings promise.",
    schema_name="Partnership",
    schema=SCHEMA,
    filters=(),
    fetch=_fetch,
    serialise=serialise,
    columns=(
        field_column("id"), field_column("slug"), field_column("name"),
        field_column("place"),
        Column("principles", lambda item: "; ".join(p["label"] for p in item["principles"])),
        field_column("notice_days"), field_column("contact_email"),
        field_column("created_at"), field_column("updated_at"),
        field_column("url", "links", "html"), field_column("api_url", "links", "self"),
    ),
    detail=Detail("slug", "slug", _load, "One partnership, by its slug."),
))
