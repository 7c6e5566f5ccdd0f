"""``/my/``: Your Local Partnerships. Thin: gather (``services.dashboard``), render."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from . import services
from .routes import bp


@bp.get("/my/")
@login_required
def index() -> str:
    return render_template("dashboard/index.html", board=services.dashboard(current_user),
                           shown=services.SHOWN)
