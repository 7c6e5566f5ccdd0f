"""Thin views for the public information pages and the health check."""

from __future__ import annotations

from flask import Response, jsonify, render_template
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .. import pagecache
from ..extensions import db, limiter
from ..partnership import services as place_services
from .routes import bp


@bp.get("/")
def home() -> str:
    partnerships = place_services.partnership_links(limit=6)
    return render_template("pages/home.html", partnerships=partnerships)


@bp.get("/accessibility")
def accessibility() -> str:
    return render_template("pages/accessibility.html")


@bp.get("/privacy")
def privacy() -> str:
    return render_template("pages/privacy.html")


@bp.get("/cookies")
def cookies() -> str:
    return render_template("pages/cookies.html")


@bp.get("/healthz")
@pagecache.never  # it is there to ask the database, every time
@limiter.exempt
def healthz() -> tuple[Response, int]:
    """200 when the database answers a trivial query, 503 otherwise (for load balancers)."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify({"status": "error", "database": "unavailable"}), 503
    return jsonify({"status": "ok", "database": "ok"}), 200
