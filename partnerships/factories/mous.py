"""MoUs made through the services people use (``mous/services.py``, ``mous/reviews.py``),
for the tests, the demo (``mous/seed.py``) and the benchmarks.

Each function acts as the user it is given, so the same permission checks and rules
apply as on the site (as set-up: the emails and audit events are not kept, see
``factories``); it flushes and the caller commits. To record something in the past (an
MoU signed last year), call it inside a ``with clock.at`` block. Dates default to ones
counted from today in the UK.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from ..accounts.models import User
from ..forums.models import Forum
from ..mous import reviews, services
from ..mous.models import EndKind, Mou, MouSignature, MouVersion
from ..mous.services import ClauseDetails, MouDetails, PartyDetails
from ..organisations.models import Organisation
from ..partnership.models import Partnership, Principle
from ..timeutil import today_uk
from . import builder

Party = Organisation | tuple[Organisation, str]  # an organisation, with its role if given
Clause = str | tuple[str, Sequence[Organisation]]  # text, with who is responsible if given


def details(**overrides: Any) -> MouDetails:
    """A draft's details: starts next month, reviewed in a year (override any field)."""
    today = today_uk()
    values: dict[str, Any] = {
        "title": "Working together on winter pressures",
        "purpose": "Keep people well at home through the winter.",
        "start_date": today + timedelta(days=30),
        "review_date": today + timedelta(days=395),
        "principles": [Principle.PARTNERSHIP],
    }
    values.update(overrides)
    return MouDetails(**values)


def _parties(parties: Iterable[Party]) -> list[PartyDetails]:
    return [PartyDetails(p[0].id, p[1]) if isinstance(p, tuple)
            else PartyDetails(p.id, f"Role of {p.name}") for p in parties]


def _clauses(clauses: Iterable[Clause], parties: list[PartyDetails]) -> list[ClauseDetails]:
    """Each clause's text and responsible parties (all the parties unless it says)."""
    everyone = [party.organisation_id for party in parties]
    return [ClauseDetails(c[0], [org.id for org in c[1]]) if isinstance(c, tuple)
            else ClauseDetails(c, list(everyone)) for c in clauses]


@builder
def draft(officer: User, partnership: Partnership, parties: Sequence[Party],
          clauses: Sequence[Clause] = ("We share our plans with each other.",), *,
          forums: Iterable[Forum] = (), publish: bool = True, not_published_reason: str = "",
          **overrides: Any) -> Mou:
    """A new MoU with version 1 in draft, its parties, clauses, related forums and
    publication; ``overrides`` go to ``details``."""
    party_details = _parties(parties)
    mou = services.create_draft(officer, partnership, details(**overrides), party_details)
    services.set_clauses(officer, _pending(mou), _clauses(clauses, party_details))
    forum_ids = [forum.id for forum in forums]
    if forum_ids:
        services.set_forums(officer, mou, forum_ids)
    if not publish:
        services.set_publication(officer, mou, False, not_published_reason)
    return mou


@builder
def amend(officer: User, mou: Mou, changelog: str, parties: Sequence[Party] | None = None,
          clauses: Sequence[Clause] | None = None, **overrides: Any) -> MouVersion:
    """Start an amendment (a new draft copied from the version in force, or revising
    the one out for signature) and change what is given: details, parties, clauses."""
    version = services.start_amendment(officer, mou, changelog)
    if overrides:
        current = {name: getattr(version, name) for name in (
            "title", "purpose", "start_date", "review_date", "end_date", "data_sharing",
            "data_sharing_note")}
        services.update_draft(officer, version, MouDetails(
            **{**current, "changelog": changelog, "principles": list(mou.principles),
               **overrides}))
    if parties is not None:
        services.set_parties(officer, version, _parties(parties))
    if clauses is not None:
        party_details = [PartyDetails(p.organisation_id, p.role) for p in version.parties]
        services.set_clauses(officer, version, _clauses(clauses, party_details))
    return version


def _pending(mou: Mou) -> MouVersion:
    assert mou.draft_version is not None, f"MoU {mou.number} has no version in progress"
    return mou.draft_version


@builder
def send_for_comments(officer: User, mou: Mou) -> MouVersion:
    """Send the draft round the parties for comments."""
    services.send_for_comments(officer, version := _pending(mou))
    return version


@builder
def open_for_signature(officer: User, mou: Mou) -> MouVersion:
    """Freeze the draft and ask the parties to sign."""
    services.open_for_signature(officer, version := _pending(mou))
    return version


@builder
def sign(signer: User, version: MouVersion, organisation: Organisation,
         role: str = "Chief Executive", name: str | None = None) -> MouSignature:
    """``signer`` signs for ``organisation``, typing the statement as shown."""
    return services.sign(signer, version, organisation, name or signer.name, role,
                         services.statement_for(organisation))


@builder
def in_force(officer: User, partnership: Partnership, signers: Sequence[tuple[Organisation, User]],
             clauses: Sequence[Clause] = ("We share our plans with each other.",),
             **overrides: Any) -> Mou:
    """An MoU drafted, opened and signed by each ``(party, signer)`` in turn, so in force."""
    mou = draft(officer, partnership, [org for org, _signer in signers], clauses, **overrides)
    version = open_for_signature(officer, mou)
    for organisation, signer in signers:
        sign(signer, version, organisation)
    return mou


@builder
def end(officer: User, mou: Mou, kind: EndKind = EndKind.EXPIRED, on: date | None = None,
        reason: str = "The programme has finished.", today: date | None = None) -> None:
    """Record a review that ends the MoU (it expired, or the parties terminated it)
    ``on`` a day up to ``today`` (both today in the UK unless given)."""
    today = today or today_uk()
    reviews.end(officer, mou, kind, on or today, reason, today)
