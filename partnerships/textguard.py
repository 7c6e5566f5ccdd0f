"""Control characters kept out of single-line text: the one rule, for forms and the database.

A name, title or subject with a line break in it can end up in an email header (where
it breaks the message, or adds headers), a calendar line or a log. So single-line text
refuses control characters (Unicode category Cc: line breaks, tabs, NUL, ...), the line
and paragraph separators U+2028/U+2029, and the bidirectional embedding, override and
isolate controls (U+202A-U+202E, U+2066-U+2069) that can make a name display as
something else. Multi-line text (Markdown in text areas) keeps line breaks and tabs
but refuses the other control characters.

``forms.BaseForm`` gives every text field the matching validator; the ``before_flush``
listener below is the backstop for code that writes models without a form (CLI, seed,
services called directly): no ``String`` column is written with a control character,
and no ``Text`` column with one other than a line break or tab, whatever wrote it. It
raises the domain ``ValidationError`` naming the attribute, which views put on their
form, and which the app's ``DomainError`` handler turns into a 422 page if it only
surfaces at commit.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from sqlalchemy import Enum, String, Text, event, inspect
from sqlalchemy.orm import Mapper, Session

from .errors import ValidationError

_SINGLE_LINE_CHARS = "\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_SINGLE_LINE_BAD = re.compile(f"[{_SINGLE_LINE_CHARS}]")
_MULTI_LINE_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_RUN_OF_CONTROLS = re.compile(
    f"[ {_SINGLE_LINE_CHARS}]*[{_SINGLE_LINE_CHARS}][ {_SINGLE_LINE_CHARS}]*"
)


def is_single_line(text: str) -> bool:
    """True if ``text`` has no control characters, line breaks or bidi controls."""
    return _SINGLE_LINE_BAD.search(text) is None


def is_clean_multi_line(text: str) -> bool:
    """True if ``text`` has no control characters other than line breaks and tabs."""
    return _MULTI_LINE_BAD.search(text) is None


def one_line(text: str) -> str:
    """``text`` with each run of control characters (and spaces next to them) made one
    space: the last line of defence for text that must go on one line."""
    return _RUN_OF_CONTROLS.sub(" ", text).strip()


def single_line_message(name: str) -> str:
    return f"{name} must be on one line, without special characters"


def multi_line_message(name: str) -> str:
    return f"{name} must not contain special characters"


# --- The backstop: no column is written with a control character it may not hold ------------


@cache
def _guarded_keys(mapper: Mapper[Any]) -> tuple[tuple[str, bool], ...]:
    """The attributes of a mapped class stored in text columns, each with whether it is
    single-line (String) rather than multi-line (Text)."""
    keys = []
    for prop in mapper.column_attrs:
        column_type = prop.columns[0].type
        if isinstance(column_type, Text):
            keys.append((prop.key, False))
        elif isinstance(column_type, String) and not isinstance(column_type, Enum):
            keys.append((prop.key, True))
    return tuple(keys)


def _label(key: str) -> str:
    words = key.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def check_text_columns(session: Session, flush_context: object, instances: object) -> None:
    """``before_flush``: refuse new or changed String values with control characters,
    and Text values with any but line breaks and tabs (PostgreSQL refuses NUL outright,
    which would otherwise be a 500).

    Only attributes set since the last flush are looked at, so the cost is a few
    regular-expression searches per changed object.
    """
    for obj in (*session.new, *session.dirty):
        state = inspect(obj)
        keys = _guarded_keys(state.mapper)
        if not keys:
            continue
        attrs = state.attrs
        for key, single in keys:
            for value in attrs[key].history.added:
                if not isinstance(value, str):
                    continue
                if single and not is_single_line(value):
                    raise ValidationError(single_line_message(_label(key)), field=key)
                if not single and not is_clean_multi_line(value):
                    raise ValidationError(multi_line_message(_label(key)), field=key)


if not event.contains(Session, "before_flush", check_text_columns):
    event.listen(Session, "before_flush", check_text_columns)
