"""Application pages: applying, the application's own page (for the applicant and the
host), the host's decision, reminders, withdrawing, the line manager's page reached
by the emailed link, and "My applications".

An application's page answers 404 to anyone who may not see it, so its existence
(and the statement in it) is never revealed to other people.
"""

from __future__ import annotations

from flask import abort, flash, render_template
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import formflow, permissions
from ..extensions import db
from ..formflow import Page, allowed, press, see_other
from ..forms import ButtonForm
from ..modelbase import utcnow
from ..organisations.models import Organisation
from ..timeutil import today_uk
from . import applications as rules
from . import placements, services
from .forms import ApplyForm, DecisionForm, ManagerForm
from .models import Application, ReflectionRole
from .routes import bp
from .view_helpers import load_application, load_visible

OUTCOME_MESSAGES = {
    "shortlisted": "{name} is on the shortlist. We have emailed them.",
    "accepted": "{name} has been offered a place. We have emailed them, and their placement "
                "is ready to plan.",
    "declined": "You have declined {name}'s application. We have emailed them.",
    "reserve": "There are no places left, so {name} is on the reserve list. If a place comes "
               "free you can accept them then.",
}


def _to_application(application_id: int) -> Response:
    return see_other("opportunities.application", application_id=application_id)


def _applicant_only(application_id: int) -> Application:
    """The application, for its applicant; 404 for those who may not see it, 403 for
    the host."""
    return allowed(load_application(application_id), permissions.is_applicant)


# --- Applying ------------------------------------------------------------------------------


@bp.route("/opportunities/<int:opportunity_id>/apply", methods=["GET", "POST"])
@login_required
def apply(opportunity_id: int) -> Page:
    opportunity = load_visible(opportunity_id)
    note = services.closing_note(opportunity, today_uk())
    if note:
        return render_template("opportunities/apply_closed.html", opportunity=opportunity,
                               note=note), 409
    existing = rules.find_for(current_user, opportunity)
    if existing is not None and existing.status.value != "withdrawn":
        flash("You have already applied for this opportunity.", "info")
        return _to_application(existing.id)
    if not permissions.has_confirmed_email(current_user):
        abort(403, "Confirm your email address before you apply: follow the link we sent "
                   "you.")
    organisations = rules.applicant_organisations(current_user)
    form = ApplyForm()
    form.set_organisations(organisations)
    if not form.is_submitted() and len(organisations) == 1:
        form.organisation_id.data = str(organisations[0].id)
    if not opportunity.manager_approval_required:
        form.without_manager()
    if organisations and (done := formflow.save(
            form, lambda: rules.apply(current_user, opportunity, form.details()))):
        application = done.value
        if application.status.value == "reserve":
            flash("Your application has been sent. Every place is taken, so you are on "
                  "the reserve list.", "success")
        elif application.manager_decision.value == "pending":
            flash("Your application has been sent. We have emailed your line manager to "
                  "approve it.", "success")
        else:
            flash("Your application has been sent to the host.", "success")
        return _to_application(application.id)
    manager_check = None
    if form.is_submitted() and organisations:
        manager_check = _manager_email_check(form, organisations)
    return formflow.render(
        "opportunities/apply.html", form, opportunity=opportunity,
        organisations=organisations, manager_check=manager_check,
        domain_rules=[rule for org in organisations if (rule := rules.manager_domain_rule(org))],
    )


def _manager_email_check(form: ApplyForm,
                         organisations: list[Organisation]) -> rules.ManagerEmailCheck | None:
    """The warning about the line manager's address typed, shown with any other errors
    (so every problem shows at once) and with a box to confirm the address is right.
    An address the organisation refuses is an error instead (the service may not have
    got that far)."""
    email = form.typed_manager_email()
    chosen = next((o for o in organisations if o.id == form.chosen_organisation_id()), None)
    if chosen is None or "@" not in email or form.manager_email.errors:
        return None
    problem = rules.manager_domain_problem(chosen, email)
    if problem:
        form.add_error("manager_email", problem)
        return None
    check = rules.check_manager_email(current_user, chosen, email, to_applicant=True)
    if check.warnings:
        form.ask_to_confirm()
    return check


# --- The application's page ------------------------------------------------------------------


def _render_application(application: Application, decision_form: DecisionForm | None = None,
                        status: int = 200) -> Page:
    is_applicant = permissions.is_applicant(current_user, application)
    can_decide = permissions.can_decide_application(current_user, application)
    if decision_form is None and can_decide and application.status.is_open:
        decision_form = DecisionForm()
    return render_template(
        "opportunities/application.html",
        application=application,
        opportunity=application.opportunity,
        is_applicant=is_applicant,
        can_decide=can_decide,
        decision_form=decision_form if can_decide else None,
        form=decision_form if can_decide else ButtonForm(),
        button_form=ButtonForm(),
        next_reminder=rules.next_reminder_at(application) if is_applicant else None,
        manager_check=rules.manager_check_for(application, to_applicant=is_applicant),
        now=utcnow(),
        placement_next=_placement_next(application, is_applicant),
    ), status


def _placement_next(application: Application, is_applicant: bool) -> list[str]:
    """What happens next on the placement, for the participant (``placements.next_steps``)."""
    placement = application.placement
    if placement is None or not is_applicant:
        return []
    return placements.next_steps(placement, ReflectionRole.PARTICIPANT, today_uk())


@bp.get("/applications/<int:application_id>/")
@login_required
def application(application_id: int) -> Page:
    return _render_application(load_application(application_id))


@bp.post("/applications/<int:application_id>/decision")
@login_required
def decide(application_id: int) -> Page:
    application = allowed(load_application(application_id), permissions.can_decide_application)
    form = DecisionForm()
    name = application.applicant.display_name
    if done := formflow.save(form, lambda: rules.decide(current_user, application,
                                                        form.decision.data or "",
                                                        form.message.data or "")):
        outcome = done.value
        flash(OUTCOME_MESSAGES[outcome].format(name=name),
              "info" if outcome == "reserve" else "success")
        return _to_application(application_id)
    return _render_application(application, form, 422)


@bp.post("/applications/<int:application_id>/remind")
@login_required
def remind(application_id: int) -> Response:
    application = _applicant_only(application_id)
    return press(lambda: rules.send_reminder(current_user, application),
                 f"We have sent {application.manager_name} a reminder with a new link. The "
                 "link in the earlier email no longer works.", _to_application(application_id))


@bp.route("/applications/<int:application_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw_application(application_id: int) -> Page:
    application = _applicant_only(application_id)
    form = ButtonForm()
    if formflow.save(form, lambda: rules.withdraw(current_user, application)):
        flash("Your application has been withdrawn.", "success")
        return see_other("opportunities.my_applications")
    return formflow.render("opportunities/withdraw_application.html", form,
                           application=application, opportunity=application.opportunity)


@bp.get("/my/applications")
@login_required
def my_applications() -> str:
    return render_template("opportunities/my_applications.html",
                           applications=rules.mine(current_user))


# --- The line manager's page (no account needed) ----------------------------------------------


def _link_problem(problem: rules.LinkProblem) -> tuple[str, int]:
    return render_template("opportunities/manager_link_problem.html",
                           problem=problem), problem.status


@bp.route("/opportunities/manager/<token>", methods=["GET", "POST"])
def manager(token: str) -> Page:
    try:
        application = rules.application_for_manager(token)
    except rules.LinkProblem as problem:
        return _link_problem(problem)
    form = ManagerForm()
    approve = form.decision.data == "approve"
    try:
        done = formflow.save(form, lambda: rules.manager_decide(token, approve,
                                                                form.comment.data or ""))
    except rules.LinkProblem as problem:
        db.session.rollback()
        return _link_problem(problem)
    if done:
        name = application.applicant.display_name
        flash(f"Thank you. We have told {name} that you "
              f"{'approved' if approve else 'did not approve'} their application.",
              "success")
        return see_other("opportunities.manager_done")
    return formflow.render("opportunities/manager.html", form, application=application,
                           opportunity=application.opportunity, token=token)


@bp.get("/opportunities/manager-decision-sent")
def manager_done() -> str:
    """Where the manager lands after deciding (the link itself no longer works)."""
    return render_template("opportunities/manager_done.html")
