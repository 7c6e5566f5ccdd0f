"""Opportunity forms. They check presence, format and length so every problem shows at
once; the services check again (they hold the rules) and name the field that is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Email, InputRequired, StopValidation

from ..accounts.services import normalise_email
from ..bounds import identifier
from ..forms import (
    BaseForm,
    Checkbox,
    Checkboxes,
    MaxLength,
    Radios,
    UKDateField,
    WholeNumberField,
    add_field_error,
    reason_form,
    submit,
)
from ..forms import FilterForm as FilterBase
from ..once import OnceField
from ..organisations.models import Organisation, Sector
from ..partnership.models import Partnership
from . import applications as application_rules
from . import services
from .models import (
    AVAILABILITY_MAX,
    CANCEL_REASON_MAX,
    COMMENT_MAX,
    COMMITMENT_MAX,
    DAYS_MAX,
    DESCRIPTION_MAX,
    DURATION_MAX,
    EMAIL_MAX,
    MAX_OBJECTIVES,
    MESSAGE_MAX,
    NAME_MAX,
    OBJECTIVE_MAX,
    PAY_MAX,
    PLACE_MAX,
    PLACES_MAX,
    REASON_MAX,
    REFLECTION_MAX,
    SENIORITY_MAX,
    SKILLS_MAX,
    STATEMENT_MAX,
    TEAM_MAX,
    TITLE_MAX,
    LocationKind,
    OpenTo,
    OpportunityKind,
    Placement,
)
from .placements import END_BEFORE_START
from .services import BrowseFilters, OpportunityDetails, choice_problems

EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.org"
MARKDOWN_HINT = ("You can use Markdown: **bold**, lists with -, links like "
                 "[text](https://example.org).")


# --- Field types -------------------------------------------------------------------------


def _text(label: str, what: str, limit: int, hint: str = "",
          required: bool = True) -> StringField:
    validators: list[Any] = [MaxLength(limit, what[0].upper() + what[1:])]
    if required:
        validators.insert(0, InputRequired(f"Enter {what}"))
    return StringField(label, description=hint, widget=GovTextInput(), validators=validators)


def _area(label: str, missing: str | None, limit: int, what: str,
          hint: str = "") -> TextAreaField:
    validators: list[Any] = [MaxLength(limit, what)]
    if missing:
        validators.insert(0, InputRequired(missing))
    return TextAreaField(label, description=hint, widget=GovTextArea(), validators=validators)


def _radios(label: str, choices: list[Any], missing: str) -> RadioField:
    """Radios that must be answered; ``missing`` is the message for none, or a value
    that is not one of the choices."""
    return RadioField(label, widget=Radios(), choices=choices,
                      validators=[InputRequired(missing)], invalid_choice_message=missing)


# --- Posting an opportunity ----------------------------------------------------------------


class OpportunityForm(BaseForm):
    organisation_id = SelectField("Host organisation", widget=GovSelect(), choices=[],
                                  validate_choice=False)
    kind = _radios("Type of opportunity", OpportunityKind.choices(),
                   "Select the type of opportunity")
    title = _text("Title", "a title", TITLE_MAX,
                  hint="For example, Shadow the director of public health for two days.")
    description = _area("What the person will do and gain", "Say what the person will do "
                        "and gain", DESCRIPTION_MAX, "What they will do",
                        hint=MARKDOWN_HINT)
    skills_sought = _area("Skills or experience sought (optional)", None,
                          SKILLS_MAX, "Skills sought")
    host_team = _text("Host team (optional)", "the host team", TEAM_MAX,
                      required=False, hint="For example, Population health team.")
    location_kind = _radios("Where", LocationKind.choices(),
                            "Select in person, hybrid or remote")
    place = _text("Place (not needed for remote)", "the place", PLACE_MAX,
                  required=False, hint="For example, Northbridge Civic Centre.")
    time_commitment = _text("Time commitment", "the time commitment", COMMITMENT_MAX,
                            hint="For example, 1 day a week, or 2 days in total.")
    total_days = WholeNumberField(
        "Total days (needed for shadowing)", "the total days", required=False,
        minimum=1, maximum=DAYS_MAX,
        range_message=f"Total days must be between 1 and {DAYS_MAX}",
        description="How many days in all, if you know. Used by the \"up to 5 days\" "
                    "filter.",
    )
    duration = _text("Duration (optional)", "the duration", DURATION_MAX,
                     required=False, hint="For example, 6 months.")
    starts_earliest = UKDateField("Earliest start date", "the earliest start date",
                                  error_name="Earliest start date",
                                  description="For example, 1 9 2027")
    starts_latest = UKDateField("Latest start date", "the latest start date",
                                error_name="Latest start date",
                                description="For example, 31 10 2027")
    places = WholeNumberField("Number of places", "the number of places", minimum=1,
                              maximum=PLACES_MAX,
                              range_message=f"Number of places must be between 1 and "
                                            f"{PLACES_MAX}")
    open_to = _radios("Who can apply", OpenTo.choices(), "Select who can apply")
    seniority = _text("Seniority (optional)", "the seniority", SENIORITY_MAX,
                      required=False, hint="For example, senior leaders, or any level.")
    pay_and_backfill = _area("Pay and backfill (needed for secondments)", None,
                             PAY_MAX, "Pay and backfill",
                             hint="Who pays the salary, and how the home team covers the "
                                  "work.")
    closing_date = UKDateField(
        "Closing date", "the closing date", error_name="Closing date",
        description="Applications close at the end of this day (UK time). For example, "
                    "30 6 2027",
    )
    contact_name = _text("Contact name", "the contact's name", NAME_MAX)
    contact_email = EmailField(
        "Contact email address", widget=GovTextInput(),
        description="Shown to signed-in people only. We also email new applications here.",
        validators=[InputRequired("Enter the contact's email address"),
                    MaxLength(EMAIL_MAX, "Contact email address"),
                    Email(EMAIL_FORMAT, check_deliverability=False)],
    )
    no_manager_approval = BooleanField(
        "Applicants do not need their line manager's approval",
        description="Only for shadowing of under 3 days.", widget=Checkbox(),
    )
    partnership_id = SelectField("Partnership (optional)", widget=GovSelect(), choices=[],
                                 validate_choice=False)
    once = OnceField()  # sent twice (two tabs, a second tap), it makes one
    submit = submit("Save")

    # A remote opportunity has no place: with JavaScript on, the box shows only for in
    # person and hybrid, and the server ignores what it holds otherwise.
    depends_on = {"place": ("location_kind", frozenset(
        kind.value for kind in LocationKind if kind is not LocationKind.REMOTE))}

    def set_choices(self, organisations: list[Organisation] | None,
                    partnerships: list[Partnership]) -> None:
        """Host organisations (on a new opportunity) and partnerships to choose from."""
        if organisations is None:
            del self.organisation_id
        else:
            self.organisation_id.choices = [SelectChoice("", "Select an organisation")] + [
                SelectChoice(str(org.id), org.name) for org in organisations]
        self.partnership_id.choices = [SelectChoice("", "Not within a partnership")] + [
            SelectChoice(str(p.id), p.name) for p in partnerships]

    def kind_items(self) -> list[dict[str, Any]]:
        """A hint under each type of opportunity."""
        return [{"hint": {"text": kind.hint}} for kind in OpportunityKind]

    def chosen_organisation(self, organisations: list[Organisation]) -> Organisation | None:
        value = self.organisation_id.data or ""
        return next((o for o in organisations if str(o.id) == value), None)

    def validate_organisation_id(self, field: SelectField) -> None:
        if not field.data:
            raise StopValidation("Select the host organisation")
        if field.data not in {choice.value for choice in field.iter_choices()}:
            raise StopValidation("Select the host organisation")

    def check(self) -> None:
        """What the chosen type and place need, and the start dates in order (the
        service's ``choice_problems``)."""
        kinds = {kind.value for kind in OpportunityKind}
        places = {kind.value for kind in LocationKind}
        for name, message in choice_problems(
                OpportunityKind(self.kind.data) if self.kind.data in kinds else None,
                LocationKind(self.location_kind.data)
                if self.location_kind.data in places else None,
                self.place.data or "", self.total_days.number(), self.starts_earliest.data,
                self.starts_latest.data, self.pay_and_backfill.data or "",
                not self.no_manager_approval.data):
            if not self[name].errors:
                add_field_error(self[name], message)

    def fill(self, opportunity: Any) -> None:
        """Put an opportunity's values into the form (GET on the edit page)."""
        self.kind.data = opportunity.kind.value
        self.location_kind.data = opportunity.location_kind.value
        self.open_to.data = opportunity.open_to.value
        self.total_days.data = str(opportunity.total_days or "")
        self.places.data = str(opportunity.places)
        self.no_manager_approval.data = not opportunity.manager_approval_required
        self.partnership_id.data = str(opportunity.partnership_id or "")

    def details(self) -> OpportunityDetails:
        partnership = self.partnership_id.data or ""
        return OpportunityDetails(
            kind=OpportunityKind(self.kind.data),
            title=self.title.data or "",
            description=self.description.data or "",
            skills_sought=self.skills_sought.data or "",
            host_team=self.host_team.data or "",
            location_kind=LocationKind(self.location_kind.data),
            place=self.place.data or "",
            time_commitment=self.time_commitment.data or "",
            total_days=self.total_days.number(),
            duration=self.duration.data or "",
            starts_earliest=self.starts_earliest.data,
            starts_latest=self.starts_latest.data,
            places=self.places.number(),
            open_to=OpenTo(self.open_to.data),
            seniority=self.seniority.data or "",
            pay_and_backfill=self.pay_and_backfill.data or "",
            closing_date=self.closing_date.data,
            contact_name=self.contact_name.data or "",
            contact_email=self.contact_email.data or "",
            manager_approval_required=not self.no_manager_approval.data,
            partnership_id=identifier(partnership),
        )


WithdrawOpportunityForm = reason_form(
    label="Why are you withdrawing it?",
    description="We send this to everyone whose application is still open.",
    button="Withdraw the opportunity", limit=REASON_MAX,
    required="Say why you are withdrawing it: we tell the applicants", what="Reason",
    name="WithdrawOpportunityForm")


class PosterForm(BaseForm):
    """Allow a member to post the organisation's opportunities. The service checks the
    person is a current member; the form only asks that someone was chosen."""

    user_id = SelectField("Member", widget=GovSelect(), choices=[], validate_choice=False,
                          description="Only current members who are not admins are listed: "
                                      "admins can post already.")
    submit = submit("Allow them to post opportunities")

    def set_members(self, members: list[Any]) -> None:
        self.user_id.choices = [SelectChoice("", "Select a member")] + [
            SelectChoice(str(m.user_id), m.user.display_name
                         + (f" ({m.job_title})" if m.job_title else ""))
            for m in members]

    def validate_user_id(self, field: Field) -> None:
        if identifier(field.data) is None:
            raise StopValidation("Select the member to allow")

    def chosen_user_id(self) -> int | None:
        return identifier(self.user_id.data)


# --- Browsing ------------------------------------------------------------------------------

COMMITMENT_CHOICES = [SelectChoice("", "Any"),
                      SelectChoice("short", f"Up to {services.SHORT_DAYS} days in total"),
                      SelectChoice("long", f"More than {services.SHORT_DAYS} days, or ongoing")]


class FilterForm(FilterBase):
    """The browse page's filters, sent by GET so results can be bookmarked and shared."""

    type = SelectField("Type", widget=GovSelect(), validate_choice=False,
                       choices=[SelectChoice("", "Any type"), *OpportunityKind.choices()])
    sector = SelectField("Host sector", widget=GovSelect(), validate_choice=False,
                         choices=[SelectChoice("", "Any sector"),
                                  SelectChoice(Sector.PUBLIC.value, "Public sector"),
                                  SelectChoice(Sector.VCSE.value, "VCSE")])
    partnership = SelectField("Partnership", widget=GovSelect(), validate_choice=False,
                              choices=[])
    location = SelectField("Where", widget=GovSelect(), validate_choice=False,
                           choices=[SelectChoice("", "Anywhere"), *LocationKind.choices()])
    commitment = SelectField("Time commitment", widget=GovSelect(), validate_choice=False,
                             choices=COMMITMENT_CHOICES)
    closing_soon = BooleanField(f"Closing in the next {services.CLOSING_SOON_DAYS} days",
                                widget=Checkbox())
    submit = submit("Apply filters")

    def set_partnerships(
            self, partnerships: Sequence[Partnership | services.PartnershipChoice]) -> None:
        self.partnership.choices = [SelectChoice("", "Any partnership")] + [
            SelectChoice(p.slug, p.name) for p in partnerships]

    def filters(
            self, partnerships: Sequence[Partnership | services.PartnershipChoice],
    ) -> BrowseFilters:
        """What was asked for; unknown values are ignored rather than errors."""
        def pick(enum_cls: Any, value: str | None) -> Any:
            try:
                return enum_cls(value) if value else None
            except ValueError:
                return None

        sector = pick(Sector, self.sector.data)
        partnership = next((p for p in partnerships if p.slug == self.partnership.data), None)
        return BrowseFilters(
            kind=pick(OpportunityKind, self.type.data),
            sector=sector if sector in (Sector.PUBLIC, Sector.VCSE) else None,
            partnership_id=partnership.id if partnership else None,
            location_kind=pick(LocationKind, self.location.data),
            commitment=self.commitment.data if self.commitment.data in ("short", "long")
            else None,
            closing_soon=bool(self.closing_soon.data),
        )

    def query_args(self, filters: BrowseFilters) -> dict[str, str]:
        """The filters as query arguments (for pagination links), without empty ones."""
        args = {
            "type": filters.kind.value if filters.kind else "",
            "sector": filters.sector.value if filters.sector else "",
            "partnership": self.partnership.data if filters.partnership_id else "",
            "location": filters.location_kind.value if filters.location_kind else "",
            "commitment": filters.commitment or "",
            "closing_soon": "y" if filters.closing_soon else "",
        }
        return {key: value for key, value in args.items() if value}


# --- Applying ------------------------------------------------------------------------------


class ApplyForm(BaseForm):
    organisation_id = _radios("Which organisation do you work for?", [],
                              "Select the organisation you work for")
    statement = _area("Why do you want to do this, and what would you bring?",
                      "Say why you want to do this and what you would bring",
                      STATEMENT_MAX, "Your statement",
                      hint="Only you, your line manager and the host will see this.")
    availability = _area("When are you available?", "Say when you are available",
                         AVAILABILITY_MAX, "Availability",
                         hint="For example, Tuesdays from September, or any two days in "
                              "October.")
    manager_name = _text("Your line manager's name", "your line manager's name", NAME_MAX)
    manager_email = EmailField(
        "Your line manager's email address", widget=GovTextInput(),
        description="We email them a link to approve or decline your application. They do "
                    "not need an account.",
        validators=[InputRequired("Enter your line manager's email address"),
                    MaxLength(EMAIL_MAX, "Line manager's email address"),
                    Email(EMAIL_FORMAT, check_deliverability=False)],
    )
    # Shown only with a warning about the address; the confirmation counts only for the
    # address it was given for (kept in the hidden field), so changing it asks again.
    manager_email_confirmed = BooleanField(
        "Yes, this is my line manager's email address", widget=Checkbox(),
    )
    manager_email_checked = HiddenField()
    submit = submit("Send application")

    def set_organisations(self, organisations: list[Organisation]) -> None:
        self.organisation_id.choices = [SelectChoice(str(o.id), o.name)
                                        for o in organisations]

    def without_manager(self) -> None:
        """The opportunity needs no line manager's approval: drop those questions."""
        del self.manager_name
        del self.manager_email
        del self.manager_email_confirmed
        del self.manager_email_checked

    def chosen_organisation_id(self) -> int | None:
        return identifier(self.organisation_id.data)

    def typed_manager_email(self) -> str:
        field = getattr(self, "manager_email", None)
        return normalise_email(field.data or "") if field else ""

    def _confirmed(self) -> bool:
        field = getattr(self, "manager_email_confirmed", None)
        email = self.typed_manager_email()
        return bool(field and field.data and email
                    and normalise_email(self.manager_email_checked.data or "") == email)

    def ask_to_confirm(self) -> None:
        """We are warning about the address now typed: a tick given for another address
        no longer counts."""
        if not self._confirmed():
            self.manager_email_confirmed.data = False
        self.manager_email_checked.data = self.typed_manager_email()

    def details(self) -> application_rules.ApplicationDetails:
        manager_name = getattr(self, "manager_name", None)
        manager_email = getattr(self, "manager_email", None)
        return application_rules.ApplicationDetails(
            organisation_id=self.chosen_organisation_id(),
            statement=self.statement.data or "",
            availability=self.availability.data or "",
            manager_name=(manager_name.data or "") if manager_name else "",
            manager_email=(manager_email.data or "") if manager_email else "",
            manager_email_confirmed=self._confirmed(),
        )


class ManagerForm(BaseForm):
    decision = _radios("Do you approve this application?",
                       [SelectChoice("approve", "Yes, I approve"),
                        SelectChoice("decline", "No, I do not approve")],
                       "Select yes if you approve the application")
    comment = _area("Comment (needed if you do not approve)", None, COMMENT_MAX, "Comment",
                    hint="We pass this to the applicant.")
    submit = submit("Send your decision")


class DecisionForm(BaseForm):
    decision = _radios("What do you want to do?",
                       [SelectChoice("shortlist", "Shortlist"),
                        SelectChoice("accept", "Accept: offer a place"),
                        SelectChoice("decline", "Decline")],
                       "Select what to do with this application")
    message = _area("Message to the applicant (needed if you decline)", None, MESSAGE_MAX,
                    "Message", hint="We email this to the applicant.")
    submit = submit("Send decision")


# --- Placements ----------------------------------------------------------------------------


class PlanForm(BaseForm):
    starts_on = UKDateField("Agreed start date", "the agreed start date",
                            error_name="Agreed start date",
                            description="For example, 1 9 2027")
    ends_on = UKDateField("Agreed end date (optional)", "the agreed end date", required=False,
                          error_name="Agreed end date",
                          description="For example, 28 2 2028")
    objective_1, objective_2, objective_3, objective_4, objective_5 = (
        _text(f"Objective {i}", f"objective {i}", OBJECTIVE_MAX, required=False)
        for i in range(1, MAX_OBJECTIVES + 1)
    )
    submit = submit("Save the plan")

    def check(self) -> None:
        """The end on or after the start (the service checks it again)."""
        start, end = self.starts_on.data, self.ends_on.data
        if start is not None and end is not None and end < start:
            add_field_error(self.ends_on, END_BEFORE_START)

    def objective_fields(self) -> list[StringField]:
        return [getattr(self, f"objective_{i}") for i in range(1, MAX_OBJECTIVES + 1)]

    def fill(self, placement: Placement) -> None:
        self.starts_on.data = placement.starts_on
        self.ends_on.data = placement.ends_on
        texts = [o.text for o in placement.objectives]
        for i, field in enumerate(self.objective_fields()):
            field.data = texts[i] if i < len(texts) else ""

    def objectives(self) -> list[str]:
        return [field.data or "" for field in self.objective_fields()]


class ChecklistForm(BaseForm):
    agreed = SelectMultipleField(
        "What have you agreed?", widget=Checkboxes(),
        choices=[SelectChoice(name, label) for name, label, _hint in Placement.CHECKLIST],
        invalid_choice_message="Select items from the checklist",
    )
    submit = submit("Save the checklist")

    def params(self) -> dict[str, Any]:
        return {
            "items": [{"hint": {"text": hint}} for _name, _label, hint in Placement.CHECKLIST],
            "fieldset": {"legend": {"text": "What have you agreed?",
                                    "classes": "govuk-fieldset__legend--s"}},
        }


CancelPlacementForm = reason_form(
    label="Why are you cancelling it?",
    description="We send this to the participant and show it on the placement's page.",
    button="Cancel the placement", limit=CANCEL_REASON_MAX,
    required="Say why you are cancelling the placement: we tell the participant",
    what="Reason", name="CancelPlacementForm")


class ReflectionForm(BaseForm):
    learned = _area("What did you learn?", "Say what you learned", REFLECTION_MAX,
                    "What you learned")
    changes = _area("What changes as a result?", "Say what changes as a result",
                    REFLECTION_MAX, "What changes",
                    hint="In your work, your team or your organisation.")
    would_recommend = _radios("Would you recommend it to a colleague?",
                              [SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
                              "Select yes if you would recommend it")
    submit = submit("Save my reflection")

    def recommend(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.would_recommend.data or "")
