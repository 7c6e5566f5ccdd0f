"""The email settings form: one set of radios per forum and partnership the person
belongs to, the default for new memberships, and a checkbox per personal kind. Built
for each person, as the forums and partnerships differ."""

from __future__ import annotations

from typing import Any

from wtforms import RadioField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from ..forms import BaseForm, Checkboxes, Radios, submit
from ..mail.kinds import Kind, Sort, of_sort
from .models import Level
from .services import Scope


def field_name(scope: Scope) -> str:
    return f"level_{scope.type}_{scope.id}"


def _level_radios(label: str, missing: str) -> RadioField:
    return RadioField(label, widget=Radios(), choices=Level.choices(),
                      validators=[InputRequired(missing)], invalid_choice_message=missing)


class _SettingsBase(BaseForm):
    default = _level_radios("For forums and partnerships you join from now on",
                            "Select how much email you want from forums and partnerships "
                            "you join")
    personal = SelectMultipleField(
        "Other emails to get", widget=Checkboxes(),
        choices=[SelectChoice(entry.kind.value, entry.label)
                 for entry in of_sort(Sort.PERSONAL)],
        invalid_choice_message="Select emails from the list")
    submit = submit("Save your email settings")

    scopes: list[Scope]

    def scope_fields(self) -> list[tuple[Scope, Any]]:
        return [(scope, self[field_name(scope)]) for scope in self.scopes]

    def chosen(self) -> dict[str, Level]:
        return {scope.key: Level(field.data) for scope, field in self.scope_fields()}

    def on(self) -> list[Kind]:
        return [Kind(value) for value in self.personal.data or []]

    def personal_params(self) -> dict[str, Any]:
        return {
            "items": [{"hint": {"text": entry.why}} for entry in of_sort(Sort.PERSONAL)],
            "fieldset": {"legend": {"text": "Other emails to get",
                                    "classes": "govuk-fieldset__legend--m"}},
            "hint": {"text": "Emails meant for you alone that are not about a forum's or "
                             "partnership's activity. Untick any you do not want."},
        }


def settings_form(scopes: list[Scope], **kwargs: Any) -> _SettingsBase:
    """The form for someone who belongs to ``scopes`` (their fields come first)."""
    fields: dict[str, Any] = {
        field_name(scope): _level_radios(
            scope.name, f"Select how much email you want about {scope.name}")
        for scope in scopes
    }
    form_class = type("NotificationSettingsForm", (_SettingsBase,), {
        **fields, "page_order": (*fields, "default", "personal")})
    form: _SettingsBase = form_class(**kwargs)
    form.scopes = scopes
    return form
