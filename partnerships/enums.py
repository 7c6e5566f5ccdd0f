"""Enums that carry their own words: each member is ``NAME = value, label[, hint]``.

The label (and hint, where a form shows one) is written once, beside the value it
describes, instead of in a dictionary inside a ``label`` property; forms build their
choices from ``choices()`` and templates show ``member.label``. Members are still
``str``, so they compare equal to their stored value and SQLAlchemy stores them as
before.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from wtforms.fields.choices import SelectChoice


class LabelledEnum(StrEnum):
    """A ``StrEnum`` whose members have a plain-English ``label`` and an optional
    ``hint``. Look a member up by value as usual: ``Kind("secondment")``."""

    label: str
    hint: str

    # ``label`` has a default only so that type checkers accept ``Kind(value)``; every
    # member gives one (tests/test_enums.py checks).
    def __new__(cls, value: str, label: str = "", hint: str = "") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        member.hint = hint
        return member

    @classmethod
    def choices(cls) -> list[SelectChoice]:
        """WTForms choices (value and label) in declaration order, for radios and
        selects."""
        return [SelectChoice(member.value, member.label) for member in cls]
