"""Form building blocks shared by every domain: GOV.UK widgets and plain-English messages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovSubmitInput,
)
from wtforms import SubmitField
from wtforms.validators import ValidationError as WTFValidationError


class BaseForm(FlaskForm):
    """A Flask-WTF form (CSRF included) that strips surrounding spaces from text."""

    class Meta:
        def bind_field(self, form, unbound_field, options):  # type: ignore[no-untyped-def]
            if unbound_field.field_class.__name__ in _TEXT_FIELDS:
                filters = list(unbound_field.kwargs.get("filters", []))
                options = {**options, "filters": [*filters, _strip]}
            return unbound_field.bind(form=form, **options)

    def add_error(self, field_name: str | None, message: str) -> None:
        """Attach a service's error to a field (or to the first field) for the summary."""
        field = getattr(self, field_name, None) if field_name else None
        if field is None:
            field = next(iter(self._fields.values()))
        if isinstance(field.errors, tuple):
            field.errors = list(field.errors)
        field.errors.append(message)


_TEXT_FIELDS = {"StringField", "EmailField", "TextAreaField", "URLField", "SearchField"}


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def submit(label: str) -> SubmitField:
    return SubmitField(label, widget=GovSubmitInput())


class MaxLength:
    """Length check with a GOV.UK-style message naming the limit."""

    def __init__(self, limit: int, what: str) -> None:
        self.limit = limit
        self.what = what

    def __call__(self, form: FlaskForm, field: object) -> None:
        data = getattr(field, "data", None) or ""
        if len(data) > self.limit:
            raise WTFValidationError(f"{self.what} must be {self.limit} characters or fewer")


class _NoEmptyHint:
    """govuk-frontend-wtf gives radios and checkboxes a hint even when the field has no
    description, which renders an empty hint that screen readers announce. Drop it."""

    def map_gov_params(self, field, **kwargs):  # type: ignore[no-untyped-def]
        params = super().map_gov_params(field, **kwargs)  # type: ignore[misc]
        hint = params.get("hint")
        if isinstance(hint, dict) and not (hint.get("text") or hint.get("html")):
            params.pop("hint")
        return params


class Radios(_NoEmptyHint, GovRadioInput):
    """GOV.UK radios without an empty hint."""


class Checkboxes(_NoEmptyHint, GovCheckboxesInput):
    """GOV.UK checkboxes without an empty hint."""


class Checkbox(_NoEmptyHint, GovCheckboxInput):
    """A single GOV.UK checkbox (BooleanField) without an empty hint."""
