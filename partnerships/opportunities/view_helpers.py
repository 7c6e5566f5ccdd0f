"""What the opportunity view modules share: load an opportunity, application or
placement the viewer may see (404 otherwise, so nothing is revealed), and press a
button. Kept out of ``views`` so that no view module imports another."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, flash
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import formflow, permissions
from ..errors import ValidationError
from ..forms import ButtonForm
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


def press(action: Callable[[], object], message: str, then: Response) -> Response:
    """A button-only form (publish, remind, start, remove ...): 400 without a valid CSRF
    token; otherwise run the service as one unit of work, flash ``message`` and go
    ``then``. A refusal is the service's error page (409, 403, or 422 for a
    ``ValidationError``), as when the view called the service itself."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    outcome = formflow.apply(action)
    if isinstance(outcome, formflow.Refused):
        raise ValidationError(outcome.message, outcome.field)
    flash(message, "success")
    return then
