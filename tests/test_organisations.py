"""Organisations over HTTP: create and edit profiles, the public directory, asking to
join, admins deciding, roles and leaving, and who may see or do what."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from partnerships.audit import AuditEvent
from partnerships.extensions import db
from partnerships.modelbase import utcnow
from partnerships.organisations.models import (
    IncomeBand,
    MemberRole,
    Organisation,
    OrganisationMember,
    OrgType,
    RequestStatus,
    Sector,
)
from partnerships.organisations.numbers import CHARITY_FORMAT_HELP, COMPANY_FORMAT_HELP
from partnerships.partnership.models import PartnershipMember
from tests.conftest import link_in

NEW = "/organisations/new"


def org_form(**overrides: str) -> dict[str, str]:
    """What a volunteer fills in for a small unincorporated group."""
    data = {
        "name": "Eastside Food Bank",
        "org_type": "community_group",
        "income_band": "up_to_10k",
        "charity_number": "",
        "company_number": "",
        "website": "",
        "description": "We hand out food parcels on Tuesdays in Eastside.",
    }
    data.update(overrides)
    return data


def org_count() -> int:
    return db.session.scalar(select(func.count(Organisation.id))) or 0


def link_of(org: Organisation, user: Any) -> OrganisationMember | None:
    db.session.expire_all()
    return db.session.scalar(
        select(OrganisationMember).where(
            OrganisationMember.organisation_id == org.id,
            OrganisationMember.user_id == user.id,
        )
    )


def add_link(org: Organisation, user: Any, status: RequestStatus = RequestStatus.PENDING,
             role: MemberRole = MemberRole.MEMBER, **extra: Any) -> OrganisationMember:
    link = OrganisationMember(organisation_id=org.id, user_id=user.id, status=status, role=role,
                              **extra)
    db.session.add(link)
    db.session.commit()
    return link


def is_sign_in_redirect(response: Any) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith(
        "/account/sign-in"
    )


# --- Creating an organisation -------------------------------------------------------


def test_volunteer_creates_a_group_without_a_charity_number_and_becomes_its_admin(
    client, auth, make_user
):
    volunteer = make_user("Ada Volunteer")
    auth.login(volunteer)

    page = client.get(NEW)
    assert page.status_code == 200
    assert "You do not need a charity number" in page.text
    assert "Unincorporated community group" in page.text

    response = client.submit(NEW, org_form(website="eastsidefoodbank.org.uk"))
    assert response.status_code == 303
    assert response.headers["Location"] == "/organisations/eastside-food-bank/"

    db.session.expire_all()
    org = db.session.scalar(select(Organisation))
    assert org.name == "Eastside Food Bank"
    assert org.org_type is OrgType.COMMUNITY_GROUP
    assert org.charity_number is None and org.company_number is None
    assert org.website == "https://eastsidefoodbank.org.uk"
    assert org.created_by_id == volunteer.id
    link = link_of(org, volunteer)
    assert link.status is RequestStatus.ACTIVE and link.role is MemberRole.ADMIN
    assert db.session.scalar(
        select(AuditEvent.action).where(AuditEvent.subject_id == org.id)
    ) == "organisation.created"

    shown = client.get(response.headers["Location"])
    assert "Eastside Food Bank has been added. You are its admin." in shown.text
    assert "Change these details" in shown.text


def test_unconfirmed_account_is_told_to_confirm_its_email_first(client, auth, make_user):
    auth.login(make_user(confirmed=False))

    page = client.get(NEW)
    assert page.status_code == 403
    assert "Confirm your email address first" in page.text
    assert "Send the link again" in page.text

    posted = client.submit(NEW, org_form(), page="/account/profile")
    assert posted.status_code == 403
    assert "Confirm your email address first" in posted.text
    assert org_count() == 0


def test_anonymous_visitor_is_sent_to_sign_in_to_create(client):
    assert is_sign_in_redirect(client.get(NEW))


@pytest.mark.parametrize(
    ("overrides", "message", "field_id"),
    [
        ({"name": ""}, "Enter the name of your organisation or group", "name"),
        ({"name": "x" * 161}, "Name must be 160 characters or fewer", "name"),
        ({"org_type": ""}, "Select what kind of organisation it is", "org_type"),
        ({"income_band": ""}, "Select how much money it receives in a year", "income_band"),
        ({"charity_number": "ABC"}, CHARITY_FORMAT_HELP, "charity_number"),
        ({"company_number": "12AB"}, COMPANY_FORMAT_HELP, "company_number"),
        ({"company_number": "123"}, COMPANY_FORMAT_HELP, "company_number"),
        ({"website": "not a website"}, "Enter a website address in the correct format",
         "website"),
        ({"description": "d" * 1001}, "Description must be 1000 characters or fewer",
         "description"),
    ],
)
def test_bad_input_is_explained_on_the_same_page_and_nothing_is_saved(
    client, auth, make_user, overrides, message, field_id
):
    auth.login(make_user())
    typed = org_form(**{"charity_number": "SC012345", "website": "www.example.org", **overrides})

    response = client.submit(NEW, typed)

    assert response.status_code == 422
    html = response.text
    assert "There is a problem" in html
    assert message.replace("'", "&#39;") in html
    assert f'href="#{field_id}' in html
    assert "<title>Error: " in html
    # What was typed is still there.
    if typed["name"]:
        assert f'value="{typed["name"]}"' in html
    assert f'value="{typed["charity_number"]}"' in html
    assert f'value="{typed["website"]}"' in html
    assert typed["description"] in html
    if typed["org_type"]:
        assert 'value="community_group" checked' in html
    assert org_count() == 0
    assert db.session.scalar(select(func.count(OrganisationMember.id))) == 0


def test_every_problem_in_the_form_is_listed_at_once(client, auth, make_user):
    auth.login(make_user())
    response = client.submit(NEW, org_form(name="", charity_number="ABC", company_number="X"))
    assert response.status_code == 422
    for message in ("Enter the name of your organisation or group", CHARITY_FORMAT_HELP,
                    COMPANY_FORMAT_HELP):
        assert message in response.text
    assert org_count() == 0


def test_duplicate_name_is_refused_and_points_to_asking_to_join(
    client, auth, make_user, make_organisation
):
    make_organisation("Eastside Food Bank")
    auth.login(make_user())

    response = client.submit(NEW, org_form(name="eastside food bank", charity_number="1123456"))

    assert response.status_code == 422
    assert "An organisation with this name is already registered" in response.text
    assert 'value="eastside food bank"' in response.text
    assert 'value="1123456"' in response.text
    assert org_count() == 1


@pytest.mark.parametrize(
    ("field", "typed", "stored"),
    [
        ("charity_number", "1123456", "1123456"),
        ("charity_number", "212345", "212345"),
        ("charity_number", "1123456-1", "1123456-1"),
        ("charity_number", " sc 012345 ", "SC012345"),
        ("charity_number", "nic100002", "NIC100002"),
        ("company_number", "12345678", "12345678"),
        ("company_number", "1234567", "01234567"),
        ("company_number", "sc123456", "SC123456"),
        ("company_number", "NI 123456", "NI123456"),
    ],
)
def test_charity_and_company_numbers_are_normalised(
    client, auth, make_user, field, typed, stored
):
    auth.login(make_user())

    response = client.submit(NEW, org_form(org_type="charity", **{field: typed}))

    assert response.status_code == 303
    db.session.expire_all()
    assert getattr(db.session.scalar(select(Organisation)), field) == stored
    assert stored in client.get(response.headers["Location"]).text


@pytest.mark.parametrize(
    ("org_type", "band", "sector", "small", "small_text"),
    [
        ("nhs_body", "over_100m", Sector.PUBLIC, False, "No"),
        ("community_group", "up_to_10k", Sector.VCSE, True, "Yes (£500,000 a year or less)"),
        ("charity", "100k_500k", Sector.VCSE, True, "Yes (£500,000 a year or less)"),
        ("housing_association", "500k_1m", Sector.VCSE, False, "No"),
        ("business", "not_said", Sector.PRIVATE, None, "Not given"),
    ],
)
def test_sector_and_small_are_derived_from_type_and_income(
    client, auth, make_user, org_type, band, sector, small, small_text
):
    auth.login(make_user())

    response = client.submit(NEW, org_form(org_type=org_type, income_band=band))

    db.session.expire_all()
    org = db.session.scalar(select(Organisation))
    assert org.sector is sector
    assert org.is_small is small
    page = client.get(response.headers["Location"]).text
    assert sector.label in page
    assert small_text in page


def test_slugs_never_clash_with_pages_or_ids(client, auth, make_user):
    auth.login(make_user())

    first = client.submit(NEW, org_form(name="New"))
    second = client.submit(NEW, org_form(name="1234"))

    assert first.headers["Location"] == "/organisations/organisation-new/"
    assert second.headers["Location"] == "/organisations/organisation-1234/"
    assert client.get(second.headers["Location"]).status_code == 200


# --- Editing --------------------------------------------------------------------------


def test_admin_edits_the_profile(client, auth, make_user, make_organisation):
    admin = make_user()
    org = make_organisation(admin=admin)
    auth.login(admin)
    url = f"/organisations/{org.slug}/edit"

    page = client.get(url)
    assert page.status_code == 200
    assert 'value="Eastside Food Bank"' in page.text

    response = client.submit(url, org_form(name="Eastside Community Pantry",
                                           org_type="charity", charity_number="1123456",
                                           income_band="10k_100k"))

    assert response.status_code == 303
    assert response.headers["Location"] == f"/organisations/{org.slug}/"
    db.session.expire_all()
    org = db.session.get(Organisation, org.id)
    assert org.name == "Eastside Community Pantry"
    assert org.org_type is OrgType.CHARITY
    assert org.charity_number == "1123456"
    assert org.slug == "eastside-food-bank"  # links people saved keep working


def test_edit_with_bad_input_keeps_what_was_typed(client, auth, make_user, make_organisation):
    admin = make_user()
    org = make_organisation(admin=admin)
    make_organisation("Westside Youth Club")
    auth.login(admin)
    url = f"/organisations/{org.slug}/edit"

    response = client.submit(url, org_form(name="Westside Youth Club", description="Changed"))

    assert response.status_code == 422
    assert "An organisation with this name is already registered" in response.text
    assert "Changed" in response.text
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).name == "Eastside Food Bank"


def test_site_admin_can_edit_any_organisation(client, auth, make_user, make_organisation):
    org = make_organisation(admin=make_user())
    auth.login(make_user(site_admin=True))

    response = client.submit(f"/organisations/{org.slug}/edit", org_form(description="Fixed"))

    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).description == "Fixed"


# --- The public directory -----------------------------------------------------------


def test_directory_lists_name_type_sector_and_small(client, make_organisation):
    make_organisation("Eastside Food Bank")
    make_organisation("Northbridge Council", org_type=OrgType.LOCAL_AUTHORITY,
                      income_band=IncomeBand.OVER_100M)

    html = client.get("/organisations/").text

    assert "2 organisations" in html
    assert 'href="/organisations/eastside-food-bank/"' in html
    assert "Unincorporated community group" in html
    assert "Local authority" in html
    assert "Public sector" in html
    assert html.count("govuk-tag--green") == 1  # the "Small" tag, for the food bank only


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("?q=food", ["Eastside Food Bank"], ["Northbridge Council", "St Mary Church"]),
        ("?q=PARCELS", ["Eastside Food Bank"], ["Northbridge Council"]),
        ("?type=local_authority", ["Northbridge Council"], ["Eastside Food Bank"]),
        ("?sector=vcse", ["Eastside Food Bank", "St Mary Church"], ["Northbridge Council"]),
        ("?sector=public", ["Northbridge Council"], ["Eastside Food Bank"]),
        ("?small=y", ["Eastside Food Bank"], ["Northbridge Council", "St Mary Church"]),
        ("?sector=vcse&small=y", ["Eastside Food Bank"], ["St Mary Church"]),
        ("?q=%25", [], ["Eastside Food Bank", "Northbridge Council"]),
        ("?type=nonsense&sector=nonsense", ["Eastside Food Bank", "Northbridge Council"], []),
    ],
)
def test_directory_filters(client, make_organisation, query, shown, hidden):
    make_organisation("Eastside Food Bank", description="Food parcels on Tuesdays")
    make_organisation("Northbridge Council", org_type=OrgType.LOCAL_AUTHORITY,
                      income_band=IncomeBand.OVER_100M)
    make_organisation("St Mary Church", org_type=OrgType.FAITH_GROUP,
                      income_band=IncomeBand.UP_TO_1M)

    response = client.get("/organisations/" + query)

    assert response.status_code == 200
    for name in shown:
        assert name in response.text
    for name in hidden:
        assert name not in response.text


def test_directory_keeps_the_chosen_filters_in_the_form(client, make_organisation):
    make_organisation()
    html = client.get("/organisations/?q=food&type=community_group&sector=vcse&small=y").text
    assert 'value="food"' in html
    assert '<option value="community_group" selected' in html
    assert '<option value="vcse" selected' in html
    assert 'name="small" type="checkbox" value="y" checked' in html
    assert "Clear filters" in html


def make_many(count: int) -> None:
    for n in range(count):
        db.session.add(Organisation(
            name=f"Group {n:03d}", slug=f"group-{n:03d}",
            org_type=OrgType.COMMUNITY_GROUP if n % 2 else OrgType.CHARITY,
            income_band=IncomeBand.UP_TO_10K if n % 3 else IncomeBand.UP_TO_1M,
        ))
    db.session.commit()


def test_directory_pages_through_results_keeping_filters(client, app):
    make_many(60)

    first = client.get("/organisations/").text
    assert "60 organisations" in first
    assert "Page 1 of 3" in first
    assert "Group 000" in first and "Group 024" in first and "Group 025" not in first
    assert 'href="/organisations/?page=2"' in first

    last = client.get("/organisations/?page=3").text
    assert "Group 059" in last and "Group 049" not in last
    assert 'rel="prev"' in last and 'rel="next"' not in last

    past_the_end = client.get("/organisations/?page=99")
    assert past_the_end.status_code == 200
    assert "Group 059" in past_the_end.text

    filtered = client.get("/organisations/?type=charity&page=2").text
    assert "30 organisations" in filtered
    assert "page=1" in filtered and "type=charity" in filtered


def test_directory_sorts_by_name_ignoring_case_and_follows_a_rename(
    client, auth, make_user, make_organisation
):
    """The directory reads its order from ``sort_name``, the lower-case name the model
    keeps whenever the name is set (including through the edit form)."""
    admin = make_user()
    apple = make_organisation("apple Growers", admin=admin)
    make_organisation("Banana Trust")
    make_organisation("cherry Club")
    page = client.get("/organisations/").text
    assert page.index("apple Growers") < page.index("Banana Trust") < page.index("cherry Club")
    assert apple.sort_name == "apple growers"
    auth.login(admin)
    response = client.submit(f"/organisations/{apple.slug}/edit", org_form(
        name="Zebra Growers", org_type="community_group", income_band="up_to_10k"))
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Organisation, apple.id).sort_name == "zebra growers"
    page = client.get("/organisations/").text
    assert page.index("Banana Trust") < page.index("cherry Club") < page.index("Zebra Growers")


def test_directory_page_stays_within_its_query_budget(
    client, auth, make_user, app, count_queries
):
    make_many(60)
    for who in (None, make_user()):
        if who is not None:
            auth.login(who)
        with count_queries() as log:
            response = client.get("/organisations/?sector=vcse&small=y&page=2")
        assert response.status_code == 200
        assert log.count <= 6, log.statements


# --- The profile page -----------------------------------------------------------------


def test_public_page_shows_details_and_active_partnerships_only(
    client, make_user, make_organisation, make_partnership
):
    org = make_organisation(
        "Eastside Food Bank", org_type=OrgType.CHARITY, charity_number="1123456",
        company_number="01234567", website="https://eastside.example.org",
        description="We run a **food bank**.", admin=make_user("Alice Admin"),
    )
    make_partnership("Northbridge Together", members=[org])
    pending = make_partnership("Southside Alliance")
    db.session.add(PartnershipMember(partnership_id=pending.id, organisation_id=org.id,
                                     status=RequestStatus.PENDING, requested_at=utcnow()))
    db.session.commit()

    for key in (org.slug, str(org.id)):
        html = client.get(f"/organisations/{key}/").text
        assert "<h1 class=\"govuk-heading-l\">Eastside Food Bank</h1>" in html
        assert "Registered charity" in html
        assert "1123456" in html and "01234567" in html
        assert 'href="https://eastside.example.org"' in html
        assert "<strong>food bank</strong>" in html
        assert "Northbridge Together" in html
        assert "Southside Alliance" not in html


def test_public_page_never_shows_members_to_outsiders(
    client, auth, make_user, make_organisation
):
    admin = make_user("Alice Admin", "alice@example.org")
    member = make_user("Bob Member", "bob@example.org")
    org = make_organisation(admin=admin, members=[member])
    db.session.execute(
        OrganisationMember.__table__.update().values(job_title="Warehouse lead")
    )
    requester = make_user("Carol Asker", "carol@example.org")
    add_link(org, requester, job_title="Driver", message="Please let me in")
    url = f"/organisations/{org.slug}/"

    for viewer in (None, make_user("Dan Outsider")):
        if viewer is not None:
            auth.login(viewer)
        html = client.get(url).text
        for secret in ("Alice Admin", "Bob Member", "Warehouse lead", "alice@example.org",
                       "Carol Asker", "Driver", "Please let me in"):
            assert secret not in html


def test_members_see_colleagues_and_admins_see_management_links(
    client, auth, make_user, make_organisation
):
    admin = make_user("Zoe Admin")
    member = make_user("Bob Member")
    org = make_organisation(admin=admin, members=[member])
    url = f"/organisations/{org.slug}/"

    auth.login(member)
    html = client.get(url).text
    assert "Zoe Admin" in html and "Bob Member" in html
    assert "Manage members" not in html and "Change these details" not in html
    assert "Leave Eastside Food Bank" in html

    auth.login(admin)
    html = client.get(url).text
    assert html.index("Zoe Admin") < html.index("Bob Member")  # admins first, then by name
    assert f'href="/organisations/{org.slug}/members"' in html
    assert f'href="/organisations/{org.slug}/edit"' in html


def test_profile_invites_people_to_join_in_the_right_way(
    client, auth, make_user, make_organisation
):
    org = make_organisation(admin=make_user())
    url = f"/organisations/{org.slug}/"

    html = client.get(url).text
    assert "Sign in to ask to join" in html
    assert "/account/sign-in?next=/organisations/eastside-food-bank/join" in html

    outsider = make_user()
    auth.login(outsider)
    assert f'href="/organisations/{org.slug}/join"' in client.get(url).text

    link = add_link(org, outsider)
    html = client.get(url).text
    assert f"You asked to join on {link.updated_at.day} " in html
    assert f'href="/organisations/{org.slug}/join"' not in html


def test_profile_page_stays_within_its_query_budget(
    client, auth, make_user, make_organisation, make_partnership, count_queries
):
    admin = make_user()
    org = make_organisation(admin=admin, members=[make_user() for _ in range(20)])
    for n in range(5):
        make_partnership(f"Partnership {n}", members=[org])
    for viewer in (None, make_user(), admin):
        if viewer is not None:
            auth.login(viewer)
        with count_queries() as log:
            response = client.get(f"/organisations/{org.slug}/")
        assert response.status_code == 200
        assert response.text.count("Partnership ") >= 5
        assert log.count <= 10, log.statements


def test_unknown_organisation_is_not_found(client):
    assert client.get("/organisations/no-such-group/").status_code == 404
    assert client.get("/organisations/999/").status_code == 404


# --- Asking to join, and admins deciding --------------------------------------------


def test_join_request_is_emailed_to_admins_and_approval_lets_the_person_in(
    client, auth, make_user, make_organisation, outbox
):
    admin = make_user("Alice Admin", "alice@example.org")
    other_admin = make_user("Ali Second", "ali@example.org")
    org = make_organisation(admin=admin)
    add_link(org, other_admin, status=RequestStatus.ACTIVE, role=MemberRole.ADMIN)
    asker = make_user("Bob Asker", "bob@example.org")

    auth.login(asker)
    join_url = f"/organisations/{org.slug}/join"
    response = client.submit(join_url, {"job_title": "Volunteer driver",
                                        "message": "I drive the van on Tuesdays."})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/organisations/{org.slug}/"
    assert "You have asked to join" in client.get(response.headers["Location"]).text
    link = link_of(org, asker)
    assert link.status is RequestStatus.PENDING
    assert link.job_title == "Volunteer driver"

    for who in (admin, other_admin):
        [email] = outbox(to=who.email)
        assert email.subject == "Bob Asker has asked to join Eastside Food Bank"
        assert "I drive the van on Tuesdays." in email.body
        assert "Volunteer driver" in email.body
    assert outbox(to=asker.email) == []

    auth.login(admin)
    members_url = link_in(outbox(to=admin.email)[0])
    assert members_url == f"/organisations/{org.slug}/members"
    page = client.get(members_url).text
    assert "Bob Asker" in page and "bob@example.org" in page
    assert "I drive the van on Tuesdays." in page

    approved = client.submit(f"{members_url}/{link.id}/approve", page=members_url)
    assert approved.status_code == 303
    assert approved.headers["Location"] == members_url
    assert "Bob Asker is now a member" in client.get(members_url).text
    assert link_of(org, asker).status is RequestStatus.ACTIVE
    [decided] = outbox(to=asker.email)
    assert "You are now a member of Eastside Food Bank" in decided.body

    auth.login(asker)
    members_page = client.get(members_url)
    assert members_page.status_code == 200
    assert "Alice Admin" in members_page.text
    assert "Approve" not in members_page.text


def test_asking_twice_is_refused_clearly_and_nothing_is_written_twice(
    client, auth, make_user, make_organisation, outbox
):
    admin = make_user()
    org = make_organisation(admin=admin)
    asker = make_user()
    auth.login(asker)
    join_url = f"/organisations/{org.slug}/join"
    client.submit(join_url, {"job_title": "", "message": ""})

    again = client.get(join_url)
    assert again.status_code == 303
    assert "You have already asked to join" in client.get(again.headers["Location"]).text

    posted = client.submit(join_url, {"message": "Me again"}, page="/account/profile")
    assert posted.status_code == 303
    assert "already asked to join" in client.get(posted.headers["Location"]).text
    db.session.expire_all()
    assert db.session.scalar(
        select(func.count(OrganisationMember.id)).where(OrganisationMember.user_id == asker.id)
    ) == 1
    assert len(outbox(to=admin.email)) == 1


def test_members_are_not_offered_to_join_again(client, auth, make_user, make_organisation):
    member = make_user()
    org = make_organisation(members=[member])
    auth.login(member)
    response = client.get(f"/organisations/{org.slug}/join")
    assert response.status_code == 303
    assert "You are already a member" in client.get(response.headers["Location"]).text


def test_join_form_bad_input_keeps_what_was_typed(client, auth, make_user, make_organisation):
    org = make_organisation(admin=make_user())
    auth.login(make_user())

    response = client.submit(f"/organisations/{org.slug}/join",
                             {"job_title": "Treasurer", "message": "m" * 501})

    assert response.status_code == 422
    assert "Your message must be 500 characters or fewer" in response.text
    assert 'value="Treasurer"' in response.text
    assert "m" * 501 in response.text
    assert db.session.scalar(select(func.count(OrganisationMember.id))) == 1


def test_unconfirmed_account_cannot_ask_to_join(client, auth, make_user, make_organisation):
    org = make_organisation(admin=make_user())
    auth.login(make_user(confirmed=False))
    response = client.get(f"/organisations/{org.slug}/join")
    assert response.status_code == 403
    assert "Confirm your email address first" in response.text
    assert is_sign_in_redirect(_anon_get(client, f"/organisations/{org.slug}/join"))


def _anon_get(client: Any, url: str) -> Any:
    with client.session_transaction() as session:
        session.clear()
    return client.get(url)


def test_decline_with_reason_emails_the_person_and_shows_it_in_their_account(
    client, auth, make_user, make_organisation, outbox
):
    admin = make_user("Alice Admin")
    org = make_organisation(admin=admin)
    asker = make_user("Bob Asker", "bob@example.org")
    link = add_link(org, asker, message="Hello")
    auth.login(admin)
    decline_url = f"/organisations/{org.slug}/members/{link.id}/decline"

    page = client.get(decline_url)
    assert page.status_code == 200
    assert "Decline Bob Asker" in page.text

    response = client.submit(decline_url, {"reason": "We only take staff from our Eastside site."})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/organisations/{org.slug}/members"
    link = link_of(org, asker)
    assert link.status is RequestStatus.DECLINED
    assert link.decline_reason == "We only take staff from our Eastside site."
    assert link.decided_by_id == admin.id

    [email] = outbox(to=asker.email)
    assert "We only take staff from our Eastside site." in email.body
    assert link_in(email) == "/organisations/mine"

    auth.login(asker)
    mine = client.get("/organisations/mine").text
    assert "Declined requests" in mine
    assert "We only take staff from our Eastside site." in mine
    # and they may ask again
    assert f'href="/organisations/{org.slug}/join"' in mine
    assert client.get(f"/organisations/{org.slug}/join").status_code == 200


def test_decline_without_a_reason_is_refused(client, auth, make_user, make_organisation, outbox):
    admin = make_user()
    org = make_organisation(admin=admin)
    asker = make_user()
    link = add_link(org, asker)
    auth.login(admin)

    response = client.submit(f"/organisations/{org.slug}/members/{link.id}/decline",
                             {"reason": "   "})

    assert response.status_code == 422
    assert "Enter a reason for declining" in response.text
    assert link_of(org, asker).status is RequestStatus.PENDING
    assert outbox(to=asker.email) == []


@pytest.mark.parametrize("status", [RequestStatus.DECLINED, RequestStatus.ACTIVE])
def test_acting_on_a_request_already_decided_is_a_conflict(
    client, auth, make_user, make_organisation, outbox, status
):
    admin = make_user()
    org = make_organisation(admin=admin)
    asker = make_user()
    link = add_link(org, asker, status=status, decline_reason="Earlier reason"
                    if status is RequestStatus.DECLINED else "")
    auth.login(admin)
    members_url = f"/organisations/{org.slug}/members"

    approve = client.submit(f"{members_url}/{link.id}/approve", page=members_url)
    assert approve.status_code == 409
    assert "already been decided" in approve.text

    decline_page = client.get(f"{members_url}/{link.id}/decline")
    assert decline_page.status_code == 409
    decline = client.submit(f"{members_url}/{link.id}/decline", {"reason": "No"},
                            page=members_url)
    assert decline.status_code == 409

    after = link_of(org, asker)
    assert after.status is status
    assert after.decline_reason == ("Earlier reason" if status is RequestStatus.DECLINED else "")
    assert outbox(to=asker.email) == []


# --- Roles, removing and leaving ----------------------------------------------------


def test_admin_promotes_a_member_and_can_then_step_down(
    client, auth, make_user, make_organisation
):
    admin = make_user("Alice Admin")
    member = make_user("Bob Member")
    org = make_organisation(admin=admin, members=[member])
    members_url = f"/organisations/{org.slug}/members"
    auth.login(admin)

    bob = link_of(org, member)
    response = client.submit(f"{members_url}/{bob.id}/make-admin", page=members_url)
    assert response.status_code == 303
    assert link_of(org, member).role is MemberRole.ADMIN
    assert "Bob Member is now an admin" in client.get(members_url).text

    alice = link_of(org, admin)
    response = client.submit(f"{members_url}/{alice.id}/remove-admin", page=members_url)
    assert response.status_code == 303
    assert link_of(org, admin).role is MemberRole.MEMBER


def test_the_last_admin_cannot_be_demoted(client, auth, make_user, make_organisation):
    admin = make_user()
    org = make_organisation(admin=admin, members=[make_user()])
    members_url = f"/organisations/{org.slug}/members"
    auth.login(admin)
    alice = link_of(org, admin)

    response = client.submit(f"{members_url}/{alice.id}/remove-admin", page=members_url)

    assert response.status_code == 422
    assert "An organisation needs at least one admin" in response.text
    assert link_of(org, admin).role is MemberRole.ADMIN


def test_admin_removes_a_member(client, auth, make_user, make_organisation):
    admin = make_user()
    member = make_user("Bob Member")
    org = make_organisation(admin=admin, members=[member])
    members_url = f"/organisations/{org.slug}/members"
    auth.login(admin)

    response = client.submit(f"{members_url}/{link_of(org, member).id}/remove", page=members_url)

    assert response.status_code == 303
    assert link_of(org, member).status is RequestStatus.LEFT
    assert "Bob Member has been removed" in client.get(members_url).text
    auth.login(member)
    assert client.get(members_url).status_code == 403


def test_member_leaves_but_the_last_admin_must_hand_over_first(
    client, auth, make_user, make_organisation
):
    admin = make_user()
    member = make_user()
    org = make_organisation(admin=admin, members=[member])
    show_url = f"/organisations/{org.slug}/"
    leave_url = f"/organisations/{org.slug}/leave"

    auth.login(admin)
    refused = client.submit(leave_url, page=show_url)
    assert refused.status_code == 422
    assert "An organisation needs at least one admin" in refused.text
    assert link_of(org, admin).status is RequestStatus.ACTIVE

    auth.login(member)
    left = client.submit(leave_url, page=show_url)
    assert left.status_code == 303
    assert left.headers["Location"] == "/organisations/mine"
    assert link_of(org, member).status is RequestStatus.LEFT

    auth.login(admin)  # now the only member, so may leave
    assert client.submit(leave_url, page=show_url).status_code == 303
    assert link_of(org, admin).status is RequestStatus.LEFT


def test_non_member_cannot_leave(client, auth, make_user, make_organisation):
    org = make_organisation(admin=make_user())
    auth.login(make_user())
    response = client.submit(f"/organisations/{org.slug}/leave", page="/account/profile")
    assert response.status_code == 403


# --- Who may do what ----------------------------------------------------------------


@pytest.fixture
def cast(make_user, make_organisation):
    """An organisation with an admin, a member and a pending request; and outsiders."""
    admin = make_user("Alice Admin")
    member = make_user("Bob Member")
    org = make_organisation(admin=admin, members=[member])
    asker = make_user("Carol Asker")
    request_link = add_link(org, asker)
    other_admin = make_user("Erin Elsewhere")
    make_organisation("Westside Youth Club", admin=other_admin)
    return {
        "org": org, "admin": admin, "member": member, "asker": asker,
        "request": request_link, "member_link": link_of(org, member),
        "outsider": make_user("Dan Outsider"), "other_admin": other_admin,
    }


def _urls(cast: dict[str, Any]) -> dict[str, str]:
    base = f"/organisations/{cast['org'].slug}"
    return {
        "edit": f"{base}/edit",
        "members": f"{base}/members",
        "decline": f"{base}/members/{cast['request'].id}/decline",
        "approve": f"{base}/members/{cast['request'].id}/approve",
        "make-admin": f"{base}/members/{cast['member_link'].id}/make-admin",
        "remove-admin": f"{base}/members/{cast['member_link'].id}/remove-admin",
        "remove": f"{base}/members/{cast['member_link'].id}/remove",
    }


GET_PAGES = ["edit", "members", "decline"]
POST_ACTIONS = ["approve", "make-admin", "remove-admin", "remove", "edit", "decline"]


@pytest.mark.parametrize("page", GET_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, cast, page):
    assert is_sign_in_redirect(client.get(_urls(cast)[page]))


@pytest.mark.parametrize("action", POST_ACTIONS)
def test_anonymous_actions_are_sent_to_sign_in(client, cast, action):
    response = client.submit(_urls(cast)[action], {"reason": "x"}, page="/account/sign-in")
    assert is_sign_in_redirect(response)
    assert link_of(cast["org"], cast["asker"]).status is RequestStatus.PENDING


@pytest.mark.parametrize("who", ["outsider", "other_admin", "member", "asker"])
@pytest.mark.parametrize("page", GET_PAGES)
def test_people_without_the_right_get_403_on_admin_pages(client, auth, cast, who, page):
    auth.login(cast[who])
    response = client.get(_urls(cast)[page])
    if page == "members" and who == "member":
        assert response.status_code == 200  # colleagues see each other
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("who", ["outsider", "other_admin", "member"])
@pytest.mark.parametrize("action", POST_ACTIONS)
def test_people_without_the_right_cannot_act(client, auth, cast, who, action):
    auth.login(cast[who])
    response = client.submit(_urls(cast)[action], {**org_form(name="Hijacked"), "reason": "x"},
                             page="/account/profile")
    assert response.status_code == 403
    db.session.expire_all()
    assert link_of(cast["org"], cast["asker"]).status is RequestStatus.PENDING
    assert link_of(cast["org"], cast["member"]).role is MemberRole.MEMBER
    assert link_of(cast["org"], cast["member"]).status is RequestStatus.ACTIVE
    assert db.session.get(Organisation, cast["org"].id).name == "Eastside Food Bank"


def test_members_page_shows_requests_only_to_admins(client, auth, cast):
    url = _urls(cast)["members"]
    auth.login(cast["member"])
    html = client.get(url).text
    assert "Alice Admin" in html and "Bob Member" in html
    assert "Carol Asker" not in html and "Requests to join" not in html

    auth.login(cast["admin"])
    html = client.get(url).text
    assert "Carol Asker" in html and "Requests to join" in html


def test_site_admin_can_manage_members(client, auth, cast, make_user):
    auth.login(make_user(site_admin=True))
    members_url = _urls(cast)["members"]
    assert client.get(members_url).status_code == 200
    response = client.submit(_urls(cast)["approve"], page=members_url)
    assert response.status_code == 303
    assert link_of(cast["org"], cast["asker"]).status is RequestStatus.ACTIVE


def test_a_link_from_another_organisation_is_not_found(client, auth, cast, make_user):
    other = db.session.scalar(
        select(Organisation).where(Organisation.slug == "westside-youth-club")
    )
    stranger = make_user()
    link = add_link(other, stranger)
    auth.login(cast["admin"])
    members_url = _urls(cast)["members"]
    response = client.submit(f"{members_url}/{link.id}/approve", page=members_url)
    assert response.status_code == 404
    assert link_of(other, stranger).status is RequestStatus.PENDING


def test_members_page_query_budget(client, auth, make_user, make_organisation, count_queries):
    admin = make_user()
    org = make_organisation(admin=admin, members=[make_user() for _ in range(15)])
    for _ in range(10):
        add_link(org, make_user())
    auth.login(admin)
    with count_queries() as log:
        response = client.get(f"/organisations/{org.slug}/members")
    assert response.status_code == 200
    assert response.text.count("Approve") >= 10
    assert log.count <= 8, log.statements


# --- Your organisations ---------------------------------------------------------------


def test_your_organisations_shows_roles_requests_and_partnership_decisions(
    client, auth, make_user, make_organisation, make_partnership, count_queries
):
    me = make_user()
    mine_admin = make_organisation("Eastside Food Bank", admin=me)
    make_organisation("Northbridge Council", org_type=OrgType.LOCAL_AUTHORITY, members=[me])
    pending_org = make_organisation("St Mary Church", org_type=OrgType.FAITH_GROUP)
    add_link(pending_org, me)
    declined_org = make_organisation("Westside Youth Club")
    add_link(declined_org, me, status=RequestStatus.DECLINED, decided_at=utcnow(),
             decline_reason="Staff only, sorry.")
    accepted = make_partnership("Northbridge Together", members=[mine_admin])
    refused = make_partnership("Southside Alliance")
    waiting = make_partnership("Riverside Forum")
    db.session.add_all([
        PartnershipMember(partnership_id=refused.id, organisation_id=mine_admin.id,
                          status=RequestStatus.DECLINED, requested_at=utcnow(),
                          decided_at=utcnow(), decline_reason="Outside our area."),
        PartnershipMember(partnership_id=waiting.id, organisation_id=mine_admin.id,
                          status=RequestStatus.PENDING, requested_at=utcnow()),
    ])
    db.session.commit()
    auth.login(me)

    with count_queries() as log:
        response = client.get("/organisations/mine")
    assert log.count <= 6, log.statements
    html = response.text
    assert response.status_code == 200
    assert "Eastside Food Bank" in html and "Northbridge Council" in html
    assert "Admin" in html
    assert "St Mary Church" in html and "you asked to join on" in html
    assert "Staff only, sorry." in html
    assert accepted.name in html and waiting.name in html and refused.name in html
    assert "Outside our area." in html
    assert "Waiting for a decision" in html
    assert 'href="/organisations/new"' in html


def test_your_organisations_needs_sign_in(client):
    assert is_sign_in_redirect(client.get("/organisations/mine"))
