"""Accounts. The one builder that writes its model: an account is made by the person
themselves (``accounts.services.register``, then the link in the email proves the
address), so there is no actor to call a service for; ``user`` stands for both steps.
Passwords are hashed once per password and process, because scrypt is slow on
purpose and a thousand tests (and twenty demo accounts) share a few passwords."""

from __future__ import annotations

from functools import cache

from ..accounts.models import User
from ..accounts.passwords import hash_password
from ..accounts.services import normalise_email
from ..extensions import db
from ..modelbase import utcnow
from . import builder, number

PASSWORD = "correct horse battery staple"


@cache
def password_hash(password: str) -> str:
    return hash_password(password)


@builder
def user(name: str | None = None, email: str | None = None, *, password: str = PASSWORD,
         confirmed: bool = True, site_admin: bool = False) -> User:
    """A confirmed account (unless ``confirmed=False``) with ``password``."""
    n = number()
    account = User(name=name or f"Person {n}",
                   email=normalise_email(email or f"user{n}@example.org"),
                   password_hash=password_hash(password), is_site_admin=site_admin,
                   email_confirmed_at=utcnow() if confirmed else None)
    db.session.add(account)
    db.session.flush()
    return account


def stand_in_admin() -> User:
    """A site administrator who is never saved: the actor for set-up a test leaves
    unsaid (who created the partnership), so no extra account appears in its data."""
    return User(name="Site administrator", email="site-admin@example.invalid",
                is_site_admin=True, email_confirmed_at=utcnow())
