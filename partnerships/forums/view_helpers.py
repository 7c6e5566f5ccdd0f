"""What the forum pages (``views``) and the discussion pages (``thread_views``) share."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import abort

from .. import formflow

T = TypeVar("T")


def button(action: Callable[[], T]) -> T:
    """A button's unit of work (``formflow.apply``), giving what the service returned. A
    refusal is the 422 error page with the service's message, as for any domain error."""
    outcome = formflow.apply(action)
    if not isinstance(outcome, formflow.Done):
        abort(422, outcome.message)
    return outcome.value
