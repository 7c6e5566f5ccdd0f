"""The ``engagement`` blueprint. Importing this module imports the view modules, which
add their routes to ``bp``; ``create_app`` registers it.
"""

from flask import Blueprint

bp = Blueprint("engagement", __name__)

from . import report_views, views  # noqa: E402,F401
