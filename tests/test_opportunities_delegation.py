"""Allowed posters: an organisation's admins let named members (say, the HR lead) post
and manage its opportunities, and withdraw that again. The right lasts only while the
person is an active member, so leaving the organisation ends it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from partnerships.audit import AuditEvent
from partnerships.errors import PermissionDenied
from partnerships.extensions import db
from partnerships.opportunities import posters as rules
from partnerships.opportunities.models import (
    Application,
    ManagerDecision,
    Opportunity,
    OpportunityKind,
    OpportunityPoster,
    OpportunityStatus,
)
from partnerships.organisations.models import MemberRole, OrganisationMember, RequestStatus
from tests.conftest import link_in
from tests.test_opportunities import (
    SIGN_IN,
    TOKEN_PAGE,
    World,
    count,
    make_opportunity,
    opportunity_form,
)

PAGE = "/organisations/northbridge-cvs/opportunity-posters"


def _allow(world: World, user: Any = None) -> OpportunityPoster:
    """Val (a CVS member, not an admin) allowed to post, written straight to the database."""
    poster = OpportunityPoster(organisation_id=world.cvs.id,
                               user_id=(user or world.cvs_staff).id,
                               granted_by_id=world.cvs_admin.id)
    db.session.add(poster)
    db.session.commit()
    return poster


def _actions(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- Allowing and withdrawing ---------------------------------------------------------------


def test_an_admin_allows_a_member_who_is_emailed_and_can_then_post(world, client, auth,
                                                                   outbox):
    auth.login(world.cvs_admin)
    html = client.get("/organisations/northbridge-cvs/").get_data(as_text=True)
    assert f'href="{PAGE}"' in html  # linked from the organisation's page
    assert f'href="{PAGE}"' in client.get("/my/opportunities").get_data(as_text=True)
    page = client.get(PAGE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Val Volunteer" in html
    assert "Cyril CVS Admin</option>" not in html  # admins can post already

    response = client.submit(PAGE, {"user_id": str(world.cvs_staff.id)})
    assert response.status_code == 303 and response.headers["Location"] == PAGE
    poster = db.session.scalar(select(OpportunityPoster))
    assert (poster.organisation_id, poster.user_id, poster.granted_by_id) == (
        world.cvs.id, world.cvs_staff.id, world.cvs_admin.id)
    [event] = _actions("organisation.opportunity_poster_allowed")
    assert (event.actor_id, event.subject_type, event.subject_id) == (
        world.cvs_admin.id, "organisation", world.cvs.id)
    assert event.details == {"user_id": world.cvs_staff.id}
    [email] = outbox(world.cvs_staff.email)
    assert "You can now post opportunities for Northbridge CVS" in email.subject
    assert link_in(email) == "/opportunities/new"
    html = client.get(PAGE).get_data(as_text=True)
    assert "Allowed by Cyril CVS Admin" in html
    assert "can now post opportunities for Northbridge CVS" in html  # the flash

    # Val can now offer an opportunity for the CVS, and only for the CVS.
    auth.login(world.cvs_staff)
    html = client.get("/opportunities/new").get_data(as_text=True)
    assert "Northbridge CVS" in html and "Northbridge Council" not in html
    response = client.submit("/opportunities/new", opportunity_form(
        world.cvs, contact_email="val@cvs.example.org"))
    assert response.status_code == 303
    opportunity = db.session.scalar(select(Opportunity))
    assert opportunity.organisation_id == world.cvs.id
    assert opportunity.posted_by_id == world.cvs_staff.id
    page = f"/opportunities/{opportunity.id}/"
    assert client.submit(f"{page}publish", page=page).status_code == 303
    db.session.expire_all()
    assert opportunity.status is OpportunityStatus.OPEN
    assert opportunity.title in client.get("/my/opportunities").get_data(as_text=True)
    # Being allowed to post does not make Val an admin of anything else.
    assert client.get(PAGE).status_code == 403
    assert client.get("/organisations/northbridge-cvs/edit").status_code == 403


def test_an_allowed_poster_manages_every_opportunity_of_the_organisation(world, client, auth):
    _allow(world)
    by_admin = make_opportunity(world.cvs, world.cvs_admin, places=1)
    draft = make_opportunity(world.cvs, world.cvs_admin, title="A draft",
                             status=OpportunityStatus.DRAFT)
    elsewhere = make_opportunity(world.icb, world.icb_admin, title="At the ICB")
    application = Application(opportunity_id=by_admin.id, applicant_id=world.council_staff.id,
                              organisation_id=world.council.id, statement="Please",
                              availability="Mondays", manager_decision=ManagerDecision.APPROVED)
    db.session.add(application)
    db.session.commit()
    auth.login(world.cvs_staff)
    assert client.get(f"/opportunities/{draft.id}/").status_code == 200
    assert client.get(f"/opportunities/{by_admin.id}/edit").status_code == 200
    assert client.get(f"/opportunities/{by_admin.id}/applications").status_code == 200
    url = f"/applications/{application.id}/"
    assert client.submit(f"{url}decision", {"decision": "accept"}, page=url).status_code == 303
    db.session.expire_all()
    assert application.placement is not None
    assert client.get(f"/placements/{application.placement.id}/").status_code == 200
    html = client.get("/my/opportunities").get_data(as_text=True)
    assert by_admin.title in html and "A draft" in html and "At the ICB" not in html
    assert client.get(f"/opportunities/{elsewhere.id}/edit").status_code == 403


@pytest.mark.parametrize("who", ["member", "outsider", "other_admin", "allowed_poster"])
def test_only_the_organisations_admins_choose_who_posts(world, client, auth, outbox, who):
    people = {"member": world.cvs_staff, "outsider": world.outsider,
              "other_admin": world.council_admin, "allowed_poster": world.cvs_staff}
    if who == "allowed_poster":
        _allow(world)
    before = count(OpportunityPoster)
    auth.login(people[who])
    assert client.get(PAGE).status_code == 403
    response = client.submit(PAGE, {"user_id": str(world.cvs_staff.id)}, page=TOKEN_PAGE)
    assert response.status_code == 403
    assert count(OpportunityPoster) == before
    assert outbox(world.cvs_staff.email) == []


def test_anonymous_visitors_are_sent_to_sign_in_and_change_nothing(world, client):
    poster = _allow(world)
    assert client.get(PAGE).headers["Location"].startswith(SIGN_IN)
    for url in (PAGE, f"{PAGE}/{poster.id}/remove"):
        response = client.submit(url, {"user_id": str(world.outsider.id)}, page=SIGN_IN)
        assert response.headers["Location"].startswith(SIGN_IN), url
    assert count(OpportunityPoster) == 1


def test_a_site_admin_may_choose_for_any_organisation(world, client, auth):
    auth.login(world.site_admin)
    response = client.submit(PAGE, {"user_id": str(world.cvs_staff.id)})
    assert response.status_code == 303
    assert count(OpportunityPoster) == 1


def test_the_service_refuses_anyone_but_an_admin(world):
    with pytest.raises(PermissionDenied):
        rules.allow(world.cvs_staff, world.cvs, world.cvs_staff.id)
    with pytest.raises(PermissionDenied):
        rules.withdraw(world.council_admin, world.cvs, _allow(world))


@pytest.mark.parametrize("who, message", [
    ("outsider", "Select a current member of Northbridge CVS"),
    ("council_staff", "Select a current member of Northbridge CVS"),
    ("pending", "Select a current member of Northbridge CVS"),
    ("admin", "is an admin of Northbridge CVS, so they can post opportunities already"),
    ("already", "can already post opportunities for Northbridge CVS"),
    ("blank", "Select the member to allow"),
])
def test_only_a_current_member_who_is_not_allowed_yet_can_be_allowed(
        world, client, auth, outbox, make_user, who, message):
    pending = make_user("Pat Pending", "pat@cvs.example.org")
    db.session.add(OrganisationMember(organisation_id=world.cvs.id, user_id=pending.id,
                                      status=RequestStatus.PENDING))
    db.session.commit()
    if who == "already":
        _allow(world)
    user_id = {"outsider": world.outsider.id, "council_staff": world.council_staff.id,
               "pending": pending.id, "admin": world.cvs_admin.id,
               "already": world.cvs_staff.id, "blank": ""}[who]
    before = count(OpportunityPoster)
    auth.login(world.cvs_admin)
    response = client.submit(PAGE, {"user_id": str(user_id)})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "govuk-error-summary" in html and message in html
    assert count(OpportunityPoster) == before
    assert outbox() == []
    assert _actions("organisation.opportunity_poster_allowed") == []


# --- Losing the right ------------------------------------------------------------------------


def test_a_withdrawn_poster_can_no_longer_post_or_manage_even_what_they_posted(
        world, client, auth, outbox):
    poster = _allow(world)
    theirs = make_opportunity(world.cvs, world.cvs_staff, title="Posted by Val")
    draft = make_opportunity(world.cvs, world.cvs_staff, title="Val's draft",
                             status=OpportunityStatus.DRAFT)
    auth.login(world.cvs_admin)
    response = client.submit(f"{PAGE}/{poster.id}/remove", page=PAGE)
    assert response.status_code == 303 and response.headers["Location"] == PAGE
    assert count(OpportunityPoster) == 0
    [event] = _actions("organisation.opportunity_poster_withdrawn")
    assert event.actor_id == world.cvs_admin.id and event.details == {
        "user_id": world.cvs_staff.id}
    [email] = outbox(world.cvs_staff.email)
    assert "no longer post opportunities for Northbridge CVS" in email.subject
    # The opportunities stay, run by the admins.
    assert client.get(f"/opportunities/{theirs.id}/edit").status_code == 200

    auth.login(world.cvs_staff)
    assert client.get("/opportunities/new").status_code == 403
    assert client.submit("/opportunities/new", opportunity_form(world.cvs),
                         page=TOKEN_PAGE).status_code == 403
    assert client.get(f"/opportunities/{theirs.id}/edit").status_code == 403
    assert client.get(f"/opportunities/{theirs.id}/applications").status_code == 403
    assert client.submit(f"/opportunities/{theirs.id}/close",
                         page=TOKEN_PAGE).status_code == 403
    assert client.get(f"/opportunities/{draft.id}/").status_code == 404
    html = client.get("/my/opportunities").get_data(as_text=True)
    assert "Posted by Val" not in html and "Offer an opportunity" not in html
    db.session.expire_all()
    assert db.session.get(Opportunity, theirs.id).status is OpportunityStatus.OPEN


def test_removing_someone_twice_or_from_another_organisation_is_not_found(world, client,
                                                                          auth):
    poster = _allow(world)
    auth.login(world.council_admin)
    assert client.submit(f"/organisations/northbridge-council/opportunity-posters/"
                         f"{poster.id}/remove", page=TOKEN_PAGE).status_code == 404
    auth.login(world.cvs_admin)
    assert client.submit(f"{PAGE}/{poster.id}/remove", page=PAGE).status_code == 303
    assert client.submit(f"{PAGE}/{poster.id}/remove", page=PAGE).status_code == 404


def test_a_poster_who_leaves_the_organisation_loses_the_right_at_once(world, client, auth,
                                                                      outbox):
    _allow(world)
    theirs = make_opportunity(world.cvs, world.cvs_staff, title="Posted by Val",
                              contact_email="contact@cvs.example.org")
    auth.login(world.cvs_staff)
    assert client.get(f"/opportunities/{theirs.id}/edit").status_code == 200
    response = client.submit("/organisations/northbridge-cvs/leave",
                             page="/organisations/northbridge-cvs/")
    assert response.status_code == 303
    assert client.get("/opportunities/new").status_code == 403
    assert client.get(f"/opportunities/{theirs.id}/edit").status_code == 403
    assert client.get(f"/opportunities/{theirs.id}/applications").status_code == 403
    assert "Posted by Val" not in client.get("/my/opportunities").get_data(as_text=True)

    # New applications go to the contact only: Val hears nothing more about applicants.
    auth.login(world.council_staff)
    client.submit(f"/opportunities/{theirs.id}/apply", {
        "organisation_id": str(world.council.id), "statement": "Please",
        "availability": "Mondays", "manager_name": "Mo",
        "manager_email": "mo@council.example.org"})
    auth.logout()
    client.submit(link_in(outbox("mo@council.example.org")[0]), {"decision": "approve"})
    assert [m.subject for m in outbox("contact@cvs.example.org")] == [
        f"New application for {theirs.title}"]
    assert not [m for m in outbox(world.cvs_staff.email) if "New application" in m.subject]

    # The admins' page says so.
    auth.login(world.cvs_admin)
    assert "No longer a member of Northbridge CVS" in client.get(PAGE).get_data(as_text=True)


def test_an_allowed_poster_made_admin_and_back_keeps_posting(world, client, auth):
    """The allowance is separate from the admin role: losing the role leaves it."""
    _allow(world)
    link = db.session.scalar(select(OrganisationMember).where(
        OrganisationMember.user_id == world.cvs_staff.id))
    link.role = MemberRole.ADMIN
    db.session.commit()
    link.role = MemberRole.MEMBER
    db.session.commit()
    auth.login(world.cvs_staff)
    assert client.get("/opportunities/new").status_code == 200


def test_an_allowed_poster_hears_about_new_applications_to_what_they_posted(
        world, client, auth, outbox):
    _allow(world)
    theirs = make_opportunity(world.cvs, world.cvs_staff, manager_approval_required=False,
                              kind=OpportunityKind.SHADOWING, total_days=1)
    auth.login(world.council_staff)
    response = client.submit(f"/opportunities/{theirs.id}/apply", {
        "organisation_id": str(world.council.id), "statement": "Please",
        "availability": "Mondays"})
    assert response.status_code == 303
    assert [m.subject for m in outbox(world.cvs_staff.email)] == [
        f"New application for {theirs.title}"]


def test_the_page_lists_only_members_who_can_be_allowed(world, client, auth, make_user,
                                                        count_queries):
    for n in range(5):
        person = make_user(f"Colleague {n}", f"colleague{n}@cvs.example.org")
        db.session.add(OrganisationMember(organisation_id=world.cvs.id, user_id=person.id,
                                          status=RequestStatus.ACTIVE, job_title="Officer"))
        db.session.add(OpportunityPoster(organisation_id=world.cvs.id, user_id=person.id,
                                         granted_by_id=world.cvs_admin.id))
    db.session.commit()
    auth.login(world.cvs_admin)
    with count_queries() as log:
        html = client.get(PAGE).get_data(as_text=True)
    assert log.count <= 10
    assert html.count("Stop them posting") == 5
    assert f'value="{world.cvs_staff.id}"' in html
    assert f'value="{world.outsider.id}"' not in html


# --- The demo ---------------------------------------------------------------------------------


def _email_user(email: str) -> Any:
    from partnerships.accounts.models import User

    return db.session.scalar(select(User).where(User.email == email))


def test_the_demo_council_allows_its_partnership_officer_to_post(app, client, auth):
    from partnerships import permissions
    from partnerships.organisations.models import Organisation
    from tests.demo import demo_loaded

    demo_loaded()
    council = db.session.scalar(select(Organisation).where(
        Organisation.slug == "northbridge-borough-council"))
    officer = _email_user("officer@northbridge.example.org")
    martin = _email_user("martin.hughes@northbridge.example.org")
    [poster] = db.session.scalars(select(OpportunityPoster))
    assert (poster.organisation_id, poster.user_id, poster.granted_by_id) == (
        council.id, officer.id, martin.id)
    assert not permissions.is_organisation_admin(officer, council)
    assert permissions.can_post_opportunity(officer, council)
    theirs = db.session.scalar(select(Opportunity).where(
        Opportunity.title == "Voluntary sector liaison in the Communities team"))
    assert theirs.posted_by_id == officer.id
    auth.login(officer)
    assert theirs.title in client.get("/my/opportunities").get_data(as_text=True)
    auth.login(martin)
    html = client.get("/organisations/northbridge-borough-council/opportunity-posters")
    assert "Priya Shah" in html.get_data(as_text=True)


def test_a_demo_rerun_resets_allowances_given_in_a_walkthrough(app, make_user):
    """The database is emptied before the demo loads: only the file's allowance is left."""
    from partnerships.organisations.models import Organisation
    from partnerships.seed import load_demo
    from tests.demo import demo_loaded

    demo_loaded()
    icb = db.session.scalar(select(Organisation).where(
        Organisation.slug == "northbridge-riverside-icb"))
    staff = _email_user("staff@northbridge-icb.example.org")
    helen = _email_user("helen.carter@northbridge-icb.example.org")
    outsider = make_user("Real Person", "real.person@example.net")
    db.session.add(OrganisationMember(organisation_id=icb.id, user_id=outsider.id,
                                      status=RequestStatus.ACTIVE))
    db.session.add(OpportunityPoster(organisation_id=icb.id, user_id=staff.id,
                                     granted_by_id=helen.id))  # a walkthrough
    db.session.add(OpportunityPoster(organisation_id=icb.id, user_id=outsider.id,
                                     granted_by_id=helen.id))  # someone else
    [demo] = [p for p in db.session.scalars(select(OpportunityPoster))
              if p.user_id not in (staff.id, outsider.id)]
    demo.granted_by_id = helen.id  # changed in a walkthrough
    db.session.commit()

    load_demo()
    db.session.commit()
    db.session.expire_all()
    rows = {(p.user_id, p.granted_by_id) for p in db.session.scalars(select(OpportunityPoster))}
    officer = _email_user("officer@northbridge.example.org")
    martin = _email_user("martin.hughes@northbridge.example.org")
    assert rows == {(officer.id, martin.id)}


def _file_with_a_member_poster(**changes: Any) -> dict[str, Any]:
    """The smallest opportunity file, posted by C, a member (not an admin) of the host
    whom A (its admin) allowed."""
    from tests.test_seed import _opportunity_file

    data = _opportunity_file()
    data["accounts"].append({"name": "C", "email": "c@example.org"})
    data["organisations"][0]["members"].append({"email": "c@example.org", "role": "member"})
    data["opportunities"][0].update({"posted_by": "c@example.org",
                                     "allowed_by": "a@example.org", **changes})
    return data


def test_a_seed_file_may_have_an_allowed_member_post(app, tmp_path):
    from partnerships.seed import load_demo
    from tests.test_seed import _write

    summary = load_demo(_write(tmp_path, _file_with_a_member_poster()))
    assert summary["opportunities"] == 1
    assert count(OpportunityPoster) == 1


@pytest.mark.parametrize("changes, message", [
    # The seed goes through the services, so it reports what the site would say.
    ({"allowed_by": "b@example.org"},
     "allowed_by: Only admins of Host can choose who posts its opportunities"),
    ({"posted_by": "a@example.org"},
     "allowed_by: A is an admin of Host, so they can post opportunities already"),
    ({"posted_by": "b@example.org"}, "allowed_by: Select a current member of Host"),
])
def test_mistakes_about_allowed_posters_in_the_seed_file_are_reported_clearly(
        app, tmp_path, changes, message):
    from partnerships.seed import SeedError, load_demo
    from tests.test_seed import _write

    with pytest.raises(SeedError, match=message):
        load_demo(_write(tmp_path, _file_with_a_member_poster(**changes)))
