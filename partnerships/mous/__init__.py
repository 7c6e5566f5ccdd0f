"""MoUs: drafting, commenting on, signing, publishing and amending Memoranda of
Understanding on each partnership's register (/partnerships/<slug>/mous/...)."""

from flask import Blueprint

bp = Blueprint("mous", __name__)


from . import register_views, review_views, version_views, views  # noqa: E402,F401
