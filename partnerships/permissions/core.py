"""Who is asking: signed in, site admin, confirmed email address.

Every predicate in ``permissions`` starts here, so "signed in" means the same thing
everywhere: an authenticated, active (not deleted) account. Anonymous visitors arrive
as Flask-Login's ``AnonymousUserMixin`` or as ``None`` and are answered False.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias, TypeGuard

if TYPE_CHECKING:
    from flask_login import AnonymousUserMixin

    from ..accounts.models import User

# A signed-in ``User``, Flask-Login's anonymous user, ``current_user`` (a proxy to either)
# or None. Predicates narrow it with ``signed_in`` before reading ``id`` and friends.
Viewer: TypeAlias = "User | AnonymousUserMixin | None"


def signed_in(user: Viewer) -> TypeGuard[User]:
    """Authenticated and not deleted (``User.is_active``). For mypy, a True answer
    narrows ``user`` to ``User`` (a False one says nothing about its type)."""
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def is_site_admin(user: Viewer) -> bool:
    return signed_in(user) and bool(user.is_site_admin)


def has_confirmed_email(user: Viewer) -> bool:
    """Signed in with a confirmed address, so admins and partners can reach the person."""
    return signed_in(user) and bool(user.is_confirmed)


def can_view_admin(user: Viewer) -> bool:
    return is_site_admin(user)
