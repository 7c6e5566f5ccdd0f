"""Scheduling rules: create a meeting or a series, change one occurrence or the series
from a date onward, postpone, cancel.

Every change a calendar cares about (time, place, joining link, status) bumps the
meeting's ``sequence`` and ``changed_at`` through ``_touch_calendar``; nothing else
should write those two columns. A cancelled meeting is never deleted and cannot be
edited. Services flush; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, time
from typing import Any

from flask import url_for
from sqlalchemy import func, select

from .. import audit, mail, permissions
from ..accounts.models import User
from ..errors import Conflict, PermissionDenied, ValidationError
from ..extensions import db
from ..forums.models import Forum, Visibility
from ..mail.kinds import Kind
from ..modelbase import utcnow
from ..partnership.models import Partnership
from ..timeutil import AmbiguousTimeError, NonExistentTimeError, format_uk, uk_local_to_utc
from . import registrations
from . import series as series_rules
from .models import (
    CAPACITY_MAX,
    INTERVAL_WEEKS_MAX,
    OCCURRENCES_MAX,
    Meeting,
    MeetingFormat,
    MeetingSeries,
    MeetingStatus,
    RecurrenceKind,
    Registration,
    RegistrationStatus,
)

# Fields whose change makes calendars update the event.
CALENDAR_FIELDS = ("starts_at", "ends_at", "format", "venue_name", "venue_address",
                   "joining_url", "joining_details", "title")


@dataclass
class MeetingDetails:
    """What an organiser enters for a meeting (times as UK wall-clock values)."""

    title: str
    day: date
    start: time
    end: time
    format: MeetingFormat
    visibility: Visibility
    description: str = ""
    venue_name: str = ""
    venue_address: str = ""
    step_free_access: bool | None = None
    hearing_loop: bool | None = None
    parking: str = ""
    public_transport: str = ""
    access_notes: str = ""
    joining_url: str = ""
    joining_details: str = ""
    capacity: int | None = None

    @classmethod
    def of(cls, meeting: Meeting) -> MeetingDetails:
        """The details of an existing meeting, for an edit form."""
        from ..timeutil import to_uk

        start, end = to_uk(meeting.starts_at), to_uk(meeting.ends_at)
        values = {f.name: getattr(meeting, f.name) for f in fields(cls)
                  if f.name not in ("day", "start", "end")}
        return cls(day=start.date(), start=start.time(), end=end.time(), **values)


@dataclass
class Recurrence:
    kind: RecurrenceKind
    interval_weeks: int | None = None
    until: date | None = None
    count: int | None = None


def _utc_times(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """UTC start and end of a UK wall-clock meeting, refusing clock-change gaps."""
    try:
        starts_at = uk_local_to_utc(day, start)
    except (NonExistentTimeError, AmbiguousTimeError) as error:
        raise ValidationError(str(error), field="start") from error
    try:
        ends_at = uk_local_to_utc(day, end)
    except (NonExistentTimeError, AmbiguousTimeError) as error:
        raise ValidationError(str(error), field="end") from error
    if ends_at <= starts_at:
        raise ValidationError(END_BEFORE_START, field="end")
    return starts_at, ends_at


END_BEFORE_START = "The end time must be after the start time"


def place_problems(meeting_format: MeetingFormat, venue_name: str, venue_address: str,
                   joining_url: str) -> list[tuple[str, str]]:
    """What the chosen format still needs, as (field, message) pairs in page order: a
    venue and its address for people in the room, an https joining link for people
    online. The schedule form shows them all at once; the services refuse the first."""
    problems = []
    if meeting_format.has_venue and not venue_name:
        problems.append(("venue_name", "Enter the venue, or choose online if there is no "
                                       "venue"))
    if meeting_format.has_venue and not venue_address:
        problems.append(("venue_address", "Enter the venue's address"))
    if meeting_format.is_online and not joining_url:
        problems.append(("joining_url", "Enter the joining link for an online or hybrid "
                                        "meeting"))
    elif joining_url and not joining_url.startswith("https://"):
        problems.append(("joining_url", "The joining link must start with https://"))
    return problems


def _check(details: MeetingDetails) -> None:
    """The capacity's bounds, and rules beyond single fields: what each format needs.
    What does not apply to the format is dropped (a venue for an online meeting, a
    joining link for one in a room)."""
    if details.capacity is not None and not 1 <= details.capacity <= CAPACITY_MAX:
        raise ValidationError(f"Capacity must be between 1 and {CAPACITY_MAX:,}, or left "
                              "empty", field="capacity")
    if not details.format.is_online:
        details.joining_url = details.joining_details = ""
    for field, message in place_problems(details.format, details.venue_name,
                                         details.venue_address, details.joining_url):
        raise ValidationError(message, field=field)
    if not details.format.has_venue:
        details.venue_name = details.venue_address = ""
        details.step_free_access = details.hearing_loop = None
        details.parking = details.public_transport = ""


def _apply(meeting: Meeting, details: MeetingDetails, starts_at: datetime,
           ends_at: datetime) -> bool:
    """Copy details onto the meeting; True if a calendar-relevant field changed."""
    changed = meeting.id is None
    for f in fields(MeetingDetails):
        if f.name in ("day", "start", "end"):
            continue
        value = getattr(details, f.name)
        if f.name in CALENDAR_FIELDS and getattr(meeting, f.name) != value:
            changed = True
        setattr(meeting, f.name, value)
    if meeting.starts_at != starts_at or meeting.ends_at != ends_at:
        changed = True
    meeting.starts_at, meeting.ends_at = starts_at, ends_at
    return changed


def _check_recurrence(recurrence: Recurrence) -> None:
    """The series' numbers within their bounds (the dates are worked out from them)."""
    weeks = recurrence.interval_weeks
    if weeks is not None and not 1 <= weeks <= INTERVAL_WEEKS_MAX:
        raise ValidationError(f"Enter the weeks between meetings, from 1 to "
                              f"{INTERVAL_WEEKS_MAX}", field="interval_weeks")
    if recurrence.count is not None and not 2 <= recurrence.count <= OCCURRENCES_MAX:
        raise ValidationError(f"The number of meetings must be between 2 and "
                              f"{OCCURRENCES_MAX}", field="count")


def _touch_calendar(meeting: Meeting) -> None:
    """A change calendars must pick up: bump SEQUENCE (never lowered) and the stamp."""
    if meeting.id is not None:
        meeting.sequence = (meeting.sequence or 0) + 1
    meeting.changed_at = utcnow()


def _host_ids(host: Forum | Partnership) -> dict[str, int | None]:
    """The ``partnership_id`` and ``forum_id`` of a meeting (or series) of ``host``: a
    forum, or the partnership itself (no forum)."""
    if isinstance(host, Partnership):
        return {"partnership_id": host.id, "forum_id": None}
    return {"partnership_id": host.partnership_id, "forum_id": host.id}


def schedule(actor: User, host: Forum | Partnership, details: MeetingDetails,
             recurrence: Recurrence | None = None) -> list[Meeting]:
    """Create one meeting, or every occurrence of a series, at the same UK time, for a
    forum or for the partnership itself (its board, an assembly)."""
    if not permissions.can_schedule_meeting(actor, host):
        raise PermissionDenied(
            "Only the partnership's officers can schedule its meetings"
            if isinstance(host, Partnership) else
            "Only the forum's convenors and the partnership's officers can schedule meetings")
    _check(details)
    days = [details.day]
    meeting_series = None
    if recurrence is not None:
        _check_recurrence(recurrence)
        if recurrence.until is not None and recurrence.until < details.day:
            raise ValidationError("The series must end after the first meeting", field="until")
        days = series_rules.occurrence_dates(
            recurrence.kind, details.day, interval_weeks=recurrence.interval_weeks,
            until=recurrence.until, count=recurrence.count)
        if len(days) < 2:
            raise ValidationError("A series needs at least two meetings: choose a later end "
                                  "date or more meetings", field="until")
        meeting_series = MeetingSeries(
            **_host_ids(host), kind=recurrence.kind, interval_weeks=recurrence.interval_weeks,
            first_date=details.day, local_start=details.start, local_end=details.end,
            until=recurrence.until, count=recurrence.count, created_by_id=actor.id)
        db.session.add(meeting_series)
    times = []
    for day in days:
        try:
            times.append(_utc_times(day, details.start, details.end))
        except ValidationError as error:
            if day == details.day:
                raise
            raise ValidationError(
                f"The meeting on {day:%-d %B %Y} would fall in a clock change: "
                f"{error.message}", field=error.field) from error
    db.session.flush()
    meetings = []
    for day, (starts_at, ends_at) in zip(days, times, strict=True):
        meeting = Meeting(**_host_ids(host), created_by_id=actor.id, sequence=0,
                          series_id=meeting_series.id if meeting_series else None,
                          occurrence_date=day if meeting_series else None)
        _apply(meeting, details, starts_at, ends_at)
        meeting.changed_at = utcnow()
        db.session.add(meeting)
        meetings.append(meeting)
    db.session.flush()
    audit.record(actor, "meeting.scheduled", "meeting", meetings[0].id,
                 title=details.title, occurrences=len(meetings),
                 series_id=meeting_series.id if meeting_series else None)
    return meetings


def _refuse_if_cancelled(meeting: Meeting) -> None:
    if meeting.is_cancelled:
        raise Conflict("This meeting has been cancelled, so it cannot be changed.")


def _locked(meeting: Meeting, targets: list[Meeting]) -> list[Meeting]:
    """Lock the meetings about to change (in order of id, as everywhere that locks
    several: ``registrations.lock``) and read them again, so that what is checked
    (places taken, whether cancelled) cannot change before the change is saved; then
    refuse if ``meeting`` was cancelled meanwhile, and drop others that were."""
    for target in sorted(targets, key=lambda m: m.id):
        registrations.lock(target)
    _refuse_if_cancelled(meeting)
    return [target for target in targets if not target.is_cancelled]


def following(meeting: Meeting) -> list[Meeting]:
    """This occurrence and the later, not cancelled, ones of its series."""
    if meeting.series_id is None:
        return [meeting]
    return list(db.session.scalars(
        select(Meeting).where(Meeting.series_id == meeting.series_id,
                              Meeting.starts_at >= meeting.starts_at,
                              Meeting.status != MeetingStatus.CANCELLED)
        .order_by(Meeting.starts_at)))


def update(actor: User, meeting: Meeting, details: MeetingDetails,
           scope: str = "this") -> list[Meeting]:
    """Change a meeting, or (``scope="following"``) this and the later occurrences of
    its series: they take the new details and UK times of day on their own dates."""
    if not permissions.can_manage_meeting(actor, meeting):
        raise PermissionDenied("Only the meeting's organisers can change it")
    _refuse_if_cancelled(meeting)
    _check(details)
    targets = _locked(meeting, following(meeting) if scope == "following" else [meeting])
    fullest = max(target.places_taken for target in targets)
    if details.capacity is not None and details.capacity < fullest:
        raise ValidationError(
            f"{fullest} people already have places, so the capacity cannot be lower than "
            f"{fullest}", field="capacity")
    _check_format_change(targets, details.format)
    changed_meetings = []
    for target in targets:
        day = details.day if target is meeting else _uk_day(target)
        starts_at, ends_at = _utc_times(day, details.start, details.end)
        moved = target.starts_at != starts_at
        if moved and target.is_postponed:
            # Giving a postponed meeting its new date puts it back on.
            target.status = MeetingStatus.SCHEDULED
            target.status_reason = f"Postponed, now rearranged: {target.status_reason}"
            target.status_changed_at = utcnow()
        if _apply(target, details, starts_at, ends_at):
            _touch_calendar(target)
            changed_meetings.append((target, moved))
    if scope == "following" and meeting.series is not None:
        meeting.series.local_start, meeting.series.local_end = details.start, details.end
    db.session.flush()
    for target in targets:
        # A larger capacity (or none) gives places to people on the waiting list.
        registrations.capacity_changed(target, actor)
    for target, moved in changed_meetings:
        audit.record(actor, "meeting.updated", "meeting", target.id, scope=scope)
        _tell_registrants(target, "meeting_changed",
                          f"Meeting changed in {target.host_name}: {target.title}, "
                          f"{format_uk(target.starts_at)}",
                          moved=moved)
    return [target for target, _moved in changed_meetings]


def _check_format_change(targets: list[Meeting], new_format: MeetingFormat) -> None:
    """Refuse a format that would strand people's answers: "attending online" at a
    meeting with no online joining, or places counted on a different basis."""
    for target in targets:
        if target.format is new_format:
            continue
        allowed = registrations.answers_for_format(new_format)
        stranded = db.session.scalar(
            select(func.count(Registration.id)).where(
                Registration.meeting_id == target.id,
                Registration.status != RegistrationStatus.CANCELLED,
                Registration.response.not_in(allowed)))
        counting_changes = (target.format is MeetingFormat.ONLINE) != (
            new_format is MeetingFormat.ONLINE)
        if stranded or (counting_changes and target.places_taken):
            raise ValidationError(
                f"People have already registered for the meeting on "
                f"{format_uk(target.starts_at, 'date')} as {target.format.label.lower()}, "
                "so its format cannot change to "
                f"{new_format.label.lower()}. Cancel it with a reason and schedule a new "
                "meeting instead", field="format")


def _uk_day(meeting: Meeting) -> date:
    from ..timeutil import to_uk

    return to_uk(meeting.starts_at).date()


def _check_stop(actor: User, meeting: Meeting, reason: str, verb: str, done: str) -> None:
    """Whether ``actor`` may ``verb`` this meeting now (``done`` is the past participle:
    "cancel", "cancelled"), with this reason: an organiser, a meeting neither cancelled
    nor over, and a reason given."""
    if not permissions.can_manage_meeting(actor, meeting):
        raise PermissionDenied(f"Only the meeting's organisers can {verb} it")
    _refuse_if_cancelled(meeting)
    if not reason:
        raise ValidationError(f"Enter why the meeting is {done}", field="reason")
    if meeting.has_ended():
        raise Conflict(f"This meeting has already taken place, so it cannot be {done}.")


def cancel(actor: User, meeting: Meeting, reason: str, scope: str = "this") -> list[Meeting]:
    """Cancel a meeting (or it and the rest of its series): it stays visible, marked
    cancelled with the reason, and everyone registered is told."""
    _check_stop(actor, meeting, reason, "cancel", "cancelled")
    targets = [m for m in _locked(meeting, following(meeting) if scope == "following"
                                  else [meeting])
               if not m.has_ended()]
    for target in targets:
        target.status = MeetingStatus.CANCELLED
        target.status_reason = reason
        target.status_changed_at = utcnow()
        _touch_calendar(target)
    db.session.flush()
    for target in targets:
        audit.record(actor, "meeting.cancelled", "meeting", target.id, reason=reason)
        _tell_registrants(target, "meeting_cancelled",
                          f"Meeting cancelled in {target.host_name}: {target.title}, "
                          f"{format_uk(target.starts_at)}")
    return targets


def postpone(actor: User, meeting: Meeting, reason: str,
             new_day: date | None = None, new_start: time | None = None,
             new_end: time | None = None) -> None:
    """Postpone with a reason: to a new date and time (the meeting moves and keeps its
    agenda and registrations) or to a date to be fixed (calendars show it tentative)."""
    _check_stop(actor, meeting, reason, "postpone", "postponed")
    _locked(meeting, [meeting])
    was = format_uk(meeting.starts_at)
    if new_day is not None:
        if new_start is None or new_end is None:
            raise ValidationError("Enter the new start and end times", field="start")
        starts_at, ends_at = _utc_times(new_day, new_start, new_end)
        if starts_at <= utcnow():
            raise ValidationError("The new date must be in the future", field="day")
        meeting.starts_at, meeting.ends_at = starts_at, ends_at
        meeting.status = MeetingStatus.SCHEDULED
        meeting.status_reason = f"Postponed from {was}: {reason}"
    else:
        meeting.status = MeetingStatus.POSTPONED
        meeting.status_reason = reason
    meeting.status_changed_at = utcnow()
    _touch_calendar(meeting)
    db.session.flush()
    audit.record(actor, "meeting.postponed", "meeting", meeting.id, reason=reason,
                 was=was, to=format_uk(meeting.starts_at) if new_day else "")
    _tell_registrants(meeting, "meeting_postponed",
                      f"Meeting postponed in {meeting.host_name}: {meeting.title}, {was}",
                      was=was, new_date=new_day is not None, reason=reason)


def _tell_registrants(meeting: Meeting, template: str, subject: str, **context: Any) -> None:
    """Email everyone who answered and did not cancel (apologies included: a moved
    meeting may suit them now) and may still see the meeting."""
    users = list(db.session.scalars(
        select(User).join(Registration, Registration.user_id == User.id).where(
            Registration.meeting_id == meeting.id,
            Registration.status != RegistrationStatus.CANCELLED,
            permissions.people_who_may_see_meeting(meeting))))
    if not users:
        return
    url = url_for("meetings.show", meeting_id=meeting.id, _external=True)
    for user in users:
        if user.email:
            mail.queue(user.email, subject, template, kind=Kind.MY_MEETING, recipient=user,
                       user=user, meeting=meeting, meeting_url=url, **context)
