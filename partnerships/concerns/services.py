"""Concern rules: raising one (signed in or not), the officers' steps, publication.

**Steps.** Open -> acknowledged -> responded -> closed. Each step is a conditional
UPDATE on the status this request read (``conditional.change``), so two officers
pressing "Send response" at once give one response and one "someone else got there
first" (``Conflict``), never two emails to the raiser. Responding to an open concern
acknowledges it at the same moment. A concern is closed only after a response: the
point of closing is "answered, nothing more to do", and allowing it before would let
a concern be shut without an answer (one that is not about the partnership at all
is answered by saying so, and kept off the public list).

**Publication.** Public exactly when the raiser consented, an officer responded and
no officer withheld it (``permissions.concerns_published``). Officers may withhold a
concern (before or after responding) with a reason that the raiser sees on their
own page, for example when it names a private person; withholding is final, so a
concern never appears, disappears and reappears. An anonymous raiser's name is
never shown publicly; an email address never is.

**Signed-out raisers.** They give an address to reply to, which gets the
acknowledgement, the response and a private link to follow the concern: a random
secret of which only the SHA-256 is stored (``token_hash``), like the opportunities'
line-manager links. The link never expires (it shows only this concern) and a wrong
one is simply not found.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from flask import url_for
from sqlalchemy import case, func, select

from .. import audit, conditional, mail, permissions
from ..accounts.models import EMAIL_MAX, NAME_MAX, User
from ..errors import Conflict, PermissionDenied, ValidationError
from ..extensions import db
from ..forums.models import Forum
from ..mail.kinds import Kind
from ..meetings.models import Meeting
from ..modelbase import utcnow
from ..partnership.models import Partnership, PartnershipOfficer
from ..timeutil import format_uk
from .models import (
    DETAILS_MAX,
    REASON_MAX,
    RESPONSE_MAX,
    Concern,
    ConcernCategory,
    ConcernStatus,
)

# The meetings offered in "which meeting is it about": the past year's and the next
# three months', newest first, at most this many.
MEETINGS_OFFERED = 30
MEETINGS_LOOK_BACK = timedelta(days=365)
MEETINGS_LOOK_AHEAD = timedelta(days=90)

CHANGED = ("Someone else has just acted on this concern. Check what it says now before "
           "you do anything more.")


@dataclass(frozen=True)
class ConcernDetails:
    """What the raiser said. ``about`` is ``""``, ``forum-<id>`` or ``meeting-<id>``;
    ``name`` and ``email`` are read only for a signed-out raiser."""

    category: ConcernCategory
    details: str
    about: str = ""
    consent_to_publish: bool = False
    anonymous: bool = True
    name: str = ""
    email: str = ""


def get(partnership: Partnership, concern_id: int) -> Concern | None:
    concern = db.session.get(Concern, concern_id)
    return concern if concern is not None and concern.partnership_id == partnership.id else None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def by_token(partnership: Partnership, token: str) -> Concern | None:
    """The concern a signed-out raiser's private link is for, if the link is right."""
    if not 20 <= len(token) <= 100:
        return None
    return db.session.scalar(select(Concern).where(
        Concern.partnership_id == partnership.id, Concern.token_hash == _hash(token)))


def about_choices(user: permissions.Viewer, partnership: Partnership) -> list[tuple[str, str]]:
    """The forums and meetings of the partnership the person may see, as choices."""
    forums = db.session.scalars(select(Forum).where(
        Forum.partnership_id == partnership.id, permissions.forums_readable_by(user))
        .order_by(Forum.name))
    now = utcnow()
    meetings = db.session.scalars(select(Meeting).where(
        Meeting.partnership_id == partnership.id, permissions.meetings_visible_to(user),
        Meeting.starts_at >= now - MEETINGS_LOOK_BACK,
        Meeting.starts_at <= now + MEETINGS_LOOK_AHEAD)
        .order_by(Meeting.starts_at.desc(), Meeting.id).limit(MEETINGS_OFFERED))
    return ([(f"forum-{forum.id}", f"The forum: {forum.name}") for forum in forums]
            + [(f"meeting-{meeting.id}",
                f"The meeting: {meeting.title}, {format_uk(meeting.starts_at, 'date')}")
               for meeting in meetings])


def about_label(viewer: permissions.Viewer, concern: Concern) -> str:
    """What the concern is about, as ``viewer`` may be told ("" if nothing, or a
    members-only forum or meeting they may not see)."""
    if concern.meeting_id is not None:
        meeting = db.session.get(Meeting, concern.meeting_id)
        if meeting is not None and permissions.can_view_meeting(viewer, meeting):
            return f"The meeting: {meeting.title}, {format_uk(meeting.starts_at, 'date')}"
    if concern.forum_id is not None:
        forum = db.session.get(Forum, concern.forum_id)
        if forum is not None and permissions.can_read_forum(viewer, forum):
            return f"The forum: {forum.name}"
    return ""


def _check(actor: User | None, partnership: Partnership, details: ConcernDetails
           ) -> tuple[int | None, int | None]:
    """The service's own checks (the form makes the same ones, all at once)."""
    text = details.details.strip()
    if not text:
        raise ValidationError("Enter what happened", field="details")
    if len(text) > DETAILS_MAX:
        raise ValidationError(f"What happened must be {DETAILS_MAX} characters or fewer",
                              field="details")
    if actor is None:
        if not details.email.strip() or "@" not in details.email or len(details.email) > EMAIL_MAX:
            raise ValidationError("Enter an email address we can reply to", field="email")
        if len(details.name) > NAME_MAX:
            raise ValidationError(f"Your name must be {NAME_MAX} characters or fewer",
                                  field="name")
        if not details.anonymous and details.consent_to_publish and not details.name.strip():
            raise ValidationError("Enter your name, or choose not to show it publicly",
                                  field="name")
    forum_id = meeting_id = None
    if details.about:
        if details.about not in dict(about_choices(actor, partnership)):
            raise ValidationError("Choose a meeting or forum from the list", field="about")
        kind, _, number = details.about.partition("-")
        if kind == "forum":
            forum_id = int(number)
        else:
            meeting_id = int(number)
    return forum_id, meeting_id


def raise_concern(actor: User | None, partnership: Partnership,
                  details: ConcernDetails) -> tuple[Concern, str | None]:
    """Record a concern and email the raiser and the partnership's officers. Returns
    the concern and, for a signed-out raiser, the secret of their private link."""
    if not permissions.can_raise_concern(actor, partnership):
        raise PermissionDenied("You cannot raise a concern here.")
    forum_id, meeting_id = _check(actor, partnership, details)
    secret = secrets.token_urlsafe(32) if actor is None else None
    concern = Concern(
        partnership_id=partnership.id, raised_by_id=actor.id if actor else None,
        name=(actor.name if actor else details.name.strip()),
        email=None if actor else details.email.strip().lower(),
        token_hash=_hash(secret) if secret else None,
        category=details.category, details=details.details.strip(),
        forum_id=forum_id, meeting_id=meeting_id,
        consent_to_publish=details.consent_to_publish,
        anonymous=details.anonymous or not details.consent_to_publish,
        status=ConcernStatus.OPEN, raised_at=utcnow())
    db.session.add(concern)
    db.session.flush()
    _tell_raiser(concern, "concern_received",
                 f"We have received your concern about {partnership.name}", secret=secret)
    manage_url = url_for("concerns.show", slug=partnership.slug, concern_id=concern.id,
                         _external=True)
    for officer in _officers(partnership):
        mail.queue(officer.email, f"A concern has been raised about {partnership.name}",
                   "concern_raised", kind=Kind.CONCERNS_RAISED, recipient=officer,
                   partnership=partnership, concern=concern, url=manage_url)
    return concern, secret


def _officers(partnership: Partnership) -> Sequence[User]:
    return db.session.scalars(select(User).join(
        PartnershipOfficer, PartnershipOfficer.user_id == User.id).where(
        PartnershipOfficer.partnership_id == partnership.id, User.deleted_at.is_(None))
        .order_by(User.id)).all()


def raiser_email(concern: Concern) -> str | None:
    if concern.raised_by is not None and concern.raised_by.deleted_at is None:
        return concern.raised_by.email
    return concern.email


def follow_url(concern: Concern, secret: str | None) -> str:
    """Where the raiser sees their concern: the private link, or (signed in) its page."""
    slug = concern.partnership.slug
    if secret:
        return url_for("concerns.follow", slug=slug, token=secret, _external=True)
    return url_for("concerns.show", slug=slug, concern_id=concern.id, _external=True)


def _tell_raiser(concern: Concern, template: str, subject: str,
                 secret: str | None = None) -> None:
    to = raiser_email(concern)
    if to is None:
        return
    mail.queue(to, subject, template, kind=Kind.MY_CONCERN, recipient=concern.raised_by,
               concern=concern, partnership=concern.partnership,
               url=follow_url(concern, secret) if secret or concern.raised_by_id else "")


def _may_manage(actor: User, concern: Concern) -> None:
    if not permissions.can_manage_concerns(actor, concern.partnership):
        raise PermissionDenied("Only the partnership's officers can do that.")


def acknowledge(actor: User, concern: Concern) -> None:
    """Say the concern has been seen and is being looked into; the raiser is told."""
    _may_manage(actor, concern)
    if concern.status is not ConcernStatus.OPEN:
        raise Conflict(CHANGED)
    if not conditional.change(concern, conditional.unchanged(Concern.status, ConcernStatus.OPEN),
                              status=ConcernStatus.ACKNOWLEDGED, acknowledged_at=utcnow(),
                              acknowledged_by_id=actor.id):
        raise Conflict(CHANGED)
    audit.record(actor, "concern.acknowledged", "concern", concern.id)
    _tell_raiser(concern, "concern_acknowledged",
                 f"Your concern about {concern.partnership.name} has been acknowledged")


def respond(actor: User, concern: Concern, response: str) -> None:
    """Answer the concern in writing; the answer is emailed to the raiser and, with
    their consent, published with the concern."""
    _may_manage(actor, concern)
    text = response.strip()
    if not text:
        raise ValidationError("Enter your response", field="response")
    if len(text) > RESPONSE_MAX:
        raise ValidationError(f"The response must be {RESPONSE_MAX} characters or fewer",
                              field="response")
    status = concern.status
    if status not in (ConcernStatus.OPEN, ConcernStatus.ACKNOWLEDGED):
        raise Conflict("This concern has already been responded to.")
    now = utcnow()
    values: dict[str, object] = {"status": ConcernStatus.RESPONDED, "response": text,
                                 "responded_at": now, "responded_by_id": actor.id}
    if status is ConcernStatus.OPEN:
        values.update(acknowledged_at=now, acknowledged_by_id=actor.id)
    if not conditional.change(concern, conditional.unchanged(Concern.status, status), **values):
        raise Conflict("Someone else has just responded to this concern.")
    audit.record(actor, "concern.responded", "concern", concern.id)
    _tell_raiser(concern, "concern_responded",
                 f"A response to your concern about {concern.partnership.name}")


def close(actor: User, concern: Concern) -> None:
    """Nothing more to do: only after a response."""
    _may_manage(actor, concern)
    if concern.status is not ConcernStatus.RESPONDED:
        raise Conflict("Only a concern that has been responded to can be closed.")
    if not conditional.change(concern,
                              conditional.unchanged(Concern.status, ConcernStatus.RESPONDED),
                              status=ConcernStatus.CLOSED, closed_at=utcnow(),
                              closed_by_id=actor.id):
        raise Conflict(CHANGED)
    audit.record(actor, "concern.closed", "concern", concern.id)


def withhold(actor: User, concern: Concern, reason: str) -> None:
    """Keep a concern off the public list for good, saying why (the raiser sees it)."""
    _may_manage(actor, concern)
    text = reason.strip()
    if not text:
        raise ValidationError("Enter why the concern is not to be shown publicly",
                              field="reason")
    if len(text) > REASON_MAX:
        raise ValidationError(f"The reason must be {REASON_MAX} characters or fewer",
                              field="reason")
    if not concern.consent_to_publish:
        raise Conflict("The person who raised this concern did not agree to it being shown "
                       "publicly, so it will not be.")
    if not conditional.change(concern, Concern.withheld_at.is_(None), withheld_at=utcnow(),
                              withheld_by_id=actor.id, withheld_reason=text):
        raise Conflict("This concern has already been withheld from publication.")
    audit.record(actor, "concern.withheld", "concern", concern.id, reason=text)


def for_officers(partnership: Partnership, status: ConcernStatus | None = None
                 ) -> list[Concern]:
    """Open first (then acknowledged, responded, closed), oldest first within each."""
    order = {ConcernStatus.OPEN: 0, ConcernStatus.ACKNOWLEDGED: 1,
             ConcernStatus.RESPONDED: 2, ConcernStatus.CLOSED: 3}
    query = select(Concern).where(Concern.partnership_id == partnership.id)
    if status is not None:
        query = query.where(Concern.status == status)
    return list(db.session.scalars(query.order_by(
        case(order, value=Concern.status), Concern.raised_at, Concern.id)))


def status_counts(partnership: Partnership) -> dict[ConcernStatus, int]:
    rows = db.session.execute(select(Concern.status, func.count()).where(
        Concern.partnership_id == partnership.id).group_by(Concern.status)).all()
    found = {ConcernStatus(status): count for status, count in rows}
    return {status: found.get(status, 0) for status in ConcernStatus}


def published(partnership: Partnership) -> list[Concern]:
    """The public list: newest response first."""
    return list(db.session.scalars(select(Concern).where(
        Concern.partnership_id == partnership.id, permissions.concerns_published())
        .order_by(Concern.responded_at.desc(), Concern.id.desc())))
