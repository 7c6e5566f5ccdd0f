"""Organisation forms: plain-English labels and hints a volunteer can follow on a phone.

These forms check presence, length and the format of charity and company numbers, so
every problem shows at once; the service checks again (it is the rule) and also refuses
duplicate names and web addresses it cannot use, naming the field that is wrong.
"""

from __future__ import annotations

from collections.abc import Callable

from govuk_frontend_wtf.wtforms_widgets import (
    GovSelect,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    Field,
    RadioField,
    SearchField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import InputRequired
from wtforms.validators import ValidationError as WTFValidationError

from ..forms import BaseForm, Checkbox, MaxLength, Radios, add_field_error, submit
from ..forms import FilterForm as FilterBase
from ..membership.forms import decline_form, optional_message, optional_text
from ..once import OnceField
from .domains import DomainError, parse_domains
from .models import (
    DECLINE_REASON_MAX,
    DESCRIPTION_MAX,
    EMAIL_DOMAINS_MAX,
    JOB_TITLE_MAX,
    MESSAGE_MAX,
    NAME_MAX,
    WEBSITE_MAX,
    IncomeBand,
    Organisation,
    OrgType,
    Sector,
)
from .numbers import (
    CHARITY_FORMAT_HELP,
    COMPANY_FORMAT_HELP,
    normalise_charity_number,
    normalise_company_number,
)
from .services import OrganisationDetails, website_problem

TYPE_CHOICES = OrgType.choices()
INCOME_CHOICES = IncomeBand.choices()
SECTOR_CHOICES = [SelectChoice("", "Any sector"), *Sector.choices()]
TYPE_FILTER_CHOICES = [SelectChoice("", "Any type"), *TYPE_CHOICES]


def _number_field(name: str, description: str, normalise: Callable[[str], str | None],
                  format_help: str) -> StringField:
    """An optional registration number ("Charity number"), its format checked in the form
    too, so every problem shows at once (``format_help`` is the message)."""

    def check(_form: BaseForm, field: Field) -> None:
        if field.data and normalise(field.data) is None:
            raise WTFValidationError(format_help)

    return StringField(f"{name} (optional)", description=description, widget=GovTextInput(),
                       validators=[MaxLength(20, name), check])


class OrganisationForm(BaseForm):
    """Create or edit an organisation's public profile."""

    name = StringField(
        "Name of your organisation or group",
        widget=GovTextInput(),
        validators=[
            InputRequired("Enter the name of your organisation or group"),
            MaxLength(NAME_MAX, "Name"),
        ],
    )
    org_type = RadioField(
        "What kind of organisation is it?",
        description=(
            "Choose the closest. A group of volunteers without a charity or company "
            "registration is an unincorporated community group."
        ),
        choices=TYPE_CHOICES,
        widget=Radios(),
        validators=[InputRequired("Select what kind of organisation it is")],
    )
    income_band = RadioField(
        "Roughly how much money does it receive in a year?",
        description=(
            "Use your last year's accounts or a rough guess. Organisations with £500,000 or "
            "less are counted as small, so partnerships can check small groups are included."
        ),
        choices=INCOME_CHOICES,
        widget=Radios(),
        validators=[InputRequired("Select how much money it receives in a year, or "
                                  "'Prefer not to say'")],
    )
    charity_number = _number_field(
        "Charity number",
        "Only if you are a registered charity. For example, 1123456 (England and Wales), "
        "SC012345 (Scotland) or NIC100002 (Northern Ireland).",
        normalise_charity_number, CHARITY_FORMAT_HELP,
    )
    company_number = _number_field(
        "Company number",
        "Only if you are registered with Companies House. 8 characters, for example "
        "01234567 or SC123456.",
        normalise_company_number, COMPANY_FORMAT_HELP,
    )
    website = optional_text("Website (optional)", "For example, www.eastsidefoodbank.org.uk",
                            WEBSITE_MAX, "Website address")
    description = optional_message("Short description (optional)",
                                   "What you do and where. Everyone can see this.",
                                   DESCRIPTION_MAX, "Description")
    once = OnceField()  # sent twice (two tabs, a second tap), it makes one
    submit = submit("Save")

    def check(self) -> None:
        """The website's format (``services.website_problem``), with the other fields'
        problems rather than after them."""
        _website, problem = website_problem(self.website.data or "")
        if problem and not self.website.errors:
            add_field_error(self.website, problem)

    def details(self) -> OrganisationDetails:
        """What was entered, for the service to check and save."""
        return OrganisationDetails(
            name=self.name.data or "",
            org_type=OrgType(self.org_type.data),
            income_band=IncomeBand(self.income_band.data),
            charity_number=self.charity_number.data or "",
            company_number=self.company_number.data or "",
            website=self.website.data or "",
            description=self.description.data or "",
        )


class JoinForm(BaseForm):
    """Ask to join an organisation as a colleague."""

    job_title = optional_text("Your job title or role (optional)",
                              "For example, Volunteer coordinator or Trustee",
                              JOB_TITLE_MAX, "Job title")
    message = optional_message("Message to the organisation's admins (optional)",
                               "Say who you are, so they know it is you.",
                               MESSAGE_MAX, "Your message")
    submit = submit("Ask to join")


# Decline a request to join, with a reason the person will read.
DeclineForm = decline_form(
    label="Why are you declining this request?",
    description="We will send this to the person and show it in their account.",
    button="Decline request", limit=DECLINE_REASON_MAX, what="Reason", counted=True,
    required="Enter a reason for declining, so the person knows why",
)


class EmailDomainsForm(BaseForm):
    """The organisation's email domains, and whether line managers must be on them."""

    email_domains = StringField(
        "Your organisation's email domains",
        description=("The part of your staff's email addresses after the @, for example "
                     "northbridge.gov.uk. Separate more than one with commas. Addresses on "
                     "subdomains, like adults.northbridge.gov.uk, count too."),
        widget=GovTextInput(),
        validators=[MaxLength(EMAIL_DOMAINS_MAX, "Email domains")],
    )
    require_manager_email_domain = BooleanField(
        "Only accept line managers' email addresses on these domains",
        description=("When your staff apply for a secondment or other opportunity, they "
                     "must give a line manager's address on one of these domains."),
        widget=Checkbox(),
    )
    submit = submit("Save")

    def fill(self, org: Organisation) -> None:
        self.email_domains.data = ", ".join(org.email_domain_list)
        self.require_manager_email_domain.data = org.require_manager_email_domain

    def validate_email_domains(self, field: Field) -> None:
        try:
            domains = parse_domains(field.data or "")
        except DomainError as error:
            raise WTFValidationError(str(error)) from error
        if self.require_manager_email_domain.data and not domains:
            raise WTFValidationError("Enter your organisation's email domains, so we know "
                                     "which line managers' addresses to accept")


class FilterForm(FilterBase):
    """The directory's search and filters, sent by GET so results can be bookmarked."""

    q = SearchField("Search by name or description", widget=GovTextInput())
    type = SelectField("Type", choices=TYPE_FILTER_CHOICES, widget=GovSelect(),
                       validate_choice=False)
    sector = SelectField("Sector", choices=SECTOR_CHOICES, widget=GovSelect(),
                         validate_choice=False)
    small = BooleanField("Small organisations only",
                         description="Income of £500,000 a year or less",
                         widget=Checkbox())
    submit = submit("Search")

    def org_type(self) -> OrgType | None:
        """The chosen type, or None for any (unknown values are ignored, not errors)."""
        try:
            return OrgType(self.type.data) if self.type.data else None
        except ValueError:
            return None

    def sector_value(self) -> Sector | None:
        try:
            return Sector(self.sector.data) if self.sector.data else None
        except ValueError:
            return None
