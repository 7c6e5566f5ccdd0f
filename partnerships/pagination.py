"""Page numbers for long lists, as parameters for the GOV.UK pagination component."""

from __future__ import annotations

from typing import Any

from flask import request, url_for


def page_number(arg: str = "page") -> int:
    """The page asked for in the query string (1 if missing or nonsense)."""
    value = request.args.get(arg, "1")
    return int(value) if value.isdigit() and int(value) > 0 else 1


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
