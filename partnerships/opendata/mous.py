"""The MoUs dataset: the public register of every partnership. Which MoUs:
``permissions.mous_visible_to(None)``, those in force (or once in force) and
published; never a draft, an amendment in progress, or a members-only MoU. What of
each: what the register shows, through the register's own ``Entry`` and ``standing``
(so the words and dates agree with the register page and its exports)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import permissions
from ..extensions import db
from ..mous import mou_register
from ..mous.models import Mou
from ..mous.mou_register import Entry, RegisterFilters, StatusFilter
from ..timeutil import today_uk
from . import refs
from .datasets import Column, Dataset, Detail, field_column, register
from .params import Param
from .partnerships import PARTNERSHIP_FILTER, partnership_id

STATUS_FILTER = Param(
    "status", "Only MoUs in this state: " + "; ".join(
        f"{status.value}: {status.label.lower()}" for status in StatusFilter) + ".",
    "choice", choices=tuple(status.value for status in StatusFilter))


def _conditions(values: dict[str, Any]) -> list[Any]:
    status = values.get("status")
    filters = RegisterFilters(status=StatusFilter(status) if status else None)
    conditions = mou_register.public_conditions(filters, today_uk())
    partnership = partnership_id(values)
    if partnership is not None:
        conditions.append(Mou.partnership_id == partnership)
    return conditions


def _entries(mous: list[Mou]) -> list[Entry]:
    """The register's entries: the version in force, with its parties (two queries)."""
    return mou_register.entries_for([(mou, mou.current_version_id) for mou in mous],
                                    today_uk())


def _options() -> list[Any]:
    return [joinedload(Mou.partnership), selectinload(Mou.principle_rows)]


def _fetch(values: dict[str, Any], offset: int, limit: int) -> tuple[list[Entry], int]:
    conditions = _conditions(values)
    total = db.session.scalar(select(func.count(Mou.id)).where(*conditions)) or 0
    mous = list(db.session.scalars(
        select(Mou).where(*conditions).options(*_options())
        .order_by(Mou.partnership_id, Mou.number, Mou.id).offset(offset).limit(limit)))
    return _entries(mous), total


def _load(mou_id: int) -> Entry | None:
    mou = db.session.scalar(select(Mou).where(
        Mou.id == mou_id, permissions.mous_visible_to(None)).options(*_options()))
    return _entries([mou])[0] if mou is not None else None


def serialise(entry: Entry) -> dict[str, Any]:
    mou, version, standing = entry.mou, entry.version, entry.standing
    ended = entry.is_ended
    slug = mou.partnership.slug
    return {
        "id": mou.id,
        "reference": mou.reference,
        "title": entry.title,
        "status": {"code": standing.value, "label": standing.label},
        "status_phrase": standing.phrase or None,
        "version": version.number if version else None,
        "signed_on": refs.day(standing.signed_on),
        "in_force_from": refs.day(standing.in_force_from),
        "start_date": refs.day(entry.start_date),
        "review_date": None if ended else refs.day(entry.review_date),
        "due_for_review": entry.due_for_review,
        "review_overdue": entry.overdue,
        "end_date": refs.day(entry.end_date),
        "end_kind": refs.labelled(mou.end_kind) if ended and mou.end_kind else None,
        "ended_reason": (mou.ended_reason or None) if ended else None,
        "principles": [refs.labelled(p) for p in mou.principles],
        "data_sharing": bool(version.data_sharing) if version else False,
        "parties": [{"name": party.organisation.name, "role": party.role,
                     "url": refs.url("organisations.show", key=party.organisation.slug)}
                    for party in entry.parties],
        "partnership": refs.partnership_ref(mou.partnership),
        "links": {
            "self": refs.url("opendata.mous_detail", mou_id=mou.id),
            "html": refs.url("mous.show", slug=slug, mou_id=mou.id),
        },
    }


_TEXT = {"type": "string"}
_DAY_OR_NULL = refs.nullable(refs.DAY)
SCHEMA = {
    "type": "object",
    "required": ["id", "reference", "title", "status", "status_phrase", "version",
                 "signed_on", "in_force_from", "start_date", "review_date",
                 "due_for_review", "review_overdue", "end_date", "end_kind",
                 "ended_reason", "principles", "data_sharing", "parties", "partnership",
                 "links"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer"},
        "reference": {"type": "string", "description": "MOU-001: unique within its "
                      "partnership."},
        "title": _TEXT,
        "status": {**refs.ref("Labelled"), "description":
                   "Where it stands today: signed (not yet in force), active or ended."},
        "status_phrase": refs.nullable(_TEXT),
        "version": refs.nullable({"type": "integer", "minimum": 1}),
        "signed_on": {**_DAY_OR_NULL, "description": "The day the last party signed."},
        "in_force_from": _DAY_OR_NULL,
        "start_date": _DAY_OR_NULL,
        "review_date": _DAY_OR_NULL,
        "due_for_review": {"type": "boolean"},
        "review_overdue": {"type": "boolean"},
        "end_date": _DAY_OR_NULL,
        "end_kind": refs.nullable(refs.ref("Labelled")),
        "ended_reason": refs.nullable(_TEXT),
        "principles": {"type": "array", "items": refs.ref("Labelled")},
        "data_sharing": {"type": "boolean"},
        "parties": {"type": "array", "items": {
            "type": "object", "required": ["name", "role", "url"],
            "additionalProperties": False,
            "properties": {"name": _TEXT, "role": _TEXT, "url": refs.LINK}}},
        "partnership": refs.ref("PartnershipRef"),
        "links": {"type": "object", "required": ["self", "html"],
                  "additionalProperties": False,
                  "properties": {"self": refs.LINK, "html": refs.LINK}},
    },
}

DATASET = register(Dataset(
    name="mous",
    title="Memoranda of understanding",
    description="The public register of MoUs between the members of each partnership: "
                "parties and their roles, dates in force and for review, the Covenant "
                "principles they serve. Drafts and members-only MoUs are not included.",
    schema_name="Mou",
    schema=SCHEMA,
    filters=(PARTNERSHIP_FILTER, STATUS_FILTER),
    fetch=_fetch,
    serialise=serialise,
    columns=(
        field_column("id"), field_column("reference"), field_column("title"),
        field_column("partnership", "partnership", "slug"),
        field_column("status", "status", "code"), field_column("status_phrase"),
        Column("parties", lambda item: "; ".join(f"{p['name']} ({p['role']})"
                                                 for p in item["parties"])),
        field_column("version"), field_column("signed_on"), field_column("in_force_from"),
        field_column("start_date"), field_column("review_date"),
        field_column("due_for_review"), field_column("review_overdue"),
        field_column("end_date"), field_column("end_kind", "end_kind", "code"),
        field_column("ended_reason"),
        Column("principles", lambda item: "; ".join(p["label"] for p in item["principles"])),
        field_column("data_sharing"),
        field_column("url", "links", "html"), field_column("api_url", "links", "self"),
    ),
    detail=Detail("mou_id", "id", _load, "One MoU on a public register, by its id."),
))
