"""The register of MoUs: what a viewer sees on it, its filters, and the open-data exports.

Who sees which entry is decided by ``permissions.MouAccess`` only. The CSV and JSON
exports are built from exactly the entries an anonymous visitor sees on the register
(``public_entries``), whoever asks, so a draft or a members-only MoU can never reach
open data through a signed-in officer's download.

"In review" is an active MoU whose review date is within ``REVIEW_WINDOW_DAYS`` days or
has passed; an MoU is overdue from the day after its review date.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import permissions
from ..bounds import identifier
from ..enums import LabelledEnum
from ..extensions import db
from ..organisations.models import Organisation
from ..partnership.models import Partnership, Principle
from ..timeutil import now_utc
from .models import Mou, MouParty, MouPrinciple, MouStatus, MouVersion
from .services import attach_versions, load_versions
from .standing import Phase, Standing, standing

REVIEW_WINDOW_DAYS = 60
# Spreadsheets run a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class StatusFilter(LabelledEnum):
    SIGNED = "signed", "Signed, not yet in force"
    ACTIVE = "active", "Active"
    REVIEW = "review", f"In review (due within {REVIEW_WINDOW_DAYS} days, or overdue)"
    ENDED = "ended", "Ended"


@dataclass(frozen=True)
class RegisterFilters:
    """What the register's filter form asked for (unknown values are ignored)."""

    status: StatusFilter | None = None
    party_id: int | None = None
    principle: Principle | None = None

    @classmethod
    def from_args(cls, args: Any) -> RegisterFilters:
        """Read ``status``, ``party`` and ``principle`` from a query string, leniently:
        a stale or mistyped value means "any", never an error page."""
        status = args.get("status", "")
        party = args.get("party", "")
        principle = args.get("principle", "")
        return cls(
            status=StatusFilter(status) if status in set(StatusFilter) else None,
            party_id=identifier(party),
            principle=Principle(principle) if principle in set(Principle) else None,
        )

    @property
    def any(self) -> bool:
        return bool(self.status or self.party_id or self.principle)

    def query_args(self) -> dict[str, str]:
        """The filters as query arguments (for the export links)."""
        args = {
            "status": self.status.value if self.status else "",
            "party": str(self.party_id) if self.party_id else "",
            "principle": self.principle.value if self.principle else "",
        }
        return {key: value for key, value in args.items() if value}


def is_due_for_review(mou: Mou, today: date) -> bool:
    """Active, with its review date at most ``REVIEW_WINDOW_DAYS`` days away or passed."""
    return (mou.status is MouStatus.ACTIVE and mou.review_date is not None
            and mou.review_date <= today + timedelta(days=REVIEW_WINDOW_DAYS))


def is_overdue(mou: Mou, today: date) -> bool:
    return (mou.status is MouStatus.ACTIVE and mou.review_date is not None
            and mou.review_date < today)


@dataclass(frozen=True)
class PartyOrganisation:
    """What the register and open data show of a party's organisation."""

    name: str
    slug: str


@dataclass(frozen=True)
class RegisterParty:
    """A party to the version an entry shows, as the register and open data show it:
    read as columns (``parties_of``), not as ``MouParty`` and ``Organisation`` objects,
    which cost most of the register's time to build and which it never changes."""

    organisation_id: int
    role: str
    organisation: PartyOrganisation


def parties_of(version_ids: Iterable[int | None]) -> dict[int, list[RegisterParty]]:
    """The parties of these versions in their order (``MouVersion.parties``), by
    version id, in one query."""
    ids = sorted({vid for vid in version_ids if vid is not None})
    found: dict[int, list[RegisterParty]] = {vid: [] for vid in ids}
    if not ids:
        return found
    rows = db.session.execute(
        select(MouParty.version_id, MouParty.organisation_id, MouParty.role,
               Organisation.name, Organisation.slug)
        .join(Organisation, Organisation.id == MouParty.organisation_id)
        .where(MouParty.version_id.in_(ids))
        .order_by(MouParty.version_id, MouParty.position, MouParty.id)).tuples()
    for version_id, organisation_id, role, name, slug in rows:
        found[version_id].append(
            RegisterParty(organisation_id, role, PartyOrganisation(name, slug)))
    return found


def _parties_loaded(versions: Iterable[MouVersion]) -> dict[int, list[RegisterParty]]:
    """``parties_of`` from versions whose parties are already loaded as objects."""
    return {version.id: [RegisterParty(party.organisation_id, party.role,
                                       PartyOrganisation(party.organisation.name,
                                                         party.organisation.slug))
                         for party in version.parties] for version in versions}


@dataclass
class Entry:
    """One MoU as the register shows it, with the version it describes."""

    mou: Mou
    version: MouVersion | None
    due_for_review: bool
    overdue: bool
    # Where it stands on the register's day (``standing``): label, phrase, "Starts".
    standing: Standing
    # The parties to ``version`` (``parties_of``).
    parties: list[RegisterParty] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.version.title if self.version else self.mou.reference

    @property
    def start_date(self) -> date | None:
        return self.version.start_date if self.version else None

    @property
    def review_date(self) -> date | None:
        if self.mou.review_date is not None:
            return self.mou.review_date
        return self.version.review_date if self.version else None

    @property
    def end_date(self) -> date | None:
        if self.mou.end_date is not None:
            return self.mou.end_date
        return self.version.end_date if self.version else None

    @property
    def is_ended(self) -> bool:
        return self.mou.status is MouStatus.ENDED

    def matches(self, filters: RegisterFilters) -> bool:
        status = filters.status
        if status is StatusFilter.ACTIVE and self.standing.phase is not Phase.ACTIVE:
            return False
        if status is StatusFilter.SIGNED and self.standing.phase is not Phase.SIGNED:
            return False
        if status is StatusFilter.REVIEW and not self.due_for_review:
            return False
        if status is StatusFilter.ENDED and not self.is_ended:
            return False
        if filters.party_id and all(p.organisation_id != filters.party_id
                                    for p in self.parties):
            return False
        return not (filters.principle and filters.principle not in self.mou.principles)


def _load(partnership: Partnership, with_unfinished: bool,
          party_objects: bool = True) -> list[tuple[Mou, MouVersion | None]]:
    """Every MoU of the partnership, newest first, with principles, the versions the
    register shows and their parties (four queries). ``with_unfinished`` also loads the
    last version of MoUs withdrawn before they came into force (only officers see those).
    ``party_objects``: the versions' parties as objects too (``MouAccess.reads_parties``).
    """
    mous = list(db.session.scalars(
        select(Mou).where(Mou.partnership_id == partnership.id)
        .order_by(Mou.number.desc())
        .options(selectinload(Mou.principle_rows))
    ))
    wanted = [vid for mou in mous for vid in (mou.current_version_id, mou.draft_version_id)]
    orphans = [mou.id for mou in mous
               if mou.current_version_id is None and mou.draft_version_id is None]
    last: dict[int, int] = {}
    if with_unfinished and orphans:
        latest = (select(MouVersion.mou_id, func.max(MouVersion.id))
                  .where(MouVersion.mou_id.in_(orphans)).group_by(MouVersion.mou_id))
        last = dict(db.session.execute(latest).tuples().all())
    versions = load_versions([*wanted, *last.values()], full=False, parties=party_objects)
    attach_versions(mous, versions)
    by_id = {version.id: version for version in versions}
    return [(mou, mou.shown_version or by_id.get(last.get(mou.id, 0))) for mou in mous]


def register_entries(
    partnership: Partnership, access: permissions.MouAccess, today: date
) -> list[Entry]:
    """Every entry this viewer may see, newest first (filter with ``filter_entries``)."""
    shown = [(mou, version) for mou, version in _load(
        partnership, with_unfinished=access.manages, party_objects=access.reads_parties)
        if access.can_view_mou(mou)]
    versions = [version for _mou, version in shown if version is not None]
    parties = (_parties_loaded(versions) if access.reads_parties
               else parties_of(version.id for version in versions))
    return [
        Entry(mou, version, is_due_for_review(mou, today), is_overdue(mou, today),
              standing(mou, today), parties.get(version.id, []) if version else [])
        for mou, version in shown
    ]


# --- The register page: filtered and paged in SQL ----------------------------------------

PER_PAGE = 20


@dataclass
class RegisterPage:
    """One page of the register as a viewer sees it with some filters: its entries,
    how many entries match in all, the parties the viewer may filter by, and (for
    officers) what is due for review."""

    entries: list[Entry]
    total: int
    parties: list[tuple[int, str]]  # id and name
    due: list[Entry]


def _shown_version_id(manages: bool) -> Any:
    """SQL: the id of the version an entry describes (``Mou.shown_version``: the one in
    force, else the one in progress; for officers, the last of an MoU withdrawn before
    it came into force)."""
    last = (select(func.max(MouVersion.id)).where(MouVersion.mou_id == Mou.id)
            .correlate(Mou).scalar_subquery())
    return func.coalesce(Mou.current_version_id, Mou.draft_version_id,
                         *([last] if manages else []))


def _conditions(filters: RegisterFilters, shown: Any, today: date) -> list[Any]:
    """``Entry.matches`` as SQL."""
    conditions: list[Any] = []
    if filters.status in (StatusFilter.ACTIVE, StatusFilter.SIGNED):
        # ``standing``: in force from the later of the start date and the last signature
        # (always today or before), so only the start date tells the two apart.
        started = select(MouVersion.id).where(MouVersion.start_date <= today)
        conditions += [Mou.status == MouStatus.ACTIVE,
                       Mou.current_version_id.in_(started)
                       if filters.status is StatusFilter.ACTIVE
                       else Mou.current_version_id.not_in(started)]
    elif filters.status is StatusFilter.REVIEW:
        conditions += [Mou.status == MouStatus.ACTIVE, Mou.review_date.is_not(None),
                       Mou.review_date <= today + timedelta(days=REVIEW_WINDOW_DAYS)]
    elif filters.status is StatusFilter.ENDED:
        conditions.append(Mou.status == MouStatus.ENDED)
    if filters.party_id:
        conditions.append(shown.in_(select(MouParty.version_id).where(
            MouParty.organisation_id == filters.party_id)))
    if filters.principle:
        conditions.append(Mou.id.in_(select(MouPrinciple.mou_id).where(
            MouPrinciple.principle == filters.principle)))
    return conditions


def entries_for(rows: list[tuple[Mou, int | None]], today: date,
                party_objects: bool = False) -> list[Entry]:
    """Entries for these MoUs, each with the id of the version it shows, their versions
    and parties loaded (two queries; with ``party_objects`` the parties are loaded as
    objects, for ``MouAccess`` predicates that read them): the register's page, and
    open data's."""
    wanted = [version_id for _mou, version_id in rows]
    versions = load_versions(wanted, full=False, parties=party_objects)
    parties = _parties_loaded(versions) if party_objects else parties_of(wanted)
    by_id = {version.id: version for version in versions}
    attach_versions([mou for mou, _version_id in rows], versions)
    return [Entry(mou, by_id.get(version_id) if version_id else None,
                  is_due_for_review(mou, today), is_overdue(mou, today), standing(mou, today),
                  parties.get(version_id, []) if version_id else [])
            for mou, version_id in rows]


def register_page(partnership: Partnership, user: Any, access: permissions.MouAccess,
                  filters: RegisterFilters, today: date, page: int = 1) -> RegisterPage:
    """The entries ``user`` may see on page ``page``, newest first, the filters applied
    in SQL (``permissions.mous_visible_to``, tested to agree with ``can_view_mou``), so
    the page costs the same few queries however long the register is: the page (with
    how many match in all), the versions it shows and their parties, the parties to
    filter by and, for officers, what is due for review."""
    shown = _shown_version_id(access.manages)
    visible = [Mou.partnership_id == partnership.id, permissions.mous_visible_to(user)]
    matching = [*visible, *_conditions(filters, shown, today)]
    page = max(page, 1)
    found = db.session.execute(
        select(Mou, shown, func.count().over()).where(*matching)
        .order_by(Mou.number.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    if found:
        total = found[0][2]
    else:  # past the end (or nothing matches): count them
        total = db.session.scalar(select(func.count(Mou.id)).where(*matching)) or 0
    rows: list[tuple[Mou, int | None]] = [(mou, version_id) for mou, version_id, _n in found]
    due_rows: list[tuple[Mou, int | None]] = []
    if access.manages:
        review = _conditions(RegisterFilters(StatusFilter.REVIEW), shown, today)
        due_rows = [(mou, version_id) for mou, version_id in db.session.execute(
            select(Mou, shown).where(*visible, *review)
            .order_by(Mou.review_date, Mou.number)).tuples()]
    entries = entries_for(rows + due_rows, today, party_objects=access.reads_parties)
    parties = list(db.session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(
            select(MouParty.organisation_id).where(MouParty.version_id.in_(
                select(shown).where(*visible)))))
        .order_by(func.lower(Organisation.name), Organisation.id)).tuples())
    return RegisterPage(entries[:len(rows)], total, parties, entries[len(rows):])


def filter_entries(entries: Iterable[Entry], filters: RegisterFilters) -> list[Entry]:
    return [entry for entry in entries if entry.matches(filters)]


def party_choices(entries: Iterable[Entry]) -> list[PartyOrganisation]:
    """The organisations that are parties to entries the viewer can see, by name (so the
    filter never names a party to a draft the viewer cannot see)."""
    organisations: dict[int, PartyOrganisation] = {}
    for entry in entries:
        for party in entry.parties:
            organisations.setdefault(party.organisation_id, party.organisation)
    return sorted(organisations.values(), key=lambda org: org.name.lower())


def due_for_review(entries: Iterable[Entry]) -> list[Entry]:
    """Active MoUs due for review within the window or overdue, soonest first."""
    due = [entry for entry in entries if entry.due_for_review]
    return sorted(due, key=lambda entry: (entry.review_date or date.max, entry.mou.number))


def public_conditions(filters: RegisterFilters, today: date) -> list[Any]:
    """SQL conditions on ``Mou``: on the register as an anonymous visitor sees it
    (``permissions.mous_visible_to(None)``), in any partnership, with these filters
    (open data's list of MoUs)."""
    return [permissions.mous_visible_to(None),
            *_conditions(filters, _shown_version_id(False), today)]


# --- Exports ---------------------------------------------------------------------------


def public_entries(partnership: Partnership, filters: RegisterFilters,
                   today: date) -> list[Entry]:
    """Exactly what an anonymous visitor sees on the register (with these filters)."""
    anonymous = permissions.mou_access(None, partnership)
    return filter_entries(register_entries(partnership, anonymous, today), filters)


def export_record(entry: Entry) -> dict[str, Any]:
    """One entry of the open-data export: the fields the register shows, and links."""
    mou, version = entry.mou, entry.version
    slug = mou.partnership.slug
    return {
        "reference": mou.reference,
        "title": entry.title,
        "url": url_for("mous.show", slug=slug, mou_id=mou.id, _external=True),
        "status": entry.standing.value,
        "status_label": entry.standing.label,
        "status_phrase": entry.standing.phrase,
        "version": version.number if version else None,
        "version_signed_at": (version.signed_at.isoformat()
                              if version and version.signed_at else None),
        "in_force_from": _iso(entry.standing.in_force_from),
        "parties": [{"name": party.organisation.name, "role": party.role,
                     "url": url_for("organisations.show", key=party.organisation.slug,
                                    _external=True)}
                    for party in entry.parties],
        "start_date": _iso(entry.start_date),
        "review_date": None if entry.is_ended else _iso(entry.review_date),
        "due_for_review": entry.due_for_review,
        "review_overdue": entry.overdue,
        "end_date": _iso(entry.end_date),
        "end_kind": mou.end_kind.value if entry.is_ended and mou.end_kind else None,
        "ended_reason": mou.ended_reason if entry.is_ended else "",
        "principles": [principle.label for principle in mou.principles],
        "data_sharing": bool(version.data_sharing) if version else False,
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def export_json(partnership: Partnership, entries: list[Entry]) -> dict[str, Any]:
    return {
        "partnership": {
            "name": partnership.name,
            "slug": partnership.slug,
            "url": url_for("partnership.show", slug=partnership.slug, _external=True),
            "register_url": url_for("mous.register", slug=partnership.slug, _external=True),
        },
        "generated_at": now_utc().replace(microsecond=0).isoformat(),
        "mous": [export_record(entry) for entry in entries],
    }


# The JSON export's fields, in this order, as the CSV header row.
CSV_COLUMNS = [
    "reference", "title", "status", "status_label", "parties", "start_date", "review_date",
    "due_for_review", "review_overdue", "end_date", "end_kind", "ended_reason", "version",
    "version_signed_at", "in_force_from", "status_phrase", "principles", "data_sharing",
    "url",
]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # Stop a title such as "=HYPERLINK(...)" running as a formula when opened.
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def export_csv(entries: list[Entry]) -> str:
    """The register as CSV with a header row: the JSON export's fields, flattened (the
    caller encodes it as UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        record = export_record(entry)
        record["parties"] = "; ".join(f"{p['name']} ({p['role']})" for p in record["parties"])
        record["principles"] = "; ".join(record["principles"])
        writer.writerow([_cell(record[key]) for key in CSV_COLUMNS])
    return out.getvalue()
