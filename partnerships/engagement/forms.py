"""The engagement plan form. Its fields depend on the partnership: one number for each
public forum and a name and role for each member public body, so ``plan_form`` makes
the form class for a partnership's forums and bodies (fields named ``forum_<id>``,
``name_<id>`` and ``role_<id>``), in page order."""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import StringField
from wtforms.validators import InputRequired

from ..forms import BaseForm, MaxLength, WholeNumberField, submit
from ..forums.models import Forum
from ..once import OnceField
from ..organisations.models import Organisation
from .models import MEETINGS_MAX, MINUTES_DAYS_MAX, NOTICE_DAYS_MAX, PERSON_MAX, ROLE_MAX
from .services import Accountable, PlanDetails


class PlanForm(BaseForm):
    """The fixed part of the plan; ``plan_form`` adds the forums and public bodies."""

    partnership_meetings = WholeNumberField(
        "Meetings of the partnership itself", "how many meetings of the partnership itself "
        "are planned", minimum=0, maximum=MEETINGS_MAX,
        description="Its board or assembly, in the year. Forums are below.")
    notice_days = WholeNumberField(
        "Agenda notice, in clear working days", "the agenda notice in working days",
        minimum=0, maximum=NOTICE_DAYS_MAX,
        range_message=f"Agenda notice must be from 0 to {NOTICE_DAYS_MAX} clear working days",
        description="Working days between publishing an agenda and the meeting. Weekends, "
        "bank holidays, the day it is published and the day of the meeting do not count.")
    minutes_days = WholeNumberField(
        "Minutes published within, in working days", "the working days to publish minutes",
        minimum=0, maximum=MINUTES_DAYS_MAX,
        range_message=f"Minutes must be due within 0 to {MINUTES_DAYS_MAX} working days",
        description="Working days after the day of the meeting.")
    once = OnceField()  # sent twice (two tabs, a second tap), it makes one plan
    submit = submit("Save the plan")

    forums: list[tuple[Forum, Any]]
    bodies: list[tuple[Organisation, Any, Any]]

    def details(self) -> PlanDetails:
        """What was typed, for the service (only once the form is valid)."""
        return PlanDetails(
            partnership_meetings=self.partnership_meetings.number() or 0,
            notice_days=self.notice_days.number() or 0,
            minutes_days=self.minutes_days.number() or 0,
            forum_meetings={forum.id: field.number() or 0 for forum, field in self.forums},
            accountable={body.id: Accountable(name.data or "", role.data or "")
                         for body, name, role in self.bodies},
        )


def plan_form(forums: list[Forum], bodies: list[Organisation], **kwargs: Any) -> PlanForm:
    """A ``PlanForm`` with a field for each forum and two for each public body."""
    attrs: dict[str, Any] = {}
    for forum in forums:
        attrs[f"forum_{forum.id}"] = WholeNumberField(
            f"Meetings of {forum.name}", f"how many meetings of {forum.name} are planned",
            minimum=0, maximum=MEETINGS_MAX)
    for body in bodies:
        attrs[f"name_{body.id}"] = StringField(
            "Name", widget=GovTextInput(),
            validators=[InputRequired(f"Enter the name of {body.name}'s accountable person"),
                        MaxLength(PERSON_MAX, "Name")])
        attrs[f"role_{body.id}"] = StringField(
            "Role", widget=GovTextInput(),
            validators=[InputRequired(f"Enter the role of {body.name}'s accountable person"),
                        MaxLength(ROLE_MAX, "Role")])
    order = ("partnership_meetings", *(f"forum_{f.id}" for f in forums), "notice_days",
             "minutes_days", *(name for b in bodies
                               for name in (f"name_{b.id}", f"role_{b.id}")))
    attrs["page_order"] = order
    form_class = type("PartnershipPlanForm", (PlanForm,), attrs)
    form: PlanForm = form_class(**kwargs)
    form.forums = [(forum, form[f"forum_{forum.id}"]) for forum in forums]
    form.bodies = [(body, form[f"name_{body.id}"], form[f"role_{body.id}"]) for body in bodies]
    return form
