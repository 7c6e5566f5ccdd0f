"""Where an MoU stands on a given day, and the words for it: the one rule the register,
the MoU page, the printable page, the CSV and the JSON all use, so they never disagree.

An MoU comes into force on the later of its start date and the day the last party
signed. Signed by every party before its start date, it is signed but not yet in
force: "Signed by all on 3 December 2026; comes into force on 1 January 2027", never
"Active" or "in force since" until that day. The stored ``Mou.status`` says ``active``
from the last signature (the review dates and reminders run from it); what people read
comes from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..enums import LabelledEnum
from ..timeutil import format_day, to_uk
from .models import Mou, MouStatus, MouVersion, VersionStatus


class Phase(LabelledEnum):
    """``MouStatus`` with "signed, not yet in force" told apart from "active"."""

    DRAFT = "draft", "Draft"
    COMMENTS = "comments", "Out for comments"
    SIGNING = "signing", "Out for signature"
    SIGNED = "signed", "Signed, not yet in force"
    ACTIVE = "active", "Active"
    ENDED = "ended", "Ended"


def signed_on(version: MouVersion) -> date | None:
    """The UK day the last party signed ``version`` (None until every party has)."""
    return to_uk(version.signed_at).date() if version.signed_at is not None else None


def in_force_from(version: MouVersion) -> date | None:
    """The day ``version`` comes (or came) into force: the later of its start date and
    the day the last party signed. None until every party has signed."""
    day = signed_on(version)
    return None if day is None else max(day, version.start_date)


@dataclass(frozen=True)
class Standing:
    """An MoU on one day: its phase, the dates behind it and the sentence for it."""

    phase: Phase
    start_date: date | None
    signed_on: date | None
    in_force_from: date | None
    phrase: str  # "" when there is nothing to say beyond the label
    start_word: str  # "Starts" (a future date) or "Started"

    @property
    def value(self) -> str:
        return self.phase.value

    @property
    def label(self) -> str:
        return self.phase.label

    @property
    def in_force(self) -> bool:
        return self.phase is Phase.ACTIVE


def _phrase(phase: Phase, mou: Mou, version: MouVersion | None, today: date) -> str:
    if version is None:
        return ""
    if phase in (Phase.SIGNED, Phase.ACTIVE):
        return version_phrase(version, today)
    if phase is Phase.ENDED and mou.end_kind is not None and mou.has_been_in_force:
        end = mou.end_date if mou.end_date is not None and mou.end_date <= today else None
        when = f" on {format_day(end)}" if end else ""
        return f"{mou.end_kind.label}{when}"
    return ""


def start_word(start: date | None, today: date) -> str:
    """ "Starts" for a start date still to come, "Started" for one today or past."""
    return "Starts" if start is not None and start > today else "Started"


def standing(mou: Mou, today: date) -> Standing:
    """Where ``mou`` stands on ``today`` (its version in force, or in progress, loaded)."""
    version = mou.current_version or mou.draft_version
    phase = Phase(mou.status.value)
    current = mou.current_version
    if mou.status is MouStatus.ACTIVE and current is not None:
        from_day = in_force_from(current)
        if from_day is not None and from_day > today:
            phase = Phase.SIGNED
    start = version.start_date if version is not None else None
    return Standing(
        phase=phase,
        start_date=start,
        signed_on=signed_on(current) if current is not None else None,
        in_force_from=in_force_from(current) if current is not None else None,
        phrase=_phrase(phase, mou, current, today),
        start_word=start_word(start, today),
    )


def version_label(version: MouVersion, today: date) -> str:
    """A version's status in words: "In force" only from the day it comes into force,
    and not once its MoU has ended."""
    if version.status is VersionStatus.SIGNED:
        if version.mou.status is MouStatus.ENDED:
            return "In force until the MoU ended"
        from_day = in_force_from(version)
        if from_day is not None and from_day > today:
            return f"Signed, in force from {format_day(from_day)}"
    return version.status.label


def version_phrase(version: MouVersion, today: date) -> str:
    """When a version is (or was) in force, in words: "Not yet in force", "Signed by all
    on 3 December 2026; comes into force on 1 January 2027", "In force since 1 January
    2027", or, for one no longer in force, "Signed by all on ...; in force from ..."."""
    day, from_day = signed_on(version), in_force_from(version)
    if day is None or from_day is None:
        return "Not yet in force"
    signed = f"Signed by all on {format_day(day)}"
    if from_day > today:
        return f"{signed}; comes into force on {format_day(from_day)}"
    if version.status is VersionStatus.SIGNED and version.mou.status is not MouStatus.ENDED:
        return f"In force since {format_day(from_day)}"
    return f"{signed}; in force from {format_day(from_day)}"
