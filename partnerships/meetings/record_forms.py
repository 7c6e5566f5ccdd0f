"""Forms for what happens after a meeting: attendance (one radio group per person,
built for the meeting's registrants), walk-ins, minutes (one box per agenda item),
decisions, actions and action updates.

Choices that depend on the meeting (people, organisations, agenda items) are filled by
the view from ``records``; the forms only check presence, format and length, and the
services hold the rules.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovTextArea, GovTextInput
from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired
from wtforms.validators import ValidationError as WTFValidationError

from ..bounds import identifier
from ..forms import BaseForm, Checkbox, MaxLength, Radios, UKDateField, add_field_error, submit
from .models import (
    ACTION_MAX,
    DECISION_MAX,
    MINUTES_TEXT_MAX,
    NAME_MAX,
    PROGRESS_NOTE_MAX,
    ActionItem,
    ActionStatus,
    AgendaItem,
    Attendance,
)
from .records import Attendee, early_due_date_problem

MARKDOWN_HINT = ("You can use Markdown: **bold**, lists with -, links like "
                 "[text](https://example.org).")
ATTENDANCE_PREFIX = "attendance-"
MINUTES_PREFIX = "item-"


# --- Attendance ---------------------------------------------------------------------------


class AttendanceForm(BaseForm):
    """One radio group per person on the attendance list, added by ``attendance_form``."""

    submit = submit("Save attendance")

    def registration_fields(self) -> list[Any]:
        return [field for name, field in self._fields.items()
                if name.startswith(ATTENDANCE_PREFIX)]

    def marks(self) -> dict[str, Attendance | None]:
        """The person's key on the list (``records.Attendee.key``) -> the chosen
        attendance (None: not marked)."""
        return {field.name.removeprefix(ATTENDANCE_PREFIX):
                Attendance(field.data) if field.data else None
                for field in self.registration_fields()}


def attendance_form(attendees: list[Attendee]) -> AttendanceForm:
    """A form with a radio group per person, labelled with their name. Leaving a
    person unmarked is allowed (the attendance can be finished later)."""
    choices = [SelectChoice(mark.value, mark.label) for mark in Attendance]

    class Form(AttendanceForm):
        pass

    for attendee in attendees:
        suggested = attendee.suggested
        setattr(Form, f"{ATTENDANCE_PREFIX}{attendee.key}", RadioField(
            attendee.name, widget=Radios(), choices=choices,
            validate_choice=False, description=_who(attendee),
            default=suggested.value if suggested is not None else None,
        ))
    form = Form()
    for field in form.registration_fields():
        if field.data and field.data not in {mark.value for mark in Attendance}:
            field.data = None
    return form


def _who(attendee: Attendee) -> str:
    """The hint under a person's name: organisation and what they told us beforehand."""
    return f"{attendee.organisation}. {attendee.said}" if attendee.organisation \
        else attendee.said


class WalkInForm(BaseForm):
    name = StringField("Name", widget=GovTextInput(),
                       validators=[InputRequired("Enter the name of the person who came"),
                                   MaxLength(NAME_MAX, "Name")])
    organisation = StringField("Organisation (optional)", widget=GovTextInput(),
                               validators=[MaxLength(NAME_MAX, "Organisation")])
    submit = submit("Add walk-in")


# --- Minutes ------------------------------------------------------------------------------


class MinutesForm(BaseForm):
    """The general summary and one box per agenda item, added by ``minutes_form``."""

    summary = TextAreaField("Summary (optional)", widget=GovTextArea(),
                            description="A short account of the meeting as a whole. "
                                        + MARKDOWN_HINT,
                            validators=[MaxLength(MINUTES_TEXT_MAX, "The summary")])
    submit = submit("Save draft minutes")

    def item_fields(self) -> list[Any]:
        return [field for name, field in self._fields.items()
                if name.startswith(MINUTES_PREFIX)]

    def item_minutes(self) -> dict[int, str]:
        return {int(field.name.removeprefix(MINUTES_PREFIX)): field.data or ""
                for field in self.item_fields()}


def minutes_form(items: list[AgendaItem], summary: str = "") -> MinutesForm:
    """The minutes form, filled with what is saved (a POST keeps what was typed)."""
    class Form(MinutesForm):
        pass

    for number, item in enumerate(items, start=1):
        setattr(Form, f"{MINUTES_PREFIX}{item.id}", TextAreaField(
            f"{number}. {item.title}", widget=GovTextArea(), default=item.minutes,
            validators=[MaxLength(MINUTES_TEXT_MAX, f"The minutes of item {number}")]))
    return Form(summary=summary)


# --- Decisions and actions -------------------------------------------------------------------


def _item_choices(items: list[AgendaItem]) -> list[SelectChoice]:
    return [SelectChoice("", "Not about one item")] + [
        SelectChoice(str(item.id), f"{number}. {item.title}")
        for number, item in enumerate(items, start=1)]


def _offered(field: SelectField) -> set[str]:
    """The values a select offers (``setup`` gives it a list of ``SelectChoice``)."""
    return {choice.value for choice in field.choices or [] if isinstance(choice, SelectChoice)}


def _number(value: str | None) -> int | None:
    return identifier(value)


class DecisionForm(BaseForm):
    text = TextAreaField("What was decided?", widget=GovTextArea(),
                         description=MARKDOWN_HINT,
                         validators=[InputRequired("Enter what was decided"),
                                     MaxLength(DECISION_MAX, "The decision")])
    item_id = SelectField("Agenda item (optional)", widget=GovSelect(), choices=[],
                          validate_choice=False)
    submit = submit("Add decision")

    def setup(self, items: list[AgendaItem]) -> None:
        self.item_id.choices = _item_choices(items)

    def validate_item_id(self, field: SelectField) -> None:
        if field.data and field.data not in _offered(field):
            raise WTFValidationError("Select an agenda item from the list")

    def item(self) -> int | None:
        return _number(self.item_id.data)


class ActionForm(BaseForm):
    description = TextAreaField("What is to be done?", widget=GovTextArea(),
                                validators=[InputRequired("Enter what is to be done"),
                                            MaxLength(ACTION_MAX, "The action")])
    owner_id = SelectField("Person responsible", widget=GovSelect(), choices=[],
                           validate_choice=False,
                           description="A member of the forum. They are emailed the action.")
    owner_organisation_id = SelectField(
        "Organisation responsible", widget=GovSelect(), choices=[], validate_choice=False,
        description="Choose a person, an organisation or both.")
    due_date = UKDateField("Due date (optional)", "the due date", required=False,
                           error_name="Due date", description="For example, 27 3 2027")
    already_due = BooleanField("Yes, this was already due before the meeting",
                               widget=Checkbox())
    item_id = SelectField("Agenda item (optional)", widget=GovSelect(), choices=[],
                          validate_choice=False)
    submit = submit("Add action")

    meeting_day: date | None = None

    def setup(self, items: list[AgendaItem], people: list[tuple[int, str]],
              organisations: list[tuple[int, str]], meeting_day: date) -> None:
        self.meeting_day = meeting_day
        self.item_id.choices = _item_choices(items)
        self.owner_id.choices = [SelectChoice("", "Nobody in particular")] + [
            SelectChoice(str(person_id), name) for person_id, name in people]
        self.owner_organisation_id.choices = [SelectChoice("", "No organisation")] + [
            SelectChoice(str(org_id), name) for org_id, name in organisations]

    def fill(self, action: ActionItem) -> None:
        self.description.data = action.description
        self.owner_id.data = str(action.owner_id or "")
        self.owner_organisation_id.data = str(action.owner_organisation_id or "")
        self.due_date.data = action.due_date
        self.already_due.data = bool(
            action.due_date and self.meeting_day and action.due_date < self.meeting_day)
        self.item_id.data = str(action.item_id or "")

    def asks_already_due(self) -> bool:
        """Whether the page shows the "already due" box: once the due date was found
        before the meeting, or when it is ticked (so it can be unticked)."""
        return bool(self.already_due.data) or bool(
            self.meeting_day and self.due_date.data and self.due_date.data < self.meeting_day)

    def check(self) -> None:
        """Choices from the lists offered, and someone (or some organisation) to do it."""
        for field, message in (
                (self.item_id, "Select an agenda item from the list"),
                (self.owner_id, "Select a member of the forum from the list"),
                (self.owner_organisation_id, "Select an organisation from the list")):
            if field.data and field.data not in _offered(field):
                add_field_error(field, message)
        if not self.owner_id.data and not self.owner_organisation_id.data \
                and not self.owner_id.errors and not self.owner_organisation_id.errors:
            add_field_error(self.owner_id,
                            "Choose who will do it: a person, an organisation or both")
        if self.meeting_day is not None and not self.due_date.errors:
            early = early_due_date_problem(self.meeting_day, self.due_date.data,
                                           bool(self.already_due.data))
            if early:
                add_field_error(self.due_date, early)

    def owner(self) -> int | None:
        return _number(self.owner_id.data)

    def owner_organisation(self) -> int | None:
        return _number(self.owner_organisation_id.data)

    def item(self) -> int | None:
        return _number(self.item_id.data)


class ActionUpdateForm(BaseForm):
    body = TextAreaField("Progress note", widget=GovTextArea(),
                         description="What has happened since. Optional if you only change "
                                     "the status.",
                         validators=[MaxLength(PROGRESS_NOTE_MAX, "The progress note")])
    status = RadioField(
        "Status", widget=Radios(),
        choices=[SelectChoice(status.value, status.label) for status in ActionStatus],
        validators=[InputRequired("Select the status of the action")],
        invalid_choice_message="Select open, done or dropped",
    )
    submit = submit("Save update")
