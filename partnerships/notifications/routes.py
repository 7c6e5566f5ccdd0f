"""The ``notifications`` blueprint: ``/account/notifications`` and ``/unsubscribe/...``.
Importing this module imports the views, which add their routes to ``bp``."""

from flask import Blueprint

bp = Blueprint("notifications", __name__)

from . import views  # noqa: E402,F401
