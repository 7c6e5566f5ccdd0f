"""The join-request flow's one form: declining with a reason (approving is a
``ButtonForm``)."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount

from ..forms import BaseForm, MaxLength, reason_form


def decline_form(*, label: str, description: str, button: str, limit: int,
                 required: str | None = None, what: str = "The reason",
                 counted: bool = False) -> type[BaseForm]:
    """``reason_form`` for a decline page, as each domain has always shown it: ``counted``
    gives the reason box a GOV.UK character count (forums and organisations), and
    ``what`` names the reason in the length message ("Reason must be ...")."""
    form = reason_form(label=label, description=description, button=button, limit=limit,
                       required=required, name="DeclineForm")
    field = form.reason  # the unbound field, made for this form class alone
    field.kwargs["validators"] = [MaxLength(limit, what) if isinstance(check, MaxLength)
                                  else check for check in field.kwargs["validators"]]
    if counted:
        field.kwargs["widget"] = GovCharacterCount()
    return form
