"""Registration for a meeting: the person's answer (in person, online or apologies),
places against the meeting's capacity, and the waiting list.

**One change at a time per meeting.** Every change to a meeting's registrations or
places (answering, cancelling, an organiser removing someone, leaving the forum, a
new capacity) first locks the meeting's row (``conditional.lock``: an UPDATE that
changes nothing, so it works on SQLite as on PostgreSQL), then reads the
registrations it decides on. A decision is therefore never made on a state another
request has changed meanwhile: before this, a waiting person who cancelled at the
moment someone else's cancellation promoted them was marked cancelled while still
holding the place, which then stayed counted with nobody in it. Locks are always
taken in the same order (the meeting, then its registrations; meetings by id when
there are several), so two changes never wait for each other. A registration's own
change of state is also a conditional UPDATE on the state read (``conditional.change``).

**Places.** ``Meeting.places_taken`` counts the registrations holding a place. A
place is taken with a conditional UPDATE (``... WHERE capacity IS NULL OR
places_taken < capacity``); when it changes no row the person goes on the waiting
list instead, so two people asking for the last place at the same moment can never
both get it. When a place comes back the count is derived again from the
registrations holding one, in the same transaction, so it cannot drift from them.

**Which answers take a place.** At in-person and hybrid meetings only "in person"
does (online attendance is not limited by the room); at online meetings "online"
does. Apologies never do.

**The waiting list** is served in order of ``waiting_since`` (then id). Whenever a
place comes back (someone cancels, changes to an answer without a place, or an
organiser removes them, or the capacity rises) the next people are promoted with the
same conditional UPDATE, marked ``promoted_at`` and emailed.

Registration closes when the meeting starts; a cancelled meeting takes no
registrations and its registrations cannot be changed. A postponed meeting keeps its
registrations and stays open. Services flush; the caller commits.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from flask import url_for
from sqlalchemy import ColumnElement, CursorResult, and_, func, or_, select, update
from sqlalchemy.orm import aliased, joinedload

from .. import audit, conditional, mail, permissions
from ..accounts.models import User
from ..errors import Conflict, PermissionDenied, ValidationError
from ..extensions import db
from ..mail.kinds import Kind
from ..modelbase import utcnow
from ..organisations.models import Organisation, OrganisationMember, RequestStatus
from ..timeutil import format_uk
from .models import (
    ACCESS_MAX,
    Meeting,
    MeetingFormat,
    MeetingStatus,
    Registration,
    RegistrationStatus,
    Response,
)

# Spreadsheet programs run a cell starting with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# --- Rules ---------------------------------------------------------------------------------


def answers_for_format(meeting_format: MeetingFormat) -> list[Response]:
    """The answers a format allows, in the order the form offers them."""
    if meeting_format is MeetingFormat.IN_PERSON:
        return [Response.IN_PERSON, Response.APOLOGIES]
    if meeting_format is MeetingFormat.ONLINE:
        return [Response.ONLINE, Response.APOLOGIES]
    return [Response.IN_PERSON, Response.ONLINE, Response.APOLOGIES]


def answers_for(meeting: Meeting) -> list[Response]:
    """The answers the meeting's format allows, in the order the form offers them."""
    return answers_for_format(meeting.format)


def takes_place(meeting: Meeting, response: Response) -> bool:
    """Whether this answer counts against the meeting's capacity."""
    if response is Response.APOLOGIES:
        return False
    if meeting.format is MeetingFormat.ONLINE:
        return response is Response.ONLINE
    return response is Response.IN_PERSON


def closed_reason(meeting: Meeting, now: datetime | None = None) -> str:
    """Why registrations cannot be made or changed now, or "" if they can."""
    if meeting.is_cancelled:
        return "This meeting has been cancelled, so it is not taking registrations."
    if meeting.status is not MeetingStatus.POSTPONED and meeting.has_started(now):
        return "Registration closed when the meeting started."
    return ""


def _refuse_if_closed(meeting: Meeting) -> None:
    reason = closed_reason(meeting)
    if reason:
        raise Conflict(reason)


def shows_joining_link(meeting: Meeting, registration: Registration) -> bool:
    """Whether the person's emails carry the joining link: online or hybrid meetings,
    for those who hold a place or answered online."""
    return (meeting.format.is_online and registration.status is RegistrationStatus.CONFIRMED
            and (registration.holds_place or registration.response is Response.ONLINE))


# --- Loading -------------------------------------------------------------------------------


def organisations_of(user: User) -> list[Organisation]:
    """The organisations a person may say they represent: those they belong to."""
    return list(db.session.scalars(
        select(Organisation).join(OrganisationMember).where(
            OrganisationMember.user_id == user.id,
            OrganisationMember.status == RequestStatus.ACTIVE,
        ).order_by(Organisation.name)
    ))


def own_registration(meeting: Meeting, user: Any) -> Registration | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(Registration).where(
        Registration.meeting_id == meeting.id, Registration.user_id == user.id))


def _waiting_order() -> tuple[Any, ...]:
    return (Registration.waiting_since, Registration.id)


def registrations_for(meeting: Meeting) -> list[Registration]:
    """Everyone who answered, for the organisers (one query): those coming first, then
    the waiting list in order, then apologies and cancellations."""
    rows = list(db.session.scalars(
        select(Registration).where(Registration.meeting_id == meeting.id)
        .options(joinedload(Registration.user), joinedload(Registration.organisation))
    ))
    rank = {RegistrationStatus.CONFIRMED: 0, RegistrationStatus.WAITING: 1,
            RegistrationStatus.CANCELLED: 3}

    def key(row: Registration) -> tuple[Any, ...]:
        group = rank[row.status]
        if row.status is RegistrationStatus.CONFIRMED and row.response is Response.APOLOGIES:
            group = 2
        if row.status is RegistrationStatus.WAITING:
            return (group, row.waiting_since or row.created_at, row.id)
        return (group, row.display_name.casefold(), row.id)

    return sorted(rows, key=key)


def waiting_positions(rows: list[Registration]) -> dict[int, int]:
    """Position on the waiting list (1 = next), by registration id."""
    waiting = sorted((r for r in rows if r.status is RegistrationStatus.WAITING),
                     key=lambda r: (r.waiting_since or r.created_at, r.id))
    return {row.id: position for position, row in enumerate(waiting, start=1)}


@dataclass
class Counts:
    """How many people gave each answer, for the organisers."""

    in_person: int = 0
    online: int = 0
    apologies: int = 0
    waiting: int = 0
    cancelled: int = 0

    @property
    def attending(self) -> int:
        return self.in_person + self.online


def counts_from(rows: list[Registration]) -> Counts:
    """The counts of registrations already loaded (no query). Walk-ins, added when
    attendance is recorded, did not register and are not counted."""
    counts = Counts()
    for row in rows:
        if row.user_id is not None:
            _add(counts, row.status, row.response, 1)
    return counts


def _add(counts: Counts, status: RegistrationStatus, response: Response, number: int) -> None:
    if status is RegistrationStatus.WAITING:
        counts.waiting += number
    elif status is RegistrationStatus.CANCELLED:
        counts.cancelled += number
    else:
        setattr(counts, response.value, getattr(counts, response.value) + number)


def counts_for(meeting: Meeting) -> Counts:
    """One grouped query; as ``counts_from``, walk-ins are not registrations."""
    counts = Counts()
    rows = db.session.execute(
        select(Registration.status, Registration.response, func.count(Registration.id))
        .where(Registration.meeting_id == meeting.id, Registration.user_id.is_not(None))
        .group_by(Registration.status, Registration.response))
    for status, response, number in rows:
        _add(counts, status, response, number)
    return counts


def _own_with_position(meeting: Meeting, user: Any) -> tuple[Registration | None, int | None]:
    """The person's registration and, if they are waiting, their place in the queue
    (one query)."""
    if not getattr(user, "is_authenticated", False):
        return None, None
    mine = aliased(Registration)
    ahead = (
        select(func.count(Registration.id)).where(
            Registration.meeting_id == mine.meeting_id,
            Registration.status == RegistrationStatus.WAITING,
            or_(Registration.waiting_since < mine.waiting_since,
                and_(Registration.waiting_since == mine.waiting_since,
                     Registration.id < mine.id)))
        .correlate(mine).scalar_subquery()
    )
    row = db.session.execute(
        select(mine, ahead).where(mine.meeting_id == meeting.id, mine.user_id == user.id)
    ).first()
    if row is None:
        return None, None
    registration, before = row
    position = before + 1 if registration.status is RegistrationStatus.WAITING else None
    return registration, position


def page_context(meeting: Meeting, user: Any) -> dict[str, Any]:
    """The registration section of the meeting page: at most two queries (the
    person's own registration with their waiting position; counts for organisers)."""
    registration, position = _own_with_position(meeting, user)
    manages = permissions.can_manage_meeting(user, meeting)
    return {
        "my_registration": registration,
        "registration_position": position,
        "registration_closed": closed_reason(meeting),
        "registration_can_register": permissions.can_register_for_meeting(user, meeting),
        "registration_confirm_first": permissions.must_confirm_email_to_register(user, meeting),
        "registration_counts": counts_for(meeting) if manages else None,
    }


# --- Places --------------------------------------------------------------------------------

CHANGED_MEANWHILE = ("This registration changed while we were saving yours. Check it "
                     "below and try again.")


def lock(meeting: Meeting) -> None:
    """Lock the meeting's row until the transaction ends and have it read again: the
    first step of every change to its registrations or places (see the module's
    docstring). Read registrations after this, not before."""
    conditional.lock(meeting)


def _lock_open(meeting: Meeting) -> None:
    """``lock``, then refuse if the meeting closed while this request waited."""
    lock(meeting)
    _refuse_if_closed(meeting)


def _take_place(meeting: Meeting) -> bool:
    """Take one place if one is left: the only way ``places_taken`` goes up."""
    taken = cast(CursorResult[Any], db.session.execute(
        update(Meeting)
        .where(Meeting.id == meeting.id,
               or_(Meeting.capacity.is_(None), Meeting.places_taken < Meeting.capacity))
        .values(places_taken=Meeting.places_taken + 1)
        .execution_options(synchronize_session=False)
    )).rowcount
    db.session.expire(meeting, ["places_taken"])
    return taken == 1


def _count_places(meeting: Meeting) -> None:
    """Set ``places_taken`` to the number of registrations holding a place (with the
    meeting locked): how a place is given back, derived rather than decremented so
    the count cannot drift from the registrations."""
    db.session.flush()
    holders = (select(func.count(Registration.id))
               .where(Registration.meeting_id == meeting.id,
                      Registration.holds_place.is_(True))
               .scalar_subquery())
    db.session.execute(
        update(Meeting).where(Meeting.id == meeting.id).values(places_taken=holders)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(meeting, ["places_taken"])


def _release(meeting: Meeting, actor: User | None) -> None:
    """A registration stopped holding a place (saved, with the meeting locked): count
    the places again and fill the free one from the waiting list."""
    _count_places(meeting)
    promote_waiting(meeting, actor)


def promote_waiting(meeting: Meeting, actor: User | None = None) -> list[Registration]:
    """Give free places to the waiting list, in order, and email those promoted. The
    caller has locked the meeting (``lock``)."""
    if closed_reason(meeting):
        return []
    promoted: list[Registration] = []
    for _attempt in range(10_000):  # bounded: each pass promotes someone or stops
        candidate = db.session.scalar(
            select(Registration).where(Registration.meeting_id == meeting.id,
                                       Registration.status == RegistrationStatus.WAITING)
            .order_by(*_waiting_order()).limit(1))
        if candidate is None or not _take_place(meeting):
            break
        now = utcnow()
        if not conditional.change(
                candidate, Registration.status == RegistrationStatus.WAITING,
                status=RegistrationStatus.CONFIRMED, holds_place=True, promoted_at=now,
                updated_at=now):
            # Someone moved them first (only possible if they changed it without the
            # meeting's lock): put the place back and go on.
            _count_places(meeting)
            continue
        promoted.append(candidate)
        audit.record(actor, "meeting.registration_promoted", "meeting", meeting.id,
                     registration_id=candidate.id, user_id=candidate.user_id)
        _email(meeting, candidate, "promoted", f"You have a place: {meeting.title} "
               f"({meeting.host_name}), {format_uk(meeting.starts_at)}")
    return promoted


def capacity_changed(meeting: Meeting, actor: User | None = None) -> list[Registration]:
    """Call after an organiser changed the capacity (``scheduling.update``, which has
    locked the meeting before checking the new capacity against ``places_taken``): if
    it rose (or was removed) the waiting list is promoted into the new places.
    Harmless otherwise."""
    db.session.flush()
    db.session.expire(meeting, ["places_taken", "capacity"])
    return promote_waiting(meeting, actor)


# --- The person's answer -------------------------------------------------------------------


@dataclass
class Answer:
    """What a person says about a meeting."""

    response: Response | None
    access_requirements: str = ""
    organisation_id: int | None = None


def _check(actor: User, meeting: Meeting, answer: Answer) -> Organisation | None:
    allowed = answers_for(meeting)
    if answer.response not in allowed:
        raise ValidationError(missing_answer_message(meeting), field="response")
    if len(answer.access_requirements or "") > ACCESS_MAX:
        raise ValidationError(f"Access requirements must be {ACCESS_MAX} characters or fewer",
                              field="access_requirements")
    if answer.organisation_id is None:
        return None
    organisation = next((o for o in organisations_of(actor) if o.id == answer.organisation_id),
                        None)
    if organisation is None:
        raise ValidationError("Select one of your organisations, or that you are not "
                              "representing one", field="organisation_id")
    return organisation


def missing_answer_message(meeting: Meeting) -> str:
    options = {
        MeetingFormat.IN_PERSON: "Select whether you will attend in person or send apologies",
        MeetingFormat.ONLINE: "Select whether you will attend online or send apologies",
        MeetingFormat.HYBRID: "Select whether you will attend in person, attend online or "
                              "send apologies",
    }
    return options[meeting.format]


class AlreadyAnswered(Exception):
    """The form was filled in from an answer that is no longer the person's answer:
    another tab (or a second tap) sent one since. Nothing is changed. Not a
    ``Conflict``: the registration page answers it by showing the current answer to
    change, not with the error page a conflict gets."""


def answer_version(registration: Registration | None) -> str:
    """What a registration form was filled in from, sent back with it: "new" when the
    person had no answer (or had cancelled), else the answer's id and last change."""
    if registration is None or registration.status is RegistrationStatus.CANCELLED:
        return "new"
    return f"{registration.id}-{registration.updated_at.timestamp():.6f}"


def register(actor: User, meeting: Meeting, answer: Answer,
             seen: str | None = None) -> tuple[Registration, str]:
    """Record or change the person's answer. Returns the registration and what happened:
    "confirmed" (a place, or no place needed), "waiting", "apologies" or "unchanged".

    Changing to an answer without a place gives the place back (and promotes the next
    person waiting). Someone already waiting keeps their turn if they still want a place.
    ``seen`` is ``answer_version`` of what the form was filled in from: if the answer
    has changed since (a second tab), ``AlreadyAnswered`` and nothing changes, so one
    tab never wipes what another sent (its access requirements, say).
    """
    if not permissions.can_register_for_meeting(actor, meeting):
        raise PermissionDenied("You cannot register for this meeting.")
    _refuse_if_closed(meeting)
    _check(actor, meeting, answer)
    response = answer.response
    assert response is not None  # checked above
    _lock_open(meeting)
    registration = own_registration(meeting, actor)
    if registration is not None:
        db.session.refresh(registration)  # as it is now, with the meeting locked
    if seen is not None and seen != answer_version(registration):
        raise AlreadyAnswered("You are already registered for this meeting. Your answer "
                              "is below: change it here if you need to.")
    is_new = registration is None
    was_active = (registration is not None
                  and registration.status is not RegistrationStatus.CANCELLED)
    before = None if registration is None else (
        registration.response, registration.status, registration.access_requirements,
        registration.organisation_id)
    if registration is None:
        registration = Registration(meeting_id=meeting.id, user_id=actor.id,
                                    response=response, holds_place=False,
                                    status=RegistrationStatus.CONFIRMED)
    registration.access_requirements = answer.access_requirements or ""
    registration.organisation_id = answer.organisation_id
    registration.response = response
    needs_place = takes_place(meeting, response)

    if registration.holds_place and not needs_place:
        registration.status = RegistrationStatus.CONFIRMED
        registration.waiting_since = None
        registration.holds_place = False
        _release(meeting, actor)
    elif registration.holds_place:
        registration.status = RegistrationStatus.CONFIRMED
    elif not needs_place:
        registration.status = RegistrationStatus.CONFIRMED
        registration.waiting_since = None
    elif was_active and registration.status is RegistrationStatus.WAITING:
        pass  # keeps their turn
    elif _take_place(meeting):
        registration.status = RegistrationStatus.CONFIRMED
        registration.holds_place = True
        registration.waiting_since = None
        registration.promoted_at = None
    else:
        registration.status = RegistrationStatus.WAITING
        registration.waiting_since = utcnow()
        registration.promoted_at = None
    if is_new:
        db.session.add(registration)
    db.session.flush()

    after = (registration.response, registration.status, registration.access_requirements,
             registration.organisation_id)
    if before == after and was_active:
        return registration, "unchanged"
    if registration.status is RegistrationStatus.WAITING:
        outcome = "waiting"
    elif response is Response.APOLOGIES:
        outcome = "apologies"
    else:
        outcome = "confirmed"
    audit.record(actor, "meeting.registered" if not was_active else "meeting.registration_changed",
                 "meeting", meeting.id, registration_id=registration.id,
                 response=response.value, status=registration.status.value)
    when = format_uk(meeting.starts_at)
    if outcome == "waiting":
        if not (was_active and before is not None
                and before[1] is RegistrationStatus.WAITING):
            _email(meeting, registration, "waiting",
                   f"You are on the waiting list: {meeting.title} "
                   f"({meeting.host_name}), {when}")
    else:
        subject = ("Your apologies have been sent" if outcome == "apologies"
                   else "You are registered")
        _email(meeting, registration, "confirmed",
               f"{subject}: {meeting.title} ({meeting.host_name}), {when}")
    return registration, outcome


def _mark_cancelled(actor: User | None, registration: Registration, action: str,
                    **details: Any) -> bool:
    """Mark the registration cancelled (the row stays, for the record and the count) and
    note it in the audit log. The caller has locked the meeting and read the
    registration since; the change is conditional on the state read all the same.
    Returns whether it held a place, for the caller to pass on (``_release``) once it
    has told whom it must."""
    held = registration.holds_place
    if not conditional.change(
            registration, Registration.status == registration.status,
            Registration.holds_place.is_(held), status=RegistrationStatus.CANCELLED,
            holds_place=False, waiting_since=None, updated_at=utcnow()):
        raise Conflict(CHANGED_MEANWHILE)
    audit.record(actor, action, "meeting", registration.meeting_id,
                 registration_id=registration.id, **details)
    return held


def _lock_and_read(registration: Registration) -> Meeting:
    """Lock the registration's meeting (refusing if it has closed) and read the
    registration again: the state a cancellation decides on."""
    meeting = registration.meeting
    _lock_open(meeting)
    db.session.refresh(registration)
    return meeting


def cancel(actor: User, registration: Registration) -> None:
    """The person withdraws their registration. The row is kept, marked cancelled; a
    place it held goes to the next person waiting."""
    if registration.user_id != actor.id:
        raise PermissionDenied("You can only cancel your own registration.")
    _refuse_if_closed(registration.meeting)
    meeting = _lock_and_read(registration)
    if registration.status is RegistrationStatus.CANCELLED:
        raise Conflict("Your registration is already cancelled.")
    if _mark_cancelled(actor, registration, "meeting.registration_cancelled"):
        _release(meeting, actor)


def forum_left(actor: User | None, user: User, forum_id: int) -> int:
    """``user`` left, or was removed or banned from, a forum: they can no longer see its
    members-only meetings, so their registrations for those still to come are cancelled
    and any places they held go to the people waiting (who are emailed as usual). They
    are not emailed about each meeting: the forum's own email has told them. Someone
    who still runs the forum (an officer) keeps theirs. Returns how many were cancelled."""
    return _cancel_unseeable(actor, user, Meeting.forum_id == forum_id,
                             "no longer a member of the forum")


def partnership_access_lost(actor: User | None, user: User) -> int:
    """``user`` is no longer one of a partnership's people (they left or were removed
    from a member organisation, or stopped being an officer): as ``forum_left``, for
    the members-only meetings of partnerships themselves that they can no longer see.
    Someone still inside through another organisation (or as an officer) keeps theirs."""
    return _cancel_unseeable(actor, user, Meeting.forum_id.is_(None),
                             "no longer one of the partnership's people")


def _cancel_unseeable(actor: User | None, user: User, hosts: ColumnElement[bool],
                      reason: str) -> int:
    """Cancel ``user``'s live registrations for members-only meetings still to come,
    among ``hosts``, that they may no longer see (``permissions.can_view_meeting``,
    asked after the change), passing on any place they held.

    Meetings are locked one by one in order of id, as everywhere that locks several."""
    from ..forums.models import Visibility

    permissions.forget_forum_access()  # membership changed within this request
    rows = list(db.session.scalars(
        select(Registration).join(Meeting, Meeting.id == Registration.meeting_id)
        .options(joinedload(Registration.meeting))
        .where(Registration.user_id == user.id,
               Registration.status != RegistrationStatus.CANCELLED,
               hosts, Meeting.visibility == Visibility.MEMBERS,
               Meeting.status != MeetingStatus.CANCELLED)
        .order_by(Meeting.id)))
    cancelled = 0
    for registration in rows:
        meeting = registration.meeting
        lock(meeting)
        db.session.refresh(registration)
        if (registration.status is RegistrationStatus.CANCELLED or closed_reason(meeting)
                or permissions.can_view_meeting(user, meeting)):
            continue
        if _mark_cancelled(actor, registration, "meeting.registration_cancelled",
                           user_id=user.id, reason=reason):
            _release(meeting, actor)
        cancelled += 1
    return cancelled


def remove(actor: User, registration: Registration) -> None:
    """An organiser takes someone off the list (for example a duplicate, or someone who
    said they cannot come). They are emailed; a place they held is passed on."""
    meeting = registration.meeting
    if not permissions.can_manage_meeting(actor, meeting):
        raise PermissionDenied("Only the meeting's organisers can remove someone.")
    _refuse_if_closed(meeting)
    _lock_and_read(registration)
    if registration.status is RegistrationStatus.CANCELLED:
        raise Conflict("This registration is already cancelled.")
    held = _mark_cancelled(actor, registration, "meeting.registration_removed",
                           user_id=registration.user_id)
    _email(meeting, registration, "removed",
           f"Your registration was cancelled: {meeting.title} ({meeting.host_name}), "
           f"{format_uk(meeting.starts_at)}")
    if held:
        _release(meeting, actor)


def get_registration(meeting: Meeting, registration_id: int) -> Registration | None:
    return db.session.scalar(select(Registration).where(
        Registration.id == registration_id, Registration.meeting_id == meeting.id)
        .options(joinedload(Registration.user)))


def _email(meeting: Meeting, registration: Registration, kind: str, subject: str) -> None:
    user = registration.user if registration.user_id is not None else None
    if user is None or not user.email or not permissions.can_view_meeting(user, meeting):
        return  # someone who has left a members-only meeting's forum hears nothing more
    mail.queue(user.email, subject, f"meeting_registration_{kind}", kind=Kind.MY_MEETING,
               recipient=user, user=user,
               meeting=meeting, registration=registration,
               joining_link=shows_joining_link(meeting, registration),
               meeting_url=url_for("meetings.show", meeting_id=meeting.id, _external=True))


# --- Export --------------------------------------------------------------------------------


CSV_COLUMNS = ["Name", "Email", "Organisation", "Answer", "Status", "Waiting order",
               "Access requirements", "Registered", "Promoted from waiting list"]


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will show as text, never run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def export_csv(meeting: Meeting, rows: list[Registration]) -> str:
    """The registrations as CSV with a header row (the caller encodes it as UTF-8)."""
    positions = waiting_positions(rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        organisation = (row.organisation.name if row.organisation is not None
                        else row.walk_in_organisation)
        writer.writerow([_cell(value) for value in (
            row.display_name,
            row.user.email if row.user is not None else "",
            organisation,
            row.response.label,
            status_label(row),
            positions.get(row.id, ""),
            row.access_requirements,
            format_uk(row.created_at),
            format_uk(row.promoted_at) if row.promoted_at else "",
        )])
    return out.getvalue()


def status_label(registration: Registration) -> str:
    if registration.status is RegistrationStatus.WAITING:
        return "Waiting list"
    if registration.status is RegistrationStatus.CANCELLED:
        return "Cancelled"
    if registration.response is Response.APOLOGIES:
        return "Apologies"
    return "Has a place" if registration.holds_place else "Confirmed"
