"""Meetings of forums: scheduling and series, agendas and papers, item requests,
registration and waiting lists, attendance, minutes, decisions and actions, and
calendar downloads and feeds."""

from flask import Blueprint

bp = Blueprint("meetings", __name__)

from . import (  # noqa: E402,F401  (each module adds its routes to bp)
    agenda_views,
    calendar_views,
    record_views,
    registration_views,
    views,
)
