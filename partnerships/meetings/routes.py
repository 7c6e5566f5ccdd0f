"""The ``meetings`` blueprint. Importing this module imports the view modules, which
add their routes to ``bp``; ``create_app`` registers it.
"""

from flask import Blueprint

bp = Blueprint("meetings", __name__)

from . import (  # noqa: E402,F401  (each module adds its routes to bp)
    agenda_views,
    calendar_views,
    record_views,
    registration_views,
    views,
)
