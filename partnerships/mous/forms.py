"""MoU forms. They check presence, format and length so every problem shows at once;
the services check again (they hold the rules) and name the field that is wrong.

Two forms have fields that depend on the MoU: each party's role (one text input per
member organisation, revealed under its checkbox) and the clause editor (a textarea
and "responsible parties" checkboxes per clause, plus one blank clause to add). Both
work without JavaScript.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import render_template, request
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovFileInput,
    GovSelect,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired
from wtforms.validators import ValidationError as WTFValidationError

from .. import textguard
from ..accounts.models import EMAIL_MAX
from ..bounds import identifier
from ..forms import (
    BaseForm,
    CharacterCount,
    Checkbox,
    Checkboxes,
    FilterForm,
    MaxLength,
    Radios,
    UKDateField,
    add_field_error,
    reason_form,
    submit,
)
from ..once import OnceField
from ..organisations.models import Organisation
from ..partnership.models import Principle
from ..uploads import MAX_FILE_BYTES, size_text
from .models import (
    CHANGELOG_MAX,
    CLAUSE_MAX,
    COMMENT_MAX,
    NAME_MAX,
    NOTE_MAX,
    PURPOSE_MAX,
    REASON_MAX,
    ROLE_MAX,
    SIGNER_ROLE_MAX,
    TITLE_MAX,
    EndKind,
    MouStatus,
    MouVersion,
    VersionStatus,
)
from .mou_register import StatusFilter
from .services import ClauseDetails, MouDetails, PartyDetails, date_problems

MARKDOWN_HINT = ("You can use Markdown: **bold**, lists with -, links like "
                 "[text](https://example.org).")


# --- Details and parties ---------------------------------------------------------------


class MouForm(BaseForm):
    """A draft's details, its parties with their roles, and the MoU's principles."""

    title = StringField(
        "Title",
        description="For example, Working together on winter pressures.",
        widget=GovTextInput(),
        validators=[InputRequired("Enter a title for the MoU"),
                    MaxLength(TITLE_MAX, "Title")],
    )
    purpose = TextAreaField(
        "Purpose",
        description="What the parties want to achieve together, and why. " + MARKDOWN_HINT,
        widget=GovTextArea(),
        validators=[InputRequired("Enter the purpose of the MoU"),
                    MaxLength(PURPOSE_MAX, "Purpose")],
    )
    parties = SelectMultipleField(
        "Parties",
        description="Select two or more member organisations of the partnership, and say "
        "what role each plays.",
        widget=Checkboxes(),
        choices=[],
        coerce=str,
        invalid_choice_message="Select parties from the list",
    )
    start_date = UKDateField("Start date", "the date the MoU starts",
                             description="For example, 1 4 2027")
    review_date = UKDateField(
        "Review date", "the date the MoU will be reviewed",
        description="When the parties will look at it again. We remind the officers and "
        "the parties' admins 60, 30 and 7 days before.",
    )
    end_date = UKDateField("End date (optional)", "the end date", required=False,
                           description="Leave blank if the MoU has no fixed end.")
    data_sharing = BooleanField("The parties will share data under this MoU",
                                widget=Checkbox())
    data_sharing_note = TextAreaField(
        "What data, why, and under what agreement",
        description="For example, the data-sharing agreement or privacy notice that covers it.",
        widget=GovTextArea(),
        validators=[MaxLength(NOTE_MAX, "The data-sharing note")],
    )
    principles = SelectMultipleField(
        "Civil Society Covenant principles it puts into practice (optional)",
        description="Select all that apply.",
        choices=[SelectChoice(p.value, p.label) for p in Principle],
        widget=Checkboxes(),
        invalid_choice_message="Select principles from the list",
    )
    changelog = StringField(
        "What this version changes",
        description="One line, shown in the list of versions. For example, Adds the "
        "Eastside Food Bank as a party.",
        widget=GovTextInput(),
        validators=[MaxLength(CHANGELOG_MAX, "What changed")],
    )
    once = OnceField()  # sent twice (two tabs, a second tap), it makes one
    submit = submit("Save")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisations: list[Organisation] = []
        self.roles: dict[int, str] = {}
        self.role_errors: dict[str, str] = {}

    # Organisations and roles ------------------------------------------------------

    def set_organisations(self, organisations: list[Organisation],
                          version: MouVersion | None = None) -> None:
        """The organisations that can be parties; on GET, fill from ``version``."""
        self.organisations = organisations
        self.parties.choices = [SelectChoice(str(org.id), org.name) for org in organisations]
        if self.is_submitted():
            self.roles = {org.id: (request.form.get(f"role-{org.id}") or "").strip()
                          for org in organisations}
        elif version is not None:
            self.parties.data = [str(p.organisation_id) for p in version.parties]
            self.roles = {p.organisation_id: p.role for p in version.parties}

    def party_params(self) -> dict[str, Any]:
        """Each organisation's checkbox reveals the input for its role."""
        items = []
        for org in self.organisations:
            html = render_template(
                "mous/_role_input.html", org=org, value=self.roles.get(org.id, ""),
                error=self.role_errors.get(f"role-{org.id}"),
            )
            items.append({"conditional": {"html": html}})
        return {"items": items, "fieldset": {"legend": {"text": "Parties",
                                                         "classes": "govuk-fieldset__legend--m"}}}

    def selected_parties(self) -> list[PartyDetails]:
        chosen = {identifier(value) for value in self.parties.data or []}
        return [PartyDetails(org.id, self.roles.get(org.id, ""))
                for org in self.organisations if org.id in chosen]

    def check(self) -> None:
        """Two or more parties, each with its role; the dates in order (the rules of
        ``services.date_problems``); a note when data is shared."""
        parties = self.selected_parties()
        if len(parties) < 2 and not self.parties.errors:
            add_field_error(self.parties, "Select at least two member organisations as parties")
        for party in parties:
            key = f"role-{party.organisation_id}"
            if not party.role:
                org = next(o for o in self.organisations if o.id == party.organisation_id)
                self.role_errors[key] = f"Enter the role {org.name} plays"
            elif len(party.role) > ROLE_MAX:
                self.role_errors[key] = f"The role must be {ROLE_MAX} characters or fewer"
            elif not textguard.is_single_line(party.role):
                self.role_errors[key] = textguard.single_line_message("The role")
        if self.start_date.data is not None:
            for name, message in date_problems(self.start_date.data, self.review_date.data,
                                               self.end_date.data):
                if not self[name].errors:
                    add_field_error(self[name], message)
        if self.data_sharing.data and not (self.data_sharing_note.data or "").strip():
            add_field_error(
                self.data_sharing_note,
                "Describe what data the parties will share, why, and under what agreement")

    @property
    def errors(self) -> dict[str, Any]:
        """Field errors plus the role inputs' errors, in page order for the summary."""
        errors: dict[str, Any] = {}
        for name, field in self._fields.items():
            if field.errors:
                errors[name] = list(field.errors)
            if name == "parties":
                errors.update({key: [message] for key, message in self.role_errors.items()})
        return errors

    def add_error(self, field_name: str | None, message: str) -> None:
        if field_name and field_name.startswith("role-"):
            self.role_errors[field_name] = message
            return
        super().add_error(field_name, message)

    def details(self) -> MouDetails:
        changelog = self.changelog.data if "changelog" in self._fields else ""
        return MouDetails(
            title=self.title.data or "",
            purpose=self.purpose.data or "",
            start_date=self.start_date.data,
            review_date=self.review_date.data,
            end_date=self.end_date.data,
            data_sharing=bool(self.data_sharing.data),
            data_sharing_note=self.data_sharing_note.data or "",
            changelog=changelog or "",
            principles=[Principle(value) for value in self.principles.data or []],
        )


# --- Clauses ----------------------------------------------------------------------------


class ClauseEntry(Form):
    """One clause: its text and the parties responsible for it."""

    text = TextAreaField("Text", widget=GovTextArea(),
                         filters=[lambda value: value.strip() if isinstance(value, str)
                                  else value])
    responsible = SelectMultipleField(
        "Responsible", widget=Checkboxes(), choices=[], coerce=str,
        invalid_choice_message="Select parties of this MoU",
    )


class ClausesForm(BaseForm):
    """Every clause of a draft, plus one blank clause to add another."""

    clauses = FieldList(FormField(ClauseEntry), min_entries=0)
    add = submit("Save and add another clause")
    submit = submit("Save and return to the MoU")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kept: list[int] = []

    def prepare(self, version: MouVersion) -> None:
        """Choices for every entry; on GET, the clauses plus one blank one."""
        choices = [SelectChoice(str(p.organisation_id), p.organisation.name)
                   for p in version.parties]
        if not self.is_submitted():
            while self.clauses.entries:
                self.clauses.pop_entry()
            for clause in version.clauses:
                self.clauses.append_entry({
                    "text": clause.text,
                    "responsible": [str(org.id) for org in clause.responsible],
                })
            self.clauses.append_entry({"text": "", "responsible": []})
        for entry in self.clauses.entries:
            entry.form.responsible.choices = choices

    def clause_details(self) -> list[ClauseDetails]:
        """The clauses to keep, in order: a clause whose text was emptied is removed,
        and a blank new clause is ignored."""
        details = []
        self.kept = []
        for index, entry in enumerate(self.clauses.entries):
            text = (entry.form.text.data or "").strip()
            if not text:
                continue
            self.kept.append(index)
            details.append(ClauseDetails(
                text=text,
                responsible=[number for number in map(identifier, entry.form.responsible.data or [])
                             if number is not None],
            ))
        return details

    def check(self) -> None:
        """Each clause's length, and who is responsible for it."""
        number = 0
        for entry in self.clauses.entries:
            text = (entry.form.text.data or "").strip()
            if not text:
                continue
            number += 1
            if len(text) > CLAUSE_MAX:
                entry.form.text.errors = [
                    f"Clause {number} must be {CLAUSE_MAX} characters or fewer"]
            if not entry.form.responsible.data and not entry.form.responsible.errors:
                entry.form.responsible.errors = [
                    f"Select the party or parties responsible for clause {number}"]

    def add_error(self, field_name: str | None, message: str) -> None:
        """Map a service error on ``clauses-<n>-<field>`` (n counts kept clauses) back to
        the entry on the page."""
        if field_name and field_name.startswith("clauses-"):
            _, index, name = field_name.split("-", 2)
            if index.isdigit() and int(index) < len(self.kept):
                entry = self.clauses.entries[self.kept[int(index)]]
                field = getattr(entry.form, name, entry.form.text)
                field.errors = [*field.errors, message]
                return
        super().add_error(field_name, message)

    @property
    def errors(self) -> dict[str, Any]:
        """Entry errors keyed by their input ids, so the summary links to each one."""
        errors: dict[str, Any] = {}
        for entry in self.clauses.entries:
            for field in entry.form:
                if field.errors:
                    errors[f"{entry.id}-{field.short_name}"] = list(field.errors)
        for name, field in self._fields.items():
            if name != "clauses" and field.errors:
                errors[name] = list(field.errors)
        return errors


# --- Comments, signing, nominating --------------------------------------------------------


class CommentForm(BaseForm):
    """A comment on one clause (or the whole draft). Each clause's form has its own
    prefix, so the page can show several and keep what was typed in the one sent."""

    body = TextAreaField(
        "Your comment",
        widget=CharacterCount(),
        validators=[InputRequired("Enter your comment"),
                    MaxLength(COMMENT_MAX, "Your comment")],
    )
    submit = submit("Add comment")


class SignForm(BaseForm):
    version = HiddenField()
    name = StringField(
        "Your full name", widget=GovTextInput(),
        validators=[InputRequired("Enter your full name"),
                    MaxLength(NAME_MAX, "Your name")],
    )
    role = StringField(
        "Your role", description="Your job title or position, like Chief Executive or Chair "
        "of trustees.", widget=GovTextInput(),
        validators=[InputRequired("Enter your role, like Chief Executive"),
                    MaxLength(SIGNER_ROLE_MAX, "Your role")],
    )
    statement = StringField("Type the statement", widget=GovTextInput())
    submit = submit("Sign the MoU")

    def set_statement(self, expected: str) -> None:
        self.statement.description = f"Type exactly: {expected}"
        self.expected = expected

    def validate_statement(self, field: StringField) -> None:
        typed = " ".join((field.data or "").split()).casefold()
        if not typed:
            raise WTFValidationError(f"Type “{self.expected}” to sign")
        if typed != " ".join(self.expected.split()).casefold():
            raise WTFValidationError(f"Type the words exactly as shown: “{self.expected}”")


# Declining to sign shares its page with the signing form, so its button is
# ``decline`` (the signing form's is ``submit``): the two never share an id.
DeclineForm = reason_form(
    label="Why is your organisation declining to sign?",
    description="The partnership officers will see this. Say what would need to change.",
    button="Decline to sign", button_name="decline", limit=REASON_MAX,
    required="Enter why your organisation is declining to sign", name="DeclineReason")


class NominateForm(BaseForm):
    email = EmailField(
        "Email address of the person who will sign",
        description="They need an account on this site. We will email them a link.",
        widget=GovTextInput(),
        validators=[InputRequired("Enter the email address of the person who will sign"),
                    MaxLength(EMAIL_MAX, "Email address")],
    )
    submit = submit("Nominate")


# --- Amend, withdraw, publish, attach, forums ----------------------------------------------


class AmendForm(BaseForm):
    changelog = StringField(
        "What will the new version change?",
        description="One line, shown in the list of versions. For example, Updates the "
        "review date and adds a clause on volunteering.",
        widget=GovTextInput(),
        validators=[InputRequired("Say in one line what the new version will change"),
                    MaxLength(CHANGELOG_MAX, "What will change")],
    )
    submit = submit("Start the new version")


WithdrawForm = reason_form(
    label="Why are you withdrawing it?",
    description="The parties' admins will see this in an email.",
    button="Withdraw", limit=REASON_MAX,
    required="Enter why you are withdrawing this version", name="WithdrawForm",
)


class PublicationForm(BaseForm):
    publish = RadioField(
        "Where should the MoU appear once it is in force?",
        choices=[
            SelectChoice("yes", "On the public register"),
            SelectChoice("no", "Members only: the parties have agreed not to publish it"),
        ],
        widget=Radios(),
        validators=[InputRequired("Select where the MoU should appear")],
        invalid_choice_message="Select where the MoU should appear",
    )
    reason = TextAreaField(
        "Why have the parties agreed not to publish it?",
        description="Shown on the register entry to everyone who can see it.",
        widget=GovTextArea(),
        validators=[MaxLength(REASON_MAX, "The reason")],
    )
    submit = submit("Save")

    def validate_reason(self, field: TextAreaField) -> None:
        if self.publish.data == "no" and not (field.data or "").strip():
            raise WTFValidationError("Enter why the parties agreed not to publish the MoU")


class AttachmentForm(BaseForm):
    file = FileField(
        "Upload a file",
        description=f"A PDF, DOCX or ODT file, smaller than {size_text(MAX_FILE_BYTES)}.",
        widget=GovFileInput(),
    )
    submit = submit("Upload")


class ForumsForm(BaseForm):
    forums = SelectMultipleField(
        "Related forums", description="Select all that apply.", choices=[], coerce=str,
        widget=Checkboxes(), invalid_choice_message="Select forums from the list",
    )
    submit = submit("Save")


# --- The register's filters, comparing versions, reviews -----------------------------------


class RegisterFilterForm(FilterForm):
    """The register's filters, sent by GET so a filtered register can be bookmarked.
    Unknown values are ignored (``RegisterFilters.from_args``), never an error."""

    status = SelectField(
        "Status", widget=GovSelect(), validate_choice=False,
        choices=[SelectChoice("", "Any status"),
                 *(SelectChoice(s.value, s.label) for s in StatusFilter)],
    )
    party = SelectField("Party", widget=GovSelect(), validate_choice=False, choices=[])
    principle = SelectField(
        "Covenant principle", widget=GovSelect(), validate_choice=False,
        choices=[SelectChoice("", "Any principle"),
                 *(SelectChoice(p.value, p.label) for p in Principle)],
    )
    submit = submit("Show MoUs")

    def set_parties(self, parties: Iterable[tuple[int, str]]) -> None:
        """Offer these parties (id and name) to filter by."""
        self.party.choices = [SelectChoice("", "Any party"),
                              *(SelectChoice(str(org_id), name) for org_id, name in parties)]


def _status(version: MouVersion) -> str:
    if version.status is VersionStatus.SIGNED and version.mou.status is MouStatus.ENDED:
        return "in force until the MoU ended"
    return version.status.label.lower()


class CompareForm(BaseForm):
    """Choose two versions to compare (GET; the view checks the numbers)."""

    class Meta:
        csrf = False

    from_version = SelectField("From version", name="from", widget=GovSelect(),
                               validate_choice=False, choices=[])
    to_version = SelectField("To version", name="to", widget=GovSelect(),
                             validate_choice=False, choices=[])
    submit = submit("Compare")

    def set_versions(self, versions: list[MouVersion]) -> None:
        choices = [SelectChoice(str(v.number), f"Version {v.number} ({_status(v)})")
                   for v in versions]
        self.from_version.choices = choices
        self.to_version.choices = list(choices)


class ReviewPart(BaseForm):
    """One of the three outcomes of a review, each its own form on the review page (no
    conditional reveals: every page works the same with or without JavaScript). Each
    has a prefix so the fields' ids differ; CSRFProtect checks the page's one token."""

    class Meta:
        csrf = False


def _review_note() -> TextAreaField:
    return TextAreaField(
        "What the review found (optional)",
        description="For the partnership's officers and the parties' admins.",
        widget=GovTextArea(),
        validators=[MaxLength(REASON_MAX, "What the review found")],
    )


class ContinueForm(ReviewPart):
    review_date = UKDateField(
        "Next review date", "the date of the next review",
        description="For example, 1 4 2028. It must be in the future. We remind the "
        "officers and the parties' admins 60, 30 and 7 days before.",
    )
    note = _review_note()
    submit = submit("Continue with this review date")


class AmendReviewForm(ReviewPart):
    changelog = StringField(
        "What will the new version change?",
        description="One line, shown in the list of versions. The version in force stays "
        "in force until every party signs the new one.",
        widget=GovTextInput(),
        validators=[InputRequired("Say in one line what the new version will change"),
                    MaxLength(CHANGELOG_MAX, "What will change")],
    )
    note = _review_note()
    submit = submit("Start an amendment")


class EndForm(ReviewPart):
    end_kind = RadioField(
        "How is it ending?",
        choices=[SelectChoice(EndKind.EXPIRED.value,
                              "It has expired: it reached its end date or its work is done"),
                 SelectChoice(EndKind.TERMINATED.value,
                              "It is terminated: the parties have agreed to end it early")],
        widget=Radios(),
        validators=[InputRequired(
            "Select whether the MoU has expired or is being terminated")],
        invalid_choice_message="Select whether the MoU has expired or is being terminated",
    )
    end_date = UKDateField("Date it ended", "the date the MoU ended",
                           description="Today or earlier. For example, 31 3 2027.")
    reason = TextAreaField(
        "Why is it ending?", description="Shown on the register with the end date.",
        widget=GovTextArea(),
        validators=[InputRequired("Enter why the MoU is ending"),
                    MaxLength(REASON_MAX, "The reason")],
    )
    submit = submit("End the MoU")

    @property
    def end_kind_value(self) -> EndKind | None:
        try:
            return EndKind(self.end_kind.data) if self.end_kind.data else None
        except ValueError:
            return None


REVIEW_FORMS: dict[str, type[ReviewPart]] = {
    "continue": ContinueForm, "amend": AmendReviewForm, "end": EndForm,
}
