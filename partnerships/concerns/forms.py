"""The concern forms: raising one (signed in, or signed out with a name and an address
to reply to), and the officers' response, withholding and list filter."""

from __future__ import annotations

from dataclasses import replace

from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovTextArea, GovTextInput
from wtforms import RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired

from ..accounts.forms import email_field
from ..accounts.models import NAME_MAX
from ..forms import (
    BaseForm,
    CharacterCount,
    FilterForm,
    MaxLength,
    Radios,
    reason_form,
    submit,
)
from ..once import OnceField
from .models import DETAILS_MAX, REASON_MAX, RESPONSE_MAX, ConcernCategory, ConcernStatus
from .services import ConcernDetails

YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]
_YES = frozenset({"yes"})


class ConcernForm(BaseForm):
    """Raising a concern, signed in (the account's name and address are used)."""

    once = OnceField()
    category = RadioField(
        "What is your concern about?", widget=Radios(),
        choices=[SelectChoice(category.value, category.label) for category in ConcernCategory],
        validators=[InputRequired("Select what your concern is about")])
    details = TextAreaField(
        "What happened?",
        description="Say what happened and when, and what you would like the partnership "
                    "to do. Do not include other people's personal details.",
        widget=CharacterCount(),
        validators=[InputRequired("Enter what happened"),
                    MaxLength(DETAILS_MAX, "What happened")])
    about = SelectField(
        "Is it about a particular meeting or forum? (optional)", widget=GovSelect(),
        choices=[], validate_choice=True)
    publish = RadioField(
        "May we show your concern and our response publicly?", widget=Radios(),
        description="If you say yes, we show them on the partnership's public list of "
                    "concerns once we have responded. We never show your email address.",
        choices=YES_NO, validators=[InputRequired("Select whether we may show your concern "
                                                  "publicly")])
    show_name = RadioField(
        "Should we show your name with it?", widget=Radios(),
        choices=[SelectChoice("no", "No, do not show my name"),
                 SelectChoice("yes", "Yes, show my name")],
        validators=[InputRequired("Select whether we should show your name")])
    submit = submit("Send your concern")

    depends_on = {"show_name": ("publish", _YES)}

    def set_about(self, choices: list[tuple[str, str]]) -> None:
        self.about.choices = [SelectChoice("", "Not about a particular meeting or forum"),
                              *(SelectChoice(value, label) for value, label in choices)]
        self.about.validators = []  # choice checked by SelectField itself
        if self.about.data is None:
            self.about.data = ""

    def concern_details(self) -> ConcernDetails:
        consent = self.publish.data == "yes"
        return ConcernDetails(
            category=ConcernCategory(self.category.data), details=self.details.data or "",
            about=self.about.data or "", consent_to_publish=consent,
            anonymous=not (consent and self.show_name.data == "yes"))


class SignedOutConcernForm(ConcernForm):
    """Raising a concern signed out: an address to reply to (required) and a name
    (needed only when it is to be shown). ``website`` is a honeypot: hidden from people
    (and from assistive technology), filled in only by bots."""

    name = StringField("Your name (optional if you do not want it shown)",
                       widget=GovTextInput(), validators=[MaxLength(NAME_MAX, "Your name")])
    email = email_field(
        "Email address", hint="We will send you a link to follow your concern, and our "
                              "response. We never show it publicly.",
        required="Enter an email address we can reply to")
    website = StringField("Leave this empty", widget=GovTextInput())

    page_order = ("once", "category", "details", "about", "publish", "show_name", "name",
                  "email", "website", "submit")

    def check(self) -> None:
        shown = self.publish.data == "yes" and self.show_name.data == "yes"
        if shown and not (self.name.data or "").strip():
            self.add_error("name", "Enter your name, or choose not to show it publicly")

    def concern_details(self) -> ConcernDetails:
        return replace(super().concern_details(), name=self.name.data or "",
                       email=self.email.data or "")

    @property
    def is_bot(self) -> bool:
        return bool((self.website.data or "").strip())


RespondForm = reason_form(
    label="Your response", name="RespondForm",
    description="We email it to the person who raised the concern. If they agreed, it is "
                "shown publicly with their concern.",
    button="Send response", limit=RESPONSE_MAX, required="Enter your response",
    what="The response", widget=CharacterCount())

WithholdForm = reason_form(
    label="Why should it not be shown publicly?", name="WithholdForm",
    description="For example, it names a person. The person who raised it will see this "
                "reason. This cannot be undone.",
    button="Do not show it publicly", limit=REASON_MAX,
    required="Enter why the concern is not to be shown publicly", widget=GovTextArea())


class StatusFilterForm(FilterForm):
    """The officers' list, by status (sent by GET; unknown values mean "any")."""

    status = SelectField(
        "Status", widget=GovSelect(), validate_choice=False,
        choices=[SelectChoice("", "Any status"),
                 *(SelectChoice(status.value, status.label) for status in ConcernStatus)])
