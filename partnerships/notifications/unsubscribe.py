"""Signed one-click unsubscribe links, one per person and kind of email (or, for a
forum's or partnership's activity, per person and forum or partnership).

The token is signed with the app's secret key and its own salt, so no other emailed
token can be used as one, and it carries no expiry: a link in an email from last year
still works (it only ever turns email off, and only for the person it was sent to).
A link that has been cut short or changed does not verify, and the page says what to
do instead (sign in and use the settings page).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from ..accounts.models import User
from ..extensions import db
from ..forums.models import Forum
from ..mail.kinds import REGISTRY, Kind, Sort
from ..partnership.models import Partnership
from . import services
from .models import Level
from .services import Scope, ScopeType

SALT = "mail-unsubscribe"


class LinkProblem(Exception):
    """The link does not verify, or what it names no longer exists."""


@dataclass(frozen=True)
class Unsubscribe:
    """What a verified link turns off: a personal kind, or one forum's or
    partnership's activity."""

    user: User
    kind: Kind
    scope: Scope | None

    @property
    def what(self) -> str:
        """How the confirmation page names what stops."""
        if self.scope is not None:
            return f"emails about activity in {self.scope.name}"
        if self.kind is Kind.DIGEST:
            return "daily and weekly digest emails"
        return f"emails of this kind: {REGISTRY[self.kind].label.lower()}"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(user: User, kind: Kind, scope: Forum | Partnership | None) -> str:
    payload: dict[str, object] = {"u": user.id, "k": kind.value}
    if REGISTRY[kind].sort is Sort.ACTIVITY and scope is not None:
        found = Scope.of(scope)
        payload["s"] = [found.type, found.id]
    return _serializer().dumps(payload)


def link(user: User, kind: Kind, scope: Forum | Partnership | None) -> str:
    return url_for("notifications.unsubscribe_link", token=make_token(user, kind, scope),
                   _external=True)


def read(token: str) -> Unsubscribe:
    """What ``token`` turns off; ``LinkProblem`` if it is not one of ours or what it
    names has gone."""
    try:
        payload = _serializer().loads(token)
        user = db.session.get(User, int(payload["u"]))
        kind = Kind(payload["k"])
        scope_type, scope_id = payload.get("s") or ("", 0)
    except (BadSignature, KeyError, TypeError, ValueError) as error:
        raise LinkProblem("This unsubscribe link is not complete or has been changed.") from error
    if user is None or user.deleted_at is not None:
        raise LinkProblem("The account this link was sent to no longer exists.")
    if REGISTRY[kind].sort is Sort.ESSENTIAL:
        raise LinkProblem("This kind of email cannot be turned off.")
    scope: Scope | None = None
    if REGISTRY[kind].sort is Sort.ACTIVITY:
        thing: Forum | Partnership | None = None
        if scope_type == "forum":
            thing = db.session.get(Forum, int(scope_id))
        elif scope_type == "partnership":
            thing = db.session.get(Partnership, int(scope_id))
        if thing is None:
            raise LinkProblem("The forum or partnership this link is about no longer exists.")
        scope = Scope.of(thing)
    return Unsubscribe(user, kind, scope)


def apply(target: Unsubscribe) -> None:
    """Turn it off: the forum's or partnership's level becomes "no email", or the
    personal kind is switched off; a digest's link moves every forum and partnership on
    a digest level (and a digest default) to "only what is about me", which is what
    the person already got at once. Doing it twice is harmless."""
    if target.kind is Kind.DIGEST:
        services.digests_off(target.user)
    elif target.scope is not None:
        scope_type: ScopeType = target.scope.type
        services.set_level(target.user, scope_type, target.scope.id, Level.NONE)
    else:
        services.switch_off(target.user, target.kind)
    db.session.flush()
