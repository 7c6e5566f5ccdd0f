"""The agenda: building it (standard items, own items, reordering with and without
htmx), papers (checked by content, downloaded only by those allowed), publication with
the forum's notice in clear working days (Christmas, Easter, a clock change), revision
notes after publication, members' item requests, open actions under "matters arising",
the permission boundaries of every agenda route, and the meeting page's query budget.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from flask import url_for
from sqlalchemy import func, select

from partnerships import permissions, uploads
from partnerships.errors import Conflict, ValidationError
from partnerships.extensions import db
from partnerships.forums.models import Forum
from partnerships.meetings import agenda, queries
from partnerships.meetings.agenda import ItemDetails
from partnerships.meetings.models import (
    ActionItem,
    AgendaItem,
    AgendaRevision,
    AgendaStatus,
    ItemRequest,
    ItemRequestStatus,
    Meeting,
    MeetingStatus,
    MinutesStatus,
    Paper,
    Registration,
    Response,
    StandardItem,
)
from partnerships.timeutil import (
    clear_working_days_between,
    format_day,
    format_deadline,
    latest_day_for_notice,
    today_uk,
    uk_local_to_utc,
)

SIGN_IN = "/account/sign-in"
HX = {"HX-Request": "true"}
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _today() -> str:
    return format_day(today_uk())


def _pdf(name: str = "Winter plan.pdf", data: bytes = PDF) -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), name


@pytest.fixture
def world(make_user, make_partnership, make_organisation, make_forum, make_meeting):
    officer = make_user("Olive Officer")
    convenor = make_user("Carla Convenor")
    member = make_user("Mo Member")
    stranger = make_user("Sam Stranger")
    registrant = make_user("Rita Registrant")
    food_bank = make_organisation("Eastside Food Bank", admin=member)
    partnership = make_partnership(officers=[officer], members=[food_bank])
    forum = make_forum(partnership, "Health Forum", convenors=[convenor], members=[member])
    meeting = make_meeting(forum, "Spring meeting", starts_in=timedelta(days=40))
    db.session.add(Registration(meeting_id=meeting.id, user_id=registrant.id,
                                response=Response.IN_PERSON))
    db.session.commit()
    return SimpleNamespace(officer=officer, convenor=convenor, member=member,
                           stranger=stranger, registrant=registrant, forum=forum,
                           meeting=meeting, food_bank=food_bank, partnership=partnership)


def _url(meeting: Meeting, tail: str = "") -> str:
    return f"/meetings/{meeting.id}{tail}"


def _items(meeting_id: int) -> list[AgendaItem]:
    db.session.expire_all()
    return list(db.session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting_id)
                                   .order_by(AgendaItem.position)))


def _titles(meeting_id: int) -> list[str]:
    return [item.title for item in _items(meeting_id)]


def _add_item(client, meeting: Meeting, title: str, **extra: str) -> Any:
    return client.submit(_url(meeting, "/agenda/items/new"), {"title": title, **extra})


def _text(response: Any) -> str:
    """The page's text with tags removed and spaces collapsed."""
    html = response.get_data(as_text=True)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


STANDARD = [StandardItem.WELCOME.title, StandardItem.DECLARATIONS.title,
            StandardItem.PREVIOUS_MINUTES.title, StandardItem.MATTERS_ARISING.title,
            StandardItem.AOB.title]


# --- The officer's journey ---------------------------------------------------------------


def test_organiser_builds_an_agenda_uploads_a_paper_and_publishes_it_on_time(
        world, client, auth, outbox):
    meeting = world.meeting
    auth.login(world.convenor)
    assert client.get(_url(meeting, "/agenda")).status_code == 200

    response = client.submit(_url(meeting, "/agenda/standard"), page=_url(meeting, "/agenda"))
    assert response.status_code == 303
    assert _titles(meeting.id) == STANDARD

    response = _add_item(client, meeting, "Winter plan",
                         presenter_id=str(world.member.id),
                         presenter_organisation_id=str(world.food_bank.id),
                         minutes_allowed="20", notes="Read the **draft** plan.")
    assert response.status_code == 303
    assert _titles(meeting.id) == [*STANDARD[:4], "Winter plan", STANDARD[4]]
    plan = _items(meeting.id)[4]
    assert (plan.position, plan.presenter_id, plan.presenter_organisation_id,
            plan.minutes_allowed) == (5, world.member.id, world.food_bank.id, 20)

    # Move it above "matters arising", then back down.
    move = _url(meeting, f"/agenda/items/{plan.id}/move")
    assert client.submit(move, {"direction": "up"}, page=_url(meeting, "/agenda")
                         ).status_code == 303
    assert _titles(meeting.id)[3:5] == ["Winter plan", StandardItem.MATTERS_ARISING.title]
    assert [i.position for i in _items(meeting.id)] == [1, 2, 3, 4, 5, 6]
    client.submit(move, {"direction": "down"}, page=_url(meeting, "/agenda"))
    assert _titles(meeting.id)[4] == "Winter plan"

    response = client.submit(_url(meeting, f"/agenda/items/{plan.id}/papers/new"),
                             {"title": "Draft winter plan", "file": _pdf()})
    assert response.status_code == 303
    paper = db.session.scalar(select(Paper))
    assert (paper.title, paper.content_type, paper.size_bytes) == (
        "Draft winter plan", "application/pdf", len(PDF))

    # The draft is for the organisers: members see when it is due, not the items.
    page = _text(client.get(_url(meeting, "/")))
    assert "Winter plan" in page and "Draft" in page and "Publish the agenda by" in page
    auth.login(world.member)
    page = _text(client.get(_url(meeting, "/")))
    assert "Winter plan" not in page
    due = agenda.notice_for(db.session.get(Meeting, meeting.id)).due_day
    assert f"The agenda will be published by {format_deadline(due)}" in page
    assert client.get(_url(meeting, f"/papers/{paper.id}")).status_code == 404

    auth.login(world.convenor)
    confirm = _text(client.get(_url(meeting, "/agenda/publish")))
    assert f"by {format_deadline(due)}" in confirm and "6 items" in confirm
    response = client.submit(_url(meeting, "/agenda/publish"))
    assert response.status_code == 303
    db.session.expire_all()
    published = db.session.get(Meeting, meeting.id)
    assert published.agenda_status is AgendaStatus.PUBLISHED
    assert published.notice_met is True
    assert published.agenda_published_at is not None

    # One email each to the forum's members and the people registered (not the actor).
    told = [m for m in outbox() if m.subject.startswith("Agenda published")]
    assert sorted(m.to for m in told) == sorted([world.member.email, world.registrant.email])
    assert "5. Winter plan" in told[0].body

    # Now anyone can read it (public meeting) and download the paper.
    auth.logout()
    page = _text(client.get(_url(meeting, "/")))
    assert "5. Winter plan" in page
    assert "Presented by Mo Member (Eastside Food Bank)" in page
    assert "20 minutes" in page
    assert "(PDF, " in page
    assert "<strong>draft</strong>" in client.get(_url(meeting, "/")).get_data(as_text=True)
    with client.get(_url(meeting, f"/papers/{paper.id}")) as download:
        assert download.status_code == 200 and download.data == PDF
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.headers["Content-Disposition"].startswith("attachment;")
    assert db.session.scalar(select(func.count(AgendaRevision.id))) == 0


def test_publishing_late_is_allowed_and_recorded_as_notice_not_met(
        world, client, auth, make_meeting):
    soon = make_meeting(world.forum, "Emergency meeting", starts_in=timedelta(days=1))
    db.session.add(AgendaItem(meeting_id=soon.id, position=1, title="Flooding response"))
    db.session.commit()
    auth.login(world.convenor)
    page = _text(client.get(_url(soon, "/")))
    assert "The agenda is late: it was due by" in page
    auth.login(world.member)
    assert "The agenda has not been published yet" in _text(client.get(_url(soon, "/")))

    auth.login(world.convenor)
    assert "The agenda is late" in _text(client.get(_url(soon, "/agenda/publish")))
    response = client.submit(_url(soon, "/agenda/publish"), follow_redirects=True)
    assert "less than 5 clear working days" in _text(response)
    db.session.expire_all()
    late = db.session.get(Meeting, soon.id)
    assert late.agenda_published and late.notice_met is False
    page = _text(client.get(_url(soon, "/")))
    assert "less than the forum's 5 clear working days" in page


def test_changes_after_publication_leave_a_revision_note_and_tell_members(
        world, client, auth, outbox):
    meeting = world.meeting
    auth.login(world.convenor)
    client.submit(_url(meeting, "/agenda/standard"), page=_url(meeting, "/agenda"))
    client.submit(_url(meeting, "/agenda/publish"))
    first = len(outbox())

    # A paper for item 4 ("matters arising").
    matters = _items(meeting.id)[3]
    response = client.submit(_url(meeting, f"/agenda/items/{matters.id}/papers/new"),
                             {"title": "Action log", "file": _pdf("log.pdf")})
    assert response.status_code == 303
    note = f"Item 4 paper 'Action log' added on {_today()}"
    assert [r.note for r in db.session.scalars(select(AgendaRevision))] == [note]
    changed = outbox()[first:]
    assert sorted(m.to for m in changed) == sorted([world.member.email,
                                                    world.registrant.email])
    assert all(note in m.body for m in changed)

    # A new item goes before "Any other business".
    _add_item(client, meeting, "Youth services")
    assert _titles(meeting.id)[-2:] == ["Youth services", StandardItem.AOB.title]
    # Each change action is one email per person.
    assert len(outbox()) == first + 4

    paper = db.session.scalar(select(Paper))
    client.submit(_url(meeting, f"/agenda/papers/{paper.id}/remove"),
                  page=_url(meeting, "/agenda"))
    assert db.session.scalar(select(func.count(Paper.id))) == 0

    notes = [r.note for r in db.session.scalars(select(AgendaRevision).order_by(
        AgendaRevision.id))]
    assert notes == [note, f"Item 'Youth services' added as item 5 on {_today()}",
                     f"Item 4 paper 'Action log' removed on {_today()}"]
    page = _text(client.get(_url(meeting, "/")))
    assert "Changes since the agenda was published" in page
    for text in notes:
        assert text.replace("'", "&#39;") in page or text in page


def test_editing_an_item_after_publication_notes_what_changed(world, client, auth, outbox):
    meeting = world.meeting
    auth.login(world.convenor)
    _add_item(client, meeting, "Budget")
    item = _items(meeting.id)[0]
    client.submit(_url(meeting, "/agenda/publish"))
    before = len(outbox())
    edit = _url(meeting, f"/agenda/items/{item.id}/edit")
    assert 'value="Budget"' in client.get(edit).get_data(as_text=True)
    client.submit(edit, {"title": "Budget 2027", "notes": "New figures", "minutes_allowed": ""})
    revision = db.session.scalar(select(AgendaRevision))
    assert revision.note == f"Item 1 'Budget 2027' changed on {_today()}: title, notes"
    assert len(outbox()) == before + 2
    # Saving without a change records nothing.
    client.submit(edit, {"title": "Budget 2027", "notes": "New figures"})
    assert db.session.scalar(select(func.count(AgendaRevision.id))) == 1


def test_removing_an_item_renumbers_and_deletes_its_papers(world, client, auth, app):
    meeting = world.meeting
    auth.login(world.convenor)
    for title in ("One", "Two", "Three"):
        _add_item(client, meeting, title)
    two = _items(meeting.id)[1]
    client.submit(_url(meeting, f"/agenda/items/{two.id}/papers/new"),
                  {"title": "Paper", "file": _pdf()})
    stored = db.session.scalar(select(Paper.stored_name))
    assert uploads.path_for(stored).exists()
    response = client.submit(_url(meeting, f"/agenda/items/{two.id}/remove"),
                             page=_url(meeting, "/agenda"))
    assert response.status_code == 303
    assert [(i.title, i.position) for i in _items(meeting.id)] == [("One", 1), ("Three", 2)]
    assert not uploads.path_for(stored).exists()
    assert db.session.scalar(select(func.count(Paper.id))) == 0


def test_moving_with_htmx_swaps_the_list_and_without_js_redirects(world, client, auth):
    meeting = world.meeting
    auth.login(world.convenor)
    for title in ("One", "Two"):
        _add_item(client, meeting, title)
    two = _items(meeting.id)[1]
    move = _url(meeting, f"/agenda/items/{two.id}/move")
    response = client.submit(move, {"direction": "up"}, page=_url(meeting, "/agenda"),
                             headers=HX)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="agenda-builder"' in html
    assert "Two is now item 1." in html
    assert html.index("1. Two") < html.index("2. One")
    # Every htmx form also works without JavaScript.
    assert f'action="{move}"' in html
    assert _titles(meeting.id) == ["Two", "One"]
    # A boosted request gets the whole page, like a plain GET.
    page = client.get(_url(meeting, "/agenda"), headers={**HX, "HX-Boosted": "true"})
    assert "<html" in page.get_data(as_text=True)

    response = client.submit(move, {"direction": "up"}, page=_url(meeting, "/agenda"))
    assert response.status_code == 303
    assert _titles(meeting.id) == ["Two", "One"]  # already first: nothing moves
    assert client.submit(move, {"direction": "sideways"}, page=_url(meeting, "/agenda")
                         ).status_code == 400


def test_standard_items_are_added_once_around_what_is_there(world, client, auth):
    meeting = world.meeting
    db.session.add_all([
        AgendaItem(meeting_id=meeting.id, position=1, title="Welcome",
                   standard=StandardItem.WELCOME),
        AgendaItem(meeting_id=meeting.id, position=2, title="Main business"),
    ])
    db.session.commit()
    auth.login(world.convenor)
    client.submit(_url(meeting, "/agenda/standard"), page=_url(meeting, "/agenda"))
    assert _titles(meeting.id) == ["Welcome", *STANDARD[1:4], "Main business", STANDARD[4]]
    response = client.submit(_url(meeting, "/agenda/standard"), page=_url(meeting, "/agenda"),
                             follow_redirects=True)
    assert "The standard items are already on the agenda" in _text(response)
    assert len(_items(meeting.id)) == 6


def test_item_start_times_are_shown_while_every_item_so_far_has_a_time(world, make_meeting):
    meeting = db.session.get(Meeting, world.meeting.id)
    items = [AgendaItem(id=n, meeting_id=meeting.id, position=n, title=f"Item {n}",
                        minutes_allowed=minutes)
             for n, minutes in enumerate([10, 25, None, 5], start=1)]
    times = agenda.item_times(meeting, items)
    assert times == {1: meeting.starts_at, 2: meeting.starts_at + timedelta(minutes=10)}
    assert agenda.item_times(meeting, [AgendaItem(id=9, title="Open", position=1)]) == {}


# --- Bad input --------------------------------------------------------------------------------


def test_publishing_an_empty_agenda_is_refused(world, client, auth, outbox):
    auth.login(world.convenor)
    response = client.submit(_url(world.meeting, "/agenda/publish"))
    assert response.status_code == 422
    assert "Add at least one item before publishing the agenda" in _text(response)
    db.session.expire_all()
    assert db.session.get(Meeting, world.meeting.id).agenda_status is AgendaStatus.DRAFT
    assert outbox() == []


@pytest.mark.parametrize("value, message", [
    ("²", "Time allowed in minutes must be a whole number"),
    ("0", "Time allowed must be between 1 and 600 minutes"),
    ("601", "Time allowed must be between 1 and 600 minutes"),
    ("9223372036854775808", "Time allowed must be between 1 and 600 minutes"),
])
def test_time_allowed_out_of_bounds_or_not_in_digits_is_refused(world, client, auth, value,
                                                                 message):
    auth.login(world.convenor)
    response = _add_item(client, world.meeting, "Budget", minutes_allowed=value)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_a_new_item_without_a_title_keeps_what_was_typed(world, client, auth):
    auth.login(world.convenor)
    response = _add_item(client, world.meeting, "", notes="Remember the budget",
                         minutes_allowed="ten", presenter_name="Dr Shah")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter the item&#39;s title" in html or "Enter the item's title" in html
    assert "Time allowed in minutes must be a whole number" in html
    assert "Remember the budget" in html and 'value="Dr Shah"' in html
    assert _items(world.meeting.id) == []


def test_a_presenter_who_is_not_a_member_is_refused(world, client, auth):
    auth.login(world.convenor)
    response = _add_item(client, world.meeting, "Talk", presenter_id=str(world.stranger.id))
    assert response.status_code == 422
    assert "Select a presenter from the forum" in response.get_data(as_text=True)
    assert _items(world.meeting.id) == []


def test_a_pdf_that_is_not_a_pdf_and_an_oversize_file_are_refused(world, client, auth, app):
    meeting = world.meeting
    auth.login(world.convenor)
    _add_item(client, meeting, "Budget")
    item = _items(meeting.id)[0]
    url = _url(meeting, f"/agenda/items/{item.id}/papers/new")
    response = client.submit(url, {"title": "Budget", "file": _pdf("budget.pdf",
                                                                   b"MZ\x90\x00not a pdf")})
    assert response.status_code == 422
    assert "The file is called .pdf but is not a PDF" in response.get_data(as_text=True)
    assert 'value="Budget"' in response.get_data(as_text=True)

    big = PDF + b"0" * (uploads.MAX_FILE_BYTES + 1 - len(PDF))
    response = client.submit(url, {"title": "Budget", "file": _pdf("big.pdf", big)})
    response.request.environ["wsgi.input"].close()  # the test client's spooled body
    assert response.status_code == 422
    assert "must be smaller than 20MB" in response.get_data(as_text=True)

    response = client.submit(url, {"title": "", "file": _pdf()})
    assert response.status_code == 422
    assert "Enter the paper" in response.get_data(as_text=True)

    assert db.session.scalar(select(func.count(Paper.id))) == 0
    folder = uploads.upload_folder()
    assert [p for p in folder.iterdir() if not p.name.startswith(".")] == []


def test_other_paper_types_are_accepted_by_content(world, client, auth):
    meeting = world.meeting
    auth.login(world.convenor)
    _add_item(client, meeting, "Data")
    item = _items(meeting.id)[0]
    url = _url(meeting, f"/agenda/items/{item.id}/papers/new")
    response = client.submit(url, {"title": "Figures", "file": (io.BytesIO(
        b"area,count\nNorth,12\n"), "figures.csv")})
    assert response.status_code == 303
    assert db.session.scalar(select(Paper.content_type)) == "text/csv"


def test_a_text_paper_keeps_its_name_and_type_and_other_names_are_refused(
        world, client, auth):
    """A .txt paper is plain text, downloaded as notes.txt (never notes.txt.csv); a name
    saying another type is refused with the accepted types, keeping the title typed.
    Members-only or draft rules for downloading are as for any paper (tested below)."""
    meeting = world.meeting
    auth.login(world.convenor)
    _add_item(client, meeting, "Walkabout")
    item = _items(meeting.id)[0]
    url = _url(meeting, f"/agenda/items/{item.id}/papers/new")
    response = client.submit(url, {"title": "Walk notes", "file": (io.BytesIO(
        "Café stop at 11\n".encode()), "notes.txt")})
    assert response.status_code == 303
    paper = db.session.scalar(select(Paper))
    assert (paper.content_type, paper.original_filename) == ("text/plain", "notes.txt")
    assert "(TXT, " in _text(client.get(_url(meeting, "/")))
    with client.get(_url(meeting, f"/papers/{paper.id}")) as download:
        assert download.status_code == 200
        assert download.headers["Content-Type"] == "text/plain; charset=utf-8"
        disposition = download.headers["Content-Disposition"]
        assert disposition.startswith("attachment;") and "notes.txt" in disposition
        assert "csv" not in disposition
        assert download.headers["X-Content-Type-Options"] == "nosniff"

    response = client.submit(url, {"title": "Route", "file": (io.BytesIO(b"# Route\n"),
                                                             "route.md")})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert ("The file is called .md: the selected file must be a PDF, DOCX, ODT, XLSX, "
            "PPTX, CSV or TXT") in html
    assert 'value="Route"' in html
    assert db.session.scalar(select(func.count(Paper.id))) == 1


def test_a_cancelled_meeting_refuses_agenda_changes(world, client, auth, make_meeting):
    cancelled = make_meeting(world.forum, "Cancelled", status=MeetingStatus.CANCELLED,
                             status_reason="Venue flooded")
    db.session.add(AgendaItem(meeting_id=cancelled.id, position=1, title="Kept"))
    db.session.commit()
    item = _items(cancelled.id)[0]
    auth.login(world.convenor)
    for url, data in [
        ("/agenda/items/new", {"title": "New"}),
        (f"/agenda/items/{item.id}/edit", {"title": "Changed"}),
        (f"/agenda/items/{item.id}/remove", {}),
        (f"/agenda/items/{item.id}/move", {"direction": "down"}),
        ("/agenda/standard", {}),
        ("/agenda/publish", {}),
        (f"/agenda/items/{item.id}/papers/new", {"title": "P", "file": _pdf()}),
    ]:
        response = client.submit(_url(cancelled, url), data, page="/account/sign-out")
        assert response.status_code == 303, url
        assert response.headers["Location"].endswith(_url(cancelled, "/"))
    assert _titles(cancelled.id) == ["Kept"]
    assert client.get(_url(cancelled, "/agenda")).status_code == 303
    # With htmx, the whole page goes back to the meeting rather than a swap.
    response = client.submit(_url(cancelled, f"/agenda/items/{item.id}/move"),
                             {"direction": "down"}, page="/account/sign-out", headers=HX)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == _url(cancelled, "/")
    page = client.get(_url(cancelled, "/"), follow_redirects=True)
    assert "Build the agenda" not in _text(page)
    with pytest.raises(Conflict):
        agenda.add_item(world.convenor, db.session.get(Meeting, cancelled.id),
                        ItemDetails(title="Sneaky"))


def test_services_refuse_people_who_do_not_organise_the_meeting(world):
    meeting = db.session.get(Meeting, world.meeting.id)
    from partnerships.errors import PermissionDenied

    for person in (world.member, world.stranger):
        with pytest.raises(PermissionDenied):
            agenda.add_item(person, meeting, ItemDetails(title="Mine"))
        with pytest.raises(PermissionDenied):
            agenda.add_standard_items(person, meeting)
    assert _items(meeting.id) == []


# --- Notice in clear working days -----------------------------------------------------------


def _fixed_meeting(make_meeting, forum: Forum, day: date, hour: int = 10,
                   minute: int = 0) -> Meeting:
    starts = uk_local_to_utc(day, datetime.min.time().replace(hour=hour, minute=minute))
    meeting = make_meeting(forum, "Fixed", starts_at=starts, ends_at=starts + timedelta(hours=2))
    db.session.add(AgendaItem(meeting_id=meeting.id, position=1, title="Item"))
    db.session.commit()
    return meeting


def test_christmas_and_new_year_bank_holidays_do_not_count():
    # Tuesday 5 January 2027, 5 clear working days: 4 Jan, 31, 30, 29 Dec, then 24 Dec
    # (25 and 28 December and 1 January are bank holidays), so publish by 23 December.
    meeting_day = date(2027, 1, 5)
    assert agenda.notice_due_day(meeting_day, 5) == date(2026, 12, 23)
    assert clear_working_days_between(date(2026, 12, 23), meeting_day) == 5
    assert clear_working_days_between(date(2026, 12, 24), meeting_day) == 4
    assert agenda.notice_met(date(2026, 12, 23), meeting_day, 5)
    assert not agenda.notice_met(date(2026, 12, 24), meeting_day, 5)


def test_easter_2027_good_friday_and_easter_monday_do_not_count():
    # Tuesday 30 March 2027, after Easter Monday (29 March) and Good Friday (26 March):
    # 25, 24, 23, 22 and 19 March are the five clear days, so publish by 18 March.
    meeting_day = date(2027, 3, 30)
    assert latest_day_for_notice(meeting_day, 5) == date(2027, 3, 18)
    assert agenda.notice_met(date(2027, 3, 18), meeting_day, 5)
    assert not agenda.notice_met(date(2027, 3, 19), meeting_day, 5)
    # Neither the publication day nor the meeting day counts.
    assert clear_working_days_between(date(2027, 3, 25), date(2027, 3, 30)) == 0
    # With no notice, the last working day before: not Easter Monday or Good Friday.
    assert agenda.notice_due_day(meeting_day, 0) == date(2027, 3, 25)


def test_publication_on_christmas_examples_records_notice(world, app, make_meeting):
    meeting = _fixed_meeting(make_meeting, world.forum, date(2027, 1, 5))
    with app.test_request_context():
        notice = agenda.publish(world.convenor, meeting,
                                now=datetime(2026, 12, 23, 17, 0, tzinfo=UTC))
    assert notice.met is True and notice.given == 5
    assert meeting.notice_met is True

    late = _fixed_meeting(make_meeting, world.forum, date(2027, 1, 5))
    with app.test_request_context():
        notice = agenda.publish(world.convenor, late,
                                now=datetime(2026, 12, 24, 9, 0, tzinfo=UTC))
    assert notice.met is False and notice.given == 4


def test_the_publication_day_is_the_uk_day_across_the_clock_change(world, app, make_meeting):
    # Thursday 8 April 2027 (British Summer Time from 28 March): 7, 6, 5, 2 and 1 April
    # (Easter Monday 29 March is no use), so publish by Wednesday 31 March.
    meeting = _fixed_meeting(make_meeting, world.forum, date(2027, 4, 8))
    assert agenda.notice_for(meeting).due_day == date(2027, 3, 31)
    # 23:30 UTC on 31 March is 00:30 on 1 April in the UK: one day late.
    with app.test_request_context():
        notice = agenda.publish(world.convenor, meeting,
                                now=datetime(2027, 3, 31, 23, 30, tzinfo=UTC))
    assert notice.published_day == date(2027, 4, 1)
    assert notice.met is False

    on_time = _fixed_meeting(make_meeting, world.forum, date(2027, 4, 8))
    with app.test_request_context():
        notice = agenda.publish(world.convenor, on_time,
                                now=datetime(2027, 3, 31, 22, 30, tzinfo=UTC))
    assert notice.met is True


def test_the_meeting_day_is_the_uk_day_for_a_meeting_just_after_midnight(world, make_meeting):
    # 00:30 BST on Thursday 1 April 2027 is 23:30 UTC on 31 March.
    meeting = _fixed_meeting(make_meeting, world.forum, date(2027, 4, 1), hour=0, minute=30)
    assert meeting.starts_at.date() == date(2027, 3, 31)
    assert agenda.meeting_day(meeting) == date(2027, 4, 1)
    # 31, 30 March, (29 and 26 holidays), 25, 24, 23 March: publish by 22 March.
    assert agenda.notice_for(meeting).due_day == date(2027, 3, 22)


def test_a_longer_notice_period_from_the_forum_moves_the_due_date(world, make_meeting):
    world.forum.notice_days = 10
    db.session.commit()
    meeting = _fixed_meeting(make_meeting, world.forum, date(2027, 1, 5))
    notice = agenda.notice_for(meeting, today=date(2026, 12, 1))
    assert notice.days == 10
    assert notice.due_day == latest_day_for_notice(date(2027, 1, 5), 10)
    assert not notice.late
    assert agenda.notice_for(meeting, today=date(2026, 12, 31)).late


# --- Item requests ----------------------------------------------------------------------------


def test_a_member_asks_for_an_item_and_the_organiser_accepts_it(world, client, auth, outbox):
    meeting = world.meeting
    auth.login(world.convenor)
    client.submit(_url(meeting, "/agenda/standard"), page=_url(meeting, "/agenda"))

    auth.login(world.member)
    page = _text(client.get(_url(meeting, "/")))
    assert "Ask for an item on the agenda" in page
    response = client.submit(_url(meeting, "/requests/new"), {
        "title": "Food poverty in Eastside", "reason": "Demand has doubled.",
        "presenter": "Mo Member"})
    assert response.status_code == 303
    [request] = db.session.scalars(select(ItemRequest))
    assert request.status is ItemRequestStatus.PENDING
    [to_convenor] = outbox(world.convenor.email)
    assert "Food poverty in Eastside" in to_convenor.body
    assert "Waiting for a decision" in _text(client.get(_url(meeting, "/")))

    auth.login(world.convenor)
    assert "Item requests (1 waiting)" in _text(client.get(_url(meeting, "/")))
    listing = _text(client.get(_url(meeting, "/requests")))
    assert "Demand has doubled." in listing
    response = client.submit(_url(meeting, f"/requests/{request.id}/accept"),
                             page=_url(meeting, "/requests"))
    assert response.status_code == 303
    assert _titles(meeting.id)[-2:] == ["Food poverty in Eastside", StandardItem.AOB.title]
    added = _items(meeting.id)[-2]
    assert added.presenter_name == "Mo Member"
    db.session.expire_all()
    request = db.session.get(ItemRequest, request.id)
    assert request.status is ItemRequestStatus.ACCEPTED and request.item_id == added.id
    [accepted] = [m for m in outbox(world.member.email) if "accepted" in m.subject]
    assert "Food poverty in Eastside" in accepted.body
    assert db.session.scalar(select(func.count(AgendaRevision.id))) == 0  # still a draft

    # Deciding twice is refused.
    response = client.submit(_url(meeting, f"/requests/{request.id}/accept"),
                             page="/account/sign-out", follow_redirects=True)
    assert "already been decided" in _text(response)
    assert len(_items(meeting.id)) == 6

    auth.login(world.member)
    assert "Accepted" in _text(client.get(_url(meeting, "/")))


def test_accepting_after_publication_notes_the_new_item(world, client, auth, outbox):
    meeting = world.meeting
    db.session.add(AgendaItem(meeting_id=meeting.id, position=1, title="Opening"))
    db.session.add(ItemRequest(meeting_id=meeting.id, requested_by_id=world.member.id,
                               title="Transport", reason="Bus cuts"))
    db.session.commit()
    request_id = db.session.scalar(select(ItemRequest.id))
    auth.login(world.convenor)
    client.submit(_url(meeting, "/agenda/publish"))
    client.submit(_url(meeting, f"/requests/{request_id}/accept"),
                  page=_url(meeting, "/requests"))
    assert [r.note for r in db.session.scalars(select(AgendaRevision))] == [
        f"Item 'Transport' added as item 2 on {_today()}"]
    assert len([m for m in outbox(world.member.email) if "Agenda changed" in m.subject]) == 1


def test_declining_needs_a_reason_and_the_requester_is_told(world, client, auth, outbox):
    meeting = world.meeting
    db.session.add(ItemRequest(meeting_id=meeting.id, requested_by_id=world.member.id,
                               title="Parking", reason="No spaces"))
    db.session.commit()
    request_id = db.session.scalar(select(ItemRequest.id))
    auth.login(world.convenor)
    url = _url(meeting, f"/requests/{request_id}/decline")
    response = client.submit(url, {"reason": ""})
    assert response.status_code == 422
    assert "Enter why the item is declined" in response.get_data(as_text=True)
    assert db.session.scalar(select(ItemRequest.status)) is ItemRequestStatus.PENDING

    response = client.submit(url, {"reason": "It is for the transport forum."})
    assert response.status_code == 303
    db.session.expire_all()
    request = db.session.get(ItemRequest, request_id)
    assert request.status is ItemRequestStatus.DECLINED
    assert request.decision_reason == "It is for the transport forum."
    [declined] = outbox(world.member.email)
    assert "It is for the transport forum." in declined.body
    assert _items(meeting.id) == []

    auth.login(world.member)
    page = _text(client.get(_url(meeting, "/")))
    assert "Declined" in page and "It is for the transport forum." in page
    # A decided request cannot be declined again.
    auth.login(world.convenor)
    assert client.get(url).status_code == 303


def test_item_requests_need_a_title_and_a_reason(world, client, auth):
    auth.login(world.member)
    response = client.submit(_url(world.meeting, "/requests/new"),
                             {"title": "", "reason": "", "presenter": "Me"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter a title for the item" in html
    assert "Enter why the forum should discuss this" in html
    assert 'value="Me"' in html
    assert db.session.scalar(select(func.count(ItemRequest.id))) == 0


def test_items_cannot_be_requested_for_cancelled_or_past_meetings(
        world, client, auth, make_meeting):
    cancelled = make_meeting(world.forum, "Off", status=MeetingStatus.CANCELLED)
    past = make_meeting(world.forum, "Done", starts_in=timedelta(days=-3))
    auth.login(world.member)
    for meeting in (cancelled, past):
        assert "Ask for an item" not in _text(client.get(_url(meeting, "/")))
        response = client.submit(_url(meeting, "/requests/new"),
                                 {"title": "T", "reason": "R"}, page="/account/sign-out")
        assert response.status_code == 303
    assert db.session.scalar(select(func.count(ItemRequest.id))) == 0


def test_people_who_are_not_members_cannot_ask_for_items(world, client, auth):
    auth.login(world.stranger)
    assert "Ask for an item" not in _text(client.get(_url(world.meeting, "/")))
    assert client.get(_url(world.meeting, "/requests/new")).status_code == 403
    auth.login(world.registrant)
    assert client.get(_url(world.meeting, "/requests/new")).status_code == 403


# --- Matters arising -----------------------------------------------------------------------


@pytest.fixture
def earlier(world, make_meeting):
    """Two earlier meetings of the forum with open actions: one public with published
    minutes, one members-only whose minutes are still a draft."""
    public = make_meeting(world.forum, "January meeting", starts_in=timedelta(days=-60),
                          minutes_status=MinutesStatus.PUBLISHED)
    private = make_meeting(world.forum, "February meeting", starts_in=timedelta(days=-30),
                           public=False, minutes_status=MinutesStatus.DRAFT)
    db.session.add_all([
        ActionItem(meeting_id=public.id, forum_id=world.forum.id,
                   description="Map food banks", owner_id=world.member.id,
                   owner_organisation_id=world.food_bank.id, due_date=date(2027, 2, 1)),
        ActionItem(meeting_id=private.id, forum_id=world.forum.id,
                   description="Confidential budget review", owner_id=world.convenor.id),
        ActionItem(meeting_id=public.id, forum_id=world.forum.id,
                   description="Finished thing", status="done"),
    ])
    db.session.commit()
    return SimpleNamespace(public=public, private=private)


def test_open_actions_appear_under_matters_arising(world, earlier, client, auth):
    meeting = world.meeting
    auth.login(world.convenor)
    client.submit(_url(meeting, "/agenda/standard"), page=_url(meeting, "/agenda"))
    client.submit(_url(meeting, "/agenda/publish"))

    page = client.get(_url(meeting, "/")).get_data(as_text=True)
    matters = page.index(StandardItem.MATTERS_ARISING.title)
    assert matters < page.index("Map food banks") < page.index(StandardItem.AOB.title)
    assert "Confidential budget review" in page  # organisers see draft-minute actions
    assert "Finished thing" not in page
    assert "1 February 2027" in page and "January meeting" in page

    auth.logout()
    page = _text(client.get(_url(meeting, "/")))
    assert "Map food banks" in page and "Mo Member, Eastside Food Bank" in page
    assert "Confidential budget review" not in page
    auth.login(world.member)
    assert "Confidential budget review" not in _text(client.get(_url(meeting, "/")))


def test_without_a_matters_arising_item_open_actions_get_their_own_section(
        world, earlier, client, auth):
    meeting = world.meeting
    db.session.add(AgendaItem(meeting_id=meeting.id, position=1, title="Budget"))
    db.session.commit()
    auth.login(world.convenor)
    client.submit(_url(meeting, "/agenda/publish"))
    auth.login(world.member)
    page = _text(client.get(_url(meeting, "/")))
    assert "Open actions from earlier meetings" in page
    assert "Map food banks" in page


# --- Permissions ------------------------------------------------------------------------------

WHO = ["anonymous", "stranger", "registrant", "member", "convenor", "officer"]
MANAGERS = {"convenor", "officer"}
INSIDERS = {"member", "convenor", "officer"}

# (method, path under /meetings/<id>, kind)
ROUTES: list[tuple[str, str, str]] = [
    ("GET", "/agenda", "manage"),
    ("GET", "/agenda/items/new", "manage"),
    ("POST", "/agenda/items/new", "manage"),
    ("GET", "/agenda/items/{item}/edit", "manage"),
    ("POST", "/agenda/items/{item}/edit", "manage"),
    ("POST", "/agenda/items/{item}/remove", "manage"),
    ("POST", "/agenda/items/{item}/move", "manage"),
    ("POST", "/agenda/standard", "manage"),
    ("GET", "/agenda/items/{item}/papers/new", "manage"),
    ("POST", "/agenda/items/{item}/papers/new", "manage"),
    ("POST", "/agenda/papers/{paper}/remove", "manage"),
    ("GET", "/agenda/publish", "manage"),
    ("POST", "/agenda/publish", "manage"),
    ("GET", "/papers/{paper}", "paper"),
    ("GET", "/papers/{draft_paper}", "draft-paper"),
    ("GET", "/requests/new", "request"),
    ("POST", "/requests/new", "request"),
    ("GET", "/requests", "manage"),
    ("POST", "/requests/{request}/accept", "manage"),
    ("GET", "/requests/{request}/decline", "manage"),
    ("POST", "/requests/{request}/decline", "manage"),
]
HIJACK = {"title": "Hijacked", "reason": "Because", "direction": "up", "notes": "x",
          "presenter": "Me"}


def expected(kind: str, who: str, method: str, path: str, public: bool, *,
             managers: set[str] = MANAGERS, insiders: set[str] = INSIDERS) -> int | None:
    """The status each person gets; None where the organisers' success is covered by
    the journeys above. ``managers`` and ``insiders`` are the meeting host's."""
    sees = public or who in insiders
    # Someone who may not see a members-only meeting: sign in first, or the 403 page
    # saying whose meeting it is.
    refused = 302 if who == "anonymous" else 403
    if kind == "paper":
        return 200 if sees else refused
    if kind == "draft-paper":
        return 200 if who in managers else (404 if sees else refused)
    if who == "anonymous":
        return 302
    if not sees:
        return 403
    if kind == "request":
        if who in insiders:
            return 200 if method == "GET" else None
        return 403
    if who in managers:
        # The agenda is already published, so its publish page sends them back.
        return 200 if method == "GET" and path != "/agenda/publish" else None
    return 403


@pytest.fixture(params=[True, False, (True, "partnership"), (False, "partnership")],
                ids=["public", "members-only", "partnership-public",
                     "partnership-members-only"])
def table(request, world, make_meeting, app):
    """A published meeting with a paper and a pending request, and a draft meeting with
    a paper; both public or both members-only; both the forum's, or both of the
    partnership itself (issue 15: its officer organises them, the member, an admin of a
    member organisation, is an insider, the forum's convenor an outsider)."""
    public, host_kind = (request.param if isinstance(request.param, tuple)
                         else (request.param, "forum"))
    host = world.forum if host_kind == "forum" else world.partnership
    published = make_meeting(host, "Published", public=public,
                             agenda_status=AgendaStatus.PUBLISHED,
                             agenda_published_at=datetime.now(UTC), notice_met=True)
    draft = make_meeting(host, "Draft", public=public)
    papers = {}
    for meeting in (published, draft):
        item = AgendaItem(meeting_id=meeting.id, position=1, title="Budget")
        db.session.add(item)
        db.session.flush()
        stored = uploads.save(uploads.FileStorage(stream=io.BytesIO(PDF), filename="b.pdf"),
                              agenda.PAPER_KINDS)
        paper = Paper(item_id=item.id, title="Budget paper", original_filename="b.pdf",
                      stored_name=stored.stored_name, content_type=stored.content_type,
                      size_bytes=stored.size, sha256=stored.sha256)
        db.session.add(paper)
        db.session.flush()
        papers[meeting.id] = (item.id, paper.id)
    db.session.add(Registration(meeting_id=published.id, user_id=world.registrant.id,
                                response=Response.ONLINE))
    item_request = ItemRequest(meeting_id=published.id, requested_by_id=world.member.id,
                               title="Please", reason="Because")
    db.session.add(item_request)
    db.session.commit()
    partnership_host = host_kind == "partnership"
    return SimpleNamespace(
        public=public, meeting=published, draft=draft,
        managers={"officer"} if partnership_host else MANAGERS,
        insiders={"member", "officer"} if partnership_host else INSIDERS, ids={
        "item": papers[published.id][0], "paper": papers[published.id][1],
        "draft_paper": papers[draft.id][1], "request": item_request.id})


def _snapshot() -> tuple[Any, ...]:
    db.session.expire_all()
    return (
        tuple(db.session.execute(select(AgendaItem.id, AgendaItem.title, AgendaItem.position)
                                 .order_by(AgendaItem.id)).all()),
        db.session.scalar(select(func.count(Paper.id))),
        tuple(db.session.execute(select(ItemRequest.id, ItemRequest.status)).all()),
        db.session.scalar(select(func.count(AgendaRevision.id))),
        tuple(db.session.execute(select(Meeting.id, Meeting.agenda_status)).all()),
    )


@pytest.mark.parametrize("who", WHO)
def test_every_agenda_route_answers_each_kind_of_person_as_it_should(
        client, auth, world, table, who):
    users = {"stranger": world.stranger, "registrant": world.registrant,
             "member": world.member, "convenor": world.convenor, "officer": world.officer}
    if who != "anonymous":
        auth.login(users[who])
    before = _snapshot()
    checked = 0
    for method, template, kind in ROUTES:
        status = expected(kind, who, method, template, table.public,
                          managers=table.managers, insiders=table.insiders)
        if status is None:
            continue
        meeting = table.draft if kind == "draft-paper" else table.meeting
        url = _url(meeting, template.format(**table.ids))
        if method == "GET":
            response = client.get(url)
        else:
            page = SIGN_IN if who == "anonymous" else "/account/sign-out"
            response = client.submit(url, HIJACK, page=page)
        with response:
            assert response.status_code == status, (who, method, url)
            if status == 302:
                assert response.headers["Location"].startswith(SIGN_IN)
            if status == 200 and kind in ("paper", "draft-paper"):
                assert response.data == PDF
        checked += 1
    assert checked >= 5
    assert _snapshot() == before, "a refused request changed something"


def test_members_only_papers_never_reach_non_members_even_by_guessing(
        world, client, auth, make_meeting, make_forum, make_user):
    """A paper's id under another meeting's address is not found either."""
    private = make_meeting(world.forum, "Private", public=False,
                           agenda_status=AgendaStatus.PUBLISHED)
    open_meeting = make_meeting(world.forum, "Open")
    item = AgendaItem(meeting_id=private.id, position=1, title="Secret")
    db.session.add(item)
    db.session.flush()
    stored = uploads.save(uploads.FileStorage(stream=io.BytesIO(PDF), filename="s.pdf"),
                          agenda.PAPER_KINDS)
    paper = Paper(item_id=item.id, title="Secret", original_filename="s.pdf",
                  stored_name=stored.stored_name, content_type=stored.content_type,
                  size_bytes=stored.size, sha256=stored.sha256)
    db.session.add(paper)
    db.session.commit()
    auth.login(world.stranger)
    refused = client.get(_url(private, f"/papers/{paper.id}"))
    assert refused.status_code == 403 and "Secret" not in _text(refused)
    assert client.get(_url(open_meeting, f"/papers/{paper.id}")).status_code == 404
    assert "Secret" not in _text(client.get(_url(open_meeting, "/")))
    auth.login(world.member)
    with client.get(_url(private, f"/papers/{paper.id}")) as download:
        assert download.status_code == 200
    assert client.get(_url(open_meeting, f"/papers/{paper.id}")).status_code == 404


def test_the_permission_table_covers_every_agenda_route(app):
    """A new agenda route must be added to ``ROUTES`` so the table sees it."""
    covered = {(method, re.sub(r"\{\w+\}", "<>", path)) for method, path, _ in ROUTES}
    found = set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if view.__module__ != "partnerships.meetings.agenda_views":
            continue
        path = re.sub(r"<[^>]+>", "<>", rule.rule).replace("/meetings/<>", "", 1)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((method, path))
    assert found <= covered, found - covered


# --- Query budget ------------------------------------------------------------------------------


def _fill(meeting: Meeting, items: int, papers: int, presenter_id: int) -> None:
    for number in range(1, items + 1):
        item = AgendaItem(meeting_id=meeting.id, position=number, title=f"Item {number}",
                          presenter_id=presenter_id, minutes_allowed=10,
                          notes=f"Notes for **item {number}**")
        db.session.add(item)
        db.session.flush()
        for n in range(papers):
            db.session.add(Paper(item_id=item.id, title=f"Paper {number}.{n}",
                                 original_filename="p.pdf", stored_name=f"x{number}{n}.pdf",
                                 content_type="application/pdf", size_bytes=2048,
                                 sha256="0" * 64))
    db.session.add(AgendaRevision(meeting_id=meeting.id, note="Item 1 changed"))
    db.session.commit()


def test_the_meeting_page_does_not_query_per_item_or_paper(
        world, earlier, client, auth, app, make_meeting, count_queries):
    small = make_meeting(world.forum, "Small", agenda_status=AgendaStatus.PUBLISHED,
                         agenda_published_at=datetime.now(UTC))
    big = make_meeting(world.forum, "Big", agenda_status=AgendaStatus.PUBLISHED,
                       agenda_published_at=datetime.now(UTC))
    _fill(small, 1, 1, world.member.id)
    _fill(big, 20, 3, world.member.id)
    db.session.add(ItemRequest(meeting_id=big.id, requested_by_id=world.member.id,
                               title="Please", reason="Because"))
    db.session.commit()
    auth.login(world.convenor)

    counts = []
    for meeting in (small, big):
        client.get(_url(meeting, "/"))  # warm up
        with count_queries() as log:
            response = client.get(_url(meeting, "/"))
        assert response.status_code == 200
        counts.append(log.count)
    assert counts[0] == counts[1], counts
    assert "Paper 20.2" in response.get_data(as_text=True)

    with app.test_request_context():
        meeting = queries.get_meeting(big.id)
        convenor = db.session.get(type(world.convenor), world.convenor.id)
        permissions.can_manage_meeting(convenor, meeting)  # the page asks this anyway
        with count_queries() as log:
            context = agenda.page_context(meeting, convenor)
            html = app.jinja_env.get_template("meetings/_agenda.html").render(
                meeting=meeting, **context)
        assert log.count <= 4, log.statements
        assert len(context["agenda_items"]) == 20
        assert context["agenda_pending_requests"] == 1
        assert "Paper 20.2" in html
        # No "matters arising" item here, so the open actions have their own section.
        assert "Open actions from earlier meetings" in html and "Map food banks" in html


def test_anonymous_visitors_of_a_draft_agenda_cost_no_agenda_queries(
        world, app, count_queries):
    from flask_login import AnonymousUserMixin

    with app.test_request_context():
        meeting = queries.get_meeting(world.meeting.id)
        with count_queries() as log:
            context = agenda.page_context(meeting, AnonymousUserMixin())
        assert log.count == 0
        assert context["agenda_items"] == [] and not context["agenda_visible"]


# --- The forum's notice period ----------------------------------------------------------------


def _forum_form(**changes: str) -> dict[str, str]:
    return {"name": "Transport Forum", "slug": "", "purpose": "Buses and trains.",
            "theme": "", "tags": "", "membership_policy": "open", "visibility": "public",
            "convene_myself": "y", "convenors": "", **changes}


def test_a_forum_is_created_with_its_agenda_notice(world, client, auth):
    auth.login(world.officer)
    base = f"/partnerships/{world.partnership.slug}/forums/new"
    assert "Agenda notice in clear working days" in client.get(base).get_data(as_text=True)
    response = client.submit(base, _forum_form(notice_days="3"))
    assert response.status_code == 303
    forum = db.session.scalar(select(Forum).where(Forum.name == "Transport Forum"))
    assert forum.notice_days == 3

    response = client.submit(base, _forum_form(name="Other", notice_days=""))
    assert response.status_code == 303
    assert db.session.scalar(select(Forum.notice_days).where(Forum.name == "Other")) == 5


@pytest.mark.parametrize("value, message", [
    ("21", "Agenda notice must be from 0 to 20 clear working days"),
    ("five", "Agenda notice in clear working days must be a whole number"),
    ("-1", "Agenda notice in clear working days must be a whole number"),
    ("²", "Agenda notice in clear working days must be a whole number"),
    ("9223372036854775808", "Agenda notice must be from 0 to 20 clear working days"),
])
def test_a_bad_agenda_notice_is_refused_and_kept(world, client, auth, value, message):
    auth.login(world.convenor)
    edit = f"/partnerships/{world.partnership.slug}/forums/{world.forum.slug}/edit"
    assert 'value="5"' in client.get(edit).get_data(as_text=True)
    response = client.submit(edit, _forum_form(name="Health Forum", notice_days=value))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and f'value="{value}"' in html
    db.session.expire_all()
    assert db.session.get(Forum, world.forum.id).notice_days == 5


def test_changing_the_forum_notice_changes_when_agendas_are_due(world, client, auth):
    auth.login(world.convenor)
    edit = f"/partnerships/{world.partnership.slug}/forums/{world.forum.slug}/edit"
    response = client.submit(edit, _forum_form(name="Health Forum", notice_days="0"))
    assert response.status_code == 303
    db.session.expire_all()
    forum = db.session.get(Forum, world.forum.id)
    assert forum.notice_days == 0
    meeting = db.session.get(Meeting, world.meeting.id)
    assert agenda.notice_for(meeting).due_day == agenda.meeting_day(meeting) - timedelta(days=1)


def test_service_rejects_an_out_of_range_notice(world):
    from partnerships.forums import services as forum_services
    from partnerships.forums.services import ForumDetails

    forum = db.session.get(Forum, world.forum.id)
    details = ForumDetails(name=forum.name, slug=forum.slug, purpose=forum.purpose,
                           membership_policy=forum.membership_policy,
                           visibility=forum.visibility, notice_days=99)
    with pytest.raises(ValidationError) as error:
        forum_services.update_forum(world.convenor, forum, details)
    assert error.value.field == "notice_days"


def test_email_links_lead_to_the_agenda(world, client, auth, outbox, app):
    meeting = world.meeting
    db.session.add(AgendaItem(meeting_id=meeting.id, position=1, title="Budget"))
    db.session.commit()
    auth.login(world.convenor)
    client.submit(_url(meeting, "/agenda/publish"))
    [message] = outbox(world.member.email)
    with app.test_request_context():
        expected_url = url_for("meetings.show", meeting_id=meeting.id, _external=True,
                               _anchor="agenda")
    assert expected_url in message.body
