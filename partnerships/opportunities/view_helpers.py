"""What the opportunity view modules share: load an opportunity, application or
placement the viewer may see (404 otherwise, so nothing is revealed). Kept out of
``views`` so that no view module imports another."""

from __future__ import annotations

from .. import permissions
from ..formflow import allowed, found
from . import applications, placements, services
from .models import Application, Opportunity, Placement


def load_visible(opportunity_id: int) -> Opportunity:
    """An opportunity this person may see; 404 otherwise (drafts are the host's)."""
    return allowed(found(services.get(opportunity_id)), permissions.can_view_opportunity,
                   hide=True)


def load_application(application_id: int) -> Application:
    """An application this person may see (the applicant, or the host once the line
    manager approved); 404 for everyone else."""
    return allowed(found(applications.get(application_id)), permissions.can_view_application,
                   hide=True)


def load_placement(placement_id: int) -> Placement:
    """A placement, for its participant and host only; 404 for everyone else."""
    return allowed(found(placements.get(placement_id)), permissions.can_view_placement,
                   hide=True)
