"""Site administration forms: appoint an officer, search accounts."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovTextInput
from wtforms import SearchField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired

from ..accounts.forms import email_field
from ..accounts.models import EMAIL_MAX
from ..bounds import identifier
from ..forms import BaseForm, MaxLength, submit

NO_ORGANISATION = ""


class OfficerForm(BaseForm):
    """Appoint an existing account as an officer of a partnership."""

    email = email_field(
        "Email address of their account",
        hint="They must have created an account already.",
        required="Enter the email address of the person's account",
    )
    role_title = StringField(
        "Role",
        description="Shown on the public page, for example Partnership officer or VCSE co-chair.",
        widget=GovTextInput(),
        validators=[InputRequired("Enter the officer's role, like Partnership officer"),
                    MaxLength(120, "Role")],
    )
    organisation = SelectField(
        "Organisation they work for (optional)",
        widget=GovSelect(),
        choices=[],
        default=NO_ORGANISATION,
        invalid_choice_message="Select an organisation from the list",
    )
    submit = submit("Appoint officer")

    def set_organisations(self, choices: list[tuple[int, str]]) -> None:
        self.organisation.choices = [
            SelectChoice(NO_ORGANISATION, "Not linked to an organisation"),
            *(SelectChoice(str(org_id), name) for org_id, name in choices),
        ]

    @property
    def organisation_id(self) -> int | None:
        value = self.organisation.data
        return identifier(value)


class UserSearchForm(BaseForm):
    """The accounts search box (GET, so no CSRF token in the address)."""

    class Meta:
        csrf = False

    q = SearchField(
        "Search by name or email address",
        widget=GovTextInput(),
        validators=[MaxLength(EMAIL_MAX, "Search")],
    )
