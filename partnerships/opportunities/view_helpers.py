"""What the opportunity view modules share: load an opportunity, application or
placement the viewer may see (404 otherwise, so nothing is revealed), and press a
button. Kept out of ``views`` so that no view module imports another."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from .. import permissions
from . import applications, placements, services
from .models import Application, Opportunity, Placement

T = TypeVar("T")


def visible_or_404(found: T | None, may_see: Callable[[Any, T], bool]) -> T:
    """What was found, if the person may see it; 404 if it is missing or they may not."""
    if found is None or not may_see(current_user, found):
        abort(404)
    return found


def load_visible(opportunity_id: int) -> Opportunity:
    """An opportunity this person may see; 404 otherwise (drafts are the host's)."""
    return visible_or_404(services.get(opportunity_id), permissions.can_view_opportunity)


def load_application(application_id: int) -> Application:
    """An application this person may see (the applicant, or the host once the line
    manager approved); 404 for everyone else."""
    return visible_or_404(applications.get(application_id), permissions.can_view_application)


def load_placement(placement_id: int) -> Placement:
    """A placement, for its participant and host only; 404 for everyone else."""
    return visible_or_404(placements.get(placement_id), permissions.can_view_placement)
