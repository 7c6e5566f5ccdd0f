"""Attendance from the whole list: the forum's members (and convenors) as well as the
people who registered and walk-ins; and the meeting page never mixing up what people
said beforehand (registrations) with what was recorded (attendance) (issue 15)."""

from __future__ import annotations

import re

from sqlalchemy import select

from partnerships.extensions import db
from partnerships.forums.models import ForumMember, ForumMemberStatus
from partnerships.meetings import records
from partnerships.meetings.models import (
    AgendaStatus,
    Attendance,
    AttendanceMark,
    Registration,
    RegistrationStatus,
    Response,
)

from . import test_meetings_records
from .test_meetings_records import SIGN_IN, TOKEN_PAGE, count, fresh, page, register

world = test_meetings_records.world  # the same people and meetings


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _marks(meeting_id: int) -> dict[int, Attendance]:
    db.session.expire_all()
    return {row.user_id: row.attendance for row in db.session.scalars(
        select(AttendanceMark).where(AttendanceMark.meeting_id == meeting_id))}


def test_members_who_did_not_register_are_on_the_list_and_can_be_ticked(
        client, auth, world):
    came = register(world.past, world.member)
    auth.login(world.officer)
    base = f"/meetings/{world.past.id}"
    html = page(client, f"{base}/attendance")
    # The registrant by registration; the colleague (a member) and the convenor by person.
    assert f'name="attendance-{came.id}"' in html
    assert f'name="attendance-member-{world.colleague.id}"' in html
    assert f'name="attendance-member-{world.convenor.id}"' in html
    assert "Did not register" in html
    # Not the people outside the forum, nor the registrant twice.
    assert f'name="attendance-member-{world.stranger.id}"' not in html
    assert f'name="attendance-member-{world.member.id}"' not in html

    response = client.submit(f"{base}/attendance", {
        f"attendance-{came.id}": "present",
        f"attendance-member-{world.colleague.id}": "present",
        f"attendance-member-{world.convenor.id}": "apologies"})
    assert response.status_code == 303
    assert fresh(Registration, came.id).attendance is Attendance.PRESENT
    assert _marks(world.past.id) == {world.colleague.id: Attendance.PRESENT,
                                     world.convenor.id: Attendance.APOLOGIES}
    html = page(client, f"{base}/attendance")
    assert "Attendance recorded: 2 present, 1 apologies, 0 absent." in _text(html)

    # Changing and clearing a mark.
    response = client.submit(f"{base}/attendance", {
        f"attendance-{came.id}": "present",
        f"attendance-member-{world.colleague.id}": "absent",
        f"attendance-member-{world.convenor.id}": ""})
    assert response.status_code == 303
    assert _marks(world.past.id) == {world.colleague.id: Attendance.ABSENT}

    # Members see who came, by name, in the minutes.
    world.past.minutes_summary = "We met."
    db.session.commit()
    section = page(client, f"{base}/").split('id="minutes"')[1]
    assert "Attendance recorded: 1 present, 0 apologies, 1 absent" in _text(section)


def test_registrations_and_attendance_are_labelled_and_agree(client, auth, world):
    """The issue's case: three registered to come in person, none sent apologies; at
    the meeting two came and one sent apologies. Then a walk-in."""
    first = register(world.past, world.member)
    second = register(world.past, world.colleague)
    third = register(world.past, world.org_admin)
    world.past.agenda_status = AgendaStatus.PUBLISHED
    world.past.minutes_summary = "We met."
    db.session.commit()
    auth.login(world.officer)
    base = f"/meetings/{world.past.id}"
    response = client.submit(f"{base}/attendance", {
        f"attendance-{first.id}": "present", f"attendance-{second.id}": "present",
        f"attendance-{third.id}": "apologies"})
    assert response.status_code == 303

    text = _text(page(client, f"{base}/"))
    registrations = ("Registrations: 3 registered to attend in person, 0 sent apologies "
                     "when registering, 0 on the waiting list.")
    attendance = "Attendance recorded: 2 present, 1 apologies, 0 absent"
    assert registrations in text and attendance in text
    assert f"{attendance}, 1 not marked." in _text(page(client, f"{base}/attendance"))
    # No unlabelled counts stand beside them.
    assert "3 in person" not in text and "sent apologies, 0 absent" not in text

    # A walk-in is attendance, not a registration.
    client.submit(f"{base}/attendance/walk-in", {"name": "Wendy Walker"},
                  page=f"{base}/attendance")
    text = _text(page(client, f"{base}/"))
    assert registrations in text
    assert "Attendance recorded: 3 present, 1 apologies, 0 absent" in text
    counts = records.count_attendance(records.attendance_list(fresh(type(world.past),
                                                                    world.past.id)))
    assert (counts.present, counts.apologies, counts.absent) == (3, 1, 0)


def test_a_member_marked_then_gone_stays_in_the_record(client, auth, world):
    auth.login(world.officer)
    base = f"/meetings/{world.past.id}"
    client.submit(f"{base}/attendance", {f"attendance-member-{world.colleague.id}": "present"})
    membership = db.session.scalar(select(ForumMember).where(
        ForumMember.forum_id == world.forum.id, ForumMember.user_id == world.colleague.id))
    membership.status = ForumMemberStatus.WITHDRAWN
    db.session.commit()
    html = page(client, f"{base}/attendance")
    assert f'name="attendance-member-{world.colleague.id}"' in html
    assert "Attendance recorded: 1 present" in _text(html)


def test_the_list_comes_from_one_function_of_the_meeting(app, world):
    pending = ForumMember(forum_id=world.forum.id, user_id=world.stranger.id,
                          status=ForumMemberStatus.PENDING)
    db.session.add(pending)
    db.session.commit()
    people = set(db.session.scalars(records.attendance_people(world.past)))
    assert people == {world.member.id, world.colleague.id, world.convenor.id}


def test_only_organisers_record_and_only_people_on_the_list(client, auth, world):
    url = f"/meetings/{world.past.id}/attendance"
    data = {f"attendance-member-{world.colleague.id}": "present"}
    response = client.submit(url, data, page=SIGN_IN)
    assert response.status_code in (302, 303) and SIGN_IN in response.headers["Location"]
    for who in (world.member, world.stranger):
        auth.login(who)
        assert client.submit(url, data, page=TOKEN_PAGE).status_code == 403
    assert count(AttendanceMark) == 0

    # An organiser cannot mark someone who is not on the list, nor with a made-up mark.
    auth.login(world.officer)
    response = client.submit(url, {f"attendance-member-{world.stranger.id}": "present",
                                   f"attendance-member-{world.colleague.id}": "sleeping",
                                   "attendance-member-x": "present"})
    assert response.status_code == 303
    assert count(AttendanceMark) == 0


def test_a_walk_in_mistake_keeps_the_members_on_the_form(client, auth, world):
    register(world.past, world.member, Response.APOLOGIES)
    auth.login(world.officer)
    url = f"/meetings/{world.past.id}/attendance"
    response = client.submit(f"{url}/walk-in", {"name": "", "organisation": "Tenants"},
                             page=url)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="Tenants"' in html
    assert f'name="attendance-member-{world.colleague.id}"' in html
    assert count(AttendanceMark) == 0


def test_counts_without_the_names_agree_with_the_list_in_one_query(
        app, client, auth, world, count_queries):
    """Someone who may not see who attended sees the counts alone: they come from one
    query that reads no names, and agree with the counts of the whole list (a person
    with a registration counts by it, a member by their mark, a cancelled registration
    by the mark made after it, a walk-in by theirs)."""
    first = register(world.past, world.member)
    cancelled = register(world.past, world.colleague)
    third = register(world.past, world.org_admin)
    world.past.agenda_status = AgendaStatus.PUBLISHED
    db.session.commit()
    auth.login(world.officer)
    base = f"/meetings/{world.past.id}"
    client.submit(f"{base}/attendance", {f"attendance-{first.id}": "present",
                                         f"attendance-{third.id}": "apologies",
                                         f"attendance-member-{world.convenor.id}": "absent"})
    client.submit(f"{base}/attendance/walk-in", {"name": "Wendy Walker"},
                  page=f"{base}/attendance")
    cancelled.status = RegistrationStatus.CANCELLED
    db.session.add(AttendanceMark(meeting_id=world.past.id, user_id=world.colleague.id,
                                  attendance=Attendance.ABSENT))
    test_meetings_records.write_minutes(world.past, published=True)
    db.session.commit()

    meeting = fresh(type(world.past), world.past.id)
    whole = records.count_attendance(records.attendance_list(meeting))
    with count_queries() as log:
        counts = records.recorded_counts(meeting)
    assert (counts.present, counts.apologies, counts.absent) == (
        whole.present, whole.apologies, whole.absent) == (2, 1, 2)
    assert log.count == 1, log.statements

    auth.logout()
    with count_queries() as anonymous:
        html = page(client, f"{base}/")
    assert "Attendance recorded: 2 present, 1 apologies, 2 absent" in _text(html)
    assert "Wendy Walker" not in html
    assert not [s for s in anonymous.statements if "users.name" in s
                and "meeting_attendance" in s], anonymous.statements
