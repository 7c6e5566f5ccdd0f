"""RFC 9457 problem details: every error under ``/api/`` is ``application/problem+json``.

A problem has ``type``, ``title``, ``status`` and ``detail``. Errors that are plain HTTP
errors (not found, method not allowed, too many requests) use ``type`` ``about:blank``
and the HTTP status phrase as ``title``, as the RFC asks. A request with bad query
parameters is a 400 of our own type, and lists each bad parameter and why in
``invalid_params``, so a client can fix them all at once.

``errors.render_error`` answers with ``response`` for any path under ``API_PREFIX``, so
unmatched routes, 405s, 429s and the database backstop are problems too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from flask import Response, json

API_PREFIX = "/api/"
MEDIA_TYPE = "application/problem+json"
INVALID_PARAMETERS = "https://www.rfc-editor.org/rfc/rfc9457#name-invalid-parameters"


@dataclass
class InvalidParam:
    """One bad query parameter and what is wrong with it."""

    name: str
    reason: str


@dataclass
class Problem(Exception):
    """Raised by the API's views; turned into a problem response by the blueprint."""

    status: int
    detail: str
    type: str = "about:blank"
    title: str | None = None
    invalid_params: list[InvalidParam] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        title = self.title or HTTPStatus(self.status).phrase
        body: dict[str, Any] = {"type": self.type, "title": title, "status": self.status,
                                "detail": self.detail}
        if self.invalid_params:
            body["invalid_params"] = [{"name": p.name, "reason": p.reason}
                                      for p in self.invalid_params]
        return body


def bad_parameters(invalid: list[InvalidParam]) -> Problem:
    """A 400 naming every bad parameter."""
    names = ", ".join(sorted({p.name for p in invalid}))
    return Problem(400, f"Check these query parameters: {names}.", type=INVALID_PARAMETERS,
                   title="Your request parameters didn't validate",
                   invalid_params=invalid)


def not_found(what: str) -> Problem:
    return Problem(404, f"There is no {what} with that identifier in the open data.")


def response(problem: Problem) -> Response:
    return Response(json.dumps(problem.body()), status=problem.status, mimetype=MEDIA_TYPE)


def http_problem(status: int, message: str | None = None) -> Response:
    """The problem for a plain HTTP error (``errors.render_error`` under ``/api/``)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    details = {
        404: "There is nothing at this address. The API's endpoints are listed in its "
             "OpenAPI document, /api/v1/openapi.json.",
        405: "The open data API is read-only: use GET.",
        429: "Too many requests from your address. Wait a minute and try again.",
        500: "Something went wrong on our side.",
    }
    detail = message or details.get(status, phrase)
    return response(Problem(status, detail))
