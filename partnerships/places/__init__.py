"""Partnerships (the "places"): public pages, officers and member organisations.

The package is called ``places`` because ``partnerships`` is the app's own name.
"""

from flask import Blueprint

bp = Blueprint("places", __name__)

from . import views  # noqa: E402,F401
