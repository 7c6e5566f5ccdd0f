"""Form building blocks shared by every domain: GOV.UK widgets and plain-English messages."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovDateInput,
    GovRadioInput,
    GovSubmitInput,
)
from wtforms import DateField, Form, SubmitField
from wtforms.validators import StopValidation
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


class UKDateField(DateField):
    """Day, month and year boxes (GOV.UK date input) with plain-English errors.

    ``what`` names the date in messages ("Enter the closing date"); ``error_name``, if
    given, starts the format errors ("Closing date must be a real date"), otherwise
    ``what`` with a capital letter does.
    """

    def __init__(self, label: str, what: str, required: bool = True,
                 error_name: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("widget", GovDateInput())
        validators = list(kwargs.pop("validators", []))
        if required:
            validators.insert(0, _DateRequired(f"Enter {what}"))
        super().__init__(label, validators=validators, format="%d %m %Y", **kwargs)
        self.what = what
        self.error_name = error_name or what[0].upper() + what[1:]

    def process_formdata(self, valuelist: list[str]) -> None:
        # The widget needs exactly three boxes back, even if a client sent none.
        self.raw_data = [*valuelist[:3], *[""] * (3 - len(valuelist[:3]))]
        parts = [value.strip() for value in valuelist[:3]]
        if not any(parts):
            self.data = None
            return
        name = self.error_name
        if len(parts) != 3 or not all(parts):
            self.data = None
            raise ValueError(f"{name} must include a day, month and year")
        try:
            day, month, year = (int(part) for part in parts)
            if not 1900 <= year <= 2200:
                raise ValueError
            self.data = date(year, month, day)
        except ValueError:
            self.data = None
            raise ValueError(f"{name} must be a real date, like 27 3 2027") from None


class _DateRequired:
    def __init__(self, message: str) -> None:
        self.message = message
        self.field_flags = {"required": True}

    def __call__(self, form: Form, field: UKDateField) -> None:
        if field.process_errors:
            raise StopValidation()
        if field.data is None:
            raise StopValidation(self.message)
