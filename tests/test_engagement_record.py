"""The engagement record, checked against a hand-built year (2025) with known answers.

The plan for 2025: 4 meetings of the partnership, 3 of the VCSE Alliance, 5 clear
working days of agenda notice, minutes within 10 working days.

Partnership meetings:
- "Board March": Monday 10 March. Agenda Friday 28 February: 5 clear working days
  (3-7 March): full notice. Minutes Thursday 20 March: 8th working day: on time.
- "Board December": Tuesday 30 December. Agenda Monday 22 December: 7 calendar days,
  but only 3 clear working days (23, 24, 29: Christmas Day and Boxing Day are bank
  holidays): late. Minutes Wednesday 14 January 2026: the 10th working day (New Year's
  Day is a bank holiday): on time.
- "Board April": cancelled.
- "Secret board": members only (never counted or listed).
VCSE Alliance (public forum):
- "Alliance April": Thursday 24 April. Agenda Wednesday 16 April: 3 clear working
  days (Good Friday and Easter Monday are bank holidays): late. Minutes Monday 12 May:
  the 11th working day (the early May bank holiday does not count): late.
- "Alliance July": Thursday 10 July. Agenda 1 July (6 clear days). Minutes 17 July.
- "Alliance October": Thursday 9 October. Agenda 1 October (5). Minutes never.
Officers' circle (members-only forum): one members-only meeting, never counted.

So: notice 3 of 5 (60%), late Board December and Alliance April; minutes 3 of 5
(60%), late Alliance April and Alliance October; partnership 2 held of 4 (not met),
Alliance 3 of 3 (met).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from partnerships.engagement.models import EngagementPlan
from partnerships.extensions import db
from partnerships.meetings.models import (
    AgendaStatus,
    Attendance,
    ItemRequest,
    ItemRequestStatus,
    MeetingStatus,
    MinutesStatus,
    Registration,
    RegistrationStatus,
    Response,
)
from partnerships.organisations.models import IncomeBand, OrgType
from partnerships.partnership.models import PartnershipMember
from partnerships.timeutil import uk_local_to_utc

YEAR = 2025


def at(day: date, hour: int = 10) -> datetime:
    return uk_local_to_utc(day, time(hour, 0))


@dataclass
class Year:
    partnership: Any
    officer: Any
    vcse_person: Any
    council_person: Any
    alliance: Any
    circle: Any
    meetings: dict[str, Any]
    council: Any
    cvs: Any


@pytest.fixture
def year(app: Any, make_user: Any, make_organisation: Any, make_partnership: Any,
         make_forum: Any, make_meeting: Any) -> Year:
    officer = make_user("Olu Officer", "olu@example.org")
    vcse_person = make_user("Vera VCSE", "vera@cvs.example.org")
    council_person = make_user("Colin Council", "colin@council.example.org")
    cvs = make_organisation("Northbridge CVS", org_type=OrgType.CHARITY,
                            income_band=IncomeBand.UP_TO_100K, admin=vcse_person)
    council = make_organisation("Northbridge Council", org_type=OrgType.LOCAL_AUTHORITY,
                                income_band=IncomeBand.OVER_100M, admin=council_person)
    partnership = make_partnership(officers=[officer], members=[cvs, council])
    alliance = make_forum(partnership, "VCSE Alliance")
    circle = make_forum(partnership, "Officers' circle", public=False)
    made: dict[str, Any] = {}

    def meeting(host: Any, title: str, day: date, *, agenda: date | None = None,
                minutes: date | None = None, public: bool = True, **columns: Any) -> None:
        if agenda:
            columns.update(agenda_status=AgendaStatus.PUBLISHED,
                           agenda_published_at=at(agenda, 16))
        if minutes:
            columns.update(minutes_status=MinutesStatus.PUBLISHED,
                           minutes_published_at=at(minutes, 16))
        made[title] = make_meeting(host, title, starts_at=at(day), public=public, **columns)

    meeting(partnership, "Board March", date(2025, 3, 10), agenda=date(2025, 2, 28),
            minutes=date(2025, 3, 20))
    meeting(partnership, "Board December", date(2025, 12, 30), agenda=date(2025, 12, 22),
            minutes=date(2026, 1, 14))
    meeting(partnership, "Board April", date(2025, 4, 14), status=MeetingStatus.CANCELLED)
    meeting(partnership, "Secret board", date(2025, 6, 2), public=False)
    meeting(alliance, "Alliance April", date(2025, 4, 24), agenda=date(2025, 4, 16),
            minutes=date(2025, 5, 12))
    meeting(alliance, "Alliance July", date(2025, 7, 10), agenda=date(2025, 7, 1),
            minutes=date(2025, 7, 17))
    meeting(alliance, "Alliance October", date(2025, 10, 9), agenda=date(2025, 10, 1))
    meeting(circle, "Circle meeting", date(2025, 5, 5), public=False)
    # Attendance at Alliance July: a small charity, a large council, a walk-in; the
    # members-only board's attendance never counts.
    july, secret = made["Alliance July"], made["Secret board"]
    db.session.add_all([
        Registration(meeting_id=july.id, user_id=vcse_person.id, organisation_id=cvs.id,
                     response=Response.IN_PERSON, attendance=Attendance.PRESENT),
        Registration(meeting_id=july.id, user_id=council_person.id,
                     organisation_id=council.id, response=Response.IN_PERSON,
                     attendance=Attendance.PRESENT),
        Registration(meeting_id=july.id, walk_in_name="Wanda Walk-in",
                     response=Response.IN_PERSON, attendance=Attendance.PRESENT),
        Registration(meeting_id=july.id, user_id=officer.id, organisation_id=council.id,
                     response=Response.APOLOGIES, attendance=Attendance.APOLOGIES),
        Registration(meeting_id=secret.id, user_id=vcse_person.id, organisation_id=cvs.id,
                     response=Response.IN_PERSON, attendance=Attendance.PRESENT,
                     status=RegistrationStatus.CONFIRMED),
    ])
    # Agenda items asked for: two by the VCSE member on public meetings (one accepted,
    # one declined); one by the council (not VCSE) and one on the members-only board,
    # neither counted.
    for meeting_title, who, status in [
            ("Alliance July", vcse_person, ItemRequestStatus.ACCEPTED),
            ("Alliance October", vcse_person, ItemRequestStatus.DECLINED),
            ("Alliance April", council_person, ItemRequestStatus.ACCEPTED),
            ("Secret board", vcse_person, ItemRequestStatus.ACCEPTED)]:
        db.session.add(ItemRequest(meeting_id=made[meeting_title].id, requested_by_id=who.id,
                                   title="Small grants", reason="Members asked",
                                   status=status))
    # Requests to join the partnership in 2025: answered in 4 and 10 days, one waiting.
    for name, asked, answered in [("Eastside Food Bank", date(2025, 2, 3), date(2025, 2, 7)),
                                  ("Riverside Trust", date(2025, 3, 3), date(2025, 3, 13)),
                                  ("Hillside Group", date(2025, 11, 3), None)]:
        org = make_organisation(name)
        db.session.add(PartnershipMember(
            partnership_id=partnership.id, organisation_id=org.id,
            status="active" if answered else "pending", requested_at=at(asked),
            decided_at=at(answered) if answered else None))
    db.session.add(EngagementPlan(partnership_id=partnership.id, year=YEAR,
                                  partnership_meetings=4, notice_days=5, minutes_days=10))
    db.session.commit()
    from partnerships.engagement.models import PlanForum
    plan = db.session.query(EngagementPlan).one()
    db.session.add(PlanForum(plan_id=plan.id, forum_id=alliance.id, meetings=3))
    db.session.commit()
    return Year(partnership, officer, vcse_person, council_person, alliance, circle, made,
                council, cvs)


def record_url(year: Year, which: int = YEAR) -> str:
    return f"/partnerships/{year.partnership.slug}/record/?year={which}"


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_record_page_shows_the_known_figures(client: Any, year: Year) -> None:
    response = client.get(record_url(year))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = text_of(html)
    assert "Engagement record 2025" in text
    assert "1 of 2 commitments to meet were kept" in text
    assert "Northbridge Together Missed" in text and "VCSE Alliance Met" in text
    assert "60% 3 of 5 meetings held had their agenda published with at least 5 clear " \
           "working days' notice" in text
    assert "60% 3 of 5 meetings whose minutes were due had them published within 10 " \
           "working days" in text
    notice = html.split('id="notice"')[1].split('id="minutes"')[0]
    assert "Board December" in notice and "Alliance April" in notice
    assert "Board March" not in notice and "Alliance July" not in notice
    minutes = html.split('id="minutes"')[1].split('id="attendance"')[0]
    assert "Alliance April" in minutes and "Alliance October" in minutes
    assert "Board December" not in minutes
    assert "3 people were recorded as present at public meetings. 50% of those whose " \
           "organisation's size is known came for small organisations" in text
    assert "asked for 2 items on public meetings' agendas: 1 accepted, 1 declined and 0 " \
           "still to decide" in text
    assert "Joining the partnership 3 2 7.0" in text


def test_members_only_things_are_absent_from_the_public_record(client: Any,
                                                               year: Year) -> None:
    html = client.get(record_url(year)).get_data(as_text=True)
    for hidden in ("Secret board", "Officers' circle", "Circle meeting",
                   f"/meetings/{year.meetings['Secret board'].id}/"):
        assert hidden not in html
    body = client.get(f"/api/v1/partnerships/{year.partnership.slug}/record/{YEAR}").get_json()
    assert "Secret board" not in str(body) and "Officers' circle" not in str(body)
    hosts = {row["host"]: row for row in body["meetings"]}
    assert set(hosts) == {year.partnership.name, "VCSE Alliance"}
    assert hosts[year.partnership.name] == {
        "host": year.partnership.name, "forum_slug": None, "committed": 4, "held": 2,
        "cancelled": 1, "to_come": 0, "met": False, "standing": "missed"}
    assert hosts["VCSE Alliance"]["held"] == 3 and hosts["VCSE Alliance"]["met"] is True
    assert body["attendance"]["present"] == 3


def test_late_agenda_across_christmas_counts_working_days(client: Any, year: Year) -> None:
    body = client.get(f"/api/v1/partnerships/{year.partnership.slug}/record/{YEAR}").get_json()
    late = {row["title"]: row for row in body["notice"]["late"]}
    assert set(late) == {"Board December", "Alliance April"}
    # The last day giving 5 clear working days before Tuesday 30 December 2025 is
    # Thursday 18 December (19, 22, 23, 24 and 29 are the five: 25 and 26 are bank
    # holidays); before Thursday 24 April, Monday 14 April (15, 16, 17, 22, 23: Good
    # Friday and Easter Monday do not count).
    assert late["Board December"]["due_day"] == "2025-12-18"
    assert late["Alliance April"]["due_day"] == "2025-04-14"
    minutes = {row["title"]: row for row in body["minutes"]["late"]}
    assert set(minutes) == {"Alliance April", "Alliance October"}
    assert minutes["Alliance April"]["due_day"] == "2025-05-09"
    assert minutes["Alliance October"]["published_at"] is None
    assert body["notice"]["percent"] == 60 and body["minutes"]["percent"] == 60


def test_the_figures_download_as_csv(client: Any, year: Year) -> None:
    response = client.get(
        f"/api/v1/partnerships/{year.partnership.slug}/record/{YEAR}/figures.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    values = {(row["section"], row["figure"]): row["value"] for row in rows}
    assert values[("notice", "percent on time")] == "60"
    assert values[("meetings", f"{year.partnership.name}: held")] == "2"


def test_bad_years_and_unknown_partnerships(client: Any, year: Year) -> None:
    slug = year.partnership.slug
    assert client.get(f"/partnerships/{slug}/record/?year=abc").status_code == 404
    assert client.get(f"/partnerships/{slug}/record/?year=1066").status_code == 404
    assert client.get("/partnerships/nowhere/record/").status_code == 404
    for path in (f"/api/v1/partnerships/{slug}/record/abc",
                 f"/api/v1/partnerships/{slug}/record/1999"):
        response = client.get(path)
        assert response.status_code == 400
        assert response.mimetype == "application/problem+json"
    assert client.get(f"/api/v1/partnerships/nowhere/record/{YEAR}").status_code == 404
    # A year without anything is an empty record, not an error.
    assert client.get(f"/partnerships/{slug}/record/?year=2031").status_code == 200


def test_the_page_links_to_other_years_and_the_records_behind_it(client: Any,
                                                                 year: Year) -> None:
    html = client.get(record_url(year)).get_data(as_text=True)
    slug = year.partnership.slug
    assert f"/partnerships/{slug}/record/?year=2026" in html
    assert f'/meetings/{year.meetings["Board December"].id}/' in html
    assert f"/partnerships/{slug}/forums/{year.alliance.slug}/meetings/?show=past" in html
    assert f"/partnerships/{slug}/mous/?status=review" in html


def test_the_charts_are_images_with_a_title_and_a_table_beside(client: Any,
                                                               year: Year) -> None:
    html = client.get(record_url(year)).get_data(as_text=True)
    svgs = re.findall(r"<svg[^>]*>.*?</svg>", html, re.S)
    assert len(svgs) >= 3
    for svg in svgs:
        assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert "<script" not in "".join(svgs)
    assert html.count('<table class="govuk-table">') >= 4


def test_the_record_counts_with_a_bounded_number_of_queries(
        client: Any, year: Year, count_queries: Any) -> None:
    client.get(record_url(year))
    with count_queries() as log:
        assert client.get(record_url(year)).status_code == 200
    assert log.count <= 25, log.statements


def test_a_partnership_with_5000_meetings_stays_within_budget(
        client: Any, year: Year, count_queries: Any) -> None:
    """5,000 held meetings in 2025 (bulk inserted), with registrations: the record page
    answers within its query budget and in well under the time a person waits."""
    import time as clock

    from partnerships.meetings.models import Meeting, MeetingFormat

    hosts = [None, year.alliance.id]
    rows = []
    for n in range(5000):
        starts = at(date(2025, 1, 1)) + timedelta(hours=n * 1.6)
        rows.append({
            "partnership_id": year.partnership.id, "forum_id": hosts[n % 2],
            "title": f"Bulk meeting {n}", "starts_at": starts,
            "ends_at": starts + timedelta(hours=1),
            "format": MeetingFormat.ONLINE, "visibility": "public", "status": "scheduled",
            "agenda_status": "published" if n % 3 else "draft",
            "agenda_published_at": starts - timedelta(days=3 + n % 9),
            "minutes_status": "published" if n % 4 else "none",
            "minutes_published_at": starts + timedelta(days=5 + n % 15),
        })
    db.session.execute(insert(Meeting), rows)
    ids = db.session.scalars(select_ids(year.partnership.id)).all()
    db.session.execute(insert(Registration), [
        {"meeting_id": meeting_id, "walk_in_name": "Walk-in", "response": "in_person",
         "status": "confirmed", "attendance": "present"} for meeting_id in ids[:5000]])
    db.session.commit()
    client.get(record_url(year))  # templates compiled, bank holidays loaded
    started = clock.perf_counter()
    with count_queries() as log:
        response = client.get(record_url(year))
    elapsed = clock.perf_counter() - started
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "And " in html and "more, listed in full in the" in html  # late lists are cut
    # 17 queries and about 0.2 seconds on the machine this was written on; no cache
    # is needed.
    assert log.count <= 20, log.statements
    assert elapsed < 2.0, elapsed


def select_ids(partnership_id: int) -> Any:
    from partnerships.meetings.models import Meeting
    return select(Meeting.id).where(Meeting.partnership_id == partnership_id)


def test_during_the_year_a_commitment_is_on_course_or_behind(client: Any, year: Year) -> None:
    """On 1 June 2025 the partnership has held 1 meeting and has 1 to come of the 4 it
    committed to (behind); the Alliance has held 1 with 2 to come of 3 (on course)."""
    from partnerships import clock

    with clock.at(at(date(2025, 6, 1))):
        body = client.get(
            f"/api/v1/partnerships/{year.partnership.slug}/record/{YEAR}").get_json()
        text = text_of(client.get(record_url(year)).get_data(as_text=True))
    hosts = {row["host"]: row for row in body["meetings"]}
    assert (hosts[year.partnership.name]["held"], hosts[year.partnership.name]["to_come"],
            hosts[year.partnership.name]["standing"]) == (1, 1, "behind")
    assert (hosts["VCSE Alliance"]["held"], hosts["VCSE Alliance"]["to_come"],
            hosts["VCSE Alliance"]["standing"]) == (1, 2, "on_course")
    assert "Northbridge Together Behind" in text and "VCSE Alliance On course" in text
    assert body["as_of"] == "2025-06-01"
    assert (body["notice"]["judged"], body["notice"]["on_time"]) == (2, 1)
    # Minutes of Alliance April were due on 9 May and came on 12 May: late; Board
    # March's came in time.
    assert (body["minutes"]["judged"], body["minutes"]["on_time"]) == (2, 1)
