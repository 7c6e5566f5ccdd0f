"""Concerns about how a partnership engages: who runs them, who sees one, what is public.

Anyone may raise a concern, signed in or not. The partnership's officers and site
admins see every concern of the partnership and act on it (``can_manage_concerns``);
a signed-in raiser sees their own (a signed-out raiser follows theirs through the
private link emailed to them, which the views check, not these predicates). The
public sees a concern only once it is published (``concern_is_published`` /
``concerns_published``, side by side): the raiser consented, an officer responded,
and no officer withheld it.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_

from ..concerns.models import Concern
from ..partnership.models import Partnership
from .core import Viewer, signed_in
from .partnership import can_manage_partnership


def can_raise_concern(user: Viewer, partnership: Partnership) -> bool:
    """Anyone, signed in or not: the point is to hear from people outside."""
    return True


def can_manage_concerns(user: Viewer, partnership: Partnership) -> bool:
    """See the list, acknowledge, respond, close, withhold: officers and site admins."""
    return can_manage_partnership(user, partnership)


def is_concern_raiser(user: Viewer, concern: Concern) -> bool:
    return signed_in(user) and concern.raised_by_id == user.id


def can_view_concern(user: Viewer, concern: Concern) -> bool:
    """The whole concern (email address included): its officers and its raiser."""
    return is_concern_raiser(user, concern) or can_manage_concerns(user, concern.partnership)


def concern_is_published(concern: Concern) -> bool:
    return concern.is_published


def concerns_published() -> ColumnElement[bool]:
    """``concern_is_published`` as a SQL condition on ``Concern``."""
    return and_(Concern.consent_to_publish.is_(True), Concern.responded_at.is_not(None),
                Concern.withheld_at.is_(None))
