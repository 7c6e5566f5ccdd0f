"""The ``concerns`` blueprint (``/partnerships/<slug>/concerns/...``). Importing this
module imports the views, which add their routes to ``bp``; ``create_app`` registers it.
"""

from flask import Blueprint

bp = Blueprint("concerns", __name__)

from . import views  # noqa: E402,F401
