"""Page numbers for long lists, as parameters for the GOV.UK pagination component."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, NamedTuple, TypeVar

from flask import request, url_for

from .bounds import INT_MAX, is_whole_number, whole_number

Rows = TypeVar("Rows")


def page_number(arg: str = "page") -> int:
    """The page asked for in the query string: 1 if missing or not a page number ("²",
    "-1", "0" or "abc"), and at most ``bounds.INT_MAX`` (a larger number, which the
    database would refuse as an offset, is past the last page anyway)."""
    value = (request.args.get(arg) or "").strip()
    if not is_whole_number(value) or not value.strip("0"):
        return 1
    return whole_number(value) or INT_MAX


class Paged(NamedTuple, Generic[Rows]):
    rows: Rows
    total: int
    page: int
    pages: int


def fetch_page(fetch: Callable[[int], tuple[Rows, int]], per_page: int,
               arg: str = "page") -> Paged[Rows]:
    """The page the query string asks for: ``fetch(page)`` gives its rows and the total.
    Past the last page (a stale link, or a made-up number) the last page is fetched and
    shown instead, so every page number gives a page."""
    page = page_number(arg)
    rows, total = fetch(page)
    pages = page_count(total, per_page)
    if page > pages:
        page = pages
        rows, total = fetch(page)
    return Paged(rows, total, page, pages)


def page_count(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def govuk_pagination(
    endpoint: str, page: int, pages: int, label: str, **args: Any
) -> dict[str, Any] | None:
    """Parameters for ``govukPagination``: previous, next and numbered links with
    ellipses, keeping the other query arguments. None when there is only one page."""
    if pages <= 1:
        return None

    def href(number: int) -> str:
        return url_for(endpoint, **{**args, "page": number})

    shown = sorted({1, pages, page - 1, page, page + 1} & set(range(1, pages + 1)))
    items: list[dict[str, Any]] = []
    for i, number in enumerate(shown):
        if i and number - shown[i - 1] > 1:
            items.append({"ellipsis": True})
        items.append({"number": number, "href": href(number), "current": number == page})
    params: dict[str, Any] = {"items": items, "landmarkLabel": label}
    if page > 1:
        params["previous"] = {"href": href(page - 1)}
    if page < pages:
        params["next"] = {"href": href(page + 1)}
    return params
