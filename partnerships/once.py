"""One-time tokens for forms that create things, so the same form sent twice creates
one thing and the second send lands on it.

A person on a phone taps "Start discussion", the reply is slow, and they tap again or
go back and send it again; or they have the same form open in two tabs. Without this
each send made a new discussion (or meeting, or MoU). GOV.UK's double-click prevention
(``static/js/app.mjs``) stops the quick second tap; this stops the rest, on the server.

The form carries a random token (``OnceField``), made when the page is first shown and
kept when it is shown again with errors. ``save`` claims the token by inserting its row
(the token is the primary key) in the same transaction as the thing created, and notes
where that thing is. A second send of the same token finds the row and goes there;
two sends at the same moment meet at the primary key: the second waits for the first
and then finds its row. A send that fails validation claims nothing. A form sent
without a token (an old page, a script) is saved as before.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Literal, TypeVar

from flask_login import current_user
from sqlalchemy import ForeignKey, Index, String, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import HiddenField

from . import formflow
from .extensions import db
from .modelbase import Model, UTCDateTime, utcnow

T = TypeVar("T")

TOKEN_MAX = 64
URL_MAX = 500
KEPT_FOR = timedelta(days=2)  # long enough for any tab left open overnight
_TOKEN = re.compile(rf"[A-Za-z0-9_-]{{20,{TOKEN_MAX}}}")


class SubmittedForm(Model):
    """A create form that has been sent: its token, who sent it, and where what it
    created is (so a second send can go there)."""

    __tablename__ = "submitted_forms"

    token: Mapped[str] = mapped_column(String(TOKEN_MAX), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         nullable=False)
    url: Mapped[str] = mapped_column(String(URL_MAX), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False,
                                                 default=utcnow)

    __table_args__ = (Index("ix_submitted_forms_user_id_created_at", "user_id", "created_at"),)


class OnceField(HiddenField):
    """The form's one-time token: a new one when the page is first shown, the same one
    when it is shown again with errors (so fixing them and sending counts once)."""

    def process(self, formdata: Any, data: Any = None,
                extra_filters: Sequence[Callable[[Any], Any]] | None = None) -> None:
        super().process(formdata, data, extra_filters)
        if not self.data or not _TOKEN.fullmatch(str(self.data)):
            self.data = secrets.token_urlsafe(24)


ALREADY_SENT = ("You had already sent this form, so nothing new was made: this is what "
                "it made.")


@dataclass(frozen=True)
class Saved(Generic[T]):
    """Where to go after a create form was sent, and what the service made (``value``);
    ``again`` (and no value) when this send repeated one already saved: the view says
    so (``ALREADY_SENT``) instead of "created"."""

    url: str
    again: bool
    value: T | None = None

    def __bool__(self) -> Literal[True]:
        return True


def save(form: Any, action: Callable[[], T], url_of: Callable[[T], str]) -> Saved[T] | None:
    """``formflow.save`` for a form with a ``once`` field: create once per token.

    Returns where to go (``Saved``), or ``None`` when the form is to be shown again
    (not sent, invalid, or the service refused it: its error is on the form)."""
    if not form.is_submitted():
        return None
    token = str(form.once.raw_data[0]) if form.once.raw_data else ""
    if (not _TOKEN.fullmatch(token) or not current_user.is_authenticated
            or _someone_elses(token)):
        made = formflow.save(form, lambda: _with_url(action(), url_of))
        return Saved(made.value[1], False, made.value[0]) if made else None
    if not form.validate():
        return None
    earlier = _already(token)
    if earlier is not None:
        return earlier
    try:
        db.session.add(SubmittedForm(token=token, user_id=current_user.id))
        db.session.flush()
    except IntegrityError:  # the same form, sent at the same moment, got there first
        db.session.rollback()
        return _already(token)

    def create() -> tuple[T, str]:
        value, url = _with_url(action(), url_of)
        row = db.session.get(SubmittedForm, token)
        assert row is not None
        row.url = url[:URL_MAX]
        # Forget this person's tokens from days ago (their tabs are long gone).
        db.session.execute(delete(SubmittedForm).where(
            SubmittedForm.user_id == current_user.id,
            SubmittedForm.created_at < utcnow() - KEPT_FOR))
        return value, url

    done = formflow.save(form, create, validate=False)
    return Saved(done.value[1], False, done.value[0]) if done else None


def _with_url(value: T, url_of: Callable[[T], str]) -> tuple[T, str]:
    """The value and its URL, read before the commit expires what the URL is built from."""
    return value, url_of(value)


def _someone_elses(token: str) -> bool:
    """A token another person sent (copied from their page): it proves nothing about
    this send, which is saved as a form without a token would be."""
    row = db.session.get(SubmittedForm, token)
    return row is not None and row.user_id != current_user.id


def _already(token: str) -> Saved[Any] | None:
    row = db.session.get(SubmittedForm, token, populate_existing=True)
    if row is None or row.user_id != current_user.id or not row.url:
        return None
    return Saved(row.url, again=True)
