"""What a URL may carry before any view sees it: ids, text in paths, query strings.

- ``<int:...>`` in every route is ``IdConverter``: ASCII digits, 1 to ``INT_MAX``, no
  leading zero; anything else (2**31, 2**63, "²", "-1") matches no route, so a 404, and
  never reaches the database, which would refuse it with a 500.
- Every other path segment (``<slug>``, ``<key>``, ``<token>``) is ``TextConverter``:
  no control characters (NUL, which PostgreSQL refuses in text, line breaks, escape
  codes) and no bidirectional controls. No real link has them: a 404.
- The query string has each NUL made a space (``Request.args``) before any view reads
  it, as search boxes already do with every control character (``forms.BaseForm``), so
  a NUL in a filter or search never reaches a query. Form bodies are left alone: each
  text field refuses control characters with a message (``forms.SingleLine``).

``register`` installs these on the app before any route is added.
"""

from __future__ import annotations

from flask import Flask
from flask import Request as FlaskRequest
from werkzeug.datastructures import MultiDict
from werkzeug.routing import BaseConverter, Map, ValidationError
from werkzeug.routing.converters import UnicodeConverter
from werkzeug.utils import cached_property

from .bounds import INT_MAX

# The characters textguard refuses in single-line text, as a regular-expression class.
_CONTROLS = "\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069"


class IdConverter(BaseConverter):
    """A row id in a path: 1 to ``INT_MAX`` in ASCII digits, no leading zero."""

    regex = "[1-9][0-9]{0,9}"
    weight = 50  # as werkzeug's own number converters, so rules sort as before

    def __init__(self, map: Map, *args: object, **kwargs: object) -> None:
        super().__init__(map)

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > INT_MAX:
            raise ValidationError()  # no route matches: a 404
        return number

    def to_url(self, value: object) -> str:
        return str(int(value))  # type: ignore[call-overload]


class TextConverter(UnicodeConverter):
    """One path segment (a slug, a key, a token) without control characters."""

    def __init__(self, map: Map, minlength: int = 1, maxlength: int | None = None,
                 length: int | None = None) -> None:
        super().__init__(map, minlength, maxlength, length)
        self.regex = self.regex.replace("[^/]", f"[^/{_CONTROLS}]", 1)


class Request(FlaskRequest):
    """Flask's request, with NUL in the query string read as a space."""

    @cached_property
    def args(self) -> MultiDict[str, str]:
        parsed = super().args
        if not any("\x00" in key or "\x00" in value
                   for key, value in parsed.items(multi=True)):
            return parsed
        return self.parameter_storage_class(
            [(key.replace("\x00", " "), value.replace("\x00", " "))
             for key, value in parsed.items(multi=True)])


def register(app: Flask) -> None:
    """Install the converters (before any blueprint adds its routes) and the request."""
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["default"] = TextConverter
    app.url_map.converters["string"] = TextConverter
    app.request_class = Request
