"""Builders that make data through the services people use (tests, the demo, benchmarks).

A stand-in for the package's real ``__init__`` (written beside the other builders),
with the same two names: ``setting_up`` runs services as set-up, in a request context
(their emails build links) and without keeping the emails or audit events they wrote;
``builder`` makes a function run inside it. Nested uses are one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import current_app, has_request_context
from sqlalchemy import delete, func, select

from ..audit import AuditEvent
from ..extensions import db
from ..mail import OutboxMessage

P = ParamSpec("P")
R = TypeVar("R")

_inside: ContextVar[bool] = ContextVar("factories_inside", default=False)


@contextmanager
def setting_up() -> Iterator[None]:
    if _inside.get():
        yield
        return
    token = _inside.set(True)
    try:
        with ExitStack() as stack:
            if not has_request_context():
                stack.enter_context(current_app.test_request_context())
            db.session.flush()
            last_mail = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
            last_event = db.session.scalar(select(func.max(AuditEvent.id))) or 0
            yield
            db.session.flush()
            db.session.execute(delete(OutboxMessage).where(OutboxMessage.id > last_mail))
            db.session.execute(delete(AuditEvent).where(AuditEvent.id > last_event))
    finally:
        _inside.reset(token)


def builder(function: Callable[P, R]) -> Callable[P, R]:
    @wraps(function)
    def build(*args: P.args, **kwargs: P.kwargs) -> R:
        with setting_up():
            return function(*args, **kwargs)

    return build
