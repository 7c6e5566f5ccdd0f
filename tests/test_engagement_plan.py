"""Setting a partnership's engagement plan: officers and site admins only, every error at
once with what was typed kept, one plan per send, and the record shows it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from partnerships.engagement.models import AccountablePerson, EngagementPlan, PlanForum
from partnerships.extensions import db
from partnerships.organisations.models import OrgType

YEAR = 2026
ONCE_RE = re.compile(r'name="once"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="once"')


@dataclass
class Place:
    partnership: Any
    officer: Any
    member: Any  # a person of a member organisation, not an officer
    outsider: Any
    admin: Any
    alliance: Any
    circle: Any
    council: Any
    icb: Any
    cvs: Any

    @property
    def url(self) -> str:
        return f"/partnerships/{self.partnership.slug}/plan/{YEAR}/"


@pytest.fixture
def place(app: Any, make_user: Any, make_organisation: Any, make_partnership: Any,
          make_forum: Any) -> Place:
    officer = make_user("Olu Officer", "olu@example.org")
    member = make_user("Mo Member", "mo@cvs.example.org")
    outsider = make_user("Owen Outsider", "owen@example.org")
    admin = make_user("Sita Admin", "sita@example.org", site_admin=True)
    cvs = make_organisation("Northbridge CVS", org_type=OrgType.CHARITY, admin=member)
    council = make_organisation("Northbridge Council", org_type=OrgType.LOCAL_AUTHORITY)
    icb = make_organisation("Northbridge ICB", org_type=OrgType.NHS_BODY)
    make_organisation("Elsewhere Council", org_type=OrgType.LOCAL_AUTHORITY)  # not a member
    partnership = make_partnership(officers=[officer], members=[cvs, council, icb])
    alliance = make_forum(partnership, "VCSE Alliance")
    circle = make_forum(partnership, "Officers' circle", public=False)
    return Place(partnership, officer, member, outsider, admin, alliance, circle, council,
                 icb, cvs)


def valid(place: Place, **changes: str) -> dict[str, str]:
    data = {
        "partnership_meetings": "4", f"forum_{place.alliance.id}": "6", "notice_days": "5",
        "minutes_days": "10",
        f"name_{place.council.id}": "Cath Chief", f"role_{place.council.id}": "Chief executive",
        f"name_{place.icb.id}": "Idris Head", f"role_{place.icb.id}": "Director of strategy",
    }
    data.update(changes)
    return data


def plans() -> int:
    return db.session.scalar(select(func.count(EngagementPlan.id))) or 0


def test_an_officer_sets_the_plan_and_the_record_shows_it(client: Any, auth: Any,
                                                          place: Place) -> None:
    auth.login(place.officer)
    page = client.get(place.url).get_data(as_text=True)
    # One field for each public forum and each member public body: not the members-only
    # forum, not the VCSE member, not a council that is not a member.
    assert "Meetings of VCSE Alliance" in page and "Officers&#39; circle" not in page
    assert "Northbridge Council" in page and "Northbridge ICB" in page
    assert "Northbridge CVS" not in page and "Elsewhere Council" not in page
    assert 'value="5"' in page  # the notice defaults to the partnership's
    response = client.submit(place.url, valid(place))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/partnerships/{place.partnership.slug}/record/?year={YEAR}")
    plan = db.session.scalars(select(EngagementPlan)).one()
    assert (plan.partnership_meetings, plan.notice_days, plan.minutes_days) == (4, 5, 10)
    assert [(row.forum_id, row.meetings) for row in db.session.scalars(select(PlanForum))] \
        == [(place.alliance.id, 6)]
    people = {row.organisation_id: (row.name, row.role)
              for row in db.session.scalars(select(AccountablePerson))}
    assert people == {place.council.id: ("Cath Chief", "Chief executive"),
                      place.icb.id: ("Idris Head", "Director of strategy")}
    record = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"/plan/{YEAR}/" in record  # the officer's link to change it
    assert "Cath Chief" in record and "Director of strategy" in record
    assert "4 a year" in record
    # Changing it: the form shows what was saved, and saving changes the same plan.
    page = client.get(place.url).get_data(as_text=True)
    assert 'value="Cath Chief"' in page and 'value="6"' in page
    response = client.submit(place.url, valid(place, partnership_meetings="5",
                                              **{f"name_{place.council.id}": "Dee New"}))
    assert response.status_code == 303
    assert plans() == 1
    db.session.expire_all()
    assert db.session.scalars(select(EngagementPlan)).one().partnership_meetings == 5
    assert {row.name for row in db.session.scalars(select(AccountablePerson))} == {
        "Dee New", "Idris Head"}


def test_a_site_admin_may_set_the_plan(client: Any, auth: Any, place: Place) -> None:
    auth.login(place.admin)
    assert client.submit(place.url, valid(place)).status_code == 303
    assert plans() == 1


@pytest.mark.parametrize("who", ["member", "outsider"])
def test_people_who_do_not_run_the_partnership_may_not(client: Any, auth: Any, place: Place,
                                                       who: str) -> None:
    auth.login(getattr(place, who))
    assert client.get(place.url).status_code == 403
    assert client.get(f"/partnerships/{place.partnership.slug}/plan/").status_code == 403
    token = client.csrf_token("/account/password")
    response = client.post(place.url, data={**valid(place), "csrf_token": token})
    assert response.status_code == 403
    assert plans() == 0
    record = client.get(f"/partnerships/{place.partnership.slug}/record/")
    assert f"/plan/{YEAR}/" not in record.get_data(as_text=True)  # no link to change it


def test_anonymous_visitors_are_asked_to_sign_in(client: Any, place: Place) -> None:
    response = client.get(place.url)
    assert response.status_code == 302 and "/account/" in response.headers["Location"]
    response = client.post(place.url, data=valid(place))
    assert response.status_code in (302, 400)
    assert plans() == 0


def test_every_mistake_is_reported_at_once_and_what_was_typed_is_kept(
        client: Any, auth: Any, place: Place) -> None:
    auth.login(place.officer)
    response = client.submit(place.url, valid(
        place, partnership_meetings="four", notice_days="99", minutes_days="",
        **{f"forum_{place.alliance.id}": "-1", f"name_{place.council.id}": "",
           f"role_{place.icb.id}": "x" * 300}))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', html, re.S)
    assert summary
    messages = re.findall(r'<a href="#([^"]+)">', summary.group(0))
    assert messages == ["partnership_meetings", f"forum_{place.alliance.id}", "notice_days",
                        "minutes_days", f"name_{place.council.id}", f"role_{place.icb.id}"]
    assert "Meetings of the partnership itself must be a whole number, like 3" in html
    assert "Agenda notice must be from 0 to 20 clear working days" in html
    assert "Enter the name of Northbridge Council&#39;s accountable person" in html
    assert 'value="four"' in html and 'value="-1"' in html and 'value="99"' in html
    assert 'value="Idris Head"' in html
    assert plans() == 0


def test_a_year_out_of_range_is_not_found(client: Any, auth: Any, place: Place) -> None:
    auth.login(place.officer)
    assert client.get(f"/partnerships/{place.partnership.slug}/plan/1999/").status_code == 404
    assert client.get("/partnerships/nowhere/plan/2026/").status_code == 404


def test_the_same_form_sent_twice_makes_one_plan(client: Any, auth: Any,
                                                 place: Place) -> None:
    auth.login(place.officer)
    page = client.get(place.url).get_data(as_text=True)
    match = ONCE_RE.search(page)
    assert match
    token = match.group(1) or match.group(2)
    csrf = client.csrf_token(place.url)
    data = {**valid(place), "once": token, "csrf_token": csrf}
    first = client.post(place.url, data=data)
    second = client.post(place.url, data=data)
    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    assert plans() == 1
