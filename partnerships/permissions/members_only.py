"""Refusing a members-only page: what the person is told, decided in one place.

Every loader that hides something (``formflow.allowed(..., hide=True)``, the forum,
meeting and MoU loaders) ends in ``refuse`` once the permission predicate has said no:

- signed out: ``SignInFirst``, which the error handlers (``partnerships.errors``) turn
  into the sign-in page, saying the page is for members and coming back here after
  (people arrive from email links);
- signed in, and the thing lives in a container whose own page is public (a meeting or a
  discussion in a forum, a members-only forum's inside pages, an MoU of a partnership):
  ``MembersOnly`` with its ``Audience``, a 403 page that names the container, says who
  the thing is for and how to become one of them (ask to join, or by invitation), and
  never shows the thing's title or any of its content;
- signed in, anything else (drafts, other people's applications): 404, as before.

Deliberate trade-off: a signed-out visitor can tell an existing members-only meeting
(or thread, MoU ...) id from a missing one, since the first asks them to sign in and the
second is "Page not found". The issue accepts this so that email links work; ids are
sequential anyway, and neither answer shows a title or any content. A signed-in person
who may not see the thing learns only which public forum or partnership it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NoReturn

from ..errors import NotFound, PermissionDenied
from ..forums.models import Forum, MembershipPolicy
from ..partnership.models import Partnership
from .core import Viewer, signed_in
from .forums import forum_access


class Joining(StrEnum):
    """What the refusal page offers the person who may not see the thing."""

    ASK = "ask"  # "Ask to join" (or "Join", for an open forum)
    OPEN = "open"
    INVITATION = "invitation"  # membership is by invitation only
    PENDING = "pending"  # they have already asked
    BARRED = "barred"  # a convenor barred them
    NONE = "none"  # nothing to join (an MoU's parties, say)


@dataclass(frozen=True)
class Audience:
    """Who a hidden thing is for, in words that reveal nothing of the thing itself.

    ``what`` is the kind of thing ("meeting", "discussion", "page"); ``forum`` or
    ``partnership`` is its public container; ``who`` says who may see it."""

    what: str
    who: str
    forum: Forum | None = None
    partnership: Partnership | None = None
    joining: Joining = Joining.NONE


class SignInFirst(PermissionDenied):
    """A signed-out person asked for something that is for members: sign in first."""

    status_code = 401

    def __init__(self) -> None:
        super().__init__("This page is for members. Sign in and we will bring you back to it.")


class MembersOnly(PermissionDenied):
    """A signed-in person may not see the thing: the 403 page says who it is for."""

    def __init__(self, audience: Audience) -> None:
        super().__init__(f"This {audience.what} is for {audience.who}")
        self.audience = audience


def forum_audience(user: Viewer, forum: Forum, what: str) -> Audience:
    """Something for the insiders of ``forum``, and how ``user`` could become one."""
    access = forum_access(user, forum)
    if access.is_banned:
        joining = Joining.BARRED
    elif access.is_pending:
        joining = Joining.PENDING
    elif forum.membership_policy is MembershipPolicy.BY_INVITATION:
        joining = Joining.INVITATION
    elif forum.membership_policy is MembershipPolicy.OPEN:
        joining = Joining.OPEN
    else:
        joining = Joining.ASK
    return Audience(what, f"members of {forum.name}", forum=forum,
                    partnership=forum.partnership, joining=joining)


def mou_audience(partnership: Partnership, what: str = "memorandum of understanding"
                 ) -> Audience:
    """An MoU (or a version of one: ``what``) that is for its parties and the officers."""
    return Audience(what,
                    f"the organisations taking part in it and the officers of "
                    f"{partnership.name}", partnership=partnership)


def partnership_audience(partnership: Partnership, what: str = "meeting") -> Audience:
    """Something of the partnership itself (its own members-only meetings) that is for
    its people: those of its member organisations, and its officers."""
    return Audience(what,
                    f"the people of {partnership.name}'s member organisations and its "
                    "officers", partnership=partnership)


def refuse(user: Viewer, audience: Audience | None = None) -> NoReturn:
    """End the request for something ``user`` may not see (see the module docstring)."""
    if not signed_in(user):
        raise SignInFirst()
    if audience is not None:
        raise MembersOnly(audience)
    raise NotFound("")
