"""What the opportunity view modules share. Kept out of ``views`` so that no view
module imports another."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from .. import permissions
from . import services
from .models import Opportunity


def load_visible(opportunity_id: int) -> Opportunity:
    """An opportunity this person may see; 404 otherwise (drafts are the host's)."""
    opportunity = services.get(opportunity_id)
    if opportunity is None or not permissions.can_view_opportunity(current_user, opportunity):
        abort(404)
    return opportunity
