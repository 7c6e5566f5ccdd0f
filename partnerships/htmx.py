"""Render a whole page, or just a fragment for htmx, from the same view.

A non-boosted htmx request gets the fragment; everything else (no JavaScript,
boosted links, history restores) gets the full page. ``Vary: HX-Request`` stops
caches mixing the two up.
"""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, redirect, render_template
from werkzeug.wrappers import Response as BaseResponse

from .extensions import htmx


def wants_fragment() -> bool:
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_page_or_partial(page: str, partial: str, status: int = 200, **context: Any) -> Response:
    template = partial if wants_fragment() else page
    response = make_response(render_template(template, **context), status)
    response.headers.add("Vary", "HX-Request")
    return response


def hx_redirect(location: str) -> BaseResponse:
    """Redirect after a POST: ``HX-Redirect`` for htmx, a 303 See Other otherwise."""
    if htmx:
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, code=303)
