"""MoUs: who sees an MoU and each of its versions (drafts above all), comments and signs.

An MoU page asks many questions about one person; ``mou_access`` answers them all with
two small queries (is the person an officer of the partnership; which organisations do
they belong to, and administer), and every MoU predicate goes through it. Versions
must come with their parties loaded (the MoU services load them), so no predicate
queries per party or per row of the register.

Who sees what has two forms kept side by side here and tested to agree
(tests/test_permissions_agree.py): ``MouAccess.can_view_mou`` / ``can_view_version`` in
Python, and ``mous_visible_to(user)`` / ``versions_visible_to(user)`` as SQL
conditions on ``Mou`` and ``MouVersion``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, not_, or_, select, true

from ..extensions import db
from ..mous.models import Mou, MouParty, MouVersion, VersionStatus
from ..organisations.models import MemberRole, Organisation, OrganisationMember, RequestStatus
from ..partnership.models import Partnership
from .core import Viewer, is_site_admin, signed_in
from .partnership import can_manage_partnership, is_partnership_officer, partnerships_run_by

# Versions that have been in force: they follow the MoU's own visibility.
_SIGNED = (VersionStatus.SIGNED, VersionStatus.SUPERSEDED)


@dataclass(frozen=True)
class MouAccess:
    """What one person may do with the MoUs of one partnership."""

    user_id: int | None
    is_site_admin: bool
    is_officer: bool
    admin_org_ids: frozenset[int]
    member_org_ids: frozenset[int]

    @property
    def manages(self) -> bool:
        """Officers of the partnership and site admins draft and run its MoUs."""
        return self.is_site_admin or self.is_officer

    @property
    def reads_parties(self) -> bool:
        """Whether the predicates below read a version's parties: only for a signed-in
        person who does not manage the MoUs (anyone else is never a party's member,
        admin or nominee), so pages may skip loading them as objects otherwise."""
        return not self.manages and self.user_id is not None

    def is_party_admin(self, version: MouVersion) -> bool:
        return bool(self.admin_org_ids) and any(
            p.organisation_id in self.admin_org_ids for p in version.parties)

    def is_party_member(self, version: MouVersion) -> bool:
        return bool(self.member_org_ids) and any(
            p.organisation_id in self.member_org_ids for p in version.parties)

    def is_nominee(self, version: MouVersion) -> bool:
        return self.user_id is not None and any(
            p.nominated_signatory_id == self.user_id for p in version.parties
        )

    def can_view_mou(self, mou: Mou) -> bool:
        """Published MoUs that have been in force: everyone. Members-only ones: also
        the members of its parties. Before it is in force (draft, comments, signing):
        officers, site admins, the parties' admins and nominated signatories.
        SQL form: ``mous_visible_to``."""
        if self.manages:
            return True
        current = mou.current_version
        if current is not None and (mou.publish or self.is_party_member(current)):
            return True
        pending = mou.draft_version
        return pending is not None and (self.is_party_admin(pending) or self.is_nominee(pending))

    def can_view_version(self, version: MouVersion) -> bool:
        """Signed versions follow the MoU; anything else is for the insiders.
        SQL form: ``versions_visible_to``."""
        if version.status in _SIGNED:
            return self.can_view_mou(version.mou)
        return self.manages or self.is_party_admin(version) or self.is_nominee(version)

    def can_see_comments(self, version: MouVersion) -> bool:
        """Comments are the parties' working conversation, never public."""
        return self.manages or self.is_party_admin(version)

    def can_comment(self, version: MouVersion) -> bool:
        return version.status is VersionStatus.COMMENTS and self.can_see_comments(version)

    def is_authorised_signatory(self, version: MouVersion, organisation_id: int) -> bool:
        """An active admin of the party's organisation, or the person it nominated."""
        party = version.party_for(organisation_id)
        if party is None or self.user_id is None:
            return False
        return (organisation_id in self.admin_org_ids
                or party.nominated_signatory_id == self.user_id)

    def can_sign(self, version: MouVersion, organisation_id: int) -> bool:
        """Authorised, the version is out for signature, and the party has not yet
        signed or declined."""
        return (version.status is VersionStatus.SIGNING
                and self.is_authorised_signatory(version, organisation_id)
                and version.signature_for(organisation_id) is None)

    def can_nominate(self, party: MouParty) -> bool:
        """An admin of the party's organisation, while the version is not yet signed."""
        return (party.organisation_id in self.admin_org_ids
                and party.version.status.is_in_progress
                and party.version.signature_for(party.organisation_id) is None)

    def signable_organisation_ids(self, version: MouVersion) -> list[int]:
        return [p.organisation_id for p in version.parties
                if self.can_sign(version, p.organisation_id)]


def mou_access(user: Viewer, partnership: Partnership) -> MouAccess:
    """Everything the MoU predicates need to know about ``user`` (two small queries)."""
    if not signed_in(user):
        return MouAccess(None, False, False, frozenset(), frozenset())
    rows = db.session.execute(
        select(OrganisationMember.organisation_id, OrganisationMember.role).where(
            OrganisationMember.user_id == user.id,
            OrganisationMember.status == RequestStatus.ACTIVE,
        )
    ).all()
    return MouAccess(
        user_id=user.id,
        is_site_admin=is_site_admin(user),
        is_officer=is_partnership_officer(user, partnership),
        admin_org_ids=frozenset(org_id for org_id, role in rows if role is MemberRole.ADMIN),
        member_org_ids=frozenset(org_id for org_id, _role in rows),
    )


# --- The same rules in SQL -----------------------------------------------------------------


def _member_org_ids(user_id: int) -> Select[tuple[int]]:
    """``MouAccess.member_org_ids``: organisations the person is an active member of."""
    return select(OrganisationMember.organisation_id).where(
        OrganisationMember.user_id == user_id, OrganisationMember.status == RequestStatus.ACTIVE)


def _insider_version_ids(user_id: int) -> Select[tuple[int]]:
    """Versions the person is an insider of without running the partnership:
    ``is_party_admin`` or ``is_nominee``."""
    admin_orgs = _member_org_ids(user_id).where(OrganisationMember.role == MemberRole.ADMIN)
    return select(MouParty.version_id).where(or_(
        MouParty.organisation_id.in_(admin_orgs), MouParty.nominated_signatory_id == user_id))


def mous_visible_to(user: Viewer) -> ColumnElement[bool]:
    """``MouAccess.can_view_mou`` as a SQL condition on ``Mou`` (for the register)."""
    in_force = Mou.current_version_id.is_not(None)
    if not signed_in(user):
        return and_(in_force, Mou.publish.is_(True))
    if is_site_admin(user):
        return true()
    member_party_versions = select(MouParty.version_id).where(
        MouParty.organisation_id.in_(_member_org_ids(user.id)))
    return or_(
        Mou.partnership_id.in_(partnerships_run_by(user.id)),
        and_(in_force, or_(Mou.publish.is_(True),
                           Mou.current_version_id.in_(member_party_versions))),
        Mou.draft_version_id.in_(_insider_version_ids(user.id)),
    )


def versions_visible_to(user: Viewer) -> ColumnElement[bool]:
    """``MouAccess.can_view_version`` as a SQL condition on ``MouVersion``."""
    signed = MouVersion.status.in_(_SIGNED)
    follows_mou = and_(signed, MouVersion.mou_id.in_(select(Mou.id).where(mous_visible_to(user))))
    if not signed_in(user):
        return follows_mou
    if is_site_admin(user):
        return true()
    runs = MouVersion.mou_id.in_(
        select(Mou.id).where(Mou.partnership_id.in_(partnerships_run_by(user.id))))
    return or_(follows_mou, and_(not_(signed), or_(
        runs, MouVersion.id.in_(_insider_version_ids(user.id)))))


# --- One-off questions (pages that ask many should call ``mou_access`` once) -------------


def can_draft_mou(user: Viewer, partnership: Partnership) -> bool:
    return can_manage_partnership(user, partnership)


def can_view_mou(user: Viewer, mou: Mou) -> bool:
    return mou_access(user, mou.partnership).can_view_mou(mou)


def can_view_version(user: Viewer, version: MouVersion) -> bool:
    return mou_access(user, version.mou.partnership).can_view_version(version)


def can_comment(user: Viewer, version: MouVersion) -> bool:
    return mou_access(user, version.mou.partnership).can_comment(version)


def can_sign(user: Viewer, version: MouVersion, organisation: Organisation) -> bool:
    return mou_access(user, version.mou.partnership).can_sign(version, organisation.id)


def is_authorised_signatory(user: Viewer, version: MouVersion,
                            organisation: Organisation) -> bool:
    return mou_access(user, version.mou.partnership).is_authorised_signatory(
        version, organisation.id
    )
