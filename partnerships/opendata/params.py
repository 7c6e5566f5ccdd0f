"""Query parameters, read strictly and declared once.

A dataset's filters and the paging parameters are ``Param``s: ``read`` checks a request
against them and the OpenAPI document describes them from the same objects, so the two
cannot drift. Unlike the web pages, which read a stale or mistyped filter as "any"
(a person can always see the page), the API refuses what it cannot honour: an unknown
parameter, one given twice, a number out of bounds, a value that is not one of the
choices, a slug of nothing public. The answer is one 400 problem listing every bad
parameter. Nothing unbounded reaches the database (``bounds``).

The query string reaches us with NUL made a space (``inputguard``); no value here may
hold a space, so NUL is refused like any other stray character.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from werkzeug.datastructures import MultiDict

from ..bounds import is_whole_number, whole_number
from ..slugs import MAX_SLUG, SLUG_PATTERN
from .problems import InvalidParam, bad_parameters

PER_PAGE_DEFAULT = 20
PER_PAGE_MAX = 100
PAGE_MAX = 100_000  # with PER_PAGE_MAX, an offset of ten million at most

Kind = Literal["integer", "choice", "slug"]


@dataclass(frozen=True)
class Param:
    """One query parameter: its name, what it means, and what values it takes."""

    name: str
    description: str
    kind: Kind
    choices: tuple[str, ...] = ()
    minimum: int = 1
    maximum: int = 2**31 - 1
    default: int | str | None = None

    def schema(self) -> dict[str, Any]:
        """The parameter's JSON Schema (OpenAPI 3.1)."""
        schema: dict[str, Any]
        if self.kind == "integer":
            schema = {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}
        elif self.kind == "choice":
            schema = {"type": "string", "enum": list(self.choices)}
        else:
            schema = {"type": "string", "pattern": SLUG_PATTERN.pattern,
                      "maxLength": MAX_SLUG}
        if self.default is not None:
            schema["default"] = self.default
        return schema

    def parse(self, value: str) -> tuple[int | str | None, str | None]:
        """The value, or None and why it is refused."""
        if self.kind == "integer":
            number = whole_number(value, self.minimum, self.maximum) \
                if is_whole_number(value) else None
            if number is None:
                return None, (f"must be a whole number from {self.minimum:,} to "
                              f"{self.maximum:,}")
            return number, None
        if self.kind == "choice":
            if value not in self.choices:
                return None, "must be one of: " + ", ".join(self.choices)
            return value, None
        if len(value) > MAX_SLUG or not SLUG_PATTERN.match(value):
            return None, ("must be a slug: lower-case letters, digits and single hyphens, "
                          f"at most {MAX_SLUG} characters")
        return value, None


PAGE = Param("page", "Which page of the list (from 1).", "integer", maximum=PAGE_MAX,
             default=1)
PER_PAGE = Param("per_page", f"How many items on each page (at most {PER_PAGE_MAX}).",
                 "integer", maximum=PER_PAGE_MAX, default=PER_PAGE_DEFAULT)
PAGING = (PAGE, PER_PAGE)


def read(args: MultiDict[str, str], params: Iterable[Param]) -> dict[str, Any]:
    """Each declared parameter's value (its default when absent), or a 400 problem
    naming every unknown, repeated or bad one."""
    declared = {param.name: param for param in params}
    invalid: list[InvalidParam] = []
    values: dict[str, Any] = {name: param.default for name, param in declared.items()}
    for name in args:
        given = args.getlist(name)
        param = declared.get(name)
        if param is None:
            invalid.append(InvalidParam(name[:100], "is not a parameter of this endpoint"))
        elif len(given) > 1:
            invalid.append(InvalidParam(name, "is given more than once"))
        else:
            value, reason = param.parse(given[0])
            if reason is not None:
                invalid.append(InvalidParam(name, reason))
            else:
                values[name] = value
    if invalid:
        raise bad_parameters(invalid)
    return values


def query_args(values: Mapping[str, Any], params: Iterable[Param]) -> dict[str, Any]:
    """The values that differ from their defaults, for links that keep the filters."""
    return {param.name: values[param.name] for param in params
            if values.get(param.name) is not None and values[param.name] != param.default}
