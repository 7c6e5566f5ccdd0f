"""The one flow every form view follows, so a view states only what differs.

A view loads what it needs and checks who may act (``permissions``); then, for a
submitted form, ``save`` validates it, calls the service with the actor, and either
commits or rolls back and shows the service's ``ValidationError`` against the field it
names. On success the view flashes and redirects with ``see_other`` (303, so a reload
never posts again); otherwise ``render`` shows the form again, with 422 when it has
errors so that tests, htmx and assistive tools see the failure.

    form = OrganisationForm()
    if done := formflow.save(form, lambda: services.create(current_user, form.details())):
        flash(f"{done.value.name} has been added.", "success")
        return formflow.see_other("organisations.show", key=done.value.slug)
    return formflow.render("organisations/form.html", form)

``save`` wraps the result in ``Done`` so that a service returning ``None`` still counts
as a success. ``apply`` is the same unit of work for a button (a form with only CSRF)
whose error is shown some other way than on a field; ``press`` is the whole flow of
such a button when a refusal is the service's error page, and ``button_pressed`` is
its first step (a valid CSRF token, else 400) for views that go on differently.

Before all that, a view loads with ``found`` (404 if there is no such thing) and checks
with ``allowed`` (403 if a ``permissions`` check says no; with ``hide=True``, for
something members-only or a draft, ``permissions.refuse`` answers: sign in first, the
members-only page naming its forum, or 404):

    org = allowed(found(services.get_by_id_or_slug(key)), permissions.can_edit_organisation)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from . import permissions
from .errors import ValidationError
from .extensions import db
from .forms import ButtonForm

T = TypeVar("T")

# What a view returns: a page, a redirect, or a page with its status code.
Page = str | Response | tuple[str, int]


@dataclass(frozen=True)
class Done(Generic[T]):
    """A saved form: ``value`` is what the service returned (``None`` for many).
    Always true, so ``if done := apply(...)`` narrows to ``Done`` for type checkers."""

    value: T

    def __bool__(self) -> Literal[True]:
        return True


@dataclass(frozen=True)
class Refused:
    """A service refused the change: the message (and field) it gave. Falsy, so
    ``if outcome := apply(...)`` reads as "if it worked"."""

    message: str
    field: str | None = None

    def __bool__(self) -> Literal[False]:
        return False


def found(value: T | None) -> T:
    """What was looked up, or the 404 page if there is no such thing."""
    if value is None:
        abort(404)
    return value


def allowed(value: T, may: Callable[[Any, T], bool], *, hide: bool = False,
            audience: Callable[[Any, T], permissions.Audience | None] | None = None) -> T:
    """``value``, if ``may`` (a ``permissions`` check) says the current user may do what
    the page does with it; otherwise 403. With ``hide`` (a draft, a members-only thing)
    the refusal is ``permissions.refuse``'s: sign in first when signed out (the page may
    be theirs once they do), else the members-only page for the ``audience`` it is for
    (when that function names one), else 404 so the user does not learn it exists."""
    if not may(current_user, value):
        if hide:
            permissions.refuse(current_user, audience(current_user, value) if audience else None)
        abort(403)
    return value


def see_other(endpoint: str, **values: Any) -> Response:
    """Redirect after a successful POST (303 See Other), to ``url_for(endpoint)``."""
    return redirect(url_for(endpoint, **values), code=303)


def status_for(form: Any) -> int:
    """422 when the form carries errors (the user must change something), else 200."""
    return 422 if form.errors else 200


def render(template: str, form: Any, **context: Any) -> tuple[str, int]:
    """The form page, with ``form`` in the context and the status ``status_for`` gives."""
    return render_template(template, form=form, **context), status_for(form)


def apply(action: Callable[[], T]) -> Done[T] | Refused:
    """Run one service call as a unit of work: commit if it succeeds; roll back and
    return what the service said if it raises ``ValidationError`` (other domain errors
    pass through to their error pages, after the request's own rollback)."""
    try:
        value = action()
    except ValidationError as error:
        db.session.rollback()
        return Refused(error.message, error.field)
    db.session.commit()
    return Done(value)


def save(form: Any, action: Callable[[], T], *, validate: bool = True) -> Done[T] | None:
    """If the form was submitted and is valid, ``apply`` the action; a refusal is added
    to the form (on the field the service named, or the first) and gives ``None``.

    ``validate=False`` is for a view that has already validated the form (for example
    one that checks a second form first) and only wants the unit of work."""
    if validate and not form.validate_on_submit():
        return None
    outcome = apply(action)
    if isinstance(outcome, Refused):
        form.add_error(outcome.field, outcome.message)
        return None
    return outcome


def button_pressed() -> None:
    """400 unless a button-only form (``ButtonForm``: CSRF only) was posted validly."""
    if not ButtonForm().validate_on_submit():
        abort(400)


def press(action: Callable[[], T], message: str | Callable[[T], str],
          then: Response) -> Response:
    """A button (publish, remind, start, remove ...): ``button_pressed``, then the
    service as one unit of work; flash ``message`` (or ``message(value)``) and go
    ``then``. A refusal is the service's error page, as when a view called the service
    itself: it is raised again after ``apply`` has rolled back."""
    button_pressed()
    outcome = apply(action)
    if isinstance(outcome, Refused):
        raise ValidationError(outcome.message, outcome.field)
    flash(message(outcome.value) if callable(message) else message, "success")
    return then
