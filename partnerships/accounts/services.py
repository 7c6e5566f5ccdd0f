"""Account rules: registration, confirmation, sign-in, password reset, profile, deletion.

Services take the acting user explicitly, flush but never commit, and raise
``ValidationError`` (with the form field it belongs to) or ``PermissionDenied``.
"""

from __future__ import annotations

from flask import url_for
from sqlalchemy import func, select

from .. import audit, mail
from ..errors import ValidationError
from ..extensions import db
from ..modelbase import utcnow
from . import tokens
from .models import FORMER_MEMBER_NAME, User, new_session_token
from .passwords import hash_password, password_problem, verify_password


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def _check_new_password(password: str, user_inputs: list[str]) -> None:
    problem = password_problem(password, user_inputs)
    if problem:
        raise ValidationError(problem, field="password")


def register(name: str, email: str, password: str) -> User:
    """Create an account and email a confirmation link."""
    email = normalise_email(email)
    name = name.strip()
    if find_by_email(email) is not None:
        raise ValidationError(
            "An account with this email address already exists. Sign in, or reset your "
            "password if you have forgotten it.",
            field="email",
        )
    _check_new_password(password, [name, email])
    user = User(name=name, email=email, password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    audit.record(user, "account.registered", "user", user.id)
    send_confirmation(user)
    return user


def send_confirmation(user: User) -> None:
    link = url_for("accounts.confirm", token=tokens.make_confirm_token(user), _external=True)
    mail.queue(
        user.email,
        "Confirm your email address",
        "confirm_email",
        user=user,
        link=link,
    )


def confirm_email(token: str) -> User:
    """Mark the address in the token as confirmed. Raises ``TokenError`` for bad links."""
    user_id, email = tokens.read_confirm_token(token)
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or user.email != email:
        # The account has gone or the address has changed since the link was sent.
        raise tokens.TokenError("This link is no longer valid. Sign in to send a new one.")
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        audit.record(user, "account.email_confirmed", "user", user.id)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None. Takes the same time either way."""
    user = find_by_email(email)
    if user is None or not user.is_active:
        verify_password(None, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    user.last_signed_in_at = utcnow()
    return user


def request_password_reset(email: str) -> None:
    """Email a reset link if the account exists. Says nothing either way (no enumeration)."""
    user = find_by_email(email)
    if user is None or not user.is_active:
        return
    link = url_for("accounts.reset_password", token=tokens.make_reset_token(user), _external=True)
    mail.queue(user.email, "Reset your password", "reset_password", user=user, link=link)
    audit.record(user, "account.reset_requested", "user", user.id)


def user_for_reset_token(token: str) -> User:
    """The user a reset link belongs to, if it is still valid. Raises ``TokenError``."""
    user_id, fingerprint = tokens.read_reset_token(token)
    user = db.session.get(User, user_id)
    valid = user is not None and user.is_active
    if not valid or not tokens.reset_fingerprint_matches(user, fingerprint):
        raise tokens.TokenError(
            "This link has already been used or is out of date. Ask for a new one."
        )
    return user


def reset_password(token: str, new_password: str) -> User:
    user = user_for_reset_token(token)
    _check_new_password(new_password, [user.name, user.email])
    _set_password(user, new_password)
    # Following the emailed link proves the address, too.
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    audit.record(user, "account.password_reset", "user", user.id)
    return user


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()  # signs out every other session


def change_password(actor: User, current_password: str, new_password: str) -> None:
    if not verify_password(actor.password_hash, current_password):
        raise ValidationError("Your current password is not right", field="current_password")
    _check_new_password(new_password, [actor.name, actor.email])
    _set_password(actor, new_password)
    audit.record(actor, "account.password_changed", "user", actor.id)


def update_profile(actor: User, name: str, email: str) -> bool:
    """Change name and email. Returns True if the email changed (a new link was sent)."""
    name = name.strip()
    email = normalise_email(email)
    email_changed = email != actor.email
    if email_changed:
        other = find_by_email(email)
        if other is not None:
            raise ValidationError(
                "Another account already uses this email address", field="email"
            )
    changes = {}
    if name != actor.name:
        changes["name"] = True
        actor.name = name
    if email_changed:
        changes["email"] = True
        actor.email = email
        actor.email_confirmed_at = None
    if changes:
        audit.record(actor, "account.profile_updated", "user", actor.id, **changes)
    if email_changed:
        db.session.flush()
        send_confirmation(actor)
    return email_changed


def deletion_blockers(actor: User) -> list[str]:
    """Reasons the account cannot be deleted yet, in plain English (empty if none)."""
    from ..organisations.models import MemberRole, OrganisationMember, RequestStatus

    blockers: list[str] = []
    if actor.is_site_admin:
        admins = db.session.scalar(
            select(func.count(User.id)).where(User.is_site_admin, User.deleted_at.is_(None))
        )
        if (admins or 0) <= 1:
            blockers.append(
                "You are the only site administrator. Make someone else a site administrator first."
            )
    my_admin_links = db.session.scalars(
        select(OrganisationMember).where(
            OrganisationMember.user_id == actor.id,
            OrganisationMember.role == MemberRole.ADMIN,
            OrganisationMember.status == RequestStatus.ACTIVE,
        )
    ).all()
    for link in my_admin_links:
        org = link.organisation
        admins = [
            m for m in org.memberships
            if m.is_admin and m.user_id != actor.id
        ]
        others = [
            m for m in org.memberships
            if m.status is RequestStatus.ACTIVE and m.user_id != actor.id
        ]
        if others and not admins:
            blockers.append(
                f"You are the only admin of {org.name}. Make a colleague an admin first, "
                "so they can keep the profile up to date."
            )
    return blockers


def delete_account(actor: User, password: str) -> None:
    """Erase personal data; keep the row so contributions show "Former member"."""
    from ..organisations.models import OrganisationMember
    from ..places.models import PartnershipOfficer

    if not verify_password(actor.password_hash, password):
        raise ValidationError("Your password is not right", field="password")
    blockers = deletion_blockers(actor)
    if blockers:
        raise ValidationError(blockers[0], field="password")
    for link in db.session.scalars(
        select(OrganisationMember).where(OrganisationMember.user_id == actor.id)
    ):
        db.session.delete(link)
    for role in db.session.scalars(
        select(PartnershipOfficer).where(PartnershipOfficer.user_id == actor.id)
    ):
        db.session.delete(role)
    actor.name = FORMER_MEMBER_NAME
    actor.email = f"deleted-{actor.id}@deleted.invalid"
    actor.password_hash = None
    actor.email_confirmed_at = None
    actor.is_site_admin = False
    actor.session_token = new_session_token()
    actor.deleted_at = utcnow()
    audit.record(actor, "account.deleted", "user", actor.id)
