"""Engagement plans and the engagement record (``engagement`` package).

The record is public, built only from what anyone may see; the plan is public too
(naming who is accountable is the point of it), but only the partnership's officers
and site administrators may set it."""

from __future__ import annotations

from ..partnership.models import Partnership
from .core import Viewer
from .partnership import can_manage_partnership


def can_edit_engagement_plan(user: Viewer, partnership: Partnership) -> bool:
    """Set or change the partnership's engagement plan for any year: its officers and
    site administrators (those who run the partnership), no one else."""
    return can_manage_partnership(user, partnership)
