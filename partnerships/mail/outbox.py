"""Queueing an email: rendered now, added to the caller's transaction, sent later.

Every email names its kind (``kinds``). The caller chooses the recipients with the
permissions layer (who may see what the email carries); ``queue`` then asks the
recipient's own settings (``notifications.services.wants``) and adds nothing if they
have turned this kind, or this forum's or partnership's activity, off. Email that can be
turned off carries a footer with the settings page and a signed one-click unsubscribe
link, which also goes in the ``List-Unsubscribe`` header (``transport.build``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from flask import current_app, render_template, url_for

from .. import textguard
from ..errors import ValidationError
from ..extensions import db
from .kinds import REGISTRY, Kind, Sort
from .models import SUBJECT_MAX, OutboxMessage

if TYPE_CHECKING:
    from ..accounts.models import User
    from ..forums.models import Forum
    from ..partnership.models import Partnership


_withheld: ContextVar[bool] = ContextVar("mail_withheld", default=False)


@contextmanager
def withheld(withhold: bool = True) -> Iterator[None]:
    """Queue no email meanwhile (or, with ``False``, queue again inside a withheld
    block): for set-up (the factories and the demo seed), whose services would
    otherwise write emails nobody is to get. Skipping them here, rather than deleting
    them after, also saves rendering them and reading each recipient's settings: a
    tenth of loading the demo, and of many tests' set-up."""
    token = _withheld.set(withhold)
    try:
        yield
    finally:
        _withheld.reset(token)


def _recipient(to: str, recipient: User | None) -> User | None:
    """The account the email goes to: the one given, else the account with that
    address (people named by address only, such as an opportunity's contact), if any."""
    if recipient is not None:
        return recipient
    from ..accounts.services import find_by_email

    return find_by_email(to)


def queue(to: str, subject: str, template: str, *, kind: Kind,
          recipient: User | None = None, scope: Forum | Partnership | None = None,
          **context: object) -> OutboxMessage | None:
    """Render ``templates/email/<template>.txt`` and add it to the outbox, unless the
    recipient has turned this kind of email off (then ``None``).

    ``scope`` is the forum or partnership an activity email is about (the level the
    person chose for it decides). ``recipient`` is the account behind ``to`` when the
    caller has it (else it is looked up by address; an address with no account gets
    the email, without settings links, as there is nothing to set).

    The subject is made safe for a header whatever the caller built it from: any control
    characters or line breaks (say from a name saved before single-line fields refused
    them) become a space, and it is shortened to fit. An address with them is refused.
    """
    from ..notifications import services as settings
    from ..notifications import unsubscribe

    if not textguard.is_single_line(to):
        raise ValidationError(textguard.single_line_message("Email address"), field="email")
    if _withheld.get():
        return None
    entry = REGISTRY[kind]
    unsubscribe_url: str | None = None
    footer = ""
    if not entry.essential:
        person = _recipient(to, recipient)
        if person is not None:
            if not settings.wants(person, kind, scope, context):
                return None
            unsubscribe_url = unsubscribe.link(person, kind, scope)
            footer = render_template(
                "email/_footer.txt", kind=entry,
                scope_name=(scope.name if scope is not None and entry.sort is Sort.ACTIVITY
                            else ""),
                unsubscribe_url=unsubscribe_url,
                settings_url=url_for("notifications.settings", _external=True))
    subject = textguard.one_line(subject)
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1].rstrip() + "…"
    body = render_template(f"email/{template}.txt", **context).rstrip() + "\n"
    if footer:
        body += "\n" + footer.strip() + "\n"
    message = OutboxMessage(to=to, subject=subject, body=body, kind=kind.value,
                            unsubscribe_url=unsubscribe_url)
    db.session.add(message)
    if current_app.config.get("MAIL_PRINT"):
        print(
            f"\n----- email to {to} -----\nSubject: {subject}\n\n{body}\n------------------------",
            file=sys.stderr,
            flush=True,
        )
    return message
