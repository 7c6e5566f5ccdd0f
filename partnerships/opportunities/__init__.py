"""Secondments and shadowing: host organisations post opportunities, staff apply with
their line manager's approval, hosts accept, and placements are recorded and counted
(/opportunities/..., /my/applications, /my/opportunities, /placements/<id>/)."""

from flask import Blueprint

bp = Blueprint("opportunities", __name__)

from . import application_views, placement_views, views  # noqa: E402,F401
