"""Reviewing MoUs in force: the officer's three outcomes, their history, and the
review reminders that ``flask reminders send`` emails every day.

Review outcomes are recorded in the audit log (action ``mou.reviewed``, with the
outcome in its details), which is also where the MoU page reads its review history:
the log is append-only, so the history cannot be rewritten.

Reminders go out when an active MoU's review date is 60, 30 or 7 days away, and once
when it is overdue. Each run sends only the threshold just crossed (the nearest one
whose day has arrived), once: a ``MouReminder`` row per (MoU, review date, threshold)
records it, so a second run the same day, or a run after a missed day, never sends
a reminder twice or a stale one late. A new review date starts afresh. ``today`` is a
parameter so the rules can be tested for any day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import audit, mail
from ..accounts.models import User
from ..audit import AuditEvent
from ..errors import Conflict, ValidationError
from ..extensions import db
from ..mail.kinds import Kind
from ..modelbase import utcnow
from ..organisations.models import MemberRole, Organisation, OrganisationMember, RequestStatus
from ..timeutil import format_day
from . import services
from .models import (
    REASON_MAX,
    EndKind,
    Mou,
    MouParty,
    MouReminder,
    MouStatus,
    MouVersion,
    ReminderThreshold,
    VersionStatus,
)

# Nearest first: the first whose day has arrived is the threshold just crossed.
THRESHOLD_DAYS: list[tuple[ReminderThreshold, int]] = [
    (ReminderThreshold.DAYS_7, 7),
    (ReminderThreshold.DAYS_30, 30),
    (ReminderThreshold.DAYS_60, 60),
]
REMINDER_WINDOW_DAYS = 60
ENDINGS = (EndKind.EXPIRED, EndKind.TERMINATED)


# --- Review outcomes --------------------------------------------------------------------


def require_reviewable(actor: User, mou: Mou) -> MouVersion:
    """Officers review MoUs in force; an ended MoU can no longer change."""
    services.require_manager(actor, mou.partnership)
    if mou.status is MouStatus.ENDED:
        raise Conflict("This MoU has ended, so it can no longer be reviewed, amended or "
                       "signed.")
    if mou.status is not MouStatus.ACTIVE or mou.current_version is None:
        raise Conflict("An MoU is reviewed once it is in force. This one is not in force "
                       "yet.")
    return mou.current_version


def _clean_note(note: str) -> str:
    return services.checked_text(note.strip(), REASON_MAX, "What the review found", "note")


def continue_unchanged(actor: User, mou: Mou, review_date: date | None, note: str,
                       today: date) -> None:
    """The review found the MoU still right: it carries on, to be reviewed again on
    ``review_date``. The signed text (with the review date it was agreed with) is
    untouched; the register and the reminders follow the MoU's own review date."""
    services.lock(mou)
    current = require_reviewable(actor, mou)
    if review_date is None:
        raise ValidationError("Enter the date of the next review", field="review_date")
    if review_date <= today:
        raise ValidationError("The next review date must be in the future",
                              field="review_date")
    if mou.end_date is not None and review_date > mou.end_date:
        raise ValidationError("The next review date must be on or before the end date, "
                              f"{format_day(mou.end_date)}", field="review_date")
    note = _clean_note(note)
    previous = mou.review_date
    mou.review_date = review_date
    db.session.flush()
    audit.record(actor, "mou.reviewed", "mou", mou.id, reason=note, outcome="continue",
                 version=current.number, review_date=review_date.isoformat(),
                 previous_review_date=previous.isoformat() if previous else None)


def amend(actor: User, mou: Mou, changelog: str, note: str) -> MouVersion:
    """The review found the MoU needs changing: start an amendment (a new draft version
    copied from the one in force, which stays in force until the new one is signed)."""
    services.lock(mou)
    current = require_reviewable(actor, mou)
    note = _clean_note(note)
    version = services.start_amendment(actor, mou, changelog)
    audit.record(actor, "mou.reviewed", "mou", mou.id, reason=note, outcome="amend",
                 version=current.number, new_version=version.number,
                 changelog=version.changelog)
    return version


def end(actor: User, mou: Mou, kind: EndKind | None, end_date: date | None, reason: str,
        today: date) -> None:
    """End the MoU: it expired or the parties terminated it. It stays on the register
    with its end date and reason; a version in progress is withdrawn, so nothing can
    be signed or amended any more."""
    services.lock(mou)
    current = require_reviewable(actor, mou)
    if kind is None or kind not in ENDINGS:
        raise ValidationError("Select whether the MoU has expired or is being terminated",
                              field="end_kind")
    if end_date is None:
        raise ValidationError("Enter the date the MoU ended", field="end_date")
    if end_date > today:
        raise ValidationError("The end date must be today or in the past. If it ends "
                              "later, record the review then.", field="end_date")
    if end_date < current.start_date:
        raise ValidationError("The end date must be on or after the date the MoU started, "
                              f"{format_day(current.start_date)}", field="end_date")
    reason = services.checked_text(reason.strip(), REASON_MAX, "The reason", "reason",
                                   "Enter why the MoU is ending")
    pending = mou.draft_version
    withdrawn = None
    if pending is not None:
        pending.status = VersionStatus.WITHDRAWN
        withdrawn = pending.number
        mou.draft_version = None
    mou.status = MouStatus.ENDED
    mou.end_kind = kind
    mou.end_date = end_date
    mou.ended_reason = reason
    mou.ended_at = utcnow()
    db.session.flush()
    audit.record(actor, "mou.reviewed", "mou", mou.id, reason=reason, outcome="end",
                 version=current.number, end_kind=kind.value, end_date=end_date.isoformat())
    audit.record(actor, "mou.ended", "mou", mou.id, reason=reason, end_kind=kind.value,
                 end_date=end_date.isoformat(), withdrawn=withdrawn)
    services.email_parties(
        current, "MoU ended", "mou_ended",
        also=services.officers_or_admins(mou.partnership), partnership=mou.partnership,
        end_kind=kind, end_date=end_date, reason=reason,
    )


@dataclass
class ReviewRecord:
    """One recorded review, for the MoU page."""

    at: datetime
    by: str
    outcome: str
    version: int | None
    review_date: date | None
    new_version: int | None
    end_kind: EndKind | None
    end_date: date | None
    note: str

    @property
    def summary(self) -> str:
        if self.outcome == "continue":
            return (f"Continued unchanged. Next review: {format_day(self.review_date)}."
                    if self.review_date else "Continued unchanged.")
        if self.outcome == "amend":
            return f"To be amended: version {self.new_version} started."
        if self.outcome == "end":
            kind = self.end_kind.label if self.end_kind else "Ended"
            return f"{kind} on {format_day(self.end_date)}."
        return "Reviewed."


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def history(mou: Mou) -> list[ReviewRecord]:
    """The MoU's recorded reviews, newest first (one query, from the audit log)."""
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.subject_type == "mou", AuditEvent.subject_id == mou.id,
               AuditEvent.action == "mou.reviewed")
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .options(joinedload(AuditEvent.actor))
    )
    records = []
    for event in events:
        details = event.details or {}
        kind = details.get("end_kind")
        records.append(ReviewRecord(
            at=event.at, by=event.actor.display_name if event.actor else "Former member",
            outcome=str(details.get("outcome", "")), version=details.get("version"),
            review_date=_day(details.get("review_date")),
            new_version=details.get("new_version"),
            end_kind=EndKind(kind) if kind in set(EndKind) else None,
            end_date=_day(details.get("end_date")), note=event.reason,
        ))
    return records


# --- Reminders ------------------------------------------------------------------------------


def threshold_for(review_date: date, today: date) -> ReminderThreshold | None:
    """The reminder threshold just crossed on ``today``: overdue after the review date,
    else the nearest of 7, 30 and 60 days whose day has arrived (None before 60 days)."""
    days = (review_date - today).days
    if days < 0:
        return ReminderThreshold.OVERDUE
    return next((threshold for threshold, limit in THRESHOLD_DAYS if days <= limit), None)


@dataclass
class SentReminder:
    mou: Mou
    threshold: ReminderThreshold
    recipients: list[str]


def _admins_of(org_ids: Iterable[int]) -> dict[int, list[User]]:
    """Active admins of each organisation, in one query."""
    ids = sorted(set(org_ids))
    admins: dict[int, list[User]] = {org_id: [] for org_id in ids}
    if not ids:
        return admins
    rows = db.session.execute(
        select(OrganisationMember.organisation_id, User)
        .join(User, User.id == OrganisationMember.user_id)
        .where(OrganisationMember.organisation_id.in_(ids),
               OrganisationMember.status == RequestStatus.ACTIVE,
               OrganisationMember.role == MemberRole.ADMIN,
               User.deleted_at.is_(None))
        .order_by(User.id)
    ).tuples()
    for org_id, user in rows:
        admins[org_id].append(user)
    return admins


def send_review_reminders(today: date) -> list[SentReminder]:
    """Email the officers and the parties' admins about MoUs due for review, once per
    threshold and review date; record each reminder sent. The caller commits."""
    mous = list(db.session.scalars(
        select(Mou)
        .where(Mou.status == MouStatus.ACTIVE, Mou.review_date.is_not(None),
               Mou.review_date <= today + timedelta(days=REMINDER_WINDOW_DAYS))
        .order_by(Mou.review_date, Mou.id)
        .options(joinedload(Mou.partnership),
                 joinedload(Mou.current_version).selectinload(MouVersion.parties)
                 .joinedload(MouParty.organisation))
    ))
    if not mous:
        return []
    sent_before = {
        (row.mou_id, row.review_date, row.threshold)
        for row in db.session.scalars(
            select(MouReminder).where(MouReminder.mou_id.in_([mou.id for mou in mous]))
        )
    }
    due: list[tuple[Mou, ReminderThreshold]] = []
    for mou in mous:
        assert mou.review_date is not None  # filtered in the query
        threshold = threshold_for(mou.review_date, today)
        if threshold is None or mou.current_version is None:
            continue
        if (mou.id, mou.review_date, threshold) not in sent_before:
            due.append((mou, threshold))
    if not due:
        return []
    admins = _admins_of(p.organisation_id for mou, _t in due
                        if mou.current_version is not None for p in mou.current_version.parties)
    officers: dict[int, list[User]] = {}
    results = []
    for mou, threshold in due:
        version = mou.current_version
        assert version is not None and mou.review_date is not None
        if mou.partnership_id not in officers:
            officers[mou.partnership_id] = services.officers_or_admins(mou.partnership)
        people: list[tuple[User, Organisation | None]] = [
            (user, None) for user in officers[mou.partnership_id]]
        for party in version.parties:
            people += [(user, party.organisation) for user in admins[party.organisation_id]]
        recipients = _queue(mou, version, threshold, today, people)
        db.session.add(MouReminder(mou_id=mou.id, review_date=mou.review_date,
                                   threshold=threshold))
        results.append(SentReminder(mou, threshold, recipients))
    db.session.flush()
    return results


def _queue(mou: Mou, version: MouVersion, threshold: ReminderThreshold, today: date,
           people: list[tuple[User, Organisation | None]]) -> list[str]:
    """One email per person (an officer who is also a party's admin gets one)."""
    assert mou.review_date is not None
    days = (mou.review_date - today).days
    overdue = threshold is ReminderThreshold.OVERDUE
    where = mou.partnership.name
    subject = (f"MoU review overdue in {where}: {version.title} ({mou.reference})" if overdue
               else f"MoU review due by {format_day(mou.review_date)} in {where}: "
                    f"{version.title}")
    slug = mou.partnership.slug
    url = url_for("mous.show", slug=slug, mou_id=mou.id, _external=True)
    review_url = url_for("mous.review", slug=slug, mou_id=mou.id, _external=True)
    sent: list[str] = []
    for user, organisation in people:
        if user.email in sent or not user.is_active:
            continue
        sent.append(user.email)
        mail.queue(user.email, subject, "mou_review_reminder", kind=Kind.REMINDERS,
                   recipient=user, user=user,
                   organisation=organisation, mou=mou, version=version,
                   partnership=mou.partnership, overdue=overdue, days=days,
                   days_overdue=-days, url=url, review_url=review_url)
    return sent
