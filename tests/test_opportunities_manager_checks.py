"""Who approves a secondment: the host sees the line manager's name and address, and a
warning when the address does not look like a work address where the applicant works
(the applicant is warned first, and confirms); an organisation's admins can accept
only line managers on their own email domains.

The world, the opportunity and the application form are test_opportunities_applications'
(imported fixtures, which ruff takes for redefinitions: hence the F811 exemption)."""
# ruff: noqa: F811

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlalchemy import select

from partnerships.audit import AuditEvent
from partnerships.extensions import db
from partnerships.opportunities.models import Application, ManagerDecision, Opportunity
from tests.conftest import link_in
from tests.test_opportunities import SIGN_IN, TOKEN_PAGE, World, count, make_opportunity
from tests.test_opportunities_applications import (  # noqa: F401  (fixtures)
    STATEMENT,
    apply_form,
    opportunity,
)

HOST = "contact@cvs.example.org"
WORK = "mo.manager@council.example.org"  # on the applicant's (sam@council...) domain,
# and the address ``apply_form`` gives
ELSEWHERE = "mo@elsewhere.example.net"


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def confirm_box(response: Any) -> str:
    """The confirmation checkbox's input tag ("" if it is not on the page)."""
    match = re.search(r'<input[^>]*name="manager_email_confirmed"[^>]*>', text(response))
    return match.group(0) if match else ""


def apply(client: Any, auth: Any, world: World, opportunity: Opportunity,
          **overrides: Any) -> Any:
    auth.login(world.council_staff)
    return client.submit(f"/opportunities/{opportunity.id}/apply",
                         apply_form(world, **overrides))


def confirmed(email: str, **overrides: Any) -> dict[str, Any]:
    """The answers sent again with the box ticked for ``email``."""
    return {"manager_email": email, "manager_email_confirmed": "y",
            "manager_email_checked": email, **overrides}


def the_application(world: World) -> Application:
    db.session.expire_all()
    return db.session.scalar(select(Application).where(
        Application.applicant_id == world.council_staff.id))


def approve(client: Any, auth: Any, outbox: Any, email: str) -> None:
    auth.logout()
    link = link_in(outbox(email)[-1])
    response = client.submit(link, {"decision": "approve", "comment": ""})
    assert response.status_code == 303


def set_website(org: Any, website: str) -> None:
    org.website = website
    db.session.commit()


# --- The host sees who approved ---------------------------------------------------------------


def test_the_host_sees_the_managers_name_and_address_on_the_application_list_and_email(
        world, client, auth, outbox, opportunity):
    assert apply(client, auth, world, opportunity).status_code == 303
    approve(client, auth, outbox, WORK)
    application = the_application(world)

    auth.login(world.cvs_admin)
    page = text(client.get(f"/applications/{application.id}/"))
    assert "Mo Manager" in page and WORK in page
    assert "Line manager approved" in page
    assert "Warning" not in page  # same domain as the applicant's own address
    listing = text(client.get(f"/opportunities/{opportunity.id}/applications"))
    assert "Mo Manager" in listing and WORK in listing
    assert "Check line manager" not in listing
    [to_host] = outbox(HOST)
    assert f"Approved by: Mo Manager ({WORK})" in to_host.body
    assert "Warning" not in to_host.body


def test_the_approval_is_recorded_with_the_managers_name_and_address(
        world, client, auth, outbox, opportunity):
    apply(client, auth, world, opportunity)
    approve(client, auth, outbox, WORK)
    application = the_application(world)
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "application.manager_approved",
        AuditEvent.subject_id == application.id))
    assert event.details["manager_name"] == "Mo Manager"
    assert event.details["manager_email"] == WORK


def test_before_approval_the_host_still_sees_nothing(world, client, auth, opportunity):
    apply(client, auth, world, opportunity)
    application = the_application(world)
    auth.login(world.cvs_admin)
    assert client.get(f"/applications/{application.id}/").status_code == 404
    listing = text(client.get(f"/opportunities/{opportunity.id}/applications"))
    assert WORK not in listing and "Mo Manager" not in listing


# --- A manager's address on another domain: the applicant is warned and confirms ------------


def test_an_address_on_another_domain_than_the_applicants_own_is_warned_about_first(
        world, client, auth, outbox, opportunity):
    response = apply(client, auth, world, opportunity, manager_email=ELSEWHERE)
    page = text(response)
    assert response.status_code == 422
    assert (f"{ELSEWHERE} is not on the same email domain as your own address "
            "(council.example.org)") in page
    assert "The host will see this warning too" in page
    assert "Check your line manager's email address. If it is right, confirm it" in page
    assert confirm_box(response)
    assert STATEMENT in page and ELSEWHERE in page  # everything typed is kept
    assert count(Application) == 0 and outbox() == []

    # Confirmed: it goes, and the host sees the warning once the manager approves.
    response = client.submit(f"/opportunities/{opportunity.id}/apply",
                             apply_form(world, **confirmed(ELSEWHERE)))
    assert response.status_code == 303
    approve(client, auth, outbox, ELSEWHERE)
    application = the_application(world)
    assert application.manager_decision is ManagerDecision.APPROVED
    submitted = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "application.submitted"))
    assert submitted.details["manager_email_warnings_confirmed"]

    auth.login(world.cvs_admin)
    page = text(client.get(f"/applications/{application.id}/"))
    assert (f"{ELSEWHERE} is not on the same email domain as Sam Staff's own address "
            "(council.example.org)") in page
    assert "Check that Mo Manager is Sam Staff's line manager" in page
    assert ELSEWHERE in page
    listing = text(client.get(f"/opportunities/{opportunity.id}/applications"))
    assert "Check line manager" in listing
    [to_host] = outbox(HOST)
    assert f"Approved by: Mo Manager ({ELSEWHERE})" in to_host.body
    assert "Warning: " in to_host.body and "elsewhere.example.net" in to_host.body


def test_the_organisations_website_domain_is_what_counts_when_recorded(
        world, client, auth, outbox, opportunity):
    set_website(world.council, "https://WWW.Northbridge-Council.example.org/about-us")
    # The applicant's own domain is not the organisation's: warned.
    response = apply(client, auth, world, opportunity, manager_email=WORK)
    assert response.status_code == 422
    assert (f"{WORK} is not on Northbridge Council's email domain "
            "(northbridge-council.example.org)") in text(response)
    assert count(Application) == 0

    # On the website's domain, or a subdomain of it, in any case: no warning.
    for email in ("Mo@Northbridge-Council.Example.ORG",
                  "mo@adults.northbridge-council.example.org"):
        response = client.submit(f"/opportunities/{opportunity.id}/apply",
                                 apply_form(world, manager_email=email, statement=""))
        assert response.status_code == 422  # the missing statement only
        assert "Warning" not in text(response)
    response = client.submit(f"/opportunities/{opportunity.id}/apply", apply_form(
        world, manager_email="mo@adults.northbridge-council.example.org"))
    assert response.status_code == 303
    approve(client, auth, outbox, "mo@adults.northbridge-council.example.org")
    auth.login(world.cvs_admin)
    page = text(client.get(f"/applications/{the_application(world).id}/"))
    assert "mo@adults.northbridge-council.example.org" in page and "Warning" not in page


def test_a_personal_webmail_address_is_always_warned_about(world, client, auth,
                                                           opportunity):
    response = apply(client, auth, world, opportunity, manager_email="mo.manager@gmail.com")
    assert response.status_code == 422
    assert "mo.manager@gmail.com is a personal email address (gmail.com), not a work one" \
        in text(response)


def test_the_warning_shows_with_every_other_problem_at_once(world, client, auth,
                                                            opportunity):
    response = apply(client, auth, world, opportunity, manager_email=ELSEWHERE, statement="",
                     availability="Mondays only")
    page = text(response)
    assert response.status_code == 422
    assert "Say why you want to do this" in page
    assert "is not on the same email domain as your own address" in page
    assert confirm_box(response) and "checked" not in confirm_box(response)
    assert "Mondays only" in page
    # Ticked but with another mistake: the tick is kept, with the warning.
    response = client.submit(f"/opportunities/{opportunity.id}/apply",
                             apply_form(world, **confirmed(ELSEWHERE, statement="")))
    assert response.status_code == 422
    assert "checked" in confirm_box(response)
    assert "is not on the same email domain as your own address" in text(response)
    # Fixing the statement and ticking the box in one go is enough.
    response = client.submit(f"/opportunities/{opportunity.id}/apply",
                             apply_form(world, **confirmed(ELSEWHERE)))
    assert response.status_code == 303


def test_a_confirmation_counts_only_for_the_address_it_was_given_for(
        world, client, auth, outbox, opportunity):
    response = apply(client, auth, world, opportunity,
                     **confirmed(ELSEWHERE, manager_email="mo@another.example.net"))
    page = text(response)
    assert response.status_code == 422
    assert "mo@another.example.net is not on the same email domain" in page
    assert confirm_box(response) and "checked" not in confirm_box(response)
    assert 'value="mo@another.example.net"' in page  # the address now asked about
    assert count(Application) == 0 and outbox() == []


def test_a_matching_address_needs_no_confirmation(world, client, auth, outbox, opportunity):
    response = apply(client, auth, world, opportunity,
                     manager_email="mo@adults.council.example.org")
    assert response.status_code == 303
    assert len(outbox("mo@adults.council.example.org")) == 1


# --- An organisation can require its own domains ----------------------------------------------


def domains_url(world: World) -> str:
    return f"/organisations/{world.council.slug}/email-domains"


def test_an_admin_records_domains_and_requires_them(world, client, auth):
    auth.login(world.council_admin)
    page = text(client.get(f"/organisations/{world.council.slug}/"))
    assert "Email domains and line managers" in page
    assert client.get(domains_url(world)).status_code == 200
    response = client.submit(domains_url(world), {
        "email_domains": "Council.Example.org, @nhs.net council.example.org",
        "require_manager_email_domain": "y"})
    assert response.status_code == 303
    db.session.expire_all()
    assert world.council.email_domains == "council.example.org nhs.net"
    assert world.council.require_manager_email_domain is True
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "organisation.email_domains_changed"))
    assert event.actor_id == world.council_admin.id
    # The form shows what is saved.
    assert "council.example.org, nhs.net" in text(client.get(domains_url(world)))


@pytest.mark.parametrize("who", ["member", "outsider", "other_admin", "anonymous"])
def test_only_the_organisations_admins_may_set_its_domains(world, client, auth, who):
    people = {"member": world.council_staff, "outsider": world.outsider,
              "other_admin": world.cvs_admin}
    attempt = {"email_domains": "evil.example.com", "require_manager_email_domain": "y"}
    if who == "anonymous":
        assert client.get(domains_url(world)).headers["Location"].startswith(SIGN_IN)
        response = client.submit(domains_url(world), attempt, page=SIGN_IN)
        assert response.headers["Location"].startswith(SIGN_IN)
    else:
        auth.login(people[who])
        assert client.get(domains_url(world)).status_code == 403
        response = client.submit(domains_url(world), attempt, page=TOKEN_PAGE)
        assert response.status_code == 403
        assert "Email domains and line managers" not in text(
            client.get(f"/organisations/{world.council.slug}/"))
    db.session.expire_all()
    assert world.council.email_domains == ""
    assert world.council.require_manager_email_domain is False


@pytest.mark.parametrize("typed, message", [
    ("not-a-domain!", '"not-a-domain!" is not an email domain'),
    ("council", '"council" is not an email domain'),
    ("https://www.council.example.org/", "Enter email domains, not web addresses"),
    ("mo@council.example.org", "Enter the domain only: for example, council.example.org"),
    ("gmail.com", "gmail.com is a personal email service"),
    ("gov.uk", "gov.uk is shared by many organisations"),
    ("", "Enter your organisation's email domains"),
])
def test_bad_domains_are_explained_and_what_was_typed_is_kept(world, client, auth, typed,
                                                              message):
    auth.login(world.council_admin)
    response = client.submit(domains_url(world), {"email_domains": typed,
                                                  "require_manager_email_domain": "y"})
    page = text(response)
    assert response.status_code == 422
    assert "There is a problem" in page and message in page
    assert f'value="{typed}"' in page or not typed
    db.session.expire_all()
    assert world.council.email_domains == "" and not world.council.require_manager_email_domain


def test_domains_can_be_recorded_without_being_required_and_count_for_the_warning(
        world, client, auth, opportunity):
    auth.login(world.council_admin)
    response = client.submit(domains_url(world), {"email_domains": "northbridge.example.gov"})
    assert response.status_code == 303
    # Recorded but not required: an address off the domain is a warning, not a refusal.
    response = apply(client, auth, world, opportunity, manager_email=WORK)
    assert response.status_code == 422
    assert "is not on Northbridge Council's email domain (northbridge.example.gov)" \
        in text(response)
    response = client.submit(f"/opportunities/{opportunity.id}/apply",
                             apply_form(world, **confirmed(WORK)))
    assert response.status_code == 303


def require(world: World, domains_text: str) -> None:
    world.council.email_domains = domains_text
    world.council.require_manager_email_domain = True
    db.session.commit()


def test_a_required_domain_refuses_other_addresses_with_a_clear_error(
        world, client, auth, outbox, opportunity):
    require(world, "council.example.org nhs.net")
    auth.login(world.council_staff)
    page = text(client.get(f"/opportunities/{opportunity.id}/apply"))
    assert ("Northbridge Council accepts only line managers' email addresses ending in "
            "@council.example.org or @nhs.net") in page

    for attempt in (apply_form(world, manager_email=ELSEWHERE),
                    apply_form(world, **confirmed(ELSEWHERE)),  # a tick does not help
                    apply_form(world, manager_email="mo@gmail.com")):
        response = client.submit(f"/opportunities/{opportunity.id}/apply", attempt)
        page = text(response)
        assert response.status_code == 422
        assert ("Enter your line manager's work email address: Northbridge Council accepts "
                "only line managers' email addresses ending in @council.example.org or "
                "@nhs.net") in page
        assert not confirm_box(response)
        assert STATEMENT in page
    assert count(Application) == 0 and outbox() == []

    # Reported with the other problems at once.
    response = client.submit(f"/opportunities/{opportunity.id}/apply",
                             apply_form(world, manager_email=ELSEWHERE, statement=""))
    page = text(response)
    assert "Say why you want to do this" in page and "accepts only line managers'" in page

    for email in ("mo@council.example.org", "mo@hr.council.example.org", "MO@NHS.NET"):
        response = client.submit(f"/opportunities/{opportunity.id}/apply",
                                 apply_form(world, manager_email=email, statement=""))
        assert response.status_code == 422  # the missing statement only
        assert "Enter your line manager's work email address" not in text(response)
    response = client.submit(f"/opportunities/{opportunity.id}/apply",
                             apply_form(world, manager_email="mo@hr.council.example.org"))
    assert response.status_code == 303


def test_the_requirement_is_the_applying_organisations_own(world, client, auth, outbox):
    """The ICB requires its domain; staff applying as the council's are not affected."""
    world.icb.email_domains = "icb.example.org"
    world.icb.require_manager_email_domain = True
    db.session.commit()
    opportunity = make_opportunity(world.cvs, world.cvs_admin, contact_email=HOST)
    response = apply(client, auth, world, opportunity)
    assert response.status_code == 303


def test_a_site_admin_may_set_an_organisations_domains_as_they_may_edit_it(world, client,
                                                                          auth):
    auth.login(world.site_admin)
    response = client.submit(domains_url(world), {"email_domains": "council.example.org"})
    assert response.status_code == 303
    db.session.expire_all()
    assert world.council.email_domains == "council.example.org"
    assert world.council.require_manager_email_domain is False


# --- The domain rules themselves ----------------------------------------------------------


def test_domain_rules():
    from partnerships.organisations import domains

    assert domains.website_domain("https://www.Northbridge.gov.uk/about") == "northbridge.gov.uk"
    assert domains.website_domain("northbridge.gov.uk") == "northbridge.gov.uk"
    assert domains.website_domain("http://www.example.org:8080") == "example.org"
    assert domains.website_domain("https://192.168.0.1/") is None
    assert domains.website_domain("") is None
    assert domains.email_domain("Mo@XYZ.NHS.net") == "xyz.nhs.net"
    assert domains.email_domain("no-at-sign") is None
    assert domains.is_on("nhs.net", "nhs.net") and domains.is_on("xyz.nhs.net", "nhs.net")
    assert not domains.is_on("nhs.net", "xyz.nhs.net")  # never a parent
    assert not domains.is_on("evilnhs.net", "nhs.net")  # nor a look-alike
    assert not domains.is_on("abc.nhs.net", "xyz.nhs.net")  # nor a sibling
    assert domains.parse_domains(" @A.org,b.org\nA.ORG ") == ["a.org", "b.org"]
    assert domains.parse_domains("") == []
    with pytest.raises(domains.DomainError):
        domains.parse_domains(" ".join(f"d{i}.org" for i in range(11)))
    assert domains.is_personal("gmail.com") and not domains.is_personal("council.gov.uk")

