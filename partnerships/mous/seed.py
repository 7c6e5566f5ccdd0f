"""The ``mous`` section of the demo (``flask seed demo``): MoUs on a partnership's
register, each with its versions, parties, clauses and signatures.

It follows the rules in ``partnerships/seed.py``:

- **Loaded into an empty database** (see ``partnerships/seed.py``): every MoU,
  version, party, clause and signature is new, so there is nothing to match or undo.
- **Dates count from loading.** Every date is a whole number of days from the day the
  MoU's partnership was loaded (``start_day: -400`` is 400 days before it), and
  signing times count from that moment too, so a fresh demo always has one MoU
  overdue for review.
- **The same rules as the site.** Parties are active members of the partnership,
  each signature is by an admin of the party it signs for, a version in force or
  superseded is signed by every party, clause responsibilities are parties, and the
  lengths and dates are checked as the services check them. Nothing is audited and
  no email is queued.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..forums.models import Forum
from ..organisations.models import MemberRole, Organisation, OrganisationMember, RequestStatus
from ..partnership.models import Partnership, PartnershipMember, Principle
from ..seed import SeedContext, SeedError, _assign, _check_fields, _entries, _enum, _text
from ..timeutil import to_uk
from . import services
from .models import (
    EndKind,
    Mou,
    MouClause,
    MouForumLink,
    MouParty,
    MouPrinciple,
    MouSignature,
    MouStatus,
    MouVersion,
    VersionStatus,
)

_MOU_FIELDS = {"created_by", "principles", "forums", "publish", "not_published_reason",
               "ended"}
_VERSION_FIELDS = {"changelog", "end_day", "data_sharing_note", "opened_day", "signatures"}
_SIGNED = (VersionStatus.SIGNED, VersionStatus.SUPERSEDED)
_IN_PROGRESS = (VersionStatus.DRAFT, VersionStatus.COMMENTS, VersionStatus.SIGNING)


@dataclass
class _SignatureSpec:
    organisation: Organisation
    signer_id: int
    name: str
    role: str
    at: datetime


@dataclass
class _VersionSpec:
    number: int
    values: dict[str, Any]
    parties: list[tuple[Organisation, str]]
    clauses: list[tuple[str, list[Organisation]]]
    signatures: list[_SignatureSpec] = field(default_factory=list)

    @property
    def status(self) -> VersionStatus:
        return self.values["status"]  # type: ignore[no-any-return]


def _day(entry: dict[str, Any], key: str, anchor: date, where: str,
         required: bool = True) -> date | None:
    value = entry.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise SeedError(f"{where}: {key} should be a whole number of days from the day the "
                        "partnership was loaded (negative for before it)")
    return anchor + timedelta(days=value)


def _moment(entry: dict[str, Any], key: str, anchor: datetime, where: str) -> datetime:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SeedError(f"{where}: {key} should be a whole number of days from the day the "
                        "partnership was loaded (negative for before it)")
    return anchor + timedelta(days=value)


def _members(partnership: Partnership) -> set[int]:
    return set(db.session.scalars(
        select(PartnershipMember.organisation_id).where(
            PartnershipMember.partnership_id == partnership.id,
            PartnershipMember.status == RequestStatus.ACTIVE)
    ))


def _is_admin(user_id: int, org: Organisation) -> bool:
    return db.session.scalar(
        select(OrganisationMember.id).where(
            OrganisationMember.organisation_id == org.id,
            OrganisationMember.user_id == user_id,
            OrganisationMember.status == RequestStatus.ACTIVE,
            OrganisationMember.role == MemberRole.ADMIN)
    ) is not None


def _limit(value: str, limit: int, what: str, where: str) -> str:
    if not value:
        raise SeedError(f"{where}: missing {what}")
    if len(value) > limit:
        raise SeedError(f"{where}: {what} is longer than {limit} characters")
    return value


def _version_spec(entry: dict[str, Any], number: int, ctx: SeedContext, members: set[int],
                  day: date, moment: datetime, where: str) -> _VersionSpec:
    _check_fields(entry, {"title", "purpose", "status", "start_day", "review_day", "parties",
                          "clauses"}, _VERSION_FIELDS, where)
    status = _enum(VersionStatus, entry["status"], where)
    start = _day(entry, "start_day", day, where)
    review = _day(entry, "review_day", day, where)
    end = _day(entry, "end_day", day, where, required=False)
    assert start is not None and review is not None
    if review <= start:
        raise SeedError(f"{where}: the review date must be after the start date")
    if end is not None and (end <= start or review > end):
        raise SeedError(f"{where}: the end date must be after the start and review dates")
    note = _text(entry.get("data_sharing_note"))
    changelog = " ".join(_text(entry.get("changelog")).split()) or (
        services.FIRST_CHANGELOG if number == 1 else "")
    values = {
        "title": _limit(" ".join(_text(entry["title"]).split()), services.TITLE_MAX, "title",
                        where),
        "purpose": _limit(_text(entry["purpose"]), services.PURPOSE_MAX, "purpose", where),
        "start_date": start, "review_date": review, "end_date": end,
        "data_sharing": bool(note),
        "data_sharing_note": _limit(note, services.NOTE_MAX, "data_sharing_note", where)
        if note else "",
        "changelog": _limit(changelog, services.CHANGELOG_MAX, "changelog", where),
        "status": status,
    }

    parties: list[tuple[Organisation, str]] = []
    for item in _entries(entry["parties"], f"{where}: parties"):
        pwhere = f"{where}: party {item.get('organisation', '?')}"
        _check_fields(item, {"organisation", "role"}, set(), pwhere)
        org = ctx.organisation(item["organisation"], pwhere)
        if any(org.id == other.id for other, _role in parties):
            raise SeedError(f"{pwhere}: listed twice")
        if org.id not in members:
            raise SeedError(f"{pwhere}: not an active member of the partnership, so it "
                            "cannot be a party")
        role = _limit(" ".join(_text(item["role"]).split()), services.ROLE_MAX, "role", pwhere)
        parties.append((org, role))
    if len(parties) < 2:
        raise SeedError(f"{where}: an MoU needs at least two parties")
    by_slug = {org.slug: org for org, _role in parties}

    clauses: list[tuple[str, list[Organisation]]] = []
    for n, item in enumerate(_entries(entry["clauses"], f"{where}: clauses"), 1):
        cwhere = f"{where}: clause {n}"
        _check_fields(item, {"text", "responsible"}, set(), cwhere)
        text = _limit(_text(item["text"]), services.CLAUSE_MAX, "text", cwhere)
        slugs = item["responsible"]
        if not isinstance(slugs, list) or not slugs:
            raise SeedError(f"{cwhere}: responsible should be a list of parties' slugs")
        unknown = [slug for slug in slugs if slug not in by_slug]
        if unknown:
            raise SeedError(f"{cwhere}: {unknown[0]!r} is not a party to this version")
        clauses.append((text, [by_slug[slug] for slug in dict.fromkeys(slugs)]))
    if not clauses:
        raise SeedError(f"{where}: a version needs at least one clause")

    spec = _VersionSpec(number, values, parties, clauses)
    for item in _entries(entry.get("signatures"), f"{where}: signatures"):
        swhere = f"{where}: signature {item.get('organisation', '?')}"
        _check_fields(item, {"organisation", "by", "role", "signed_day"}, {"name"}, swhere)
        org = by_slug.get(str(item["organisation"]))
        if org is None:
            raise SeedError(f"{swhere}: not a party to this version")
        if any(s.organisation.id == org.id for s in spec.signatures):
            raise SeedError(f"{swhere}: listed twice")
        signer = ctx.user(item["by"], swhere)
        if not _is_admin(signer.id, org):
            raise SeedError(f"{swhere}: {signer.email} is not an admin of {org.slug}, so "
                            "cannot sign for it")
        name = _limit(_text(item.get("name")) or signer.name, services.NAME_MAX, "name", swhere)
        role = _limit(_text(item["role"]), services.SIGNER_ROLE_MAX, "role", swhere)
        spec.signatures.append(_SignatureSpec(org, signer.id, name, role,
                                              _moment(item, "signed_day", moment, swhere)))
    signed = {s.organisation.id for s in spec.signatures}
    if status in _SIGNED and len(signed) < len(parties):
        raise SeedError(f"{where}: a {status.value} version was signed by every party; "
                        "list a signature for each")
    if status is VersionStatus.SIGNING and len(signed) == len(parties):
        raise SeedError(f"{where}: every party has signed, so the status is signed")
    if status in (VersionStatus.DRAFT, VersionStatus.COMMENTS) and signed:
        raise SeedError(f"{where}: a {status.value} version has no signatures yet")
    opened = None
    if status not in (VersionStatus.DRAFT, VersionStatus.COMMENTS):
        if entry.get("opened_day") is not None:
            opened = _moment(entry, "opened_day", moment, where)
        else:
            first = min((s.at for s in spec.signatures), default=moment)
            opened = first - timedelta(days=7)
        if any(s.at < opened for s in spec.signatures):
            raise SeedError(f"{where}: signed before it was opened for signature")
    values["opened_for_signature_at"] = opened
    values["signed_at"] = (max(s.at for s in spec.signatures) if status in _SIGNED else None)
    return spec


def _check_story(specs: list[_VersionSpec], ended: bool, where: str) -> None:
    """The versions tell a story the site could have told."""
    statuses = [spec.status for spec in specs]
    if statuses.count(VersionStatus.SIGNED) > 1:
        raise SeedError(f"{where}: only one version can be in force (signed)")
    in_progress = [n for n, status in enumerate(statuses, 1) if status in _IN_PROGRESS]
    if len(in_progress) > 1 or (in_progress and in_progress[0] != len(specs)):
        raise SeedError(f"{where}: only the last version can be in progress")
    if VersionStatus.SIGNED in statuses:
        current = statuses.index(VersionStatus.SIGNED)
        if VersionStatus.SUPERSEDED in statuses[current:]:
            raise SeedError(f"{where}: a superseded version comes before the signed one")
    elif VersionStatus.SUPERSEDED in statuses:
        raise SeedError(f"{where}: a version is superseded only by a signed one")
    if ended and (VersionStatus.SIGNED not in statuses or in_progress):
        raise SeedError(f"{where}: an ended MoU was in force (a signed version) and has no "
                        "version in progress")
    if not ended and VersionStatus.SIGNED not in statuses and not in_progress:
        raise SeedError(f"{where}: an MoU needs a version in force or one in progress")


def _add_version_parts(version: MouVersion, spec: _VersionSpec) -> None:
    """One version's parties, clauses and signatures, in the file's order."""
    version.parties.extend(
        MouParty(organisation_id=org.id, role=role, position=position)
        for position, (org, role) in enumerate(spec.parties))
    version.clauses.extend(
        MouClause(number=number, text=text, responsible=list(responsible))
        for number, (text, responsible) in enumerate(spec.clauses, 1))
    version.signatures.extend(
        MouSignature(organisation_id=item.organisation.id, signer_id=item.signer_id,
                     signer_name=item.name, signer_role=item.role,
                     statement=services.statement_for(item.organisation), signed_at=item.at,
                     declined=False, created_at=item.at)
        for item in spec.signatures)


def _load_mou(entry: dict[str, Any], ctx: SeedContext, seen: set[tuple[int, int]]) -> None:
    where = f"mous: {entry.get('partnership', '?')} number {entry.get('number', '?')}"
    _check_fields(entry, {"partnership", "number", "versions"}, _MOU_FIELDS, where)
    partnership = ctx.partnership(entry["partnership"], where)
    number = entry["number"]
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise SeedError(f"{where}: number should be 1, 2, 3 ...")
    if (partnership.id, number) in seen:
        raise SeedError(f"{where}: listed twice")
    seen.add((partnership.id, number))
    # See the module docstring: days count from when the partnership was loaded.
    moment = partnership.created_at
    day = to_uk(moment).date()
    members = _members(partnership)
    versions = _entries(entry["versions"], f"{where}: versions")
    if not versions:
        raise SeedError(f"{where}: an MoU needs at least one version")
    specs = [_version_spec(item, n, ctx, members, day, moment, f"{where}: version {n}")
             for n, item in enumerate(versions, 1)]
    ended_entry = entry.get("ended")
    _check_story(specs, ended_entry is not None, where)
    publish = entry.get("publish", True)
    reason = _text(entry.get("not_published_reason"))
    if not isinstance(publish, bool) or (not publish and not reason) or (publish and reason):
        raise SeedError(f"{where}: publish is true, or false with a not_published_reason")
    ended: dict[str, Any] = {"end_kind": None, "ended_reason": "", "ended_at": None}
    current = next((s for s in specs if s.status is VersionStatus.SIGNED), None)
    end_date = current.values["end_date"] if current else None
    if ended_entry is not None:
        ewhere = f"{where}: ended"
        if not isinstance(ended_entry, dict):
            raise SeedError(f"{ewhere}: expected kind, end_day and reason")
        _check_fields(ended_entry, {"kind", "end_day", "reason"}, set(), ewhere)
        kind = _enum(EndKind, ended_entry["kind"], ewhere)
        if kind not in (EndKind.EXPIRED, EndKind.TERMINATED):
            raise SeedError(f"{ewhere}: kind is expired or terminated")
        end_date = _day(ended_entry, "end_day", day, ewhere)
        assert current is not None and end_date is not None
        if end_date < current.values["start_date"] or end_date > day:
            raise SeedError(f"{ewhere}: it ended after it started, and not after the day "
                            "the partnership was loaded")
        ended = {"end_kind": kind, "ended_at": _moment(ended_entry, "end_day", moment, ewhere),
                 "ended_reason": _limit(_text(ended_entry["reason"]), services.REASON_MAX,
                                        "reason", ewhere)}
    creator = ctx.user(entry["created_by"], where) if entry.get("created_by") else None

    mou = Mou(partnership_id=partnership.id, number=number, status=MouStatus.DRAFT,
              publish=publish)
    db.session.add(mou)
    db.session.flush()
    rows: list[MouVersion] = []
    for spec in specs:
        version = MouVersion(mou_id=mou.id, number=spec.number, **spec.values,
                             based_on_version_id=rows[-1].id if rows else None,
                             created_by_id=creator.id if creator else None)
        mou.versions.append(version)
        _add_version_parts(version, spec)
        db.session.flush()
        rows.append(version)

    pending = next((row for row, spec in zip(rows, specs, strict=True)
                    if spec.status in _IN_PROGRESS), None)
    signed = next((row for row, spec in zip(rows, specs, strict=True)
                   if spec.status is VersionStatus.SIGNED), None)
    if ended_entry is not None:
        status = MouStatus.ENDED
    elif signed is not None:
        status = MouStatus.ACTIVE
    else:
        assert pending is not None
        status = MouStatus(pending.status.value)
    _assign(mou, status=status, current_version=signed, draft_version=pending,
            publish=publish, not_published_reason=reason,
            review_date=signed.review_date if signed else None, end_date=end_date,
            created_by_id=creator.id if creator else None, **ended)
    db.session.flush()

    principles = {_enum(Principle, value, where) for value in entry.get("principles") or []}
    for principle in sorted(principles, key=list(Principle).index):
        mou.principle_rows.append(MouPrinciple(principle=principle))

    forums: set[int] = set()
    for slug in entry.get("forums") or []:
        forum: Forum | None = ctx.forums.get((partnership.slug, str(slug)))
        if forum is None:
            raise SeedError(f"{where}: no forum {slug!r} in {partnership.slug} in the seed file")
        forums.add(forum.id)
    db.session.add_all(MouForumLink(mou_id=mou.id, forum_id=forum_id) for forum_id in forums)
    db.session.flush()
    ctx.count("MoUs")
    ctx.count("MoU versions", len(specs))
    ctx.count("MoU signatures", sum(len(spec.signatures) for spec in specs))


def load_mous(section: Any, ctx: SeedContext) -> None:
    seen: set[tuple[int, int]] = set()
    for entry in _entries(section, "mous"):
        _load_mou(entry, ctx, seen)
    db.session.flush()
