"""Forum forms: creating and editing a forum, joining, deciding, removing and inviting.

The forms check presence, length and format so every problem shows at once; the
services check again (they hold the rules) and also refuse what only they can know,
such as a web address already used or an email address with no account.
"""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import (
    GovSelect,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Email, InputRequired
from wtforms.validators import ValidationError as WTFValidationError

from ..forms import (
    BaseForm,
    Checkbox,
    MaxLength,
    Radios,
    WholeNumberField,
    submit,
)
from ..membership.forms import decline_form, optional_message, optional_text
from ..once import OnceField
from ..organisations.models import Organisation
from ..slugs import MAX_SLUG, is_valid_slug
from . import models
from .models import MembershipPolicy, Visibility
from .services import ForumDetails

JUST_ME = "me"
EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.org"


def _valid_slug(_form: BaseForm, field: Field) -> None:
    if field.data and not is_valid_slug(field.data.lower()):
        raise WTFValidationError(
            "Web address must be lower-case letters, numbers and hyphens, like "
            f"health-wellbeing, and {MAX_SLUG} characters or fewer"
        )


def _email_lines(_form: BaseForm, field: Field) -> None:
    bad = [line for line in split_lines(field.data) if "@" not in line or " " in line]
    if bad:
        raise WTFValidationError(f"{bad[0]} is not an email address. Put one email address "
                                 "on each line, like name@example.org")


def _email_field(label: str, description: str, required: str) -> EmailField:
    """One person's email address (``required`` is the message when it is missing)."""
    return EmailField(label, description=description, widget=GovTextInput(),
                      validators=[InputRequired(required), MaxLength(254, "Email address"),
                                  Email(EMAIL_FORMAT, check_deliverability=False)])


def split_lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ForumForm(BaseForm):
    """Create a forum (with its convenors) or change its details."""

    name = StringField(
        "Name",
        description="For example, Health and Wellbeing VCSE Forum.",
        widget=GovTextInput(),
        validators=[InputRequired("Enter the forum's name"), MaxLength(models.NAME_MAX, "Name")],
    )
    slug = StringField(
        "Web address (optional)",
        description="The end of the forum's web address. Use lower-case letters, numbers and "
        "hyphens, like health-wellbeing. Leave it blank to make one from the name.",
        widget=GovTextInput(),
        validators=[_valid_slug],
    )
    purpose = TextAreaField(
        "Purpose",
        description="What the forum is for and who should join. Everyone can read this. "
        "You can use Markdown: a blank line starts a new paragraph, **two stars** make text "
        "bold, a line starting with - makes a list, and [text](https://example.org) makes a "
        "link. The first paragraph is shown in lists of forums.",
        widget=GovTextArea(),
        validators=[InputRequired("Enter the forum's purpose: what it is for and who should "
                                  "join"), MaxLength(models.PURPOSE_MAX, "Purpose")],
    )
    theme = optional_text("Theme (optional)",
                          "In a few words, for example Health and wellbeing.",
                          models.THEME_MAX, "Theme")
    tags = optional_text("Tags (optional)",
                         "Words that help people find the forum, separated by commas, for "
                         "example mental health, carers, older people.",
                         models.TAGS_MAX, "Tags")
    membership_policy = RadioField(
        "Who can join?",
        choices=MembershipPolicy.choices(),
        default=MembershipPolicy.BY_REQUEST.value,
        widget=Radios(),
        validators=[InputRequired("Select who can join")],
    )
    visibility = RadioField(
        "Who can read the forum?",
        choices=Visibility.choices(),
        default=Visibility.PUBLIC.value,
        widget=Radios(),
        validators=[InputRequired("Select who can read the forum")],
    )
    notice_days = WholeNumberField(
        "Agenda notice in clear working days", "the agenda notice", required=False,
        minimum=0, maximum=models.NOTICE_DAYS_MAX,
        range_message=f"Agenda notice must be from 0 to {models.NOTICE_DAYS_MAX} clear "
                      "working days",
        default="5",
        description="How many working days before a meeting its agenda should be "
        "published. Weekends, bank holidays, the day it is published and the day of the "
        f"meeting do not count. From 0 to {models.NOTICE_DAYS_MAX}; usually 5.",
    )
    convene_myself = BooleanField("I will convene this forum", default=True,
                                  widget=Checkbox())
    convenors = TextAreaField(
        "Other convenors (optional)",
        description="Their email addresses, one on each line. They need an account already. "
        "Convenors can come from different sectors, for example a co-chair from the council "
        "and one from the voluntary sector.",
        widget=GovTextArea(),
        validators=[MaxLength(5000, "The list of convenors"), _email_lines],
    )
    once = OnceField()  # sent twice (two tabs, a second tap), it makes one
    submit = submit("Create forum")

    def details(self) -> ForumDetails:
        """What was typed, for the service to check and save."""
        return ForumDetails(
            name=self.name.data or "",
            slug=self.slug.data or "",
            purpose=self.purpose.data or "",
            theme=self.theme.data or "",
            tags=[tag for tag in (self.tags.data or "").split(",") if tag.strip()],
            membership_policy=MembershipPolicy(self.membership_policy.data),
            visibility=Visibility(self.visibility.data),
            notice_days=self.notice_days.number(),
        )

    def convenor_emails(self) -> list[str]:
        return split_lines(self.convenors.data)

    def radio_params(self, field: RadioField) -> dict[str, Any]:
        return {"fieldset": {"legend": {"text": field.label.text,
                                        "classes": "govuk-fieldset__legend--s"}}}


class JoinForm(BaseForm):
    """Join an open forum, or ask to join a by-request one, perhaps for an organisation."""

    on_behalf = RadioField(
        "Who is joining?",
        description="You can join as yourself, or represent an organisation you are an "
        "admin of.",
        choices=[SelectChoice(JUST_ME, "Just me")],
        default=JUST_ME,
        widget=Radios(),
        invalid_choice_message="Select who is joining",
    )
    introduction = optional_message(
        "Introduce yourself (optional)",
        "Tell the convenors who you are and why you want to join. They see this when they "
        "decide.",
        models.INTRODUCTION_MAX, "Your introduction")
    submit = submit("Ask to join")

    def set_organisations(self, organisations: list[Organisation]) -> None:
        self.on_behalf.choices = [
            SelectChoice(JUST_ME, "Just me"),
            *(SelectChoice(str(org.id), f"Me, representing {org.name}")
              for org in organisations),
        ]

    def organisation(self, organisations: list[Organisation]) -> Organisation | None:
        """The organisation chosen, or None for "Just me"."""
        return next((org for org in organisations if str(org.id) == self.on_behalf.data),
                    None)

    def on_behalf_params(self) -> dict[str, Any]:
        return {"fieldset": {"legend": {"text": self.on_behalf.label.text,
                                        "classes": "govuk-fieldset__legend--s"}}}


# Decline a request. The service requires the reason, after checking the request is
# still waiting (so a late decision is a conflict, not a form error).
DeclineForm = decline_form(
    label="Reason for declining",
    description="The person will see this in an email and on their forums page. Say what "
    "would change your decision, if anything.",
    button="Decline request", limit=models.REASON_MAX, what="Reason", counted=True,
)


class RemoveForm(BaseForm):
    """Remove a member, with a reason they will see, and perhaps ban them from rejoining."""

    reason = optional_message("Reason for removing them",
                              "The person will see this in an email.",
                              models.REASON_MAX, "Reason")
    ban = BooleanField("Also ban them from rejoining", widget=Checkbox(),
                       description="They will not be able to join or ask to join again until "
                       "a convenor lifts the ban.")
    submit = submit("Remove member")


class InviteForm(BaseForm):
    """Invite a person by email, perhaps to represent an organisation."""

    email = _email_field(
        "Email address",
        "We will email them a link that works once and expires in 14 days. If they have no "
        "account yet, they can create one.",
        "Enter the email address of the person to invite")
    organisation = SelectField(
        "Organisation they represent (optional)",
        description="They must be an admin of it to join on its behalf; otherwise they join "
        "as themselves.",
        choices=[],
        widget=GovSelect(),
        invalid_choice_message="Select an organisation from the list",
    )
    message = optional_message("Message (optional)", "Added to the email.",
                               models.INVITATION_MESSAGE_MAX, "Message")
    submit = submit("Send invitation")

    def set_organisations(self, organisations: list[Organisation]) -> None:
        self.organisation.choices = [
            SelectChoice("", "None: they join as themselves"),
            *(SelectChoice(str(org.id), org.name) for org in organisations),
        ]

    def chosen(self, organisations: list[Organisation]) -> Organisation | None:
        return next((org for org in organisations if str(org.id) == self.organisation.data),
                    None)


class ConvenorForm(BaseForm):
    """Add a convenor by the email address of their account."""

    email = _email_field("Email address of the new convenor",
                         "They need an account already. They become a member too.",
                         "Enter the email address of the new convenor")
    submit = submit("Add convenor")
