"""Two organisers (or two tabs) saving the attendance at the same moment, both ticking
a forum member who did not register: the meeting's row is locked first, so they take
turns; one mark row results, never a duplicate or a server error (issue 15). Real
concurrent requests against a file database, repeated a few rounds."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from partnerships.extensions import db
from partnerships.forums.models import (
    Forum,
    ForumConvenor,
    ForumMember,
    ForumMemberStatus,
    Visibility,
)
from partnerships.meetings.models import Attendance, AttendanceMark, Meeting, MeetingFormat
from partnerships.partnership.models import Partnership
from tests.concurrency import (
    ROUNDS,
    all_at_once,
    csrf_token,
    make_user,
    signed_in_client,
)
from tests.conftest import meeting_start


def test_two_organisers_marking_the_same_member_at_once_leave_one_mark(file_app):
    convenor = make_user("Cara Convenor", "cara@example.org")
    other = make_user("Con Two", "con2@example.org")
    member = make_user("Mo Member", "mo@example.org")
    partnership = Partnership(name="Northbridge Together", slug="northbridge",
                              place="Northbridge")
    db.session.add(partnership)
    db.session.flush()
    forum = Forum(partnership_id=partnership.id, slug="vcse", name="VCSE Alliance",
                  purpose="Voluntary sector voice.", visibility=Visibility.PUBLIC)
    db.session.add(forum)
    db.session.flush()
    db.session.add_all([ForumConvenor(forum_id=forum.id, user_id=convenor.id),
                        ForumConvenor(forum_id=forum.id, user_id=other.id),
                        ForumMember(forum_id=forum.id, user_id=member.id,
                                    status=ForumMemberStatus.ACTIVE)])
    db.session.commit()
    clients = [signed_in_client(file_app, person) for person in (convenor, other)]
    for round_number in range(ROUNDS):
        starts_at = meeting_start(timedelta(days=-2 - round_number))
        meeting = Meeting(forum_id=forum.id, title=f"Round {round_number}",
                          format=MeetingFormat.IN_PERSON, venue_name="Civic Centre",
                          venue_address="1 Market Square", starts_at=starts_at,
                          ends_at=starts_at + timedelta(hours=2))
        db.session.add(meeting)
        db.session.commit()
        url = f"/meetings/{meeting.id}/attendance"
        tokens = [csrf_token(client, url) for client in clients]
        key = f"attendance-member-{member.id}"
        responses = all_at_once([
            lambda client=client, url=url, data={key: mark, "csrf_token": token}: client.post(
                url, data=data)
            for client, token, mark in zip(clients, tokens, ("present", "apologies"),
                                           strict=True)])
        assert [r.status_code for r in responses] == [303, 303], [
            r.get_data(as_text=True)[:300] for r in responses]
        db.session.expire_all()
        rows = list(db.session.scalars(select(AttendanceMark).where(
            AttendanceMark.meeting_id == meeting.id)))
        assert len(rows) == 1 and rows[0].user_id == member.id, f"round {round_number}"
        assert rows[0].attendance in (Attendance.PRESENT, Attendance.APOLOGIES)
