"""MoUs moving on (issue 15): the MoU page names who may sign for each party and
whether they have signed; the officer sees which parties still have nobody nominated;
"Send for comments" and "Open for signature" each go through a confirmation page that
names who is emailed; both can be returned to draft until the first signature."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from partnerships.audit import AuditEvent
from partnerships.extensions import db
from partnerships.factories import mous as mous_factory
from partnerships.mous import services
from partnerships.mous.models import MouStatus, VersionStatus
from tests.test_mous import (
    TOKEN_PAGE,
    World,
    _draft,
    _fresh,
    _sign,
    _to_signing,
    _version,
    make_world,
)


@pytest.fixture
def world(app, make_user, make_organisation, make_partnership) -> World:
    return make_world(app, make_user, make_organisation, make_partnership)


def _text(response) -> str:
    """The page's words, without tags, on one line."""
    html = response.get_data(as_text=True)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- Who signs for each party ------------------------------------------------------------


def test_the_page_names_who_may_sign_for_each_party_and_when_they_signed(world, client, auth):
    mou = _draft(world)
    with world.request():
        services.nominate_signatory(world.icb_admin, _fresh(mou.id).draft_version.parties[1],
                                    world.council_member.email)
    db.session.commit()
    version = _to_signing(world, _fresh(mou.id))
    _sign(world, version, world.council)

    auth.login(world.officer)
    page = _text(client.get(world.url(mou)))
    assert "Signed by Carl Council, Chief Executive, on" in page
    assert "Signs for it: Mo Member (nominated), or an admin: Ida Icb" in page
    assert "No one nominated to sign yet. An admin can sign: Cass Cvs" in page


def test_the_officer_sees_which_parties_have_nobody_nominated_and_an_admin_gets_the_link(
    world, client, auth
):
    mou = _draft(world)
    with world.request():
        services.nominate_signatory(world.icb_admin, _fresh(mou.id).draft_version.parties[1],
                                    world.council_member.email)
    db.session.commit()

    auth.login(world.officer)
    page = _text(client.get(world.url(mou)))
    still = page.split("Still to nominate who signs", 1)[1].split("Edit the details", 1)[0]
    assert "Northbridge Council: ask Carl Council (its admin) to nominate someone" in still
    assert "Northbridge CVS: ask Cass Cvs (its admin) to nominate someone" in still
    assert "Northbridge ICB" not in still

    auth.login(world.cvs_admin)
    html = client.get(world.url(mou)).get_data(as_text=True)
    assert world.url(mou, f"nominate/{world.cvs.id}") in html
    assert "Still to nominate who signs" not in html  # that list is the officers'


def test_the_public_never_sees_who_is_nominated(world, client, auth):
    mou = _draft(world)
    version = _to_signing(world, mou)
    for org in world.parties:
        _sign(world, version, org)
    page = _text(client.get(world.url(mou)))
    assert "Signed by Cass Cvs" in page
    assert "nominated" not in page.lower().replace("nominated signatory", "")
    assert "An admin can sign" not in page


# --- Confirmation pages: send for comments, open for signature ------------------------------


def test_send_for_comments_asks_first_naming_who_is_emailed(world, client, auth, outbox):
    mou = _draft(world)
    auth.login(world.officer)
    confirm = client.get(world.url(mou, "send-for-comments"))
    assert confirm.status_code == 200
    page = _text(confirm)
    assert "Send version 1 to the parties for comments" in page
    for name, org in (("Carl Council", "Northbridge Council"), ("Ida Icb", "Northbridge ICB"),
                      ("Cass Cvs", "Northbridge CVS")):
        assert f"{name}, admin of {org}" in page
    assert "You can still change the clauses" in page
    assert _fresh(mou.id).status is MouStatus.DRAFT and outbox() == []  # GET changes nothing

    sent = client.submit(world.url(mou, "send-for-comments"))
    assert sent.status_code == 303
    assert _fresh(mou.id).status is MouStatus.COMMENTS
    assert {m.to for m in outbox()} == {"carl@council.example", "ida@icb.example",
                                         "cass@cvs.example"}


def test_open_for_signature_asks_first_saying_the_clauses_are_then_fixed(
    world, client, auth, outbox
):
    mou = _draft(world)
    with world.request():
        services.nominate_signatory(world.icb_admin, _fresh(mou.id).draft_version.parties[1],
                                    world.council_member.email)
    db.session.commit()
    auth.login(world.officer)
    page = _text(client.get(world.url(mou, "open-for-signature")))
    assert "Open version 1 for signature" in page
    assert "the clauses are fixed" in page
    assert "Mo Member, nominated to sign for Northbridge ICB" in page
    assert "Carl Council, admin of Northbridge Council" in page
    assert _fresh(mou.id).status is MouStatus.DRAFT

    opened = client.submit(world.url(mou, "open-for-signature"))
    assert opened.status_code == 303
    assert _fresh(mou.id).status is MouStatus.SIGNING
    assert "mo@council.example" in {m.to for m in outbox()}


def test_the_mou_page_links_to_the_confirmation_pages_rather_than_acting_at_once(
    world, client, auth
):
    mou = _draft(world)
    auth.login(world.officer)
    html = client.get(world.url(mou)).get_data(as_text=True)
    assert f'href="{world.url(mou, "send-for-comments")}"' in html
    assert f'href="{world.url(mou, "open-for-signature")}"' in html
    assert f'action="{world.url(mou, "send-for-comments")}"' not in html


@pytest.mark.parametrize("step", ["send-for-comments", "open-for-signature", "return-to-draft"])
def test_only_officers_may_see_the_confirmation_pages(world, client, auth, step):
    mou = _draft(world)
    if step == "return-to-draft":
        _to_signing(world, mou)
    auth.login(world.council_admin)  # a party's admin: may read the draft, not run it
    assert client.get(world.url(mou, step)).status_code == 403
    auth.login(world.outsider)
    assert client.get(world.url(mou, step)).status_code in (403, 404)
    auth.logout()
    assert client.get(world.url(mou, step)).status_code in (302, 303, 401)


def test_a_refused_step_says_why_on_its_confirmation_page(world, client, auth):
    mou = mous_factory.draft(world.officer, world.partnership, world.parties, clauses=[])
    db.session.commit()
    auth.login(world.officer)
    refused = client.submit(world.url(mou, "open-for-signature"))
    assert refused.status_code == 422
    assert "Add at least one clause before opening the MoU for signature" in _text(refused)
    assert _fresh(mou.id).status is MouStatus.DRAFT


# --- Return to draft ----------------------------------------------------------------------


@pytest.mark.parametrize("step", ["comments", "signing"])
def test_an_officer_can_return_a_version_to_draft_before_anyone_signs(
    world, client, auth, outbox, step
):
    mou = _draft(world)
    if step == "comments":
        mous_factory.send_for_comments(world.officer, mou)
        db.session.commit()
    else:
        _to_signing(world, mou)
    before = len(outbox())
    auth.login(world.officer)
    confirm = client.get(world.url(mou, "return-to-draft"))
    assert confirm.status_code == 200
    page = _text(confirm)
    assert "Return version 1 to draft" in page
    assert "Cass Cvs, admin of Northbridge CVS" in page

    done = client.submit(world.url(mou, "return-to-draft"))
    assert done.status_code == 303
    mou = _fresh(mou.id)
    assert mou.status is MouStatus.DRAFT
    version = _version(mou.id, 1)
    assert version.status is VersionStatus.DRAFT and version.opened_for_signature_at is None
    assert len(outbox()) - before == 3
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "mou.returned_to_draft")) is not None
    # Back in draft: the clauses can change again.
    assert client.get(world.url(mou, "clauses")).status_code == 200


def test_return_to_draft_is_refused_with_a_clear_message_once_anyone_has_signed(
    world, client, auth
):
    mou = _draft(world)
    version = _to_signing(world, mou)
    _sign(world, version, world.icb)
    auth.login(world.officer)
    html = client.get(world.url(mou)).get_data(as_text=True)
    assert world.url(mou, "return-to-draft") not in html
    refused = client.submit(world.url(mou, "return-to-draft"), page=TOKEN_PAGE)
    assert refused.status_code == 409
    assert ("Northbridge ICB has already signed version 1, so it can no longer go back to "
            "draft") in _text(refused)
    assert _fresh(mou.id).status is MouStatus.SIGNING


def test_a_draft_cannot_be_returned_to_draft(world, client, auth):
    mou = _draft(world)
    auth.login(world.officer)
    refused = client.submit(world.url(mou, "return-to-draft"), page=TOKEN_PAGE)
    assert refused.status_code == 409
    assert "Version 1 is already a draft" in _text(refused)


def test_a_party_admin_cannot_return_a_version_to_draft(world, client, auth):
    mou = _draft(world)
    _to_signing(world, mou)
    auth.login(world.council_admin)
    refused = client.submit(world.url(mou, "return-to-draft"), page=TOKEN_PAGE)
    assert refused.status_code == 403
    assert _fresh(mou.id).status is MouStatus.SIGNING
