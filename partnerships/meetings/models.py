"""Meetings of a forum or of a partnership itself: schedule and series, agenda and
papers, item requests, registration with a waiting list, attendance, minutes,
decisions and actions, and the secret tokens of personal calendar feeds.

A recurring series is stored as its rule plus one ``Meeting`` row per occurrence.
Each occurrence then has its own agenda, registrations and minutes, can be moved or
cancelled on its own, and appears in calendars as a VEVENT of its own with a UID that
never changes (``meeting-<id>@<host>``). Times are UTC in the database; a series
remembers its UK wall-clock time so that a 10:00 meeting stays at 10:00 in summer and
winter.

A meeting belongs to a partnership (``partnership_id``, always set) and, if it is a
forum's, to that forum (``forum_id``); a meeting of the partnership itself (its board,
an annual assembly) has no forum. Code and templates ask the meeting who hosts it
(``host_name``, ``notice_days``, ``is_partnership_meeting``) rather than branching on
the forum.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Connection,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..enums import LabelledEnum
from ..forums.models import Forum, Visibility
from ..modelbase import Model, StoredFileMixin, TimestampMixin, UTCDateTime, str_enum, utcnow
from ..organisations.models import Organisation
from ..partnership.models import Partnership


class MeetingFormat(LabelledEnum):
    IN_PERSON = "in_person", "In person"
    ONLINE = "online", "Online"
    HYBRID = "hybrid", "Hybrid (in person and online)"

    @property
    def has_venue(self) -> bool:
        return self is not MeetingFormat.ONLINE

    @property
    def is_online(self) -> bool:
        return self is not MeetingFormat.IN_PERSON


class MeetingStatus(LabelledEnum):
    """A meeting is never deleted once scheduled: it is cancelled or postponed, and the
    page says so and why."""

    SCHEDULED = "scheduled", "Scheduled"
    POSTPONED = "postponed", "Postponed"  # no new date yet (calendars show it as tentative)
    CANCELLED = "cancelled", "Cancelled"


class AgendaStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class MinutesStatus(StrEnum):
    NONE = "none"
    DRAFT = "draft"
    PUBLISHED = "published"  # approved and public (with the meeting's visibility)


class RecurrenceKind(LabelledEnum):
    """The series patterns partnership meetings use."""

    # e.g. the second Tuesday of each month
    MONTHLY_NTH_WEEKDAY = ("monthly_nth_weekday", "Monthly, on the same weekday of the "
                           "month (for example the second Tuesday)")
    # e.g. every 6 weeks on the same weekday
    EVERY_N_WEEKS = "every_n_weeks", "Every few weeks, on the same weekday"
    # every 3 months, same nth weekday
    QUARTERLY_NTH_WEEKDAY = ("quarterly_nth_weekday",
                             "Quarterly, on the same weekday of the month")


# Number limits, each beside the column it bounds, read by the forms and the services (as
# the length limits are): nothing larger reaches the database, whose INTEGER stops at
# 2**31 - 1 on PostgreSQL.
INTERVAL_WEEKS_MAX = 12  # MeetingSeries.interval_weeks: at least every quarter
OCCURRENCES_MAX = 36  # MeetingSeries.count: a plan, not forever (three years of months)


class MeetingSeries(TimestampMixin, Model):
    """The rule a recurring meeting was made from. Occurrences are ``Meeting`` rows; the
    rule is kept to extend or change the series "from this date onward"."""

    __tablename__ = "meeting_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), nullable=False)
    # None for a series of the partnership's own meetings.
    forum_id: Mapped[int | None] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    kind: Mapped[RecurrenceKind] = mapped_column(str_enum(RecurrenceKind), nullable=False)
    # Weeks between meetings for EVERY_N_WEEKS (1-12); unused otherwise.
    interval_weeks: Mapped[int | None] = mapped_column(Integer)
    first_date: Mapped[date] = mapped_column(Date, nullable=False)
    local_start: Mapped[time] = mapped_column(Time, nullable=False)
    local_end: Mapped[time] = mapped_column(Time, nullable=False)
    until: Mapped[date | None] = mapped_column(Date)
    count: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (
        Index("ix_meeting_series_forum_id", "forum_id"),
        Index("ix_meeting_series_partnership_id", "partnership_id"),
        CheckConstraint("until IS NOT NULL OR count IS NOT NULL", name="has_end"),
    )


# Limits, each beside the columns it protects, which the forms and services check: the
# capacity's bound, and lengths (the column's size where it has one).
CAPACITY_MAX = 10_000  # Meeting.capacity: places, more than any venue holds
TITLE_MAX = 200  # titles of meetings, agenda items, papers and requested items
NAME_MAX = 200  # venues, presenters, walk-ins and their organisations
DESCRIPTION_MAX = 5_000
ADDRESS_MAX = 500
TRAVEL_MAX = 1_000  # parking, public transport
ACCESS_NOTES_MAX = 2_000
JOINING_URL_MAX = 500
JOINING_DETAILS_MAX = 1_000
REASON_MAX = 2_000  # why a meeting is cancelled or postponed; an item request's reasons
MINUTES_TEXT_MAX = 20_000  # the minutes' summary, and each agenda item's minutes


class Meeting(TimestampMixin, Model):
    """One meeting of a forum or of a partnership itself (possibly one occurrence of a
    series)."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), nullable=False)
    # None for a meeting of the partnership itself (its board, an assembly).
    forum_id: Mapped[int | None] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting_series.id", ondelete="SET NULL")
    )
    # The UK date this occurrence was generated for (kept when it is moved).
    occurrence_date: Mapped[date | None] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    format: Mapped[MeetingFormat] = mapped_column(str_enum(MeetingFormat), nullable=False)
    venue_name: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False, default="")
    venue_address: Mapped[str] = mapped_column(Text, nullable=False, default="")
    step_free_access: Mapped[bool | None] = mapped_column(Boolean)
    hearing_loop: Mapped[bool | None] = mapped_column(Boolean)
    parking: Mapped[str] = mapped_column(Text, nullable=False, default="")
    public_transport: Mapped[str] = mapped_column(Text, nullable=False, default="")
    access_notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    joining_url: Mapped[str] = mapped_column(String(JOINING_URL_MAX), nullable=False,
                                             default="")
    joining_details: Mapped[str] = mapped_column(Text, nullable=False, default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    # Places taken by confirmed registrations that count against the capacity. Changed
    # only by a conditional UPDATE, so two people can never take the last place.
    places_taken: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    visibility: Mapped[Visibility] = mapped_column(
        str_enum(Visibility), nullable=False, default=Visibility.PUBLIC
    )
    status: Mapped[MeetingStatus] = mapped_column(
        str_enum(MeetingStatus), nullable=False, default=MeetingStatus.SCHEDULED
    )
    status_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    agenda_status: Mapped[AgendaStatus] = mapped_column(
        str_enum(AgendaStatus), nullable=False, default=AgendaStatus.DRAFT
    )
    agenda_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Whether the agenda went out with the host's notice in clear working days.
    notice_met: Mapped[bool | None] = mapped_column(Boolean)
    minutes_status: Mapped[MinutesStatus] = mapped_column(
        str_enum(MinutesStatus), nullable=False, default=MinutesStatus.NONE
    )
    minutes_summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    minutes_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Calendar SEQUENCE: bumped on every change of time, place, joining link or status,
    # never lowered. ``changed_at`` is the last change a calendar cares about (DTSTAMP,
    # LAST-MODIFIED), so feed bytes are stable between changes.
    sequence: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    forum: Mapped[Forum | None] = relationship()
    partnership: Mapped[Partnership] = relationship()
    series: Mapped[MeetingSeries | None] = relationship()
    items: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="AgendaItem.position"
    )

    __table_args__ = (
        Index("ix_meetings_forum_starts", "forum_id", "starts_at"),
        # Covers what lists and calendar feeds filter on and what a feed's fingerprint
        # sums (ids, visibility, status, times), so they read no meeting rows.
        Index("ix_meetings_forum_calendar", "forum_id", "starts_at", "ends_at", "visibility",
              "status", "updated_at"),
        # The same for a partnership's meetings (its lists and its feed, whose
        # fingerprint reads this index alone: ``feeds._partnership_fingerprint_by_slug``).
        Index("ix_meetings_partnership_calendar", "partnership_id", "starts_at", "ends_at",
              "visibility", "status", "updated_at", "id"),
        Index("ix_meetings_starts_at", "starts_at"),
        Index("ix_meetings_series_id", "series_id"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint("places_taken >= 0", name="places_taken_not_negative"),
        CheckConstraint("capacity IS NULL OR places_taken <= capacity",
                        name="never_overbooked"),
    )

    @property
    def is_partnership_meeting(self) -> bool:
        """A meeting of the partnership itself, not of one of its forums."""
        return self.forum_id is None

    @property
    def host_name(self) -> str:
        """Whose meeting it is, as pages and emails name it: the forum, or the
        partnership for its own meetings."""
        return self.forum.name if self.forum is not None else self.partnership.name

    @property
    def host_full_name(self) -> str:
        """The host with its partnership ("VCSE Alliance, Northbridge Together"), or
        the partnership alone for its own meetings (calendars, lists across
        partnerships)."""
        if self.forum is not None:
            return f"{self.forum.name}, {self.partnership.name}"
        return self.partnership.name

    @property
    def host_members(self) -> str:
        """Who a members-only meeting is for, in words ("members of the VCSE
        Alliance")."""
        if self.forum is not None:
            return f"members of {self.forum.name}"
        return f"people of {self.partnership.name}'s member organisations"

    @property
    def notice_days(self) -> int:
        """Clear working days of agenda notice: the forum's, or the partnership's for
        its own meetings."""
        return (self.forum.notice_days if self.forum is not None
                else self.partnership.notice_days)

    @property
    def is_public(self) -> bool:
        return self.visibility is Visibility.PUBLIC

    @property
    def is_cancelled(self) -> bool:
        return self.status is MeetingStatus.CANCELLED

    @property
    def is_postponed(self) -> bool:
        return self.status is MeetingStatus.POSTPONED

    @property
    def agenda_published(self) -> bool:
        return self.agenda_status is AgendaStatus.PUBLISHED

    @property
    def minutes_published(self) -> bool:
        return self.minutes_status is MinutesStatus.PUBLISHED

    @property
    def is_full(self) -> bool:
        return self.capacity is not None and self.places_taken >= self.capacity

    @property
    def places_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.places_taken, 0)

    def has_ended(self, now: datetime | None = None) -> bool:
        return self.ends_at <= (now or utcnow())

    def has_started(self, now: datetime | None = None) -> bool:
        return self.starts_at <= (now or utcnow())

    def __repr__(self) -> str:
        return f"<Meeting {self.id} {self.title!r}>"


@event.listens_for(MeetingSeries, "before_insert")
@event.listens_for(Meeting, "before_insert")
def _partnership_of_forum(_mapper: Any, connection: Connection,
                          target: Meeting | MeetingSeries) -> None:
    """A forum's meeting (or series) belongs to the forum's partnership, always: one
    made with only ``forum_id`` (as older code and tests make them) gets the forum's
    ``partnership_id``, and one naming another partnership is refused."""
    if target.forum_id is None:
        return
    owner = connection.scalar(select(Forum.partnership_id).where(Forum.id == target.forum_id))
    if target.partnership_id is None:
        target.partnership_id = owner
    elif owner is not None and target.partnership_id != owner:
        raise ValueError("A forum's meeting belongs to the forum's partnership")


class StandardItem(LabelledEnum):
    """Items most agendas open or close with; added in one go. The label is the item's
    title."""

    WELCOME = "welcome", "Welcome, introductions and apologies"
    DECLARATIONS = "declarations", "Declarations of interest"
    PREVIOUS_MINUTES = "previous_minutes", "Minutes of the last meeting"
    MATTERS_ARISING = "matters_arising", "Matters arising and actions"
    AOB = "aob", "Any other business"

    @property
    def title(self) -> str:  # type: ignore[override]  # str.title is a method; the label is the title
        return self.label


NOTES_MAX = 10_000  # an agenda item's notes
MINUTES_MAX = 600  # AgendaItem.minutes_allowed: the most time an item may be allowed


class AgendaItem(TimestampMixin, Model):
    """An item on a meeting's agenda, with its notes, papers and, afterwards, minutes."""

    __tablename__ = "agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"),
                                            nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    standard: Mapped[StandardItem | None] = mapped_column(str_enum(StandardItem))
    presenter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    presenter_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    # A presenter without an account here (e.g. a guest speaker).
    presenter_name: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False, default="")
    minutes_allowed: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    minutes: Mapped[str] = mapped_column(Text, nullable=False, default="")

    meeting: Mapped[Meeting] = relationship(back_populates="items")
    presenter: Mapped[User | None] = relationship()
    presenter_organisation: Mapped[Organisation | None] = relationship()
    papers: Mapped[list[Paper]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="Paper.id"
    )

    __table_args__ = (
        Index("ix_agenda_items_meeting_position", "meeting_id", "position"),
        CheckConstraint("minutes_allowed IS NULL OR minutes_allowed > 0",
                        name="minutes_allowed_positive"),
    )


class Paper(StoredFileMixin, Model):
    """A file attached to an agenda item, served with the meeting's visibility."""

    __tablename__ = "meeting_papers"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"),
                                         nullable=False)
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)

    item: Mapped[AgendaItem] = relationship(back_populates="papers")

    __table_args__ = (
        Index("ix_meeting_papers_item_id", "item_id"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
    )


class AgendaRevision(Model):
    """A change made after the agenda was published ("Item 4 paper added on ...")."""

    __tablename__ = "agenda_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"),
                                            nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    __table_args__ = (Index("ix_agenda_revisions_meeting_id", "meeting_id"),)


class ItemRequestStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class ItemRequest(TimestampMixin, Model):
    """A member asking for an item on a meeting's agenda."""

    __tablename__ = "agenda_item_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"),
                                            nullable=False)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    presenter: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False, default="")
    status: Mapped[ItemRequestStatus] = mapped_column(
        str_enum(ItemRequestStatus), nullable=False, default=ItemRequestStatus.PENDING
    )
    decision_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="SET NULL")
    )

    meeting: Mapped[Meeting] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])

    __table_args__ = (
        Index("ix_agenda_item_requests_meeting_status", "meeting_id", "status"),
        Index("ix_agenda_item_requests_requested_by", "requested_by_id"),
    )


class Response(LabelledEnum):
    """What a person says they will do."""

    IN_PERSON = "in_person", "Attending in person"
    ONLINE = "online", "Attending online"
    APOLOGIES = "apologies", "Sending apologies"


class RegistrationStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITING = "waiting"      # on the waiting list, promoted in order when a place frees
    CANCELLED = "cancelled"  # the person cancelled (kept for the record and the count)


class Attendance(LabelledEnum):
    PRESENT = "present", "Present"
    APOLOGIES = "apologies", "Apologies"
    ABSENT = "absent", "Absent"


ACCESS_MAX = 2_000  # a person's access requirements


class Registration(TimestampMixin, Model):
    """A person's answer to a meeting (or a walk-in recorded afterwards), and whether
    they came."""

    __tablename__ = "meeting_registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"),
                                            nullable=False)
    # None for a walk-in without an account here.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    walk_in_name: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False, default="")
    walk_in_organisation: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False,
                                                      default="")
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    response: Mapped[Response] = mapped_column(str_enum(Response), nullable=False)
    status: Mapped[RegistrationStatus] = mapped_column(
        str_enum(RegistrationStatus), nullable=False, default=RegistrationStatus.CONFIRMED
    )
    # Whether this registration holds one of the counted places (see Meeting.places_taken).
    holds_place: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Seen only by the organisers.
    access_requirements: Mapped[str] = mapped_column(Text, nullable=False, default="")
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attendance: Mapped[Attendance | None] = mapped_column(str_enum(Attendance))

    meeting: Mapped[Meeting] = relationship()
    user: Mapped[User | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()

    __table_args__ = (
        UniqueConstraint("meeting_id", "user_id"),
        Index("ix_meeting_registrations_meeting_status", "meeting_id", "status"),
        Index("ix_meeting_registrations_user_id", "user_id"),
        CheckConstraint("user_id IS NOT NULL OR walk_in_name <> ''", name="someone"),
    )

    @property
    def display_name(self) -> str:
        return self.user.name if self.user is not None else self.walk_in_name


class AttendanceMark(TimestampMixin, Model):
    """Whether someone on the attendance list who has no registration to carry it came:
    a member of the forum who did not register (or cancelled) but was present, sent
    apologies at the meeting or was absent. People who registered, and walk-ins, keep
    their attendance on their ``Registration``; ``records.attendance_list`` joins both."""

    __tablename__ = "meeting_attendance"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"),
                                            nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         nullable=False)
    attendance: Mapped[Attendance] = mapped_column(str_enum(Attendance), nullable=False)

    user: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("meeting_id", "user_id"),
        Index("ix_meeting_attendance_user_id", "user_id"),
    )


DECISION_MAX = 5_000


class Decision(TimestampMixin, Model):
    """A decision recorded in the minutes."""

    __tablename__ = "meeting_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"),
                                            nullable=False)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_items.id",
                                                           ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (Index("ix_meeting_decisions_meeting_id", "meeting_id"),)


class ActionStatus(LabelledEnum):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    DROPPED = "dropped", "Dropped"


ACTION_MAX = 2_000  # what is to be done


class ActionItem(TimestampMixin, Model):
    """Something someone agreed to do. Open actions are carried to the next meeting of
    the same forum (or of the partnership itself), under "matters arising"."""

    __tablename__ = "meeting_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"),
                                            nullable=False)
    # Kept alongside the meeting so "open actions of this forum" is one indexed query;
    # None for an action of a partnership's own meeting (found through its meeting).
    forum_id: Mapped[int | None] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_items.id",
                                                           ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(Text, nullable=False)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    owner_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[ActionStatus] = mapped_column(
        str_enum(ActionStatus), nullable=False, default=ActionStatus.OPEN
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    meeting: Mapped[Meeting] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    owner_organisation: Mapped[Organisation | None] = relationship()
    updates: Mapped[list[ActionUpdate]] = relationship(
        back_populates="action", cascade="all, delete-orphan", order_by="ActionUpdate.id"
    )

    __table_args__ = (
        Index("ix_meeting_actions_forum_status", "forum_id", "status"),
        Index("ix_meeting_actions_meeting_id", "meeting_id"),
        Index("ix_meeting_actions_owner_status", "owner_id", "status"),
        Index("ix_meeting_actions_owner_org_status", "owner_organisation_id", "status"),
    )


PROGRESS_NOTE_MAX = 5_000


class ActionUpdate(Model):
    """A progress note on an action, possibly changing its status."""

    __tablename__ = "meeting_action_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("meeting_actions.id", ondelete="CASCADE"),
                                           nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[ActionStatus] = mapped_column(str_enum(ActionStatus), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    action: Mapped[ActionItem] = relationship(back_populates="updates")
    created_by: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_meeting_action_updates_action_id", "action_id"),)


class CalendarToken(TimestampMixin, Model):
    """The secret of a person's personal calendar feed.

    The token is an HMAC of a random ``salt`` under the app's secret key, so the page
    can show the address again without the database ever holding it; ``token_hash``
    (SHA-256 of the token) finds the row. Resetting draws a new salt, so the old
    address stops working at once."""

    __tablename__ = "calendar_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         nullable=False, unique=True)
    salt: Mapped[str] = mapped_column(String(64), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
