"""The forums dataset: public forums only (``permissions.forums_readable_by(None)``).
A members-only forum is in no list here and its id answers 404, as if it did not
exist; a ``forum`` filter naming one is refused like an unknown id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..extensions import db
from ..forums.models import Forum
from . import refs
from .datasets import Column, Dataset, Detail, field_column, register
from .params import Param
from .partnerships import PARTNERSHIP_FILTER, partnership_id
from .problems import InvalidParam, bad_parameters

FORUM_FILTER = Param("forum", "Only those of this forum (its id).", "integer")


def public_forum_id(values: dict[str, Any]) -> int | None:
    """The ``forum`` filter's id if it is a public forum's, else a 400 problem (the
    same answer for a members-only forum as for none, so the filter tells nothing)."""
    forum_id = values.get("forum")
    if forum_id is None:
        return None
    found = db.session.scalar(select(Forum.id).where(
        Forum.id == forum_id, permissions.forums_readable_by(None)))
    if found is None:
        raise bad_parameters([InvalidParam("forum", "is not the id of a public forum")])
    return found


def _conditions(values: dict[str, Any]) -> list[Any]:
    conditions: list[Any] = [permissions.forums_readable_by(None)]
    partnership = partnership_id(values)
    if partnership is not None:
        conditions.append(Forum.partnership_id == partnership)
    return conditions


def _fetch(values: dict[str, Any], offset: int, limit: int) -> tuple[list[Forum], int]:
    conditions = _conditions(values)
    total = db.session.scalar(select(func.count(Forum.id)).where(*conditions)) or 0
    rows = list(db.session.scalars(
        select(Forum).where(*conditions).options(joinedload(Forum.partnership))
        .order_by(Forum.partnership_id, Forum.name, Forum.id).offset(offset).limit(limit)))
    return rows, total


def _load(forum_id: int) -> Forum | None:
    return db.session.scalar(select(Forum).where(
        Forum.id == forum_id, permissions.forums_readable_by(None))
        .options(joinedload(Forum.partnership)))


def serialise(forum: Forum) -> dict[str, Any]:
    slug = forum.partnership.slug
    return {
        "id": forum.id,
        "slug": forum.slug,
        "name": forum.name,
        "purpose": forum.purpose,
        "theme": forum.theme,
        "tags": forum.tag_list,
        "membership_policy": {"code": forum.membership_policy.value,
                              "label": forum.membership_policy.short_label},
        "notice_days": forum.notice_days,
        "partnership": refs.partnership_ref(forum.partnership),
        "created_at": refs.moment(forum.created_at),
        "updated_at": refs.moment(forum.updated_at),
        "links": {
            "self": refs.url("opendata.forums_detail", forum_id=forum.id),
            "html": refs.url("forums.show", slug=slug, forum_slug=forum.slug),
            "meetings": refs.url("opendata.meetings_list", forum=forum.id),
            "calendar": refs.url("meetings.forum_feed", slug=slug, forum_slug=forum.slug),
        },
    }


LINKS = ("self", "html", "meetings", "calendar")
SCHEMA = {
    "type": "object",
    "required": ["id", "slug", "name", "purpose", "theme", "tags", "membership_policy",
                 "notice_days", "partnership", "created_at", "updated_at", "links"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer"},
        "slug": {"type": "string", "description": "Unique within its partnership."},
        "name": {"type": "string"},
        "purpose": {"type": "string", "description": "Markdown."},
        "theme": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "membership_policy": refs.ref("Labelled"),
        "notice_days": {"type": "integer", "minimum": 0, "description":
                        "Clear working days of notice its meetings' agendas promise."},
        "partnership": refs.ref("PartnershipRef"),
        "created_at": refs.MOMENT,
        "updated_at": refs.MOMENT,
        "links": {"type": "object", "required": list(LINKS), "additionalProperties": False,
                  "properties": dict.fromkeys(LINKS, refs.LINK)},
    },
}

DATASET = register(Dataset(
    name="forums",
    title="Forums",
    description="The public forums of each partnership (a VCSE alliance, a thematic "
                "forum): purpose, how to join, and the notice their meetings promise. "
                "Members-only forums are not included.",
    schema_name="Forum",
    schema=SCHEMA,
    filters=(PARTNERSHIP_FILTER,),
    fetch=_fetch,
    serialise=serialise,
    columns=(
        field_column("id"), field_column("slug"), field_column("name"),
        field_column("partnership", "partnership", "slug"),
        field_column("partnership_name", "partnership", "name"),
        field_column("theme"),
        Column("tags", lambda item: "; ".join(item["tags"])),
        field_column("membership_policy", "membership_policy", "label"),
        field_column("notice_days"), field_column("purpose"),
        field_column("created_at"), field_column("updated_at"),
        field_column("url", "links", "html"), field_column("api_url", "links", "self"),
    ),
    detail=Detail("forum_id", "id", _load, "One public forum, by its id."),
))
