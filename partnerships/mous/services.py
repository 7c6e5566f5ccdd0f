"""MoU rules: drafting, the comment round, signing, amendments and publication.

Every function takes the acting user, checks the rule with ``permissions``, records
what it did in the audit log (subject ("mou", id)) and flushes; the caller commits.

The one rule that matters most: a version that has been opened for signature is
frozen. Every function that changes a version's text, parties, clauses or
attachments goes through ``require_editable``, so a version out for signature,
signed or superseded can never change; to change an MoU in force, start an
amendment (a new draft version copied from it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from flask import url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.base import ExecutableOption
from werkzeug.datastructures import FileStorage

from .. import audit, conditional, mail, permissions, uploads
from ..accounts.models import User
from ..accounts.services import find_by_email
from ..errors import Conflict, PermissionDenied, ValidationError
from ..extensions import db
from ..forums.models import Forum
from ..mail.kinds import Kind
from ..modelbase import utcnow
from ..organisations.models import MemberRole, Organisation, OrganisationMember, RequestStatus
from ..partnership.models import Partnership, PartnershipMember, Principle
from ..timeutil import today_uk
from . import standing
from .models import (
    CHANGELOG_MAX,
    CLAUSE_MAX,
    COMMENT_MAX,
    NAME_MAX,
    NOTE_MAX,
    PURPOSE_MAX,
    REASON_MAX,
    ROLE_MAX,
    SIGNER_ROLE_MAX,
    STATEMENT_MAX,
    TITLE_MAX,
    EndKind,
    Mou,
    MouAttachment,
    MouClause,
    MouComment,
    MouParty,
    MouPrinciple,
    MouSignature,
    MouStatus,
    MouVersion,
    VersionStatus,
)

# The length limits (TITLE_MAX ...) live in ``models``, beside their columns.
CLAUSES_MAX = 100
ATTACHMENTS_MAX = 20
ALLOWED_FILES = (uploads.FileKind.PDF, uploads.FileKind.DOCX, uploads.FileKind.ODT)
FIRST_CHANGELOG = "First version"


@dataclass
class MouDetails:
    """What an officer enters about a draft version (and the MoU's principles)."""

    title: str
    purpose: str
    start_date: date | None
    review_date: date | None
    end_date: date | None = None
    data_sharing: bool = False
    data_sharing_note: str = ""
    changelog: str = ""
    principles: list[Principle] = field(default_factory=list)


@dataclass
class PartyDetails:
    organisation_id: int
    role: str


@dataclass
class ClauseDetails:
    text: str
    responsible: list[int] = field(default_factory=list)  # organisation ids


def statement_for(organisation: Organisation) -> str:
    """The exact words a signatory types to sign for ``organisation``."""
    return f"I agree on behalf of {organisation.name}"


def _normalise_statement(text: str) -> str:
    return " ".join(text.split()).casefold()


# --- Reading ---------------------------------------------------------------------------


def _version_children() -> list[ExecutableOption]:
    """Everything a version page shows, in one query per collection."""
    return [
        selectinload(MouVersion.parties).options(
            joinedload(MouParty.organisation), joinedload(MouParty.nominated_signatory)
        ),
        selectinload(MouVersion.clauses).selectinload(MouClause.responsible),
        selectinload(MouVersion.signatures),
        selectinload(MouVersion.attachments),
    ]


def load_versions(version_ids: Iterable[int | None], full: bool = True,
                  parties: bool = True) -> list[MouVersion]:
    """Load versions with their parties (and, if ``full``, clauses, signatures and
    attachments; with neither if ``parties`` is False: the register reads the parties
    it shows as columns, ``mou_register.parties_of``). Once loaded,
    ``mou.current_version`` and ``mou.draft_version`` come from the session without
    another query."""
    ids = sorted({vid for vid in version_ids if vid is not None})
    if not ids:
        return []
    options = _version_children() if full else [
        selectinload(MouVersion.parties).joinedload(MouParty.organisation)
    ] if parties else []
    return list(db.session.scalars(
        select(MouVersion).where(MouVersion.id.in_(ids)).options(*options)
    ))


def get_mou(partnership: Partnership, mou_id: int) -> Mou | None:
    """One MoU of this partnership with its version in force and version in progress."""
    mou = db.session.scalar(
        select(Mou)
        .where(Mou.id == mou_id, Mou.partnership_id == partnership.id)
        .options(selectinload(Mou.principle_rows), selectinload(Mou.forums))
    )
    if mou is not None:
        attach_versions([mou], load_versions([mou.current_version_id, mou.draft_version_id]))
    return mou


def attach_versions(mous: Iterable[Mou], versions: list[MouVersion]) -> None:
    """Hand each MoU its loaded versions, so the page never loads them again (the session
    only holds loaded objects weakly)."""
    # Keyed by ``int | None`` so that a MoU without a version finds None.
    by_id: dict[int | None, MouVersion] = {version.id: version for version in versions}
    for mou in mous:
        set_committed_value(mou, "current_version", by_id.get(mou.current_version_id))
        set_committed_value(mou, "draft_version", by_id.get(mou.draft_version_id))


def get_version(mou: Mou, number: int) -> MouVersion | None:
    return db.session.scalar(
        select(MouVersion).where(MouVersion.mou_id == mou.id, MouVersion.number == number)
        .options(*_version_children())
    )


def latest_version(mou: Mou) -> MouVersion | None:
    """The highest-numbered version (for an MoU withdrawn before it came into force)."""
    number = db.session.scalar(
        select(func.max(MouVersion.number)).where(MouVersion.mou_id == mou.id)
    )
    return get_version(mou, number) if number else None


def visible_versions(mou: Mou, access: permissions.MouAccess) -> list[MouVersion]:
    """Every version this viewer may read, oldest first, with their parties (two
    queries): the list of versions and the choices for comparing them."""
    versions = db.session.scalars(
        select(MouVersion).where(MouVersion.mou_id == mou.id).order_by(MouVersion.number)
        .options(selectinload(MouVersion.parties).joinedload(MouParty.organisation))
    )
    return [version for version in versions if access.can_view_version(version)]


def get_attachment(mou: Mou, attachment_id: int) -> MouAttachment | None:
    """An attachment of any version of this MoU, with its version and parties."""
    attachment = db.session.scalar(
        select(MouAttachment).join(MouVersion, MouVersion.id == MouAttachment.version_id)
        .where(MouAttachment.id == attachment_id, MouVersion.mou_id == mou.id)
    )
    if attachment is not None:
        versions = load_versions([attachment.version_id], full=False)
        set_committed_value(attachment, "version", versions[0])
    return attachment


def comments_for(version: MouVersion) -> list[MouComment]:
    return list(db.session.scalars(
        select(MouComment).where(MouComment.version_id == version.id)
        .order_by(MouComment.id)
        .options(joinedload(MouComment.author), joinedload(MouComment.organisation))
    ))


def member_organisations(partnership: Partnership) -> list[Organisation]:
    """Active member organisations, by name: the organisations that can be parties."""
    return list(db.session.scalars(
        select(Organisation)
        .join(PartnershipMember, PartnershipMember.organisation_id == Organisation.id)
        .where(PartnershipMember.partnership_id == partnership.id,
               PartnershipMember.status == RequestStatus.ACTIVE)
        .order_by(func.lower(Organisation.name))
    ))


def partnership_forums(partnership: Partnership) -> list[Forum]:
    return list(db.session.scalars(
        select(Forum).where(Forum.partnership_id == partnership.id)
        .order_by(func.lower(Forum.name))
    ))


# --- Checks ----------------------------------------------------------------------------


def require_manager(actor: User, partnership: Partnership) -> None:
    if not permissions.can_manage_partnership(actor, partnership):
        raise PermissionDenied("Only the partnership's officers can do this with its MoUs.")


def lock(mou: Mou) -> None:
    """Lock the MoU's row until the transaction ends, then read everything again: the
    first step of every change to an MoU, its versions and their signatures, so that
    they happen one at a time per MoU, each on the state the last one left. Before,
    the last two parties signing at the same moment each found the other's signature
    missing and the MoU stayed out for signature with every party signed; a draft
    could be edited as it was opened for signature; two amendments started at once
    took the same number."""
    conditional.lock(mou)
    db.session.expire_all()


def require_editable(version: MouVersion) -> None:
    """The immutability rule: nothing changes a version once it is out for signature."""
    if version.status.is_editable:
        return
    if version.status is VersionStatus.SIGNING:
        raise Conflict(
            f"Version {version.number} is out for signature, so it can no longer be "
            "changed. To change it, revise it: that withdraws this version and starts a new "
            "draft."
        )
    raise Conflict(
        f"Version {version.number} is {version.status.label.lower()} and can never be "
        "changed. To change the MoU, start an amendment."
    )


def checked_text(text: str, limit: int, name: str, field: str,
                 missing: str | None = None) -> str:
    """``text`` (already tidied by the caller), if it is no longer than ``limit`` and,
    when ``missing`` (the message) is given, not empty; otherwise the ``ValidationError``
    for ``field``, whose message starts with ``name`` ("Title must be 200 characters or
    fewer")."""
    if missing is not None and not text:
        raise ValidationError(missing, field=field)
    if len(text) > limit:
        raise ValidationError(f"{name} must be {limit} characters or fewer", field=field)
    return text


def date_problems(start: date, review: date | None,
                  end: date | None) -> list[tuple[str, str]]:
    """The MoU's dates out of order, as (field, message) pairs in page order (review,
    then end): the form shows them all at once; the service refuses the first."""
    problems = []
    if review is not None and review <= start:
        problems.append(("review_date", "The review date must be after the start date"))
    elif review is not None and end is not None and review > end and end > start:
        problems.append(("review_date", "The review date must be on or before the end date"))
    if end is not None and end <= start:
        problems.append(("end_date", "The end date must be after the start date"))
    return problems


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _clean_details(details: MouDetails, *, first: bool) -> dict[str, object]:
    title = checked_text(details.title.strip(), TITLE_MAX, "Title", "title",
                         "Enter a title for the MoU")
    purpose = checked_text(details.purpose.strip(), PURPOSE_MAX, "Purpose", "purpose",
                           "Enter the purpose of the MoU")
    start, review, end = details.start_date, details.review_date, details.end_date
    if start is None:
        raise ValidationError("Enter the date the MoU starts", field="start_date")
    if review is None:
        raise ValidationError("Enter the date the MoU will be reviewed", field="review_date")
    for name, message in date_problems(start, review, end):
        raise ValidationError(message, field=name)
    note = checked_text(
        details.data_sharing_note.strip(), NOTE_MAX, "The data-sharing note",
        "data_sharing_note",
        "Describe what data the parties will share, why, and under what agreement"
        if details.data_sharing else None,
    )
    changelog = checked_text(_one_line(details.changelog), CHANGELOG_MAX, "What changed",
                             "changelog",
                             None if first else "Say in one line what this version changes")
    return {
        "title": title,
        "purpose": purpose,
        "start_date": start,
        "review_date": review,
        "end_date": end,
        "data_sharing": bool(details.data_sharing),
        "data_sharing_note": note if details.data_sharing else "",
        "changelog": FIRST_CHANGELOG if first and not changelog else changelog,
    }


def _set_principles(mou: Mou, principles: Iterable[Principle]) -> bool:
    wanted = set(principles)
    current = {row.principle: row for row in mou.principle_rows}
    for principle, row in current.items():
        if principle not in wanted:
            mou.principle_rows.remove(row)
    for principle in wanted - set(current):
        mou.principle_rows.append(MouPrinciple(principle=principle))
    return wanted != set(current)


def _active_member_ids(partnership: Partnership, org_ids: Iterable[int]) -> set[int]:
    ids = list(set(org_ids))
    if not ids:
        return set()
    return set(db.session.scalars(
        select(PartnershipMember.organisation_id).where(
            PartnershipMember.partnership_id == partnership.id,
            PartnershipMember.organisation_id.in_(ids),
            PartnershipMember.status == RequestStatus.ACTIVE,
        )
    ))


def _clean_parties(
    partnership: Partnership, parties: Sequence[PartyDetails], keep: Iterable[int] = ()
) -> list[PartyDetails]:
    """Two or more different organisations, each with a role. New parties must be active
    members of the partnership; parties already on the version (``keep``) may stay even
    if their membership has since lapsed, so an amendment can keep its parties."""
    seen: set[int] = set()
    cleaned: list[PartyDetails] = []
    for party in parties:
        if party.organisation_id in seen:
            continue
        seen.add(party.organisation_id)
        role = checked_text(_one_line(party.role), ROLE_MAX, "The role",
                            f"role-{party.organisation_id}",
                            "Enter the role this organisation plays in the MoU")
        cleaned.append(PartyDetails(party.organisation_id, role))
    if len(cleaned) < 2:
        raise ValidationError("Select at least two member organisations as parties",
                              field="parties")
    new_ids = seen - set(keep)
    if new_ids - _active_member_ids(partnership, new_ids):
        raise ValidationError("Parties must be member organisations of the partnership",
                              field="parties")
    return cleaned


def _organisations(org_ids: Iterable[int]) -> dict[int, Organisation]:
    ids = list(set(org_ids))
    if not ids:
        return {}
    return {org.id: org for org in db.session.scalars(
        select(Organisation).where(Organisation.id.in_(ids))
    )}


def _next_number(partnership: Partnership) -> int:
    highest = db.session.scalar(
        select(func.max(Mou.number)).where(Mou.partnership_id == partnership.id)
    )
    return (highest or 0) + 1


# --- Emails ------------------------------------------------------------------------------


def _party_admins(version: MouVersion) -> list[tuple[User, Organisation]]:
    """Each active admin of each party's organisation, with the organisation."""
    orgs = {party.organisation_id: party.organisation for party in version.parties}
    if not orgs:
        return []
    rows = db.session.execute(
        select(User, OrganisationMember.organisation_id)
        .join(OrganisationMember, OrganisationMember.user_id == User.id)
        .where(OrganisationMember.organisation_id.in_(list(orgs)),
               OrganisationMember.status == RequestStatus.ACTIVE,
               OrganisationMember.role == MemberRole.ADMIN,
               User.deleted_at.is_(None))
        .order_by(User.id)
    ).tuples()
    return [(user, orgs[org_id]) for user, org_id in rows]


def party_admins(version: MouVersion) -> dict[int, list[User]]:
    """Each party's active admins by organisation id (one query): the people who may
    sign for it besides its nominated signatory, and who are emailed at each step."""
    admins: dict[int, list[User]] = {party.organisation_id: [] for party in version.parties}
    for user, organisation in _party_admins(version):
        admins[organisation.id].append(user)
    return admins


@dataclass(frozen=True)
class Recipient:
    """One person emailed when a version moves on, and why (for the confirmation page)."""

    user: User
    why: str  # "admin of Northbridge CVS", "nominated to sign for Northbridge CVS"


def recipients(version: MouVersion, with_nominees: bool) -> list[Recipient]:
    """Who ``email_parties`` will email for this version, in the same order and without
    repeats: each party's admins, then (when ``with_nominees``) the nominated signatories
    who are not already among them. The confirmation pages name them before the officer
    sends anything."""
    seen: set[int] = set()
    found: list[Recipient] = []
    for user, organisation in _party_admins(version):
        if user.id not in seen:
            seen.add(user.id)
            found.append(Recipient(user, f"admin of {organisation.name}"))
    if with_nominees:
        for party in version.parties:
            nominee = party.nominated_signatory
            if nominee is not None and nominee.is_active and nominee.id not in seen:
                seen.add(nominee.id)
                found.append(Recipient(
                    nominee, f"nominated to sign for {party.organisation.name}"))
    return found


def officers_or_admins(partnership: Partnership) -> list[User]:
    """The partnership's officers, or the site admins if it has none (so nothing is unseen)."""
    from ..partnership import services as partnership_services

    officers = [officer.user for officer in partnership_services.officers(partnership)]
    if officers:
        return officers
    return list(db.session.scalars(
        select(User).where(User.is_site_admin, User.deleted_at.is_(None)).order_by(User.id)
    ))


def _mou_url(mou: Mou) -> str:
    return url_for("mous.show", slug=mou.partnership.slug, mou_id=mou.id, _external=True)


def email_parties(version: MouVersion, subject: str, template: str,
                   also: Iterable[User] = (), **context: object) -> None:
    """One email per person: the parties' admins, plus ``also`` (e.g. nominees)."""
    sent: set[int] = set()
    partnership = version.mou.partnership
    subject = f"{subject} in {partnership.name}: {version.title}"
    for user, organisation in _party_admins(version):
        if user.id not in sent:
            sent.add(user.id)
            mail.queue(user.email, subject, template, kind=Kind.MOU_PROGRESS, recipient=user,
                       scope=partnership, user=user, organisation=organisation,
                       mou=version.mou, version=version, url=_mou_url(version.mou), **context)
    for user in also:
        if user.id not in sent and user.is_active:
            sent.add(user.id)
            mail.queue(user.email, subject, template, kind=Kind.MOU_PROGRESS, recipient=user,
                       scope=partnership, user=user, organisation=None,
                       mou=version.mou, version=version, url=_mou_url(version.mou), **context)


# --- Drafting -----------------------------------------------------------------------------


def create_draft(
    actor: User, partnership: Partnership, details: MouDetails, parties: Sequence[PartyDetails]
) -> Mou:
    """A new MoU with version 1 in draft (officers of the partnership and site admins)."""
    require_manager(actor, partnership)
    values = _clean_details(details, first=True)
    cleaned = _clean_parties(partnership, parties)
    mou = Mou(partnership_id=partnership.id, number=_next_number(partnership),
              status=MouStatus.DRAFT, publish=True, created_by_id=actor.id)
    mou.partnership = partnership
    _set_principles(mou, details.principles)
    version = MouVersion(number=1, status=VersionStatus.DRAFT, created_by_id=actor.id,
                         **values)
    organisations = _organisations(party.organisation_id for party in cleaned)
    for position, party in enumerate(cleaned):
        version.parties.append(MouParty(organisation=organisations[party.organisation_id],
                                        role=party.role, position=position))
    mou.versions.append(version)
    db.session.add(mou)
    db.session.flush()
    mou.draft_version = version
    db.session.flush()
    audit.record(actor, "mou.created", "mou", mou.id, version=1, title=version.title,
                 parties=[p.organisation_id for p in cleaned])
    return mou


def update_draft(actor: User, version: MouVersion, details: MouDetails) -> None:
    """Change a draft's details (and the MoU's principles)."""
    mou = version.mou
    require_manager(actor, mou.partnership)
    lock(mou)
    require_editable(version)
    values = _clean_details(details, first=version.number == 1)
    changed = [key for key, value in values.items() if getattr(version, key) != value]
    for key in changed:
        setattr(version, key, values[key])
    if _set_principles(mou, details.principles):
        changed.append("principles")
    db.session.flush()
    if changed:
        audit.record(actor, "mou.draft_updated", "mou", mou.id, version=version.number,
                     fields=changed)


def set_parties(actor: User, version: MouVersion, parties: Sequence[PartyDetails]) -> None:
    """Set who the parties are, in order, with their roles. A removed party is also
    removed from the clauses it was responsible for."""
    mou = version.mou
    require_manager(actor, mou.partnership)
    lock(mou)
    require_editable(version)
    existing = {party.organisation_id: party for party in version.parties}
    cleaned = _clean_parties(mou.partnership, parties, keep=existing)
    wanted = {party.organisation_id for party in cleaned}
    removed = [org_id for org_id in existing if org_id not in wanted]
    organisations = _organisations(wanted - set(existing))
    for org_id in removed:
        version.parties.remove(existing[org_id])
    for clause in version.clauses:
        clause.responsible = [org for org in clause.responsible if org.id in wanted]
    added = []
    for position, details in enumerate(cleaned):
        party = existing.get(details.organisation_id)
        if party is None:
            party = MouParty(organisation=organisations[details.organisation_id],
                             role=details.role, position=position)
            version.parties.append(party)
            added.append(details.organisation_id)
        else:
            party.role = details.role
            party.position = position
    db.session.flush()
    audit.record(actor, "mou.parties_set", "mou", mou.id, version=version.number,
                 added=added, removed=removed,
                 parties=[p.organisation_id for p in cleaned])


def set_clauses(actor: User, version: MouVersion, clauses: Sequence[ClauseDetails]) -> None:
    """Replace the numbered clauses (1..n) with these, in order. Existing clause rows
    are updated in place by number, so comments stay attached to their clause."""
    mou = version.mou
    require_manager(actor, mou.partnership)
    lock(mou)
    require_editable(version)
    if len(clauses) > CLAUSES_MAX:
        raise ValidationError(f"An MoU can have at most {CLAUSES_MAX} clauses",
                              field="clauses")
    organisations = {party.organisation_id: party.organisation for party in version.parties}
    cleaned: list[tuple[str, list[Organisation]]] = []
    for index, clause in enumerate(clauses):
        where = f"clauses-{index}"
        text = checked_text(clause.text.strip(), CLAUSE_MAX, f"Clause {index + 1}",
                            f"{where}-text", f"Enter the text of clause {index + 1}")
        responsible_ids = list(dict.fromkeys(clause.responsible))
        if not responsible_ids:
            raise ValidationError(
                f"Select the party or parties responsible for clause {index + 1}",
                field=f"{where}-responsible",
            )
        if any(org_id not in organisations for org_id in responsible_ids):
            raise ValidationError(
                f"The parties responsible for clause {index + 1} must be parties to the MoU",
                field=f"{where}-responsible",
            )
        cleaned.append((text, [organisations[org_id] for org_id in responsible_ids]))
    by_number = {clause.number: clause for clause in version.clauses}
    for number, (text, responsible) in enumerate(cleaned, start=1):
        row = by_number.pop(number, None)
        if row is None:
            row = MouClause(number=number, text=text)
            version.clauses.append(row)
        row.text = text
        row.responsible = responsible
    for row in by_number.values():
        version.clauses.remove(row)
    db.session.flush()
    audit.record(actor, "mou.clauses_set", "mou", mou.id, version=version.number,
                 clauses=len(cleaned))


def add_attachment(actor: User, version: MouVersion, upload: FileStorage | None) -> MouAttachment:
    """Attach a PDF, DOCX or ODT file (checked by content) to a draft."""
    mou = version.mou
    require_manager(actor, mou.partnership)
    lock(mou)
    require_editable(version)
    if len(version.attachments) >= ATTACHMENTS_MAX:
        raise ValidationError(f"A version can have at most {ATTACHMENTS_MAX} attachments. "
                              "Remove one first.", field="file")
    stored = uploads.save(upload, ALLOWED_FILES, field="file")
    attachment = MouAttachment(
        original_filename=stored.original_filename, stored_name=stored.stored_name,
        content_type=stored.content_type, size_bytes=stored.size, sha256=stored.sha256,
        uploaded_by_id=actor.id,
    )
    version.attachments.append(attachment)
    db.session.flush()
    audit.record(actor, "mou.attachment_added", "mou", mou.id, version=version.number,
                 attachment_id=attachment.id, filename=attachment.original_filename,
                 sha256=attachment.sha256, size=attachment.size_bytes)
    return attachment


def remove_attachment(actor: User, attachment: MouAttachment) -> str | None:
    """Remove an attachment from a draft. Returns the stored file's name if no other
    version uses it, for the caller to delete once the change is committed."""
    version = attachment.version
    mou = version.mou
    require_manager(actor, mou.partnership)
    lock(mou)
    require_editable(version)
    stored_name = attachment.stored_name
    audit.record(actor, "mou.attachment_removed", "mou", mou.id, version=version.number,
                 attachment_id=attachment.id, filename=attachment.original_filename,
                 sha256=attachment.sha256)
    version.attachments.remove(attachment)
    db.session.flush()
    still_used = db.session.scalar(
        select(MouAttachment.id).where(MouAttachment.stored_name == stored_name).limit(1)
    )
    return None if still_used is not None else stored_name


def set_forums(actor: User, mou: Mou, forum_ids: Iterable[int]) -> None:
    """Link the MoU to related forums of the same partnership (not part of the signed
    text, so this can change while the MoU is in force)."""
    require_manager(actor, mou.partnership)
    if mou.status is MouStatus.ENDED:
        raise Conflict("This MoU has ended, so its related forums can no longer change.")
    wanted = set(forum_ids)
    forums = [forum for forum in partnership_forums(mou.partnership) if forum.id in wanted]
    if len(forums) != len(wanted):
        raise ValidationError("Select forums of this partnership", field="forums")
    before = {forum.id for forum in mou.forums}
    mou.forums = forums
    db.session.flush()
    if before != wanted:
        audit.record(actor, "mou.forums_set", "mou", mou.id, forums=sorted(wanted))


def set_publication(actor: User, mou: Mou, publish: bool, reason: str = "") -> None:
    """Publish on the public register, or keep members only: an officer records the
    parties' agreement not to publish, with the reason shown on the register entry."""
    require_manager(actor, mou.partnership)
    reason = checked_text(reason.strip(), REASON_MAX, "The reason", "reason",
                          None if publish else "Enter why the parties agreed not to publish "
                          "the MoU")
    mou.publish = publish
    mou.not_published_reason = "" if publish else reason
    db.session.flush()
    audit.record(actor, "mou.published" if publish else "mou.members_only", "mou", mou.id,
                 reason=reason if not publish else "")


# --- The comment round ----------------------------------------------------------------------


def check_can_send_for_comments(version: MouVersion) -> None:
    """Only a draft goes out for comments (the confirmation page asks this first)."""
    if version.status is not VersionStatus.DRAFT:
        raise Conflict(f"Version {version.number} is {version.status.label.lower()}, so it "
                       "cannot be sent for comments.")


def send_for_comments(actor: User, version: MouVersion) -> None:
    """Send a draft to the parties; their organisations' admins are emailed."""
    mou = version.mou
    require_manager(actor, mou.partnership)
    lock(mou)
    check_can_send_for_comments(version)
    if not version.clauses:
        raise ValidationError("Add at least one clause before sending the draft for comments",
                              field="clauses")
    version.status = VersionStatus.COMMENTS
    if not mou.has_been_in_force:
        mou.status = MouStatus.COMMENTS
    db.session.flush()
    audit.record(actor, "mou.sent_for_comments", "mou", mou.id, version=version.number)
    email_parties(version, "MoU open for comments", "mou_comments_open",
                   partnership=mou.partnership,
                   comments_url=url_for("mous.comments", slug=mou.partnership.slug,
                                        mou_id=mou.id, _external=True))


def comment(actor: User, version: MouVersion, clause: MouClause | None, body: str) -> MouComment:
    """A party's admin (or an officer) comments on one clause, or on the whole draft."""
    mou = version.mou
    access = permissions.mou_access(actor, mou.partnership)
    if not access.can_see_comments(version):
        raise PermissionDenied("Only admins of the parties' organisations can comment.")
    if version.status is not VersionStatus.COMMENTS:
        raise Conflict("This draft is not open for comments.")
    if clause is not None and clause.version_id != version.id:
        raise ValidationError("Choose a clause of this draft", field="clause")
    body = checked_text(body.strip(), COMMENT_MAX, "Your comment", "body", "Enter your comment")
    organisation_id = next((p.organisation_id for p in version.parties
                            if p.organisation_id in access.admin_org_ids), None)
    row = MouComment(version_id=version.id, clause_id=clause.id if clause else None,
                     clause_number=clause.number if clause else None, author_id=actor.id,
                     organisation_id=organisation_id, body=body)
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "mou.commented", "mou", mou.id, version=version.number,
                 comment_id=row.id, clause=clause.number if clause else None)
    return row


# --- Signing ---------------------------------------------------------------------------------


def check_can_open_for_signature(version: MouVersion) -> None:
    """A draft, or a draft out for comments, can be opened for signature."""
    if not version.status.is_editable:
        raise Conflict(f"Version {version.number} is {version.status.label.lower()}, so it "
                       "cannot be opened for signature.")


def open_for_signature(actor: User, version: MouVersion) -> None:
    """Freeze the version and ask each party's authorised signatories to sign."""
    mou = version.mou
    require_manager(actor, mou.partnership)
    lock(mou)
    check_can_open_for_signature(version)
    if len(version.parties) < 2:
        raise ValidationError("An MoU needs at least two parties", field="parties")
    if not version.clauses:
        raise ValidationError("Add at least one clause before opening the MoU for signature",
                              field="clauses")
    missing = [c.number for c in version.clauses if not c.responsible]
    if missing:
        raise ValidationError(
            f"Say which party is responsible for clause {missing[0]} before opening the MoU "
            "for signature", field="clauses",
        )
    version.status = VersionStatus.SIGNING
    version.opened_for_signature_at = utcnow()
    if not mou.has_been_in_force:
        mou.status = MouStatus.SIGNING
    db.session.flush()
    audit.record(actor, "mou.opened_for_signature", "mou", mou.id, version=version.number)
    nominees = [p.nominated_signatory for p in version.parties if p.nominated_signatory]
    email_parties(version, "MoU ready to sign", "mou_signature_open",
                   also=nominees, partnership=mou.partnership)


def nominate_signatory(actor: User, party: MouParty, email: str) -> User:
    """An admin of the party's organisation names the person who will sign for it."""
    version = party.version
    mou = version.mou
    access = permissions.mou_access(actor, mou.partnership)
    organisation = party.organisation
    if party.organisation_id not in access.admin_org_ids:
        raise PermissionDenied(f"Only an admin of {organisation.name} can nominate who signs "
                               "for it.")
    lock(mou)
    if not version.status.is_in_progress:
        raise Conflict(f"Version {version.number} is {version.status.label.lower()}; "
                       "there is nothing left to sign.")
    if version.signature_for(party.organisation_id) is not None:
        raise Conflict(f"{organisation.name} has already signed or declined version "
                       f"{version.number}.")
    if not email.strip():
        raise ValidationError("Enter the email address of the person who will sign",
                              field="email")
    user = find_by_email(email)
    if user is None or not user.is_active:
        raise ValidationError("There is no account with this email address. Ask the person "
                              "to create an account first.", field="email")
    party.nominated_signatory = user
    db.session.flush()
    audit.record(actor, "mou.signatory_nominated", "mou", mou.id, version=version.number,
                 organisation_id=organisation.id, user_id=user.id)
    mail.queue(user.email, f"You have been asked to sign an MoU for {organisation.name}",
               "mou_nominated", kind=Kind.REQUESTS_TO_DECIDE, recipient=user,
               user=user, organisation=organisation, mou=mou,
               version=version, nominated_by=actor,
               url=url_for("mous.sign", slug=mou.partnership.slug, mou_id=mou.id,
                           organisation_id=organisation.id, _external=True))
    return user


def check_signable(access: permissions.MouAccess, version: MouVersion,
                      organisation: Organisation) -> MouParty:
    party = version.party_for(organisation.id)
    if party is None:
        raise PermissionDenied(f"{organisation.name} is not a party to version "
                               f"{version.number} of this MoU.")
    if not access.is_authorised_signatory(version, organisation.id):
        raise PermissionDenied(
            f"Only an admin of {organisation.name}, or the person they nominated, can sign "
            "for it."
        )
    if version.mou.status is MouStatus.ENDED:
        raise Conflict("This MoU has ended, so it can no longer be signed.")
    if version.status is not VersionStatus.SIGNING:
        raise Conflict({
            VersionStatus.SUPERSEDED: f"Version {version.number} has been replaced by a later "
                                      "version, so it can no longer be signed.",
            VersionStatus.SIGNED: f"Every party has already signed version {version.number}.",
            VersionStatus.WITHDRAWN: f"Version {version.number} was withdrawn, so it can no "
                                     "longer be signed.",
        }.get(version.status, f"Version {version.number} is not open for signature yet."))
    existing = version.signature_for(organisation.id)
    if existing is not None:
        if existing.declined:
            raise Conflict(f"{organisation.name} has declined version {version.number}. The "
                           "partnership officers will revise or withdraw it.")
        raise Conflict(f"{organisation.name} has already signed version {version.number}.")
    return party


def sign(actor: User, version: MouVersion, organisation: Organisation, name: str, role: str,
         statement: str) -> MouSignature:
    """An authorised signatory signs for one party. When the last party signs, the
    version comes into force."""
    mou = version.mou
    access = permissions.mou_access(actor, mou.partnership)
    lock(mou)
    check_signable(access, version, organisation)
    name = checked_text(_one_line(name), NAME_MAX, "Your name", "name", "Enter your full name")
    role = checked_text(_one_line(role), SIGNER_ROLE_MAX, "Your role", "role",
                        "Enter your role, like Chief Executive")
    typed = statement.strip()
    expected = statement_for(organisation)
    if not typed:
        raise ValidationError(f"Type “{expected}” to sign", field="statement")
    if _normalise_statement(typed) != _normalise_statement(expected):
        raise ValidationError(f"Type the words exactly as shown: “{expected}”",
                              field="statement")
    signature = MouSignature(
        organisation_id=organisation.id, signer_id=actor.id, signer_name=name,
        signer_role=role, statement=typed[:STATEMENT_MAX], signed_at=utcnow(), declined=False,
    )
    version.signatures.append(signature)
    db.session.flush()
    audit.record(actor, "mou.signed", "mou", mou.id, version=version.number,
                 organisation_id=organisation.id, signer_name=name, signer_role=role,
                 statement=signature.statement)
    if all(version.signature_for(p.organisation_id) is not None for p in version.parties):
        _bring_into_force(actor, version)
    return signature


def _bring_into_force(actor: User, version: MouVersion) -> None:
    """Every party has signed: this version is in force and any earlier one superseded."""
    mou = version.mou
    previous = mou.current_version
    now = utcnow()
    version.status = VersionStatus.SIGNED
    version.signed_at = now
    if previous is not None and previous.id != version.id:
        previous.status = VersionStatus.SUPERSEDED
    mou.current_version = version
    mou.draft_version = None
    mou.status = MouStatus.ACTIVE
    mou.review_date = version.review_date
    mou.end_date = version.end_date
    db.session.flush()
    audit.record(actor, "mou.in_force", "mou", mou.id, version=version.number,
                 superseded=previous.number if previous is not None else None)
    officers = officers_or_admins(mou.partnership)
    from_day = standing.in_force_from(version)
    starts_later = from_day is not None and from_day > today_uk()
    email_parties(version, "MoU signed by all" if starts_later else "MoU in force",
                  "mou_in_force", also=officers, partnership=mou.partnership,
                  starts_later=starts_later, in_force_from=from_day)


def decline(actor: User, version: MouVersion, organisation: Organisation,
            reason: str) -> MouSignature:
    """A party declines to sign, with a reason for the officers. The MoU stays out for
    signature until an officer revises or withdraws it."""
    mou = version.mou
    access = permissions.mou_access(actor, mou.partnership)
    lock(mou)
    check_signable(access, version, organisation)
    reason = checked_text(reason.strip(), REASON_MAX, "The reason", "reason",
                          "Enter why your organisation is declining to sign")
    row = MouSignature(
        organisation_id=organisation.id, signer_id=actor.id, signer_name=actor.name,
        signer_role="", statement="", declined=True, decline_reason=reason,
        declined_at=utcnow(),
    )
    version.signatures.append(row)
    db.session.flush()
    audit.record(actor, "mou.declined", "mou", mou.id, reason=reason, version=version.number,
                 organisation_id=organisation.id)
    for officer in officers_or_admins(mou.partnership):
        mail.queue(officer.email,
                   f"{organisation.name} declined to sign an MoU in {mou.partnership.name}: "
                   f"{version.title}",
                   "mou_declined", kind=Kind.MOU_PROGRESS, recipient=officer,
                   scope=mou.partnership, user=officer, organisation=organisation, mou=mou,
                   version=version, reason=reason, declined_by=actor, url=_mou_url(mou))
    return row


def check_can_return_to_draft(version: MouVersion) -> None:
    """Out for comments, or out for signature with nobody signed or declined yet."""
    was = version.status
    if was is VersionStatus.DRAFT:
        raise Conflict(f"Version {version.number} is already a draft.")
    if was not in (VersionStatus.COMMENTS, VersionStatus.SIGNING):
        raise Conflict(f"Version {version.number} is {was.label.lower()}, so it cannot go "
                       "back to draft.")
    if version.signatures:
        first = version.signatures[0]
        party = version.party_for(first.organisation_id)
        name = party.organisation.name if party is not None else "A party"
        raise Conflict(
            f"{name} has already {'declined' if first.declined else 'signed'} version "
            f"{version.number}, so it can no longer go back to draft. To change it, revise "
            "it: that withdraws this version and starts a new draft."
        )


def can_return_to_draft(version: MouVersion) -> bool:
    """For the MoU page: whether to offer "Return to draft"."""
    try:
        check_can_return_to_draft(version)
    except Conflict:
        return False
    return True


def return_to_draft(actor: User, version: MouVersion) -> VersionStatus:
    """Take a version out for comments or out for signature back to draft, so the
    officers can change it again; refused once any party has signed (or declined). The
    parties' admins and nominees are told. Returns the status it had.

    A signature and this change must never both happen: the status change is a
    conditional UPDATE on the status read *and* on the version having no signature
    rows, after the MoU's lock that every signature takes first (so on either database a
    signature arriving at the same moment finds the version back in draft, or this
    finds the signature and refuses)."""
    mou = version.mou
    require_manager(actor, mou.partnership)
    lock(mou)
    was = version.status
    check_can_return_to_draft(version)
    unsigned = ~select(MouSignature.id).where(
        MouSignature.version_id == version.id).exists()
    if not conditional.change(version, MouVersion.status == was, unsigned,
                              status=VersionStatus.DRAFT, opened_for_signature_at=None):
        raise Conflict(f"Version {version.number} has just been signed or changed, so it "
                       "cannot go back to draft. Check the MoU page.")
    if not mou.has_been_in_force:
        mou.status = MouStatus.DRAFT
    db.session.flush()
    audit.record(actor, "mou.returned_to_draft", "mou", mou.id, version=version.number,
                 was=was.value)
    nominees = [p.nominated_signatory for p in version.parties if p.nominated_signatory]
    email_parties(version, "MoU back to draft", "mou_returned_to_draft",
                  also=nominees if was is VersionStatus.SIGNING else (),
                  partnership=mou.partnership, was=was.value)
    return was


# --- Amendments and withdrawal ------------------------------------------------------------


def _copy_version(actor: User, base: MouVersion, number: int, changelog: str) -> MouVersion:
    version = MouVersion(
        number=number, title=base.title, purpose=base.purpose, start_date=base.start_date,
        review_date=base.review_date, end_date=base.end_date, data_sharing=base.data_sharing,
        data_sharing_note=base.data_sharing_note, changelog=changelog,
        status=VersionStatus.DRAFT, based_on_version_id=base.id, created_by_id=actor.id,
    )
    for party in base.parties:
        version.parties.append(MouParty(organisation=party.organisation, role=party.role,
                                        position=party.position))
    for clause in base.clauses:
        version.clauses.append(MouClause(number=clause.number, text=clause.text,
                                         responsible=list(clause.responsible)))
    for attachment in base.attachments:
        version.attachments.append(MouAttachment(
            original_filename=attachment.original_filename,
            stored_name=attachment.stored_name, content_type=attachment.content_type,
            size_bytes=attachment.size_bytes, sha256=attachment.sha256,
            uploaded_by_id=attachment.uploaded_by_id,
        ))
    return version


def start_amendment(actor: User, mou: Mou, changelog: str) -> MouVersion:
    """A new draft version copied from the version in force (text, parties, clauses with
    their responsible parties, attachments, data sharing). The version in force stays in
    force until the new one is signed by every party.

    If a version is out for signature (e.g. a party declined), amending revises it
    instead: that version is withdrawn, keeping its signatures, and the new draft is
    copied from it.
    """
    require_manager(actor, mou.partnership)
    lock(mou)
    if mou.status is MouStatus.ENDED:
        raise Conflict("This MoU has ended, so it cannot be amended.")
    pending = mou.draft_version
    if pending is not None and pending.status.is_editable:
        raise Conflict(f"Version {pending.number} is already being drafted. Edit that draft "
                       "instead.")
    base = pending if pending is not None else mou.current_version
    if base is None:
        raise Conflict("There is no version to amend yet.")
    changelog = checked_text(_one_line(changelog), CHANGELOG_MAX, "What will change",
                             "changelog", "Say in one line what the new version will change")
    withdrawn = None
    if pending is not None:  # out for signature: revise it
        pending.status = VersionStatus.WITHDRAWN
        withdrawn = pending.number
    number = (db.session.scalar(
        select(func.max(MouVersion.number)).where(MouVersion.mou_id == mou.id)
    ) or 0) + 1
    version = _copy_version(actor, base, number, changelog)
    mou.versions.append(version)
    db.session.flush()
    mou.draft_version = version
    if not mou.has_been_in_force:
        mou.status = MouStatus.DRAFT
    db.session.flush()
    audit.record(actor, "mou.amendment_started", "mou", mou.id, reason=changelog,
                 version=number, based_on=base.number, withdrawn=withdrawn)
    return version


def withdraw(actor: User, version: MouVersion, reason: str) -> None:
    """Withdraw a version in progress. An MoU that was never in force then ends; one in
    force carries on under its current version."""
    mou = version.mou
    require_manager(actor, mou.partnership)
    lock(mou)
    if not version.status.is_in_progress:
        raise Conflict(f"Version {version.number} is {version.status.label.lower()}, so it "
                       "cannot be withdrawn.")
    reason = checked_text(reason.strip(), REASON_MAX, "The reason", "reason",
                          "Enter why you are withdrawing this version")
    was_sent = version.status is not VersionStatus.DRAFT
    version.status = VersionStatus.WITHDRAWN
    if mou.draft_version_id == version.id:
        mou.draft_version = None
    if not mou.has_been_in_force:
        mou.status = MouStatus.ENDED
        mou.end_kind = EndKind.WITHDRAWN
        mou.ended_reason = reason
        mou.ended_at = utcnow()
    db.session.flush()
    audit.record(actor, "mou.withdrawn", "mou", mou.id, reason=reason, version=version.number)
    if was_sent:
        email_parties(version, "MoU withdrawn", "mou_withdrawn",
                       partnership=mou.partnership, reason=reason)
