"""Form pieces of the join-request flow: declining with a reason (approving is a
``ButtonForm``), and the optional text a request or an invitation carries."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import StringField, TextAreaField

from ..forms import CharacterCount, MaxLength, ReasonForm, reason_form


def decline_form(*, label: str, description: str, button: str, limit: int,
                 required: str | None = None, what: str = "The reason",
                 counted: bool = False) -> type[ReasonForm]:
    """``reason_form`` for a decline page, as each domain has always shown it: ``counted``
    gives the reason box a GOV.UK character count (forums and organisations), and
    ``what`` names the reason in the length message ("Reason must be ...")."""
    return reason_form(label=label, description=description, button=button, limit=limit,
                       required=required, what=what, name="DeclineForm",
                       widget=CharacterCount() if counted else None)


def optional_text(label: str, description: str, limit: int, what: str) -> StringField:
    """An optional one-line text box (a job title, a website, a theme) of at most
    ``limit`` characters; ``what`` names it in the length message."""
    return StringField(label, description=description, widget=GovTextInput(),
                       validators=[MaxLength(limit, what)])


def optional_message(label: str, description: str, limit: int, what: str) -> TextAreaField:
    """An optional text area with a character count (a message with a request or an
    invitation, an introduction, a description) of at most ``limit`` characters."""
    return TextAreaField(label, description=description, widget=CharacterCount(),
                         validators=[MaxLength(limit, what)])
