"""Builders: one function per thing (a user, an organisation, a forum and its members,
a thread, a meeting and its registrations ...), shared by the unit tests, the browser
tests, the concurrency tests, the benchmarks and the demo seed.

Each builder calls the services people use, as an acting user (``by=``, defaulting to
someone who may do it), so test data and the demo obey the same rules as the site: a
builder cannot make a state the site could not. To record the past, wrap a call in
``with clock.at`` (a moment) and the services stamp that moment themselves.

Why our own small module and not factory_boy: a service needs an actor, a database
session and (for the links in its emails) a request context, and it returns what it
made; factory_boy's SQLAlchemy integration builds a model's columns and adds the row
itself, which is exactly the "second rule engine" these builders replace. What
factory_boy would add (sequences, lazy attributes) is a counter and default arguments.

Builders are set-up, not anybody's action: ``setting_up`` runs them in a request
context, with email withheld (``mail.withheld``: a test checks the mail its own step
sends; the demo sends none), and takes back the audit events the services wrote. They flush and
never commit: the caller commits.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import current_app, has_app_context, has_request_context
from sqlalchemy import delete, func, select

from .. import mail, permissions
from ..audit import AuditEvent
from ..extensions import db

P = ParamSpec("P")
R = TypeVar("R")

_numbers = itertools.count(1)
_inside: ContextVar[bool] = ContextVar("factories_inside", default=False)


def number() -> int:
    """A number not used before in this process, for unique default names."""
    return next(_numbers)


@contextmanager
def setting_up() -> Iterator[None]:
    """Run services as set-up: in a request context (as a request would), queueing no
    email and keeping no audit event. Nested uses are one."""
    if _inside.get():
        yield
        return
    token = _inside.set(True)
    try:
        with ExitStack() as stack:
            if not has_request_context():
                # A POST: set-up writes, so on SQLite its transaction takes the write
                # lock up front like any other write (see ``transactions``).
                stack.enter_context(current_app.test_request_context(method="POST"))
            stack.enter_context(mail.withheld())
            db.session.flush()
            last_event = db.session.scalar(select(func.max(AuditEvent.id))) or 0
            yield
            db.session.flush()
            db.session.execute(delete(AuditEvent).where(AuditEvent.id > last_event))
    finally:
        # The services' permission answers cached on the way (``g``, which a request
        # context opened inside the caller's app context shares) are set-up's, not
        # the caller's: the next check looks again.
        if has_app_context():
            permissions.forget_forum_access()
        _inside.reset(token)


def builder(function: Callable[P, R]) -> Callable[P, R]:
    """Make ``function`` a builder: it runs inside ``setting_up``."""

    @wraps(function)
    def build(*args: P.args, **kwargs: P.kwargs) -> R:
        with setting_up():
            return function(*args, **kwargs)

    return build
