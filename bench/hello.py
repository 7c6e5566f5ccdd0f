"""The floor: a WSGI app that answers every request with a few bytes, served by gunicorn
with the same settings as the app, so page throughput can be read as a share of what
the server and machine can do at all."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

BODY = b"Hello, world!\n"


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"),
                              ("Content-Length", str(len(BODY)))])
    return [BODY]
