"""Your Local Partnerships (``/my/``): where signing in and confirming an email address
land, showing what needs the person: unread discussions, next meetings, open actions,
their applications, and decisions waiting for them in each role; first steps for a
new account. Nobody sees another person's waiting items or members-only content."""

from __future__ import annotations

from datetime import time, timedelta

from partnerships.extensions import db
from partnerships.factories import (
    accounts,
    forums,
    meetings,
    mous,
    opportunities,
    organisations,
    partnership,
    setting_up,
)
from partnerships.forums.models import MembershipPolicy, Visibility
from partnerships.meetings import agenda
from partnerships.organisations.models import OrgType
from partnerships.timeutil import today_uk


def _page(client, auth, user) -> str:
    auth.login(user)
    response = client.get("/my/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_signed_out_people_are_asked_to_sign_in_and_come_back(client):
    response = client.get("/my/")
    assert response.status_code == 302
    assert "/account/sign-in?next=%2Fmy%2F" in response.headers["Location"]


def test_a_new_account_gets_first_steps_not_empty_lists(client, auth, app):
    newcomer = accounts.user("Nia New", "nia@example.org")
    db.session.commit()
    page = _page(client, auth, newcomer)
    assert "Get started" in page
    assert "Find your local partnership" in page and "add your organisation" in page
    assert "Waiting for you" not in page
    assert "Your forums" not in page


def test_waiting_for_a_convenor_an_admin_an_officer_a_host_and_a_signatory(client, auth, app):
    """One person in every role sees each decision waiting, linked to where it is made;
    someone else with no role sees none of them."""
    boss = accounts.user("Bo Boss", "bo@council.example.org")
    officer = accounts.user("Olu Officer", "olu@example.org")
    asker = accounts.user("Ash Asker", "ash@example.org")
    stranger = accounts.user("Sam Stranger", "sam@example.org")
    council = organisations.organisation("Northbridge Council", admin=boss,
                                         org_type=OrgType.LOCAL_AUTHORITY)
    charity = organisations.organisation("Eastside Food Bank", admin=asker)
    trust = organisations.organisation("Northbridge Health Trust", admin=officer,
                                       org_type=OrgType.NHS_BODY)
    place = partnership.partnership("Northbridge Together", slug="northbridge",
                                    members=[council, trust])
    partnership.officer(place, boss)
    partnership.officer(place, officer)
    forum = forums.forum(place, "VCSE Alliance", convenors=[boss], slug="vcse",
                         policy=MembershipPolicy.BY_REQUEST)
    forums.member(forum, asker, pending=True)
    organisations.member(council, asker, pending=True)
    partnership.member(place, charity, pending=True)
    offer = opportunities.opportunity(boss, council, title="Shadow our housing team")
    application = opportunities.apply(asker, offer, charity)
    opportunities.manager_decides(application)
    [meeting] = meetings.meeting(forum, "Spring forum", day=today_uk() + timedelta(days=20),
                                 start=time(10), end=time(12))
    voice = accounts.user("Val Voice", "val@example.org")
    forums.member(forum, voice)
    with setting_up():
        agenda.request_item(voice, meeting, agenda.RequestDetails(
            title="Food poverty", reason="Rising demand", presenter=""))
    charter = mous.draft(officer, place, [council, trust], title="Data sharing charter")
    mous.open_for_signature(officer, charter)
    db.session.commit()

    page = _page(client, auth, boss)
    assert "Waiting for you" in page
    assert "1 request to join VCSE Alliance" in page
    assert "/partnerships/northbridge/forums/vcse/requests" in page
    assert "1 person asks to join Northbridge Council" in page
    assert "1 organisation asks to join Northbridge Together" in page
    assert "1 application to review for Shadow our housing team" in page
    assert "1 request for an item on the agenda of Spring forum" in page
    assert "Sign Data sharing charter for Northbridge Council" in page

    page = _page(client, auth, stranger)
    assert "Waiting for you" not in page
    for private in ("VCSE Alliance", "Shadow our housing team", "Data sharing charter",
                    "Eastside Food Bank"):
        assert private not in page

    page = _page(client, auth, asker)  # their own side: an application in progress
    assert "Shadow our housing team" in page and "Your applications" in page
    assert "Waiting for a convenor to let you in: VCSE Alliance" in page
    assert "Waiting for an admin to let you in: Northbridge Council" in page


def test_unread_discussions_and_next_meetings_only_from_forums_they_may_see(client, auth, app):
    member = accounts.user("Mia Member", "mia@example.org")
    convenor = accounts.user("Cai Convenor", "cai@example.org")
    place = partnership.partnership("Northbridge Together", slug="northbridge")
    mine = forums.forum(place, "Carers Forum", convenors=[convenor], members=[member],
                        slug="carers", policy=MembershipPolicy.OPEN)
    hidden = forums.forum(place, "Safeguarding Board", convenors=[convenor], slug="board",
                          visibility=Visibility.MEMBERS)
    forums.thread(mine, convenor, "Respite care this winter")
    forums.thread(hidden, convenor, "Case review")
    day = today_uk() + timedelta(days=7)
    meetings.meeting(mine, "Carers catch-up", day=day, start=time(18), end=time(19))
    meetings.meeting(hidden, "Board in private", day=day, start=time(10), end=time(11))
    db.session.commit()

    page = _page(client, auth, member)
    assert "Respite care this winter" in page and "Carers catch-up" in page
    assert "Case review" not in page and "Board in private" not in page
    assert "Carers Forum" in page


def test_the_page_costs_the_same_queries_however_much_waits(client, auth, app, count_queries):
    boss = accounts.user("Bo Boss", "bo@council.example.org")
    council = organisations.organisation("Northbridge Council", admin=boss)
    place = partnership.partnership("Northbridge Together", slug="northbridge")
    db.session.commit()

    def queries() -> int:
        auth.login(boss)
        with count_queries() as log:
            assert client.get("/my/").status_code == 200
        return log.count

    def add(i: int) -> None:
        forum = forums.forum(place, f"Forum {i}", convenors=[boss], slug=f"forum-{i}")
        forums.thread(forum, boss, f"Thread {i}")
        forums.member(forum, accounts.user(f"Asker {i}", f"asker{i}@example.org"),
                      pending=True)
        organisations.member(council, accounts.user(f"Joiner {i}", f"j{i}@example.org"),
                             pending=True)
        meetings.meeting(forum, f"Meeting {i}", day=today_uk() + timedelta(days=3 + i),
                         start=time(10), end=time(11))
        db.session.commit()

    add(0)
    one = queries()
    for i in range(1, 5):
        add(i)
    assert queries() == one
    assert one <= 25
