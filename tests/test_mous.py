"""MoUs: drafting, the comment round, signing by every party, the register,
immutability of signed versions, who may sign, amendments, visibility and downloads."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from partnerships import uploads
from partnerships.accounts.models import User
from partnerships.audit import AuditEvent
from partnerships.errors import Conflict, PermissionDenied, ValidationError
from partnerships.extensions import db
from partnerships.factories import mous as mous_factory
from partnerships.forums.models import Forum
from partnerships.mous import services
from partnerships.mous.models import (
    EndKind,
    Mou,
    MouAttachment,
    MouComment,
    MouSignature,
    MouStatus,
    MouVersion,
    VersionStatus,
)
from partnerships.mous.services import ClauseDetails, MouDetails, PartyDetails
from partnerships.organisations.models import Organisation, OrgType
from partnerships.partnership.models import Partnership, Principle
from partnerships.timeutil import today_uk

SIGN_IN = "/account/sign-in"
TOKEN_PAGE = "/account/sign-out"  # a page with a form for anyone signed in (a CSRF token)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


# --- The world: a partnership with three member organisations --------------------------


@dataclass
class World:
    app: Flask
    partnership: Partnership
    officer: User
    council_admin: User
    icb_admin: User
    cvs_admin: User
    council_member: User
    outsider: User
    site_admin: User
    council: Organisation
    icb: Organisation
    cvs: Organisation
    non_member: Organisation

    @property
    def base(self) -> str:
        return f"/partnerships/{self.partnership.slug}/mous"

    def url(self, mou: Mou | int, rest: str = "") -> str:
        mou_id = mou if isinstance(mou, int) else mou.id
        return f"{self.base}/{mou_id}/{rest}"

    @contextmanager
    def request(self) -> Iterator[None]:
        """Services build links with url_for, so direct calls need a request context."""
        with self.app.test_request_context():
            yield

    def admin_of(self, org: Organisation) -> User:
        return {self.council.id: self.council_admin, self.icb.id: self.icb_admin,
                self.cvs.id: self.cvs_admin}[org.id]

    @property
    def parties(self) -> list[Organisation]:
        return [self.council, self.icb, self.cvs]


def make_world(app, make_user, make_organisation, make_partnership) -> World:
    """The world, for this file's ``world`` fixture and the other test_mous_* files."""
    officer = make_user("Olive Officer", "olive@council.example")
    council_admin = make_user("Carl Council", "carl@council.example")
    icb_admin = make_user("Ida Icb", "ida@icb.example")
    cvs_admin = make_user("Cass Cvs", "cass@cvs.example")
    council_member = make_user("Mo Member", "mo@council.example")
    outsider = make_user("Otto Outsider", "otto@example.org")
    site_admin = make_user("Sam Site", "sam@example.org", site_admin=True)
    council = make_organisation("Northbridge Council", org_type=OrgType.LOCAL_AUTHORITY,
                                admin=council_admin, members=[council_member])
    icb = make_organisation("Northbridge ICB", org_type=OrgType.NHS_BODY, admin=icb_admin)
    cvs = make_organisation("Northbridge CVS", org_type=OrgType.CHARITY, admin=cvs_admin)
    non_member = make_organisation("Elsewhere Trust", org_type=OrgType.CHARITY, admin=outsider)
    partnership = make_partnership("Northbridge Together", officers=[officer],
                                   members=[council, icb, cvs])
    return World(app, partnership, officer, council_admin, icb_admin, cvs_admin,
                 council_member, outsider, site_admin, council, icb, cvs, non_member)


@pytest.fixture
def world(app, make_user, make_organisation, make_partnership) -> World:
    return make_world(app, make_user, make_organisation, make_partnership)


_DETAILS: dict[str, Any] = {
    "title": "Working together on winter pressures",
    "purpose": "Keep people **well** at home through the winter.",
    "start_date": date(2027, 4, 1),
    "review_date": date(2028, 3, 1),
    "end_date": None,
    "data_sharing": False,
    "data_sharing_note": "",
    "principles": [Principle.PARTNERSHIP],
}


def _details(**overrides: Any) -> MouDetails:
    return MouDetails(**{**_DETAILS, **overrides})


def _draft(world: World, parties: list[Organisation] | None = None, **overrides: Any) -> Mou:
    """An MoU with version 1 in draft and two clauses (``factories.mous``)."""
    parties = parties or world.parties
    mou = mous_factory.draft(
        world.officer, world.partnership,
        [(org, f"Role of {org.name}") for org in parties],
        [("Share winter plans by October.", parties[:1]),
         ("Refer people to the *warm spaces* network.", parties[1:])],
        **{**_DETAILS, **overrides})
    db.session.commit()
    return mou


def _to_signing(world: World, mou: Mou) -> MouVersion:
    version = mous_factory.open_for_signature(world.officer, mou)
    db.session.commit()
    return version


def _sign(world: World, version: MouVersion, org: Organisation,
          signer: User | None = None) -> None:
    mous_factory.sign(signer or world.admin_of(org), version, org)
    db.session.commit()


def _active(world: World, **overrides: Any) -> Mou:
    mou = _draft(world, **overrides)
    version = _to_signing(world, mou)
    for org in world.parties:
        _sign(world, version, org)
    return mou


def _in_force(world: World, review_in: int = 200, **overrides: Any) -> Mou:
    """An MoU in force since a year ago, reviewed ``review_in`` days from today and
    signed by each of its parties' admins."""
    today = today_uk()
    overrides.setdefault("start_date", today - timedelta(days=365))
    mou = _draft(world, review_date=today + timedelta(days=review_in), **overrides)
    version = _to_signing(world, mou)
    for party in list(version.parties):
        _sign(world, version, party.organisation)
    return _fresh(mou.id)


def _fresh(mou_id: int) -> Mou:
    db.session.expire_all()
    return db.session.get(Mou, mou_id)


def _version(mou_id: int, number: int) -> MouVersion:
    db.session.expire_all()
    return db.session.scalar(
        select(MouVersion).where(MouVersion.mou_id == mou_id, MouVersion.number == number)
    )


def _count(model: Any) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _date(value: date | None) -> list[str]:
    if value is None:
        return ["", "", ""]
    return [str(value.day), str(value.month), str(value.year)]


def _form(world: World, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Working together on winter pressures",
        "purpose": "Keep people well at home through the winter.",
        "parties": [str(world.council.id), str(world.icb.id)],
        f"role-{world.council.id}": "Lead partner",
        f"role-{world.icb.id}": "Funder",
        "start_date": _date(date(2027, 4, 1)),
        "review_date": _date(date(2028, 3, 1)),
        "end_date": _date(None),
        "principles": ["partnership"],
    }
    data.update(overrides)
    return data


# --- The journey -------------------------------------------------------------------------


def test_journey_from_draft_through_comments_and_signatures_to_the_public_register(
    world, client, auth, outbox
):
    auth.login(world.officer)
    new = client.submit(f"{world.base}/new", _form(
        world,
        parties=[str(world.council.id), str(world.icb.id), str(world.cvs.id)],
        **{f"role-{world.cvs.id}": "Runs the warm spaces network"},
    ))
    assert new.status_code == 303, new.get_data(as_text=True)
    mou = db.session.scalar(select(Mou))
    assert new.headers["Location"] == world.url(mou, "clauses")
    assert mou.status is MouStatus.DRAFT and mou.reference == "MOU-001"

    clauses = client.submit(world.url(mou, "clauses"), {
        "clauses-0-text": "Share winter plans by October.",
        "clauses-0-responsible": [str(world.council.id)],
        "add": "y",
    })
    assert clauses.status_code == 303
    assert clauses.headers["Location"].endswith(world.url(mou, "clauses") + "#new-clause")
    clauses = client.submit(world.url(mou, "clauses"), {
        "clauses-0-text": "Share winter plans by October.",
        "clauses-0-responsible": [str(world.council.id)],
        "clauses-1-text": "Refer people to the warm spaces network.",
        "clauses-1-responsible": [str(world.icb.id), str(world.cvs.id)],
        "submit": "y",
    })
    assert clauses.status_code == 303

    sent = client.submit(world.url(mou, "send-for-comments"))
    assert sent.status_code == 303
    assert _fresh(mou.id).status is MouStatus.COMMENTS
    assert [m.subject for m in outbox(world.cvs_admin.email)] == [
        f"MoU open for comments in {mou.partnership.name}: "
        "Working together on winter pressures"]

    auth.login(world.cvs_admin)
    commented = client.submit(world.url(mou, "comments"), {
        "target": "clause-2", "clause-2-body": "Can we add the libraries?",
    })
    assert commented.status_code == 303
    page = client.get(world.url(mou, "comments")).get_data(as_text=True)
    assert "Can we add the libraries?" in page and "for Northbridge CVS" in page

    auth.login(world.officer)
    opened = client.submit(world.url(mou, "open-for-signature"))
    assert opened.status_code == 303
    assert _fresh(mou.id).status is MouStatus.SIGNING
    assert any(m.subject.startswith("MoU ready to sign") for m in outbox(world.icb_admin.email))

    for org in world.parties:
        admin = world.admin_of(org)
        auth.login(admin)
        sign_url = world.url(mou, f"sign/{org.id}")
        form_page = client.get(sign_url).get_data(as_text=True)
        assert "Type exactly: I agree on behalf of " + org.name in form_page
        assert "Clause" not in form_page or "Share winter plans by October." in form_page
        signed = client.submit(sign_url, {
            "version": "1", "name": admin.name, "role": "Chief Executive",
            "statement": f"  i agree on behalf of {org.name.upper()} ",
        })
        assert signed.status_code == 303, signed.get_data(as_text=True)

    mou = _fresh(mou.id)
    version = mou.current_version
    assert mou.status is MouStatus.ACTIVE and mou.draft_version_id is None
    assert version.number == 1 and version.status is VersionStatus.SIGNED
    assert version.signed_at is not None and mou.review_date == date(2028, 3, 1)
    signatures = {s.organisation_id: s for s in version.signatures}
    assert signatures[world.icb.id].signer_name == "Ida Icb"
    assert signatures[world.icb.id].signer_role == "Chief Executive"
    assert signatures[world.icb.id].statement == "i agree on behalf of NORTHBRIDGE ICB"
    # It starts on 1 April 2027: until then it is signed by all, not in force (issue 15).
    told = "MoU signed by all" if today_uk() < date(2027, 4, 1) else "MoU in force"
    assert any(m.subject.startswith(told) for m in outbox(world.officer.email))

    auth.logout()
    register = client.get(f"{world.base}/").get_data(as_text=True)
    assert "Working together on winter pressures" in register and "Active" in register
    assert "Northbridge Council, Northbridge CVS, Northbridge ICB" in register
    assert "1 March 2028" in register
    public = client.get(world.url(mou)).get_data(as_text=True)
    assert "Signed by Ida Icb, Chief Executive" in public
    assert "Share winter plans by October." in public
    assert "Can we add the libraries?" not in public  # comments are never public
    actions = set(db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.subject_type == "mou")))
    assert {"mou.created", "mou.clauses_set", "mou.sent_for_comments", "mou.commented",
            "mou.opened_for_signature", "mou.signed", "mou.in_force"} <= actions



@pytest.fixture(autouse=True)
def _uploads_in_tmp(app, tmp_path):
    """Keep uploaded files out of instance/uploads."""
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


# --- Drafting: permissions and bad input ------------------------------------------------


def test_new_mou_page_sends_anonymous_people_to_sign_in(world, client):
    response = client.get(f"{world.base}/new")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(SIGN_IN)


@pytest.mark.parametrize("who", ["council_admin", "outsider", "council_member"])
def test_only_officers_and_site_admins_may_draft_an_mou(world, client, auth, who):
    auth.login(getattr(world, who))
    assert client.get(f"{world.base}/new").status_code == 403
    assert client.post(f"{world.base}/new", data=_form(world)).status_code in (400, 403)
    assert _count(Mou) == 0


def test_site_admin_may_draft_an_mou(world, client, auth):
    auth.login(world.site_admin)
    response = client.submit(f"{world.base}/new", _form(world))
    assert response.status_code == 303
    assert _count(Mou) == 1


def test_new_mou_with_problems_shows_every_error_and_keeps_what_was_typed(
    world, client, auth
):
    auth.login(world.officer)
    response = client.submit(f"{world.base}/new", _form(
        world,
        title="Winter plan",
        parties=[str(world.council.id), str(world.icb.id)],
        **{f"role-{world.icb.id}": ""},
        review_date=_date(date(2027, 3, 1)),
        end_date=["31", "2", "2029"],
        data_sharing="y",
    ))
    page = response.get_data(as_text=True)

    assert response.status_code == 422
    assert "Enter the role Northbridge ICB plays" in page
    assert f'href="#role-{world.icb.id}"' in page
    assert "The end date must be a real date, like 27 3 2027" in page
    assert "Describe what data the parties will share" in page
    assert 'value="Winter plan"' in page and 'value="Lead partner"' in page
    assert _count(Mou) == 0


def test_new_mou_needs_two_parties_and_a_review_after_the_start(world, client, auth):
    auth.login(world.officer)
    one = client.submit(f"{world.base}/new", _form(world, parties=[str(world.council.id)]))
    assert one.status_code == 422
    assert "Select at least two member organisations as parties" in one.get_data(as_text=True)

    early = client.submit(f"{world.base}/new", _form(world, review_date=_date(date(2027, 4, 1))))
    assert early.status_code == 422
    assert "The review date must be after the start date" in early.get_data(as_text=True)
    assert _count(Mou) == 0


def test_only_active_member_organisations_can_be_parties(world):
    with world.request(), pytest.raises(ValidationError) as error:
        services.create_draft(world.officer, world.partnership, _details(), [
            PartyDetails(world.council.id, "Lead"), PartyDetails(world.non_member.id, "Helper"),
        ])
    assert error.value.field == "parties"
    db.session.rollback()
    assert _count(Mou) == 0


def test_clause_editor_needs_responsible_parties_and_removes_emptied_clauses(
    world, client, auth
):
    mou = _draft(world)
    auth.login(world.officer)
    missing = client.submit(world.url(mou, "clauses"), {
        "clauses-0-text": "Share winter plans by October.",
        "clauses-0-responsible": [str(world.council.id)],
        "clauses-1-text": "Second clause, changed",
        "clauses-1-responsible": [str(world.icb.id)],
        "clauses-2-text": "A new clause nobody owns",
    })
    page = missing.get_data(as_text=True)
    assert missing.status_code == 422
    assert "Select the party or parties responsible for clause 3" in page
    assert 'href="#clauses-2-responsible"' in page
    assert "A new clause nobody owns" in page
    assert _version(mou.id, 1).clauses[1].text == "Refer people to the *warm spaces* network."

    removed = client.submit(world.url(mou, "clauses"), {
        "clauses-0-text": "",
        "clauses-0-responsible": [str(world.council.id)],
        "clauses-1-text": "Refer people to the warm spaces network.",
        "clauses-1-responsible": [str(world.icb.id)],
        "clauses-2-text": "",
        "submit": "y",
    })
    assert removed.status_code == 303
    clauses = _version(mou.id, 1).clauses
    assert [(c.number, c.text) for c in clauses] == [
        (1, "Refer people to the warm spaces network.")]
    assert [org.name for org in clauses[0].responsible] == ["Northbridge ICB"]


def test_editing_the_draft_changes_details_and_parties(world, client, auth):
    mou = _draft(world)
    auth.login(world.officer)
    response = client.submit(world.url(mou, "edit"), _form(
        world, title="Winter, together",
        parties=[str(world.council.id), str(world.cvs.id)],
        **{f"role-{world.cvs.id}": "Runs warm spaces"},
    ))
    assert response.status_code == 303
    version = _version(mou.id, 1)
    assert version.title == "Winter, together"
    assert {(p.organisation.name, p.role) for p in version.parties} == {
        ("Northbridge Council", "Lead partner"), ("Northbridge CVS", "Runs warm spaces")}
    # The ICB is no longer a party, so it is no longer responsible for clause 2.
    assert [org.name for org in version.clauses[1].responsible] == ["Northbridge CVS"]


# --- Immutability -------------------------------------------------------------------------


def _edits(world: World, version: MouVersion) -> dict[str, Any]:
    attachment = version.attachments[0] if version.attachments else None
    return {
        "update_draft": lambda: services.update_draft(world.officer, version, _details(
            title="Changed")),
        "set_parties": lambda: services.set_parties(world.officer, version, [
            PartyDetails(world.council.id, "Changed"), PartyDetails(world.icb.id, "Changed")]),
        "set_clauses": lambda: services.set_clauses(world.officer, version, [
            ClauseDetails("Changed", [world.council.id])]),
        "add_attachment": lambda: services.add_attachment(world.officer, version, _upload()),
        "remove_attachment": lambda: services.remove_attachment(world.officer, attachment),
    }


def _upload(data: bytes = PDF, name: str = "plan.pdf") -> Any:
    from werkzeug.datastructures import FileStorage

    return FileStorage(stream=io.BytesIO(data), filename=name)


@pytest.mark.parametrize("edit", ["update_draft", "set_parties", "set_clauses",
                                  "add_attachment", "remove_attachment"])
@pytest.mark.parametrize("state", ["signing", "signed", "superseded"])
def test_every_edit_service_refuses_a_version_once_it_is_out_for_signature(
    world, edit, state
):
    mou = _draft(world)
    with world.request():
        services.add_attachment(world.officer, mou.draft_version, _upload())
        db.session.commit()
    version = _to_signing(world, mou)
    if state != "signing":
        for org in world.parties:
            _sign(world, version, org)
    if state == "superseded":
        with world.request():
            new = services.start_amendment(world.officer, _fresh(mou.id), "Second version")
            services.open_for_signature(world.officer, new)
            db.session.commit()
        for org in world.parties:
            _sign(world, new, org)
    version = _version(mou.id, 1)
    assert version.status.value == state
    before = (version.title, [(p.organisation_id, p.role) for p in version.parties],
              [c.text for c in version.clauses], [a.id for a in version.attachments])

    with world.request(), pytest.raises(Conflict):
        _edits(world, version)[edit]()
    db.session.rollback()

    version = _version(mou.id, 1)
    assert (version.title, [(p.organisation_id, p.role) for p in version.parties],
            [c.text for c in version.clauses], [a.id for a in version.attachments]) == before


def test_posts_to_the_edit_pages_of_a_signed_mou_are_refused_and_change_nothing(
    world, client, auth
):
    mou = _active(world)
    auth.login(world.officer)
    page = world.url(mou, "amend")  # any page with a form, for a CSRF token

    edit = client.submit(world.url(mou, "edit"), _form(world, title="Rewritten"), page=page)
    clauses = client.submit(world.url(mou, "clauses"), {
        "clauses-0-text": "Rewritten", "clauses-0-responsible": [str(world.council.id)],
    }, page=page)
    attach = client.submit(world.url(mou, "attachments"),
                           {"file": (io.BytesIO(PDF), "plan.pdf")}, page=page,
                           content_type="multipart/form-data")
    opened = client.submit(world.url(mou, "open-for-signature"), page=page)

    assert [edit.status_code, clauses.status_code, attach.status_code,
            opened.status_code] == [409, 409, 409, 409]
    assert "start an amendment" in edit.get_data(as_text=True)
    version = _version(mou.id, 1)
    assert version.title == "Working together on winter pressures"
    assert [c.text for c in version.clauses] == [
        "Share winter plans by October.", "Refer people to the *warm spaces* network."]
    assert version.attachments == []


def test_edit_pages_of_a_version_out_for_signature_are_refused(world, client, auth):
    mou = _draft(world)
    _to_signing(world, mou)
    auth.login(world.officer)
    assert client.get(world.url(mou, "edit")).status_code == 409
    response = client.submit(world.url(mou, "clauses"), {
        "clauses-0-text": "Rewritten", "clauses-0-responsible": [str(world.council.id)],
    }, page=TOKEN_PAGE)
    assert response.status_code == 409
    assert "out for signature" in response.get_data(as_text=True)
    assert _version(mou.id, 1).clauses[0].text == "Share winter plans by October."


# --- Signing ------------------------------------------------------------------------------


def _sign_form(world: World, org: Organisation, **overrides: Any) -> dict[str, str]:
    data = {"version": "1", "name": "A Signer", "role": "Chair",
            "statement": f"I agree on behalf of {org.name}"}
    data.update(overrides)
    return data


@pytest.mark.parametrize("who, status", [
    ("council_member", 403),   # a member who is not an admin cannot even see the draft
    ("cvs_admin", 403),        # an admin of another party
    ("officer", 403),          # the partnership officer
    ("site_admin", 403),       # a site administrator who is not the organisation's admin
    ("outsider", 403),         # not involved at all (told only whose MoU it is)
])
def test_only_an_authorised_signatory_may_sign_for_a_party(world, client, auth, who, status):
    mou = _draft(world)
    _to_signing(world, mou)
    auth.login(getattr(world, who))
    url = world.url(mou, f"sign/{world.council.id}")

    assert client.get(url).status_code == status
    response = client.submit(url, _sign_form(world, world.council), page=TOKEN_PAGE)
    assert response.status_code == status
    assert _count(MouSignature) == 0


def test_an_unauthorised_signature_is_refused_by_the_service_too(world):
    mou = _draft(world)
    version = _to_signing(world, mou)
    for user in (world.council_member, world.cvs_admin, world.officer, world.site_admin):
        with world.request(), pytest.raises(PermissionDenied):
            services.sign(user, version, world.council, user.name, "Chair",
                          "I agree on behalf of Northbridge Council")
    with world.request(), pytest.raises(PermissionDenied):  # not a party at all
        services.sign(world.outsider, version, world.non_member, "Otto", "Chair",
                      "I agree on behalf of Elsewhere Trust")
    db.session.rollback()
    assert _count(MouSignature) == 0


def test_signing_page_is_for_signed_in_people(world, client):
    mou = _draft(world)
    _to_signing(world, mou)
    response = client.get(world.url(mou, f"sign/{world.council.id}"))
    assert response.status_code == 302 and response.headers["Location"].startswith(SIGN_IN)


def test_a_nominated_person_may_sign_for_the_organisation(world, client, auth, make_user,
                                                           outbox):
    chair = make_user("Charlie Chair", "chair@icb.example")
    mou = _draft(world)
    _to_signing(world, mou)

    auth.login(world.council_admin)  # not the ICB's admin
    assert client.get(world.url(mou, f"nominate/{world.icb.id}")).status_code == 403

    auth.login(world.icb_admin)
    unknown = client.submit(world.url(mou, f"nominate/{world.icb.id}"),
                            {"email": "nobody@icb.example"})
    assert unknown.status_code == 422
    assert "There is no account with this email address" in unknown.get_data(as_text=True)
    nominated = client.submit(world.url(mou, f"nominate/{world.icb.id}"),
                              {"email": "CHAIR@icb.example"})
    assert nominated.status_code == 303
    message = outbox("chair@icb.example")[-1]
    assert "nominated you to sign" in message.body

    auth.login(chair)
    url = world.url(mou, f"sign/{world.icb.id}")
    assert client.get(url).status_code == 200
    assert client.get(world.url(mou, f"sign/{world.council.id}")).status_code == 403
    signed = client.submit(url, _sign_form(world, world.icb, name="Charlie Chair"))
    assert signed.status_code == 303
    signature = db.session.scalar(select(MouSignature))
    assert (signature.signer_id, signature.organisation_id) == (chair.id, world.icb.id)


def test_the_wrong_statement_is_refused_with_a_clear_message(world, client, auth):
    mou = _draft(world)
    _to_signing(world, mou)
    auth.login(world.council_admin)
    url = world.url(mou, f"sign/{world.council.id}")

    response = client.submit(url, _sign_form(world, world.council,
                                             statement="I agree on behalf of the council",
                                             role="Leader of the council"))
    page = response.get_data(as_text=True)

    assert response.status_code == 422
    assert "Type the words exactly as shown: “I agree on behalf of Northbridge Council”" in page
    assert 'value="Leader of the council"' in page
    assert 'value="I agree on behalf of the council"' in page
    assert _count(MouSignature) == 0


def test_signing_twice_for_the_same_party_is_refused(world, client, auth):
    mou = _draft(world)
    version = _to_signing(world, mou)
    _sign(world, version, world.council)

    with world.request(), pytest.raises(Conflict, match="already signed"):
        services.sign(world.council_admin, version, world.council, "Carl", "Leader",
                      "I agree on behalf of Northbridge Council")
    db.session.rollback()
    auth.login(world.council_admin)
    again = client.submit(world.url(mou, f"sign/{world.council.id}"),
                          _sign_form(world, world.council), page=TOKEN_PAGE)
    assert again.status_code == 409
    assert "Northbridge Council has already signed version 1." in again.get_data(as_text=True)
    assert _count(MouSignature) == 1


def test_signing_a_superseded_version_is_refused(world, client, auth):
    mou = _active(world)
    with world.request():
        v2 = services.start_amendment(world.officer, _fresh(mou.id), "Adds a clause")
        services.open_for_signature(world.officer, v2)
        db.session.commit()
    for org in world.parties:
        _sign(world, v2, org)
    v1 = _version(mou.id, 1)
    assert v1.status is VersionStatus.SUPERSEDED
    # Pretend the council had not signed v1, to test the state check on its own.
    db.session.delete(v1.signature_for(world.council.id))
    db.session.commit()

    with world.request(), pytest.raises(Conflict, match="replaced by a later version"):
        services.sign(world.council_admin, _version(mou.id, 1), world.council, "Carl",
                      "Leader", "I agree on behalf of Northbridge Council")
    db.session.rollback()
    auth.login(world.council_admin)
    stale = client.submit(world.url(mou, f"sign/{world.council.id}"),
                          _sign_form(world, world.council, version="1"), page=TOKEN_PAGE)
    assert stale.status_code == 409
    assert "replaced by a later version" in stale.get_data(as_text=True)


def test_declining_needs_a_reason_tells_the_officer_and_keeps_the_mou_out_for_signature(
    world, client, auth, outbox
):
    mou = _draft(world)
    _to_signing(world, mou)
    auth.login(world.cvs_admin)
    url = world.url(mou, f"decline/{world.cvs.id}")

    empty = client.submit(url, {"version": "1", "reason": ""},
                          page=world.url(mou, f"sign/{world.cvs.id}"))
    assert empty.status_code == 422
    assert "Enter why your organisation is declining to sign" in empty.get_data(as_text=True)

    declined = client.submit(url, {"version": "1", "reason": "Clause 2 needs funding."},
                             page=world.url(mou, f"sign/{world.cvs.id}"))
    assert declined.status_code == 303
    mou = _fresh(mou.id)
    assert mou.status is MouStatus.SIGNING
    assert mou.draft_version.signature_for(world.cvs.id).declined
    message = outbox(world.officer.email)[-1]
    assert "Clause 2 needs funding." in message.body

    auth.login(world.officer)
    page = client.get(world.url(mou)).get_data(as_text=True)
    assert "Northbridge CVS declined to sign" in page and "Clause 2 needs funding." in page
    auth.logout()
    assert client.get(world.url(mou)).status_code == 302  # sign in first


def test_revising_a_version_out_for_signature_withdraws_it_and_starts_a_new_draft(
    world, client, auth
):
    mou = _draft(world)
    version = _to_signing(world, mou)
    _sign(world, version, world.council)
    auth.login(world.officer)

    response = client.submit(world.url(mou, "amend"), {"changelog": "Funds clause 2"})

    assert response.status_code == 303
    mou = _fresh(mou.id)
    v1, v2 = _version(mou.id, 1), _version(mou.id, 2)
    assert v1.status is VersionStatus.WITHDRAWN and len(v1.signatures) == 1
    assert v2.status is VersionStatus.DRAFT and v2.based_on_version_id == v1.id
    assert mou.draft_version_id == v2.id and mou.status is MouStatus.DRAFT
    assert [c.text for c in v2.clauses] == [c.text for c in v1.clauses]


def test_withdrawing_an_mou_that_was_never_in_force_ends_it(world, client, auth):
    mou = _draft(world)
    auth.login(world.officer)
    empty = client.submit(world.url(mou, "withdraw"), {"reason": ""})
    assert empty.status_code == 422
    response = client.submit(world.url(mou, "withdraw"), {"reason": "No longer needed"})
    assert response.status_code == 303
    mou = _fresh(mou.id)
    assert mou.status is MouStatus.ENDED and mou.end_kind is EndKind.WITHDRAWN
    assert _version(mou.id, 1).status is VersionStatus.WITHDRAWN
    page = client.get(world.url(mou)).get_data(as_text=True)
    assert "No longer needed" in page


# --- Amendments -----------------------------------------------------------------------------


def test_an_amendment_is_a_draft_while_the_signed_version_stays_in_force(world, client, auth):
    mou = _active(world)
    auth.login(world.officer)
    started = client.submit(world.url(mou, "amend"), {"changelog": "Adds the libraries"})
    assert started.status_code == 303

    mou = _fresh(mou.id)
    v1, v2 = _version(mou.id, 1), _version(mou.id, 2)
    assert mou.status is MouStatus.ACTIVE and mou.current_version_id == v1.id
    assert mou.draft_version_id == v2.id and v2.changelog == "Adds the libraries"
    assert [(p.organisation_id, p.role) for p in v2.parties] == [
        (p.organisation_id, p.role) for p in v1.parties]
    assert [([o.id for o in c.responsible], c.text) for c in v2.clauses] == [
        ([o.id for o in c.responsible], c.text) for c in v1.clauses]

    again = client.submit(world.url(mou, "amend"), {"changelog": "Another"})
    assert again.status_code == 409

    edited = client.submit(world.url(mou, "clauses"), {
        "clauses-0-text": "Share winter plans by September.",
        "clauses-0-responsible": [str(world.council.id)],
        "clauses-1-text": "Refer people to warm spaces and libraries.",
        "clauses-1-responsible": [str(world.cvs.id)],
        "submit": "y",
    })
    assert edited.status_code == 303

    auth.logout()
    public = client.get(world.url(mou)).get_data(as_text=True)
    assert "Share winter plans by October." in public
    assert "September" not in public and "Adds the libraries" not in public
    assert client.get(world.url(mou, "versions/2/")).status_code == 302  # sign in first

    with world.request():
        services.open_for_signature(world.officer, _version(mou.id, 2))
        db.session.commit()
    for org in world.parties:
        _sign(world, _version(mou.id, 2), org)

    mou = _fresh(mou.id)
    assert mou.current_version.number == 2
    assert _version(mou.id, 1).status is VersionStatus.SUPERSEDED
    assert _version(mou.id, 2).status is VersionStatus.SIGNED
    public = client.get(world.url(mou)).get_data(as_text=True)
    assert "Share winter plans by September." in public
    old = client.get(world.url(mou, "versions/1/"))
    assert old.status_code == 200
    assert "Share winter plans by October." in old.get_data(as_text=True)
    assert "Superseded" in old.get_data(as_text=True)
    assert db.session.scalar(select(func.count(MouSignature.id))) == 6


def test_an_amendment_copies_attachments_without_copying_files(world, tmp_path):
    mou = _draft(world)
    with world.request():
        services.add_attachment(world.officer, mou.draft_version, _upload())
        db.session.commit()
    version = _to_signing(world, mou)
    for org in world.parties:
        _sign(world, version, org)
    with world.request():
        v2 = services.start_amendment(world.officer, _fresh(mou.id), "New review date")
        db.session.commit()
    v1 = _version(mou.id, 1)
    v2 = _version(mou.id, 2)
    assert [(a.stored_name, a.sha256) for a in v2.attachments] == [
        (a.stored_name, a.sha256) for a in v1.attachments]
    with world.request():
        orphan = services.remove_attachment(world.officer, v2.attachments[0])
        db.session.commit()
    assert orphan is None  # version 1 still uses the file
    assert len(_version(mou.id, 1).attachments) == 1


# --- Who sees what --------------------------------------------------------------------------


@pytest.mark.parametrize("who, visible", [
    (None, False), ("outsider", False), ("council_member", False),
    ("council_admin", True), ("officer", True), ("site_admin", True),
])
def test_a_draft_is_seen_only_by_officers_and_the_parties_admins(world, client, auth, who,
                                                                  visible):
    mou = _draft(world)
    with world.request():
        services.send_for_comments(world.officer, mou.draft_version)
        db.session.commit()
    if who:
        auth.login(getattr(world, who))

    page = client.get(world.url(mou))
    register = client.get(f"{world.base}/").get_data(as_text=True)

    refused = 403 if who else 302  # whose MoU it is, or sign in first
    assert page.status_code == (200 if visible else refused)
    assert ("Working together on winter pressures" in page.get_data(as_text=True)) is visible
    assert ("Working together on winter pressures" in register) is visible
    assert client.get(world.url(mou, "versions/1/")).status_code == (
        200 if visible else refused)


def test_members_only_mou_is_off_the_public_register_and_shows_its_reason(world, client, auth):
    mou = _draft(world)
    auth.login(world.officer)
    missing = client.submit(world.url(mou, "publication"), {"publish": "no", "reason": ""})
    assert missing.status_code == 422
    assert "Enter why the parties agreed not to publish the MoU" in missing.get_data(
        as_text=True)
    saved = client.submit(world.url(mou, "publication"),
                          {"publish": "no", "reason": "Names individual safeguarding leads."})
    assert saved.status_code == 303
    version = _to_signing(world, mou)
    for org in world.parties:
        _sign(world, version, org)

    auth.logout()
    assert "Working together" not in client.get(f"{world.base}/").get_data(as_text=True)
    assert client.get(world.url(mou)).status_code == 302  # sign in first
    auth.login(world.outsider)
    refused = client.get(world.url(mou))
    assert refused.status_code == 403
    assert "Working together" not in refused.get_data(as_text=True)

    auth.login(world.council_member)  # a member (not an admin) of a party
    register = client.get(f"{world.base}/").get_data(as_text=True)
    assert "Working together on winter pressures" in register
    assert "Names individual safeguarding leads." in register
    page = client.get(world.url(mou)).get_data(as_text=True)
    assert "Members only." in page and "Names individual safeguarding leads." in page
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "mou.members_only"))
    assert event.reason == "Names individual safeguarding leads."


# --- Comments ------------------------------------------------------------------------------


def test_comments_are_for_the_parties_admins_and_only_during_the_comment_round(
    world, client, auth
):
    mou = _draft(world)
    auth.login(world.icb_admin)
    assert client.get(world.url(mou, "comments")).status_code == 200
    too_early = client.submit(world.url(mou, "comments"),
                              {"target": "general", "general-body": "Looks good"},
                              page=TOKEN_PAGE)
    assert too_early.status_code == 409

    with world.request():
        services.send_for_comments(world.officer, mou.draft_version)
        db.session.commit()
    empty = client.submit(world.url(mou, "comments"), {"target": "clause-1",
                                                        "clause-1-body": ""})
    assert empty.status_code == 422
    assert "Enter your comment" in empty.get_data(as_text=True)
    assert _count(MouComment) == 0

    auth.login(world.council_member)
    assert client.get(world.url(mou, "comments")).status_code == 403
    with world.request(), pytest.raises(PermissionDenied):
        services.comment(world.council_member, mou.draft_version, None, "Hello")
    db.session.rollback()

    auth.login(world.officer)
    ok = client.submit(world.url(mou, "comments"),
                       {"target": "general", "general-body": "Thanks, all."})
    assert ok.status_code == 303
    assert _count(MouComment) == 1


# --- Attachments and downloads --------------------------------------------------------------


def test_attachments_are_checked_by_content_and_downloaded_only_by_those_who_may_see_them(
    world, client, auth
):
    mou = _draft(world)
    auth.login(world.officer)
    fake = client.submit(world.url(mou, "attachments"),
                         {"file": (io.BytesIO(b"just text"), "plan.pdf")},
                         content_type="multipart/form-data")
    assert fake.status_code == 422
    assert "The file is called .pdf but is not a PDF" in fake.get_data(as_text=True)
    assert _count(MouAttachment) == 0

    docx = client.submit(world.url(mou, "attachments"),
                         {"file": (io.BytesIO(_docx()), "Terms.docx")},
                         content_type="multipart/form-data")
    assert docx.status_code == 303
    uploaded = client.submit(world.url(mou, "attachments"),
                             {"file": (io.BytesIO(PDF), "Winter plan.pdf")},
                             content_type="multipart/form-data")
    assert uploaded.status_code == 303
    attachment = db.session.scalar(select(MouAttachment).order_by(MouAttachment.id.desc()))
    url = world.url(mou, f"attachments/{attachment.id}")

    with client.get(url) as download:
        assert download.status_code == 200 and download.data == PDF
        assert download.headers["Content-Type"] == "application/pdf"
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert "Winter plan.pdf" in download.headers["Content-Disposition"]
        assert download.headers["X-Content-Type-Options"] == "nosniff"

    auth.logout()
    assert client.get(url).status_code == 302  # a draft's attachment: sign in first
    auth.login(world.council_member)
    assert client.get(url).status_code == 403

    version = _to_signing(world, mou)
    for org in world.parties:
        _sign(world, version, org)
    auth.logout()
    with client.get(url) as public:
        assert public.status_code == 200 and public.data == PDF
    assert client.get(world.url(mou, "attachments/9999")).status_code == 404


def test_removing_an_attachment_deletes_the_file_it_alone_used(world, client, auth):
    mou = _draft(world)
    with world.request():
        attachment = services.add_attachment(world.officer, mou.draft_version, _upload())
        db.session.commit()
    path = uploads.path_for(attachment.stored_name)
    assert path.is_file()
    auth.login(world.officer)
    response = client.submit(world.url(mou, f"attachments/{attachment.id}/remove"),
                             page=world.url(mou, "attachments"))
    assert response.status_code == 303
    assert _count(MouAttachment) == 0 and not path.exists()


# --- Related forums ----------------------------------------------------------------------------


def test_related_forums_are_shown_on_the_mou(world, client, auth):
    forum = Forum(partnership_id=world.partnership.id, slug="vcse-alliance",
                  name="VCSE Alliance", purpose="")
    db.session.add(forum)
    db.session.commit()
    mou = _active(world)
    auth.login(world.officer)
    response = client.submit(world.url(mou, "forums"), {"forums": [str(forum.id)]})
    assert response.status_code == 303
    auth.logout()
    assert "VCSE Alliance" in client.get(world.url(mou)).get_data(as_text=True)


# --- Query budgets --------------------------------------------------------------------------


def test_mou_page_stays_within_its_query_budget(world, client, auth, count_queries):
    mou = _draft(world)
    with world.request():
        services.set_clauses(world.officer, mou.draft_version, [
            ClauseDetails(f"Clause text {n}", [world.council.id, world.icb.id])
            for n in range(20)])
        for _ in range(3):
            services.add_attachment(world.officer, mou.draft_version, _upload())
        db.session.commit()
    version = _to_signing(world, mou)
    for org in world.parties:
        _sign(world, version, org)
    with world.request():
        services.start_amendment(world.officer, _fresh(mou.id), "Second")
        db.session.commit()

    url = world.url(mou)
    with count_queries() as anonymous:
        page = client.get(url)
    assert page.status_code == 200 and "Clause text 19" in page.get_data(as_text=True)
    # The MoU, its two shown versions in full, the list of versions, the review history;
    # and the site revision (pagecache.py), read for every visitor not signed in.
    assert anonymous.count <= 14, anonymous.statements

    auth.login(world.officer)
    with count_queries() as officer:
        page = client.get(url)
    assert page.status_code == 200 and "Version 2: Second" in page.get_data(as_text=True)
    assert officer.count <= 17, officer.statements


def test_register_stays_within_its_query_budget(world, client, auth, count_queries):
    for n in range(12):
        _active(world, title=f"MoU number {n}")
    _draft(world, title="A draft")

    url = f"{world.base}/"
    with count_queries() as log:
        page = client.get(url).get_data(as_text=True)
    assert page.count("Northbridge Council, Northbridge ICB, Northbridge CVS") == 12
    assert "A draft" not in page
    # The site revision (pagecache.py), partnership, MoUs, principles, versions, parties.
    assert log.count <= 6, log.statements

    auth.login(world.council_admin)
    with count_queries() as log:
        page = client.get(url).get_data(as_text=True)
    assert "A draft" in page
    assert log.count <= 8, log.statements


def test_register_of_an_unknown_partnership_is_not_found(client):
    assert client.get("/partnerships/nowhere/mous/").status_code == 404


def test_data_sharing_is_shown_with_its_note(world, client):
    mou = _active(world, data_sharing=True,
                  data_sharing_note="Referral details under the **winter DSA**.")
    page = client.get(world.url(mou)).get_data(as_text=True)
    assert '<p class="govuk-body">Yes</p>' in page
    assert "<strong>winter DSA</strong>" in page


def test_an_mou_is_only_found_under_its_own_partnership(world, client, make_partnership):
    mou = _active(world)
    other = make_partnership("Eastshire Health")
    assert client.get(f"/partnerships/{other.slug}/mous/{mou.id}/").status_code == 404
    assert client.get(world.url(mou.id + 1)).status_code == 404


def test_a_nominee_is_emailed_when_the_mou_opens_for_signature(world, make_user, outbox):
    chair = make_user("Charlie Chair", "chair@icb.example")
    mou = _draft(world)
    with world.request():
        party = mou.draft_version.party_for(world.icb.id)
        services.nominate_signatory(world.icb_admin, party, "chair@icb.example")
        services.open_for_signature(world.officer, mou.draft_version)  # the step under test
        db.session.commit()
    subjects = [message.subject for message in outbox(chair.email)]
    assert subjects == ["You have been asked to sign an MoU for Northbridge ICB",
                        f"MoU ready to sign in {mou.partnership.name}: "
                        "Working together on winter pressures"]
