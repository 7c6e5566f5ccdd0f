"""The ``dashboard`` blueprint. Importing this module imports the view module, which
adds its route to ``bp``; ``create_app`` registers it.
"""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)

from . import views  # noqa: E402,F401
