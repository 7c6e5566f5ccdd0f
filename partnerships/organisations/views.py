"""Organisation pages (to be completed)."""

from __future__ import annotations

from flask import abort, render_template
from flask_login import login_required

from . import bp, services


@bp.get("/")
def index() -> str:
    orgs, total = services.search()
    return render_template("organisations/index.html", organisations=orgs, total=total)


@bp.get("/<key>/")
def show(key: str) -> str:
    org = services.get_by_id_or_slug(key)
    if org is None:
        abort(404)
    return render_template("organisations/show.html", organisation=org)


@bp.get("/<key>/members")
@login_required
def members(key: str) -> str:
    abort(404)


@bp.get("/mine")
@login_required
def mine() -> str:
    abort(404)
