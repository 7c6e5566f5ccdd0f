"""`flask seed demo`: the Northbridge demo loads, re-runs cleanly, resets a walkthrough,
signs in with the published password, and refuses to run in production.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from flask import Flask
from sqlalchemy import func, select

from partnerships import permissions
from partnerships.accounts.models import User
from partnerships.accounts.services import authenticate
from partnerships.audit import AuditEvent
from partnerships.extensions import db
from partnerships.mail import OutboxMessage
from partnerships.organisations.models import (
    MemberRole,
    Organisation,
    OrganisationMember,
    OrgType,
    RequestStatus,
    Sector,
)
from partnerships.organisations.numbers import (
    normalise_charity_number,
    normalise_company_number,
)
from partnerships.places.models import (
    Partnership,
    PartnershipMember,
    PartnershipOfficer,
    PartnershipPrinciple,
)
from partnerships.seed import DEMO_PASSWORD, SeedError, load_demo, seed_path
from tests.conftest import AppClient

DEMO_ACCOUNTS = [
    "admin@example.org",
    "officer@northbridge.example.org",
    "convenor@northbridge-cvs.example.org",
    "volunteer@eastside-food.example.org",
    "staff@northbridge-icb.example.org",
    "manager@northbridge-icb.example.org",
]
TABLES = [
    User, Organisation, OrganisationMember, Partnership, PartnershipPrinciple,
    PartnershipOfficer, PartnershipMember,
]


def _row_counts() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) or 0
        for model in TABLES
    }


def _user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None, email
    return user


def _org(slug: str) -> Organisation:
    org = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    assert org is not None, slug
    return org


def _partnership(slug: str) -> Partnership:
    partnership = db.session.scalar(select(Partnership).where(Partnership.slug == slug))
    assert partnership is not None, slug
    return partnership


def _membership(partnership: Partnership, org: Organisation) -> PartnershipMember | None:
    return db.session.scalar(
        select(PartnershipMember).where(
            PartnershipMember.partnership_id == partnership.id,
            PartnershipMember.organisation_id == org.id,
        )
    )


@pytest.fixture
def seeded(app: Flask) -> dict[str, int]:
    summary = load_demo()
    db.session.commit()
    return summary


# --- Idempotence ------------------------------------------------------------------------


def test_loading_twice_gives_the_same_counts_and_no_duplicate_rows(app: Flask) -> None:
    first = load_demo()
    db.session.commit()
    rows_after_first = _row_counts()
    second = load_demo()
    db.session.commit()

    assert first == second
    assert _row_counts() == rows_after_first
    assert first["accounts"] == rows_after_first["users"]
    assert first["organisations"] == rows_after_first["organisations"]
    assert first["partnerships"] == rows_after_first["partnerships"] == 2


def test_a_second_run_changes_nothing_at_all(seeded: dict[str, int]) -> None:
    users_before = {u.email: (u.password_hash, u.session_token, u.updated_at)
                    for u in db.session.scalars(select(User))}
    orgs_before = {o.slug: o.updated_at for o in db.session.scalars(select(Organisation))}

    load_demo()
    db.session.commit()
    db.session.expire_all()

    assert {u.email: (u.password_hash, u.session_token, u.updated_at)
            for u in db.session.scalars(select(User))} == users_before
    assert {o.slug: o.updated_at for o in db.session.scalars(select(Organisation))} == orgs_before


def test_loading_sends_no_email_and_writes_no_audit_events(seeded: dict[str, int]) -> None:
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0


# --- The demo accounts ----------------------------------------------------------------


def test_the_six_demo_accounts_have_their_roles(seeded: dict[str, int]) -> None:
    users = {email: _user(email) for email in DEMO_ACCOUNTS}
    assert all(user.is_confirmed for user in users.values())
    assert [e for e, u in users.items() if u.is_site_admin] == ["admin@example.org"]

    together = _partnership("northbridge-together")
    council = _org("northbridge-borough-council")
    officer = users["officer@northbridge.example.org"]
    assert permissions.is_partnership_officer(officer, together)
    role = db.session.scalar(
        select(PartnershipOfficer).where(
            PartnershipOfficer.partnership_id == together.id,
            PartnershipOfficer.user_id == officer.id,
        )
    )
    assert role is not None
    assert role.role_title == "Partnership officer"
    assert role.organisation_id == council.id
    assert permissions.is_organisation_member(officer, council)

    cvs = _org("northbridge-cvs")
    assert cvs.org_type is OrgType.CHARITY
    assert permissions.is_organisation_admin(users["convenor@northbridge-cvs.example.org"], cvs)

    eastside = _org("eastside-food-bank")
    volunteer = users["volunteer@eastside-food.example.org"]
    assert eastside.org_type is OrgType.COMMUNITY_GROUP
    assert eastside.is_small is True
    assert eastside.charity_number is None and eastside.company_number is None
    assert permissions.is_organisation_admin(volunteer, eastside)
    assert permissions.can_request_partnership_membership(volunteer, together, eastside)

    icb = _org("northbridge-riverside-icb")
    assert icb.org_type is OrgType.NHS_BODY
    for email in ("staff@northbridge-icb.example.org", "manager@northbridge-icb.example.org"):
        assert permissions.is_organisation_member(users[email], icb)
    staff_link = permissions.organisation_membership(
        users["staff@northbridge-icb.example.org"], icb
    )
    manager_link = permissions.organisation_membership(
        users["manager@northbridge-icb.example.org"], icb
    )
    assert staff_link is not None and manager_link is not None
    assert staff_link.job_title and manager_link.job_title
    assert staff_link.role is MemberRole.MEMBER


def test_the_demo_password_works_for_every_demo_account(seeded: dict[str, int]) -> None:
    for email in DEMO_ACCOUNTS:
        assert authenticate(email, DEMO_PASSWORD) is not None, email
        assert authenticate(email, "not-the-demo-password") is None, email


def test_each_demo_account_can_sign_in_through_the_form(
    app: Flask, seeded: dict[str, int]
) -> None:
    for email in DEMO_ACCOUNTS:
        client: AppClient = app.test_client()  # type: ignore[assignment]
        response = client.submit(
            "/account/sign-in", {"email": email, "password": "demo-partnerships"}
        )
        assert response.status_code == 303, email
        assert response.headers["Location"].endswith("/account/profile"), email
        profile = client.get("/account/profile")
        assert profile.status_code == 200, email
        assert email in profile.get_data(as_text=True)


# --- The organisations and partnerships -------------------------------------------------


def test_the_demo_has_four_kinds_of_public_body_and_twelve_varied_vcse_organisations(
    seeded: dict[str, int],
) -> None:
    orgs = list(db.session.scalars(select(Organisation)))
    public_types = {org.org_type for org in orgs if org.sector is Sector.PUBLIC}
    assert {OrgType.LOCAL_AUTHORITY, OrgType.NHS_BODY, OrgType.POLICE, OrgType.FIRE} <= public_types

    vcse = [org for org in orgs if org.is_vcse]
    assert len(vcse) >= 12
    assert sum(1 for org in vcse if org.is_small) >= 4
    assert sum(1 for org in vcse if org.is_small is False) >= 3
    assert [org.slug for org in vcse if org.org_type is OrgType.COMMUNITY_GROUP] == [
        "eastside-food-bank"
    ]
    assert len({org.org_type for org in vcse}) >= 4
    names = {org.name for org in orgs}
    assert {
        "Northbridge Borough Council",
        "NHS Northbridge and Riverside Integrated Care Board",
        "Office of the Northbridge Police and Crime Commissioner",
        "Northbridge Fire and Rescue Service",
        "Northbridge CVS",
        "Eastside Food Bank",
    } <= names


def test_every_organisation_has_valid_numbers_an_example_website_and_a_description(
    seeded: dict[str, int],
) -> None:
    for org in db.session.scalars(select(Organisation)):
        if org.charity_number:
            assert normalise_charity_number(org.charity_number) == org.charity_number
        if org.company_number:
            assert normalise_company_number(org.company_number) == org.company_number
        assert org.website and urlparse(org.website).hostname.endswith("example.org"), org.slug
        assert 20 < len(org.description) < 400, org.slug


def test_no_address_in_the_demo_can_reach_a_real_person(seeded: dict[str, int]) -> None:
    emails = list(db.session.scalars(select(User.email)))
    emails += [e for e in db.session.scalars(select(Partnership.contact_email)) if e]
    assert all(email.endswith("example.org") for email in emails)


def test_both_partnerships_exist_with_officers_members_and_a_written_description(
    seeded: dict[str, int],
) -> None:
    together = _partnership("northbridge-together")
    riverside = _partnership("riverside-health-care")
    for partnership in (together, riverside):
        assert partnership.officers
        assert sum(m.status is RequestStatus.ACTIVE for m in partnership.members) >= 5
        assert partnership.principles
        assert partnership.description.count("\n\n") >= 2  # a few paragraphs of Markdown
        assert partnership.contact_email
    assert together.name == "Northbridge Together"


def test_eastside_food_bank_is_not_yet_in_northbridge_together_but_a_request_waits(
    seeded: dict[str, int],
) -> None:
    together = _partnership("northbridge-together")
    assert _membership(together, _org("eastside-food-bank")) is None
    pending = [m for m in together.members if m.status is RequestStatus.PENDING]
    assert len(pending) == 1
    assert pending[0].organisation.is_vcse
    assert pending[0].requested_by is not None and pending[0].message
    assert pending[0].requested_at is not None


def test_the_public_partnership_page_shows_the_demo(client: AppClient, seeded: dict) -> None:
    response = client.get("/partnerships/northbridge-together/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Northbridge Together" in page
    # The Markdown headings sit under the page's "About the partnership" h2.
    assert '<h3 class="govuk-heading-s">How to get involved</h3>' in page
    assert "Northbridge Refugee Welcome" not in page  # a pending request is not public


# --- Re-running resets a walkthrough, and leaves other data alone -------------------------


def test_a_rerun_resets_what_the_demo_accounts_did_in_a_walkthrough(
    app: Flask, seeded: dict[str, int]
) -> None:
    together = _partnership("northbridge-together")
    eastside = _org("eastside-food-bank")
    refugee = _org("northbridge-refugee-welcome")

    volunteer: AppClient = app.test_client()  # type: ignore[assignment]
    volunteer.submit("/account/sign-in", {"email": DEMO_ACCOUNTS[3], "password": DEMO_PASSWORD})
    response = volunteer.submit(
        "/partnerships/northbridge-together/join",
        {"organisation": str(eastside.id), "message": "We would like to take part."},
    )
    assert response.status_code == 303

    officer: AppClient = app.test_client()  # type: ignore[assignment]
    officer.submit("/account/sign-in", {"email": DEMO_ACCOUNTS[1], "password": DEMO_PASSWORD})
    request_id = _membership(together, refugee).id  # type: ignore[union-attr]
    response = officer.submit(
        f"/partnerships/northbridge-together/requests/{request_id}/approve",
        page="/partnerships/northbridge-together/requests",
    )
    assert response.status_code == 303

    user = _user(DEMO_ACCOUNTS[3])
    user.password_hash = "scrypt:32768:8:1$changed$0000"
    db.session.commit()
    db.session.expire_all()
    assert _membership(together, eastside) is not None
    assert _membership(together, refugee).status is RequestStatus.ACTIVE  # type: ignore[union-attr]

    load_demo()
    db.session.commit()
    db.session.expire_all()

    assert _membership(together, eastside) is None
    again = _membership(together, refugee)
    assert again is not None and again.status is RequestStatus.PENDING
    assert again.decided_at is None and again.decided_by_id is None
    assert authenticate(DEMO_ACCOUNTS[3], DEMO_PASSWORD) is not None


def test_a_rerun_keeps_what_other_people_created(
    seeded: dict[str, int], make_user, make_organisation
) -> None:
    together = _partnership("northbridge-together")
    someone = make_user("Real Person", "real.person@example.net")
    their_org = make_organisation("Westfield Allotment Society", admin=someone)
    db.session.add(PartnershipMember(
        partnership_id=together.id, organisation_id=their_org.id, status=RequestStatus.PENDING,
    ))
    db.session.commit()

    load_demo()
    db.session.commit()
    db.session.expire_all()

    assert _user("real.person@example.net").password_hash != ""
    assert permissions.is_organisation_admin(someone, _org("westfield-allotment-society"))
    assert _membership(together, their_org) is not None


# --- The command line and production ----------------------------------------------------


def test_the_cli_loads_the_demo_and_commits(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert result.exit_code == 0, result.output
    assert "Demo data loaded:" in result.output
    assert "accounts" in result.output
    db.session.expire_all()
    assert _user("admin@example.org").is_site_admin
    assert app.test_cli_runner().invoke(args=["seed", "demo"]).exit_code == 0


def test_the_cli_refuses_in_production_and_writes_nothing(app: Flask) -> None:
    app.config["ENV_NAME"] = "production"
    result = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert result.exit_code != 0
    assert "production" in result.output
    db.session.expire_all()
    assert all(count == 0 for count in _row_counts().values())


def test_load_demo_itself_refuses_in_production(app: Flask) -> None:
    app.config["ENV_NAME"] = "production"
    with pytest.raises(RuntimeError, match="production"):
        load_demo()
    assert all(count == 0 for count in _row_counts().values())


# --- The seed file's own checks ---------------------------------------------------------


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "seed.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_the_seed_file_is_found_next_to_the_package(app: Flask) -> None:
    assert seed_path().is_file()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"forums": []}, "unknown section"),
        ({"accounts": [{"name": "A", "email": "a@example.org", "admin": True}]}, "unknown field"),
        ({"accounts": [{"name": "A"}]}, "missing email"),
        ({"organisations": [{"name": "X", "slug": "x", "type": "charity",
                             "income_band": "up_to_10k", "charity_number": "12"}]},
         "not a charity number"),
        ({"organisations": [{"name": "X", "slug": "x", "type": "club",
                             "income_band": "up_to_10k"}]}, "'club' is not one of"),
        ({"organisations": [{"name": "X", "slug": "x", "type": "charity",
                             "income_band": "up_to_10k",
                             "members": [{"email": "nobody@example.org", "role": "admin"}]}]},
         "not one of the accounts"),
        ({"partnerships": [{"name": "P", "slug": "p", "place": "Q", "members": ["nope"]}]},
         "no organisation with slug 'nope'"),
    ],
)
def test_mistakes_in_the_seed_file_are_reported_clearly(
    app: Flask, tmp_path: Path, data: dict, message: str
) -> None:
    with pytest.raises(SeedError, match=message):
        load_demo(_write(tmp_path, data))
