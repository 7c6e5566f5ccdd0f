"""Partnership pages (to be completed)."""

from __future__ import annotations

from flask import abort, render_template

from . import bp, services


@bp.get("/")
def index() -> str:
    return render_template("places/index.html", partnerships=services.list_partnerships())


@bp.get("/<slug>/")
def show(slug: str) -> str:
    partnership = services.get_by_slug(slug)
    if partnership is None:
        abort(404)
    return render_template("places/show.html", partnership=partnership)


@bp.get("/<slug>/requests")
def requests(slug: str) -> str:
    abort(404)
