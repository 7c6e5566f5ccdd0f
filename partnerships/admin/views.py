"""Site administration pages (to be completed)."""

from __future__ import annotations

from flask import abort

from . import bp


@bp.get("/")
def index() -> str:
    abort(404)
