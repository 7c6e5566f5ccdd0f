"""Application rules: applying, the line manager's signed link, reminders, the host's
decisions (places are never overbooked) and withdrawing.

**The line manager's link.** The email carries a token signed with the app's secret
key (``itsdangerous``, its own salt) holding the application's id and a random
secret. Only a SHA-256 of the secret is stored, compared in constant time. The link
is bound to its application (the id is inside the signature and the secret must
match that application's hash), lasts 14 days, and stops working once the manager
decides (the hash is cleared) or the applicant sends a reminder (a new secret
replaces the old). The page it opens shows only that one application.

**Who approves.** Whoever holds the address the applicant gives can approve, so the
host sees the manager's name and address, and a warning when the address does not
look like a work address where the applicant works (``check_manager_email``; the
domain rules are in ``organisations.domains``). The applicant sees the same warning
when they enter the address and must confirm it before we send the link. An
organisation's admins can go further and accept only addresses on its own domains.

**Places.** Every change to an application's state, a placement's existence or an
opportunity's places (applying, deciding, withdrawing, cancelling a placement,
withdrawing the opportunity) first locks the opportunity's row
(``lock_opportunity``: an UPDATE that changes nothing, so SQLite and PostgreSQL
alike) and reads the application after, so it never decides on a state another
request has changed meanwhile. Before this, an applicant withdrawing at the moment
the host accepted left the application withdrawn, its placement agreed and the place
never given back. Accepting raises ``places_taken`` with a conditional UPDATE
(``... WHERE places_taken < places``) in the same transaction that creates the
placement; when it changes no row, the application goes on the reserve list
instead. A place comes back when an accepted applicant withdraws or the host
cancels the placement (``free_place``): the count is then derived again from the
placements not cancelled, so it cannot drift from them, and the reserve list is
emailed. State changes are conditional UPDATEs on the state read as well
(``conditional.change``), so two hosts deciding the same application at once cannot
both win, and the line manager's link and reminders work once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from .. import audit, conditional, mail, permissions
from ..accounts.models import User
from ..accounts.services import normalise_email
from ..errors import Conflict, PermissionDenied, ValidationError
from ..extensions import db
from ..mail.kinds import Kind
from ..modelbase import utcnow
from ..organisations.domains import (
    describe,
    email_domain,
    is_on,
    is_on_any,
    is_personal,
    usable_as_work_domain,
)
from ..organisations.models import Organisation, OrganisationMember, RequestStatus
from ..timeutil import format_uk, today_uk
from .models import (
    AVAILABILITY_MAX,
    COMMENT_MAX,
    EMAIL_MAX,
    MESSAGE_MAX,
    NAME_MAX,
    STATEMENT_MAX,
    Application,
    ApplicationStatus,
    ManagerDecision,
    Opportunity,
    OpportunityStatus,
    Placement,
    PlacementStatus,
)
from .services import closing_note

LINK_DAYS = 14
REMINDER_DAYS = 3
MANAGER_SALT = "opportunity-manager-approval"
OPEN_STATUSES = [status for status in ApplicationStatus if status.is_open]
# A placement that holds its place and can still be called off.
LIVE_PLACEMENT = [PlacementStatus.AGREED, PlacementStatus.IN_PROGRESS]
CHANGED_MEANWHILE = ("This application changed while we were saving your change. Check "
                     "it and try again.")


@dataclass
class ApplicationDetails:
    """What an applicant enters."""

    organisation_id: int | None
    statement: str
    availability: str
    manager_name: str = ""
    manager_email: str = ""
    # The applicant saw our warning about this very address and says it is right.
    manager_email_confirmed: bool = False


# --- Loading ------------------------------------------------------------------------------


def applicant_organisations(user: User) -> list[Organisation]:
    """Organisations the person belongs to (they apply as staff of one of them)."""
    return list(db.session.scalars(
        select(Organisation).join(OrganisationMember).where(
            OrganisationMember.user_id == user.id,
            OrganisationMember.status == RequestStatus.ACTIVE,
        ).order_by(Organisation.name)
    ))


def get(application_id: int) -> Application | None:
    """An application with everything its page shows (one query, plus the placement)."""
    return db.session.scalar(
        select(Application).where(Application.id == application_id).options(
            joinedload(Application.opportunity).joinedload(Opportunity.organisation),
            joinedload(Application.applicant),
            joinedload(Application.organisation),
            joinedload(Application.placement),
        )
    )


def lock_opportunity(opportunity: Opportunity) -> None:
    """Lock the opportunity's row until the transaction ends and have it read again:
    the first step of every change to its applications' states, its placements or
    its places (see the module's docstring). Read applications after this."""
    conditional.lock(opportunity)


def find_for(user: User, opportunity: Opportunity) -> Application | None:
    """The person's application for this opportunity, if they made one."""
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(Application).where(Application.opportunity_id == opportunity.id,
                                  Application.applicant_id == user.id)
    )


def mine(user: User) -> list[Application]:
    """The person's applications, newest first, with their opportunities and hosts."""
    return list(db.session.scalars(
        select(Application).where(Application.applicant_id == user.id).options(
            joinedload(Application.opportunity).joinedload(Opportunity.organisation),
            joinedload(Application.organisation),
            joinedload(Application.placement),
        ).order_by(Application.created_at.desc(), Application.id.desc())
    ))


def for_host(opportunity: Opportunity) -> tuple[list[Application], int]:
    """Applications the host may see (the manager approved, or need not), and how many
    more are waiting for a line manager (a number only: the host sees nothing else)."""
    rows = list(db.session.scalars(
        select(Application).where(Application.opportunity_id == opportunity.id).options(
            joinedload(Application.applicant), joinedload(Application.organisation),
            joinedload(Application.placement),
        ).order_by(Application.created_at, Application.id)
    ))
    visible = [a for a in rows if a.host_can_see]
    waiting = sum(1 for a in rows if a.manager_decision is ManagerDecision.PENDING
                  and a.status.is_open)
    return visible, waiting


# --- The line manager's address ------------------------------------------------------------


@dataclass
class ManagerEmailCheck:
    """What we can tell from a line manager's address about who will approve."""

    warnings: list[str]  # plain-English sentences; [] when nothing looks wrong
    checked_against: list[str]  # the work domains compared with ([]: nothing to compare)


def check_manager_email(applicant: User, organisation: Organisation, manager_email: str,
                        to_applicant: bool = False) -> ManagerEmailCheck:
    """Does the line manager's address look like a work address where the applicant works?

    When the organisation has work domains (recorded by its admins, or its website's),
    the address should be on one of them: the applicant cannot choose those, so they
    are the better evidence, and a manager on them is fine even if the applicant's own
    account is a personal address. Otherwise the address should share a domain with
    the applicant's own confirmed address (either may be a subdomain of the other),
    unless that is a webmail address, when there is nothing to compare. A webmail
    address is always flagged. ``to_applicant`` words the warnings for the applicant.
    """
    domain = email_domain(manager_email)
    if domain is None:
        return ManagerEmailCheck([], [])
    warnings = []
    if is_personal(domain):
        warnings.append(f"{manager_email} is a personal email address ({domain}), not a work "
                        "one.")
    work = organisation.work_domains
    if work:
        if not is_on_any(domain, work):
            plural = "s" if len(work) > 1 else ""
            warnings.append(f"{manager_email} is not on {organisation.name}'s email "
                            f"domain{plural} ({describe(work)}).")
        return ManagerEmailCheck(warnings, work)
    own = email_domain(applicant.email) if applicant.is_confirmed else None
    if own is None or not usable_as_work_domain(own):
        return ManagerEmailCheck(warnings, [])
    if not (is_on(domain, own) or is_on(own, domain)):
        whose = "your" if to_applicant else f"{applicant.display_name}'s"
        warnings.append(f"{manager_email} is not on the same email domain as {whose} own "
                        f"address ({own}).")
    return ManagerEmailCheck(warnings, [own])


def manager_check_for(application: Application,
                      to_applicant: bool = False) -> ManagerEmailCheck | None:
    """The check of an application's line manager's address (None: no manager needed)."""
    if not application.manager_email:
        return None
    return check_manager_email(application.applicant, application.organisation,
                               application.manager_email, to_applicant)


def manager_domain_rule(organisation: Organisation) -> str:
    """What the organisation asks of its staff's line managers' addresses ("": nothing)."""
    required = organisation.required_manager_domains
    if not required:
        return ""
    endings = describe([f"@{domain}" for domain in required])
    return (f"{organisation.name} accepts only line managers' email addresses ending in "
            f"{endings}")


def manager_domain_problem(organisation: Organisation, manager_email: str) -> str:
    """Why the organisation refuses this line manager's address ("" if it does not)."""
    required = organisation.required_manager_domains
    if not required or is_on_any(email_domain(manager_email), required):
        return ""
    return (f"Enter your line manager's work email address: "
            f"{manager_domain_rule(organisation)}")


def _check_manager_domain(actor: User, organisation: Organisation, manager_email: str,
                          confirmed: bool) -> list[str]:
    """Refuse an address the organisation does not accept; ask the applicant to confirm
    one that looks wrong. Returns the warnings the applicant confirmed."""
    problem = manager_domain_problem(organisation, manager_email)
    if problem:
        raise ValidationError(problem, field="manager_email")
    check = check_manager_email(actor, organisation, manager_email, to_applicant=True)
    if check.warnings and not confirmed:
        raise ValidationError("Check your line manager's email address. If it is right, "
                              "confirm it", field="manager_email_confirmed")
    return check.warnings


# --- Applying ------------------------------------------------------------------------------


def _text(value: str, limit: int, field: str, missing: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(missing, field=field)
    if len(value) > limit:
        raise ValidationError(f"{what} must be {limit} characters or fewer", field=field)
    return value


def apply(actor: User, opportunity: Opportunity, details: ApplicationDetails,
          today: date | None = None) -> Application:
    """Apply for an opportunity as staff of one of the actor's organisations.

    When every place is taken the application goes on the reserve list. When the
    opportunity needs it, the line manager is emailed a link to approve or decline.
    """
    if not permissions.has_confirmed_email(actor):
        raise PermissionDenied("Confirm your email address before you apply.")
    note = closing_note(opportunity, today or today_uk())
    if note:
        raise Conflict(note)
    organisations = {org.id: org for org in applicant_organisations(actor)}
    organisation = organisations.get(details.organisation_id or 0)
    if organisation is None:
        raise ValidationError("Select the organisation you work for", field="organisation_id")
    if organisation.id == opportunity.organisation_id:
        raise ValidationError(f"This opportunity is offered by {organisation.name}: choose "
                              "another organisation you work for", field="organisation_id")
    if not opportunity.open_to.accepts(organisation.sector):
        raise ValidationError(f"This opportunity is for {opportunity.open_to.label.lower()} "
                              f"only, and {organisation.name} is not in that sector",
                              field="organisation_id")
    lock_opportunity(opportunity)
    existing = find_for(actor, opportunity)
    if existing is not None:
        db.session.refresh(existing)  # as it is now, with the opportunity locked
    if existing is not None and existing.status is not ApplicationStatus.WITHDRAWN:
        raise Conflict("You have already applied for this opportunity. See your "
                       "application under My applications.")
    statement = _text(details.statement, STATEMENT_MAX, "statement",
                      "Say why you want to do this and what you would bring", "Your statement")
    availability = _text(details.availability, AVAILABILITY_MAX, "availability",
                         "Say when you are available", "Availability")
    manager_name = manager_email = ""
    confirmed_warnings: list[str] = []
    if opportunity.manager_approval_required:
        manager_name = _text(details.manager_name, NAME_MAX, "manager_name",
                             "Enter your line manager's name", "Line manager's name")
        manager_email = normalise_email(_text(
            details.manager_email, EMAIL_MAX, "manager_email",
            "Enter your line manager's email address", "Line manager's email address"))
        if "@" not in manager_email:
            raise ValidationError("Enter an email address in the correct format, like "
                                  "name@example.org", field="manager_email")
        if manager_email == normalise_email(actor.email):
            raise ValidationError("Enter your line manager's email address, not your own",
                                  field="manager_email")
        confirmed_warnings = _check_manager_domain(actor, organisation, manager_email,
                                                   details.manager_email_confirmed)
    if existing is not None and existing.placement is not None:
        # Withdrawing cancelled the placement agreed last time. An application has one
        # placement, so the new one starts without it (the audit log keeps the history)
        # and accepting it agrees a fresh placement rather than failing on the old row.
        db.session.delete(existing.placement)
        db.session.flush()
    application = existing or Application(opportunity_id=opportunity.id,
                                          applicant_id=actor.id)
    application.organisation_id = organisation.id
    application.statement = statement
    application.availability = availability
    application.manager_name = manager_name
    application.manager_email = manager_email
    application.manager_comment = ""
    application.manager_decided_at = None
    application.manager_token_hash = None
    application.last_reminder_at = None
    application.host_message = ""
    application.decided_at = None
    application.decided_by_id = None
    application.withdrawn_at = None
    application.status = (ApplicationStatus.RESERVE if opportunity.is_filled
                          else ApplicationStatus.SUBMITTED)
    application.manager_decision = (ManagerDecision.PENDING
                                    if opportunity.manager_approval_required
                                    else ManagerDecision.NOT_NEEDED)
    if existing is None:
        db.session.add(application)
    db.session.flush()
    application.opportunity = opportunity
    application.organisation = organisation
    application.applicant = actor
    audit.record(actor, "application.submitted", "application", application.id,
                 opportunity_id=opportunity.id, reserve=opportunity.is_filled,
                 manager_name=manager_name, manager_email=manager_email,
                 manager_email_warnings_confirmed=confirmed_warnings)
    mail.queue(actor.email, f"Your application has been sent: {opportunity.title}",
               "application_submitted", kind=Kind.MY_APPLICATION, recipient=actor,
               application=application, opportunity=opportunity,
               url=_application_url(application))
    if application.manager_decision is ManagerDecision.PENDING:
        _send_manager_link(application, reminder=False)
    else:
        _tell_host(application)
    return application


def _application_url(application: Application) -> str:
    return url_for("opportunities.application", application_id=application.id, _external=True)


def host_recipients(opportunity: Opportunity) -> list[tuple[str, str]]:
    """The opportunity's contact and the person who posted it, while they may still
    manage it (someone who left the host hears no more about its applicants), as
    (email, name) pairs, so each email greets its reader by name."""
    people = [(opportunity.contact_email, opportunity.contact_name)]
    poster = opportunity.posted_by
    if poster is not None and permissions.can_manage_opportunity(poster, opportunity):
        people.append((poster.email, poster.name))
    recipients: dict[str, str] = {}
    for email, name in people:
        if email:
            recipients.setdefault(normalise_email(email), name)
    return list(recipients.items())


def _tell_host(application: Application) -> None:
    """A new application the host can now see."""
    opportunity = application.opportunity
    manager_check = manager_check_for(application)
    for email, name in host_recipients(opportunity):
        mail.queue(email, f"New application for {opportunity.title}", "application_received",
                   kind=Kind.APPLICATIONS_RECEIVED,
                   name=name, application=application, opportunity=opportunity,
                   manager_check=manager_check,
                   url=_application_url(application))


# --- The line manager's link -------------------------------------------------------------


def manager_link_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=MANAGER_SALT)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _send_manager_link(application: Application, reminder: bool) -> str:
    """Make a new link (the old one stops working) and email it. Returns the token."""
    secret = secrets.token_urlsafe(32)
    application.manager_token_hash = _hash(secret)
    application.manager_link_sent_at = utcnow()
    token = manager_link_serializer().dumps({"a": application.id, "k": secret})
    expires = application.manager_link_sent_at + timedelta(days=LINK_DAYS)
    applicant = application.applicant
    asks = f"{applicant.name} asks for your approval to apply for {application.opportunity.title}"
    subject = f"Reminder: {asks}" if reminder else asks
    mail.queue(application.manager_email, subject, "application_manager_request",
               kind=Kind.MANAGER_APPROVAL,
               application=application, opportunity=application.opportunity,
               applicant=applicant, reminder=reminder, expires=format_uk(expires, "date"),
               url=url_for("opportunities.manager", token=token, _external=True))
    return token


class LinkProblem(Exception):
    """A line manager's link that cannot be used; ``status`` is 404, or 410 when it
    worked once (used, replaced or expired)."""

    def __init__(self, title: str, message: str, status: int = 410) -> None:
        super().__init__(message)
        self.title = title
        self.message = message
        self.status = status


def application_for_manager(token: str, now: datetime | None = None) -> Application:
    """The one application a manager's link is for, if the link can still be used."""
    invalid = LinkProblem("This link is not valid",
                          "Check you copied the whole link from the email.", status=404)
    try:
        data = manager_link_serializer().loads(token, max_age=LINK_DAYS * 24 * 3600)
    except SignatureExpired as exc:
        raise LinkProblem("This link has expired",
                          f"Links to approve an application last {LINK_DAYS} days. Ask the "
                          "applicant to send you a reminder, which has a new link.") from exc
    except BadSignature as exc:
        raise invalid from exc
    if not (isinstance(data, dict) and isinstance(data.get("a"), int)
            and isinstance(data.get("k"), str)):
        raise invalid
    application = get(data["a"])
    if application is None:
        raise invalid
    stored = application.manager_token_hash or ""
    if not hmac.compare_digest(stored.encode(), _hash(data["k"]).encode()) or not stored:
        raise LinkProblem("This link has already been used or replaced",
                          "Each link works once. If the applicant sent you a reminder, use "
                          "the link in the newest email.")
    if application.manager_decision is not ManagerDecision.PENDING:
        raise LinkProblem("This application has already been decided",
                          "Each link works once.")
    sent = application.manager_link_sent_at or application.created_at
    if (now or utcnow()) > sent + timedelta(days=LINK_DAYS):
        raise LinkProblem("This link has expired",
                          f"Links to approve an application last {LINK_DAYS} days. Ask the "
                          "applicant to send you a reminder, which has a new link.")
    if application.status is ApplicationStatus.WITHDRAWN:
        raise LinkProblem("This application has been withdrawn",
                          "The applicant withdrew it, so there is nothing to decide.")
    return application


def manager_decide(token: str, approve: bool, comment: str) -> Application:
    """The line manager approves or declines; the link then stops working."""
    application = application_for_manager(token)
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationError("Say why you are declining: we pass this to the applicant",
                              field="comment")
    if len(comment) > COMMENT_MAX:
        raise ValidationError(f"Comment must be {COMMENT_MAX} characters or fewer",
                              field="comment")
    # Once: the link still unused and the application still waiting (two clicks at
    # once, or the applicant withdrawing at that moment, find it changed).
    if not conditional.change(
            application, Application.manager_decision == ManagerDecision.PENDING,
            Application.manager_token_hash == application.manager_token_hash,
            Application.status != ApplicationStatus.WITHDRAWN,
            manager_decision=ManagerDecision.APPROVED if approve else ManagerDecision.DECLINED,
            manager_comment=comment, manager_decided_at=utcnow(), manager_token_hash=None):
        application_for_manager(token)  # raises what has changed
        raise LinkProblem("This link has already been used or replaced",
                          "Each link works once.")
    audit.record(None, "application.manager_approved" if approve
                 else "application.manager_declined", "application", application.id,
                 manager_name=application.manager_name, manager_email=application.manager_email)
    opportunity = application.opportunity
    mail.queue(application.applicant.email,
               f"Your line manager {'approved' if approve else 'declined'} your application "
               f"for {opportunity.title}",
               "application_manager_decided", kind=Kind.MY_APPLICATION,
               recipient=application.applicant, application=application,
               opportunity=opportunity, approved=approve, url=_application_url(application))
    if approve:
        _tell_host(application)
    return application


def next_reminder_at(application: Application) -> datetime | None:
    """When the applicant may next remind their manager (None: no reminder applies)."""
    if (application.manager_decision is not ManagerDecision.PENDING
            or not application.status.is_open):
        return None
    sent = application.manager_link_sent_at or application.created_at
    return sent + timedelta(days=REMINDER_DAYS)


def send_reminder(actor: User, application: Application, now: datetime | None = None) -> None:
    """Email the manager again with a new link (the old one stops working)."""
    if not permissions.is_applicant(actor, application):
        raise PermissionDenied("Only the applicant can send a reminder.")
    allowed_from = next_reminder_at(application)
    if allowed_from is None:
        raise Conflict("Your line manager has already decided, so there is nothing to remind "
                       "them about.")
    if (now or utcnow()) < allowed_from:
        raise Conflict("You can send one reminder every 3 days. You can send the next one "
                       f"from {format_uk(allowed_from)}.")
    # Once: a reminder sent from another tab at the same moment, or the manager
    # deciding, changes what this one was allowed on.
    if not conditional.change(
            application, Application.manager_decision == ManagerDecision.PENDING,
            Application.status.in_(OPEN_STATUSES),
            conditional.unchanged(Application.manager_link_sent_at,
                                  application.manager_link_sent_at),
            last_reminder_at=now or utcnow()):
        raise Conflict("Your application changed while we were sending the reminder (it "
                       "was decided, or a reminder has just been sent). Check it below.")
    _send_manager_link(application, reminder=True)
    audit.record(actor, "application.reminder_sent", "application", application.id)


# --- The host's decisions ------------------------------------------------------------------


class Decision:
    SHORTLIST = "shortlist"
    ACCEPT = "accept"
    DECLINE = "decline"


def decide(actor: User, application: Application, decision: str, message: str) -> str:
    """Shortlist, accept or decline. Returns what happened: "shortlisted", "accepted",
    "declined", or "reserve" when the last place went to someone else first."""
    if not permissions.can_decide_application(actor, application):
        raise PermissionDenied("Only the host can decide on this application.")
    opportunity = application.opportunity
    lock_opportunity(opportunity)
    db.session.refresh(application)
    if opportunity.status in (OpportunityStatus.WITHDRAWN, OpportunityStatus.DRAFT):
        raise Conflict("This opportunity is not open, so its applications cannot be decided.")
    message = (message or "").strip()
    if len(message) > MESSAGE_MAX:
        raise ValidationError(f"Message must be {MESSAGE_MAX} characters or fewer",
                              field="message")
    if decision == Decision.DECLINE and not message:
        raise ValidationError("Tell the applicant why you are not accepting them",
                              field="message")
    if decision not in (Decision.SHORTLIST, Decision.ACCEPT, Decision.DECLINE):
        raise ValidationError("Select what to do with this application", field="decision")
    if decision == Decision.SHORTLIST and application.status is ApplicationStatus.SHORTLISTED:
        raise Conflict("This application is already on the shortlist.")
    new_status = {Decision.SHORTLIST: ApplicationStatus.SHORTLISTED,
                  Decision.ACCEPT: ApplicationStatus.ACCEPTED,
                  Decision.DECLINE: ApplicationStatus.DECLINED}[decision]
    now = utcnow()
    # Claim the application: only one decision can move it out of an open state.
    if not conditional.change(application, Application.status.in_(OPEN_STATUSES),
                              status=new_status, host_message=message, decided_at=now,
                              decided_by_id=actor.id, updated_at=now):
        raise Conflict("This application has already been decided.")
    outcome = new_status.value
    if decision == Decision.ACCEPT:
        if _take_place(opportunity):
            db.session.add(Placement(application_id=application.id,
                                     status=PlacementStatus.AGREED))
        else:
            conditional.change(application, status=ApplicationStatus.RESERVE)
            outcome = "reserve"
    db.session.flush()
    db.session.refresh(application)
    db.session.refresh(opportunity)
    audit.record(actor, f"application.{outcome}", "application", application.id,
                 opportunity_id=opportunity.id)
    if outcome != "reserve" or message:
        mail.queue(application.applicant.email, _decision_subject(outcome, opportunity),
                   "application_decided", kind=Kind.MY_APPLICATION,
                   recipient=application.applicant, application=application,
                   opportunity=opportunity,
                   outcome=outcome, url=_application_url(application))
    return outcome


def _decision_subject(outcome: str, opportunity: Opportunity) -> str:
    return {
        "shortlisted": f"You are on the shortlist: {opportunity.title}",
        "accepted": f"You have been accepted: {opportunity.title}",
        "declined": f"Your application was not accepted: {opportunity.title}",
        "reserve": f"You are on the reserve list: {opportunity.title}",
    }[outcome]


def _take_place(opportunity: Opportunity) -> bool:
    """Take one place if one is left (a conditional UPDATE: safe when hosts race)."""
    taken = conditional.rows_updated(
        update(Opportunity)
        .where(Opportunity.id == opportunity.id,
               Opportunity.places_taken < Opportunity.places)
        .values(places_taken=Opportunity.places_taken + 1)
    )
    return taken == 1


def _count_places(opportunity: Opportunity) -> None:
    """Set ``places_taken`` to the number of the opportunity's placements not cancelled
    (with the opportunity locked): derived rather than decremented, so it cannot drift
    from them."""
    db.session.flush()
    taken = (select(func.count(Placement.id))
             .join(Application, Application.id == Placement.application_id)
             .where(Application.opportunity_id == opportunity.id,
                    Placement.status != PlacementStatus.CANCELLED)
             .scalar_subquery())
    conditional.rows_updated(
        update(Opportunity).where(Opportunity.id == opportunity.id).values(places_taken=taken))


def free_place(opportunity: Opportunity) -> int:
    """Give back a place taken by an accepted application (the participant withdrew, or
    the host cancelled the placement: the caller has locked the opportunity and
    cancelled the placement), and tell the reserve list. Returns how many people on
    the reserve list were emailed.

    Nobody moves off the reserve list by themselves: the host still decides whom to
    accept, as they do for any application. Those whose line manager declined cannot be
    accepted, so they are not told.
    """
    _count_places(opportunity)
    db.session.flush()
    db.session.refresh(opportunity)
    waiting = list(db.session.scalars(
        select(Application).where(
            Application.opportunity_id == opportunity.id,
            Application.status == ApplicationStatus.RESERVE,
            Application.manager_decision != ManagerDecision.DECLINED,
        ).options(joinedload(Application.applicant))
        .order_by(Application.created_at, Application.id)
    ))
    for application in waiting:
        mail.queue(application.applicant.email, f"A place has come free: {opportunity.title}",
                   "application_place_free", kind=Kind.MY_APPLICATION,
                   recipient=application.applicant, application=application,
                   opportunity=opportunity, url=_application_url(application))
    return len(waiting)


# --- Withdrawing ---------------------------------------------------------------------------


def withdraw(actor: User, application: Application) -> None:
    """The applicant withdraws, at any time. An accepted place is freed (and its placement
    cancelled), the manager's link stops working, and the host is told."""
    if not permissions.is_applicant(actor, application):
        raise PermissionDenied("Only the applicant can withdraw an application.")
    opportunity = application.opportunity
    lock_opportunity(opportunity)
    db.session.refresh(application)  # the host may have accepted it meanwhile
    if application.status in (ApplicationStatus.WITHDRAWN, ApplicationStatus.DECLINED):
        raise Conflict("This application is no longer open, so there is nothing to withdraw.")
    was = application.status
    placement = application.placement
    if placement is not None:
        db.session.refresh(placement)
    if placement is not None and placement.status is PlacementStatus.COMPLETED:
        raise Conflict("This placement has been completed, so it cannot be withdrawn.")
    now = utcnow()
    if not conditional.change(application, Application.status == was,
                              status=ApplicationStatus.WITHDRAWN, withdrawn_at=now,
                              manager_token_hash=None):
        raise Conflict(CHANGED_MEANWHILE)
    reserve_told = 0
    if was is ApplicationStatus.ACCEPTED:
        if placement is not None and not conditional.change(
                placement, Placement.status.in_(LIVE_PLACEMENT),
                status=PlacementStatus.CANCELLED, cancelled_at=now):
            # The host completed it at this very moment.
            raise Conflict("This placement has been completed, so it cannot be withdrawn.")
        reserve_told = free_place(opportunity)
    db.session.flush()
    db.session.refresh(opportunity)
    audit.record(actor, "application.withdrawn", "application", application.id,
                 was=was.value, reserve_told=reserve_told)
    if application.host_can_see:
        for email, name in host_recipients(opportunity):
            mail.queue(email, f"Application withdrawn from {opportunity.title}",
                       "application_withdrawn", kind=Kind.APPLICATIONS_RECEIVED,
                       name=name, application=application,
                       opportunity=opportunity, freed_place=was is ApplicationStatus.ACCEPTED,
                       url=url_for("opportunities.applications",
                                   opportunity_id=opportunity.id, _external=True))

