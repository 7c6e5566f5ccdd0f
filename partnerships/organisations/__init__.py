"""Organisations: public directory, profiles, join requests and admins."""

from flask import Blueprint

bp = Blueprint("organisations", __name__)

from . import views  # noqa: E402,F401
