"""Forums: standing groups inside a partnership, their membership and discussions."""

from flask import Blueprint

bp = Blueprint("forums", __name__)

from . import thread_views, views  # noqa: E402,F401
