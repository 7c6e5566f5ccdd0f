"""Whole numbers that come from outside (URLs, query strings, forms), read one way.

``str.isdigit`` accepts "²" and "٣", which ``int`` then refuses (a 500); ``int`` itself
accepts " 7", "+7", "٣" and "1_000", and numbers of any size, which the database then
refuses: PostgreSQL's INTEGER stops at 2**31 - 1 ("integer out of range", a 500) and
SQLite's at 2**63 - 1 (``OverflowError``, a 500). So every number read from a request
goes through ``whole_number``: ASCII digits only, and never more than the bound it is
given, which is at most ``INT_MAX``, the largest value an INTEGER column (every id, every
count) holds on both databases.

The bounds of the numbers people type (a meeting's capacity, minutes allowed, places)
live beside the model columns they protect, as the length limits do, and the forms
(``forms.WholeNumberField``) and services read them from there.
"""

from __future__ import annotations

INT_MAX = 2**31 - 1
_INT_MAX_DIGITS = len(str(INT_MAX))


def is_whole_number(text: str) -> bool:
    """True if ``text`` is written in ASCII digits only (not "²", "٣", "+1" or "1.5")."""
    return text.isascii() and text.isdigit()


def whole_number(text: str | None, minimum: int = 0, maximum: int = INT_MAX) -> int | None:
    """The number ``text`` spells in ASCII digits (surrounding spaces allowed), if it is
    between ``minimum`` and ``maximum``; otherwise None. ``maximum`` is capped at
    ``INT_MAX``."""
    value = (text or "").strip()
    # Past the largest bound in length, a number is out of range whatever its digits
    # (and Python refuses to convert strings of more than 4,300 digits at all).
    if not is_whole_number(value) or len(value.lstrip("0")) > _INT_MAX_DIGITS:
        return None
    number = int(value)
    return number if minimum <= number <= min(maximum, INT_MAX) else None


def identifier(text: str | None) -> int | None:
    """A row id from a query string or form (a select's value, a hidden field): a whole
    number from 1 to ``INT_MAX``, else None (which finds nothing)."""
    return whole_number(text, minimum=1)
