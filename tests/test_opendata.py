"""The open data API (/api/v1/) and its CSV downloads: each dataset's JSON and CSV, only
what the public may see (members-only forums and meetings, draft agendas, MoUs off the
register or in draft, opportunities not open: in no list, no CSV, and their detail
URLs 404, whoever asks), paging and its bounds, problem+json for bad parameters and
unknown ids, CORS, the rate limit, and query budgets that do not grow with the list."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from partnerships.extensions import db, limiter
from partnerships.factories import opportunities as opportunities_factory
from partnerships.forums.models import Forum
from partnerships.meetings.models import (
    AgendaItem,
    AgendaStatus,
    Meeting,
    MeetingStatus,
    MinutesStatus,
    Paper,
)
from partnerships.modelbase import utcnow
from partnerships.mous.models import Mou
from partnerships.opendata import routes  # registers every dataset
from partnerships.opendata.datasets import DATASETS
from partnerships.opportunities.models import Opportunity
from tests.test_mous import World, _draft, _in_force, make_world

PROBLEM = "application/problem+json"
LISTS = [f"/api/v1/{name}" for name in routes.DATASET_MODULES]
assert sorted(DATASETS) == sorted(routes.DATASET_MODULES)


@pytest.fixture(autouse=True)
def _fresh_allowance(app: Any) -> None:
    limiter.reset()


@dataclass
class Open:
    world: World
    forum: Forum
    hidden_forum: Forum
    meeting: Meeting  # public, agenda and minutes published
    draft_agenda: Meeting  # public, agenda still a draft
    own_meeting: Meeting  # the partnership's own, public
    members_meeting: Meeting  # members only, in the public forum
    hidden_forum_meeting: Meeting  # members only, in the members-only forum
    mou: Mou  # in force, on the register
    unpublished_mou: Mou  # in force, not on the public register
    draft_mou: Mou
    opportunity: Opportunity  # open
    draft_opportunity: Opportunity
    closed_opportunity: Opportunity

    @property
    def hidden(self) -> dict[str, str]:
        """Detail URLs of everything the public may not see."""
        return {
            "members-only forum": f"/api/v1/forums/{self.hidden_forum.id}",
            "members-only meeting": f"/api/v1/meetings/{self.members_meeting.id}",
            "members-only forum's meeting":
                f"/api/v1/meetings/{self.hidden_forum_meeting.id}",
            "MoU off the register": f"/api/v1/mous/{self.unpublished_mou.id}",
            "draft MoU": f"/api/v1/mous/{self.draft_mou.id}",
            "draft opportunity": f"/api/v1/opportunities/{self.draft_opportunity.id}",
            "closed opportunity": f"/api/v1/opportunities/{self.closed_opportunity.id}",
        }


# Words that only members-only or unpublished things carry: none may appear anywhere.
SECRETS = ["Safeguarding Leads", "Members briefing", "Leads meeting", "Confidential deal",
           "A draft about libraries", "Draft shadowing", "Closed placement",
           "Draft item words", "draft-paper.pdf", "Secret joining details",
           "https://meet.example.org/secret"]


def _item(meeting: Meeting, position: int, title: str, *, paper: str | None = None,
          notes: str = "") -> AgendaItem:
    item = AgendaItem(meeting_id=meeting.id, position=position, title=title, notes=notes,
                      presenter_name="Ann Example")
    db.session.add(item)
    db.session.flush()
    if paper:
        db.session.add(Paper(item_id=item.id, title=paper, original_filename=paper,
                             stored_name=f"{item.id}.pdf", content_type="application/pdf",
                             size_bytes=1234, sha256="0" * 64))
    return item


@pytest.fixture
def data(app: Any, make_user: Any, make_organisation: Any, make_partnership: Any,
         make_forum: Any, make_meeting: Any) -> Open:
    world = make_world(app, make_user, make_organisation, make_partnership)
    forum = make_forum(world.partnership, "VCSE Alliance")
    hidden_forum = make_forum(world.partnership, "Safeguarding Leads", public=False)
    secret = {"joining_url": "https://meet.example.org/secret",
              "joining_details": "Secret joining details"}
    meeting = make_meeting(forum, "Open forum meeting", agenda_status=AgendaStatus.PUBLISHED,
                           agenda_published_at=utcnow(), notice_met=True,
                           minutes_status=MinutesStatus.PUBLISHED,
                           minutes_published_at=utcnow(), minutes_summary="We agreed a plan.",
                           **secret)
    _item(meeting, 1, "Welcome", notes="Introductions")
    _item(meeting, 2, "=HYPERLINK(\"http://evil\")", paper="Winter plan")
    draft_agenda = make_meeting(forum, "Planning meeting", starts_in=timedelta(days=30),
                                **secret)
    _item(draft_agenda, 1, "Draft item words", paper="draft-paper.pdf")
    own_meeting = make_meeting(world.partnership, "Partnership board",
                               starts_in=timedelta(days=-7))
    members_meeting = make_meeting(forum, "Members briefing", public=False)
    hidden_forum_meeting = make_meeting(hidden_forum, "Leads meeting", public=False)
    db.session.commit()
    mou = _in_force(world, title="Sharing winter plans")
    unpublished = _in_force(world, title="Confidential deal", publish=False,
                            not_published_reason="Commercially sensitive.")
    draft_mou = _draft(world, title="A draft about libraries")
    poster, host = world.council_admin, world.council
    opportunity = opportunities_factory.opportunity(
        poster, host, title="Secondment to the communities team",
        partnership_id=world.partnership.id)
    draft_opportunity = opportunities_factory.opportunity(poster, host, publish=False,
                                                          title="Draft shadowing")
    closed = opportunities_factory.opportunity(poster, host, title="Closed placement")
    opportunities_factory.close(poster, closed)
    db.session.commit()
    return Open(world, forum, hidden_forum, meeting, draft_agenda, own_meeting,
                members_meeting, hidden_forum_meeting, mou, unpublished, draft_mou,
                opportunity, draft_opportunity, closed)


def _json(client: Any, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, (url, response.get_data(as_text=True))
    assert response.mimetype == ("application/json" if status == 200 else PROBLEM)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return response.get_json(force=True)


def _csv(client: Any, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.get_data(as_text=True))
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    name = url.rsplit("/", 1)[1].split("?")[0]
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8"))))


# --- Each dataset ---------------------------------------------------------------------------


def test_partnerships_list_and_detail(client: Any, data: Open) -> None:
    slug = data.world.partnership.slug
    body = _json(client, "/api/v1/partnerships")
    assert body["total"] == 1 and body["page"] == 1 and body["pages"] == 1
    item = body["items"][0]
    assert item["slug"] == slug and item["name"] == "Northbridge Together"
    assert item["links"]["html"] == f"http://localhost/partnerships/{slug}/"
    assert item["links"]["meetings"] == f"http://localhost/api/v1/meetings?partnership={slug}"
    assert _json(client, f"/api/v1/partnerships/{slug}") == item
    rows = _csv(client, "/api/v1/partnerships.csv")
    assert [row["slug"] for row in rows] == [slug]


def test_forums_are_the_public_forums_only(client: Any, data: Open) -> None:
    body = _json(client, "/api/v1/forums")
    assert [item["name"] for item in body["items"]] == ["VCSE Alliance"]
    item = body["items"][0]
    assert item["partnership"]["slug"] == data.world.partnership.slug
    assert item["membership_policy"]["code"] == "by_request"
    assert _json(client, f"/api/v1/forums/{data.forum.id}") == item
    slug = data.world.partnership.slug
    assert _json(client, f"/api/v1/forums?partnership={slug}")["total"] == 1
    assert [row["name"] for row in _csv(client, "/api/v1/forums.csv")] == ["VCSE Alliance"]


def test_meetings_show_public_meetings_with_published_agendas_and_minutes(
        client: Any, data: Open) -> None:
    body = _json(client, "/api/v1/meetings")
    titles = [item["title"] for item in body["items"]]
    assert titles == ["Partnership board", "Open forum meeting", "Planning meeting"]
    meeting = body["items"][1]
    assert meeting["forum"]["id"] == data.forum.id
    assert meeting["host"] == {"kind": "forum", "name": "VCSE Alliance"}
    assert meeting["starts_at"].endswith(("+00:00", "+01:00"))
    assert meeting["agenda"]["published"] is True and meeting["agenda"]["notice_met"] is True
    items = meeting["agenda"]["items"]
    assert [i["title"] for i in items] == ["Welcome", '=HYPERLINK("http://evil")']
    assert items[0]["presenter"] == "Ann Example"
    paper = items[1]["papers"][0]
    assert paper["title"] == "Winter plan" and paper["kind"] == "PDF"
    assert paper["url"].startswith(f"http://localhost/meetings/{data.meeting.id}/papers/")
    assert meeting["minutes"]["summary"] == "We agreed a plan."
    assert "joining_url" not in json.dumps(meeting)
    draft = body["items"][2]
    assert draft["agenda"] == {"published": False, "published_at": None, "notice_days": 5,
                               "notice_met": None, "items": []}
    assert draft["minutes"]["summary"] is None
    own = body["items"][0]
    assert own["forum"] is None and own["host"]["kind"] == "partnership"
    assert _json(client, f"/api/v1/meetings/{data.meeting.id}") == meeting


def test_meeting_filters(client: Any, data: Open) -> None:
    def titles(query: str) -> list[str]:
        return [item["title"] for item in _json(client, f"/api/v1/meetings?{query}")["items"]]

    assert titles("when=past") == ["Partnership board"]
    assert titles("when=upcoming") == ["Open forum meeting", "Planning meeting"]
    assert titles(f"forum={data.forum.id}") == ["Open forum meeting", "Planning meeting"]
    assert titles("status=cancelled") == []
    data.draft_agenda.status = MeetingStatus.CANCELLED
    db.session.commit()
    assert titles("status=cancelled") == ["Planning meeting"]
    assert titles(f"partnership={data.world.partnership.slug}&when=past") == [
        "Partnership board"]


def test_meetings_csv_flattens_the_agenda_and_defuses_formulas(client: Any,
                                                             data: Open) -> None:
    rows = _csv(client, "/api/v1/meetings.csv")
    assert [row["title"] for row in rows] == ["Partnership board", "Open forum meeting",
                                              "Planning meeting"]
    row = rows[1]
    assert row["agenda_items"] == "1. Welcome; 2. =HYPERLINK(\"http://evil\")"
    assert row["papers"].startswith("http://localhost/meetings/")
    assert row["agenda_published"] == "true"
    assert row["url"] == f"http://localhost/meetings/{data.meeting.id}/"


def test_csv_cells_that_start_like_a_formula_get_an_apostrophe(client: Any,
                                                               data: Open) -> None:
    data.forum.theme = "=1+2"
    data.forum.purpose = "@SUM(A1)"
    data.forum.tags = "-cmd,+x"
    db.session.commit()
    row = _csv(client, "/api/v1/forums.csv")[0]
    assert row["theme"] == "'=1+2" and row["purpose"] == "'@SUM(A1)"
    assert row["tags"] == "'-cmd; +x"
    assert row["notice_days"] == "5" and row["id"] == str(data.forum.id)


def test_mous_are_those_on_the_public_register(client: Any, data: Open) -> None:
    body = _json(client, "/api/v1/mous")
    assert [item["title"] for item in body["items"]] == ["Sharing winter plans"]
    item = body["items"][0]
    assert item["reference"] == data.mou.reference and item["status"]["code"] == "active"
    assert {p["name"] for p in item["parties"]} == {"Northbridge Council", "Northbridge ICB",
                                                   "Northbridge CVS"}
    assert _json(client, f"/api/v1/mous/{data.mou.id}") == item
    assert _json(client, "/api/v1/mous?status=active")["total"] == 1
    assert _json(client, "/api/v1/mous?status=ended")["total"] == 0
    assert [row["reference"] for row in _csv(client, "/api/v1/mous.csv")] == [
        data.mou.reference]


def test_opportunities_are_the_open_ones(client: Any, data: Open) -> None:
    body = _json(client, "/api/v1/opportunities")
    assert [item["title"] for item in body["items"]] == ["Secondment to the communities team"]
    item = body["items"][0]
    assert item["host"]["name"] == "Northbridge Council"
    assert item["partnership"]["slug"] == data.world.partnership.slug
    assert "hannah@host.example.org" not in json.dumps(item)  # the host's contact person
    assert _json(client, f"/api/v1/opportunities/{data.opportunity.id}") == item
    assert _json(client, "/api/v1/opportunities?kind=shadowing")["total"] == 0
    assert len(_csv(client, "/api/v1/opportunities.csv")) == 1


# --- Nothing members-only, whoever asks -----------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "site admin", "forum member"])
def test_nothing_members_only_reaches_any_list_csv_or_detail(client: Any, auth: Any,
                                                             data: Open, who: str) -> None:
    if who == "site admin":
        auth.login(data.world.site_admin)
    elif who == "forum member":
        auth.login(data.world.officer)  # runs the partnership: sees everything on its pages
    slug = data.world.partnership.slug
    urls = [*LISTS, *(f"{url}.csv" for url in LISTS),
            *(f"{url}?partnership={slug}" for url in LISTS[1:]),
            f"/api/v1/meetings?forum={data.forum.id}&per_page=100"]
    for url in urls:
        text = client.get(url).get_data(as_text=True)
        for secret in SECRETS:
            assert secret not in text, (url, secret)
    for what, url in data.hidden.items():
        body = _json(client, url, 404)
        assert body["status"] == 404 and body["title"] == "Not Found", what


def test_a_members_only_forum_cannot_be_named_as_a_filter(client: Any, data: Open) -> None:
    hidden = _json(client, f"/api/v1/meetings?forum={data.hidden_forum.id}", 400)
    unknown = _json(client, "/api/v1/meetings?forum=999999", 400)
    assert hidden["invalid_params"] == unknown["invalid_params"] == [
        {"name": "forum", "reason": "is not the id of a public forum"}]


def test_a_public_meeting_of_a_members_only_forum_names_its_host_but_not_the_forum(
        client: Any, data: Open, make_meeting: Any) -> None:
    """The meeting is public (its page shows it to everyone, ``meetings_visible_to``),
    so it is open data; the forum is not, so the meeting does not link to it."""
    open_meeting = make_meeting(data.hidden_forum, "Open safeguarding session")
    item = _json(client, f"/api/v1/meetings/{open_meeting.id}")
    assert item["forum"] is None
    assert item["host"] == {"kind": "forum", "name": "Safeguarding Leads"}
    assert client.get(f"/meetings/{open_meeting.id}/").status_code == 200
    assert "/api/v1/forums/" not in json.dumps(item)


# --- Paging ---------------------------------------------------------------------------------


def test_pages_link_to_each_other_and_keep_the_filters(client: Any, data: Open) -> None:
    slug = data.world.partnership.slug
    first = _json(client, f"/api/v1/meetings?partnership={slug}&per_page=2")
    assert first["total"] == 3 and first["pages"] == 2 and len(first["items"]) == 2
    base = f"http://localhost/api/v1/meetings?partnership={slug}&per_page=2"
    assert first["links"]["next"] == base + "&page=2"
    assert first["links"]["prev"] is None and first["links"]["first"] == base
    assert first["links"]["csv"] == f"http://localhost/api/v1/meetings.csv?partnership={slug}"
    second = _json(client, first["links"]["next"].removeprefix("http://localhost"))
    assert len(second["items"]) == 1 and second["links"]["next"] is None
    assert second["links"]["prev"] == base
    past = _json(client, f"/api/v1/meetings?partnership={slug}&per_page=2&page=9")
    assert past["items"] == [] and past["total"] == 3
    assert past["links"]["prev"] == base + "&page=2"  # the last page, not page 8


@pytest.mark.parametrize("query, bad", [
    ("page=abc", ["page"]), ("page=0", ["page"]), ("page=-1", ["page"]),
    ("page=100001", ["page"]), ("page=99999999999999999999", ["page"]), ("page=%C2%B2", ["page"]),
    ("page=1.5", ["page"]), ("page=%201", ["page"]), ("page=", ["page"]),
    ("per_page=0", ["per_page"]), ("per_page=101", ["per_page"]),
    ("per_page=10000", ["per_page"]), ("page=1&page=2", ["page"]),
    ("when=tomorrow", ["when"]), ("status=SCHEDULED", ["status"]),
    ("partnership=nowhere", ["partnership"]), ("partnership=Not%20A%20Slug", ["partnership"]),
    ("forum=abc", ["forum"]), ("colour=red", ["colour"]),
    ("page=1%00", ["page"]), ("when=past%00", ["when"]), ("partnership=%00", ["partnership"]),
    ("pa%00ge=1", ["pa ge"]), ("page=abc&when=x&per_page=0", ["page", "per_page", "when"]),
])
def test_bad_parameters_are_a_400_problem_naming_each(client: Any, app: Any, query: str,
                                                      bad: list[str]) -> None:
    body = _json(client, f"/api/v1/meetings?{query}", 400)
    assert body["status"] == 400 and body["type"].startswith("https://")
    assert body["title"] and body["detail"]
    assert sorted(p["name"] for p in body["invalid_params"]) == bad


@pytest.mark.parametrize("url", ["/api/v1/mous.csv?status=nope", "/api/v1/forums.csv?page=2",
                                 "/api/v1/opportunities?kind=holiday",
                                 "/api/v1/partnerships?partnership=x",
                                 "/api/v1/openapi.json?x=1", "/api/v1/partnerships/x?y=1"])
def test_every_endpoint_refuses_parameters_it_does_not_take(client: Any, app: Any,
                                                            url: str) -> None:
    assert _json(client, url, 400)["status"] == 400


@pytest.mark.parametrize("url", [
    "/api/v1/meetings/999999", "/api/v1/meetings/2147483648", "/api/v1/meetings/abc",
    "/api/v1/meetings/0", "/api/v1/partnerships/nowhere", "/api/v1/partnerships/a%00b",
    "/api/v1/forums/999999", "/api/v1/mous/999999", "/api/v1/opportunities/999999",
    "/api/v1/nothing", "/api/v1/meetings/", "/api/v2/meetings",
])
def test_unknown_ids_and_addresses_are_a_404_problem(client: Any, app: Any,
                                                     url: str) -> None:
    body = _json(client, url, 404)
    assert body == {"type": "about:blank", "title": "Not Found", "status": 404,
                    "detail": body["detail"]} and body["detail"]


def test_the_api_is_read_only(client: Any, app: Any) -> None:
    response = client.post("/api/v1/meetings")
    assert response.status_code == 405 and response.mimetype == PROBLEM
    assert response.get_json(force=True)["title"] == "Method Not Allowed"


def test_the_rate_limit_answers_a_429_problem(app: Any, client: Any, data: Open) -> None:
    app.config["API_RATE_LIMIT"] = "3 per minute"
    for url in ["/api/v1/partnerships", "/api/v1/meetings", "/api/v1/openapi.json"]:
        assert client.get(url).status_code == 200
    response = client.get("/api/v1/forums.csv")  # one allowance for the whole API
    assert response.status_code == 429 and response.mimetype == PROBLEM
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.get_json(force=True)["status"] == 429
    assert client.get("/open-data").status_code == 200  # the human page is not the API


# --- Query budgets --------------------------------------------------------------------------


def _queries(client: Any, count_queries: Any, url: str) -> int:
    with count_queries() as log:
        assert client.get(url).status_code == 200
    return log.count


def _more(data: Open, make_meeting: Any, make_forum: Any) -> None:
    """Many more public rows of every kind, each with agenda items, papers, parties."""
    world = data.world
    for n in range(6):
        forum = make_forum(world.partnership, f"Forum {n}")
        meeting = make_meeting(forum, f"Meeting {n}", agenda_status=AgendaStatus.PUBLISHED,
                               agenda_published_at=utcnow())
        for position in range(1, 4):
            _item(meeting, position, f"Item {position}", paper=f"Paper {position}")
        opportunities_factory.opportunity(world.council_admin, world.council,
                                          title=f"Shadowing {n}")
    db.session.commit()
    for n in range(3):
        _in_force(world, title=f"Agreement {n}")


def test_lists_and_downloads_cost_the_same_few_queries_however_long(
        client: Any, data: Open, count_queries: Any, make_meeting: Any,
        make_forum: Any) -> None:
    urls = [f"{url}?per_page=100" for url in LISTS] + [f"{url}.csv" for url in LISTS]
    before = {url: _queries(client, count_queries, url) for url in urls}
    _more(data, make_meeting, make_forum)
    after = {url: _queries(client, count_queries, url) for url in urls}
    assert after == before
    assert max(after.values()) <= 6, after
    filtered = f"/api/v1/meetings?partnership={data.world.partnership.slug}&forum=" \
               f"{data.forum.id}"
    assert _queries(client, count_queries, filtered) <= 7


def test_detail_endpoints_cost_a_few_queries(client: Any, data: Open,
                                             count_queries: Any) -> None:
    slug = data.world.partnership.slug
    for url in [f"/api/v1/partnerships/{slug}", f"/api/v1/forums/{data.forum.id}",
                f"/api/v1/meetings/{data.meeting.id}", f"/api/v1/mous/{data.mou.id}",
                f"/api/v1/opportunities/{data.opportunity.id}"]:
        assert _queries(client, count_queries, url) <= 5, url


# --- The human page -------------------------------------------------------------------------


def test_open_data_page_lists_every_dataset_and_the_licence(client: Any, app: Any) -> None:
    home = client.get("/").get_data(as_text=True)
    assert 'href="/open-data"' in home  # in the footer of every page
    html = client.get("/open-data").get_data(as_text=True)
    for name in DATASETS:
        assert f'href="/api/v1/{name}.csv"' in html and f'href="/api/v1/{name}"' in html
    assert 'href="/api/v1/openapi.json"' in html
    assert "Open Government Licence v3.0" in html
    assert ("https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
            in html)
    assert "Contains information from Local Partnerships, licensed under the Open " \
           "Government Licence v3.0." in html


def test_opendata_is_only_what_the_public_pages_show(client: Any, data: Open) -> None:
    """Every meeting in the API has a public page that shows it to a visitor, and the
    meetings hidden from the API are refused to a visitor on their pages too."""
    for item in _json(client, "/api/v1/meetings?per_page=100")["items"]:
        path = item["links"]["html"].removeprefix("http://localhost")
        assert client.get(path).status_code == 200
    for meeting in (data.members_meeting, data.hidden_forum_meeting):
        assert client.get(f"/meetings/{meeting.id}/").status_code in (302, 401, 403, 404)
    assert db.session.scalar(select(Meeting.id).where(Meeting.id == data.members_meeting.id))
