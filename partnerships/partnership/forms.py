"""Partnership forms: details, asking to join, and deciding on requests."""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import (
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    EmailField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Email, InputRequired, Optional
from wtforms.validators import ValidationError as WTFValidationError

from ..forms import BaseForm, Checkboxes, MaxLength, Radios, WholeNumberField, submit
from ..forms import ButtonForm as ButtonForm  # admin/views.py still imports it from here
from ..membership.forms import decline_form, optional_message
from ..once import OnceField
from ..organisations.models import Organisation
from ..slugs import MAX_SLUG, is_valid_slug
from .models import (
    CONTACT_EMAIL_MAX,
    DESCRIPTION_MAX,
    MESSAGE_MAX,
    NAME_MAX,
    NOTICE_DAYS_MAX,
    PLACE_MAX,
    REASON_MAX,
    Principle,
)
from .services import PartnershipDetails

SLUG_HINT = (
    "The end of the partnership's web address. Use lower-case letters, numbers and hyphens, "
    "like northbridge-together. Leave it blank to make one from the name."
)


def _valid_slug(form: BaseForm, field: StringField) -> None:
    if field.data and not is_valid_slug(field.data.lower()):
        raise WTFValidationError(
            "Web address must be lower-case letters, numbers and hyphens, like "
            f"northbridge-together, and {MAX_SLUG} characters or fewer"
        )


class PartnershipForm(BaseForm):
    """Create (site administrator) or edit (officers) a partnership's public details."""

    name = StringField(
        "Name",
        description="For example, Northbridge Together or Eastshire Health and Wellbeing "
        "Partnership.",
        widget=GovTextInput(),
        validators=[InputRequired("Enter the partnership's name"), MaxLength(NAME_MAX, "Name")],
    )
    slug = StringField(
        "Web address",
        description=SLUG_HINT,
        widget=GovTextInput(),
        validators=[_valid_slug],
    )
    place = StringField(
        "Place",
        description="The area it covers, like a borough, a county or an integrated care "
        "system.",
        widget=GovTextInput(),
        validators=[InputRequired("Enter the place the partnership covers"),
                    MaxLength(PLACE_MAX, "Place")],
    )
    description = TextAreaField(
        "Description",
        description="What the partnership is for and how it works. You can use Markdown: "
        "**bold**, lists with -, links like [text](https://example.org).",
        widget=GovTextArea(),
        validators=[MaxLength(DESCRIPTION_MAX, "Description")],
    )
    principles = SelectMultipleField(
        "Civil Society Covenant principles it commits to",
        description="Select all that apply.",
        choices=Principle.choices(),
        widget=Checkboxes(),
        invalid_choice_message="Select principles from the list",
    )
    contact_email = EmailField(
        "Contact email address (optional)",
        description="Shown on the public page, so use a shared inbox rather than a "
        "personal address.",
        widget=GovTextInput(),
        validators=[
            Optional(),
            MaxLength(CONTACT_EMAIL_MAX, "Contact email address"),
            Email("Enter a contact email address in the correct format, like "
                  "forum@example.org", check_deliverability=False),
        ],
    )
    notice_days = WholeNumberField(
        "Agenda notice for the partnership's own meetings, in clear working days",
        "the agenda notice", required=False, minimum=0, maximum=NOTICE_DAYS_MAX,
        range_message=f"Agenda notice must be from 0 to {NOTICE_DAYS_MAX} clear working "
                      "days",
        default="5",
        description="How many working days before a meeting of the partnership (such as "
        "its board) its agenda should be published. Weekends, bank holidays, the day it is "
        "published and the day of the meeting do not count. Forums set their own. From 0 "
        f"to {NOTICE_DAYS_MAX}; usually 5.",
    )
    once = OnceField()  # sent twice (two tabs, a second tap), it makes one
    submit = submit("Save")

    def principle_params(self) -> dict[str, Any]:
        """Widget params giving each principle checkbox its hint (what it means)."""
        return {"items": [{"hint": {"text": principle.hint}} for principle in Principle]}

    def details(self, slug: str | None = None) -> PartnershipDetails:
        """What was typed, for the service (``slug`` when the form has no slug field)."""
        return PartnershipDetails(
            name=self.name.data or "",
            slug=slug if slug is not None else (self.slug.data or ""),
            place=self.place.data or "",
            description=self.description.data or "",
            contact_email=self.contact_email.data or "",
            notice_days=self.notice_days.number(),
            principles=[Principle(value) for value in self.principles.data or []],
        )


class JoinForm(BaseForm):
    """An organisation admin asks for one of their organisations to join."""

    organisation = RadioField(
        "Which organisation wants to join?",
        description="Only organisations you are an admin of are listed.",
        widget=Radios(),
        choices=[],
        invalid_choice_message="Select the organisation that wants to join",
    )
    message = optional_message(
        "Message to the partnership officers (optional)",
        "For example, what your organisation does and why it wants to take part.",
        MESSAGE_MAX, "Your message")
    submit = submit("Ask to join")

    def set_organisations(self, organisations: list[Organisation]) -> None:
        """Offer these organisations; on a first visit, pick the only one there is (an
        admin of one organisation should not have to choose it)."""
        self.organisation.choices = [SelectChoice(str(org.id), org.name) for org in organisations]
        if len(organisations) == 1 and not self.is_submitted():
            self.organisation.data = str(organisations[0].id)

    def organisation_params(self, organisations: list[Organisation]) -> dict[str, Any]:
        """Each radio's hint says the organisation's type (same order as the choices)."""
        return {
            "items": [{"hint": {"text": org.org_type.label}} for org in organisations],
            "fieldset": {"legend": {"text": self.organisation.label.text,
                                    "classes": "govuk-fieldset__legend--m"}},
        }


# Decline a request. The reason is required by the service (checked after the state).
DeclineForm = decline_form(
    label="Reason for declining",
    description="The organisation's admins will see this in an email. Say what would "
    "change your decision, if anything.",
    button="Decline", limit=REASON_MAX,
)

