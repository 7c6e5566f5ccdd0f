"""Forms for building an agenda, attaching papers, publishing, and asking for (and
deciding on) agenda items. They check presence, format and length so every problem
shows at once; ``agenda`` holds the rules and checks again."""

from __future__ import annotations

from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSelect, GovTextArea, GovTextInput
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired

from ..accounts.models import User
from ..bounds import identifier
from ..forms import BaseForm, MaxLength, WholeNumberField, reason_form, submit
from ..organisations.models import Organisation
from ..uploads import MAX_FILE_BYTES, kinds_text, size_text
from .agenda import PAPER_KINDS, ItemDetails, RequestDetails
from .forms import MARKDOWN_HINT
from .models import MINUTES_MAX, NAME_MAX, NOTES_MAX, REASON_MAX, TITLE_MAX, AgendaItem

NOBODY = ""


def _id(value: str | None) -> int | None:
    return identifier(value)


def _title(label: str, hint: str, missing: str) -> StringField:
    """A required title (of an item, a paper or a requested item)."""
    return StringField(label, widget=GovTextInput(), description=hint,
                       validators=[InputRequired(missing), MaxLength(TITLE_MAX, "Title")])


class ItemForm(BaseForm):
    """Add or change an agenda item."""

    title = _title("Title", "For example, Winter pressures: update from the ICB.",
                   "Enter the item's title")
    presenter_id = SelectField(
        "Presenter (optional)", widget=GovSelect(), choices=[], default=NOBODY,
        description="A member of the forum.",
        invalid_choice_message="Select a presenter from the forum's members")
    presenter_organisation_id = SelectField(
        "Presenting organisation (optional)", widget=GovSelect(), choices=[], default=NOBODY,
        invalid_choice_message="Select an organisation from the list")
    presenter_name = StringField(
        "Or the presenter's name, if they are not a member (optional)", widget=GovTextInput(),
        description="For example, a guest speaker: Dr Amina Shah, Northbridge University.",
        validators=[MaxLength(NAME_MAX, "The presenter's name")])
    minutes_allowed = WholeNumberField(
        "Time allowed in minutes (optional)", "the time allowed", required=False,
        minimum=1, maximum=MINUTES_MAX,
        range_message=f"Time allowed must be between 1 and {MINUTES_MAX} minutes",
        description="For example, 20")
    notes = TextAreaField(
        "Notes (optional)", widget=GovTextArea(), description=MARKDOWN_HINT,
        validators=[MaxLength(NOTES_MAX, "Notes")])
    submit = submit("Save item")

    def set_choices(self, people: list[User], organisations: list[Organisation],
                    item: AgendaItem | None = None) -> None:
        """Offer the forum's members and organisations (and keep the item's current
        presenter even if they have since left)."""
        if item is not None and item.presenter is not None and item.presenter not in people:
            people = [*people, item.presenter]
        organisation = item.presenter_organisation if item is not None else None
        if organisation is not None and organisation not in organisations:
            organisations = [*organisations, organisation]
        self.presenter_id.choices = [SelectChoice(NOBODY, "No one chosen")] + [
            SelectChoice(str(person.id), person.display_name) for person in people]
        self.presenter_organisation_id.choices = [SelectChoice(NOBODY, "None")] + [
            SelectChoice(str(org.id), org.name) for org in organisations]

    def fill(self, item: AgendaItem) -> None:
        self.title.data = item.title
        self.presenter_id.data = str(item.presenter_id or "")
        self.presenter_organisation_id.data = str(item.presenter_organisation_id or "")
        self.presenter_name.data = item.presenter_name
        self.minutes_allowed.data = str(item.minutes_allowed or "")
        self.notes.data = item.notes

    def details(self) -> ItemDetails:
        return ItemDetails(
            title=self.title.data or "",
            presenter_id=_id(self.presenter_id.data),
            presenter_organisation_id=_id(self.presenter_organisation_id.data),
            presenter_name=self.presenter_name.data or "",
            minutes_allowed=self.minutes_allowed.number(),
            notes=self.notes.data or "",
        )


class PaperForm(BaseForm):
    title = _title("Title of the paper",
                   "For example, Winter plan 2027 (draft for discussion).",
                   "Enter the paper's title")
    file = FileField(
        "Upload a file",
        description=f"A {kinds_text(PAPER_KINDS)} file, smaller than "
                    f"{size_text(MAX_FILE_BYTES)}.",
        widget=GovFileInput())
    submit = submit("Upload paper")


class RequestForm(BaseForm):
    """A member asks for an item on the agenda."""

    title = _title("What is the item?",
                   "A short title, for example Cost of living support this winter.",
                   "Enter a title for the item")
    reason = TextAreaField(
        "Why should the forum discuss it?", widget=GovTextArea(),
        description="The convenors read this when they decide.",
        validators=[InputRequired("Enter why the forum should discuss this"),
                    MaxLength(REASON_MAX, "The reason")])
    presenter = StringField(
        "Who will present it? (optional)", widget=GovTextInput(),
        description="For example, you, or a colleague and their organisation.",
        validators=[MaxLength(NAME_MAX, "Who will present")])
    submit = submit("Send request")

    def details(self) -> RequestDetails:
        return RequestDetails(title=self.title.data or "", reason=self.reason.data or "",
                              presenter=self.presenter.data or "")


DeclineForm = reason_form(
    label="Why are you declining it?",
    description="The person who asked is emailed this reason. Say what would change your "
                "decision, if anything: for example, a later meeting.",
    button="Decline the request", limit=REASON_MAX,
    required="Enter why the item is declined", name="DeclineForm")
