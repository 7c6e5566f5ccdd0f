"""The form for answering a meeting (register or change the answer; cancelling it and
removing someone are buttons, ``forms.ButtonForm``). The answers offered depend on the
meeting's format; the rules themselves are in ``registrations``."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovTextArea
from wtforms import HiddenField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import InputRequired

from ..bounds import identifier
from ..forms import BaseForm, MaxLength, Radios, submit
from ..organisations.models import Organisation
from . import registrations as rules
from .models import ACCESS_MAX, Meeting, Registration, Response

NO_ORGANISATION = "none"


class RegisterForm(BaseForm):
    response = RadioField("Will you come to the meeting?", widget=Radios(), choices=[])
    organisation_id = RadioField(
        "Are you representing an organisation? (optional)", widget=Radios(), choices=[],
        description="Organisers use this to see which organisations will be there.",
        validate_choice=False,  # optional; the service checks it is one of theirs
    )
    access_requirements = TextAreaField(
        "Access requirements (optional)", widget=GovTextArea(),
        description="Anything the organisers should arrange so you can take part, for "
                    "example a British Sign Language interpreter, a large-print agenda or "
                    "a seat near the door. Only the organisers will see this.",
        validators=[MaxLength(ACCESS_MAX, "Access requirements")],
    )
    # What the form was filled in from (registrations.answer_version), so a second tab
    # cannot overwrite an answer it never saw.
    seen = HiddenField()
    submit = submit("Send your answer")

    def set_choices(self, meeting: Meeting, organisations: list[Organisation]) -> None:
        """Offer only the answers the meeting's format allows, and the person's own
        organisations (the question goes if they belong to none)."""
        message = rules.missing_answer_message(meeting)
        self.response.choices = [SelectChoice(r.value, r.label)
                                 for r in rules.answers_for(meeting)]
        self.response.validators = [InputRequired(message)]
        self.response.invalid_choice_message = message
        if organisations:
            self.organisation_id.choices = [
                *(SelectChoice(str(o.id), o.name) for o in organisations),
                SelectChoice(NO_ORGANISATION, "No, I am coming as myself"),
            ]
        else:
            del self.organisation_id

    def fill(self, registration: Registration) -> None:
        self.seen.data = rules.answer_version(registration)
        self.response.data = registration.response.value
        self.access_requirements.data = registration.access_requirements
        if "organisation_id" in self:
            self.organisation_id.data = (str(registration.organisation_id)
                                         if registration.organisation_id else NO_ORGANISATION)

    def answer(self) -> rules.Answer:
        value = self.organisation_id.data if "organisation_id" in self else None
        return rules.Answer(
            response=Response(self.response.data) if self.response.data else None,
            access_requirements=self.access_requirements.data or "",
            organisation_id=identifier(value),
        )
