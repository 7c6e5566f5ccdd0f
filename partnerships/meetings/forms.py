"""Forms for scheduling, changing, postponing and cancelling meetings. They check
presence, format and length so every problem shows at once; the services hold the
rules (clock changes, what each format needs) and name the field that is wrong."""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovTextArea, GovTextInput
from wtforms import BooleanField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import InputRequired

from ..forms import (
    BaseForm,
    Checkbox,
    MaxLength,
    Radios,
    UKDateField,
    UKTimeField,
    WholeNumberField,
    add_field_error,
    submit,
)
from ..forums.models import Visibility
from ..once import OnceField
from ..partnership.models import Partnership
from .models import (
    ACCESS_NOTES_MAX,
    ADDRESS_MAX,
    CAPACITY_MAX,
    DESCRIPTION_MAX,
    INTERVAL_WEEKS_MAX,
    JOINING_DETAILS_MAX,
    JOINING_URL_MAX,
    NAME_MAX,
    OCCURRENCES_MAX,
    REASON_MAX,
    TITLE_MAX,
    TRAVEL_MAX,
    Meeting,
    MeetingFormat,
    RecurrenceKind,
)
from .scheduling import END_BEFORE_START, MeetingDetails, Recurrence, place_problems

MARKDOWN_HINT = ("You can use Markdown: **bold**, lists with -, links like "
                 "[text](https://example.org).")
_IN_ROOM = frozenset(f.value for f in MeetingFormat if f.has_venue)
_ONLINE = frozenset(f.value for f in MeetingFormat if f.is_online)
_REPEATS = frozenset(kind.value for kind in RecurrenceKind)
YES_NO_UNKNOWN = [SelectChoice("yes", "Yes"), SelectChoice("no", "No"),
                  SelectChoice("", "Not known")]


def _text(label: str, what: str, limit: int, hint: str = "",
          required: bool = False) -> StringField:
    validators: list[Any] = [MaxLength(limit, what[0].upper() + what[1:])]
    if required:
        validators.insert(0, InputRequired(f"Enter {what}"))
    return StringField(label, description=hint, widget=GovTextInput(), validators=validators)


def _area(label: str, what: str, limit: int, hint: str = "",
          missing: str | None = None) -> TextAreaField:
    validators: list[Any] = [MaxLength(limit, what)]
    if missing:
        validators.insert(0, InputRequired(missing))
    return TextAreaField(label, description=hint, widget=GovTextArea(), validators=validators)


def _reason(what: str, hint: str) -> TextAreaField:
    """Why the meeting is ``what`` ("cancelled"): required, and emailed to those who
    registered."""
    return _area(f"Why is the meeting {what}?", "The reason", REASON_MAX, hint=hint,
                 missing=f"Enter why the meeting is {what}")


def _scope(label: str) -> RadioField:
    """For a meeting of a series: only this one, or it and the later ones."""
    return RadioField(
        label, widget=Radios(),
        choices=[SelectChoice("this", "Only this meeting"),
                 SelectChoice("following", "This and the later meetings of the series")],
        default="this", validate_choice=False,
    )


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _yes_no_value(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


class MeetingForm(BaseForm):
    title = _text("Title", "a title", TITLE_MAX, required=True,
                  hint="For example, VCSE Alliance quarterly meeting.")
    description = _area("Short description (optional)", "Description", DESCRIPTION_MAX,
                        hint=MARKDOWN_HINT)
    day = UKDateField("Date", "the date of the meeting", error_name="Date",
                      description="For example, 14 4 2027")
    start = UKTimeField("Start time", "the start time")
    end = UKTimeField("End time", "the end time")
    format = RadioField(
        "How will people take part?", widget=Radios(),
        choices=[SelectChoice(f.value, f.label) for f in MeetingFormat],
        validators=[InputRequired("Select in person, online or hybrid")],
        invalid_choice_message="Select in person, online or hybrid",
    )
    venue_name = _text("Venue (not needed for online meetings)", "the venue", NAME_MAX,
                       hint="For example, Northbridge Civic Centre, Room 2.")
    venue_address = _area("Venue address", "Venue address", ADDRESS_MAX)
    step_free_access = RadioField("Step-free access", widget=Radios(), choices=YES_NO_UNKNOWN,
                                  validate_choice=False)
    hearing_loop = RadioField("Hearing loop", widget=Radios(), choices=YES_NO_UNKNOWN,
                              validate_choice=False)
    parking = _area("Parking (optional)", "Parking", TRAVEL_MAX,
                    hint="For example, blue badge spaces at the front.")
    public_transport = _area("Nearest public transport (optional)", "Public transport",
                             TRAVEL_MAX,
                             hint="For example, Northbridge station, 5 minutes' walk.")
    access_notes = _area("Other access information (optional)", "Access information",
                          ACCESS_NOTES_MAX)
    joining_url = _text("Online joining link (needed for online and hybrid meetings)",
                        "the joining link", JOINING_URL_MAX,
                        hint="Shown only to the forum's members and people who registered.")
    joining_details = _area("Dial-in number or other joining details (optional)",
                            "Joining details", JOINING_DETAILS_MAX,
                            hint="Shown only to the same people as the joining link.")
    capacity = WholeNumberField(
        "Capacity (optional)", "the capacity", required=False, minimum=1,
        maximum=CAPACITY_MAX,
        range_message=f"Capacity must be between 1 and {CAPACITY_MAX:,}, or left empty",
        description="Leave empty for no limit. For in-person and hybrid meetings this is the "
                    "number of places in the room; when it is full, people join a waiting "
                    "list.")
    visibility = RadioField(
        "Who can see this meeting", widget=Radios(),
        choices=[SelectChoice(Visibility.PUBLIC.value, "Anyone (public)"),
                 SelectChoice(Visibility.MEMBERS.value, "Members of the forum only")],
        validators=[InputRequired("Select who can see this meeting")],
        invalid_choice_message="Select who can see this meeting",
    )
    confirm_past = BooleanField("Yes, this meeting has already happened and I am recording it",
                                widget=Checkbox())
    submit = submit("Save")

    depends_on = {
        **dict.fromkeys(("venue_name", "venue_address", "step_free_access", "hearing_loop",
                         "parking", "public_transport"), ("format", _IN_ROOM)),
        **dict.fromkeys(("joining_url", "joining_details"), ("format", _ONLINE)),
    }
    page_order = ("title", "description", "day", "start", "end", "confirm_past", "repeat",
                  "interval_weeks", "until", "count", "scope", "format")

    def for_partnership(self, partnership: Partnership) -> None:
        """Word the form for a meeting of the partnership itself, whose members-only
        meetings are for the people of its member organisations (and its officers)."""
        self.visibility.choices = [
            SelectChoice(Visibility.PUBLIC.value, "Anyone (public)"),
            SelectChoice(Visibility.MEMBERS.value,
                         f"People of {partnership.name}'s member organisations only")]
        self.joining_url.description = ("Shown only to the people of the partnership's "
                                        "member organisations and people who registered.")

    def check(self) -> None:
        """The end after the start, and what the chosen format needs."""
        start, end = self.start.time(), self.end.time()
        if start is not None and end is not None and end <= start and not self.end.errors:
            add_field_error(self.end, END_BEFORE_START)
        if self.format.data in {f.value for f in MeetingFormat}:
            for name, message in place_problems(
                    MeetingFormat(self.format.data), self.venue_name.data or "",
                    self.venue_address.data or "", self.joining_url.data or ""):
                if not self[name].errors:
                    add_field_error(self[name], message)

    def details(self) -> MeetingDetails:
        """The entered values, for the service (call after ``validate``)."""
        day, start, end = self.day.data, self.start.time(), self.end.time()
        if day is None or start is None or end is None:  # all three are required fields
            raise ValueError("MeetingForm.details() needs a form that passed validate()")
        return MeetingDetails(
            title=self.title.data or "",
            description=self.description.data or "",
            day=day,
            start=start,
            end=end,
            format=MeetingFormat(self.format.data),
            visibility=Visibility(self.visibility.data),
            venue_name=self.venue_name.data or "",
            venue_address=self.venue_address.data or "",
            step_free_access=_yes_no(self.step_free_access.data),
            hearing_loop=_yes_no(self.hearing_loop.data),
            parking=self.parking.data or "",
            public_transport=self.public_transport.data or "",
            access_notes=self.access_notes.data or "",
            joining_url=self.joining_url.data or "",
            joining_details=self.joining_details.data or "",
            capacity=self.capacity.number(),
        )

    def fill(self, meeting: Meeting) -> None:
        """Put a meeting's values into the form (GET on the edit page)."""
        details = MeetingDetails.of(meeting)
        for name in ("title", "description", "venue_name", "venue_address", "parking",
                     "public_transport", "access_notes", "joining_url", "joining_details"):
            getattr(self, name).data = getattr(details, name)
        self.day.data = details.day
        self.start.data = f"{details.start:%H:%M}"
        self.end.data = f"{details.end:%H:%M}"
        self.format.data = details.format.value
        self.visibility.data = details.visibility.value
        self.step_free_access.data = _yes_no_value(details.step_free_access)
        self.hearing_loop.data = _yes_no_value(details.hearing_loop)
        self.capacity.data = str(details.capacity or "")


class ScheduleForm(MeetingForm):
    """A new meeting, possibly the first of a series."""

    repeat = RadioField(
        "Does this meeting repeat?", widget=Radios(),
        choices=[SelectChoice("", "No, just this meeting")] + [
            SelectChoice(kind.value, kind.label) for kind in RecurrenceKind],
        validate_choice=False, default="",
    )
    interval_weeks = WholeNumberField(
        "Weeks between meetings (for \"every few weeks\")", "the weeks between meetings",
        required=False, minimum=1, maximum=INTERVAL_WEEKS_MAX,
        range_message=f"Enter the weeks between meetings, from 1 to {INTERVAL_WEEKS_MAX}",
        description="For example, 6")
    until = UKDateField("Last date of the series (for a repeating meeting)",
                        "the last date of the series", required=False,
                        error_name="Last date of the series",
                        description="Give a last date or a number of meetings. For example, "
                                    "31 3 2028")
    count = WholeNumberField("Or the number of meetings", "the number of meetings",
                             required=False, minimum=2, maximum=OCCURRENCES_MAX,
                             range_message="The number of meetings must be between 2 and "
                                           f"{OCCURRENCES_MAX}",
                             description=f"At most {OCCURRENCES_MAX}.")
    once = OnceField()  # sent twice (two tabs, a second tap), it makes one
    submit = submit("Schedule the meeting")

    def recurrence(self) -> Recurrence | None:
        if not self.repeat.data:
            return None
        return Recurrence(kind=RecurrenceKind(self.repeat.data),
                          interval_weeks=self.interval_weeks.number(),
                          until=self.until.data, count=self.count.number())

    depends_on = {**MeetingForm.depends_on,
                  "interval_weeks": ("repeat", frozenset({RecurrenceKind.EVERY_N_WEEKS.value})),
                  "until": ("repeat", _REPEATS), "count": ("repeat", _REPEATS)}

    def check(self) -> None:
        """What a repeating meeting needs, besides ``MeetingForm``'s checks."""
        super().check()
        if not self.repeat.data:
            return
        if self.repeat.data not in _REPEATS:
            add_field_error(self.repeat, "Select how the meeting repeats")
            return
        if (self.repeat.data == RecurrenceKind.EVERY_N_WEEKS.value
                and self.interval_weeks.number() is None and not self.interval_weeks.errors):
            add_field_error(self.interval_weeks, self.interval_weeks.range_message)
        if self.until.data is None and not self.count.data and not self.until.errors:
            add_field_error(self.until, "Enter the last date of the series or the number "
                                        "of meetings")
        elif (self.until.data is not None and self.day.data is not None
              and self.until.data <= self.day.data):
            add_field_error(self.until, "The series must end after the first meeting")


class EditForm(MeetingForm):
    scope = _scope("Change which meetings?")
    submit = submit("Save changes")


class CancelForm(BaseForm):
    reason = _reason("cancelled", "Everyone who registered is emailed this reason, and it "
                                  "is shown on the meeting page.")
    scope = _scope("Cancel which meetings?")
    submit = submit("Cancel the meeting")


class PostponeForm(BaseForm):
    reason = _reason("postponed", "Everyone who registered is emailed this reason.")
    day = UKDateField("New date (optional)", "the new date", required=False,
                      error_name="New date",
                      description="Leave empty if the new date is not yet known. For "
                                  "example, 14 5 2027")
    start = UKTimeField("New start time", "the new start time", required=False)
    end = UKTimeField("New end time", "the new end time", required=False)
    submit = submit("Postpone the meeting")

    def check(self) -> None:
        """A new date needs its new times; times without a date are an error too."""
        if self.day.data is not None:
            if not self.start.data:
                add_field_error(self.start, "Enter the new start time")
            if not self.end.data:
                add_field_error(self.end, "Enter the new end time")
        elif not self.day.errors and (self.start.data or self.end.data):
            add_field_error(self.day, "Enter the new date, or leave the times empty")
        start, end = self.start.time(), self.end.time()
        if start is not None and end is not None and end <= start and not self.end.errors:
            add_field_error(self.end, END_BEFORE_START)
