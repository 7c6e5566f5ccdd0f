"""The ``forums`` blueprint. Importing this module imports the view modules, which
add their routes to ``bp``; ``create_app`` registers it.
"""

from flask import Blueprint

bp = Blueprint("forums", __name__)

from . import thread_views, views  # noqa: E402,F401
