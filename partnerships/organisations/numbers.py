"""Charity and company numbers: check the format and normalise them.

- England and Wales charities: 6 or 7 digits (e.g. 1123456), optionally with a
  subsidiary suffix like 1123456-1.
- Scottish charities (OSCR): SC followed by 6 digits (SC012345).
- Northern Ireland charities: NIC followed by 6 digits (NIC100002).
- Companies House: 8 characters, either 8 digits (leading zeros added when fewer
  are given) or 2 letters and 6 digits (SC123456 for Scotland, NI for Northern
  Ireland, OC for LLPs, CE/CS for CIOs registered as such, and so on).

We check formats only; we cannot reach the registers from here.
"""

from __future__ import annotations

import re

_CHARITY_EW = re.compile(r"^\d{6,7}(?:-\d{1,2})?$")
_CHARITY_SC = re.compile(r"^SC\d{6}$")
_CHARITY_NI = re.compile(r"^NIC\d{6}$")
_COMPANY_DIGITS = re.compile(r"^\d{1,8}$")
_COMPANY_PREFIXED = re.compile(r"^[A-Z]{2}\d{6}$")
_COMPANY_R = re.compile(r"^R\d{7}$")


def _squash(value: str) -> str:
    return re.sub(r"\s+", "", value).upper()


def normalise_charity_number(value: str) -> str | None:
    """The number in a standard form, or None if it is not a recognised format."""
    number = _squash(value)
    if _CHARITY_EW.match(number) or _CHARITY_SC.match(number) or _CHARITY_NI.match(number):
        return number
    return None


def normalise_company_number(value: str) -> str | None:
    number = _squash(value)
    if _COMPANY_DIGITS.match(number):
        if len(number) < 6:
            return None
        return number.zfill(8)
    if _COMPANY_PREFIXED.match(number) or _COMPANY_R.match(number):
        return number
    return None


CHARITY_FORMAT_HELP = (
    "Enter a charity number in the correct format, like 1123456 (England and Wales), "
    "SC012345 (Scotland) or NIC100002 (Northern Ireland)"
)
COMPANY_FORMAT_HELP = (
    "Enter a company number in the correct format: 8 characters, like 01234567 or SC123456"
)
