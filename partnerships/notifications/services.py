"""Reading and changing a person's email settings, and the one check ``mail.queue``
makes before it adds a message: does this person want this email?

Levels are kept per forum and per partnership; a membership with no row of its own has
the person's default. Saving the settings page writes a row for every forum and
partnership on it, so a later change of the default applies only to memberships that
start after it. Every write is an upsert that tolerates a concurrent one (two tabs, an
unsubscribe link pressed twice): the last write wins and none fails.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..accounts.models import User
from ..extensions import db
from ..forums.models import Forum, ForumMember, ForumMemberStatus
from ..mail.kinds import REGISTRY, Kind, Sort
from ..organisations.models import OrganisationMember, RequestStatus
from ..partnership.models import Partnership, PartnershipMember, PartnershipOfficer
from .models import (
    DEFAULT_LEVEL,
    DIGEST_LEVELS,
    DigestCursor,
    Level,
    NotificationDefault,
    NotificationKindOff,
    NotificationLevel,
)

ScopeType = Literal["forum", "partnership"]


@dataclass(frozen=True)
class Scope:
    """A forum or a partnership, as the settings page and unsubscribe links name it."""

    type: ScopeType
    id: int
    name: str
    context: str = ""  # the partnership a forum belongs to

    @property
    def key(self) -> str:
        return f"{self.type}-{self.id}"

    @classmethod
    def of(cls, thing: Forum | Partnership) -> Scope:
        if isinstance(thing, Forum):
            return cls("forum", thing.id, thing.name, thing.partnership.name)
        return cls("partnership", thing.id, thing.name)


def _scope_column(scope_type: ScopeType) -> Any:
    return NotificationLevel.forum_id if scope_type == "forum" else NotificationLevel.partnership_id


# --- Reading ---------------------------------------------------------------------------


def default_level(user_id: int) -> Level:
    level = db.session.scalar(
        select(NotificationDefault.level).where(NotificationDefault.user_id == user_id))
    return level if level is not None else DEFAULT_LEVEL


def level_for(user_id: int, scope_type: ScopeType, scope_id: int) -> Level:
    """The person's level for one forum or partnership (their default if not set)."""
    level = db.session.scalar(select(NotificationLevel.level).where(
        NotificationLevel.user_id == user_id, _scope_column(scope_type) == scope_id))
    return level if level is not None else default_level(user_id)


def kinds_off(user_id: int) -> set[str]:
    return set(db.session.scalars(
        select(NotificationKindOff.kind).where(NotificationKindOff.user_id == user_id)))


def wants(user: User, kind: Kind, scope: Forum | Partnership | None,
          context: Mapping[str, Any]) -> bool:
    """Whether ``user`` is to get an email of ``kind`` (called by ``mail.queue`` after
    the caller chose the recipients with the permissions layer). Essential kinds always;
    personal kinds unless switched off; activity by the level for ``scope``, where
    "only what is about me" asks the kind's ``about_me`` rule."""
    entry = REGISTRY[kind]
    if entry.sort is Sort.ESSENTIAL or entry.sort is Sort.DIGEST:
        return True  # a digest is sent only to those whose levels asked for one
    if entry.sort is Sort.PERSONAL:
        return db.session.scalar(select(NotificationKindOff.kind).where(
            NotificationKindOff.user_id == user.id,
            NotificationKindOff.kind == kind.value)) is None
    if scope is None:  # an activity email must say where it happened
        raise ValueError(f"An email of kind {kind} needs the forum or partnership it is about")
    found = Scope.of(scope)
    level = level_for(user.id, found.type, found.id)
    if level is Level.EVERY:
        return True
    if level is Level.NONE:
        return False
    if level in DIGEST_LEVELS and not entry.in_digest:
        return True  # digests do not carry it: it comes at once, or it would never come
    # "Only what is about me", and the digest levels: the rest of the forum's activity
    # waits for the person's digest (``notifications.digests``), built from the records.
    assert entry.about_me is not None
    return entry.about_me(user, context)


def my_scopes(user: User) -> list[Scope]:
    """The forums the person is an active member of, then the partnerships they belong
    to (as an officer, or through an organisation that is an active member), by name."""
    forums = db.session.scalars(
        select(Forum).join(ForumMember, ForumMember.forum_id == Forum.id)
        .where(ForumMember.user_id == user.id, ForumMember.status == ForumMemberStatus.ACTIVE)
        .order_by(Forum.name, Forum.id))
    through_organisation = (
        select(PartnershipMember.partnership_id)
        .join(OrganisationMember,
              OrganisationMember.organisation_id == PartnershipMember.organisation_id)
        .where(OrganisationMember.user_id == user.id,
               OrganisationMember.status == RequestStatus.ACTIVE,
               PartnershipMember.status == RequestStatus.ACTIVE))
    as_officer = select(PartnershipOfficer.partnership_id).where(
        PartnershipOfficer.user_id == user.id)
    partnerships = db.session.scalars(
        select(Partnership).where(or_(Partnership.id.in_(through_organisation),
                                      Partnership.id.in_(as_officer)))
        .order_by(Partnership.name, Partnership.id))
    return ([Scope.of(forum) for forum in forums]
            + [Scope.of(partnership) for partnership in partnerships])


def levels(user: User, scopes: Iterable[Scope]) -> dict[str, Level]:
    """The level of each of ``scopes`` (one query), keyed by ``Scope.key``."""
    rows = db.session.execute(select(NotificationLevel).where(
        NotificationLevel.user_id == user.id)).scalars()
    saved = {}
    for row in rows:
        key = (f"forum-{row.forum_id}" if row.forum_id is not None
               else f"partnership-{row.partnership_id}")
        saved[key] = row.level
    default = default_level(user.id)
    return {scope.key: saved.get(scope.key, default) for scope in scopes}


# --- Changing --------------------------------------------------------------------------


def _upsert(model: type[Any], where: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """Update the row matching ``where``, or insert it; if a concurrent insert wins the
    race, update that one instead (a savepoint keeps the caller's transaction)."""
    conditions = [getattr(model, name) == value for name, value in where.items()]
    statement = (update(model).where(*conditions).values(**values)
                 .execution_options(synchronize_session=False))
    if values:
        if cast("CursorResult[Any]", db.session.execute(statement)).rowcount:
            return
    elif db.session.scalar(select(func.count()).select_from(model).where(*conditions)):
        return
    try:
        with db.session.begin_nested():
            db.session.add(model(**where, **values))
    except IntegrityError:  # someone else inserted it first: theirs, with our values
        if values:
            db.session.execute(statement)


def set_level(user: User, scope_type: ScopeType, scope_id: int, level: Level) -> None:
    """Set the level, leaving a row that already has it untouched: its ``updated_at``
    is when the level last changed, which digests read (``digests``: a scope that has
    just moved to a digest starts its first digest then, not a day or week before)."""
    if db.session.scalar(select(NotificationLevel.level).where(
            NotificationLevel.user_id == user.id,
            _scope_column(scope_type) == scope_id)) is level:
        return
    column = "forum_id" if scope_type == "forum" else "partnership_id"
    _upsert(NotificationLevel, {"user_id": user.id, column: scope_id}, {"level": level})


def set_default(user: User, level: Level) -> None:
    """The level for new memberships (untouched if unchanged, as ``set_level``)."""
    if db.session.scalar(select(NotificationDefault.level).where(
            NotificationDefault.user_id == user.id)) is level:
        return
    _upsert(NotificationDefault, {"user_id": user.id}, {"level": level})


def digests_off(user: User) -> None:
    """A digest's unsubscribe link: every forum and partnership the person gets a
    digest for (and a digest default) becomes "only what is about me"."""
    db.session.execute(
        update(NotificationLevel)
        .where(NotificationLevel.user_id == user.id,
               NotificationLevel.level.in_(DIGEST_LEVELS))
        .values(level=Level.ABOUT_ME).execution_options(synchronize_session=False))
    scopes = my_scopes(user)
    mine = levels(user, scopes)
    for scope in scopes:
        if mine[scope.key] in DIGEST_LEVELS:  # from a digest default, with no row
            set_level(user, scope.type, scope.id, Level.ABOUT_ME)
    if default_level(user.id) in DIGEST_LEVELS:
        set_default(user, Level.ABOUT_ME)


def forget(user: User) -> None:
    """Account deletion (before the address is erased): the person's settings and digest
    records go with their personal data, and so does email queued for them that could
    have been turned off (activity, personal, digests). Essential email already queued
    (say the notice that their account is being deleted) is still sent."""
    from ..mail import OutboxMessage

    for model in (NotificationLevel, NotificationDefault, NotificationKindOff, DigestCursor):
        db.session.execute(delete(model).where(model.user_id == user.id)
                           .execution_options(synchronize_session=False))
    optional = [entry.kind.value for entry in REGISTRY.values() if not entry.essential]
    db.session.execute(delete(OutboxMessage).where(
        OutboxMessage.to == user.email, OutboxMessage.sent_at.is_(None),
        OutboxMessage.kind.in_(optional)).execution_options(synchronize_session=False))


def switch_off(user: User, kind: Kind) -> None:
    if REGISTRY[kind].sort is not Sort.PERSONAL:
        raise ValueError(f"{kind} is not a personal kind of email")
    _upsert(NotificationKindOff, {"user_id": user.id, "kind": kind.value}, {})


def save(user: User, chosen: Mapping[str, Level], default: Level, on: Iterable[Kind]) -> None:
    """The settings page: a level for each of the person's forums and partnerships
    (keyed by ``Scope.key``; keys that are not theirs are ignored), the default for new
    memberships, and which personal kinds are on."""
    mine = {scope.key: scope for scope in my_scopes(user)}
    for key, level in chosen.items():
        if (scope := mine.get(key)) is not None:
            set_level(user, scope.type, scope.id, level)
    set_default(user, default)
    on_values = {kind.value for kind in on}
    for entry in REGISTRY.values():
        if entry.sort is not Sort.PERSONAL:
            continue
        if entry.kind.value in on_values:
            db.session.execute(delete(NotificationKindOff).where(
                NotificationKindOff.user_id == user.id,
                NotificationKindOff.kind == entry.kind.value))
        else:
            _upsert(NotificationKindOff, {"user_id": user.id, "kind": entry.kind.value}, {})
    db.session.flush()
