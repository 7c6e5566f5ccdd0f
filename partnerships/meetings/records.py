"""The record of a meeting, once it has started: attendance (registrants, walk-ins and
everyone else who may be on the list: ``attendance_people``), minutes per agenda item
with a summary, decisions, and actions with their updates; and each person's own
actions.

Rules that hold here:
- Nothing is recorded before a meeting starts, nor for a cancelled or postponed one:
  minutes of a meeting that did not happen would be fiction.
- Minutes go draft -> published. Draft minutes are for the organisers only; once
  published they follow the meeting's visibility. Attendance names are for the forum's
  members and organisers; everyone else sees only the counts.
- An action is live work, not just text in the minutes: its owner is emailed when it
  is assigned, it can be updated (note + status) by its owner, an admin of its owning
  organisation or the organisers, and while open it is carried to the next meeting of
  the forum under "matters arising" (``queries.open_actions_before``).

Services take the acting user, flush and never commit; the views commit once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from flask import url_for
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import joinedload, selectinload

from .. import audit, conditional, mail, permissions
from ..accounts.models import User
from ..errors import Conflict, PermissionDenied, ValidationError
from ..extensions import db
from ..forums.models import Forum
from ..mail.kinds import Kind
from ..modelbase import utcnow
from ..organisations.models import MemberRole, Organisation, OrganisationMember, RequestStatus
from ..timeutil import format_deadline, to_uk, today_uk
from . import hosts
from .models import (
    ActionItem,
    ActionStatus,
    ActionUpdate,
    AgendaItem,
    Attendance,
    AttendanceMark,
    Decision,
    Meeting,
    MinutesStatus,
    Registration,
    RegistrationStatus,
    Response,
)

CLOSED_ACTIONS_SHOWN = 50


# --- When a meeting can be recorded ----------------------------------------------------------


def refusal(meeting: Meeting) -> str | None:
    """Why nothing can be recorded for this meeting yet (or ever), or None."""
    if meeting.is_cancelled:
        return "This meeting was cancelled, so there is no attendance or minutes to record."
    if meeting.is_postponed:
        return ("This meeting is postponed, so there is nothing to record until it has "
                "taken place.")
    if not meeting.has_started():
        return ("This meeting has not started yet. You can record attendance, minutes, "
                "decisions and actions once it has begun.")
    return None


def _check_recordable(actor: User, meeting: Meeting) -> None:
    if not permissions.can_manage_meeting(actor, meeting):
        raise PermissionDenied("Only the forum's convenors and the partnership's officers "
                               "can record the meeting")
    reason = refusal(meeting)
    if reason:
        raise Conflict(reason)


# --- Attendance ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceCounts:
    present: int = 0
    apologies: int = 0
    absent: int = 0
    unmarked: int = 0

    @property
    def recorded(self) -> bool:
        return bool(self.present or self.apologies or self.absent)


@dataclass(frozen=True)
class Attendee:
    """One line of the attendance list: someone who registered (or walked in), whose
    attendance is kept on their registration, or someone else who may be on the list
    (``attendance_people``), whose attendance is an ``AttendanceMark`` if ticked."""

    key: str                      # in the form: the registration's id, or "member-<user id>"
    name: str
    organisation: str
    said: str                     # what they told us beforehand, for the hint
    attendance: Attendance | None
    registration: Registration | None = None
    user_id: int | None = None

    @property
    def suggested(self) -> Attendance | None:
        """What the form shows before anyone ticks: the mark, or apologies sent when
        registering."""
        if self.attendance is not None:
            return self.attendance
        if self.registration is not None and self.registration.response is Response.APOLOGIES:
            return Attendance.APOLOGIES
        return None


MEMBER_KEY = "member-"


def attendance_people(meeting: Meeting) -> Select[tuple[int]]:
    """Who may be ticked on the attendance list besides the people who registered, as
    the ids of users (a selection, so that the list stays one query): the host's
    members and organisers (``hosts.members_and_organisers``: a forum's active members
    and convenors; a partnership's officers and its member organisations' people).
    This is the one place that decides it."""
    return select(User.id).where(hosts.members_and_organisers(meeting))


def _from_registration(registration: Registration) -> Attendee:
    organisation = (registration.organisation.name if registration.organisation is not None
                    else registration.walk_in_organisation)
    said = "Walk-in" if registration.user_id is None else (
        f"Registered: {registration.response.label.lower()}")
    if registration.status is RegistrationStatus.WAITING:
        said += " (was on the waiting list)"
    return Attendee(key=str(registration.id), name=registration.display_name,
                    organisation=organisation, said=said,
                    attendance=registration.attendance, registration=registration,
                    user_id=registration.user_id)


def attendance_list(meeting: Meeting) -> list[Attendee]:
    """Everyone on the attendance list, by name, in two queries: the people who
    registered (and did not cancel) or walked in, then everyone else from
    ``attendance_people`` and anyone already marked (who stays on the list even if they
    have since left the forum, so the record does not change)."""
    rows = list(db.session.scalars(
        select(Registration)
        .options(joinedload(Registration.user), joinedload(Registration.organisation))
        .where(Registration.meeting_id == meeting.id)
        .order_by(Registration.id)))
    live = [row for row in rows if row.status is not RegistrationStatus.CANCELLED]
    registered = {row.user_id for row in live if row.user_id is not None}
    cancelled = {row.user_id for row in rows if row.status is RegistrationStatus.CANCELLED}
    others = db.session.execute(
        select(User.id, User.name, AttendanceMark.attendance)
        .outerjoin(AttendanceMark, and_(AttendanceMark.meeting_id == meeting.id,
                                        AttendanceMark.user_id == User.id))
        .where(or_(User.id.in_(attendance_people(meeting)), AttendanceMark.id.is_not(None)),
               or_(User.deleted_at.is_(None), AttendanceMark.id.is_not(None)))
        .order_by(User.id))
    entries = [_from_registration(row) for row in live] + [
        Attendee(key=f"{MEMBER_KEY}{row.id}", name=row.name, organisation="",
                 said=("Cancelled their registration" if row.id in cancelled
                       else "Did not register"),
                 attendance=row.attendance, user_id=row.id)
        for row in others if row.id not in registered]
    return sorted(entries, key=lambda entry: (entry.name.casefold(), entry.key))


def recorded_counts(meeting: Meeting) -> AttendanceCounts:
    """How many on ``attendance_list`` are marked present, apologies and absent (not
    how many are unmarked), in one query that reads no names and no one who is not
    marked: what the meeting page shows someone who may not see the names. Agrees with
    ``count_attendance(attendance_list(meeting))`` on those three counts: a person
    with a registration (not cancelled) counts by its mark, anyone else by their
    ``AttendanceMark``."""
    rows = db.session.execute(_recorded_counts_statement(),
                              {"meeting_id": meeting.id}).tuples()
    return AttendanceCounts(**{Attendance(value).value: count for value, count in rows})


@cache
def _recorded_counts_statement() -> Any:
    """``recorded_counts``' statement (parameter ``meeting_id``), built once."""
    meeting_id: Any = bindparam("meeting_id")
    live = and_(Registration.meeting_id == meeting_id,
                Registration.status != RegistrationStatus.CANCELLED)
    registered = select(Registration.user_id).where(live, Registration.user_id.is_not(None))
    marks = union_all(
        select(Registration.attendance.label("attendance"))
        .where(live, Registration.attendance.is_not(None)),
        select(AttendanceMark.attendance.label("attendance"))
        .where(AttendanceMark.meeting_id == meeting_id,
               AttendanceMark.user_id.not_in(registered))).subquery()
    return select(marks.c.attendance, func.count()).group_by(marks.c.attendance)


def count_attendance(entries: list[Attendee]) -> AttendanceCounts:
    tally: dict[str, int] = defaultdict(int)
    for entry in entries:
        tally[entry.attendance.value if entry.attendance else "unmarked"] += 1
    return AttendanceCounts(**tally)


def record_attendance(actor: User, meeting: Meeting,
                      marks: dict[str, Attendance | None]) -> int:
    """Mark each person on the list present, apologies or absent (None leaves them
    unmarked), by their key in ``attendance_list``. Returns how many marks changed.
    The meeting's row is locked first, so two organisers saving at once take turns
    rather than both adding the same person's mark."""
    _check_recordable(actor, meeting)
    conditional.lock(meeting)
    saved = {mark.user_id: mark for mark in db.session.scalars(
        select(AttendanceMark).where(AttendanceMark.meeting_id == meeting.id))}
    changed = 0
    for entry in attendance_list(meeting):
        if entry.key not in marks or entry.attendance is marks[entry.key]:
            continue
        mark = marks[entry.key]
        changed += 1
        if entry.registration is not None:
            entry.registration.attendance = mark
            continue
        assert entry.user_id is not None  # every other entry is a person
        row = saved.get(entry.user_id)
        if mark is None and row is not None:
            db.session.delete(row)
        elif row is not None and mark is not None:
            row.attendance = mark
        elif mark is not None:
            db.session.add(AttendanceMark(meeting_id=meeting.id, user_id=entry.user_id,
                                          attendance=mark))
    db.session.flush()
    if changed:
        audit.record(actor, "meeting.attendance_recorded", "meeting", meeting.id,
                     changed=changed)
    return changed


def add_walk_in(actor: User, meeting: Meeting, name: str, organisation: str = "") -> Registration:
    """Someone who came without registering: present, and holding no counted place."""
    _check_recordable(actor, meeting)
    if not name.strip():
        raise ValidationError("Enter the name of the person who came", field="name")
    registration = Registration(
        meeting_id=meeting.id, user_id=None, walk_in_name=name.strip(),
        walk_in_organisation=organisation.strip(), response=Response.IN_PERSON,
        status=RegistrationStatus.CONFIRMED, holds_place=False,
        attendance=Attendance.PRESENT)
    db.session.add(registration)
    db.session.flush()
    audit.record(actor, "meeting.walk_in_added", "meeting", meeting.id,
                 registration_id=registration.id, name=registration.walk_in_name)
    return registration


# --- Minutes ---------------------------------------------------------------------------------


def save_minutes(actor: User, meeting: Meeting, summary: str,
                 item_minutes: dict[int, str]) -> bool:
    """Save the summary and the minutes of each item. Draft minutes stay draft;
    corrections to published minutes are allowed and audited. Returns whether anything
    changed."""
    _check_recordable(actor, meeting)
    changed = meeting.minutes_summary != summary
    meeting.minutes_summary = summary
    for item in meeting.items:
        if item.id in item_minutes and item.minutes != item_minutes[item.id]:
            item.minutes = item_minutes[item.id]
            changed = True
    if meeting.minutes_status is MinutesStatus.NONE:
        meeting.minutes_status = MinutesStatus.DRAFT
    db.session.flush()
    if changed:
        audit.record(actor, "meeting.minutes_corrected" if meeting.minutes_published
                     else "meeting.minutes_saved", "meeting", meeting.id)
    return changed


def has_minutes(meeting: Meeting) -> bool:
    """Whether anything has been written (summary, item minutes or a decision)."""
    if meeting.minutes_summary.strip() or any(item.minutes.strip() for item in meeting.items):
        return True
    return db.session.scalar(
        select(Decision.id).where(Decision.meeting_id == meeting.id).limit(1)) is not None


AGENDA_NEVER_PUBLISHED = ("The agenda of this meeting was never published. Confirm that "
                          "you want to publish the minutes: they make the items they cover "
                          "readable by everyone who can see the meeting.")


def needs_agenda_confirmation(meeting: Meeting) -> bool:
    """Publishing the minutes of a meeting whose agenda was never published makes the
    items they cover visible for the first time, so the organiser confirms it knowingly."""
    return not meeting.agenda_published


def covered_items(meeting: Meeting, decisions: list[Decision] | None = None,
                  actions: list[ActionItem] | None = None) -> list[tuple[int, AgendaItem]]:
    """The agenda items the minutes cover, with their numbers: those with minutes, a
    decision or an action. Published minutes show exactly these (the rest of a draft
    agenda stays with the organisers). Loads the item ids of decisions and actions
    (one query) unless given."""
    if decisions is None or actions is None:
        ids = set(db.session.scalars(union(
            select(Decision.item_id).where(Decision.meeting_id == meeting.id),
            select(ActionItem.item_id).where(ActionItem.meeting_id == meeting.id))))
    else:
        ids = {row.item_id for row in decisions} | {row.item_id for row in actions}
    return [(number, item) for number, item in enumerate(meeting.items, start=1)
            if item.minutes.strip() or item.id in ids]


def publish_minutes(actor: User, meeting: Meeting, agenda_confirmed: bool = False) -> int:
    """Publish (approve) the minutes: from now on everyone who can see the meeting can
    read them. The forum's members and the people who came are emailed. Returns the
    number of emails queued. If the agenda was never published the organiser must have
    confirmed it (``agenda_confirmed``), having been told which items become visible."""
    _check_recordable(actor, meeting)
    if meeting.minutes_published:
        raise Conflict("The minutes of this meeting are already published.")
    if not has_minutes(meeting):
        raise ValidationError("Write the minutes before publishing them", field="summary")
    if needs_agenda_confirmation(meeting) and not agenda_confirmed:
        raise ValidationError(AGENDA_NEVER_PUBLISHED, field="agenda_confirmed")
    meeting.minutes_status = MinutesStatus.PUBLISHED
    meeting.minutes_published_at = utcnow()
    db.session.flush()
    audit.record(actor, "meeting.minutes_published", "meeting", meeting.id)
    url = url_for("meetings.show", meeting_id=meeting.id, _external=True) + "#minutes"
    people = _minutes_readers(meeting)
    for person in people:
        mail.queue(person.email,
                   f"Minutes published in {meeting.host_name}: {meeting.title}",
                   "meeting_minutes_published", kind=Kind.MEETING_MINUTES, recipient=person,
                   scope=meeting.forum or meeting.partnership, user=person, meeting=meeting,
                   meeting_url=url)
    return len(people)


def _minutes_readers(meeting: Meeting) -> list[User]:
    """The host's members (``hosts.members``) and, for a public meeting, the people who
    came."""
    condition: ColumnElement[bool] = hosts.members(meeting)
    if meeting.is_public:
        came = union(
            select(Registration.user_id).where(
                Registration.meeting_id == meeting.id,
                Registration.attendance == Attendance.PRESENT,
                Registration.user_id.is_not(None)),
            select(AttendanceMark.user_id).where(
                AttendanceMark.meeting_id == meeting.id,
                AttendanceMark.attendance == Attendance.PRESENT)).subquery()
        condition = or_(condition, User.id.in_(select(came.c[0])))
    return list(db.session.scalars(
        select(User).where(condition, User.deleted_at.is_(None)).order_by(User.id)))


# --- Decisions and actions -------------------------------------------------------------------


def _item_of(meeting: Meeting, item_id: int | None) -> AgendaItem | None:
    if item_id is None:
        return None
    item = next((item for item in meeting.items if item.id == item_id), None)
    if item is None:
        raise ValidationError("Select an agenda item of this meeting", field="item_id")
    return item


def add_decision(actor: User, meeting: Meeting, text: str,
                 item_id: int | None = None) -> Decision:
    _check_recordable(actor, meeting)
    if not text.strip():
        raise ValidationError("Enter what was decided", field="text")
    _item_of(meeting, item_id)
    decision = Decision(meeting_id=meeting.id, item_id=item_id, text=text.strip(),
                        created_by_id=actor.id)
    db.session.add(decision)
    db.session.flush()
    audit.record(actor, "meeting.decision_added", "meeting", meeting.id,
                 decision_id=decision.id)
    return decision


def people_choices(meeting: Meeting) -> list[tuple[int, str]]:
    """Who can own an action: the host's members and organisers
    (``hosts.members_and_organisers``), in one query."""
    rows = db.session.execute(
        select(User.id, User.name)
        .where(hosts.members_and_organisers(meeting), User.deleted_at.is_(None))
        .order_by(User.name, User.id))
    return [(row.id, row.name) for row in rows]


def organisation_choices(meeting: Meeting) -> list[tuple[int, str]]:
    """Organisations that can own an action: those the forum's members and convenors
    represent, and the partnership's member organisations (one query)."""
    rows = db.session.execute(
        select(Organisation.id, Organisation.name)
        .where(Organisation.id.in_(hosts.organisation_ids(meeting)))
        .order_by(Organisation.name, Organisation.id))
    return [(row.id, row.name) for row in rows]


def _host_word(meeting: Meeting) -> str:
    return "forum" if meeting.forum_id is not None else "partnership"


@dataclass
class ActionDetails:
    description: str
    owner_id: int | None = None
    owner_organisation_id: int | None = None
    due_date: date | None = None
    item_id: int | None = None
    # The organiser's explicit "yes, this was already due before the meeting".
    already_due: bool = False


def recorded_day(meeting: Meeting) -> date:
    """The UK calendar day of the meeting: what dates in its record are compared with."""
    return to_uk(meeting.starts_at).date()


def early_due_date_problem(meeting_day: date, due: date | None, already_due: bool) -> str | None:
    """Why a due date cannot be saved as it is, or None. An action agreed at a meeting is
    due on or after the day of the meeting: a date before it is nearly always a typo
    (2025 for 2026) that would show the action as "Overdue" on the next public agenda,
    so it is refused unless the organiser confirms it really was due already. The one
    rule for the record's dates, used by the service and, to list every error at once,
    by the form."""
    if due is None or due >= meeting_day or already_due:
        return None
    return (f"The due date must be on or after the day of the meeting "
            f"({format_deadline(meeting_day)}). Check it, or tick the box if it really was "
            "due before the meeting")


def _check_action(meeting: Meeting, details: ActionDetails) -> None:
    if not details.description.strip():
        raise ValidationError("Enter what is to be done", field="description")
    early = early_due_date_problem(recorded_day(meeting), details.due_date,
                                   details.already_due)
    if early:
        raise ValidationError(early, field="due_date")
    if details.owner_id is None and details.owner_organisation_id is None:
        raise ValidationError("Choose who will do it: a person, an organisation or both",
                              field="owner_id")
    if details.owner_id is not None and details.owner_id not in dict(people_choices(meeting)):
        raise ValidationError(f"Select a member of the {_host_word(meeting)} from the list",
                              field="owner_id")
    if (details.owner_organisation_id is not None
            and details.owner_organisation_id not in dict(organisation_choices(meeting))):
        raise ValidationError("Select an organisation from the list",
                              field="owner_organisation_id")
    _item_of(meeting, details.item_id)


def add_action(actor: User, meeting: Meeting, details: ActionDetails) -> ActionItem:
    """Record an action and tell its owner."""
    _check_recordable(actor, meeting)
    _check_action(meeting, details)
    action = ActionItem(
        meeting_id=meeting.id, forum_id=meeting.forum_id, item_id=details.item_id,
        description=details.description.strip(), owner_id=details.owner_id,
        owner_organisation_id=details.owner_organisation_id, due_date=details.due_date,
        status=ActionStatus.OPEN, created_by_id=actor.id)
    db.session.add(action)
    db.session.flush()
    audit.record(actor, "meeting.action_added", "meeting", meeting.id, action_id=action.id,
                 owner_id=action.owner_id, owner_organisation_id=action.owner_organisation_id)
    _tell_owner(action, meeting)
    return action


def edit_action(actor: User, action: ActionItem, details: ActionDetails) -> bool:
    """Organisers correct an action (wording, owner, due date, item). A new owner is
    emailed. Returns whether anything changed."""
    meeting = action.meeting
    if not permissions.can_manage_meeting(actor, meeting):
        raise PermissionDenied("Only the forum's organisers can change an action")
    _check_action(meeting, details)
    new_owner = (details.owner_id != action.owner_id
                 or details.owner_organisation_id != action.owner_organisation_id)
    values = {"description": details.description.strip(), "owner_id": details.owner_id,
              "owner_organisation_id": details.owner_organisation_id,
              "due_date": details.due_date, "item_id": details.item_id}
    changed = {name: value for name, value in values.items()
               if getattr(action, name) != value}
    for name, value in changed.items():
        setattr(action, name, value)
    db.session.flush()
    if changed:
        audit.record(actor, "meeting.action_changed", "meeting_action", action.id,
                     fields=sorted(changed))
    if new_owner:
        _tell_owner(action, meeting)
    return bool(changed)


def _tell_owner(action: ActionItem, meeting: Meeting) -> None:
    """Email the person who owns the action or, for an organisation alone, its admins."""
    if action.owner_id is not None:
        owner = db.session.get(User, action.owner_id)
        people = [owner] if owner is not None and owner.is_active else []
    elif action.owner_organisation_id is not None:
        people = list(db.session.scalars(
            select(User).join(OrganisationMember, OrganisationMember.user_id == User.id)
            .where(OrganisationMember.organisation_id == action.owner_organisation_id,
                   OrganisationMember.role == MemberRole.ADMIN,
                   OrganisationMember.status == RequestStatus.ACTIVE,
                   User.deleted_at.is_(None))))
    else:
        people = []
    organisation = (db.session.get(Organisation, action.owner_organisation_id)
                    if action.owner_organisation_id else None)
    url = url_for("meetings.action", action_id=action.id, _external=True)
    for person in people:
        mail.queue(person.email,
                   f"New action for you from {meeting.title} ({meeting.host_name})",
                   "meeting_action_assigned", kind=Kind.ACTIONS_ASSIGNED, recipient=person,
                   user=person, action=action, meeting=meeting,
                   organisation=organisation, action_url=url,
                   my_actions_url=url_for("meetings.my_actions", _external=True))


def get_action(action_id: int) -> ActionItem | None:
    """An action with what its page shows: meeting, forum, owners and updates."""
    return db.session.scalar(
        select(ActionItem)
        .options(joinedload(ActionItem.meeting).joinedload(Meeting.forum)
                 .joinedload(Forum.partnership),
                 joinedload(ActionItem.owner), joinedload(ActionItem.owner_organisation),
                 selectinload(ActionItem.updates).joinedload(ActionUpdate.created_by))
        .where(ActionItem.id == action_id))


def update_action(actor: User, action: ActionItem, body: str,
                  status: ActionStatus) -> ActionUpdate:
    """A progress note and/or a status change, kept with who and when. Done or dropped
    actions stop appearing under the next meeting's matters arising."""
    if not permissions.can_update_action(actor, action):
        raise PermissionDenied("Only the action's owner and the forum's organisers can "
                               "update it")
    body = body.strip()
    if not body and status is action.status:
        raise ValidationError("Write a progress note or change the status", field="body")
    update = ActionUpdate(action_id=action.id, body=body, status=status,
                          created_by_id=actor.id)
    was = action.status
    action.status = status
    action.updates.append(update)
    db.session.flush()
    audit.record(actor, "meeting.action_updated", "meeting_action", action.id,
                 was=was.value, status=status.value)
    return update


@dataclass
class MyActions:
    open: list[ActionItem]
    closed: list[ActionItem]
    today: date

    def overdue(self, action: ActionItem) -> bool:
        return (action.status is ActionStatus.OPEN and action.due_date is not None
                and action.due_date < self.today)


def my_actions(user: User) -> MyActions:
    """Actions owned by ``user`` or by an organisation they administer (one query):
    open ones by due date (undated last), then the most recently closed."""
    administered = select(OrganisationMember.organisation_id).where(
        OrganisationMember.user_id == user.id,
        OrganisationMember.role == MemberRole.ADMIN,
        OrganisationMember.status == RequestStatus.ACTIVE)
    rows = list(db.session.scalars(
        select(ActionItem)
        .options(joinedload(ActionItem.meeting).joinedload(Meeting.forum)
                 .joinedload(Forum.partnership),
                 joinedload(ActionItem.owner), joinedload(ActionItem.owner_organisation))
        .where(or_(ActionItem.owner_id == user.id,
                   ActionItem.owner_organisation_id.in_(administered)))
        .order_by(case((ActionItem.status == ActionStatus.OPEN, 0), else_=1),
                  ActionItem.due_date.is_(None), ActionItem.due_date, ActionItem.id)))
    open_actions = [row for row in rows if row.status is ActionStatus.OPEN]
    closed = sorted((row for row in rows if row.status is not ActionStatus.OPEN),
                    key=lambda row: (row.updated_at, row.id), reverse=True)
    return MyActions(open_actions, closed[:CLOSED_ACTIONS_SHOWN], today_uk())


# --- The meeting page --------------------------------------------------------------------------


def _by_item(rows: list[Any]) -> dict[int | None, list[Any]]:
    grouped: dict[int | None, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.item_id].append(row)
    return dict(grouped)


def page_context(meeting: Meeting, user: Any) -> dict[str, Any]:
    """The "Minutes" section of the meeting page (keys ``record_*``).

    Published minutes are shown to everyone who can see the meeting; draft minutes
    only to the organisers. At most four queries (registrations, the rest of the
    attendance list with its marks, decisions, actions) plus the agenda items if no
    other section loaded them, whatever their number."""
    can_manage = permissions.can_manage_meeting(user, meeting)
    recordable = refusal(meeting) is None
    published = meeting.minutes_published
    draft_view = (not published and recordable
                  and permissions.can_view_draft_minutes(user, meeting))
    context: dict[str, Any] = {
        "record_can_manage": can_manage,
        "record_can_record": can_manage and recordable,
        "record_published": published,
        "record_draft": draft_view,
        "record_show": published or draft_view,
    }
    if not context["record_show"]:
        return context
    names = can_manage or permissions.can_view_attendance_list(user, meeting)
    # Someone who may not see the names sees the counts alone: no list to build.
    attendees = attendance_list(meeting) if names else []
    decisions = list(db.session.scalars(
        select(Decision).where(Decision.meeting_id == meeting.id).order_by(Decision.id)))
    actions = list(db.session.scalars(
        select(ActionItem)
        .options(joinedload(ActionItem.owner), joinedload(ActionItem.owner_organisation))
        .where(ActionItem.meeting_id == meeting.id).order_by(ActionItem.id)))
    context.update(
        record_items=list(meeting.items),
        record_covered=covered_items(meeting, decisions, actions),
        record_counts=count_attendance(attendees) if names else recorded_counts(meeting),
        record_present=[a for a in attendees if a.attendance is Attendance.PRESENT]
        if names else None,
        record_apologies=[a for a in attendees if a.attendance is Attendance.APOLOGIES]
        if names else None,
        record_decisions=_by_item(decisions),
        record_actions=_by_item(actions),
        record_has_minutes=bool(meeting.minutes_summary.strip() or decisions or any(
            item.minutes.strip() for item in meeting.items)),
        record_today=today_uk(),
    )
    return context
