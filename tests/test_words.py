"""Words on pages and in emails that said the wrong thing to the person reading them:
who is addressed ("Why you want to do this" to the applicant), greetings by name in
every email to someone we know, what to do next after recording a past meeting, one
heading for the open actions, a "Go back" that is a link, a sign-in error that does
not claim email addresses are case sensitive."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from partnerships.extensions import db
from partnerships.meetings import records
from partnerships.meetings.models import MeetingStatus
from partnerships.opportunities.models import Application
from tests.conftest import link_in
from tests.test_opportunities import World, make_opportunity
from tests.test_opportunities_applications import MANAGER, apply_as, apply_form

EMAILS = Path(__file__).parent.parent / "templates" / "email"


def _apply(world: World, client: Any, auth: Any) -> tuple[Any, Application]:
    opportunity = make_opportunity(world.cvs, world.cvs_admin, title="Secondment to the CVS",
                                   places=2, contact_name="Hannah Host",
                                   contact_email="contact@cvs.example.org")
    response = apply_as(client, auth, world.council_staff, opportunity, **apply_form(world))
    assert response.status_code == 303
    db.session.expire_all()
    application = db.session.scalar(db.select(Application))
    assert application is not None
    return opportunity, application


def test_every_email_to_someone_we_know_greets_them_by_name() -> None:
    """No email template opens with a bare "Hello," (only an invitation to an address
    with no account may, as we do not know the name)."""
    bare = [path.name for path in sorted(EMAILS.glob("*.txt"))
            if path.read_text().startswith("Hello,")]
    assert bare == [], bare


def test_the_host_is_greeted_by_name(world: World, client: Any, auth: Any,
                                     outbox: Any) -> None:
    _opportunity, _application = _apply(world, client, auth)
    auth.logout()
    link = link_in(outbox(MANAGER)[-1])
    client.submit(link, {"decision": "approve", "comment": ""})
    [to_contact] = outbox("contact@cvs.example.org")
    assert to_contact.body.startswith("Hello Hannah Host,"), to_contact.body[:40]
    [to_poster] = outbox(world.cvs_admin.email)
    assert to_poster.body.startswith(f"Hello {world.cvs_admin.name},"), to_poster.body[:40]


def test_the_applicant_reads_about_themselves_and_the_manager_page_names_the_opportunity(
        world: World, client: Any, auth: Any, outbox: Any) -> None:
    _opportunity, application = _apply(world, client, auth)
    page = client.get(f"/applications/{application.id}/").get_data(as_text=True)
    assert "Why you want to do this, and what you would bring" in page
    assert "Why they want to do this" not in page

    auth.logout()
    email = outbox(MANAGER)[-1].body
    assert "has applied for a secondment" not in email
    assert "has applied for “Secondment to the CVS”" in email
    page = client.get(link_in(outbox(MANAGER)[-1])).get_data(as_text=True)
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
    assert heading and "has applied for “Secondment to the CVS”" in heading.group(1), heading
    assert "Why they want to do this" in page


def test_a_conflict_page_links_back_to_the_page(world: World, client: Any,
                                                auth: Any) -> None:
    """"That has already changed" offers a link back to the page the person came from
    (never to another site), where they see how it is now."""
    _opportunity, application = _apply(world, client, auth)
    page_url = f"/applications/{application.id}/"
    token = client.csrf_token("/account/password")
    remind = f"/applications/{application.id}/remind"
    response = client.post(remind, data={"csrf_token": token},
                           headers={"Referer": f"http://localhost{page_url}?from=list"})
    assert response.status_code == 409  # too soon after the first email
    page = response.get_data(as_text=True)
    assert "That has already changed" in page
    assert f'<a class="govuk-link" href="{page_url}?from=list">Go back to the page</a>' in page
    response = client.post(remind, data={"csrf_token": token},
                           headers={"Referer": "https://evil.example.com/phish"})
    assert 'href="/">Go back to the page</a>' in response.get_data(as_text=True)


def test_the_sign_in_error_does_not_say_email_addresses_are_case_sensitive(
        client: Any, make_user: Any) -> None:
    make_user("Ada Lovelace", "ada@example.org")
    page = client.submit("/account/sign-in", {"email": "ada@example.org",
                                              "password": "wrong password"})
    text = page.get_data(as_text=True)
    assert "Enter a correct email address and password" in text
    assert "Both are case sensitive" not in text
    assert "The password is case sensitive" in text


def test_recording_a_past_meeting_says_what_comes_next(
        client: Any, auth: Any, make_user: Any, make_partnership: Any,
        make_forum: Any) -> None:
    from tests.test_meetings import form_data

    convenor = make_user("Cara Convenor", "cara@example.org")
    partnership = make_partnership()
    forum = make_forum(partnership, "VCSE Alliance", convenors=[convenor])
    auth.login(convenor)
    response = client.submit(
        f"/partnerships/{partnership.slug}/forums/{forum.slug}/meetings/new",
        form_data(day=["2", "3", "2020"], confirm_past="y"), follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Past meeting recorded. Next, record attendance and write its minutes." in page
    assert "Next, build its agenda" not in page


def test_open_actions_from_earlier_meetings_are_named_once(
        app: Any, client: Any, auth: Any, make_user: Any, make_partnership: Any,
        make_forum: Any, make_meeting: Any) -> None:
    convenor = make_user("Cara Convenor", "cara@example.org")
    partnership = make_partnership()
    forum = make_forum(partnership, "VCSE Alliance", convenors=[convenor])
    earlier = make_meeting(forum, "Last meeting", starts_in=timedelta(days=-14))
    upcoming = make_meeting(forum, "Next meeting", status=MeetingStatus.SCHEDULED)
    with app.test_request_context():
        records.add_action(convenor, earlier, records.ActionDetails(
            description="Share the winter rota", owner_id=convenor.id))
    db.session.commit()
    auth.login(convenor)
    page = client.get(f"/meetings/{upcoming.id}/").get_data(as_text=True)
    assert "Share the winter rota" in page
    assert page.count("Open actions from earlier meetings") == 1
