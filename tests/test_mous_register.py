"""The MoU register: what each entry shows, its filters (a GET form that works without
JavaScript), members-only entries, the officers' "due for review" list, query budgets,
and the CSV and JSON exports, which always match the anonymous register."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from partnerships.extensions import db
from partnerships.factories import mous as mous_factory
from partnerships.mous import services
from partnerships.mous.models import EndKind, Mou
from partnerships.mous.mou_register import is_due_for_review, is_overdue
from partnerships.organisations.models import OrgType
from partnerships.partnership.models import PartnershipMember, Principle
from partnerships.timeutil import today_uk
from tests.test_mous import World, _draft, _fresh, _in_force, _sign, _to_signing, make_world

TODAY = today_uk()


@pytest.fixture
def world(app, make_user, make_organisation, make_partnership) -> World:
    return make_world(app, make_user, make_organisation, make_partnership)


def _end(world: World, mou: Mou, kind: EndKind = EndKind.EXPIRED,
         reason: str = "The winter programme finished.") -> Mou:
    mous_factory.end(world.officer, _fresh(mou.id), kind, TODAY - timedelta(days=3), reason)
    db.session.commit()
    return _fresh(mou.id)


@pytest.fixture
def register(world: World) -> dict[str, Mou]:
    """Four MoUs in every state the public sees, plus a draft the public does not."""
    mous = {
        "steady": _in_force(world, 200, title="Sharing winter plans",
                            principles=[Principle.PARTNERSHIP]),
        "due": _in_force(world, 20, title="Social prescribing referrals",
                         principles=[Principle.PARTICIPATION]),
        "overdue": _in_force(world, -5, title="Volunteering in the NHS",
                             principles=[Principle.PARTICIPATION, Principle.TRANSPARENCY]),
        "ended": _in_force(world, 100, title="Warm spaces 2025",
                           parties=[world.council, world.cvs]),
        "draft": _draft(world, title="A draft about libraries"),
    }
    mous["ended"] = _end(world, mous["ended"])
    return mous


def _titles(html: str, candidates: list[str]) -> list[str]:
    return [title for title in candidates if title in html]


ALL = ["Sharing winter plans", "Social prescribing referrals", "Volunteering in the NHS",
       "Warm spaces 2025", "A draft about libraries"]


# --- What the register shows -------------------------------------------------------------


def test_each_entry_shows_its_title_reference_parties_status_and_dates(world, client, register):
    page = client.get(f"{world.base}/")
    html = page.get_data(as_text=True)

    assert page.status_code == 200
    assert _titles(html, ALL) == ALL[:4]  # never the draft
    for mou in list(register.values())[:4]:
        assert mou.reference in html
    assert "Northbridge Council, Northbridge ICB, Northbridge CVS" in html
    assert f"<dt>Started</dt><dd>{(TODAY - timedelta(days=365)).day} " in html
    overdue_day = TODAY - timedelta(days=5)
    assert f"<dd>{overdue_day.day} {overdue_day:%B %Y}</dd>" in html
    assert html.count("Review overdue") == 1 and html.count("Review due") == 1
    # The ended MoU: its end date, how and why, and no review date.
    ended_day = TODAY - timedelta(days=3)
    assert f"<dt>Ended</dt><dd>{ended_day.day} {ended_day:%B %Y}</dd>" in html
    assert "<dt>How it ended</dt><dd>Expired</dd>" in html
    assert "The winter programme finished." in html
    assert "Due for review" not in html  # the officers' list


@pytest.mark.parametrize("status, expected", [
    ("active", ALL[:3]),
    ("review", ["Social prescribing referrals", "Volunteering in the NHS"]),
    ("ended", ["Warm spaces 2025"]),
    ("", ALL[:4]),
    ("nonsense", ALL[:4]),  # a stale or mistyped link means "any", not an error
])
def test_the_status_filter_works_without_javascript(world, client, register, status, expected):
    page = client.get(f"{world.base}/?status={status}&party=&principle=&submit=Show+MoUs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert _titles(html, ALL) == expected
    if status in ("active", "review", "ended"):
        assert f'<option value="{status}" selected>' in html
        assert "Clear filters" in html


def test_the_party_and_principle_filters_narrow_the_register(world, client, register):
    by_party = client.get(f"{world.base}/?party={world.icb.id}").get_data(as_text=True)
    assert _titles(by_party, ALL) == ALL[:3]  # the ended MoU had no ICB

    by_principle = client.get(f"{world.base}/?principle=participation").get_data(as_text=True)
    assert _titles(by_principle, ALL) == ["Social prescribing referrals",
                                          "Volunteering in the NHS"]

    both = client.get(
        f"{world.base}/?status=review&party={world.cvs.id}&principle=transparency"
    ).get_data(as_text=True)
    assert _titles(both, ALL) == ["Volunteering in the NHS"]
    assert "1 MoU matches the filters" in both

    nothing = client.get(f"{world.base}/?status=ended&party={world.icb.id}")
    assert "No MoUs match these filters" in nothing.get_data(as_text=True)


def test_the_party_filter_only_names_parties_the_viewer_can_see(
    world, client, auth, make_organisation
):
    secret = make_organisation("Quiet Trust", org_type=OrgType.CHARITY)
    db.session.add(PartnershipMember(partnership_id=world.partnership.id,
                                     organisation_id=secret.id, status="active"))
    db.session.commit()
    _in_force(world, 200, title="Sharing winter plans")
    _draft(world, parties=[world.council, secret], title="Quiet plans")

    public = client.get(f"{world.base}/").get_data(as_text=True)
    assert f'<option value="{world.icb.id}">Northbridge ICB</option>' in public
    assert "Quiet Trust" not in public
    auth.login(world.officer)
    officer = client.get(f"{world.base}/").get_data(as_text=True)
    assert f'<option value="{secret.id}">Quiet Trust</option>' in officer


def test_members_only_entries_show_to_members_with_the_reason_not_published(
    world, client, auth
):
    mou = _draft(world, title="Safeguarding leads")
    with world.request():
        services.set_publication(world.officer, _fresh(mou.id), False,
                                 "It names individual safeguarding leads.")
        db.session.commit()
    version = _to_signing(world, _fresh(mou.id))
    for org in world.parties:
        _sign(world, version, org)

    assert "Safeguarding leads" not in client.get(f"{world.base}/").get_data(as_text=True)
    auth.login(world.outsider)
    assert "Safeguarding leads" not in client.get(f"{world.base}/").get_data(as_text=True)
    auth.login(world.council_member)
    html = client.get(f"{world.base}/").get_data(as_text=True)
    assert "Safeguarding leads" in html
    assert "Members only.</strong> Not published because: It names individual" in html


# --- The officers' list of MoUs due for review ------------------------------------------


def test_officers_see_what_is_due_for_review_soonest_first(world, client, auth, register):
    for who in (world.officer, world.site_admin):
        auth.login(who)
        html = client.get(f"{world.base}/").get_data(as_text=True)
        start = html.index('id="due-for-review"')
        section = html[start:html.index(">Filter</h2>")]
        assert _titles(section, ALL) == ["Social prescribing referrals",
                                         "Volunteering in the NHS"]
        assert section.index("Volunteering in the NHS") < section.index("Social prescribing")
        assert f"/mous/{register['overdue'].id}/review" in section
        assert "Review overdue" in section


@pytest.mark.parametrize("who", [None, "council_admin", "council_member", "outsider"])
def test_only_officers_see_the_due_for_review_list(world, client, auth, register, who):
    if who:
        auth.login(getattr(world, who))
    html = client.get(f"{world.base}/").get_data(as_text=True)
    assert "Due for review" not in html
    assert "/review" not in html


def test_the_due_for_review_list_says_when_nothing_is_due(world, client, auth):
    _in_force(world, 200, title="Sharing winter plans")
    auth.login(world.officer)
    html = client.get(f"{world.base}/").get_data(as_text=True)
    assert "No MoU is due for review in the next 60 days." in html


# --- Query budgets ----------------------------------------------------------------------


def test_the_filtered_register_and_the_officers_view_keep_their_query_budget(
    world, client, auth, count_queries
):
    for n in range(10):
        _in_force(world, 10 if n % 2 else 300, title=f"MoU number {n}")
    _end(world, _in_force(world, 100, title="Ended one"))
    _draft(world, title="A draft")
    with world.request():
        services.withdraw(world.officer, _fresh(_draft(world, title="Withdrawn").id)
                          .draft_version, "Not needed")
        db.session.commit()

    url = f"{world.base}/?status=review&party={world.icb.id}&principle=partnership"
    everything = f"{world.base}/"
    with count_queries() as anonymous:
        html = client.get(url).get_data(as_text=True)
    assert html.count("MoU number") == 5
    # and one more, the site revision (pagecache.py), for a visitor not signed in
    assert anonymous.count <= 6, "\n\n".join(anonymous.statements)

    auth.login(world.officer)
    with count_queries() as officer:
        html = client.get(everything).get_data(as_text=True)
    assert html.count("MoU number") == 10 + 5  # the register, and the five due
    assert "A draft" in html and "Withdrawn" in html
    # user, officer check, memberships, partnership, MoUs, principles, withdrawn MoU's
    # last version, versions, parties
    assert officer.count <= 9, officer.statements


def test_the_register_reads_parties_as_columns_and_a_party_admin_keeps_the_budget(
    world, client, auth, count_queries
):
    """The register shows each party's name: for a viewer whose permissions do not
    depend on the parties it reads them as columns, not as party and organisation
    objects. A party's admin (who may see a draft) still gets the page in the same few
    queries however many MoUs there are."""
    for n in range(6):
        _in_force(world, 200, title=f"MoU number {n}")
    _draft(world, title="A draft")
    db.session.expire_all()

    with count_queries() as anonymous:
        html = client.get(f"{world.base}/").get_data(as_text=True)
    assert html.count("Northbridge Council, Northbridge ICB, Northbridge CVS") == 6
    assert "A draft" not in html
    assert not [s for s in anonymous.statements if "nominated_signatory_id" in s], \
        anonymous.statements
    assert anonymous.count <= 7, "\n\n".join(anonymous.statements)  # revision included

    auth.login(world.cvs_admin)
    with count_queries() as party_admin:
        html = client.get(f"{world.base}/").get_data(as_text=True)
    assert html.count("Northbridge Council, Northbridge ICB, Northbridge CVS") == 7
    assert "A draft" in html
    assert party_admin.count <= 8, "\n\n".join(party_admin.statements)


def test_a_long_register_is_shown_twenty_at_a_time_newest_first(
    world, client, count_queries, render_every_time
):
    for n in range(22):
        _in_force(world, 300, title=f"Agreement {n:02d}")
    url = f"{world.base}/"
    with count_queries() as first_page:
        html = client.get(url).get_data(as_text=True)
    assert "22 MoUs" in html and "Page 1 of 2" in html
    assert "Agreement 21" in html and "Agreement 02" in html and "Agreement 01" not in html
    assert f'href="{world.base}/?page=2"' in html
    second = client.get(f"{url}?page=2").get_data(as_text=True)
    assert "Agreement 01" in second and "Agreement 00" in second
    assert "Agreement 02" not in second
    # A page past the end shows the last one; filters are kept from page to page.
    assert "Agreement 00" in client.get(f"{url}?page=9").get_data(as_text=True)
    filtered = client.get(f"{url}?status=active&principle=partnership").get_data(as_text=True)
    assert "22 MoUs match the filters" in filtered
    nav = filtered.split('class="govuk-pagination"')[1]
    assert "status=active" in nav and "principle=partnership" in nav, nav[:600]
    # The party filter offers every party the viewer may see, not only this page's.
    assert f'value="{world.council.id}"' in second
    # However long the register, the page costs the same queries.
    with count_queries() as again:
        client.get(url)
    assert again.count == first_page.count <= 6, again.statements  # revision included


# --- Exports ------------------------------------------------------------------------------


def _csv(client, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8"))))


def _register_references(client, url: str) -> list[str]:
    """The references on the anonymous register page, in order."""
    html = client.get(url).get_data(as_text=True)
    body = html[html.index("<tbody"):html.index("</tbody>")]
    return [part[:7] for part in body.split('<span class="govuk-body-s govuk-!-display-block">')
            [1:]]


def test_the_csv_export_is_the_anonymous_register_with_a_header_row(world, client, register):
    response = client.get(f"/partnerships/{world.partnership.slug}/mous.csv")

    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="northbridge-together-mous.csv"')
    text = response.data.decode("utf-8")
    assert text.splitlines()[0].startswith("reference,title,status,status_label,parties,")
    rows = _csv(client, f"/partnerships/{world.partnership.slug}/mous.csv")
    assert [row["reference"] for row in rows] == _register_references(client, f"{world.base}/")
    assert [row["title"] for row in rows] == ALL[:4][::-1]
    overdue = next(row for row in rows if row["title"] == "Volunteering in the NHS")
    assert overdue["review_overdue"] == "true" and overdue["due_for_review"] == "true"
    assert overdue["review_date"] == (TODAY - timedelta(days=5)).isoformat()
    assert overdue["parties"].startswith("Northbridge Council (Role of Northbridge Council); ")
    ended = next(row for row in rows if row["title"] == "Warm spaces 2025")
    assert ended["status"] == "ended" and ended["end_kind"] == "expired"
    assert ended["ended_reason"] == "The winter programme finished."
    assert ended["end_date"] == (TODAY - timedelta(days=3)).isoformat()
    assert ended["review_date"] == ""
    assert ended["url"] == f"http://localhost{world.base}/{register['ended'].id}/"


def test_the_json_export_matches_the_register(world, client, register):
    response = client.get(f"/partnerships/{world.partnership.slug}/mous.json")
    data = response.get_json()

    assert response.status_code == 200 and response.mimetype == "application/json"
    assert set(data) == {"partnership", "generated_at", "mous"}
    assert data["partnership"]["slug"] == "northbridge-together"
    assert data["partnership"]["name"] == "Northbridge Together"
    assert data["generated_at"].endswith("+00:00")
    assert [m["reference"] for m in data["mous"]] == _register_references(
        client, f"{world.base}/")
    csv_rows = _csv(client, f"/partnerships/{world.partnership.slug}/mous.csv")
    for record, row in zip(data["mous"], csv_rows, strict=True):
        assert record["title"] == row["title"] and record["status"] == row["status"]
        assert (record["review_date"] or "") == row["review_date"]
    due = next(m for m in data["mous"] if m["title"] == "Social prescribing referrals")
    assert due["due_for_review"] is True and due["review_overdue"] is False
    assert due["principles"] == ["Participation and inclusion"]
    assert [p["name"] for p in due["parties"]] == [
        "Northbridge Council", "Northbridge ICB", "Northbridge CVS"]
    assert due["version"] == 1 and due["version_signed_at"]


@pytest.mark.parametrize("who", ["officer", "site_admin", "council_admin", "council_member"])
def test_exports_never_hold_drafts_or_members_only_mous_whoever_asks(
    world, client, auth, register, who
):
    members_only = _in_force(world, 200, title="Safeguarding leads")
    with world.request():
        services.set_publication(world.officer, _fresh(members_only.id), False, "Names")
        db.session.commit()
    anonymous_csv = client.get(f"/partnerships/{world.partnership.slug}/mous.csv").data
    anonymous_json = client.get(f"/partnerships/{world.partnership.slug}/mous.json").get_json()

    auth.login(getattr(world, who))
    assert "Safeguarding leads" in client.get(f"{world.base}/").get_data(as_text=True)
    signed_in_csv = client.get(f"/partnerships/{world.partnership.slug}/mous.csv").data
    signed_in_json = client.get(f"/partnerships/{world.partnership.slug}/mous.json").get_json()

    assert signed_in_csv == anonymous_csv
    assert signed_in_json["mous"] == anonymous_json["mous"]
    assert b"Safeguarding leads" not in signed_in_csv and b"A draft" not in signed_in_csv


def test_exports_follow_the_register_filters(world, client, register):
    base = f"/partnerships/{world.partnership.slug}/mous"
    rows = _csv(client, f"{base}.csv?status=review")
    assert [row["title"] for row in rows] == ["Volunteering in the NHS",
                                              "Social prescribing referrals"]
    data = json.loads(client.get(f"{base}.json?status=ended").data)
    assert [m["title"] for m in data["mous"]] == ["Warm spaces 2025"]
    html = client.get(f"{world.base}/?status=ended").get_data(as_text=True)
    assert f'href="{base}.csv?status=ended"' in html


def test_exports_are_utf8_and_defuse_cells_that_look_like_formulas(world, client):
    _in_force(world, 200, title="=HYPERLINK(\"https://evil.example\") café — plans")
    response = client.get(f"/partnerships/{world.partnership.slug}/mous.csv")
    assert "café — plans".encode() in response.data
    rows = _csv(client, f"/partnerships/{world.partnership.slug}/mous.csv")
    assert rows[0]["title"].startswith("'=HYPERLINK")
    data = client.get(f"/partnerships/{world.partnership.slug}/mous.json").get_json()
    assert data["mous"][0]["title"].startswith("=HYPERLINK")  # JSON is data, not a sheet


def test_an_empty_register_exports_just_the_header(world, client):
    rows = client.get(f"/partnerships/{world.partnership.slug}/mous.csv").data.decode()
    assert rows.count("\r\n") == 1
    data = client.get(f"/partnerships/{world.partnership.slug}/mous.json").get_json()
    assert data["mous"] == []


def test_exports_of_an_unknown_partnership_are_not_found(client):
    assert client.get("/partnerships/nowhere/mous.csv").status_code == 404
    missing = client.get("/partnerships/nowhere/mous.json")
    assert missing.status_code == 404 and missing.get_json()["error"] == "Page not found"


def test_export_links_are_on_the_register(world, client):
    html = client.get(f"{world.base}/").get_data(as_text=True)
    assert f'href="/partnerships/{world.partnership.slug}/mous.csv"' in html
    assert f'href="/partnerships/{world.partnership.slug}/mous.json"' in html


def test_a_withdrawn_mou_is_on_the_officers_register_only(world, client, auth):
    mou = _draft(world, title="Never agreed")
    with world.request():
        services.withdraw(world.officer, _fresh(mou.id).draft_version, "No longer needed")
        db.session.commit()
    assert "Never agreed" not in client.get(f"{world.base}/").get_data(as_text=True)
    assert b"Never agreed" not in client.get(
        f"/partnerships/{world.partnership.slug}/mous.csv").data
    auth.login(world.officer)
    html = client.get(f"{world.base}/?status=ended").get_data(as_text=True)
    assert "Never agreed" in html
    assert db.session.scalar(select(Mou.status).where(Mou.id == mou.id)).value == "ended"


def test_dates_far_from_today_are_not_due(world):
    mou = _in_force(world, 61, title="Sharing winter plans")
    fresh = _fresh(mou.id)
    assert not is_due_for_review(fresh, TODAY)
    assert is_due_for_review(fresh, TODAY + timedelta(days=1))
    assert not is_overdue(fresh, fresh.review_date)
    assert is_overdue(fresh, fresh.review_date + timedelta(days=1))
    assert isinstance(fresh.review_date, date)
