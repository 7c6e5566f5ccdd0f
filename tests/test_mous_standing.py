"""Issue 15: an MoU's dates never contradict. Signed by every party before its start
date, it is "Signed, not yet in force" ("Signed by all on …; comes into force on …"),
never "Active" or "in force since", until its start date; the register says "Starts"
for a future start date. The register, the MoU page, the printable page, the CSV and
the JSON all say the same (one rule: ``mous.standing``)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest

from partnerships.extensions import db
from partnerships.mous import services, standing
from partnerships.timeutil import format_day, today_uk
from tests.test_mous import World, _draft, _fresh, _sign, _to_signing, make_world


@pytest.fixture
def world(app, make_user, make_organisation, make_partnership) -> World:
    return make_world(app, make_user, make_organisation, make_partnership)


def _signed_by_all(world: World, **overrides):
    mou = _draft(world, **overrides)
    version = _to_signing(world, mou)
    for org in world.parties:
        _sign(world, version, org)
    return _fresh(mou.id)


def _text(response) -> str:
    html = response.get_data(as_text=True)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _five(world: World, client, mou) -> dict[str, str]:
    """What each of the five places says about the MoU (anonymous, as the public sees)."""
    register = _text(client.get(f"{world.base}/")).split(mou.reference, 1)[1]  # its row
    page = _text(client.get(world.url(mou)))
    printed = _text(client.get(world.url(mou, "print")))
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/partnerships/{world.partnership.slug}/mous.csv").get_data(as_text=True))))
    record = client.get(f"/partnerships/{world.partnership.slug}/mous.json").get_json()["mous"]
    return {"register": register, "page": page, "print": printed,
            "csv": rows[0], "json": record[0]}


def test_an_mou_signed_before_its_start_date_is_not_in_force_until_then(world, client):
    start = today_uk() + timedelta(days=29)
    mou = _signed_by_all(world, start_date=start, review_date=start + timedelta(days=300))
    today = format_day(today_uk())
    phrase = f"Signed by all on {today}; comes into force on {format_day(start)}"

    seen = _five(world, client, mou)

    assert "Signed, not yet in force" in seen["register"]
    assert f"Starts {format_day(start)}" in seen["register"]
    assert "Started" not in seen["register"] and "Active" not in seen["register"]
    for where in ("page", "print"):
        assert phrase in seen[where], where
        assert "Signed, not yet in force" in seen[where], where
        assert "Active" not in seen[where] and "in force since" not in seen[where].lower(), where
    for where in ("csv", "json"):
        record = seen[where]
        assert record["status"] == "signed", where
        assert record["status_label"] == "Signed, not yet in force", where
        assert record["status_phrase"] == phrase, where
        assert record["in_force_from"] == start.isoformat(), where


def test_an_mou_in_force_says_so_the_same_way_everywhere(world, client):
    start = today_uk() - timedelta(days=30)
    mou = _signed_by_all(world, start_date=start, review_date=start + timedelta(days=300))
    phrase = f"In force since {format_day(today_uk())}"  # signed today, started before

    seen = _five(world, client, mou)

    assert "Active" in seen["register"] and f"Started {format_day(start)}" in seen["register"]
    assert "not yet in force" not in seen["register"]
    for where in ("page", "print"):
        assert phrase in seen[where], where
        assert "Active" in seen[where], where
    for where in ("csv", "json"):
        assert seen[where]["status"] == "active", where
        assert seen[where]["status_label"] == "Active", where
        assert seen[where]["status_phrase"] == phrase, where
        assert seen[where]["in_force_from"] == today_uk().isoformat(), where


def test_the_register_filters_by_the_same_rule(world, client):
    later = today_uk() + timedelta(days=40)
    earlier = today_uk() - timedelta(days=40)
    _signed_by_all(world, title="Starts later", start_date=later,
                   review_date=later + timedelta(days=300))
    _signed_by_all(world, title="Started already", start_date=earlier,
                   review_date=earlier + timedelta(days=300))
    active = _text(client.get(f"{world.base}/?status=active"))
    signed = _text(client.get(f"{world.base}/?status=signed"))
    results = [text.split("Export", 1)[0].split("Reference", 1)[-1] for text in (active, signed)]
    assert "Started already" in results[0] and "Starts later" not in results[0]
    assert "Starts later" in results[1] and "Started already" not in results[1]


def test_on_its_start_date_it_comes_into_force(world):
    start = today_uk() + timedelta(days=10)
    mou = _signed_by_all(world, start_date=start, review_date=start + timedelta(days=300))
    with world.request():
        mou = _fresh(mou.id)
        db.session.refresh(mou)
        assert standing.standing(mou, start - timedelta(days=1)).phase is standing.Phase.SIGNED
        on_the_day = standing.standing(mou, start)
        assert on_the_day.phase is standing.Phase.ACTIVE
        assert on_the_day.phrase == f"In force since {format_day(start)}"
        assert on_the_day.start_word == "Started"


def test_the_parties_are_told_it_is_signed_and_when_it_comes_into_force(
    world, client, auth, outbox
):
    start = today_uk() + timedelta(days=29)
    mou = _draft(world, start_date=start, review_date=start + timedelta(days=300))
    version = _to_signing(world, mou)
    for org in world.parties[:-1]:
        _sign(world, version, org)
    auth.login(world.cvs_admin)
    signed = client.submit(world.url(mou, f"sign/{world.cvs.id}"), {
        "version": "1", "name": "Cass Cvs", "role": "Chair",
        "statement": services.statement_for(world.cvs)})
    assert signed.status_code == 303
    [message] = [m for m in outbox(world.officer.email)
                 if m.subject.startswith("MoU signed by all in ")]
    assert f"It comes into force on {format_day(start)}, its start date" in message.body
    assert not [m for m in outbox(world.officer.email) if m.subject.startswith("MoU in force in ")]


def test_the_last_signatory_is_told_when_it_comes_into_force(world, client, auth):
    start = today_uk() + timedelta(days=29)
    mou = _draft(world, start_date=start, review_date=start + timedelta(days=300))
    version = _to_signing(world, mou)
    for org in world.parties[:-1]:
        _sign(world, version, org)
    auth.login(world.cvs_admin)
    client.submit(world.url(mou, f"sign/{world.cvs.id}"), {
        "version": "1", "name": "Cass Cvs", "role": "Chair",
        "statement": services.statement_for(world.cvs)})
    page = _text(client.get(world.url(mou)))
    assert (f"so version 1 comes into force on its start date, {format_day(start)}"
            in page)
    assert "is in force" not in page


@pytest.mark.parametrize("level", ["daily", "weekly", "about_me"])
def test_mou_news_digests_do_not_carry_comes_at_once_on_a_digest_level(
    world, client, auth, outbox, level
):
    """Digests hold forum and meeting activity, not MoU steps: an officer on a digest
    level for the partnership still hears at once (or the news would never come), while
    "only what is about me" still leaves out what is not about them."""
    from partnerships.notifications.models import Level
    from partnerships.notifications.services import set_level

    set_level(world.officer, "partnership", world.partnership.id, Level(level))
    db.session.commit()
    start = today_uk() + timedelta(days=29)
    mou = _draft(world, start_date=start, review_date=start + timedelta(days=300))
    version = _to_signing(world, mou)
    for org in world.parties[:-1]:
        _sign(world, version, org)
    auth.login(world.cvs_admin)
    assert client.submit(world.url(mou, f"sign/{world.cvs.id}"), {
        "version": "1", "name": "Cass Cvs", "role": "Chair",
        "statement": services.statement_for(world.cvs)}).status_code == 303
    told = [m for m in outbox(world.officer.email)
            if m.subject.startswith("MoU signed by all in ")]
    assert len(told) == (0 if level == "about_me" else 1)
