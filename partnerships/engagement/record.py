"""The engagement record: for one partnership and one calendar year, whether it did what
its engagement plan committed to, from the real records.

``engagement_record(partnership, year)`` returns the whole record as plain frozen
dataclasses; the record page, the open data API (JSON and CSV) and the annual report
all read it, so a figure means the same everywhere.

What counts (the page says so too):
- Only what the public may see. Members-only meetings are neither listed nor counted,
  and neither are their agenda requests, registrations or attendance; members-only
  forums have no row; only MoUs on the public register count. So the public figures
  never reveal that something hidden exists, at the price of under-counting a
  partnership that meets in private.
- A meeting is *held* when it was not cancelled or postponed and has ended; the year is
  the UK calendar year of its start.
- Agenda notice is in *clear working days*, as ``Partnership.notice_days`` and the
  meetings' own notice (``meetings.agenda.notice_met``): working days strictly between
  the UK day the agenda was published and the meeting's day, skipping weekends and
  England-and-Wales bank holidays. The period is the plan's (the partnership's own
  when the year has no plan). A held meeting whose agenda was never published counts
  as late.
- Minutes are on time when published on or before the plan's Nth working day after
  the meeting's day; minutes not yet published count once that day has passed.
- Concerns count by when they were raised (``concerns.stats``): numbers and median
  waits only, whether or not the concern itself is on the public list.

Every count is an aggregate SQL query (GROUP BY), except notice and minutes: working
days need the bank-holiday calendar, which the database does not hold, so one query
reads three timestamps per held meeting and each is compared with a deadline worked
out once per distinct meeting day (at most 366 a year), which is a comparison per row.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from sqlalchemy import ColumnElement, Integer, and_, case, exists, func, select

from .. import permissions
from ..concerns import stats as concern_stats
from ..concerns.stats import ConcernFigures
from ..extensions import db
from ..forums.models import Forum, ForumMember, ForumMemberStatus, Visibility
from ..meetings.models import (
    AgendaStatus,
    Attendance,
    AttendanceMark,
    ItemRequest,
    ItemRequestStatus,
    Meeting,
    MeetingStatus,
    MinutesStatus,
    Registration,
    RegistrationStatus,
)
from ..modelbase import utcnow
from ..mous.models import Mou, MouStatus
from ..mous.mou_register import REVIEW_WINDOW_DAYS
from ..opportunities.models import (
    Application,
    Opportunity,
    OpportunityKind,
    Placement,
    PlacementStatus,
)
from ..opportunities.placements import DIRECTIONS, Direction
from ..organisations.models import (
    IncomeBand,
    Organisation,
    OrganisationMember,
    OrgType,
    RequestStatus,
    Sector,
)
from ..partnership.models import Partnership, PartnershipMember
from ..timeutil import LONDON, is_working_day, today_uk, uk_local_to_utc
from . import services
from .models import DEFAULT_MINUTES_DAYS, EngagementPlan

LATE_SHOWN = 25  # late agendas and minutes listed on the page; the API lists them all


# --- The record's parts ---------------------------------------------------------------


@dataclass(frozen=True)
class HostMeetings:
    """Meetings of the partnership itself (``forum_id`` None) or of one public forum."""

    name: str
    forum_id: int | None
    forum_slug: str | None
    committed: int | None  # None: the year has no plan (or the plan leaves it out)
    held: int
    cancelled: int
    to_come: int  # scheduled later in the year
    year_over: bool

    @property
    def met(self) -> bool | None:
        """Whether enough meetings were held (None: nothing committed)."""
        return None if self.committed is None else self.held >= self.committed

    @property
    def standing(self) -> str | None:
        """"met"; for a year not over, "on_course" (enough are scheduled) or "behind";
        "missed" once the year is over; None when nothing was committed."""
        if self.committed is None:
            return None
        if self.held >= self.committed:
            return "met"
        if self.year_over:
            return "missed"
        return "on_course" if self.held + self.to_come >= self.committed else "behind"


@dataclass(frozen=True)
class MeetingRef:
    id: int
    title: str
    host: str
    starts_at: datetime
    published_at: datetime | None  # agenda or minutes, whichever the list is about
    due_day: date  # the last day that was on time


@dataclass(frozen=True)
class Timeliness:
    """Agendas with full notice, or minutes on time: of ``judged`` held meetings,
    ``on_time``; ``late`` lists the others (latest meeting first)."""

    days: int
    judged: int
    on_time: int
    late: tuple[MeetingRef, ...]

    @property
    def percent(self) -> int | None:
        return None if not self.judged else round(100 * self.on_time / self.judged)


@dataclass(frozen=True)
class Share:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class AttendanceFigures:
    """People present at the year's held public meetings, by their organisation's sector
    and size. Attendance marked for someone without a registration records no
    organisation, so it counts as "not recorded"."""

    present: int
    by_sector: tuple[Share, ...]
    by_size: tuple[Share, ...]
    small: int  # present for a small organisation (income £500,000 or less)
    size_known: int

    @property
    def small_percent(self) -> int | None:
        return None if not self.size_known else round(100 * self.small / self.size_known)


@dataclass(frozen=True)
class ItemRequests:
    """Agenda items asked for by people of VCSE member organisations, for the year's
    public meetings (held or to come)."""

    requested: int
    accepted: int
    declined: int
    pending: int

    @property
    def percent_accepted(self) -> int | None:
        decided = self.accepted + self.declined
        return None if not decided else round(100 * self.accepted / decided)


@dataclass(frozen=True)
class JoinRequests:
    """Requests to join made in the year, and how fast they were answered."""

    what: str  # "The partnership" or "Its public forums"
    received: int
    answered: int
    median_days: float | None


@dataclass(frozen=True)
class Exchanges:
    """Secondments, shadowing and the like completed in the year, by direction (the
    participant's sector to the host's) and kind."""

    total: int
    by_direction: tuple[Share, ...]
    by_kind: tuple[Share, ...]


@dataclass(frozen=True)
class MouFigures:
    """MoUs on the public register, as they stand on ``as_of``."""

    as_of: date
    active: int
    review_due: int  # review date within REVIEW_WINDOW_DAYS days, not yet passed
    review_overdue: int


@dataclass(frozen=True)
class PlanSummary:
    year: int
    partnership_meetings: int
    notice_days: int
    minutes_days: int
    accountable: tuple[tuple[str, str, str], ...]  # (organisation, person, role)


@dataclass(frozen=True)
class EngagementRecord:
    partnership_id: int
    partnership_slug: str
    partnership_name: str
    year: int
    as_of: date  # today, or the last day of a past year
    plan: PlanSummary | None
    hosts: tuple[HostMeetings, ...]  # the partnership first, then forums by name
    notice: Timeliness
    minutes: Timeliness
    attendance: AttendanceFigures
    item_requests: ItemRequests
    joins: tuple[JoinRequests, ...]
    exchanges: Exchanges
    mous: MouFigures
    # Concerns raised in the year about how the partnership engages: counts and
    # waits only (``concerns.stats``); a concern's words appear only on the public
    # list, and only once its raiser consented and an officer responded.
    concerns: ConcernFigures

    @property
    def meetings_held(self) -> int:
        return sum(host.held for host in self.hosts)

    @property
    def commitments_met(self) -> tuple[int, int]:
        """(met, committed) over the hosts with a commitment."""
        judged = [host for host in self.hosts if host.met is not None]
        return sum(1 for host in judged if host.met), len(judged)


# --- Working days -----------------------------------------------------------------------


@lru_cache(maxsize=4096)
def notice_deadline(day: date, clear_days: int) -> date:
    """The latest UK day an agenda can be published and still leave ``clear_days``
    working days strictly between it and a meeting on ``day`` (it may be a weekend:
    publishing on the Saturday after the Friday deadline gives the same notice).
    The same rule as ``meetings.agenda.notice_met``."""
    found, cursor = 0, day
    while found < clear_days:
        cursor -= timedelta(days=1)
        if is_working_day(cursor):
            found += 1
    return cursor - timedelta(days=1) if clear_days else day


@lru_cache(maxsize=4096)
def minutes_deadline(day: date, working_days: int) -> date:
    """The ``working_days``-th working day after ``day`` (``day`` itself for 0)."""
    cursor, found = day, 0
    while found < working_days:
        cursor += timedelta(days=1)
        if is_working_day(cursor):
            found += 1
    return cursor


# --- Building it ---------------------------------------------------------------------


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """SUM of 1 for the rows meeting ``condition`` (portable COUNT ... FILTER)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0, type_=Integer)


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The UK calendar year as UTC instants [start, end)."""
    return (uk_local_to_utc(date(year, 1, 1), time(0)),
            uk_local_to_utc(date(year + 1, 1, 1), time(0)))


def public_meetings(partnership_id: int) -> ColumnElement[bool]:
    """The partnership's meetings anyone may see (the permissions layer's anonymous
    condition), of the partnership itself or of its public forums."""
    public_forum = Meeting.forum_id.in_(
        select(Forum.id).where(Forum.partnership_id == partnership_id,
                               Forum.visibility == Visibility.PUBLIC))
    return and_(Meeting.partnership_id == partnership_id,
                permissions.meetings_visible_to(None),
                (Meeting.forum_id.is_(None)) | public_forum)


def engagement_record(partnership: Partnership, year: int,
                      now: datetime | None = None) -> EngagementRecord:
    """The whole record of ``partnership`` for the UK calendar ``year`` (see the module's
    docstring for what counts). Reads only; about a dozen queries whatever the size."""
    now = now or utcnow()
    today = now.astimezone(LONDON).date()
    start, end = year_bounds(year)
    as_of = min(today, date(year, 12, 31))
    plan = services.plan_for(partnership, year)
    in_year = and_(public_meetings(partnership.id), Meeting.starts_at >= start,
                   Meeting.starts_at < end)
    held = and_(in_year, Meeting.status == MeetingStatus.SCHEDULED, Meeting.ends_at <= now)
    notice_days = plan.notice_days if plan else partnership.notice_days
    minutes_days = plan.minutes_days if plan else DEFAULT_MINUTES_DAYS
    return EngagementRecord(
        partnership_id=partnership.id, partnership_slug=partnership.slug,
        partnership_name=partnership.name, year=year, as_of=as_of,
        plan=_plan_summary(plan),
        hosts=_hosts(partnership, plan, in_year, now, end),
        **_timeliness(held, notice_days, minutes_days, today),
        attendance=_attendance(held),
        item_requests=_item_requests(in_year),
        joins=_joins(partnership, start, end),
        exchanges=_exchanges(partnership, start, end),
        mous=_mous(partnership, as_of),
        concerns=concern_stats.figures(partnership.id, year),
    )


def _plan_summary(plan: EngagementPlan | None) -> PlanSummary | None:
    if plan is None:
        return None
    names = dict(db.session.execute(
        select(Organisation.id, Organisation.name).where(
            Organisation.id.in_([row.organisation_id for row in plan.accountable]))).tuples().all())
    people = sorted(((names.get(row.organisation_id, ""), row.name, row.role)
                     for row in plan.accountable), key=lambda p: p[0].casefold())
    return PlanSummary(plan.year, plan.partnership_meetings, plan.notice_days,
                       plan.minutes_days, tuple(people))


def _hosts(partnership: Partnership, plan: EngagementPlan | None,
           in_year: ColumnElement[bool], now: datetime,
           end: datetime) -> tuple[HostMeetings, ...]:
    """Held, cancelled and to come, per host: one GROUP BY."""
    is_held = and_(Meeting.status == MeetingStatus.SCHEDULED, Meeting.ends_at <= now)
    to_come = and_(Meeting.status == MeetingStatus.SCHEDULED, Meeting.ends_at > now)
    rows = db.session.execute(
        select(Meeting.forum_id,
               _count_if(is_held),
               _count_if(Meeting.status == MeetingStatus.CANCELLED),
               _count_if(to_come))
        .where(in_year).group_by(Meeting.forum_id)).tuples()
    counts = {forum_id: (int(h or 0), int(c or 0), int(t or 0)) for forum_id, h, c, t in rows}
    committed = {row.forum_id: row.meetings for row in plan.forums} if plan else {}
    over = now >= end
    hosts = [HostMeetings(partnership.name, None, None,
                          plan.partnership_meetings if plan else None,
                          *counts.get(None, (0, 0, 0)), year_over=over)]
    for forum in services.plan_forums(partnership):
        hosts.append(HostMeetings(forum.name, forum.id, forum.slug, committed.get(forum.id),
                                  *counts.get(forum.id, (0, 0, 0)), year_over=over))
    return tuple(hosts)


def _timeliness(held: ColumnElement[bool], notice_days: int, minutes_days: int,
                today: date) -> dict[str, Timeliness]:
    """Agenda notice and minutes, from one query of the held meetings' times."""
    rows = db.session.execute(
        select(Meeting.id, Meeting.title, Meeting.starts_at, Meeting.agenda_status,
               Meeting.agenda_published_at, Meeting.minutes_status,
               Meeting.minutes_published_at, func.coalesce(Forum.name, ""))
        .outerjoin(Forum, Forum.id == Meeting.forum_id)
        .where(held).order_by(Meeting.starts_at.desc(), Meeting.id.desc())).tuples()
    agenda_ok = minutes_ok = minutes_judged = judged = 0
    late_agendas: list[MeetingRef] = []
    late_minutes: list[MeetingRef] = []
    for (meeting_id, title, starts_at, agenda_status, agenda_at, minutes_status,
         minutes_at, forum_name) in rows:
        day = starts_at.astimezone(LONDON).date()
        judged += 1
        agenda_due = notice_deadline(day, notice_days)
        published = agenda_at if agenda_status == AgendaStatus.PUBLISHED else None
        if published is not None and published.astimezone(LONDON).date() <= agenda_due \
                and published <= starts_at:
            agenda_ok += 1
        else:
            late_agendas.append(MeetingRef(meeting_id, title, forum_name, starts_at,
                                           published, agenda_due))
        minutes_due = minutes_deadline(day, minutes_days)
        done = minutes_at if minutes_status == MinutesStatus.PUBLISHED else None
        if done is None and today <= minutes_due:
            continue  # not due yet
        minutes_judged += 1
        if done is not None and done.astimezone(LONDON).date() <= minutes_due:
            minutes_ok += 1
        else:
            late_minutes.append(MeetingRef(meeting_id, title, forum_name, starts_at, done,
                                           minutes_due))
    return {
        "notice": Timeliness(notice_days, judged, agenda_ok, tuple(late_agendas)),
        "minutes": Timeliness(minutes_days, minutes_judged, minutes_ok, tuple(late_minutes)),
    }


SIZE_LABELS = {"small": "Small (income £500,000 or less)",
               "larger": "Larger (income over £500,000)",
               "not_said": "Income not given", "unknown": "Organisation not recorded"}
SECTOR_UNKNOWN = ("unknown", "Organisation not recorded")


def _attendance(held: ColumnElement[bool]) -> AttendanceFigures:
    """People marked present, by organisation type and income band: two GROUP BYs."""
    registered = db.session.execute(
        select(Organisation.org_type, Organisation.income_band, func.count(Registration.id))
        .join(Meeting, Meeting.id == Registration.meeting_id)
        .outerjoin(Organisation, Organisation.id == Registration.organisation_id)
        .where(held, Registration.attendance == Attendance.PRESENT,
               Registration.status != RegistrationStatus.CANCELLED)
        .group_by(Organisation.org_type, Organisation.income_band)).tuples()
    marked = db.session.scalar(
        select(func.count(AttendanceMark.id))
        .join(Meeting, Meeting.id == AttendanceMark.meeting_id)
        .where(held, AttendanceMark.attendance == Attendance.PRESENT)) or 0
    sectors: dict[str, int] = defaultdict(int)
    sizes: dict[str, int] = defaultdict(int)
    for org_type, band, count in registered:
        if org_type is None:
            sectors[SECTOR_UNKNOWN[0]] += count
            sizes["unknown"] += count
            continue
        sectors[OrgType(org_type).sector.value] += count
        small = IncomeBand(band).is_small
        sizes["not_said" if small is None else "small" if small else "larger"] += count
    if marked:
        sectors[SECTOR_UNKNOWN[0]] += marked
        sizes["unknown"] += marked
    sector_labels = {s.value: s.label for s in Sector} | dict([SECTOR_UNKNOWN])
    return AttendanceFigures(
        present=sum(sectors.values()),
        by_sector=tuple(Share(key, label, sectors[key]) for key, label in sector_labels.items()
                        if sectors.get(key)),
        by_size=tuple(Share(key, label, sizes[key]) for key, label in SIZE_LABELS.items()
                      if sizes.get(key)),
        small=sizes["small"], size_known=sizes["small"] + sizes["larger"])


VCSE_TYPES = tuple(t for t in OrgType if t.sector is Sector.VCSE)


def _item_requests(in_year: ColumnElement[bool]) -> ItemRequests:
    """Requests by people of a VCSE organisation that is a member of the partnership."""
    vcse_member = exists().where(
        OrganisationMember.user_id == ItemRequest.requested_by_id,
        OrganisationMember.status == RequestStatus.ACTIVE,
        OrganisationMember.organisation_id == Organisation.id,
        Organisation.org_type.in_(VCSE_TYPES),
        Organisation.id.in_(select(PartnershipMember.organisation_id).where(
            PartnershipMember.partnership_id == Meeting.partnership_id,
            PartnershipMember.status == RequestStatus.ACTIVE)))
    rows = dict(db.session.execute(
        select(ItemRequest.status, func.count(ItemRequest.id))
        .join(Meeting, Meeting.id == ItemRequest.meeting_id)
        .where(in_year, Meeting.status != MeetingStatus.CANCELLED, vcse_member,
               ItemRequest.status != ItemRequestStatus.WITHDRAWN)
        .group_by(ItemRequest.status)).tuples().all())
    count = {ItemRequestStatus(key): value for key, value in rows.items()}
    accepted = count.get(ItemRequestStatus.ACCEPTED, 0)
    declined = count.get(ItemRequestStatus.DECLINED, 0)
    pending = count.get(ItemRequestStatus.PENDING, 0)
    return ItemRequests(accepted + declined + pending, accepted, declined, pending)


def _median_days(pairs: list[tuple[datetime, datetime]]) -> float | None:
    days = [(decided - asked).total_seconds() / 86400 for asked, decided in pairs]
    return round(statistics.median(days), 1) if days else None


def _joins(partnership: Partnership, start: datetime,
           end: datetime) -> tuple[JoinRequests, ...]:
    """Requests made in the year: how many were answered (approved or declined, not
    withdrawn) and the median days from asking to the answer."""
    member_rows = db.session.execute(
        select(PartnershipMember.requested_at, PartnershipMember.decided_at)
        .where(PartnershipMember.partnership_id == partnership.id,
               PartnershipMember.requested_at >= start,
               PartnershipMember.requested_at < end)).tuples().all()
    forum_rows = db.session.execute(
        select(ForumMember.requested_at, ForumMember.decided_at)
        .join(Forum, Forum.id == ForumMember.forum_id)
        .where(Forum.partnership_id == partnership.id, Forum.visibility == Visibility.PUBLIC,
               ForumMember.requested_at >= start, ForumMember.requested_at < end,
               ForumMember.status != ForumMemberStatus.WITHDRAWN)).tuples().all()
    result = []
    for what, rows in (("Joining the partnership", member_rows),
                       ("Joining its public forums", forum_rows)):
        answered = [(asked, decided) for asked, decided in rows
                    if asked is not None and decided is not None]
        result.append(JoinRequests(what, len(rows), len(answered), _median_days(answered)))
    return tuple(result)


def direction_label(participant: Sector, host: Sector) -> str:
    """The opportunities figures' words for a direction ("Public sector to VCSE"), or
    "Involving another sector" (a business, say), as ``placements.direction_counts``."""
    direction = Direction(participant, host)
    return direction.label if direction in DIRECTIONS else OTHER_DIRECTION


OTHER_DIRECTION = "Involving another sector"


def _exchanges(partnership: Partnership, start: datetime, end: datetime) -> Exchanges:
    """Placements completed in the year on the partnership's opportunities: one GROUP BY
    over (kind, participant's organisation type, host's organisation type)."""
    participant = Organisation.__table__.alias("participant")
    host = Organisation.__table__.alias("host")
    rows = db.session.execute(
        select(Opportunity.kind, participant.c.org_type, host.c.org_type,
               func.count(Placement.id))
        .join(Application, Application.id == Placement.application_id)
        .join(Opportunity, Opportunity.id == Application.opportunity_id)
        .join(participant, participant.c.id == Application.organisation_id)
        .join(host, host.c.id == Opportunity.organisation_id)
        .where(Opportunity.partnership_id == partnership.id,
               Placement.status == PlacementStatus.COMPLETED,
               Placement.completed_at >= start, Placement.completed_at < end)
        .group_by(Opportunity.kind, participant.c.org_type, host.c.org_type)).tuples()
    directions: dict[str, int] = defaultdict(int)
    kinds: dict[str, int] = defaultdict(int)
    for kind, from_type, to_type, count in rows:
        directions[direction_label(OrgType(from_type).sector, OrgType(to_type).sector)] += count
        kinds[OpportunityKind(kind).value] += count
    return Exchanges(
        total=sum(kinds.values()),
        by_direction=tuple(Share(label, label, n) for label, n in sorted(directions.items())),
        by_kind=tuple(Share(k.value, k.label, kinds[k.value]) for k in OpportunityKind
                      if kinds.get(k.value)))


def _mous(partnership: Partnership, as_of: date) -> MouFigures:
    """Active MoUs on the public register and their reviews, as they stand today (the
    register keeps no history of review dates, so a past year shows them as now)."""
    overdue = and_(Mou.review_date.is_not(None), Mou.review_date < as_of)
    due = and_(Mou.review_date.is_not(None), Mou.review_date >= as_of,
               Mou.review_date <= as_of + timedelta(days=REVIEW_WINDOW_DAYS))
    active, due_count, overdue_count = db.session.execute(
        select(func.count(Mou.id), _count_if(due),
               _count_if(overdue))
        .where(Mou.partnership_id == partnership.id, Mou.status == MouStatus.ACTIVE,
               permissions.mous_visible_to(None))).one()
    return MouFigures(as_of, int(active or 0), int(due_count or 0), int(overdue_count or 0))


def record_years(partnership: Partnership) -> list[int]:
    """Years worth linking to: from the first public meeting or plan to this year (or
    the last planned year, if later), latest first."""
    first = db.session.scalar(select(func.min(Meeting.starts_at))
                              .where(public_meetings(partnership.id)))
    this_year = today_uk().year
    plans = services.plan_years(partnership)
    low = min([this_year, *plans, *([first.astimezone(LONDON).year] if first else [])])
    high = max([this_year, *plans])
    return list(range(high, max(low, this_year - 20) - 1, -1))
