"""What changed between two versions of an MoU: details, parties, clauses, attachments.

Pure functions over loaded versions (no queries). Text is compared word by word with
``difflib.SequenceMatcher``; the result is a list of segments (kept, inserted or
deleted text) that the template marks up with ``<ins>`` and ``<del>``, so nothing here
builds HTML and everything the parties wrote is escaped by Jinja as usual.

Clauses are matched by their text rather than their number, so removing clause 2
shows as "clause 2 removed" and not as every later clause changed: equal texts pair
up (perhaps renumbered), and within a run of differing clauses each old clause is
paired with the new one in the same place if they are still similar enough to read
as an edit; otherwise it is a removal and an addition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Literal

from ..timeutil import format_day
from .models import MouClause, MouVersion

SegmentKind = Literal["equal", "insert", "delete"]
# Below this similarity a changed clause reads better as one removed and one added.
EDIT_SIMILARITY = 0.35
_TOKENS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Segment:
    kind: SegmentKind
    text: str


def word_diff(old: str, new: str) -> list[Segment]:
    """``old`` turned into ``new``, word by word (whitespace kept as its own tokens so
    line breaks survive). Neighbouring segments of the same kind are merged."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    segments: list[Segment] = []

    def add(kind: SegmentKind, tokens: list[str]) -> None:
        text = "".join(tokens)
        if not text:
            return
        if segments and segments[-1].kind == kind:
            segments[-1] = Segment(kind, segments[-1].text + text)
        else:
            segments.append(Segment(kind, text))

    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            add("equal", a[i1:i2])
        else:
            add("delete", a[i1:i2])
            add("insert", b[j1:j2])
    return segments


def similarity(old: str, new: str) -> float:
    return SequenceMatcher(None, _TOKENS.findall(old), _TOKENS.findall(new),
                           autojunk=False).ratio()


@dataclass
class DetailChange:
    """One changed detail. Text details carry a word diff; others just old and new."""

    label: str
    old: str
    new: str
    segments: list[Segment] | None = None


@dataclass
class PartyChange:
    kind: Literal["added", "removed", "role"]
    organisation: str
    old_role: str = ""
    new_role: str = ""


@dataclass
class ClauseChange:
    kind: Literal["added", "removed", "changed", "renumbered"]
    old_number: int | None
    new_number: int | None
    old_text: str = ""
    new_text: str = ""
    segments: list[Segment] = field(default_factory=list)
    responsible_added: list[str] = field(default_factory=list)
    responsible_removed: list[str] = field(default_factory=list)
    responsible: list[str] = field(default_factory=list)  # for added or removed clauses

    @property
    def text_changed(self) -> bool:
        return self.old_text != self.new_text


@dataclass
class Comparison:
    old: MouVersion
    new: MouVersion
    details: list[DetailChange]
    parties: list[PartyChange]
    clauses: list[ClauseChange]
    unchanged_clauses: int
    attachments_added: list[str]
    attachments_removed: list[str]

    @property
    def has_changes(self) -> bool:
        return bool(self.details or self.parties or self.clauses or self.attachments_added
                    or self.attachments_removed)


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No"


def _details(old: MouVersion, new: MouVersion) -> list[DetailChange]:
    changes: list[DetailChange] = []
    for label, before, after in (("Title", old.title, new.title),
                                 ("Purpose", old.purpose, new.purpose)):
        if before != after:
            changes.append(DetailChange(label, before, after, word_diff(before, after)))
    for label, day_before, day_after in (
        ("Start date", old.start_date, new.start_date),
        ("Review date", old.review_date, new.review_date),
        ("End date", old.end_date, new.end_date),
    ):
        if day_before != day_after:
            changes.append(DetailChange(label, format_day(day_before) or "No fixed end date",
                                        format_day(day_after) or "No fixed end date"))
    if old.data_sharing != new.data_sharing:
        changes.append(DetailChange("Data sharing", _yes_no(old.data_sharing),
                                    _yes_no(new.data_sharing)))
    if old.data_sharing_note != new.data_sharing_note:
        changes.append(DetailChange("Data-sharing note", old.data_sharing_note,
                                    new.data_sharing_note,
                                    word_diff(old.data_sharing_note, new.data_sharing_note)))
    return changes


def _parties(old: MouVersion, new: MouVersion) -> list[PartyChange]:
    before = {party.organisation_id: party for party in old.parties}
    after = {party.organisation_id: party for party in new.parties}
    changes: list[PartyChange] = []
    for org_id, party in after.items():
        was = before.get(org_id)
        if was is None:
            changes.append(PartyChange("added", party.organisation.name, new_role=party.role))
        elif was.role != party.role:
            changes.append(PartyChange("role", party.organisation.name, was.role, party.role))
    changes.extend(PartyChange("removed", party.organisation.name, old_role=party.role)
                   for org_id, party in before.items() if org_id not in after)
    return changes


def _names(clause: MouClause) -> list[str]:
    return [org.name for org in clause.responsible]


def _pair(old: MouClause, new: MouClause) -> ClauseChange | None:
    """The change from ``old`` to ``new`` (None if the clause is exactly the same)."""
    before, after = _names(old), _names(new)
    added = [name for name in after if name not in before]
    removed = [name for name in before if name not in after]
    if old.text == new.text and not added and not removed:
        if old.number == new.number:
            return None
        return ClauseChange("renumbered", old.number, new.number, old.text, new.text)
    return ClauseChange(
        "changed", old.number, new.number, old.text, new.text,
        segments=word_diff(old.text, new.text) if old.text != new.text else [],
        responsible_added=added, responsible_removed=removed,
    )


def _clauses(old: MouVersion, new: MouVersion) -> tuple[list[ClauseChange], int]:
    a, b = list(old.clauses), list(new.clauses)
    changes: list[ClauseChange] = []
    unchanged = 0

    def removed(clause: MouClause) -> ClauseChange:
        return ClauseChange("removed", clause.number, None, old_text=clause.text,
                            responsible=_names(clause))

    def added(clause: MouClause) -> ClauseChange:
        return ClauseChange("added", None, clause.number, new_text=clause.text,
                            responsible=_names(clause))

    matcher = SequenceMatcher(None, [c.text for c in a], [c.text for c in b], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for before, after in zip(a[i1:i2], b[j1:j2], strict=True):
                change = _pair(before, after)
                if change is None:
                    unchanged += 1
                else:
                    changes.append(change)
            continue
        olds, news = a[i1:i2], b[j1:j2]
        for index in range(max(len(olds), len(news))):
            old_clause = olds[index] if index < len(olds) else None
            new_clause = news[index] if index < len(news) else None
            if old_clause is not None and new_clause is not None \
                    and similarity(old_clause.text, new_clause.text) >= EDIT_SIMILARITY:
                change = _pair(old_clause, new_clause)
                if change is not None:
                    changes.append(change)
                continue
            if old_clause is not None:
                changes.append(removed(old_clause))
            if new_clause is not None:
                changes.append(added(new_clause))
    return changes, unchanged  # in document order, as the opcodes walk both versions


def _attachments(old: MouVersion, new: MouVersion) -> tuple[list[str], list[str]]:
    before = {(a.original_filename, a.sha256) for a in old.attachments}
    after = {(a.original_filename, a.sha256) for a in new.attachments}
    return (sorted(name for name, _sha in after - before),
            sorted(name for name, _sha in before - after))


def compare(old: MouVersion, new: MouVersion) -> Comparison:
    """Everything that differs between two loaded versions (``old`` may be the later)."""
    clauses, unchanged = _clauses(old, new)
    added, removed = _attachments(old, new)
    return Comparison(old=old, new=new, details=_details(old, new), parties=_parties(old, new),
                      clauses=clauses, unchanged_clauses=unchanged, attachments_added=added,
                      attachments_removed=removed)
