"""Each visibility rule's Python predicate and its SQL form agree, for every role and
every kind of object (issue 12, part 3).

The rules live side by side in ``partnerships/permissions/``: meetings
(``can_view_meeting`` / ``meetings_visible_to`` / ``people_who_may_see_meeting``),
forums' members-only content (``can_read_forum`` / ``forums_readable_by`` /
``people_who_may_read_forum``) and MoUs (``MouAccess.can_view_mou`` /
``mous_visible_to``, ``can_view_version`` / ``versions_visible_to``). One dataset
holds every role and every visibility; each test takes one role and one rule and
names every object on which the two forms disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from partnerships import permissions
from partnerships.accounts.models import User
from partnerships.extensions import db
from partnerships.forums.models import Forum, ForumBan, ForumMember, ForumMemberStatus
from partnerships.meetings.models import (
    Meeting,
    MeetingStatus,
    Registration,
    RegistrationStatus,
    Response,
)
from partnerships.modelbase import utcnow
from partnerships.mous.models import Mou, MouParty, MouStatus, MouVersion, VersionStatus
from partnerships.organisations.models import OrganisationMember, RequestStatus
from partnerships.partnership.models import PartnershipMember
from tests import snapshots

ROLES = [
    "anonymous",
    "stranger",
    "unconfirmed",
    "forum_member",
    "pending_member",
    "removed_and_banned",
    "convenor",
    "officer",
    "other_partnership_officer",
    "site_admin",
    "deleted_member",
    "party_admin",
    "party_member",
    "nominee",
    "pending_partner_person",  # in an organisation whose request to join is pending
    "former_party_member",  # left a member organisation
]


@dataclass
class World:
    users: dict[str, User | None]
    forums: dict[str, Forum]
    meetings: dict[str, Meeting]
    mous: dict[str, Mou]
    versions: dict[str, MouVersion]


def _version(mou: Mou, number: int, status: VersionStatus,
             parties: list[tuple[int, int | None]]) -> MouVersion:
    version = MouVersion(mou_id=mou.id, number=number, title=f"{mou.reference} v{number}",
                         start_date=date(2026, 1, 1), review_date=date(2027, 1, 1),
                         status=status)
    db.session.add(version)
    db.session.flush()
    for position, (organisation_id, nominee_id) in enumerate(parties):
        db.session.add(MouParty(version_id=version.id, organisation_id=organisation_id,
                                role="Partner", position=position,
                                nominated_signatory_id=nominee_id))
    db.session.flush()
    return version


@pytest.fixture
def world(make_user: Any, make_organisation: Any, make_partnership: Any,
          make_forum: Any, make_meeting: Any) -> World:
    """Built once per worker, copied into each test's database (tests/snapshots.py)."""
    return snapshots.reuse(__name__, lambda: _build_world(
        make_user, make_organisation, make_partnership, make_forum, make_meeting))


def _build_world(make_user: Any, make_organisation: Any, make_partnership: Any,
                 make_forum: Any, make_meeting: Any) -> World:
    users: dict[str, User | None] = {"anonymous": None}
    for role in ROLES[1:]:
        users[role] = make_user(name=role.replace("_", " ").title(),
                                confirmed=role != "unconfirmed",
                                site_admin=role == "site_admin")
    party = make_organisation("Party Organisation", admin=users["party_admin"],
                              members=[users["party_member"]])
    outsider_org = make_organisation("Other Organisation")
    place = make_partnership("Northbridge Together", officers=[users["officer"]],
                             members=[party, outsider_org])
    hopeful = make_organisation("Hopeful Organisation", members=[users["pending_partner_person"]])
    db.session.add(PartnershipMember(partnership_id=place.id, organisation_id=hopeful.id,
                                     status=RequestStatus.PENDING))
    db.session.add(OrganisationMember(organisation_id=party.id,
                                      user_id=users["former_party_member"].id,
                                      status=RequestStatus.LEFT))
    make_partnership("Southbridge Together", officers=[users["other_partnership_officer"]])

    forums: dict[str, Forum] = {}
    for name, public in (("public_forum", True), ("members_only_forum", False)):
        forum = make_forum(place, name.replace("_", " ").title(), public=public,
                           convenors=[users["convenor"]],
                           members=[users["forum_member"], users["deleted_member"]])
        db.session.add(ForumMember(forum_id=forum.id, user_id=users["pending_member"].id,
                                   status=ForumMemberStatus.PENDING))
        db.session.add(ForumMember(forum_id=forum.id, user_id=users["removed_and_banned"].id,
                                   status=ForumMemberStatus.REMOVED))
        db.session.add(ForumBan(forum_id=forum.id, user_id=users["removed_and_banned"].id,
                                reason="Spam"))
        forums[name] = forum

    meetings: dict[str, Meeting] = {}
    for forum_name, forum in forums.items():
        for kind, public, status in (("public", True, MeetingStatus.SCHEDULED),
                                     ("members_only", False, MeetingStatus.SCHEDULED),
                                     ("members_only_cancelled", False, MeetingStatus.CANCELLED),
                                     ("public_past", True, MeetingStatus.SCHEDULED)):
            starts_in = timedelta(days=-30) if kind.endswith("past") else timedelta(days=14)
            meetings[f"{kind} meeting in {forum_name}"] = make_meeting(
                forum, f"{kind} {forum_name}", public=public, status=status,
                starts_in=starts_in)

    # The partnership's own meetings (issue 15): for its member organisations' people.
    for kind, public, status in (("public", True, MeetingStatus.SCHEDULED),
                                 ("members_only", False, MeetingStatus.SCHEDULED),
                                 ("members_only_cancelled", False, MeetingStatus.CANCELLED),
                                 ("members_only_past", False, MeetingStatus.SCHEDULED)):
        starts_in = timedelta(days=-30) if kind.endswith("past") else timedelta(days=14)
        meetings[f"{kind} meeting of the partnership"] = make_meeting(
            place, f"{kind} partnership", public=public, status=status, starts_in=starts_in)

    org, nominee = party.id, users["nominee"].id
    mous: dict[str, Mou] = {}
    versions: dict[str, MouVersion] = {}
    specs: list[tuple[str, bool, list[tuple[str, VersionStatus]]]] = [
        ("draft", True, [("v1 draft", VersionStatus.DRAFT)]),
        ("out_for_comments", True, [("v1 comments", VersionStatus.COMMENTS)]),
        ("out_for_signature", True, [("v1 signing", VersionStatus.SIGNING)]),
        ("published_in_force", True, [("v1 signed", VersionStatus.SIGNED)]),
        ("members_only_in_force", False, [("v1 signed", VersionStatus.SIGNED)]),
        ("published_being_amended", True, [("v1 signed", VersionStatus.SIGNED),
                                           ("v2 draft", VersionStatus.DRAFT)]),
        ("members_only_amended", False, [("v1 superseded", VersionStatus.SUPERSEDED),
                                         ("v2 signed", VersionStatus.SIGNED)]),
        ("withdrawn_before_force", True, [("v1 withdrawn", VersionStatus.WITHDRAWN)]),
    ]
    for number, (name, publish, version_specs) in enumerate(specs, start=1):
        mou = Mou(partnership_id=place.id, number=number, publish=publish,
                  status=MouStatus.DRAFT)
        db.session.add(mou)
        db.session.flush()
        for version_number, (label, status) in enumerate(version_specs, start=1):
            # The nominee is named on in-progress versions only, as the services do.
            parties = [(org, nominee if status.is_in_progress else None),
                       (outsider_org.id, None)]
            version = _version(mou, version_number, status, parties)
            versions[f"{name} {label}"] = version
            if status is VersionStatus.SIGNED:
                mou.current_version_id = version.id
                mou.status = MouStatus.ACTIVE
            elif status.is_in_progress:
                mou.draft_version_id = version.id
        mous[name] = mou
    users["deleted_member"].deleted_at = utcnow()
    db.session.commit()
    db.session.expire_all()
    return World(users, forums, meetings, mous, versions)


def _ids(column: Any, condition: Any) -> set[int]:
    return set(db.session.scalars(select(column).where(condition)))


def _disagreements(python: dict[str, bool], sql: dict[str, bool]) -> list[str]:
    return [f"{name}: Python says {python[name]}, SQL says {sql[name]}"
            for name in python if python[name] != sql[name]]


@pytest.mark.parametrize("role", ROLES)
def test_meeting_lists_agree_with_can_view_meeting(world: World, role: str) -> None:
    user = world.users[role]
    visible = _ids(Meeting.id, permissions.meetings_visible_to(user))
    python = {name: permissions.can_view_meeting(user, m) for name, m in world.meetings.items()}
    sql = {name: m.id in visible for name, m in world.meetings.items()}
    assert not _disagreements(python, sql), f"role {role}"


@pytest.mark.parametrize("role", [r for r in ROLES if r not in ("anonymous", "deleted_member")])
def test_meeting_emails_agree_with_can_view_meeting(world: World, role: str) -> None:
    """``people_who_may_see_meeting`` leaves deleted accounts to its callers (every
    email query also asks ``User.deleted_at IS NULL``), so deleted accounts and the
    anonymous visitor, who has no row, are not compared here."""
    user = world.users[role]
    assert user is not None
    python, sql = {}, {}
    for name, meeting in world.meetings.items():
        python[name] = permissions.can_view_meeting(user, meeting)
        sql[name] = user.id in _ids(User.id, permissions.people_who_may_see_meeting(meeting))
    assert not _disagreements(python, sql), f"role {role}"


@pytest.mark.parametrize("role", ROLES)
def test_joining_links_for_many_agree_with_can_see_joining_link(world: World,
                                                                 role: str) -> None:
    """The personal calendar feed decides joining links for all its meetings at once
    (``joining_links_for``); each answer is ``can_see_joining_link``'s."""
    user = world.users[role]
    user_id = user.id if user is not None else 0
    registrations = {m.id: Registration(meeting_id=m.id, user_id=user_id,
                                        response=response, status=RegistrationStatus.CONFIRMED)
                     for (m, response) in zip(world.meetings.values(), [
                         Response.ONLINE, Response.APOLOGIES, None, Response.IN_PERSON],
                         strict=False) if response is not None}
    batch = permissions.joining_links_for(user, world.meetings.values(), registrations)
    python = {name: permissions.can_see_joining_link(user, m, registrations.get(m.id))
              for name, m in world.meetings.items()}
    sql = {name: batch[m.id] for name, m in world.meetings.items()}
    assert not _disagreements(python, sql), f"role {role}"


@pytest.mark.parametrize("role", ROLES)
def test_forum_lists_agree_with_can_read_forum(world: World, role: str) -> None:
    user = world.users[role]
    readable = _ids(Forum.id, permissions.forums_readable_by(user))
    python = {name: permissions.can_read_forum(user, f) for name, f in world.forums.items()}
    sql = {name: f.id in readable for name, f in world.forums.items()}
    assert not _disagreements(python, sql), f"role {role}"


@pytest.mark.parametrize("role", [r for r in ROLES if r not in ("anonymous", "deleted_member")])
def test_forum_emails_agree_with_can_read_forum(world: World, role: str) -> None:
    user = world.users[role]
    assert user is not None
    python, sql = {}, {}
    for name, forum in world.forums.items():
        python[name] = permissions.can_read_forum(user, forum)
        sql[name] = user.id in _ids(User.id, permissions.people_who_may_read_forum(forum))
    assert not _disagreements(python, sql), f"role {role}"


@pytest.mark.parametrize("role", ROLES)
def test_mou_register_agrees_with_can_view_mou(world: World, role: str) -> None:
    user = world.users[role]
    visible = _ids(Mou.id, permissions.mous_visible_to(user))
    python = {name: permissions.can_view_mou(user, mou) for name, mou in world.mous.items()}
    sql = {name: mou.id in visible for name, mou in world.mous.items()}
    assert not _disagreements(python, sql), f"role {role}"


@pytest.mark.parametrize("role", ROLES)
def test_mou_versions_agree_with_can_view_version(world: World, role: str) -> None:
    user = world.users[role]
    visible = _ids(MouVersion.id, permissions.versions_visible_to(user))
    python = {name: permissions.can_view_version(user, v) for name, v in world.versions.items()}
    sql = {name: v.id in visible for name, v in world.versions.items()}
    assert not _disagreements(python, sql), f"role {role}"


def test_the_dataset_tells_the_roles_apart(world: World) -> None:
    """Guard against a dataset in which every answer is the same: each rule must give
    different answers to different roles, or agreement proves nothing."""
    members_only = world.meetings["members_only meeting in members_only_forum"]
    assert permissions.can_view_meeting(world.users["forum_member"], members_only)
    assert not permissions.can_view_meeting(world.users["stranger"], members_only)
    assert not permissions.can_view_meeting(world.users["removed_and_banned"], members_only)
    assert not permissions.can_view_meeting(world.users["other_partnership_officer"],
                                            members_only)
    assert permissions.can_view_meeting(world.users["officer"], members_only)
    draft = world.mous["draft"]
    assert permissions.can_view_mou(world.users["nominee"], draft)
    assert permissions.can_view_mou(world.users["party_admin"], draft)
    assert not permissions.can_view_mou(world.users["party_member"], draft)
    board = world.meetings["members_only meeting of the partnership"]
    for role in ("party_member", "party_admin", "officer", "site_admin"):
        assert permissions.can_view_meeting(world.users[role], board), role
    for role in ("forum_member", "convenor", "pending_partner_person", "former_party_member",
                 "other_partnership_officer", "stranger"):
        assert not permissions.can_view_meeting(world.users[role], board), role
    assert not permissions.can_view_meeting(None, board)
    members_only_mou = world.mous["members_only_in_force"]
    assert permissions.can_view_mou(world.users["party_member"], members_only_mou)
    assert not permissions.can_view_mou(None, members_only_mou)
