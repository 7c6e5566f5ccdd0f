"""Partnerships: the public list and page, asking to join, officers deciding, editing."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from partnerships.audit import AuditEvent
from partnerships.extensions import db
from partnerships.organisations.models import (
    SMALL_BANDS,
    IncomeBand,
    MemberRole,
    Organisation,
    OrganisationMember,
    OrgType,
    RequestStatus,
)
from partnerships.partnership import services
from partnerships.partnership.models import Partnership, PartnershipMember, Principle
from tests.conftest import link_in

SIGN_IN = "/account/sign-in"


def _member_rows(partnership_id: int) -> list[PartnershipMember]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(PartnershipMember).where(PartnershipMember.partnership_id == partnership_id)
        )
    )


def _audit_count() -> int:
    return db.session.scalar(select(func.count(AuditEvent.id))) or 0


# --- The public list ---------------------------------------------------------------


def test_list_shows_name_place_description_principles_and_member_count(
    client, make_partnership, make_organisation
):
    orgs = [make_organisation(f"Member {n}") for n in range(3)]
    make_organisation("Waiting Group")
    make_partnership(
        "Northbridge Together", place="Northbridge", members=orgs,
        description="Councils and **community groups** working together.",
        principles=[Principle.TRANSPARENCY, Principle.PARTICIPATION],
    )
    make_partnership("Eastshire Health", place="Eastshire")

    response = client.get("/partnerships/")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Northbridge Together" in page
    assert 'href="/partnerships/northbridge-together/"' in page
    assert "Northbridge · 3 member organisations" in page
    assert "Eastshire · 0 member organisations" in page
    assert "Councils and community groups working together." in page
    assert "Participation and inclusion, Transparency and data" in page


def test_list_with_30_partnerships_stays_within_query_budget(
    client, make_partnership, make_organisation, count_queries
):
    orgs = [make_organisation(f"Org {n}") for n in range(3)]
    for n in range(30):
        make_partnership(f"Partnership {n:02d}", members=orgs,
                         principles=[Principle.PARTNERSHIP, Principle.TRANSPARENCY])

    with count_queries() as log:
        response = client.get("/partnerships/")

    assert response.status_code == 200
    assert response.get_data(as_text=True).count("3 member organisations") == 30
    assert log.count <= 4, log.statements


def test_home_page_links_the_first_six_partnerships_by_name_in_one_query(
    client, make_partnership, count_queries
):
    for name in ["Westbridge", "eastbridge", "Northbridge", "Southbridge", "Upbridge",
                 "Downbridge", "Midbridge"]:
        make_partnership(f"{name} Together", place=name,
                         description="A long description the home page does not show.")
    with count_queries() as log:
        page = client.get("/").get_data(as_text=True)
    shown = re.findall(r'href="/partnerships/([a-z-]+)/"', page)
    assert shown == ["downbridge-together", "eastbridge-together", "midbridge-together",
                     "northbridge-together", "southbridge-together", "upbridge-together"]
    assert "Westbridge" not in page and "eastbridge Together" in page
    assert log.count == 2, log.statements  # and the site revision (pagecache.py)


def test_list_says_when_there_are_no_partnerships(client):
    response = client.get("/partnerships/")
    assert "There are no partnerships yet." in response.get_data(as_text=True)


# --- The public page ---------------------------------------------------------------


def test_page_shows_details_principles_officers_and_members_by_sector(
    client, make_user, make_partnership, make_organisation
):
    officer = make_user("Olive Officer", "olive.officer@council.example")
    council = make_organisation("Northbridge Council", org_type=OrgType.LOCAL_AUTHORITY,
                                income_band=IncomeBand.OVER_100M)
    food_bank = make_organisation("Eastside Food Bank", org_type=OrgType.COMMUNITY_GROUP,
                                  income_band=IncomeBand.UP_TO_10K)
    charity = make_organisation("Big Charity", org_type=OrgType.CHARITY,
                                income_band=IncomeBand.UP_TO_10M)
    shop = make_organisation("Corner Shop Ltd", org_type=OrgType.BUSINESS,
                             income_band=IncomeBand.NOT_SAID)
    make_partnership(
        "Northbridge Together", place="Northbridge", officers=[officer],
        members=[council, food_bank, charity, shop],
        description="## How we work\n\nWe meet **monthly**.",
        principles=[Principle.RECOGNITION, Principle.TRANSPARENCY],
    )

    response = client.get("/partnerships/northbridge-together/")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1 class=\"govuk-heading-l\">Northbridge Together</h1>" in page
    assert "<strong>monthly</strong>" in page
    assert "Recognition and respect" in page
    assert Principle.TRANSPARENCY.hint in page
    assert "Partnership and collaboration" not in page
    assert "Olive Officer" in page and "Partnership officer" in page
    assert "olive.officer@council.example" not in page
    assert "Public sector (1)" in page
    assert "Voluntary, community and social enterprise (VCSE) (2)" in page
    assert "Other organisations (1)" in page
    assert "Unincorporated community group" in page
    assert page.count(">\n  Small\n<") == 1  # only the food bank is small
    # No officer-only links and no join link for the public.
    assert "/requests" not in page
    assert "/edit" not in page
    assert "Sign in to ask for it to join" in page


def test_page_shows_contact_email_only_when_set(client, make_partnership):
    partnership = make_partnership()
    assert "Contact:" not in client.get("/partnerships/northbridge-together/").get_data(
        as_text=True
    )
    partnership.contact_email = "hello@northbridge.example"
    db.session.commit()
    page = client.get("/partnerships/northbridge-together/").get_data(as_text=True)
    assert 'href="mailto:hello@northbridge.example"' in page


def test_page_description_is_sanitised(client, make_partnership):
    make_partnership(description="<script>alert(1)</script>\n\n[x](javascript:alert(1))")
    page = client.get("/partnerships/northbridge-together/").get_data(as_text=True)
    assert "<script>alert" not in page
    assert 'href="javascript:' not in page


def test_unknown_partnership_is_not_found(client):
    assert client.get("/partnerships/nowhere/").status_code == 404


def test_page_with_40_members_and_3_officers_stays_within_query_budget(
    client, auth, make_user, make_partnership, make_organisation, count_queries
):
    officers = [make_user(f"Officer {n}") for n in range(3)]
    types = [OrgType.LOCAL_AUTHORITY, OrgType.CHARITY, OrgType.COMMUNITY_GROUP, OrgType.BUSINESS]
    orgs = [make_organisation(f"Member {n:02d}", org_type=types[n % 4]) for n in range(40)]
    org_admin = make_user("Ada Admin")
    make_organisation("Ada's Group", admin=org_admin)
    make_partnership(officers=officers, members=orgs)
    db.session.expire_all()

    with count_queries() as log:
        response = client.get("/partnerships/northbridge-together/")
    assert response.status_code == 200
    assert "Member 39" in response.get_data(as_text=True)
    assert log.count <= 8, log.statements

    for user in (officers[0], org_admin):
        auth.login(user)
        with count_queries() as log:
            response = client.get("/partnerships/northbridge-together/")
        assert response.status_code == 200
        # 8, plus one for the next meetings (a single query whatever their number).
        assert log.count <= 9, (user.name, log.statements)


def test_page_loads_forum_convenors_only_for_a_signed_in_viewer(
    client, auth, make_user, make_partnership, make_forum, count_queries
):
    """An anonymous viewer convenes no forum, so the page reads no convenor rows; a
    convenor still gets "Create a forum"."""
    partnership = make_partnership()
    convenor = make_user("Carla Convenor")
    for n in range(5):
        make_forum(partnership, f"Forum {n}", convenors=[convenor])
    db.session.expire_all()

    with count_queries() as anonymous:
        page = client.get("/partnerships/northbridge-together/").get_data(as_text=True)
    assert "Forum 4" in page and "Create a forum" not in page
    assert not [s for s in anonymous.statements if "forum_convenors" in s], anonymous.statements
    assert anonymous.count <= 7, anonymous.statements

    auth.login(convenor)
    with count_queries() as signed_in:
        page = client.get("/partnerships/northbridge-together/").get_data(as_text=True)
    assert "Create a forum" in page
    assert signed_in.count <= 10, signed_in.statements


def _many_members(make_partnership, make_organisation, public: int, vcse: int):
    orgs = [make_organisation(f"Council {n:02d}", org_type=OrgType.LOCAL_AUTHORITY,
                              income_band=IncomeBand.OVER_100M) for n in range(public)]
    orgs += [make_organisation(f"Group {n:02d}", org_type=OrgType.COMMUNITY_GROUP,
                               income_band=IncomeBand.UP_TO_10K) for n in range(vcse)]
    return make_partnership(members=orgs)


def test_the_page_lists_the_first_members_of_each_sector_and_counts_them_all(
    client, make_partnership, make_organisation, count_queries
):
    """A partnership with hundreds of members: the page stays the same size, listing
    the first ten of each sector by name, with counts and a link to all of them."""
    _many_members(make_partnership, make_organisation, public=12, vcse=55)
    page = client.get("/partnerships/northbridge-together/").get_data(as_text=True)
    assert "Public sector (12)" in page
    assert "Voluntary, community and social enterprise (VCSE) (55)" in page
    assert "Council 09" in page and "Council 10" not in page
    assert "Group 09" in page and "Group 10" not in page
    assert page.count(">\n  Small\n<") == 10  # the groups listed, all small
    assert ('href="/partnerships/northbridge-together/members?sector=vcse"' in page
            and "See all 55 Voluntary, community and social enterprise (VCSE) members" in page)
    assert 'href="/partnerships/northbridge-together/members"' in page
    assert "All 67 member organisations" in page
    with count_queries() as log:
        client.get("/partnerships/northbridge-together/")
    assert log.count <= 8, log.statements


def _copies_agree() -> None:
    """Every membership's copies (partnership/listing.py) equal its organisation's."""
    from partnerships.partnership import listing

    for member, org in db.session.execute(
            select(PartnershipMember, Organisation)
            .join(Organisation, Organisation.id == PartnershipMember.organisation_id)):
        db.session.refresh(member)
        assert (member.sector, member.is_small, member.sort_name) == (
            listing.sector_key(org.org_type), org.income_band in SMALL_BANDS,
            org.sort_name), org.name


def test_the_page_follows_an_organisation_changing_its_name_type_or_size(
    client, make_user, make_partnership, make_organisation
):
    """Each membership keeps a copy of its organisation's sector, size and sort name
    for the page's counts and order; every change to the organisation moves it, in the
    same transaction, through the service or any other path."""
    from partnerships.organisations import services as organisation_services
    from partnerships.organisations.services import OrganisationDetails

    admin = make_user("Ada Admin")
    partnership = _many_members(make_partnership, make_organisation, public=11, vcse=3)
    mover = make_organisation("Aardvark Trust", org_type=OrgType.CHARITY,
                              income_band=IncomeBand.UP_TO_10K, admin=admin)
    db.session.add(PartnershipMember(partnership_id=partnership.id, organisation_id=mover.id,
                                     status=RequestStatus.ACTIVE))
    db.session.commit()
    _copies_agree()
    page = client.get("/partnerships/northbridge-together/").get_data(as_text=True)
    assert "Voluntary, community and social enterprise (VCSE) (4)" in page
    assert "Aardvark Trust" in page and "Public sector (11)" in page
    assert "Council 09" in page

    organisation_services.update_organisation(admin, mover, OrganisationDetails(
        name="Zebra Council", org_type=OrgType.LOCAL_AUTHORITY,
        income_band=IncomeBand.UP_TO_1M))
    db.session.commit()
    _copies_agree()
    page = client.get("/partnerships/northbridge-together/").get_data(as_text=True)
    assert "Voluntary, community and social enterprise (VCSE) (3)" in page
    assert "Public sector (12)" in page
    assert "Zebra Council" not in page  # public now, and last of twelve by name
    assert "Council 09" in page and "Council 10" not in page
    overview = {group.key: group for group in services.member_overview(partnership)}
    assert (overview["public"].total, overview["public"].small_count) == (12, 0)
    assert (overview["vcse"].total, overview["vcse"].small_count) == (3, 3)

    mover.name = "Abbey Council"  # not through the service: the copy still follows
    mover.income_band = IncomeBand.UP_TO_10K
    db.session.commit()
    _copies_agree()
    page = client.get("/partnerships/northbridge-together/").get_data(as_text=True)
    assert "Abbey Council" in page and "Council 09" not in page
    overview = {group.key: group for group in services.member_overview(partnership)}
    assert (overview["public"].total, overview["public"].small_count) == (12, 1)


def test_the_members_page_lists_every_member_a_page_at_a_time(
    client, make_partnership, make_organisation
):
    _many_members(make_partnership, make_organisation, public=12, vcse=55)
    first = client.get("/partnerships/northbridge-together/members").get_data(as_text=True)
    assert "67 organisations, page 1 of 2" in first
    assert "Council 00" in first and "Group 37" in first and "Group 38" not in first
    second = client.get("/partnerships/northbridge-together/members?page=2").get_data(
        as_text=True)
    assert "Group 38" in second and "Group 54" in second and "Council 00" not in second
    vcse = client.get("/partnerships/northbridge-together/members?sector=vcse").get_data(
        as_text=True)
    assert "55 organisations, page 1 of 2" in vcse and "Council" not in vcse.split("<main")[1]
    public = client.get("/partnerships/northbridge-together/members?sector=public")
    assert "12 organisations." in public.get_data(as_text=True)
    # Nonsense is ignored, and a page past the end shows the last one.
    assert "67 organisations" in client.get(
        "/partnerships/northbridge-together/members?sector=nope").get_data(as_text=True)
    assert "Group 54" in client.get(
        "/partnerships/northbridge-together/members?page=99").get_data(as_text=True)
    assert client.get("/partnerships/nowhere/members").status_code == 404


def test_the_members_page_leaves_out_requests_and_former_members(
    client, make_partnership, make_organisation
):
    partnership = _many_members(make_partnership, make_organisation, public=1, vcse=1)
    for name, status in (("Waiting Group", RequestStatus.PENDING),
                         ("Gone Group", RequestStatus.LEFT)):
        org = make_organisation(name)
        db.session.add(PartnershipMember(partnership_id=partnership.id,
                                         organisation_id=org.id, status=status))
    db.session.commit()
    for url in ("/partnerships/northbridge-together/members",
                "/partnerships/northbridge-together/"):
        page = client.get(url).get_data(as_text=True)
        assert "Council 00" in page and "Group 00" in page
        assert "Waiting Group" not in page and "Gone Group" not in page


def test_officer_sees_links_to_requests_with_pending_count_and_to_edit(
    client, auth, make_user, make_partnership, make_organisation
):
    officer = make_user("Olive Officer")
    partnership = make_partnership(officers=[officer])
    org = make_organisation("Eastside Food Bank")
    db.session.add(PartnershipMember(partnership_id=partnership.id, organisation_id=org.id,
                                     status=RequestStatus.PENDING))
    db.session.commit()
    auth.login(officer)

    page = client.get("/partnerships/northbridge-together/").get_data(as_text=True)

    assert 'href="/partnerships/northbridge-together/requests"' in page
    assert "(1 waiting for a decision)" in page
    assert 'href="/partnerships/northbridge-together/edit"' in page
    assert "Appoint or remove officers" not in page  # site administrators only


def test_site_admin_sees_officer_links_too(client, auth, make_user, make_partnership):
    make_partnership()
    auth.login(make_user(site_admin=True))
    page = client.get("/partnerships/northbridge-together/").get_data(as_text=True)
    assert 'href="/partnerships/northbridge-together/requests"' in page
    assert 'href="/admin/partnerships/northbridge-together/officers"' in page


def test_org_admin_sees_join_link_and_then_when_they_asked(
    client, auth, make_user, make_partnership, make_organisation
):
    admin = make_user("Ada Admin")
    make_organisation("Eastside Food Bank", admin=admin)
    make_partnership(officers=[make_user()])
    auth.login(admin)

    page = client.get("/partnerships/northbridge-together/").get_data(as_text=True)
    assert "Ask for your organisation to join" in page

    client.submit("/partnerships/northbridge-together/join", {"organisation": "1"})

    page = client.get("/partnerships/northbridge-together/").get_data(as_text=True)
    assert "Eastside Food Bank asked on " in page
    assert "Ask for your organisation to join" not in page


def test_plain_member_of_an_organisation_sees_no_join_link(
    client, auth, make_user, make_partnership, make_organisation
):
    colleague = make_user()
    make_organisation("Eastside Food Bank", admin=make_user(), members=[colleague])
    make_partnership()
    auth.login(colleague)
    page = client.get("/partnerships/northbridge-together/").get_data(as_text=True)
    assert "Ask for your organisation to join" not in page


# --- Asking to join, and deciding --------------------------------------------------


def test_membership_journey_request_email_approve_and_listed(
    client, auth, make_user, make_partnership, make_organisation, outbox
):
    officer_a = make_user("Olive Officer", "olive@council.example")
    officer_b = make_user("Omar Officer", "omar@council.example")
    admin = make_user("Ada Admin", "ada@foodbank.example")
    co_admin = make_user("Cal Coadmin", "cal@foodbank.example")
    org = make_organisation("Eastside Food Bank", admin=admin)
    db.session.add(OrganisationMember(organisation_id=org.id, user_id=co_admin.id,
                                      role=MemberRole.ADMIN, status=RequestStatus.ACTIVE))
    db.session.commit()
    partnership = make_partnership(officers=[officer_a, officer_b])

    auth.login(admin)
    response = client.submit(
        "/partnerships/northbridge-together/join",
        {"organisation": str(org.id), "message": "We run a food bank on Tuesdays."},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/partnerships/northbridge-together/"

    [row] = _member_rows(partnership.id)
    assert row.status is RequestStatus.PENDING
    assert row.message == "We run a food bank on Tuesdays."
    assert row.requested_by_id == admin.id
    for address in ("olive@council.example", "omar@council.example"):
        [email] = outbox(to=address)
        assert email.subject == "Eastside Food Bank has asked to join Northbridge Together"
        assert "We run a food bank on Tuesdays." in email.body
        assert link_in(email) == "/partnerships/northbridge-together/requests"

    # Not public while pending.
    auth.logout()
    public = client.get("/partnerships/northbridge-together/").get_data(as_text=True)
    assert "Eastside Food Bank" not in public

    auth.login(officer_a)
    requests_page = client.get("/partnerships/northbridge-together/requests")
    text = requests_page.get_data(as_text=True)
    assert "Eastside Food Bank" in text
    assert "We run a food bank on Tuesdays." in text
    assert "Ada Admin" in text
    assert "Unincorporated community group" in text

    response = client.submit(
        f"/partnerships/northbridge-together/requests/{row.id}/approve", {},
        page="/partnerships/northbridge-together/requests",
    )
    assert response.status_code == 303
    [row] = _member_rows(partnership.id)
    assert row.status is RequestStatus.ACTIVE
    assert row.decided_by_id == officer_a.id
    for address in ("ada@foodbank.example", "cal@foodbank.example"):
        [email] = outbox(to=address)
        assert "Eastside Food Bank is now a member of Northbridge Together" in email.body
        assert link_in(email) == "/partnerships/northbridge-together/"

    auth.logout()
    public = client.get("/partnerships/northbridge-together/").get_data(as_text=True)
    assert "Eastside Food Bank" in public
    assert "We run a food bank on Tuesdays." not in public

    auth.login(admin)
    page = client.get("/partnerships/northbridge-together/").get_data(as_text=True)
    assert "Eastside Food Bank is a member." in page


def test_decline_with_reason_emails_org_admins_and_shows_only_to_them(
    client, auth, make_user, make_partnership, make_organisation, outbox
):
    officer = make_user("Olive Officer")
    admin = make_user("Ada Admin", "ada@foodbank.example")
    org = make_organisation("Eastside Food Bank", admin=admin)
    partnership = make_partnership(officers=[officer])
    auth.login(admin)
    client.submit("/partnerships/northbridge-together/join", {"organisation": str(org.id)})
    [row] = _member_rows(partnership.id)

    auth.login(officer)
    response = client.submit(
        f"/partnerships/northbridge-together/requests/{row.id}/decline",
        {"reason": "This partnership covers Northbridge only; try Eastshire."},
        page="/partnerships/northbridge-together/requests",
    )

    assert response.status_code == 303
    [row] = _member_rows(partnership.id)
    assert row.status is RequestStatus.DECLINED
    assert row.decline_reason == "This partnership covers Northbridge only; try Eastshire."
    [email] = outbox(to="ada@foodbank.example")
    assert "declined" in email.body
    assert "This partnership covers Northbridge only; try Eastshire." in email.body
    history = client.get("/partnerships/northbridge-together/requests").get_data(as_text=True)
    assert "Declined" in history and "try Eastshire" in history

    auth.login(admin)
    page = client.get("/partnerships/northbridge-together/").get_data(as_text=True)
    assert "try Eastshire" in page
    assert "Ask for your organisation to join" in page  # they may ask again

    auth.logout()
    public = client.get("/partnerships/northbridge-together/").get_data(as_text=True)
    assert "try Eastshire" not in public
    assert "Eastside Food Bank" not in public


def test_decline_without_reason_is_refused_and_nothing_written(
    client, auth, make_user, make_partnership, make_organisation, outbox
):
    officer = make_user("Olive Officer", "olive@council.example")
    admin = make_user("Ada Admin", "ada@foodbank.example")
    org = make_organisation("Eastside Food Bank", admin=admin)
    partnership = make_partnership(officers=[officer])
    auth.login(admin)
    client.submit("/partnerships/northbridge-together/join", {"organisation": str(org.id)})
    [row] = _member_rows(partnership.id)
    events = _audit_count()

    auth.login(officer)
    response = client.submit(
        f"/partnerships/northbridge-together/requests/{row.id}/decline", {"reason": "   "},
        page="/partnerships/northbridge-together/requests",
    )

    assert response.status_code == 422
    assert "Enter a reason for declining" in response.get_data(as_text=True)
    [row] = _member_rows(partnership.id)
    assert row.status is RequestStatus.PENDING
    assert outbox(to="ada@foodbank.example") == []
    assert _audit_count() == events


def test_deciding_an_already_decided_request_is_a_conflict(
    client, auth, make_user, make_partnership, make_organisation, outbox
):
    officer = make_user("Olive Officer")
    admin = make_user("Ada Admin", "ada@foodbank.example")
    org = make_organisation("Eastside Food Bank", admin=admin)
    partnership = make_partnership(officers=[officer])
    auth.login(admin)
    client.submit("/partnerships/northbridge-together/join", {"organisation": str(org.id)})
    [row] = _member_rows(partnership.id)
    auth.login(officer)
    url = f"/partnerships/northbridge-together/requests/{row.id}"
    page = "/account/sign-out"  # any page with a form, for the CSRF token
    assert client.submit(f"{url}/approve", {}, page=page).status_code == 303

    again = client.submit(f"{url}/approve", {}, page=page)
    declined = client.submit(f"{url}/decline", {"reason": "Changed our minds"}, page=page)

    assert again.status_code == 409
    assert "already been decided" in again.get_data(as_text=True)
    assert declined.status_code == 409
    [row] = _member_rows(partnership.id)
    assert row.status is RequestStatus.ACTIVE
    assert len(outbox(to="ada@foodbank.example")) == 1


def test_asking_twice_while_pending_explains_and_writes_nothing_twice(
    client, auth, make_user, make_partnership, make_organisation, outbox
):
    officer = make_user("Olive Officer", "olive@council.example")
    admin = make_user("Ada Admin")
    org = make_organisation("Eastside Food Bank", admin=admin)
    partnership = make_partnership(officers=[officer])
    auth.login(admin)
    token_page = "/account/sign-out"  # any page with a form, for the CSRF token
    first = client.submit("/partnerships/northbridge-together/join",
                          {"organisation": str(org.id)}, page=token_page)
    second = client.submit("/partnerships/northbridge-together/join",
                           {"organisation": str(org.id)}, page=token_page)

    assert first.status_code == 303
    assert second.status_code == 409
    assert "Eastside Food Bank has already asked to join" in second.get_data(as_text=True)
    assert len(_member_rows(partnership.id)) == 1
    assert len(outbox(to="olive@council.example")) == 1


def test_join_page_lists_only_organisations_that_can_still_ask(
    client, auth, make_user, make_partnership, make_organisation
):
    admin = make_user()
    member_org = make_organisation("Already Member", admin=admin)
    make_organisation("Can Ask", admin=admin)
    make_partnership(members=[member_org])
    auth.login(admin)

    page = client.get("/partnerships/northbridge-together/join").get_data(as_text=True)

    assert 'name="organisation"' in page
    assert page.count('name="organisation"') == 1
    assert "Can Ask" in page
    assert "Already Member: a member" in page
    # The only organisation that can still ask is chosen already.
    assert re.search(r'name="organisation"[^>]*value="\d+"[^>]*checked', page) or re.search(
        r'checked[^>]*name="organisation"', page), "the only organisation is not preselected"


def test_join_page_leaves_the_choice_open_with_two_organisations(
    client, auth, make_user, make_partnership, make_organisation
):
    admin = make_user()
    make_organisation("First Group", admin=admin)
    make_organisation("Second Group", admin=admin)
    make_partnership()
    auth.login(admin)
    page = client.get("/partnerships/northbridge-together/join").get_data(as_text=True)
    assert page.count('name="organisation"') == 2
    assert "checked" not in page


def test_join_without_choosing_an_organisation_keeps_the_message(
    client, auth, make_user, make_partnership, make_organisation
):
    admin = make_user()
    make_organisation("Eastside Food Bank", admin=admin)
    partnership = make_partnership()
    auth.login(admin)

    response = client.submit("/partnerships/northbridge-together/join",
                             {"message": "Hello officers"})

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Select the organisation that wants to join" in page
    assert "Hello officers</textarea>" in page
    assert _member_rows(partnership.id) == []


def test_join_message_over_1000_characters_is_refused(
    client, auth, make_user, make_partnership, make_organisation
):
    admin = make_user()
    org = make_organisation("Eastside Food Bank", admin=admin)
    partnership = make_partnership()
    auth.login(admin)

    response = client.submit("/partnerships/northbridge-together/join",
                             {"organisation": str(org.id), "message": "x" * 1001})

    assert response.status_code == 422
    assert "must be 1000 characters or fewer" in response.get_data(as_text=True)
    assert _member_rows(partnership.id) == []


def test_join_for_an_organisation_you_do_not_administer_is_refused(
    client, auth, make_user, make_partnership, make_organisation
):
    admin = make_user()
    make_organisation("Mine", admin=admin)
    other = make_organisation("Someone Else's", admin=make_user())
    partnership = make_partnership()
    auth.login(admin)

    response = client.submit("/partnerships/northbridge-together/join",
                             {"organisation": str(other.id)})

    assert response.status_code == 422
    assert _member_rows(partnership.id) == []


def test_request_to_partnership_without_officers_goes_to_site_admins(
    client, auth, make_user, make_partnership, make_organisation, outbox
):
    make_user("Site Admin", "root@example.org", site_admin=True)
    admin = make_user()
    org = make_organisation("Eastside Food Bank", admin=admin)
    make_partnership()
    auth.login(admin)
    client.submit("/partnerships/northbridge-together/join", {"organisation": str(org.id)})
    [email] = outbox(to="root@example.org")
    assert "Eastside Food Bank has asked to join" in email.subject


# --- Permission boundaries ---------------------------------------------------------


def test_join_needs_sign_in(client, make_partnership):
    make_partnership()
    response = client.get("/partnerships/northbridge-together/join")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(SIGN_IN)


def test_org_member_who_is_not_an_admin_cannot_ask_to_join(
    client, auth, make_user, make_partnership, make_organisation
):
    colleague = make_user()
    org = make_organisation("Eastside Food Bank", admin=make_user(), members=[colleague])
    partnership = make_partnership()
    auth.login(colleague)

    page = client.get("/partnerships/northbridge-together/join")
    post = client.submit("/partnerships/northbridge-together/join",
                         {"organisation": str(org.id)}, page="/account/sign-out")

    assert page.status_code == 403
    assert "You need to be an admin of your organisation" in page.get_data(as_text=True)
    assert post.status_code == 403
    assert _member_rows(partnership.id) == []


def _pending_request(make_user, make_partnership, make_organisation, **kwargs):
    partnership = make_partnership(**kwargs)
    org = make_organisation("Eastside Food Bank", admin=make_user())
    member = PartnershipMember(partnership_id=partnership.id, organisation_id=org.id,
                               status=RequestStatus.PENDING)
    db.session.add(member)
    db.session.commit()
    return partnership, member


OFFICER_ROUTES = [
    ("GET", "/partnerships/northbridge-together/requests"),
    ("GET", "/partnerships/northbridge-together/edit"),
    ("POST", "/partnerships/northbridge-together/edit"),
    ("GET", "/partnerships/northbridge-together/requests/{id}/decline"),
    ("POST", "/partnerships/northbridge-together/requests/{id}/decline"),
    ("POST", "/partnerships/northbridge-together/requests/{id}/approve"),
]


def _call(client, method, url, token_page):
    if method == "GET":
        return client.get(url)
    return client.submit(url, {"reason": "No", "name": "Hijacked", "place": "X"},
                         page=token_page)


def test_officer_routes_send_anonymous_visitors_to_sign_in(
    client, make_user, make_partnership, make_organisation
):
    _, member = _pending_request(make_user, make_partnership, make_organisation)
    for method, url in OFFICER_ROUTES:
        response = _call(client, method, url.format(id=member.id), SIGN_IN)
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith(SIGN_IN), (method, url)


def test_officer_routes_refuse_people_without_the_role(
    client, auth, make_user, make_partnership, make_organisation
):
    partnership, member = _pending_request(make_user, make_partnership, make_organisation)
    other_officer = make_user("Officer Elsewhere")
    make_partnership("Eastshire Health", officers=[other_officer])
    plain = make_user("Plain Person")
    org_admin = db.session.scalar(
        select(OrganisationMember)
        .where(OrganisationMember.organisation_id == member.organisation_id)
    ).user
    for user in (plain, other_officer, org_admin):
        auth.login(user)
        for method, url in OFFICER_ROUTES:
            response = _call(client, method, url.format(id=member.id), "/account/sign-out")
            assert response.status_code == 403, (user.name, method, url)
    [row] = _member_rows(partnership.id)
    assert row.status is RequestStatus.PENDING
    db.session.expire_all()
    assert db.session.get(Partnership, partnership.id).name == "Northbridge Together"


def test_officer_cannot_decide_a_request_of_another_partnership(
    client, auth, make_user, make_partnership, make_organisation
):
    officer = make_user()
    make_partnership("Eastshire Health", officers=[officer])
    _, member = _pending_request(make_user, make_partnership, make_organisation)
    auth.login(officer)
    # Through their own partnership's address: the request is not theirs to find.
    response = client.submit(f"/partnerships/eastshire-health/requests/{member.id}/approve",
                             {}, page="/account/sign-out")
    assert response.status_code == 404


def test_site_admin_can_see_and_decide_requests(
    client, auth, make_user, make_partnership, make_organisation
):
    partnership, member = _pending_request(make_user, make_partnership, make_organisation)
    auth.login(make_user(site_admin=True))
    assert client.get("/partnerships/northbridge-together/requests").status_code == 200
    response = client.submit(
        f"/partnerships/northbridge-together/requests/{member.id}/approve", {},
        page="/partnerships/northbridge-together/requests",
    )
    assert response.status_code == 303
    [row] = _member_rows(partnership.id)
    assert row.status is RequestStatus.ACTIVE


# --- Editing -----------------------------------------------------------------------


def _edit_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Northbridge Together",
        "place": "Northbridge and district",
        "description": "We meet **monthly**.",
        "principles": ["partnership", "transparency"],
        "contact_email": "hello@northbridge.example",
    }
    data.update(overrides)
    return data


def test_officer_edits_the_details_but_not_the_web_address(
    client, auth, make_user, make_partnership
):
    officer = make_user()
    partnership = make_partnership(officers=[officer])
    auth.login(officer)

    form = client.get("/partnerships/northbridge-together/edit").get_data(as_text=True)
    assert 'name="slug"' not in form
    response = client.submit("/partnerships/northbridge-together/edit",
                             _edit_data(slug="stolen-address"))

    assert response.status_code == 303
    db.session.expire_all()
    saved = db.session.get(Partnership, partnership.id)
    assert saved.slug == "northbridge-together"
    assert saved.place == "Northbridge and district"
    assert saved.contact_email == "hello@northbridge.example"
    assert saved.principles == [Principle.PARTNERSHIP, Principle.TRANSPARENCY]


def test_site_admin_can_change_the_web_address(client, auth, make_user, make_partnership):
    partnership = make_partnership()
    auth.login(make_user(site_admin=True))
    response = client.submit("/partnerships/northbridge-together/edit",
                             _edit_data(slug="northbridge"))
    assert response.status_code == 303
    assert response.headers["Location"] == "/partnerships/northbridge/"
    db.session.expire_all()
    assert db.session.get(Partnership, partnership.id).slug == "northbridge"


def test_edit_with_bad_input_keeps_what_was_typed(client, auth, make_user, make_partnership):
    officer = make_user()
    partnership = make_partnership(officers=[officer])
    auth.login(officer)

    response = client.submit("/partnerships/northbridge-together/edit",
                             _edit_data(name="", place="Somewhere new",
                                        contact_email="not-an-email"))

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter the partnership&#39;s name" in page or "Enter the partnership's name" in page
    assert "Enter a contact email address in the correct format" in page
    assert 'value="Somewhere new"' in page
    db.session.expire_all()
    assert db.session.get(Partnership, partnership.id).place == "Northbridge"


def test_partnership_page_links_to_its_forums_mous_and_secondments(client, make_partnership):
    partnership = make_partnership(slug="northbridge-together")
    page = client.get("/partnerships/northbridge-together/").get_data(as_text=True)
    assert f"/partnerships/{partnership.slug}/mous/" in page
    assert "/opportunities/?partnership=northbridge-together" in page
    assert "/opportunities/figures?partnership=northbridge-together" in page
    assert 'href="/opportunities/"' in page  # "Secondments" in the menu
