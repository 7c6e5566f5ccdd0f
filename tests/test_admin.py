"""Site administration: the guard, the dashboard, creating partnerships, officers, accounts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from partnerships import mail
from partnerships.audit import AuditEvent
from partnerships.extensions import db
from partnerships.mail import MAX_ATTEMPTS, OutboxMessage
from partnerships.organisations.models import RequestStatus
from partnerships.partnership.models import (
    Partnership,
    PartnershipMember,
    PartnershipOfficer,
    Principle,
)
from tests.conftest import link_in
from tests.mailserver import Inbox, running, use_port

SIGN_IN = "/account/sign-in"
NEW = "/admin/partnerships/new"
OFFICERS = "/admin/partnerships/northbridge-together/officers"


def _partnership_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Partnership.id))) or 0


def _officers(partnership_id: int) -> list[PartnershipOfficer]:
    db.session.expire_all()
    return list(db.session.scalars(
        select(PartnershipOfficer).where(PartnershipOfficer.partnership_id == partnership_id)
    ))


@pytest.fixture
def site_admin(make_user, auth):
    user = make_user("Sam Siteadmin", "sam@example.org", site_admin=True)
    auth.login(user)
    return user


# --- The guard on every route --------------------------------------------------------


def _admin_routes(officer_id: int, message_id: int) -> list[tuple[str, str]]:
    return [
        ("GET", "/admin/"),
        ("GET", "/admin/users"),
        ("GET", NEW),
        ("POST", NEW),
        ("GET", OFFICERS),
        ("POST", OFFICERS),
        ("POST", f"{OFFICERS}/{officer_id}/remove"),
        ("POST", f"/admin/emails/{message_id}/retry"),
    ]


def _failed_email(to: str = "ada@example.org", subject: str = "Reset your password",
                  error: str = "SMTPRecipientsRefused: {'ada@example.org': (550, b'No')}"
                  ) -> OutboxMessage:
    message = OutboxMessage(to=to, subject=subject, body="Hello", attempts=MAX_ATTEMPTS,
                            last_error=error)
    db.session.add(message)
    db.session.commit()
    return message


def _attempts(message_id: int) -> int:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id).attempts


def _call(client, method: str, url: str, token_page: str):
    if method == "GET":
        return client.get(url)
    data = {"name": "Hijack", "slug": "hijack", "place": "X", "email": "x@example.org",
            "role_title": "Boss"}
    return client.submit(url, data, page=token_page)


def test_every_admin_route_sends_anonymous_visitors_to_sign_in(
    client, make_user, make_partnership
):
    officer = make_user()
    partnership = make_partnership(officers=[officer])
    [role] = _officers(partnership.id)
    message = _failed_email()
    for method, url in _admin_routes(role.id, message.id):
        response = _call(client, method, url, SIGN_IN)
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith(SIGN_IN), (method, url)
    assert _attempts(message.id) == MAX_ATTEMPTS


def test_every_admin_route_refuses_signed_in_people_who_are_not_site_admins(
    client, auth, make_user, make_partnership, make_organisation
):
    officer = make_user("Olive Officer")
    org_admin = make_user("Ada Admin")
    make_organisation("Eastside Food Bank", admin=org_admin)
    partnership = make_partnership(officers=[officer])
    [role] = _officers(partnership.id)
    message = _failed_email()
    for user in (make_user("Plain Person"), officer, org_admin):
        auth.login(user)
        for method, url in _admin_routes(role.id, message.id):
            response = _call(client, method, url, "/account/sign-out")
            assert response.status_code == 403, (user.name, method, url)
    assert _partnership_count() == 1
    assert len(_officers(partnership.id)) == 1
    assert _attempts(message.id) == MAX_ATTEMPTS


def test_admin_link_shows_in_the_menu_only_for_site_admins(client, auth, make_user):
    auth.login(make_user())
    assert 'href="/admin/"' not in client.get("/partnerships/").get_data(as_text=True)
    auth.login(make_user(site_admin=True))
    assert 'href="/admin/"' in client.get("/partnerships/").get_data(as_text=True)


# --- Dashboard -----------------------------------------------------------------------


def test_dashboard_shows_counts_and_partnerships_with_pending_requests(
    client, site_admin, make_partnership, make_organisation
):
    orgs = [make_organisation(f"Org {n}") for n in range(3)]
    partnership = make_partnership(members=[orgs[0]])
    make_partnership("Eastshire Health")
    for org in orgs[1:]:
        db.session.add(PartnershipMember(partnership_id=partnership.id, organisation_id=org.id,
                                         status=RequestStatus.PENDING))
    db.session.commit()

    response = client.get("/admin/")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Northbridge Together" in page and "Eastshire Health" in page
    assert 'href="/partnerships/northbridge-together/requests">2 waiting' in page
    assert "None waiting" in page
    assert 'href="/admin/partnerships/new"' in page
    assert 'href="/admin/users"' in page
    assert 'href="/admin/partnerships/eastshire-health/officers"' in page


def test_dashboard_stays_within_query_budget(
    client, site_admin, make_partnership, count_queries
):
    for n in range(20):
        make_partnership(f"Partnership {n:02d}")
    with count_queries() as log:
        response = client.get("/admin/")
    assert response.status_code == 200
    assert log.count <= 7, log.statements  # 7th: addresses that keep failing (issue 16)


# --- Emails that could not be sent ----------------------------------------------------


def test_dashboard_lists_emails_that_failed_for_good(client, site_admin):
    _failed_email("old@example.org", "Older failure")
    _failed_email("ada@example.org", "Reset your password",
                  "ValueError: Header values may not contain linefeed or carriage return")
    db.session.add_all([
        OutboxMessage(to="later@example.org", subject="Still trying", body="x", attempts=2,
                      last_error="TimeoutError"),
        OutboxMessage(to="sent@example.org", subject="Went fine", body="x", attempts=1),
    ])
    db.session.commit()

    page = client.get("/admin/").get_data(as_text=True)

    assert 'href="#failed-emails">2</a>' in page
    assert f"2 emails failed {MAX_ATTEMPTS} times, over more than a day," in page
    assert "ada@example.org" in page and "Reset your password" in page
    assert "Header values may not contain linefeed" in page
    assert page.index("Reset your password") < page.index("Older failure")  # newest first
    assert "Still trying" not in page and "Went fine" not in page
    assert page.count("Try again<span") == 2


def test_dashboard_lists_addresses_that_keep_failing_with_counts_and_the_last_error(
        client, site_admin, make_user, auth, count_queries):
    from datetime import timedelta

    from partnerships.modelbase import utcnow
    now = utcnow()
    for n, error in enumerate(("550 No such user", "550 Mailbox closed", "550 Gone")):
        db.session.add(OutboxMessage(to="gone@example.org", subject=f"Note {n}", body="x",
                                     attempts=1 + n, last_error=error,
                                     created_at=now - timedelta(days=3 - n)))
    for _n in range(2):  # two failures: not yet "repeatedly"
        db.session.add(OutboxMessage(to="twice@example.org", subject="x", body="x",
                                     attempts=2, last_error="550 Twice"))
    for _n in range(3):  # old failures, and failures that were sent in the end, count not
        db.session.add(OutboxMessage(to="old@example.org", subject="x", body="x", attempts=5,
                                     last_error="550 Old", created_at=now - timedelta(days=40)))
        db.session.add(OutboxMessage(to="fine@example.org", subject="x", body="x", attempts=2,
                                     last_error="", sent_at=now))
    for n in range(4):
        db.session.add(OutboxMessage(to="busy@example.org", subject="x", body="x",
                                     attempts=MAX_ATTEMPTS, last_error="421 Try later",
                                     created_at=now - timedelta(hours=n)))
    db.session.commit()

    with count_queries() as log:
        page = client.get("/admin/").get_data(as_text=True)
    assert log.count <= 7, log.statements
    section = page[page.index('id="failing-addresses"'):]
    assert "gone@example.org" in section and "busy@example.org" in section
    assert section.index("busy@example.org") < section.index("gone@example.org")  # most first
    assert "550 Gone" in section and "550 No such user" not in section  # the latest error
    for absent in ("twice@example.org", "old@example.org", "fine@example.org"):
        assert absent not in section
    counts = re.findall(r"Emails not sent\s*</dt>\s*<dd[^>]*>\s*(\d+)", section)
    assert counts == ["4", "3"]

    auth.login(make_user("Nell Notadmin", "nell@example.org"))
    refused = client.get("/admin/")
    assert refused.status_code == 403
    assert "gone@example.org" not in refused.get_data(as_text=True)


def test_dashboard_says_when_no_email_has_failed(client, site_admin):
    page = client.get("/admin/").get_data(as_text=True)
    assert "Emails that could not be sent" in page
    assert "None. Every email has been sent" in page


def test_dashboard_shows_only_the_newest_failed_emails_with_the_total(
    client, site_admin, count_queries
):
    db.session.add_all([
        OutboxMessage(to=f"p{n}@example.org", subject=f"Failure {n:02d}", body="x",
                      attempts=MAX_ATTEMPTS, last_error="boom")
        for n in range(mail.FAILED_LIST_MAX + 2)
    ])
    db.session.commit()

    with count_queries() as log:
        response = client.get("/admin/")

    page = response.get_data(as_text=True)
    assert f"{mail.FAILED_LIST_MAX + 2} emails failed" in page
    assert f"These are the newest {mail.FAILED_LIST_MAX}." in page
    assert page.count("Try again<span") == mail.FAILED_LIST_MAX
    assert log.count <= 7, log.statements


def test_site_admin_sends_a_failed_email_again(client, site_admin):
    message = _failed_email()

    response = client.submit(f"/admin/emails/{message.id}/retry", {}, page="/admin/")

    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/#failed-emails"
    assert _attempts(message.id) == 0
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "email.retried"))
    assert event is not None and event.actor_id == site_admin.id
    page = client.get("/admin/").get_data(as_text=True)
    assert "The email to ada@example.org will be sent again" in page
    assert "None. Every email has been sent" in page


def test_sending_again_an_email_that_has_not_failed_is_not_found(client, site_admin):
    pending = OutboxMessage(to="ada@example.org", subject="Waiting", body="x", attempts=1)
    db.session.add(pending)
    db.session.commit()
    assert client.submit(f"/admin/emails/{pending.id}/retry", {}, page=NEW).status_code == 404
    assert client.submit("/admin/emails/999/retry", {}, page=NEW).status_code == 404
    assert _attempts(pending.id) == 1


def test_an_email_sent_again_goes_out_with_the_next_run_and_only_once(app, client, site_admin):
    message = _failed_email("ada@example.org", "Reset your password")
    inbox = Inbox()
    with running(inbox) as port:
        use_port(app, port)
        assert mail.send_pending().sent == 0  # failed for good: not tried

        client.submit(f"/admin/emails/{message.id}/retry", {}, page="/admin/")
        again = client.submit(f"/admin/emails/{message.id}/retry", {}, page=NEW)

        assert again.status_code == 404  # already back in the queue
        assert mail.send_pending().sent == 1
    assert inbox.recipients == ["ada@example.org"]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "email.retried"))
    assert len(list(events)) == 1


# --- Creating a partnership ----------------------------------------------------------


def _new_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Northbridge Together",
        "slug": "northbridge-together",
        "place": "Northbridge",
        "description": "Councils and **community groups** working together.",
        "principles": ["partnership", "participation"],
        "contact_email": "hello@northbridge.example",
    }
    data.update(overrides)
    return data


def test_site_admin_creates_a_partnership(client, site_admin):
    form = client.get(NEW).get_data(as_text=True)
    assert Principle.TRANSPARENCY.hint in form  # each principle explains itself

    response = client.submit(NEW, _new_data())

    assert response.status_code == 303
    assert response.headers["Location"] == "/partnerships/northbridge-together/"
    db.session.expire_all()
    partnership = db.session.scalar(select(Partnership))
    assert partnership.name == "Northbridge Together"
    assert partnership.place == "Northbridge"
    assert partnership.contact_email == "hello@northbridge.example"
    assert partnership.created_by_id == site_admin.id
    assert partnership.principles == [Principle.PARTNERSHIP, Principle.PARTICIPATION]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "partnership.created"))
    assert event is not None and event.actor_id == site_admin.id

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Northbridge Together has been created" in page
    assert "Participation and inclusion" in page


def test_blank_web_address_is_made_from_the_name(client, site_admin, make_partnership):
    make_partnership("Northbridge Together")
    response = client.submit(NEW, _new_data(slug="", name="Northbridge Together"))
    assert response.status_code == 303
    assert response.headers["Location"] == "/partnerships/northbridge-together-2/"


@pytest.mark.parametrize(
    ("overrides", "message", "kept"),
    [
        ({"name": ""}, "Enter the partnership", 'value="Northbridge"'),
        ({"slug": "Not A Slug"}, "Web address must be lower-case letters", 'value="Not A Slug"'),
        ({"place": ""}, "Enter the place the partnership covers", 'value="Northbridge Together"'),
        ({"contact_email": "nope"}, "Enter a contact email address in the correct format",
         'value="nope"'),
    ],
)
def test_create_partnership_with_bad_input_keeps_what_was_typed(
    client, site_admin, overrides, message, kept
):
    response = client.submit(NEW, _new_data(**overrides))

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert message in page
    assert kept in page
    assert "community groups** working together.</textarea>" in page
    assert 'value="participation" checked' in page
    assert _partnership_count() == 0


def test_create_partnership_with_a_web_address_already_used_is_refused(
    client, site_admin, make_partnership
):
    make_partnership("Existing", slug="northbridge-together")

    response = client.submit(NEW, _new_data(name="Brand New Partnership"))

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Another partnership already uses this web address" in page
    assert 'value="Brand New Partnership"' in page
    assert _partnership_count() == 1


# --- Officers ------------------------------------------------------------------------


def test_appoint_officer_by_email_emails_them_and_shows_them_publicly(
    client, site_admin, make_user, make_partnership, make_organisation, outbox
):
    person = make_user("Olive Officer", "olive@council.example")
    council = make_organisation("Northbridge Council")
    partnership = make_partnership()

    response = client.submit(OFFICERS, {"email": " Olive@Council.example ",
                                        "role_title": "VCSE co-chair",
                                        "organisation": str(council.id)})

    assert response.status_code == 303
    [officer] = _officers(partnership.id)
    assert officer.user_id == person.id
    assert officer.role_title == "VCSE co-chair"
    assert officer.organisation_id == council.id
    assert officer.appointed_by_id == site_admin.id
    [email] = outbox(to="olive@council.example")
    assert email.subject == "You are now an officer of Northbridge Together"
    assert "VCSE co-chair" in email.body
    assert link_in(email) == "/partnerships/northbridge-together/"

    listing = client.get(OFFICERS).get_data(as_text=True)
    assert "Olive Officer" in listing and "olive@council.example" in listing
    public = client.get("/partnerships/northbridge-together/").get_data(as_text=True)
    assert "Olive Officer" in public and "VCSE co-chair (Northbridge Council)" in public
    assert "olive@council.example" not in public


def test_appoint_officer_with_unknown_email_is_refused(
    client, site_admin, make_partnership, outbox
):
    partnership = make_partnership()

    response = client.submit(OFFICERS, {"email": "nobody@example.org",
                                        "role_title": "Partnership officer"})

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is no account with this email address" in page
    assert 'value="nobody@example.org"' in page
    assert 'value="Partnership officer"' in page
    assert _officers(partnership.id) == []
    assert outbox() == []


def test_appointing_the_same_officer_twice_is_refused(
    client, site_admin, make_user, make_partnership, outbox
):
    person = make_user("Olive Officer", "olive@council.example")
    partnership = make_partnership(officers=[person])

    response = client.submit(OFFICERS, {"email": "olive@council.example",
                                        "role_title": "Another role"})

    assert response.status_code == 422
    assert "Olive Officer is already an officer of this partnership" in response.get_data(
        as_text=True
    )
    assert len(_officers(partnership.id)) == 1
    assert outbox() == []


def test_appoint_officer_without_a_role_is_refused(
    client, site_admin, make_user, make_partnership
):
    make_user("Olive Officer", "olive@council.example")
    partnership = make_partnership()
    response = client.submit(OFFICERS, {"email": "olive@council.example", "role_title": ""})
    assert response.status_code == 422
    assert "Enter the officer" in response.get_data(as_text=True)
    assert _officers(partnership.id) == []


def test_site_admin_removes_an_officer(client, site_admin, make_user, make_partnership):
    person = make_user("Olive Officer")
    partnership = make_partnership(officers=[person])
    [officer] = _officers(partnership.id)

    response = client.submit(f"{OFFICERS}/{officer.id}/remove", {}, page=OFFICERS)

    assert response.status_code == 303
    assert _officers(partnership.id) == []
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "partnership.officer_removed")
    )
    assert event is not None and event.details["user_id"] == person.id


def test_removing_an_officer_of_another_partnership_is_not_found(
    client, site_admin, make_user, make_partnership
):
    make_partnership()
    other = make_partnership("Eastshire Health", officers=[make_user()])
    [officer] = _officers(other.id)
    response = client.submit(f"{OFFICERS}/{officer.id}/remove", {}, page=OFFICERS)
    assert response.status_code == 404
    assert len(_officers(other.id)) == 1


def test_officers_page_for_unknown_partnership_is_not_found(client, site_admin):
    assert client.get("/admin/partnerships/nowhere/officers").status_code == 404


# --- Accounts ------------------------------------------------------------------------


def test_users_list_searches_by_name_or_email_and_shows_flags(
    client, site_admin, make_user
):
    make_user("Olive Officer", "olive@council.example")
    make_user("Unconfirmed Person", "new@example.org", confirmed=False)

    everyone = client.get("/admin/users").get_data(as_text=True)
    by_name = client.get("/admin/users?q=olive").get_data(as_text=True)
    by_email = client.get("/admin/users?q=EXAMPLE.ORG").get_data(as_text=True)

    assert "3 accounts" in everyone
    assert "Site administrator" in everyone
    assert "Not confirmed" in everyone
    assert "1 account matching" in by_name and "Olive Officer" in by_name
    assert "Unconfirmed Person" not in by_name
    assert "Unconfirmed Person" in by_email and "Olive Officer" not in by_email


def test_users_list_is_paginated(client, site_admin, make_user, count_queries):
    for n in range(30):
        make_user(f"Person {n:02d}")

    with count_queries() as log:
        first = client.get("/admin/users")
    second = client.get("/admin/users?page=2").get_data(as_text=True)

    assert log.count <= 4, log.statements
    page = first.get_data(as_text=True)
    assert "31 accounts" in page
    assert "Person 00" in page and "Person 29" not in page
    assert 'href="/admin/users?page=2"' in page
    assert "Person 29" in second and "Person 00" not in second


def test_the_guard_tests_cover_every_admin_route(app):
    """A new admin route must be added to ``_admin_routes`` so the guard tests see it."""
    covered = {url.replace("/99", "/<int>").replace("northbridge-together", "<slug>")
               for _method, url in _admin_routes(99, 99)}
    registered = {re.sub(r"<int:\w+>", "<int>", rule.rule) for rule in app.url_map.iter_rules()
                  if rule.endpoint.startswith("admin.")}
    assert registered <= covered, registered - covered
