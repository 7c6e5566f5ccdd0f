"""The ``opportunities`` blueprint. Importing this module imports the view modules, which
add their routes to ``bp``; ``create_app`` registers it.
"""

from flask import Blueprint

bp = Blueprint("opportunities", __name__)

from . import application_views, placement_views, poster_views, views  # noqa: E402,F401
