"""Pieces every dataset's items share: absolute links (from ``BASE_URL``, through
``url_for(..., _external=True)``, see ``links``), dates and times in ISO 8601 with
their UK offset, and references to a partnership or forum."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import url_for

from ..timeutil import to_uk

LINK = {"type": "string", "format": "uri"}
MOMENT = {"type": "string", "format": "date-time"}
DAY = {"type": "string", "format": "date"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or null (JSON Schema 2020-12, as OpenAPI 3.1 has it)."""
    if "$ref" in schema:
        return {"oneOf": [schema, {"type": "null"}]}
    kind = schema["type"]
    return {**schema, "type": [kind, "null"] if isinstance(kind, str) else [*kind, "null"]}


def url(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


def moment(value: datetime | None) -> str | None:
    """A UTC datetime as UK local time with its offset: 2026-11-27T10:00:00+00:00."""
    return to_uk(value).isoformat(timespec="seconds") if value is not None else None


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def labelled(value: Any) -> dict[str, str]:
    """A ``LabelledEnum`` as its code and its words."""
    return {"code": value.value, "label": value.label}


LABELLED = {
    "type": "object",
    "required": ["code", "label"],
    "additionalProperties": False,
    "properties": {"code": {"type": "string"}, "label": {"type": "string"}},
}

PARTNERSHIP_REF = {
    "type": "object",
    "required": ["id", "slug", "name", "url"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer"},
        "slug": {"type": "string"},
        "name": {"type": "string"},
        "url": {**LINK, "description": "The partnership in this API."},
    },
}

FORUM_REF = {
    "type": "object",
    "required": ["id", "slug", "name", "url"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer"},
        "slug": {"type": "string"},
        "name": {"type": "string"},
        "url": {**LINK, "description": "The forum in this API."},
    },
}

REF_COMPONENTS = {"PartnershipRef": PARTNERSHIP_REF, "ForumRef": FORUM_REF,
                  "Labelled": LABELLED}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def partnership_ref(partnership: Any) -> dict[str, Any]:
    return {"id": partnership.id, "slug": partnership.slug, "name": partnership.name,
            "url": url("opendata.partnerships_detail", slug=partnership.slug)}


def forum_ref(forum: Any) -> dict[str, Any]:
    return {"id": forum.id, "slug": forum.slug, "name": forum.name,
            "url": url("opendata.forums_detail", forum_id=forum.id)}
