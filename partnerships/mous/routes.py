"""The ``mous`` blueprint. Importing this module imports the view modules, which
add their routes to ``bp``; ``create_app`` registers it.
"""

from flask import Blueprint

bp = Blueprint("mous", __name__)

from . import register_views, review_views, version_views, views  # noqa: E402,F401
