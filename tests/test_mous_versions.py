"""Versions of an MoU: the version page, the list of versions, comparing any two versions
(word-level differences marked with <ins> and <del>), bad comparison parameters, who
may see which version, and the printable A4 page."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from partnerships.extensions import db
from partnerships.mous import services
from partnerships.mous.compare import Segment, compare, word_diff
from partnerships.mous.models import Mou, MouVersion
from partnerships.mous.services import ClauseDetails, PartyDetails
from partnerships.timeutil import today_uk
from tests.test_mous import (
    World,
    _active,
    _details,
    _draft,
    _fresh,
    _sign,
    _to_signing,
    _version,
    make_world,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def world(app, make_user, make_organisation, make_partnership) -> World:
    return make_world(app, make_user, make_organisation, make_partnership)


def _v2_label() -> str:
    """Version 2 (from ``_amend``) starts on 1 April 2027: signed by all, it is not in
    force before then (issue 15, ``mous.standing``)."""
    start = date(2027, 4, 1)
    return "In force" if today_uk() >= start else "Signed, in force from 1 April 2027"


def _amend(world: World, mou: Mou, *, sign: bool = True) -> MouVersion:
    """Version 2: a new title and review date, data sharing, the ICB's role changed, the
    CVS no longer a party, clause 1 reworded, clause 2 removed, a clause added."""
    with world.request():
        version = services.start_amendment(world.officer, _fresh(mou.id),
                                           "Adds the libraries and drops the CVS")
        services.update_draft(world.officer, version, _details(
            title="Working together on winter pressures and libraries",
            review_date=date(2028, 9, 1), data_sharing=True,
            data_sharing_note="Referral numbers only.",
            changelog="Adds the libraries and drops the CVS",
        ))
        services.set_parties(world.officer, version, [
            PartyDetails(world.council.id, "Role of Northbridge Council"),
            PartyDetails(world.icb.id, "Funder and evaluator"),
        ])
        services.set_clauses(world.officer, version, [
            ClauseDetails("Share winter plans with the libraries by September.",
                          [world.council.id]),
            ClauseDetails("Open the libraries as warm spaces on weekday evenings.",
                          [world.council.id, world.icb.id]),
        ])
        db.session.commit()
    if sign:
        _to_signing(world, _fresh(mou.id))
        version = _version(mou.id, 2)
        for org in (world.council, world.icb):
            _sign(world, version, org)
    return _version(mou.id, 2)


# --- The version page and the list of versions ---------------------------------------------


def test_a_version_page_shows_its_full_text_signatures_changelog_and_status(
    world, client
):
    mou = _active(world)
    _amend(world, mou)

    page = client.get(world.url(mou, "versions/1/"))
    html = page.get_data(as_text=True)

    assert page.status_code == 200
    assert "<h1 class=\"govuk-heading-l\">Working together on winter pressures</h1>" in html
    assert "Superseded" in html and "First version" in html
    assert "You are reading version 1, which is superseded." in html
    assert "Share winter plans by October." in html  # clauses
    assert "Refer people to the <em>warm spaces</em> network." in html  # Markdown
    assert "Northbridge CVS" in html and "Role of Northbridge CVS" in html  # parties
    for admin in (world.council_admin, world.icb_admin, world.cvs_admin):
        assert f"Signed by {admin.name}, Chief Executive, on " in html  # who and when
    assert "Version 2" in html and world.url(mou, "versions/2/") in html  # other versions
    assert world.url(mou, "compare?from=1&amp;to=2") in html
    assert world.url(mou, "print?version=1") in html


def test_the_mou_page_lists_versions_with_changelog_signed_date_and_compare_links(
    world, client, auth
):
    mou = _active(world)
    _amend(world, mou)
    with world.request():
        services.start_amendment(world.officer, _fresh(mou.id), "A third go")
        db.session.commit()

    html = client.get(world.url(mou)).get_data(as_text=True)
    table = html[html.index('id="versions"'):]
    table = table[:table.index("</table>")]
    assert "Adds the libraries and drops the CVS" in table and "First version" in table
    assert _v2_label() in table and "Superseded" in table
    assert "A third go" not in table  # a draft is not public
    assert table.count("compare?from=") == 1
    assert world.url(mou, "compare?from=1&amp;to=2") in table
    signed = _version(mou.id, 2).signed_at
    assert f"{signed:%B %Y}" in table

    auth.login(world.officer)
    officer = client.get(world.url(mou)).get_data(as_text=True)
    assert "A third go" in officer and world.url(mou, "compare?from=2&amp;to=3") in officer


@pytest.mark.parametrize("who, status", [
    (None, 302), ("council_member", 403), ("outsider", 403),  # sign in, or whose it is
    ("icb_admin", 200), ("officer", 200),
])
def test_a_draft_version_is_only_for_officers_and_the_parties_admins(
    world, client, auth, who, status
):
    mou = _active(world)
    _amend(world, mou, sign=False)
    if who:
        auth.login(getattr(world, who))
    assert client.get(world.url(mou, "versions/2/")).status_code == status
    assert client.get(world.url(mou, "versions/1/")).status_code == 200
    assert client.get(world.url(mou, "versions/9/")).status_code == 404


# --- Comparing -----------------------------------------------------------------------------


def test_comparing_two_versions_shows_every_change_with_ins_and_del(world, client):
    mou = _active(world)
    _amend(world, mou)

    page = client.get(world.url(mou, "compare?from=1&to=2"))
    html = page.get_data(as_text=True)

    assert page.status_code == 200
    assert "What changed from version 1 to version 2" in html
    # Details: the title word by word; dates and data sharing old and new.
    assert ('Working together on winter pressures<ins class="app-diff__ins">'
            '<span class="govuk-visually-hidden">[added: </span> and libraries'
            '<span class="govuk-visually-hidden">]</span></ins>') in html
    assert "Review date" in html and "1 March 2028" in html and "1 September 2028" in html
    assert "Data sharing" in html and "Referral numbers only." in html
    # Parties: removed, and a role changed.
    assert "<strong>Removed:</strong> Northbridge CVS, Role of Northbridge CVS" in html
    assert ("<strong>Role changed:</strong> Northbridge ICB, from “Role of Northbridge ICB” "
            "to “Funder and evaluator”") in html
    # Clauses: clause 1 edited word by word; clause 2 replaced by a new one.
    assert "Clause 1: changed" in html
    assert re.search(r'<del class="app-diff__del"><span class="govuk-visually-hidden">'
                     r"\[removed: </span>October\.", html)
    assert "with the libraries" in html
    assert "Clause 2 of version 1: removed" in html
    assert "Clause 2: added" in html
    assert "Open the libraries as warm spaces on weekday evenings." in html
    assert "[added: " in html and "[removed: " in html  # said out loud, not only shown


def test_comparing_the_other_way_round_swaps_additions_and_removals(world, client):
    mou = _active(world)
    _amend(world, mou)
    html = client.get(world.url(mou, "compare?from=2&to=1")).get_data(as_text=True)
    assert "What changed from version 2 to version 1" in html
    assert "<strong>Added:</strong> Northbridge CVS, Role of Northbridge CVS" in html


def test_the_compare_page_defaults_to_the_two_latest_versions(world, client):
    mou = _active(world)
    _amend(world, mou)
    html = client.get(world.url(mou, "compare")).get_data(as_text=True)
    assert "What changed from version 1 to version 2" in html
    assert '<option value="1" selected>' in html and '<option value="2" selected>' in html
    assert 'name="from"' in html and 'name="to"' in html and 'method="get"' in html


def test_a_single_version_has_nothing_to_compare(world, client):
    mou = _active(world)
    html = client.get(world.url(mou, "compare")).get_data(as_text=True)
    assert "nothing to compare yet" in html


@pytest.mark.parametrize("query, message, field", [
    ("from=one&to=2", "Choose a version number to compare from, like 1 or 2", "from"),
    ("from=1&to=9", "There is no version 9 of this MoU that you can read", "to"),
    ("from=1&to=1", "Choose two different versions to compare", "to"),
    ("from=1", "Choose the version to compare with", "to"),
    ("from=&to=2", "Choose the version to compare from", "from"),
    ("from=1&to=3", "There is no version 3 of this MoU that you can read", "to"),  # a draft
])
def test_bad_comparison_parameters_show_the_form_with_a_clear_message(
    world, client, query, message, field
):
    mou = _active(world)
    _amend(world, mou)
    with world.request():
        services.start_amendment(world.officer, _fresh(mou.id), "A third go")
        db.session.commit()

    page = client.get(world.url(mou, f"compare?{query}"))
    html = page.get_data(as_text=True)

    assert page.status_code == 400
    assert "There is a problem" in html and message in html
    assert f'href="#{field}"' in html  # the summary links to the select
    assert f'<select class="govuk-select govuk-select--error" id="{field}" name="{field}"' in html
    assert "<title>Error: " in html
    assert "What changed" not in html


def test_officers_may_compare_a_draft_with_the_version_in_force(world, client, auth):
    mou = _active(world)
    _amend(world, mou, sign=False)
    auth.login(world.officer)
    html = client.get(world.url(mou, "compare?from=1&to=2")).get_data(as_text=True)
    assert "What changed from version 1 to version 2" in html
    auth.logout()
    assert client.get(world.url(mou, "compare?from=1&to=2")).status_code == 400
    assert client.get(world.url(mou, "compare")).status_code == 200


def test_comparing_a_draft_mou_asks_the_public_to_sign_in(world, client):
    mou = _draft(world)
    response = client.get(world.url(mou, "compare?from=1&to=2"))
    assert response.status_code == 302 and "/account/sign-in" in response.headers["Location"]


def test_the_compare_page_keeps_its_query_budget(world, client, count_queries):
    mou = _active(world)
    with world.request():
        version = services.start_amendment(world.officer, _fresh(mou.id), "More clauses")
        services.set_clauses(world.officer, version, [
            ClauseDetails(f"Clause text {n}", [world.council.id, world.icb.id])
            for n in range(30)])
        db.session.commit()
    _to_signing(world, _fresh(mou.id))
    for org in world.parties:
        _sign(world, _version(mou.id, 2), org)
    url = world.url(mou, "compare?from=1&to=2")
    with count_queries() as log:
        html = client.get(url).get_data(as_text=True)
    assert "Clause 30: added" in html
    # The partnership and MoU with its version in force (10), the list of versions (2),
    # version 1 in full (6): the same for 3 clauses or 300; and the site revision.
    assert log.count <= 19, "\n\n".join(log.statements)


# --- The comparison itself ---------------------------------------------------------------


def test_word_diff_keeps_line_breaks_and_merges_neighbouring_changes():
    segments = word_diff("Meet every month.\nShare notes.", "Meet every two weeks.\nShare notes.")
    assert segments == [
        Segment("equal", "Meet every "),
        Segment("delete", "month."),
        Segment("insert", "two weeks."),
        Segment("equal", "\nShare notes."),
    ]
    assert word_diff("same", "same") == [Segment("equal", "same")]
    assert word_diff("", "new") == [Segment("insert", "new")]


def test_removing_a_clause_in_the_middle_is_not_shown_as_every_later_clause_changing(world):
    mou = _active(world)
    with world.request():
        v2 = services.start_amendment(world.officer, _fresh(mou.id), "Drop clause 1")
        services.set_clauses(world.officer, v2, [
            ClauseDetails("Refer people to the *warm spaces* network.",
                          [world.icb.id, world.cvs.id])])
        db.session.commit()
        result = compare(_version(mou.id, 1), _version(mou.id, 2))
    assert [(c.kind, c.old_number, c.new_number) for c in result.clauses] == [
        ("removed", 1, None), ("renumbered", 2, 1)]
    assert result.unchanged_clauses == 0 and not result.parties and not result.details


def test_a_change_of_responsible_party_is_a_change(world):
    mou = _active(world)
    with world.request():
        v2 = services.start_amendment(world.officer, _fresh(mou.id), "The CVS leads")
        services.set_clauses(world.officer, v2, [
            ClauseDetails("Share winter plans by October.", [world.cvs.id]),
            ClauseDetails("Refer people to the *warm spaces* network.",
                          [world.icb.id, world.cvs.id])])
        db.session.commit()
        result = compare(_version(mou.id, 1), _version(mou.id, 2))
    change = result.clauses[0]
    assert (change.kind, change.text_changed) == ("changed", False)
    assert change.responsible_added == ["Northbridge CVS"]
    assert change.responsible_removed == ["Northbridge Council"]
    assert result.unchanged_clauses == 1
    assert result.has_changes


def test_identical_versions_have_no_changes(world, client, auth):
    mou = _active(world)
    with world.request():
        services.start_amendment(world.officer, _fresh(mou.id), "Nothing yet")
        db.session.commit()
        assert not compare(_version(mou.id, 1), _version(mou.id, 2)).has_changes
    auth.login(world.officer)
    html = client.get(world.url(mou, "compare?from=1&to=2")).get_data(as_text=True)
    assert "The two versions are the same" in html
    assert "2 other clauses are unchanged." in html


# --- The printable page ---------------------------------------------------------------------


def test_the_printable_page_has_parties_clauses_signatures_and_version(world, client):
    mou = _active(world)
    _amend(world, mou)

    page = client.get(world.url(mou, "print"))
    html = page.get_data(as_text=True)

    assert page.status_code == 200
    assert '<article class="app-mou-document">' in html
    assert "Working together on winter pressures and libraries" in html
    label = _v2_label()
    assert f"Version 2 ({label[0].lower()}{label[1:]}): Adds the libraries and drops the CVS" \
        in html
    assert "Funder and evaluator" in html  # parties and roles
    assert "Open the libraries as warm spaces on weekday evenings." in html  # clauses
    assert "Ida Icb, Chief Executive" in html and "I agree on behalf of Northbridge ICB" in html
    assert "Each signature is for version 2 exactly as printed here." in html
    assert 'class="app-no-print"' in html  # the back link and the hint are not printed

    old = client.get(world.url(mou, "print?version=1")).get_data(as_text=True)
    assert "Version 1 (superseded): First version" in old and "Cass Cvs" in old


def test_the_printable_page_follows_who_may_see_each_version(world, client, auth):
    mou = _active(world)
    _amend(world, mou, sign=False)
    assert client.get(world.url(mou, "print?version=2")).status_code == 302  # sign in first
    assert client.get(world.url(mou, "print?version=x")).status_code == 404
    auth.login(world.icb_admin)
    assert client.get(world.url(mou, "print?version=2")).status_code == 200


def test_the_print_stylesheet_lays_the_mou_out_on_a4():
    scss = (ROOT / "static" / "scss" / "_components.scss").read_text(encoding="utf-8")
    section = scss[scss.index("// --- MoUs"):]
    assert re.search(r"@page\s*{\s*size:\s*A4;\s*margin:\s*2cm;\s*}", section)
    assert "@media print" in section and "break-inside: avoid" in section


def test_the_mou_page_links_to_its_printable_version(world, client):
    mou = _active(world)
    html = client.get(world.url(mou)).get_data(as_text=True)
    assert world.url(mou, "print") in html
