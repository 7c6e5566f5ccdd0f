"""Secondments and shadowing made through the services people use
(``opportunities/services.py``, ``applications.py``, ``placements.py``, ``posters.py``),
for the tests, the demo (``opportunities/seed.py``) and the benchmarks.

Each function acts as the user it is given (the line manager by the link emailed to
them, as on the site), so the same permission checks and rules apply (as set-up: the
emails and audit events are not kept, see ``factories``); it flushes and the caller
commits. To record something in the past (a placement completed last month), call it
inside a ``with clock.at`` block. Dates default to ones counted from today in the UK.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, func, select

from .. import mail
from ..accounts.models import User
from ..extensions import db
from ..mail import OutboxMessage
from ..opportunities import applications, placements, posters, services
from ..opportunities.applications import ApplicationDetails
from ..opportunities.models import (
    Application,
    LocationKind,
    OpenTo,
    Opportunity,
    OpportunityKind,
    OpportunityPoster,
    Placement,
    Reflection,
)
from ..opportunities.services import OpportunityDetails
from ..organisations.models import Organisation
from ..timeutil import today_uk
from . import builder

CHECKLIST = tuple(name for name, _label, _hint in Placement.CHECKLIST)
_MANAGER_LINK = re.compile(r"/opportunities/manager/([^\s/?#]+)")
# The link each line manager was emailed, by the hash the application keeps of it (so
# only a link that still works is found; set-up does not keep the emails themselves).
_links: dict[str, str] = {}


def details(**overrides: Any) -> OpportunityDetails:
    """A hybrid secondment open to both sectors, closing in three weeks (override any
    field: ``kind``, ``title``, ``places``, ``closing_date`` ...)."""
    today = today_uk()
    values: dict[str, Any] = {
        "kind": OpportunityKind.SECONDMENT,
        "title": "Secondment to the communities team",
        "description": "You will **help** us redesign the community grants.",
        "skills_sought": "",
        "host_team": "",
        "location_kind": LocationKind.HYBRID,
        "place": "Northbridge",
        "time_commitment": "2 days a week",
        "total_days": None,
        "duration": "6 months",
        "starts_earliest": today + timedelta(days=30),
        "starts_latest": today + timedelta(days=60),
        "places": 1,
        "open_to": OpenTo.BOTH,
        "seniority": "",
        "pay_and_backfill": "Your employer keeps paying you.",
        "closing_date": today + timedelta(days=20),
        "contact_name": "Hannah Host",
        "contact_email": "hannah@host.example.org",
    }
    values.update(overrides)
    return OpportunityDetails(**values)


@builder
def allow_poster(admin: User, host: Organisation, member: User) -> OpportunityPoster:
    """An admin of ``host`` allows one of its members to post its opportunities."""
    return posters.allow(admin, host, member.id)


@builder
def opportunity(poster: User, host: Organisation, *, publish: bool = True,
                today: date | None = None, **overrides: Any) -> Opportunity:
    """An opportunity ``poster`` offers for ``host``: published (open) unless
    ``publish=False`` leaves it a draft. ``today`` is the day the rules count from
    (today in the UK unless given)."""
    made = services.create_opportunity(poster, host, details(**overrides), today)
    if publish:
        services.publish(poster, made, today)
    db.session.flush()
    return made


@builder
def close(poster: User, opportunity: Opportunity) -> None:
    """The host stops taking applications."""
    services.close(poster, opportunity)


@builder
def withdraw_offer(poster: User, opportunity: Opportunity,
                   reason: str = "The team has been reorganised.") -> None:
    """The host withdraws the opportunity (applications waiting are declined)."""
    services.withdraw(poster, opportunity, reason)


@builder
def apply(applicant: User, opportunity: Opportunity, organisation: Organisation, *,
          statement: str = "I would like to learn how you work.",
          availability: str = "Tuesdays and Wednesdays.", manager_name: str = "Mo Manager",
          manager_email: str | None = None, today: date | None = None) -> Application:
    """``applicant`` applies as staff of ``organisation``. When the opportunity needs
    it, the line manager (by default ``manager@`` the applicant's own email domain) is
    emailed a link; any warning about their address is confirmed, as an applicant may."""
    if manager_email is None:
        manager_email = "manager@" + applicant.email.rpartition("@")[2]
    db.session.flush()
    last_mail = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    with mail.withheld(False):  # the link exists only in the email: read it, then drop it
        made = applications.apply(applicant, opportunity, ApplicationDetails(
            organisation_id=organisation.id, statement=statement, availability=availability,
            manager_name=manager_name, manager_email=manager_email,
            manager_email_confirmed=True), today)
    db.session.flush()
    if made.manager_token_hash:
        body = db.session.scalar(
            select(OutboxMessage.body).where(OutboxMessage.to == made.manager_email,
                                             OutboxMessage.id > last_mail)
            .order_by(OutboxMessage.id.desc()).limit(1))
        match = _MANAGER_LINK.search(body or "")
        assert match, f"no link was emailed to {made.manager_email}"
        _links[made.manager_token_hash] = match.group(1)
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.id > last_mail))
    return made


def manager_token(application: Application) -> str:
    """The token in the link the application's line manager was emailed (by ``apply``)."""
    token = _links.get(application.manager_token_hash or "")
    if token is None:
        raise LookupError(f"no working link was emailed to {application.manager_email} by "
                          "factories.opportunities.apply")
    return token


@builder
def manager_decides(application: Application, approve: bool = True,
                    comment: str = "") -> Application:
    """The line manager follows the emailed link and approves (or declines, saying why)."""
    return applications.manager_decide(manager_token(application), approve, comment)


@builder
def decide(host_user: User, application: Application, decision: str = "accept",
           message: str = "") -> str:
    """The host shortlists, accepts or declines (``applications.Decision``); returns
    what happened ("reserve" when the last place went first)."""
    return applications.decide(host_user, application, decision, message)


@builder
def withdraw(applicant: User, application: Application) -> None:
    """The applicant withdraws (an accepted place is freed, its placement cancelled)."""
    applications.withdraw(applicant, application)


@builder
def plan(actor: User, placement: Placement, starts_on: date | None = None,
         ends_on: date | None = None, objectives: Iterable[str] = ()) -> None:
    """The participant or the host agrees the dates (starting in a month unless given)
    and objectives."""
    placements.update_plan(actor, placement, starts_on or today_uk() + timedelta(days=30),
                           ends_on, list(objectives))


@builder
def tick(actor: User, placement: Placement, agreed: Iterable[str] = CHECKLIST) -> None:
    """The participant or the host ticks what is agreed (everything unless given)."""
    placements.update_checklist(actor, placement, set(agreed))


@builder
def start(host_user: User, placement: Placement) -> None:
    placements.start(host_user, placement)


@builder
def complete(host_user: User, placement: Placement) -> None:
    placements.complete(host_user, placement)


@builder
def reflect(actor: User, placement: Placement, learned: str = "How the other side works.",
            changes: str = "We will plan together.", would_recommend: bool = True) -> Reflection:
    """The participant's or the host's reflection (whichever ``actor`` is)."""
    return placements.record_reflection(actor, placement, learned, changes, would_recommend)


@builder
def placement(host_user: User, applicant: User, opportunity: Opportunity,
              organisation: Organisation, **application: Any) -> Placement:
    """An accepted application's placement (agreed, not started): apply, the manager
    approves if asked, the host accepts."""
    made = apply(applicant, opportunity, organisation, **application)
    if opportunity.manager_approval_required:
        manager_decides(made)
    outcome = decide(host_user, made)
    assert outcome == "accepted" and made.placement is not None, outcome
    return made.placement
