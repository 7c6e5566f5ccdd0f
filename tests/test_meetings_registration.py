"""Registration for meetings: answers per format, places and the waiting list,
promotion with an email, access requirements seen only by organisers, the organisers'
list and CSV, permission boundaries, bad input and query budgets."""

from __future__ import annotations

import csv
import io
import re
from datetime import time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from partnerships import clock, permissions
from partnerships.audit import AuditEvent
from partnerships.errors import PermissionDenied
from partnerships.extensions import db
from partnerships.forums.models import ForumBan, ForumMember, ForumMemberStatus
from partnerships.meetings import registrations as rules
from partnerships.meetings.models import (
    Meeting,
    MeetingFormat,
    MeetingStatus,
    Registration,
    RegistrationStatus,
    Response,
)
from partnerships.modelbase import utcnow
from partnerships.timeutil import today_uk, uk_local_to_utc


@pytest.fixture
def people(make_user: Any, make_partnership: Any, make_forum: Any, make_organisation: Any
           ) -> dict[str, Any]:
    officer = make_user("Olu Officer", "officer@council.example.org")
    convenor = make_user("Cara Convenor", "convenor@vcs.example.org")
    members = [make_user(f"Member {i}", f"member{i}@example.org") for i in range(4)]
    stranger = make_user("Sam Stranger", "stranger@example.org")
    partnership = make_partnership(officers=[officer])
    forum = make_forum(partnership, convenors=[convenor], members=members)
    food_bank = make_organisation("Eastside Food Bank", members=[members[0]])
    return {"officer": officer, "convenor": convenor, "members": members,
            "stranger": stranger, "partnership": partnership, "forum": forum,
            "food_bank": food_bank}


HX_TOKEN_RE = re.compile(r'X-CSRFToken(?:&#34;|&quot;|")\s*:\s*(?:&#34;|&quot;|")([^"&]+)')


def _token(client: Any) -> str:
    """A CSRF token for this session, from any page (the one in ``hx-headers``)."""
    match = HX_TOKEN_RE.search(client.get("/").get_data(as_text=True))
    assert match
    return match.group(1)


def _url(meeting: Meeting, suffix: str = "") -> str:
    return f"/meetings/{meeting.id}/{suffix}"


def _register(client: Any, meeting: Meeting, response: str, **extra: str) -> Any:
    return client.submit(_url(meeting, "register"), {"response": response, **extra})


def _registration(meeting: Meeting, user: Any) -> Registration | None:
    db.session.expire_all()
    return db.session.scalar(select(Registration).where(
        Registration.meeting_id == meeting.id, Registration.user_id == user.id))


def _places_taken(meeting: Meeting) -> int:
    db.session.expire_all()
    return db.session.get(Meeting, meeting.id).places_taken


# --- The member's journey --------------------------------------------------------------------


def test_full_meeting_puts_people_on_the_waiting_list_and_promotes_them_when_someone_cancels(
        client, auth, people, make_meeting, outbox):
    meeting = make_meeting(people["forum"], capacity=2)
    first, second, third = people["members"][:3]

    for person in (first, second):
        auth.login(person)
        response = _register(client, meeting, "in_person")
        assert response.status_code == 303
        assert response.headers["Location"].endswith(f"/meetings/{meeting.id}/#registration")
        registration = _registration(meeting, person)
        assert registration.status is RegistrationStatus.CONFIRMED
        assert registration.holds_place
    assert _places_taken(meeting) == 2
    confirmation = outbox(first.email)[-1]
    assert confirmation.subject.startswith("You are registered: Quarterly meeting")
    assert f"/meetings/{meeting.id}/" in confirmation.body

    auth.login(third)
    page = client.get(_url(meeting)).get_data(as_text=True)
    assert "Full: join the waiting list" in page
    response = _register(client, meeting, "in_person")
    assert response.status_code == 303
    waiting = _registration(meeting, third)
    assert waiting.status is RegistrationStatus.WAITING and not waiting.holds_place
    assert waiting.waiting_since is not None
    assert _places_taken(meeting) == 2
    assert outbox(third.email)[-1].subject.startswith("You are on the waiting list")
    page = client.get(_url(meeting)).get_data(as_text=True)
    assert "The meeting is full, so you are on the waiting list" in page
    assert "On the waiting list, number 1" in page

    auth.login(first)
    page = client.get(_url(meeting)).get_data(as_text=True)
    assert "You have a place" in page and "Cancel your registration" in page
    response = client.submit(_url(meeting, "register/cancel"), {}, page=_url(meeting))
    assert response.status_code == 303
    cancelled = _registration(meeting, first)
    assert cancelled.status is RegistrationStatus.CANCELLED and not cancelled.holds_place

    promoted = _registration(meeting, third)
    assert promoted.status is RegistrationStatus.CONFIRMED
    assert promoted.holds_place and promoted.promoted_at is not None
    assert _places_taken(meeting) == 2
    email = outbox(third.email)[-1]
    assert email.subject.startswith("You have a place: Quarterly meeting")
    assert "next on the waiting list" in email.body
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"meeting.registered", "meeting.registration_cancelled",
            "meeting.registration_promoted"} <= actions

    auth.login(third)
    page = client.get(_url(meeting)).get_data(as_text=True)
    assert "You have a place" in page


def test_waiting_list_is_served_in_order(client, auth, people, make_meeting, outbox):
    meeting = make_meeting(people["forum"], capacity=1)
    holder, early, late = people["members"][:3]
    for person in (holder, early, late):
        auth.login(person)
        _register(client, meeting, "in_person")
    auth.login(late)
    assert "On the waiting list, number 2" in client.get(_url(meeting)).get_data(as_text=True)

    auth.login(holder)
    client.submit(_url(meeting, "register/cancel"), {}, page=_url(meeting))
    assert _registration(meeting, early).holds_place
    assert _registration(meeting, late).status is RegistrationStatus.WAITING
    assert not [m for m in outbox(late.email) if m.subject.startswith("You have a place")]
    auth.login(late)
    assert "On the waiting list, number 1" in client.get(_url(meeting)).get_data(as_text=True)


def test_changing_to_apologies_gives_the_place_to_the_next_person(
        client, auth, people, make_meeting, outbox):
    meeting = make_meeting(people["forum"], capacity=1)
    holder, waiting = people["members"][:2]
    auth.login(holder)
    _register(client, meeting, "in_person")
    auth.login(waiting)
    _register(client, meeting, "in_person")

    auth.login(holder)
    page = client.get(_url(meeting, "register")).get_data(as_text=True)
    assert "Change your answer" in page and 'value="in_person" checked' in page
    response = _register(client, meeting, "apologies")
    assert response.status_code == 303
    changed = _registration(meeting, holder)
    assert changed.response is Response.APOLOGIES
    assert changed.status is RegistrationStatus.CONFIRMED and not changed.holds_place
    assert _registration(meeting, waiting).holds_place
    assert _places_taken(meeting) == 1
    assert outbox(holder.email)[-1].subject.startswith("Your apologies have been sent")
    assert outbox(waiting.email)[-1].subject.startswith("You have a place")
    assert db.session.scalar(select(db.func.count(Registration.id))) == 2


def test_someone_waiting_keeps_their_turn_when_they_change_other_details(
        client, auth, people, make_meeting):
    meeting = make_meeting(people["forum"], capacity=1)
    holder, waiting = people["members"][1:3]
    auth.login(holder)
    _register(client, meeting, "in_person")
    auth.login(waiting)
    _register(client, meeting, "in_person")
    since = _registration(meeting, waiting).waiting_since
    _register(client, meeting, "in_person", access_requirements="Hearing loop")
    row = _registration(meeting, waiting)
    assert row.status is RegistrationStatus.WAITING and row.waiting_since == since
    assert row.access_requirements == "Hearing loop"


def _seen_on_form(client: Any, meeting: Meeting) -> str:
    """The version hidden in the registration form as a tab shows it now."""
    page = client.get(_url(meeting, "register")).get_data(as_text=True)
    match = re.search(r'name="seen"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="seen"', page)
    assert match, "the form carries what it was filled in from"
    return match.group(1) or match.group(2)


def test_a_second_tab_never_overwrites_the_answer_sent_from_the_first(
        client, auth, people, make_meeting, outbox):
    """Both tabs were opened before either was sent: the second is shown the answer the
    first sent, to change there, instead of silently wiping it (and emailing again)."""
    meeting = make_meeting(people["forum"], capacity=5)
    person = people["members"][0]
    auth.login(person)
    first_tab = _seen_on_form(client, meeting)
    second_tab = _seen_on_form(client, meeting)
    assert _register(client, meeting, "in_person", seen=first_tab,
                     access_requirements="Step-free access please").status_code == 303
    emails = len(outbox(person.email))
    response = _register(client, meeting, "apologies", seen=second_tab)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "You are already registered for this meeting" in page
    assert "Step-free access please</textarea>" in page  # the stored answer, to change
    row = _registration(meeting, person)
    assert row.access_requirements == "Step-free access please"
    assert row.holds_place and _places_taken(meeting) == 1
    assert len(outbox(person.email)) == emails  # no second confirmation
    # Changing it from the form now shown works.
    assert _register(client, meeting, "apologies",
                     seen=_seen_on_form(client, meeting)).status_code == 303
    assert _registration(meeting, person).response.value == "apologies"


def test_cancelled_registration_can_register_again(client, auth, people, make_meeting):
    meeting = make_meeting(people["forum"], capacity=5)
    person = people["members"][0]
    auth.login(person)
    _register(client, meeting, "in_person")
    client.submit(_url(meeting, "register/cancel"), {}, page=_url(meeting))
    assert _places_taken(meeting) == 0
    page = client.get(_url(meeting)).get_data(as_text=True)
    assert "You cancelled your registration" in page
    _register(client, meeting, "in_person")
    row = _registration(meeting, person)
    assert row.status is RegistrationStatus.CONFIRMED and row.holds_place
    assert _places_taken(meeting) == 1


def test_representing_one_of_my_organisations(client, auth, people, make_meeting,
                                               make_organisation):
    meeting = make_meeting(people["forum"])
    person = people["members"][0]
    other = make_organisation("Someone Else's Charity")
    auth.login(person)
    page = client.get(_url(meeting, "register")).get_data(as_text=True)
    assert "Eastside Food Bank" in page and "Someone Else" not in page

    response = _register(client, meeting, "in_person", organisation_id=str(other.id))
    assert response.status_code == 422
    assert "Select one of your organisations" in response.get_data(as_text=True)
    assert _registration(meeting, person) is None

    _register(client, meeting, "in_person", organisation_id=str(people["food_bank"].id))
    assert _registration(meeting, person).organisation_id == people["food_bank"].id
    _register(client, meeting, "in_person", organisation_id="none")
    assert _registration(meeting, person).organisation_id is None

    # Someone with no organisation is not asked.
    auth.login(people["members"][1])
    page = client.get(_url(meeting, "register")).get_data(as_text=True)
    assert "Are you representing an organisation" not in page


# --- Answers and places per format -------------------------------------------------------------


@pytest.mark.parametrize(("meeting_format", "offered", "refused"), [
    (MeetingFormat.IN_PERSON, ["in_person", "apologies"], "online"),
    (MeetingFormat.ONLINE, ["online", "apologies"], "in_person"),
    (MeetingFormat.HYBRID, ["in_person", "online", "apologies"], None),
])
def test_answers_offered_follow_the_meeting_format(client, auth, people, make_meeting,
                                                   meeting_format, offered, refused):
    meeting = make_meeting(people["forum"], format=meeting_format,
                           joining_url="https://meet.example.org/abc")
    auth.login(people["members"][0])
    page = client.get(_url(meeting, "register")).get_data(as_text=True)
    for value in ("in_person", "online", "apologies"):
        assert (f'value="{value}"' in page) == (value in offered)
    if refused:
        response = _register(client, meeting, refused)
        assert response.status_code == 422
        assert _registration(meeting, people["members"][0]) is None


def test_hybrid_meeting_counts_only_in_person_places(client, auth, people, make_meeting):
    meeting = make_meeting(people["forum"], format=MeetingFormat.HYBRID, capacity=1,
                           joining_url="https://meet.example.org/abc")
    a, b, c, d = people["members"]
    for person, answer in ((a, "online"), (b, "in_person"), (c, "online"), (d, "in_person")):
        auth.login(person)
        _register(client, meeting, answer)
    assert _places_taken(meeting) == 1
    assert [_registration(meeting, p).status for p in (a, b, c, d)] == [
        RegistrationStatus.CONFIRMED, RegistrationStatus.CONFIRMED,
        RegistrationStatus.CONFIRMED, RegistrationStatus.WAITING]
    assert not _registration(meeting, a).holds_place
    # Switching from in person to online frees the room place for the next in line.
    auth.login(b)
    _register(client, meeting, "online")
    assert _registration(meeting, d).holds_place
    assert _places_taken(meeting) == 1


def test_online_meeting_counts_online_places_and_never_apologies(client, auth, people,
                                                                 make_meeting):
    meeting = make_meeting(people["forum"], format=MeetingFormat.ONLINE, capacity=1,
                           venue_name="", venue_address="",
                           joining_url="https://meet.example.org/abc")
    a, b, c = people["members"][:3]
    for person, answer in ((a, "apologies"), (b, "online"), (c, "online")):
        auth.login(person)
        _register(client, meeting, answer)
    assert _places_taken(meeting) == 1
    assert _registration(meeting, a).status is RegistrationStatus.CONFIRMED
    assert _registration(meeting, b).holds_place
    assert _registration(meeting, c).status is RegistrationStatus.WAITING


def test_no_capacity_means_everyone_gets_a_place(client, auth, people, make_meeting):
    meeting = make_meeting(people["forum"])
    for person in people["members"]:
        auth.login(person)
        _register(client, meeting, "in_person")
    assert _places_taken(meeting) == 4
    assert all(_registration(meeting, p).holds_place for p in people["members"])


def test_confirmation_email_has_the_joining_link_only_for_online_places(
        client, auth, people, make_meeting, outbox):
    link = "https://meet.example.org/secret-room"
    hybrid = make_meeting(people["forum"], "Hybrid", format=MeetingFormat.HYBRID,
                          capacity=1, joining_url=link)
    in_person = make_meeting(people["forum"], "Room only", joining_url="")
    a, b, c, d = people["members"]
    auth.login(a)
    _register(client, hybrid, "in_person")   # holds the place: link included
    assert link in outbox(a.email)[-1].body
    auth.login(b)
    _register(client, hybrid, "online")      # online: link included
    assert link in outbox(b.email)[-1].body
    auth.login(c)
    _register(client, hybrid, "in_person")   # waiting: no link
    assert link not in outbox(c.email)[-1].body
    _register(client, hybrid, "apologies")   # apologies: no link
    assert link not in outbox(c.email)[-1].body
    auth.login(d)
    _register(client, in_person, "in_person")
    assert "Joining link" not in outbox(d.email)[-1].body
    assert "Northbridge Civic Centre" in outbox(d.email)[-1].body


# --- Capacity raised, organiser removing --------------------------------------------------------


def test_raising_the_capacity_promotes_people_waiting(app, client, auth, people, make_meeting,
                                                      outbox):
    meeting = make_meeting(people["forum"], capacity=1)
    holder, first, second = people["members"][:3]
    for person in (holder, first, second):
        auth.login(person)
        _register(client, meeting, "in_person")
    with app.test_request_context():
        target = db.session.get(Meeting, meeting.id)
        target.capacity = 2
        promoted = rules.capacity_changed(target, people["officer"])
        db.session.commit()
    assert [r.user_id for r in promoted] == [first.id]
    assert _registration(meeting, first).holds_place
    assert _registration(meeting, second).status is RegistrationStatus.WAITING
    assert outbox(first.email)[-1].subject.startswith("You have a place")
    with app.test_request_context():
        target = db.session.get(Meeting, meeting.id)
        target.capacity = None
        rules.capacity_changed(target)
        db.session.commit()
    assert _registration(meeting, second).holds_place
    assert _places_taken(meeting) == 3


def test_organiser_removing_someone_passes_their_place_on(client, auth, people, make_meeting,
                                                          outbox):
    meeting = make_meeting(people["forum"], capacity=1)
    holder, waiting = people["members"][:2]
    for person in (holder, waiting):
        auth.login(person)
        _register(client, meeting, "in_person")
    row = _registration(meeting, holder)

    auth.login(waiting)
    denied = client.submit(_url(meeting, f"registrations/{row.id}/remove"), {},
                           page=_url(meeting))
    assert denied.status_code == 403

    auth.login(people["convenor"])
    response = client.submit(_url(meeting, f"registrations/{row.id}/remove"), {},
                             page=_url(meeting, "registrations"))
    assert response.status_code == 303
    assert _registration(meeting, holder).status is RegistrationStatus.CANCELLED
    assert _registration(meeting, waiting).holds_place
    assert outbox(holder.email)[-1].subject.startswith("Your registration was cancelled")
    assert outbox(waiting.email)[-1].subject.startswith("You have a place")


# --- Access requirements, the organisers' list and CSV ------------------------------------------


def test_access_requirements_are_seen_only_by_the_person_and_organisers(
        client, auth, people, make_meeting):
    meeting = make_meeting(people["forum"], capacity=10)
    person, other = people["members"][:2]
    secret = "British Sign Language interpreter please"
    auth.login(person)
    _register(client, meeting, "in_person", access_requirements=secret)
    assert secret in client.get(_url(meeting)).get_data(as_text=True)

    auth.login(other)
    _register(client, meeting, "in_person")
    assert secret not in client.get(_url(meeting)).get_data(as_text=True)
    assert client.get(_url(meeting, "registrations")).status_code == 403
    assert client.get(_url(meeting, "registrations.csv")).status_code == 403
    auth.logout()
    assert secret not in client.get(_url(meeting)).get_data(as_text=True)
    auth.login(people["stranger"])
    assert secret not in client.get(_url(meeting)).get_data(as_text=True)

    for organiser in (people["convenor"], people["officer"]):
        auth.login(organiser)
        page = client.get(_url(meeting)).get_data(as_text=True)
        assert secret not in page  # the meeting page itself stays free of it
        assert "See who has registered" in page
        listing = client.get(_url(meeting, "registrations"))
        assert listing.status_code == 200
        assert secret in listing.get_data(as_text=True)
        assert secret in client.get(_url(meeting, "registrations.csv")).get_data(as_text=True)


def test_registrations_page_lists_everyone_with_status_and_waiting_order(
        client, auth, people, make_meeting):
    meeting = make_meeting(people["forum"], capacity=1)
    a, b, c, d = people["members"]
    answers = ((a, "in_person"), (b, "in_person"), (c, "in_person"), (d, "apologies"))
    for person, answer in answers:
        auth.login(person)
        extra = {"organisation_id": str(people["food_bank"].id)} if person is a else {}
        _register(client, meeting, answer, **extra)
    auth.login(people["officer"])
    page = client.get(_url(meeting, "registrations")).get_data(as_text=True)
    assert "1 of 1 places taken" in page
    assert "Has a place" in page and "Waiting list: 1" in page and "Waiting list: 2" in page
    assert "Apologies" in page and "Eastside Food Bank" in page
    assert page.index("Member 0") < page.index("Member 1") < page.index("Member 2")
    assert "member3@example.org" in page


def test_csv_has_every_registration_and_neutralises_formulas(client, auth, people,
                                                             make_meeting, make_user):
    meeting = make_meeting(people["forum"], capacity=1)
    sneaky = make_user("=HYPERLINK(\"http://evil.example\",\"x\")", "sneaky@example.org")
    people["members"].append(sneaky)
    auth.login(sneaky)
    _register(client, meeting, "in_person", access_requirements="+44 wheelchair")
    auth.login(people["members"][1])
    _register(client, meeting, "in_person", access_requirements="-step free\n@lift")
    auth.login(people["members"][2])
    _register(client, meeting, "apologies", access_requirements="@SUM(A1)")

    auth.login(people["convenor"])
    response = client.get(_url(meeting, "registrations.csv"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == rules.CSV_COLUMNS
    body = {row[1]: row for row in rows[1:]}
    assert len(body) == 3
    assert body["sneaky@example.org"][0] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert body["sneaky@example.org"][6] == "'+44 wheelchair"
    assert body["sneaky@example.org"][4] == "Has a place"
    waiting = body["member1@example.org"]
    assert waiting[4] == "Waiting list" and waiting[5] == "1"
    assert waiting[6] == "'-step free\n@lift"
    assert body["member2@example.org"][6] == "'@SUM(A1)"
    assert body["member2@example.org"][3] == "Sending apologies"
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@"))


# --- Permission boundaries ----------------------------------------------------------------------


def test_anonymous_people_are_sent_to_sign_in(client, people, make_meeting):
    meeting = make_meeting(people["forum"])
    page = client.get(_url(meeting)).get_data(as_text=True)
    assert "Sign in to register" in page
    assert f"next=/meetings/{meeting.id}/" in page or \
        f"next=%2Fmeetings%2F{meeting.id}%2F" in page
    for url in (_url(meeting, "register"), _url(meeting, "registrations"),
                _url(meeting, "registrations.csv")):
        response = client.get(url)
        assert response.status_code == 302
        assert "/sign-in" in response.headers["Location"]
    response = client.post(_url(meeting, "register"), data={"response": "in_person"})
    assert response.status_code in (302, 400)
    assert db.session.scalar(select(db.func.count(Registration.id))) == 0


def test_members_only_meeting_is_hidden_from_non_members(client, auth, people, make_meeting):
    meeting = make_meeting(people["forum"], public=False)
    auth.login(people["stranger"])
    # The members-only page (whose meeting it is), never the meeting or its list.
    for url in (_url(meeting), _url(meeting, "register"), _url(meeting, "registrations"),
                _url(meeting, "registrations.csv")):
        assert client.get(url).status_code == 403, url
    token = _token(client)
    for url in (_url(meeting, "register"), _url(meeting, "register/cancel")):
        response = client.post(url, data={"response": "in_person", "csrf_token": token})
        assert response.status_code == 403
    assert db.session.scalar(select(db.func.count(Registration.id))) == 0

    auth.login(people["members"][0])
    assert _register(client, meeting, "in_person").status_code == 303
    row = _registration(meeting, people["members"][0])
    assert row.holds_place
    auth.login(people["stranger"])
    response = client.post(_url(meeting, f"registrations/{row.id}/remove"),
                           data={"csrf_token": token})
    assert response.status_code == 403


def test_strangers_can_register_for_public_meetings_but_not_see_the_list(
        client, auth, people, make_meeting):
    meeting = make_meeting(people["forum"])
    auth.login(people["stranger"])
    assert _register(client, meeting, "in_person").status_code == 303
    assert _registration(meeting, people["stranger"]).holds_place
    assert client.get(_url(meeting, "registrations")).status_code == 403
    assert client.get(_url(meeting, "registrations.csv")).status_code == 403


def test_someone_barred_from_the_forum_cannot_register(client, auth, people, make_meeting):
    meeting = make_meeting(people["forum"])
    barred = people["stranger"]
    db.session.add(ForumBan(forum_id=people["forum"].id, user_id=barred.id, reason="Abuse",
                            banned_by_id=people["convenor"].id))
    db.session.commit()
    auth.login(barred)
    assert "Register" not in client.get(_url(meeting)).get_data(as_text=True).split(
        "Coming to this meeting?")[-1].split("</section>")[0]
    assert client.get(_url(meeting, "register")).status_code == 403
    token = _token(client)
    response = client.post(_url(meeting, "register"),
                           data={"response": "in_person", "csrf_token": token})
    assert response.status_code == 403
    assert _registration(meeting, barred) is None


def test_cancelling_without_a_registration_changes_nothing(client, auth, people, make_meeting):
    meeting = make_meeting(people["forum"])
    auth.login(people["members"][0])
    response = client.post(_url(meeting, "register/cancel"),
                           data={"csrf_token": _token(client)})
    assert response.status_code == 303
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "nothing to cancel" in follow


# --- Bad input and closed meetings ---------------------------------------------------------------


def test_no_answer_chosen_shows_the_error_and_keeps_what_was_typed(client, auth, people,
                                                                   make_meeting):
    meeting = make_meeting(people["forum"], format=MeetingFormat.HYBRID,
                           joining_url="https://meet.example.org/abc")
    auth.login(people["members"][0])
    response = client.submit(_url(meeting, "register"),
                             {"access_requirements": "Step-free route please"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "govuk-error-summary" in page
    assert "Select whether you will attend in person, attend online or send apologies" in page
    assert "Step-free route please" in page
    assert page.startswith("<!DOCTYPE html>") and "<title>Error:" in page
    assert db.session.scalar(select(db.func.count(Registration.id))) == 0


def test_overlong_access_requirements_are_refused(client, auth, people, make_meeting):
    meeting = make_meeting(people["forum"])
    auth.login(people["members"][0])
    response = _register(client, meeting, "in_person", access_requirements="x" * 2001)
    assert response.status_code == 422
    assert "2000 characters or fewer" in response.get_data(as_text=True)
    assert _registration(meeting, people["members"][0]) is None
    assert _places_taken(meeting) == 0


def test_cancelled_meeting_refuses_registrations_and_keeps_showing_my_answer(
        client, auth, people, make_meeting):
    meeting = make_meeting(people["forum"], capacity=5)
    registered, late = people["members"][:2]
    auth.login(registered)
    _register(client, meeting, "in_person")
    token = _token(client)
    meeting = db.session.get(Meeting, meeting.id)
    meeting.status = MeetingStatus.CANCELLED
    meeting.status_reason = "Venue flooded"
    db.session.commit()

    page = client.get(_url(meeting)).get_data(as_text=True)
    assert "Your answer" in page and "Attending in person" in page
    assert "Cancel your registration" not in page and "Change your answer" not in page
    response = client.post(_url(meeting, "register/cancel"), data={"csrf_token": token})
    assert response.status_code == 303
    assert _registration(meeting, registered).status is RegistrationStatus.CONFIRMED

    auth.login(late)
    page = client.get(_url(meeting)).get_data(as_text=True)
    assert "Coming to this meeting?" not in page and "Sign in to register" not in page
    response = client.get(_url(meeting, "register"))
    assert response.status_code == 303
    response = client.post(_url(meeting, "register"),
                           data={"response": "in_person", "csrf_token": token},
                           follow_redirects=True)
    assert "This meeting has been cancelled, so it is not taking registrations" in \
        response.get_data(as_text=True)
    assert _registration(meeting, late) is None


def test_registration_closes_when_the_meeting_starts(client, auth, people, make_meeting):
    # At 11:00 UK time today, so the meeting under way (10:30 to 12:30) is within one day.
    with clock.at(uk_local_to_utc(today_uk(), time(11))):
        meeting = make_meeting(people["forum"], starts_in=timedelta(minutes=-30), hours=2)
        auth.login(people["members"][0])
        token = _token(client)
        assert "Coming to this meeting?" not in client.get(_url(meeting)).get_data(as_text=True)
        response = client.post(_url(meeting, "register"),
                               data={"response": "in_person", "csrf_token": token},
                               follow_redirects=True)
        assert "Registration closed when the meeting started" in response.get_data(as_text=True)
        assert _registration(meeting, people["members"][0]) is None


def test_postponed_meeting_keeps_registrations_and_stays_open(client, auth, people,
                                                              make_meeting):
    meeting = make_meeting(people["forum"], capacity=3)
    a, b = people["members"][:2]
    auth.login(a)
    _register(client, meeting, "in_person")
    row = db.session.get(Meeting, meeting.id)
    row.status = MeetingStatus.POSTPONED
    row.status_reason = "Waiting for a new venue"
    db.session.commit()
    assert _registration(meeting, a).holds_place
    auth.login(b)
    assert _register(client, meeting, "in_person").status_code == 303
    assert _registration(meeting, b).holds_place


def test_service_refuses_a_place_beyond_capacity_even_when_called_directly(
        app, people, make_meeting):
    meeting = make_meeting(people["forum"], capacity=1)
    with app.test_request_context():
        meeting = db.session.get(Meeting, meeting.id)
        for person in people["members"][:3]:
            rules.register(person, meeting, rules.Answer(Response.IN_PERSON))
        db.session.commit()
    assert _places_taken(meeting) == 1
    statuses = [_registration(meeting, p).status for p in people["members"][:3]]
    assert statuses.count(RegistrationStatus.WAITING) == 2


# --- Query budgets -------------------------------------------------------------------------------


def _many_registrants(meeting: Meeting, organisation: Any, n: int = 200) -> None:
    from partnerships.accounts.models import User
    from partnerships.factories.accounts import PASSWORD, password_hash

    users = [User(name=f"Registrant {i}", email=f"registrant{i}@example.org",
                  password_hash=password_hash(PASSWORD)) for i in range(n)]
    db.session.add_all(users)
    db.session.flush()
    for i, user in enumerate(users):
        waiting = i >= n - 20
        db.session.add(Registration(
            meeting_id=meeting.id, user_id=user.id, response=Response.IN_PERSON,
            organisation_id=organisation.id if i % 2 else None,
            status=RegistrationStatus.WAITING if waiting else RegistrationStatus.CONFIRMED,
            holds_place=not waiting, access_requirements="Hearing loop" if i % 7 == 0 else "",
            waiting_since=utcnow() if waiting else None))
    meeting.places_taken = n - 20
    db.session.commit()


def test_registrations_page_and_csv_keep_their_query_budget(client, auth, people,
                                                            make_meeting, count_queries):
    meeting = make_meeting(people["forum"], capacity=180)
    _many_registrants(meeting, people["food_bank"])
    auth.login(people["officer"])
    client.get(_url(meeting, "registrations"))
    with count_queries() as log:
        response = client.get(_url(meeting, "registrations"))
    assert response.status_code == 200
    assert "Registrant 199" in response.get_data(as_text=True)
    assert log.count <= 10, log.statements
    with count_queries() as log:
        response = client.get(_url(meeting, "registrations.csv"))
    assert response.get_data(as_text=True).count("\r\n") == 201
    assert log.count <= 10, log.statements


def test_page_context_costs_at_most_two_queries(app, people, make_meeting, count_queries):
    meeting = make_meeting(people["forum"], capacity=180)
    _many_registrants(meeting, people["food_bank"])
    waiting_user = db.session.scalar(select(Registration).where(
        Registration.status == RegistrationStatus.WAITING).order_by(Registration.id.desc())
    ).user
    for user in (people["officer"], waiting_user, people["stranger"]):
        with app.test_request_context():
            meeting = db.session.get(Meeting, meeting.id)
            permissions.can_manage_meeting(user, meeting)  # cached per request
            permissions.can_register_for_meeting(user, meeting)
            with count_queries() as log:
                context = rules.page_context(meeting, user)
            assert log.count <= 2, log.statements
            if user is waiting_user:
                assert context["registration_position"] == 20
                assert context["my_registration"].user_id == user.id
            if user is people["officer"]:
                assert context["registration_counts"].in_person == 180
                assert context["registration_counts"].waiting == 20


def test_meeting_page_with_many_registrants_keeps_its_budget(client, auth, people,
                                                            make_meeting, count_queries):
    meeting = make_meeting(people["forum"], capacity=180)
    _many_registrants(meeting, people["food_bank"])
    auth.login(people["convenor"])
    client.get(_url(meeting))
    with count_queries() as log:
        response = client.get(_url(meeting))
    assert response.status_code == 200
    assert "180 registered to attend in person" in response.get_data(as_text=True)
    assert log.count <= 15, log.statements


def test_someone_who_left_the_forum_is_not_emailed_a_members_only_place(
        client, auth, people, make_meeting, outbox):
    """Promotion still happens in order, but a members-only meeting's title and joining
    link are not emailed to someone who has since left its forum."""
    meeting = make_meeting(people["forum"], capacity=1, public=False)
    first, leaver = people["members"][:2]
    for person in (first, leaver):
        auth.login(person)
        assert _register(client, meeting, "in_person").status_code == 303
    assert _registration(meeting, leaver).status is RegistrationStatus.WAITING
    membership = db.session.scalar(select(ForumMember).where(
        ForumMember.forum_id == people["forum"].id, ForumMember.user_id == leaver.id))
    membership.status = ForumMemberStatus.LEFT
    db.session.commit()
    sent_before = len(outbox(leaver.email))

    auth.login(first)
    assert client.submit(_url(meeting, "register/cancel"), {},
                         page=_url(meeting)).status_code == 303
    assert len(outbox(leaver.email)) == sent_before
    assert _registration(meeting, leaver).status is RegistrationStatus.CONFIRMED


def _forum_url(forum: Any, suffix: str) -> str:
    return f"/partnerships/{forum.partnership.slug}/forums/{forum.slug}/{suffix}"


def test_leaving_the_forum_gives_up_places_at_its_members_only_meetings(
        client, auth, people, make_meeting, outbox):
    """The person could no longer see those meetings, so a place held there would be
    wasted: it goes to the next person waiting. Public meetings are kept."""
    forum = people["forum"]
    closed = make_meeting(forum, "Members' briefing", capacity=1, public=False)
    held = make_meeting(forum, "Members' review", public=False,
                        starts_in=timedelta(days=-1))  # already held: the record stays
    public = make_meeting(forum, "Open meeting")
    leaver, waiting = people["members"][:2]
    auth.login(leaver)
    for meeting in (closed, public):
        assert _register(client, meeting, "in_person").status_code == 303
    db.session.add(Registration(meeting_id=held.id, user_id=leaver.id,
                                response=Response.IN_PERSON,
                                status=RegistrationStatus.CONFIRMED))
    db.session.commit()
    auth.login(waiting)
    assert _register(client, closed, "in_person").status_code == 303
    assert _registration(closed, waiting).status is RegistrationStatus.WAITING

    auth.login(leaver)
    response = client.submit(_forum_url(forum, "leave"), {}, page=_forum_url(forum, ""),
                             follow_redirects=True)
    assert ("Your registration for one of its members-only meetings is cancelled."
            in response.get_data(as_text=True))
    assert _registration(closed, leaver).status is RegistrationStatus.CANCELLED
    assert _registration(held, leaver).status is RegistrationStatus.CONFIRMED
    assert _registration(public, leaver).status is RegistrationStatus.CONFIRMED
    promoted = _registration(closed, waiting)
    assert promoted.status is RegistrationStatus.CONFIRMED and promoted.holds_place
    assert outbox(waiting.email)[-1].subject.startswith("You have a place")
    assert not [m for m in outbox(leaver.email) if "Members' briefing" in m.subject
                and "cancelled" in m.subject.lower()]
    assert _places_taken(closed) == 1


def test_a_removed_or_banned_member_loses_their_members_only_registrations(
        client, auth, people, make_meeting):
    forum = people["forum"]
    closed = make_meeting(forum, "Members' briefing", public=False)
    removed, banned = people["members"][:2]
    for person in (removed, banned):
        auth.login(person)
        assert _register(client, closed, "in_person").status_code == 303
    auth.login(people["convenor"])
    for person, extra in ((removed, {}), (banned, {"ban": "y"})):
        row = db.session.scalar(select(ForumMember).where(
            ForumMember.forum_id == forum.id, ForumMember.user_id == person.id))
        response = client.submit(_forum_url(forum, f"members/{row.id}/remove"),
                                 {"reason": "Abusive posts.", **extra})
        assert response.status_code == 303
        assert _registration(closed, person).status is RegistrationStatus.CANCELLED


def test_an_officer_who_leaves_as_a_member_keeps_their_registration(
        client, auth, people, make_meeting):
    """Officers still run the forum, so they can still see and attend its meetings."""
    forum = people["forum"]
    officer = people["officer"]
    db.session.add(ForumMember(forum_id=forum.id, user_id=officer.id,
                               status=ForumMemberStatus.ACTIVE))
    db.session.commit()
    closed = make_meeting(forum, "Members' briefing", public=False)
    auth.login(officer)
    assert _register(client, closed, "in_person").status_code == 303
    assert client.submit(_forum_url(forum, "leave"), {},
                         page=_forum_url(forum, "")).status_code == 303
    assert _registration(closed, officer).status is RegistrationStatus.CONFIRMED


# --- Unconfirmed accounts (security review, item 7) ------------------------------------------


def test_an_unconfirmed_account_cannot_take_a_place_and_is_told_how_to_confirm(
        client, auth, people, make_user, make_meeting, outbox):
    meeting = make_meeting(people["forum"], capacity=1)
    newcomer = make_user("Nell Newcomer", "nell@example.org", confirmed=False)
    auth.login(newcomer)

    page = client.get(_url(meeting)).get_data(as_text=True)
    assert "first confirm your email address" in page
    assert f'href="{_url(meeting, "register")}"' not in page

    form = client.get(_url(meeting, "register"))
    assert form.status_code == 403
    assert "Confirm your email address first" in form.get_data(as_text=True)
    assert "register for this meeting" in form.get_data(as_text=True)

    response = client.post(_url(meeting, "register"),
                           data={"response": "in_person", "csrf_token": _token(client)})
    assert response.status_code == 403
    assert _registration(meeting, newcomer) is None
    assert _places_taken(meeting) == 0
    assert outbox(newcomer.email) == []

    with pytest.raises(PermissionDenied):
        rules.register(newcomer, meeting, rules.Answer(response=Response.IN_PERSON))
    db.session.rollback()
    assert _places_taken(meeting) == 0


def test_once_confirmed_the_same_account_registers(client, auth, people, make_user,
                                                     make_meeting):
    meeting = make_meeting(people["forum"], capacity=1)
    newcomer = make_user("Nell Newcomer", "nell@example.org", confirmed=False)
    newcomer.email_confirmed_at = utcnow()
    db.session.commit()
    auth.login(newcomer)
    assert _register(client, meeting, "in_person").status_code == 303
    assert _registration(meeting, newcomer).holds_place


def test_the_confirmation_rule_lives_in_permissions(people, make_user, make_meeting):
    meeting = make_meeting(people["forum"])
    confirmed = make_user("Cy Confirmed", "cy@example.org")
    unconfirmed = make_user("Una Unconfirmed", "una@example.org", confirmed=False)
    assert permissions.can_register_for_meeting(confirmed, meeting)
    assert not permissions.must_confirm_email_to_register(confirmed, meeting)
    assert not permissions.can_register_for_meeting(unconfirmed, meeting)
    assert permissions.must_confirm_email_to_register(unconfirmed, meeting)
    # A member of the forum who has not confirmed may not ask for agenda items either
    # (that emails the organisers).
    member = people["members"][0]
    assert permissions.can_request_agenda_item(member, meeting)
    member.email_confirmed_at = None
    assert not permissions.can_request_agenda_item(member, meeting)
