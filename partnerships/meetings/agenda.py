"""A meeting's agenda: items, papers, publication with notice, revisions after
publication, members' requests for items, and what the meeting page shows of it.

Rules held here (the views only load, authorise, validate and commit):

- Only organisers change the agenda, and never once the meeting is cancelled.
- Items keep positions 1..n with no gaps; a new item goes before "Any other business"
  when that closes the agenda.
- Publication needs at least one item. The forum's notice is counted in *clear*
  working days: neither the day of publication nor the day of the meeting counts, nor
  weekends and England-and-Wales bank holidays. Days are UK calendar days, so an agenda
  published at 00:30 BST belongs to that UK day, not the UTC one before it.
- Once published, every change leaves an ``AgendaRevision`` note ("Item 4 paper
  'Budget' added on 3 March 2027") shown on the meeting page, and the forum's members
  and the people registered get one email per change.
- Papers follow the meeting's visibility, and a draft agenda's papers are for the
  organisers only (checked by the download view with ``permissions.can_download_paper``).

Services flush; the caller commits. Stored files of removed papers are returned so the
caller deletes them only after the commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from flask import url_for
from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.datastructures import FileStorage

from .. import audit, conditional, mail, permissions, uploads
from ..accounts.models import User
from ..errors import Conflict, PermissionDenied, ValidationError
from ..extensions import db
from ..mail.kinds import Kind
from ..modelbase import utcnow
from ..organisations.models import Organisation
from ..timeutil import (
    clear_working_days_between,
    format_day,
    latest_day_for_notice,
    to_uk,
    today_uk,
)
from . import hosts, queries
from .models import (
    MINUTES_MAX,
    NAME_MAX,
    NOTES_MAX,
    REASON_MAX,
    TITLE_MAX,
    ActionItem,
    AgendaItem,
    AgendaRevision,
    AgendaStatus,
    ItemRequest,
    ItemRequestStatus,
    Meeting,
    Paper,
    Registration,
    RegistrationStatus,
    StandardItem,
)

PAPER_KINDS = (uploads.FileKind.PDF, uploads.FileKind.DOCX, uploads.FileKind.ODT,
               uploads.FileKind.XLSX, uploads.FileKind.PPTX, uploads.FileKind.CSV,
               uploads.FileKind.TXT)
PAPERS_PER_ITEM = 10
ITEMS_MAX = 60
# Standard items that open the agenda, in their usual order; AOB closes it.
OPENING_ITEMS = (StandardItem.WELCOME, StandardItem.DECLARATIONS,
                 StandardItem.PREVIOUS_MINUTES, StandardItem.MATTERS_ARISING)


# --- Notice in clear working days -------------------------------------------------------


def meeting_day(meeting: Meeting) -> date:
    """The UK calendar day of the meeting (not the UTC one)."""
    return to_uk(meeting.starts_at).date()


@dataclass(frozen=True)
class Notice:
    """Where a meeting's agenda stands against its host's notice period."""

    days: int                     # the forum's (or partnership's) notice, clear working days
    meeting_day: date
    due_day: date                 # the last day to publish and still give that notice
    published_day: date | None    # UK day the agenda was published
    given: int | None             # clear working days given, once published
    met: bool | None              # as recorded on publication
    late: bool                    # still a draft and the due day has passed
    host: str = "forum"           # whose notice: "forum", or "partnership" for its own

    @property
    def published(self) -> bool:
        return self.published_day is not None


def notice_due_day(day: date, notice_days: int) -> date:
    """The last UK day an agenda can be published for a meeting on ``day``."""
    return latest_day_for_notice(day, notice_days)


def notice_met(published_on: date, day: date, notice_days: int) -> bool:
    """Whether publishing on ``published_on`` gives the notice for a meeting on ``day``:
    enough clear working days between them. On a working day that is publication on or
    before ``notice_due_day``; the weekend or bank holiday just after the due day still
    gives the notice (the clear days counted are the same), so it is not called late."""
    return clear_working_days_between(published_on, day) >= notice_days


def notice_for(meeting: Meeting, today: date | None = None) -> Notice:
    today = today or today_uk()
    day = meeting_day(meeting)
    days = meeting.notice_days
    due = notice_due_day(day, days)
    published_day = (to_uk(meeting.agenda_published_at).date()
                     if meeting.agenda_published and meeting.agenda_published_at else None)
    return Notice(
        days=days, meeting_day=day, due_day=due, published_day=published_day,
        given=(clear_working_days_between(published_day, day)
               if published_day is not None else None),
        met=meeting.notice_met if meeting.agenda_published else None,
        late=not meeting.agenda_published and not notice_met(today, day, days),
        host="forum" if meeting.forum_id is not None else "partnership",
    )


# --- Loading ------------------------------------------------------------------------------


def items_for_page(meeting: Meeting) -> list[AgendaItem]:
    """The agenda with presenters and papers, in one query however long it is."""
    return list(db.session.scalars(_items_for_page_statement(),
                                   {"meeting_id": meeting.id}).unique())


@cache
def _items_for_page_statement() -> Any:
    """``items_for_page``' statement (parameter ``meeting_id``), built once."""
    return (select(AgendaItem)
            .options(joinedload(AgendaItem.presenter),
                     joinedload(AgendaItem.presenter_organisation),
                     joinedload(AgendaItem.papers))
            .where(AgendaItem.meeting_id == bindparam("meeting_id"))
            .order_by(AgendaItem.position, AgendaItem.id))


def get_item(meeting: Meeting, item_id: int) -> AgendaItem | None:
    return db.session.scalar(select(AgendaItem).where(AgendaItem.id == item_id,
                                                      AgendaItem.meeting_id == meeting.id))


def get_paper(meeting: Meeting, paper_id: int) -> Paper | None:
    return db.session.scalar(
        select(Paper).join(Paper.item).options(joinedload(Paper.item))
        .where(Paper.id == paper_id, AgendaItem.meeting_id == meeting.id))


def get_request(meeting: Meeting, request_id: int) -> ItemRequest | None:
    return db.session.scalar(
        select(ItemRequest).options(joinedload(ItemRequest.requested_by))
        .where(ItemRequest.id == request_id, ItemRequest.meeting_id == meeting.id))


def revisions(meeting: Meeting) -> list[AgendaRevision]:
    return list(db.session.scalars(
        select(AgendaRevision).where(AgendaRevision.meeting_id == meeting.id)
        .order_by(AgendaRevision.created_at, AgendaRevision.id)))


def requests_for(meeting: Meeting, status: ItemRequestStatus | None = None) -> list[ItemRequest]:
    """Item requests of a meeting (oldest first), with who asked."""
    conditions = [ItemRequest.meeting_id == meeting.id]
    if status is not None:
        conditions.append(ItemRequest.status == status)
    return list(db.session.scalars(
        select(ItemRequest).options(joinedload(ItemRequest.requested_by))
        .where(*conditions).order_by(ItemRequest.created_at, ItemRequest.id)))


def presenter_choices(meeting: Meeting) -> tuple[list[User], list[Organisation]]:
    """People who can be named as presenters (the host's members and organisers:
    ``hosts.members_and_organisers``) and organisations (the partnership's members and
    those the forum's members represent)."""
    people = list(db.session.scalars(
        select(User).where(hosts.members_and_organisers(meeting), User.deleted_at.is_(None))
        .order_by(User.name, User.id)))
    organisations = list(db.session.scalars(
        select(Organisation).where(Organisation.id.in_(hosts.organisation_ids(meeting)))
        .order_by(Organisation.name, Organisation.id)))
    return people, organisations


# --- Permissions that need the agenda's state ---------------------------------------------


# --- Helpers for changes ------------------------------------------------------------------


def _require_organiser(actor: User, meeting: Meeting, *items: AgendaItem) -> None:
    """Refuse anyone but the meeting's organisers, then lock the meeting and read its
    agenda again: the first step of every change to an agenda. Two convenors changing
    it at once each renumber the items, so the second must see the first's items (on
    PostgreSQL they would both number a new item 3; SQLite lets one write at a time).
    ``items`` are the ones this change is about: refused if removed meanwhile."""
    if not permissions.can_manage_meeting(actor, meeting):
        raise PermissionDenied("Only the forum's convenors and the partnership's officers "
                               "can change the agenda.")
    conditional.lock(meeting)
    db.session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)
                       .execution_options(populate_existing=True)).all()
    db.session.expire(meeting, ["items"])
    if meeting.is_cancelled:
        raise Conflict("This meeting has been cancelled, so its agenda cannot be changed.")
    if any(item not in meeting.items for item in items):
        raise Conflict("That item has just been removed from the agenda by someone else.")


def _today_text(now: datetime | None = None) -> str:
    return format_day(to_uk(now or utcnow()).date())


def _renumber(items: list[AgendaItem]) -> None:
    for number, item in enumerate(items, start=1):
        item.position = number


def _ordered(meeting: Meeting) -> list[AgendaItem]:
    return sorted(meeting.items, key=lambda item: (item.position, item.id or 0))


def recipients(meeting: Meeting, exclude: User | None = None) -> list[User]:
    """The host's members (``hosts.members``) and the people registered (not
    cancelled), each once; for a members-only meeting, only those who may still see it."""
    registered = select(Registration.user_id).where(
        Registration.meeting_id == meeting.id,
        Registration.status != RegistrationStatus.CANCELLED,
        Registration.user_id.is_not(None))
    conditions = [or_(hosts.members(meeting), User.id.in_(registered)),
                  permissions.people_who_may_see_meeting(meeting), User.deleted_at.is_(None)]
    if exclude is not None:
        conditions.append(User.id != exclude.id)
    return list(db.session.scalars(select(User).where(*conditions).order_by(User.id)))


def _tell_everyone(meeting: Meeting, actor: User | None, template: str, subject: str,
                   **context: Any) -> int:
    url = url_for("meetings.show", meeting_id=meeting.id, _external=True, _anchor="agenda")
    people = recipients(meeting, exclude=actor)
    for person in people:
        mail.queue(person.email, subject, template, kind=Kind.MEETING_AGENDA, recipient=person,
                   scope=meeting.forum or meeting.partnership, user=person, meeting=meeting,
                   meeting_url=url, **context)
    return len(people)


def _revise(actor: User, meeting: Meeting, note: str) -> AgendaRevision | None:
    """After publication: record the change for the meeting page and tell everyone
    (one email each per change). Before publication nothing is recorded."""
    if not meeting.agenda_published:
        return None
    revision = AgendaRevision(meeting_id=meeting.id, note=note, created_by_id=actor.id)
    db.session.add(revision)
    db.session.flush()
    audit.record(actor, "meeting.agenda_revised", "meeting", meeting.id, note=note)
    _tell_everyone(meeting, actor, "meeting_agenda_revised",
                   f"Agenda changed in {meeting.host_name}: {meeting.title}, "
                   f"{format_day(meeting_day(meeting))}",
                   note=note)
    return revision


# --- Items --------------------------------------------------------------------------------


@dataclass
class ItemDetails:
    """What an organiser enters for an agenda item."""

    title: str
    presenter_id: int | None = None
    presenter_organisation_id: int | None = None
    presenter_name: str = ""
    minutes_allowed: int | None = None
    notes: str = ""


_ITEM_LABELS = {"title": "title", "presenter_id": "presenter",
                "presenter_organisation_id": "presenter", "presenter_name": "presenter",
                "minutes_allowed": "time allowed", "notes": "notes"}


def _check_item(meeting: Meeting, details: ItemDetails, item: AgendaItem | None = None) -> None:
    details.title = " ".join(details.title.split())
    details.presenter_name = " ".join(details.presenter_name.split())
    details.notes = details.notes.strip()
    if not details.title:
        raise ValidationError("Enter the item's title", field="title")
    if len(details.title) > TITLE_MAX:
        raise ValidationError(f"Title must be {TITLE_MAX} characters or fewer", field="title")
    if len(details.presenter_name) > NAME_MAX:
        raise ValidationError(f"The presenter's name must be {NAME_MAX} characters or fewer",
                              field="presenter_name")
    if len(details.notes) > NOTES_MAX:
        raise ValidationError(f"Notes must be {NOTES_MAX} characters or fewer", field="notes")
    if details.minutes_allowed is not None and not 1 <= details.minutes_allowed <= MINUTES_MAX:
        raise ValidationError(f"Time allowed must be between 1 and {MINUTES_MAX} minutes",
                              field="minutes_allowed")
    if details.presenter_id is None and details.presenter_organisation_id is None:
        return
    people, organisations = presenter_choices(meeting)
    kept_person = item.presenter_id if item else None
    kept_org = item.presenter_organisation_id if item else None
    if details.presenter_id not in {None, kept_person, *(p.id for p in people)}:
        raise ValidationError("Select a presenter from the forum's members",
                              field="presenter_id")
    if details.presenter_organisation_id not in {None, kept_org,
                                                 *(o.id for o in organisations)}:
        raise ValidationError("Select an organisation from the list",
                              field="presenter_organisation_id")


def _set_item(item: AgendaItem, details: ItemDetails) -> list[str]:
    """Copy details onto the item; the plain-English names of what changed."""
    changed: list[str] = []
    for name, label in _ITEM_LABELS.items():
        value = getattr(details, name)
        if getattr(item, name) != value:
            setattr(item, name, value)
            if label not in changed:
                changed.append(label)
    return changed


def add_item(actor: User, meeting: Meeting, details: ItemDetails,
             standard: StandardItem | None = None) -> AgendaItem:
    """Add an item at the end of the agenda (before "Any other business")."""
    _require_organiser(actor, meeting)
    _check_item(meeting, details)
    items = _ordered(meeting)
    if len(items) >= ITEMS_MAX:
        raise ValidationError(f"An agenda can have at most {ITEMS_MAX} items", field="title")
    index = len(items)
    if standard is not StandardItem.AOB and items and items[-1].standard is StandardItem.AOB:
        index -= 1
    item = AgendaItem(meeting=meeting, position=0, title=details.title, standard=standard)
    db.session.add(item)
    _set_item(item, details)
    items.insert(index, item)
    _renumber(items)
    db.session.flush()
    audit.record(actor, "meeting.agenda_item_added", "meeting", meeting.id, item_id=item.id,
                 title=item.title, position=item.position)
    _revise(actor, meeting, f"Item '{item.title}' added as item {item.position} on "
                            f"{_today_text()}")
    return item


def update_item(actor: User, item: AgendaItem, details: ItemDetails) -> list[str]:
    """Change an item; returns what changed (nothing recorded if nothing did)."""
    meeting = item.meeting
    _require_organiser(actor, meeting, item)
    _check_item(meeting, details, item)
    changed = _set_item(item, details)
    if not changed:
        return []
    db.session.flush()
    audit.record(actor, "meeting.agenda_item_changed", "meeting", meeting.id, item_id=item.id,
                 changed=changed)
    _revise(actor, meeting, f"Item {item.position} '{item.title}' changed on "
                            f"{_today_text()}: {', '.join(changed)}")
    return changed


def remove_item(actor: User, item: AgendaItem) -> list[str]:
    """Take an item off the agenda with its papers. Returns the stored file names to
    delete once the change is committed. An item with minutes is kept (the record)."""
    meeting = item.meeting
    _require_organiser(actor, meeting, item)
    if item.minutes.strip():
        raise Conflict("This item has minutes, so it stays on the agenda as part of the "
                       "record.")
    stored = [paper.stored_name for paper in item.papers]
    title, position = item.title, item.position
    items = _ordered(meeting)
    items.remove(item)
    meeting.items.remove(item)
    _renumber(items)
    db.session.flush()
    audit.record(actor, "meeting.agenda_item_removed", "meeting", meeting.id, title=title,
                 position=position, papers=len(stored))
    _revise(actor, meeting, f"Item {position} '{title}' removed on {_today_text()}")
    return _unused(stored)


def move_item(actor: User, item: AgendaItem, direction: str) -> bool:
    """Move an item one place up or down; False if it is already first or last."""
    meeting = item.meeting
    _require_organiser(actor, meeting, item)
    if direction not in ("up", "down"):
        raise ValidationError("Choose to move the item up or down", field="direction")
    items = _ordered(meeting)
    index = items.index(item)
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(items):
        _renumber(items)
        return False
    before = item.position
    items[index], items[target] = items[target], items[index]
    _renumber(items)
    db.session.flush()
    audit.record(actor, "meeting.agenda_item_moved", "meeting", meeting.id, item_id=item.id,
                 direction=direction, position=item.position)
    _revise(actor, meeting, f"Item '{item.title}' moved from item {before} to item "
                            f"{item.position} on {_today_text()}")
    return True


def add_standard_items(actor: User, meeting: Meeting) -> list[AgendaItem]:
    """Add the standard items not already there: the opening ones at the top in their
    usual order (after any opening items already present), "Any other business" at the
    end. Returns the items added (none if all were there)."""
    _require_organiser(actor, meeting)
    items = _ordered(meeting)
    present = {item.standard for item in items if item.standard is not None}
    added: list[AgendaItem] = []
    for rank, standard in enumerate(OPENING_ITEMS):
        if standard in present:
            continue
        earlier = set(OPENING_ITEMS[:rank])
        index = 0
        for position, existing in enumerate(items):
            if existing.standard in earlier:
                index = position + 1
        item = AgendaItem(meeting=meeting, position=0, title=standard.title,
                          standard=standard)
        db.session.add(item)
        items.insert(index, item)
        added.append(item)
    if StandardItem.AOB not in present:
        item = AgendaItem(meeting=meeting, position=0, title=StandardItem.AOB.title,
                          standard=StandardItem.AOB)
        db.session.add(item)
        items.append(item)
        added.append(item)
    if not added:
        return []
    if len(items) > ITEMS_MAX:
        raise ValidationError(f"An agenda can have at most {ITEMS_MAX} items", field="title")
    _renumber(items)
    db.session.flush()
    titles = [item.title for item in added]
    audit.record(actor, "meeting.agenda_standard_items_added", "meeting", meeting.id,
                 titles=titles)
    _revise(actor, meeting, f"Standard items added on {_today_text()}: {', '.join(titles)}")
    return added


# --- Papers ---------------------------------------------------------------------------------


def add_paper(actor: User, item: AgendaItem, title: str, upload: FileStorage | None) -> Paper:
    """Attach a paper (PDF, DOCX, ODT, XLSX, PPTX or CSV, checked by content, 20MB)."""
    meeting = item.meeting
    _require_organiser(actor, meeting, item)
    title = " ".join((title or "").split())
    if not title:
        raise ValidationError("Enter the paper's title", field="title")
    if len(title) > TITLE_MAX:
        raise ValidationError(f"Title must be {TITLE_MAX} characters or fewer", field="title")
    if len(item.papers) >= PAPERS_PER_ITEM:
        raise ValidationError(f"An item can have at most {PAPERS_PER_ITEM} papers. Remove "
                              "one first.", field="file")
    stored = uploads.save(upload, PAPER_KINDS, field="file")
    paper = Paper(title=title, original_filename=stored.original_filename,
                  stored_name=stored.stored_name, content_type=stored.content_type,
                  size_bytes=stored.size, sha256=stored.sha256, uploaded_by_id=actor.id)
    item.papers.append(paper)
    db.session.flush()
    audit.record(actor, "meeting.paper_added", "meeting", meeting.id, item_id=item.id,
                 paper_id=paper.id, filename=paper.original_filename, sha256=paper.sha256,
                 size=paper.size_bytes)
    _revise(actor, meeting, f"Item {item.position} paper '{title}' added on {_today_text()}")
    return paper


def remove_paper(actor: User, paper: Paper) -> list[str]:
    """Remove a paper; after publication this leaves a revision note. Returns the
    stored file to delete once committed."""
    item = paper.item
    meeting = item.meeting
    _require_organiser(actor, meeting, item)
    stored, title = paper.stored_name, paper.title
    audit.record(actor, "meeting.paper_removed", "meeting", meeting.id, item_id=item.id,
                 paper_id=paper.id, filename=paper.original_filename, sha256=paper.sha256)
    item.papers.remove(paper)
    db.session.flush()
    _revise(actor, meeting, f"Item {item.position} paper '{title}' removed on {_today_text()}")
    return _unused([stored])


def _unused(stored_names: Iterable[str]) -> list[str]:
    """Those stored files that no remaining paper points at."""
    names = list(stored_names)
    if not names:
        return []
    used = set(db.session.scalars(select(Paper.stored_name)
                                  .where(Paper.stored_name.in_(names))))
    return [name for name in names if name not in used]


# --- Publication ----------------------------------------------------------------------------


def publish(actor: User, meeting: Meeting, now: datetime | None = None) -> Notice:
    """Publish the agenda, recording whether the forum's notice was met, and email the
    forum's members and the people registered (one email each)."""
    _require_organiser(actor, meeting)
    if meeting.agenda_published:
        raise Conflict("The agenda has already been published.")
    if not meeting.items:
        raise ValidationError("Add at least one item before publishing the agenda",
                              field="submit")
    now = now or utcnow()
    published_on = to_uk(now).date()
    met = notice_met(published_on, meeting_day(meeting), meeting.notice_days)
    meeting.agenda_status = AgendaStatus.PUBLISHED
    meeting.agenda_published_at = now
    meeting.notice_met = met
    db.session.flush()
    notice = notice_for(meeting, published_on)
    audit.record(actor, "meeting.agenda_published", "meeting", meeting.id, notice_met=met,
                 notice_days=notice.days, clear_days_given=notice.given)
    _tell_everyone(meeting, actor, "meeting_agenda_published",
                   f"Agenda published in {meeting.host_name}: {meeting.title}, "
                   f"{format_day(meeting_day(meeting))}",
                   items=_ordered(meeting))
    return notice


# --- Item requests --------------------------------------------------------------------------


@dataclass
class RequestDetails:
    title: str
    reason: str
    presenter: str = ""


def request_item(actor: User, meeting: Meeting, details: RequestDetails) -> ItemRequest:
    """A member asks for an item; the forum's convenors are told."""
    if not permissions.can_request_agenda_item(actor, meeting):
        raise PermissionDenied("Only members of the forum can ask for an agenda item.")
    if meeting.is_cancelled:
        raise Conflict("This meeting has been cancelled.")
    if meeting.has_started():
        raise Conflict("This meeting has already started, so items can no longer be "
                       "requested.")
    title = " ".join(details.title.split())
    reason = details.reason.strip()
    presenter = " ".join(details.presenter.split())
    if not title:
        raise ValidationError("Enter a title for the item", field="title")
    if len(title) > TITLE_MAX:
        raise ValidationError(f"Title must be {TITLE_MAX} characters or fewer", field="title")
    if not reason:
        raise ValidationError("Enter why the forum should discuss this", field="reason")
    if len(reason) > REASON_MAX:
        raise ValidationError(f"The reason must be {REASON_MAX} characters or fewer",
                              field="reason")
    if len(presenter) > NAME_MAX:
        raise ValidationError(f"Who will present must be {NAME_MAX} characters or fewer",
                              field="presenter")
    request = ItemRequest(meeting_id=meeting.id, requested_by_id=actor.id, title=title,
                          reason=reason, presenter=presenter)
    db.session.add(request)
    db.session.flush()
    audit.record(actor, "meeting.item_requested", "meeting", meeting.id,
                 request_id=request.id, title=title)
    requests_url = url_for("meetings.item_requests", meeting_id=meeting.id, _external=True)
    for convenor in db.session.scalars(
            select(User).where(hosts.organisers(meeting), User.deleted_at.is_(None),
                               User.id != actor.id)):
        mail.queue(convenor.email,
                   f"Agenda item requested in {meeting.host_name}: {meeting.title}",
                   "meeting_item_request_received", kind=Kind.REQUESTS_TO_DECIDE,
                   recipient=convenor, user=convenor, meeting=meeting,
                   request=request, requester=actor, requests_url=requests_url)
    return request


def _require_pending(request: ItemRequest) -> None:
    if request.status is not ItemRequestStatus.PENDING:
        raise Conflict("This request has already been decided or withdrawn.")


def _decide(actor: User, request: ItemRequest, status: ItemRequestStatus,
            **values: object) -> None:
    """Decide a request once: a conditional UPDATE from pending, so two organisers
    deciding it at the same moment cannot both (the item added twice)."""
    if not conditional.change(request, ItemRequest.status == ItemRequestStatus.PENDING,
                              status=status, decided_by_id=actor.id, decided_at=utcnow(),
                              **values):
        raise Conflict("This request has already been decided or withdrawn.")


def _tell_requester(request: ItemRequest, template: str, subject: str) -> None:
    person = request.requested_by
    if person is None or person.deleted_at is not None:
        return
    mail.queue(person.email, subject, template, kind=Kind.MY_REQUEST_DECIDED,
               recipient=person, user=person, meeting=request.meeting,
               request=request,
               meeting_url=url_for("meetings.show", meeting_id=request.meeting_id,
                                   _external=True, _anchor="agenda"))


def accept_request(actor: User, request: ItemRequest) -> AgendaItem:
    """Put the requested item on the agenda (before "Any other business") and tell the
    person who asked."""
    meeting = request.meeting
    _require_organiser(actor, meeting)
    _require_pending(request)
    if meeting.has_ended():
        raise Conflict("This meeting has taken place, so the item cannot be added.")
    _decide(actor, request, ItemRequestStatus.ACCEPTED)
    item = add_item(actor, meeting, ItemDetails(title=request.title,
                                                presenter_name=request.presenter))
    request.item_id = item.id
    db.session.flush()
    audit.record(actor, "meeting.item_request_accepted", "meeting", meeting.id,
                 request_id=request.id, item_id=item.id)
    _tell_requester(request, "meeting_item_request_accepted",
                    f"Your agenda item was accepted: {meeting.title} ({meeting.host_name})")
    return item


def decline_request(actor: User, request: ItemRequest, reason: str) -> None:
    """Decline with a reason the person who asked is emailed."""
    meeting = request.meeting
    if not permissions.can_manage_meeting(actor, meeting):
        raise PermissionDenied("Only the forum's organisers can decide item requests.")
    _require_pending(request)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Enter why the item is declined", field="reason")
    if len(reason) > REASON_MAX:
        raise ValidationError(f"The reason must be {REASON_MAX} characters or fewer",
                              field="reason")
    _decide(actor, request, ItemRequestStatus.DECLINED, decision_reason=reason)
    audit.record(actor, "meeting.item_request_declined", "meeting", meeting.id,
                 request_id=request.id, reason=reason)
    _tell_requester(request, "meeting_item_request_declined",
                    f"Your agenda item was declined: {meeting.title} ({meeting.host_name})")


# --- The meeting page -------------------------------------------------------------------


def item_times(meeting: Meeting, items: list[AgendaItem]) -> dict[int, datetime]:
    """Start time of each item, while every item so far has a time allowed (a time
    after an item of unknown length would be a guess)."""
    times: dict[int, datetime] = {}
    at = meeting.starts_at
    for item in items:
        if item.minutes_allowed is None:
            break
        times[item.id] = at
        at += timedelta(minutes=item.minutes_allowed)
    return times


def _visible_actions(user: Any, meeting: Meeting) -> list[ActionItem]:
    """Open actions from earlier meetings that this person may see: actions belong to
    their meeting's minutes, so they follow that meeting's visibility and, until the
    minutes are published, are for the organisers only."""
    return [action for action in queries.open_actions_before(meeting)
            if permissions.can_view_meeting(user, action.meeting)
            and (action.meeting.minutes_published
                 or permissions.can_view_draft_minutes(user, action.meeting))]


def page_context(meeting: Meeting, user: Any) -> dict[str, Any]:
    """The agenda section of the meeting page. At most four queries whatever the
    number of items and papers: items (with presenters and papers), revisions, open
    actions, and the person's (or, for organisers, the waiting) item requests."""
    can_manage = permissions.can_manage_meeting(user, meeting)
    visible = meeting.agenda_published or permissions.can_view_draft_agenda(user, meeting)
    items = items_for_page(meeting) if visible else []
    if visible:
        # The same items, in the same order (ties in position by id, as the database
        # returns them): the minutes section reads them as ``meeting.items`` without
        # loading them again.
        set_committed_value(meeting, "items", items)
    signed_in = bool(getattr(user, "is_authenticated", False))
    my_requests: list[ItemRequest] = []
    pending = 0
    if signed_in:
        mine = ItemRequest.requested_by_id == user.id
        condition = or_(mine, ItemRequest.status == ItemRequestStatus.PENDING) \
            if can_manage else mine
        rows = list(db.session.scalars(
            select(ItemRequest).where(ItemRequest.meeting_id == meeting.id, condition)
            .order_by(ItemRequest.created_at, ItemRequest.id)))
        my_requests = [row for row in rows if row.requested_by_id == user.id]
        pending = sum(1 for row in rows if row.status is ItemRequestStatus.PENDING)
    return {
        "agenda_can_manage": can_manage,
        "agenda_visible": visible,
        "agenda_items": items,
        "agenda_times": item_times(meeting, items),
        "agenda_notice": notice_for(meeting),
        "agenda_revisions": revisions(meeting) if meeting.agenda_published else [],
        "agenda_open_actions": _visible_actions(user, meeting) if visible else [],
        "agenda_has_matters_item": any(item.standard is StandardItem.MATTERS_ARISING
                                       for item in items),
        "agenda_can_request": permissions.can_ask_for_item(user, meeting),
        "agenda_my_requests": my_requests,
        "agenda_pending_requests": pending,
    }
