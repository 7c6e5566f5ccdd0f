"""The envelope of a JSON list: the page's items, how many match in all, and links to
this, the first, last, next and previous pages (null past either end) and to the same
list as CSV, each keeping the filters asked for."""

from __future__ import annotations

from typing import Any

from . import refs
from .datasets import Dataset, Json
from .params import PAGING, query_args


def envelope(dataset: Dataset, values: dict[str, Any], items: list[Json],
             total: int) -> Json:
    page, per_page = values["page"], values["per_page"]
    pages = max(1, -(-total // per_page))
    filters = query_args(values, dataset.filters)
    keep = {**filters, **query_args({"per_page": per_page}, PAGING[1:])}
    endpoint = f"opendata.{dataset.name}_list"

    def link(number: int) -> str:
        return refs.url(endpoint, **keep, **({"page": number} if number != 1 else {}))

    return {
        "items": items,
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": pages,
        "links": {
            "self": link(page),
            "first": link(1),
            "last": link(pages),
            "next": link(page + 1) if page < pages else None,
            "prev": link(min(page - 1, pages)) if page > 1 else None,
            "csv": refs.url(f"opendata.{dataset.name}_csv", **filters),
        },
    }


def schema(item_schema: str) -> Json:
    """The JSON Schema of a list of ``item_schema``."""
    page_link = refs.nullable(refs.LINK)
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total", "pages", "links"],
        "additionalProperties": False,
        "properties": {
            "items": {"type": "array", "items": refs.ref(item_schema)},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 1},
            "links": {
                "type": "object",
                "required": ["self", "first", "last", "next", "prev", "csv"],
                "additionalProperties": False,
                "properties": {"self": refs.LINK, "first": refs.LINK, "last": refs.LINK,
                               "next": page_link, "prev": page_link, "csv": refs.LINK},
            },
        },
    }
