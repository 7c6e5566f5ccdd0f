"""The ``mous`` section of the demo (``flask seed demo``): MoUs on a partnership's
register, made by its officer through the same services as the site
(``factories/mous.py``), each step at its moment in the past.

- **Days count from loading.** Every date is a whole number of days from the day the
  demo was loaded (``start_day: -400`` is 400 days before it), and every step happens
  that many days before the moment of loading (``clock.at``), so a fresh demo always
  has one MoU overdue for review.
- **The steps.** The officer named by ``by`` (the partnership's first officer if
  unsaid) drafts version 1 with its parties, clauses, related forums and publication
  a week before opening it for signature; it is opened on ``opened_day`` (by default
  a week before its first signature); each party's admin ``by`` signs on their
  ``signed_day``. A later version is an amendment of the one before, with its own
  details, parties and clauses. ``ended`` records the review that ended the MoU.
- **The services' rules.** A step the site would refuse is reported with the service's
  message and where it is in the file. ``status`` says what each version ends up as,
  and is checked against what the steps made, so the file describes the demo.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from .. import clock
from ..accounts.models import User
from ..errors import DomainError
from ..extensions import db
from ..factories import mous as factory
from ..organisations.models import Organisation
from ..partnership.models import Partnership, PartnershipOfficer, Principle
from ..seed import SeedContext, SeedError, check_fields, entries, enum, text
from ..timeutil import to_uk
from .models import EndKind, Mou, MouVersion, VersionStatus

_MOU_FIELDS = {"by", "principles", "forums", "publish", "not_published_reason", "ended"}
_VERSION_FIELDS = {"changelog", "end_day", "data_sharing_note", "opened_day", "signatures"}
_OPEN = (VersionStatus.SIGNING, VersionStatus.SIGNED, VersionStatus.SUPERSEDED)
DRAFTING_DAYS = 7  # a version is drafted this long before it is opened for signature


@dataclass(frozen=True)
class Days:
    """Days counted from the moment the demo was loaded (``clock.now()`` in the load)."""

    moment: datetime

    @classmethod
    def from_now(cls) -> Days:
        return cls(clock.now())

    @property
    def today(self) -> dt.date:
        return to_uk(self.moment).date()

    def number(self, entry: dict[str, Any], key: str, where: str,
               default: int | None = None) -> int:
        value = entry.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise SeedError(f"{where}: {key} should be a whole number of days from the day "
                            "the demo was loaded (negative for before it)")
        return value

    def date(self, entry: dict[str, Any], key: str, where: str) -> dt.date:
        return self.today + timedelta(days=self.number(entry, key, where))

    def past(self, entry: dict[str, Any], key: str, where: str,
             default: int | None = None) -> datetime:
        """The moment of something that has happened: ``key`` days ago (0 or less)."""
        days = self.number(entry, key, where, default)
        if days > 0:
            raise SeedError(f"{where}: {key} is in the future (it must be 0 or less)")
        return self.moment + timedelta(days=days)

    def day_of(self, moment: datetime) -> dt.date:
        """The day in the UK of a moment counted from loading, as the file counts it."""
        return self.today + timedelta(days=(moment - self.moment).days)


@contextmanager
def step(where: str, moment: datetime | None = None) -> Iterator[None]:
    """Run one step (at ``moment``, if given); a refusal becomes a SeedError saying where."""
    try:
        if moment is None:
            yield
        else:
            with clock.at(moment):
                yield
    except DomainError as error:
        field = f" ({error.field})" if error.field else ""
        raise SeedError(f"{where}: {error.message}{field}") from None


@dataclass
class _Signature:
    organisation: Organisation
    by: User
    role: str
    name: str
    at: datetime


def _officer(entry: dict[str, Any], partnership: Partnership, ctx: SeedContext,
             where: str) -> User:
    if entry.get("by"):
        return ctx.user(entry["by"], where)
    officer = db.session.scalar(
        select(User).join(PartnershipOfficer, PartnershipOfficer.user_id == User.id)
        .where(PartnershipOfficer.partnership_id == partnership.id)
        .order_by(PartnershipOfficer.id).limit(1))
    if officer is None:
        raise SeedError(f"{where}: the partnership has no officer to draft it; say who with by")
    return officer


def _signatures(entry: dict[str, Any], ctx: SeedContext, days: Days,
                where: str) -> list[_Signature]:
    signatures = []
    for item in entries(entry.get("signatures"), f"{where}: signatures"):
        swhere = f"{where}: signature {item.get('organisation', '?')}"
        check_fields(item, {"organisation", "by", "role", "signed_day"}, {"name"}, swhere)
        signer = ctx.user(item["by"], swhere)
        signatures.append(_Signature(
            ctx.organisation(item["organisation"], swhere), signer, text(item["role"]),
            text(item.get("name")) or signer.name, days.past(item, "signed_day", swhere)))
    return signatures


def _version(entry: dict[str, Any], mou: Mou | None, partnership: Partnership,
             officer: User, extra: dict[str, Any], ctx: SeedContext, days: Days,
             where: str) -> tuple[Mou, VersionStatus]:
    """Draft (or amend to) one version and take it as far as the file says: sent for
    comments, or opened for signature and signed by the parties listed."""
    check_fields(entry, {"title", "purpose", "status", "start_day", "review_day", "parties",
                          "clauses"}, _VERSION_FIELDS, where)
    status = enum(VersionStatus, entry["status"], where)
    parties = []
    for item in entries(entry["parties"], f"{where}: parties"):
        pwhere = f"{where}: party {item.get('organisation', '?')}"
        check_fields(item, {"organisation", "role"}, set(), pwhere)
        parties.append((ctx.organisation(item["organisation"], pwhere), text(item["role"])))
    clauses = []
    for n, item in enumerate(entries(entry["clauses"], f"{where}: clauses"), 1):
        cwhere = f"{where}: clause {n}"
        check_fields(item, {"text", "responsible"}, set(), cwhere)
        if not isinstance(item["responsible"], list):
            raise SeedError(f"{cwhere}: responsible should be a list of parties' slugs")
        clauses.append((text(item["text"]), [ctx.organisation(slug, cwhere)
                                              for slug in item["responsible"]]))
    note = text(entry.get("data_sharing_note"))
    details: dict[str, Any] = {
        "title": text(entry["title"]), "purpose": text(entry["purpose"]),
        "start_date": days.date(entry, "start_day", where),
        "review_date": days.date(entry, "review_day", where),
        "end_date": days.date(entry, "end_day", where) if "end_day" in entry else None,
        "data_sharing": bool(note), "data_sharing_note": note,
        "changelog": text(entry.get("changelog")),
    }
    signatures = _signatures(entry, ctx, days, where)
    opened = None
    if status in _OPEN:
        first = min((s.at for s in signatures), default=days.moment)
        opened = (days.past(entry, "opened_day", where) if "opened_day" in entry
                  else first - timedelta(days=DRAFTING_DAYS))
        if any(s.at < opened for s in signatures):
            raise SeedError(f"{where}: signed before it was opened for signature")
    drafted = (opened or days.moment) - timedelta(days=DRAFTING_DAYS)

    with step(where, drafted):
        if mou is None:
            mou = factory.draft(officer, partnership, parties, clauses, **extra, **details)
        else:
            details["principles"] = mou.principles
            factory.amend(officer, mou, details.pop("changelog"), parties, clauses,
                          **details)
        if status is VersionStatus.COMMENTS:
            factory.send_for_comments(officer, mou)
    if opened is not None:
        with step(where, opened):
            factory.open_for_signature(officer, mou)
    for signature in sorted(signatures, key=lambda s: s.at):
        version = mou.draft_version
        swhere = f"{where}: signature {signature.organisation.slug}"
        if version is None:
            raise SeedError(f"{swhere}: there is nothing left to sign")
        with step(swhere, signature.at):
            factory.sign(signature.by, version, signature.organisation, signature.role,
                         signature.name)
    return mou, status


def _load_mou(entry: dict[str, Any], ctx: SeedContext, days: Days) -> None:
    where = f"mous: {entry.get('partnership', '?')} number {entry.get('number', '?')}"
    check_fields(entry, {"partnership", "number", "versions"}, _MOU_FIELDS, where)
    partnership = ctx.partnership(entry["partnership"], where)
    number = entry["number"]
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise SeedError(f"{where}: number should be 1, 2, 3 ...")
    officer = _officer(entry, partnership, ctx, where)
    publish = entry.get("publish", True)
    reason = text(entry.get("not_published_reason"))
    if not isinstance(publish, bool) or (publish and reason):
        raise SeedError(f"{where}: publish is true, or false with a not_published_reason")
    forums = []
    for slug in entry.get("forums") or []:
        forum = ctx.forums.get((partnership.slug, str(slug)))
        if forum is None:
            raise SeedError(f"{where}: no forum {slug!r} in {partnership.slug} in the seed file")
        forums.append(forum)
    extra = {"forums": forums, "publish": publish, "not_published_reason": reason,
             "principles": [enum(Principle, value, where)
                            for value in entry.get("principles") or []]}

    mou: Mou | None = None
    declared: list[VersionStatus] = []
    versions = entries(entry["versions"], f"{where}: versions")
    if not versions:
        raise SeedError(f"{where}: an MoU needs at least one version")
    for n, item in enumerate(versions, 1):
        mou, status = _version(item, mou, partnership, officer, extra if n == 1 else {}, ctx,
                               days, f"{where}: version {n}")
        declared.append(status)
    assert mou is not None
    if mou.number != number:
        raise SeedError(f"{where}: number should be 1, 2, 3 ... in the order the "
                        f"partnership's MoUs are listed (this one is {mou.number})")

    ended = entry.get("ended")
    if ended is not None:
        ewhere = f"{where}: ended"
        if not isinstance(ended, dict):
            raise SeedError(f"{ewhere}: expected kind, end_day and reason")
        check_fields(ended, {"kind", "end_day", "reason"}, set(), ewhere)
        moment = days.past(ended, "end_day", ewhere)
        with step(ewhere, moment):
            factory.end(officer, mou, enum(EndKind, ended["kind"], ewhere),
                        days.day_of(moment), text(ended["reason"]), days.day_of(moment))

    db.session.flush()
    made = list(db.session.scalars(
        select(MouVersion).where(MouVersion.mou_id == mou.id).order_by(MouVersion.number)))
    for n, (version, status) in enumerate(zip(made, declared, strict=True), 1):
        if version.status is not status:
            raise SeedError(f"{where}: version {n}: the file says {status.value}, but after "
                            f"the steps listed it is {version.status.value}")
    ctx.count("MoUs")
    ctx.count("MoU versions", len(made))
    ctx.count("MoU signatures", sum(len(version.signatures) for version in made))


def load_mous(section: Any, ctx: SeedContext) -> None:
    days = Days.from_now()
    for entry in entries(section, "mous"):
        _load_mou(entry, ctx, days)
    db.session.flush()
