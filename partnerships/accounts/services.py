"""Account rules: registration, confirmation, sign-in, password reset, profile, deletion.

Services take the acting user explicitly, flush but never commit, and raise
``ValidationError`` (with the form field it belongs to) or ``PermissionDenied``.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import func, select

from .. import audit, conditional, mail
from ..errors import ValidationError
from ..extensions import db
from ..mail.kinds import Kind
from ..modelbase import utcnow
from . import sessions, tokens
from .models import FORMER_MEMBER_NAME, User, UserSession
from .passwords import hash_password, password_problem, verify_password


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def _check_new_password(password: str, user_inputs: list[str]) -> None:
    problem = password_problem(password, user_inputs)
    if problem:
        raise ValidationError(problem, field="password")


def register(name: str, email: str, password: str, next_url: str = "") -> User | None:
    """Create an account and email a confirmation link (which returns to ``next_url``).

    If the address already has an account, nothing is created: its owner is emailed
    instead, and the caller answers exactly as for a new address, so registering does
    not tell anyone which addresses have accounts. Both ways check and hash the
    password, so both take about as long. Returns the new user, or None.
    """
    email = normalise_email(email)
    name = name.strip()
    _check_new_password(password, [name, email])
    password_hash = hash_password(password)
    existing = find_by_email(email)
    if existing is not None:
        _tell_owner_of_registration_attempt(existing)
        return None
    user = User(name=name, email=email, password_hash=password_hash)
    db.session.add(user)
    db.session.flush()
    audit.record(user, "account.registered", "user", user.id)
    send_confirmation(user, next_url)
    return user


def _tell_owner(owner: User, subject: str, template: str, **context: Any) -> None:
    """Tell the owner of an address that someone tried to use it for another account,
    with a link to sign in (the person who tried is answered as if it were free)."""
    mail.queue(owner.email, subject, template, kind=Kind.ACCOUNT_SECURITY, user=owner,
               sign_in_link=url_for("accounts.sign_in", _external=True), **context)


def _tell_owner_of_registration_attempt(user: User) -> None:
    _tell_owner(user, "Someone tried to create an account with your email address",
                "account_exists", reset_link=url_for("accounts.reset_request", _external=True))
    audit.record(None, "account.registration_attempted", "user", user.id)


def send_confirmation(user: User, next_url: str = "") -> None:
    link = url_for("accounts.confirm", token=tokens.make_confirm_token(user),
                   next=next_url or None, _external=True)
    mail.queue(
        user.email,
        "Confirm your email address",
        "confirm_email",
        kind=Kind.ACCOUNT_SECURITY,
        user=user,
        link=link,
    )


def confirm_email(token: str) -> tuple[User, bool]:
    """Mark the address in the token as confirmed. Returns the user and whether this
    use of the link confirmed it (only the first does). Raises ``TokenError`` for bad
    links."""
    user_id, email = tokens.read_confirm_token(token)
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or user.email != email:
        # The account has gone or the address has changed since the link was sent.
        raise tokens.TokenError("This link is no longer valid. Sign in to send a new one.")
    if user.email_confirmed_at is not None:
        return user, False
    user.email_confirmed_at = utcnow()
    audit.record(user, "account.email_confirmed", "user", user.id)
    return user, True


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None. Checks one password hash either way (a
    dummy one for unknown addresses), so it takes the same time whether or not the
    address has an account. The view then calls ``start_session``."""
    user = find_by_email(email)
    if user is None or not user.is_active:
        verify_password(None, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    return user


def start_session(user: User, user_agent: str | None) -> UserSession:
    """Sign ``user`` in on this device (the view then calls ``login_user``)."""
    user.last_signed_in_at = utcnow()
    return sessions.start(user, user_agent)


def sign_out(actor: User) -> None:
    """End this session on the server, so its cookies stop working at once."""
    sessions.end(actor)


def sign_out_other_devices(actor: User, user_agent: str | None) -> int:
    """End every other session of ``actor``; return how many devices were signed out."""
    ended = sessions.end_others(actor, user_agent)
    audit.record(actor, "account.signed_out_elsewhere", "user", actor.id, devices=ended)
    return ended


def other_devices(actor: User) -> list[UserSession]:
    return sessions.others(actor)


def request_password_reset(email: str) -> None:
    """Email a reset link if the account exists. Says nothing either way (no enumeration)."""
    user = find_by_email(email)
    if user is None or not user.is_active:
        return
    link = url_for("accounts.reset_password", token=tokens.make_reset_token(user), _external=True)
    mail.queue(user.email, "Reset your password", "reset_password",
               kind=Kind.ACCOUNT_SECURITY, user=user, link=link)
    audit.record(user, "account.reset_requested", "user", user.id)


def user_for_reset_token(token: str) -> User:
    """The user a reset link belongs to, if it is still valid. Raises ``TokenError``."""
    user_id, fingerprint = tokens.read_reset_token(token)
    user = db.session.get(User, user_id)
    if (user is None or not user.is_active
            or not tokens.reset_fingerprint_matches(user, fingerprint)):
        raise tokens.TokenError(
            "This link has already been used or is out of date. Ask for a new one."
        )
    return user


def reset_password(token: str, new_password: str, user_agent: str | None) -> User:
    """Set a new password from an emailed link: every session ends, and this device
    is signed in afresh."""
    user = user_for_reset_token(token)
    _check_new_password(new_password, [user.name, user.email])
    _set_password(user, new_password)
    sessions.end_all(user)
    start_session(user, user_agent)
    # Following the emailed link proves the address, too.
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    audit.record(user, "account.password_reset", "user", user.id)
    return user


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)


def change_password(
    actor: User, current_password: str, new_password: str, user_agent: str | None
) -> None:
    """Change the password, keep this session and sign out every other device."""
    if not verify_password(actor.password_hash, current_password):
        raise ValidationError("Your current password is not right", field="current_password")
    _check_new_password(new_password, [actor.name, actor.email])
    _set_password(actor, new_password)
    sessions.end_others(actor, user_agent)
    audit.record(actor, "account.password_changed", "user", actor.id)


def email_change_problem(actor: User, email: str, password: str) -> str | None:
    """Why the email address in ``email`` cannot be asked for with this password, or
    None. Changing the address needs the current password; keeping it does not."""
    if normalise_email(email) == actor.email:
        return None
    if not password:
        return "Enter your current password to change your email address"
    if not verify_password(actor.password_hash, password):
        return "Your current password is not right"
    return None


def update_profile(actor: User, name: str, email: str, password: str = "") -> str | None:
    """Change the name at once. A new email address needs the current password, and
    changes only when the link sent to it is followed; the old address is told (if it
    was ever confirmed: an unconfirmed one may be a stranger's, mistyped).

    Returns the new address if a link was sent to it, otherwise None. Whether another
    account already has the new address is not revealed here (its owner is told
    instead): following the link checks again.
    """
    problem = email_change_problem(actor, email, password)
    if problem:
        raise ValidationError(problem, field="current_password")
    name = name.strip()
    email = normalise_email(email)
    if name != actor.name:
        actor.name = name
        audit.record(actor, "account.profile_updated", "user", actor.id, name=True)
    if email == actor.email:
        return None
    _request_email_change(actor, email)
    return email


def _request_email_change(actor: User, new_email: str) -> None:
    owner = find_by_email(new_email)
    if owner is not None:
        _tell_owner(owner, "Someone asked to use your email address for another account",
                    "email_change_taken")
    else:
        link = url_for(
            "accounts.confirm_email_change",
            token=tokens.make_email_change_token(actor, new_email),
            _external=True,
        )
        mail.queue(new_email, "Confirm your new email address", "email_change_confirm",
                   kind=Kind.ACCOUNT_SECURITY, user=actor, link=link)
    if actor.is_confirmed:  # told the same whether or not the new address is taken
        mail.queue(
            actor.email,
            "Someone asked to change your email address",
            "email_change_requested",
            kind=Kind.ACCOUNT_SECURITY,
            user=actor,
            new_email=new_email,
            password_link=url_for("accounts.change_password", _external=True),
            reset_link=url_for("accounts.reset_request", _external=True),
        )
    audit.record(actor, "account.email_change_requested", "user", actor.id)


def confirm_email_change(token: str) -> User:
    """Follow a link sent to a new address: the account moves to it, confirmed, and
    the old address is told. Raises ``TokenError`` if the link is bad, out of date,
    already used, or the address now belongs to another account."""
    user_id, new_email, fingerprint = tokens.read_email_change_token(token)
    user = db.session.get(User, user_id)
    if (user is None or not user.is_active
            or not tokens.email_change_fingerprint_matches(user, fingerprint)):
        raise tokens.TokenError(
            "This link has already been used or is out of date. Sign in and change your "
            "email address again."
        )
    if find_by_email(new_email) is not None:
        raise tokens.TokenError("Another account already uses this email address.")
    old_email, old_confirmed = user.email, user.is_confirmed
    user.email = new_email
    user.email_confirmed_at = utcnow()
    db.session.flush()
    if old_confirmed:
        mail.queue(old_email, "Your email address has changed", "email_changed",
                   kind=Kind.ACCOUNT_SECURITY, user=user, new_email=new_email)
    audit.record(user, "account.email_changed", "user", user.id)
    return user


def deletion_blockers(actor: User) -> list[str]:
    """Reasons the account cannot be deleted yet, in plain English (empty if none)."""
    from ..organisations.models import MemberRole, OrganisationMember, RequestStatus

    blockers: list[str] = []
    if actor.is_site_admin:
        site_admins = db.session.scalar(
            select(func.count(User.id)).where(User.is_site_admin, User.deleted_at.is_(None))
        )
        if (site_admins or 0) <= 1:
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


def _lock_what_deletion_counts(actor: User) -> None:
    """Lock what ``deletion_blockers`` counts and read it again, so two people leaving at
    once cannot each count the other and leave none: every site administrator's row
    (when the actor is one), and each organisation the actor is an admin of (as an
    admin stepping down does), with its members read after the lock. On SQLite a POST
    already holds the write lock; this is for PostgreSQL's concurrent transactions."""
    from ..organisations.models import MemberRole, Organisation, OrganisationMember

    if actor.is_site_admin:
        db.session.scalars(select(User.id).where(User.is_site_admin,
                                                 User.deleted_at.is_(None))
                           .with_for_update()).all()
    org_ids = db.session.scalars(select(OrganisationMember.organisation_id).where(
        OrganisationMember.user_id == actor.id, OrganisationMember.role == MemberRole.ADMIN))
    for org in db.session.scalars(select(Organisation).where(Organisation.id.in_(list(org_ids)))
                                  .order_by(Organisation.id)).all():
        conditional.lock(org)
        db.session.scalars(select(OrganisationMember)
                           .where(OrganisationMember.organisation_id == org.id)
                           .execution_options(populate_existing=True)).all()
        db.session.expire(org, ["memberships"])


def delete_account(actor: User, password: str) -> None:
    """Erase personal data; keep the row so contributions show "Former member"."""
    from ..organisations.models import OrganisationMember
    from ..partnership.models import PartnershipOfficer

    if not verify_password(actor.password_hash, password):
        raise ValidationError("Your password is not right", field="password")
    _lock_what_deletion_counts(actor)
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
    from ..notifications.services import forget

    forget(actor)  # email settings, digest records, and optional email still queued
    actor.name = FORMER_MEMBER_NAME
    actor.email = f"deleted-{actor.id}@deleted.invalid"
    actor.password_hash = None
    actor.email_confirmed_at = None
    actor.is_site_admin = False
    sessions.end_all(actor)
    actor.deleted_at = utcnow()
    audit.record(actor, "account.deleted", "user", actor.id)
