"""Two parties signing an MoU at the same moment (issue 13): when they are the last two
to sign, the version comes into force. Before the fix each request saw only its own
signature next to the others already there, so neither brought it into force and the
MoU stayed out for signature with every party signed (on PostgreSQL; SQLite lets one
write in at a time). Every change to an MoU now locks it first (``mous.services.lock``).

Real concurrent requests (``tests/concurrency.py``), ``ROUNDS`` times, a new MoU each.
"""

from __future__ import annotations

from functools import partial

from partnerships.extensions import db
from partnerships.factories import mous, organisations, partnership
from partnerships.mous.models import Mou, MouStatus, VersionStatus
from partnerships.mous.services import statement_for
from tests.concurrency import (
    ROUNDS,
    all_at_once,
    form_token,
    make_user,
    signed_in_client,
)


def test_the_last_two_parties_signing_at_once_bring_the_mou_into_force(file_app):
    officer = make_user("Olu Officer", "olu@northbridge.example.org")
    signers = [make_user(f"Signer {i}", f"signer{i}@example.org") for i in range(2)]
    parties = [organisations.organisation(f"Party {i}", admin=signer)
               for i, signer in enumerate(signers)]
    place = partnership.partnership("Northbridge Together", officers=[officer],
                                    members=parties)
    db.session.commit()
    clients = [signed_in_client(file_app, signer) for signer in signers]
    tokens = [form_token(client) for client in clients]

    for round_number in range(ROUNDS):
        mou = mous.draft(officer, place, parties, title=f"Round {round_number}")
        version = mous.open_for_signature(officer, mou)
        db.session.commit()
        base = f"/partnerships/{place.slug}/mous/{mou.id}/sign"
        responses = all_at_once([
            partial(client.post, f"{base}/{party.id}", data={
                "version": str(version.number), "name": signer.name,
                "role": "Chief Executive", "statement": statement_for(party),
                "csrf_token": token})
            for client, token, party, signer in zip(clients, tokens, parties, signers,
                                                    strict=True)])
        assert [r.status_code for r in responses] == [303, 303], [
            r.get_data(as_text=True)[:300] for r in responses]

        db.session.expire_all()
        signed = db.session.get(Mou, mou.id)
        assert signed is not None
        assert len(signed.versions[0].signatures) == 2
        assert signed.versions[0].status is VersionStatus.SIGNED, f"round {round_number}"
        assert signed.status is MouStatus.ACTIVE, f"round {round_number}"


def test_returning_to_draft_while_the_first_party_signs_never_leaves_a_signature_on_a_draft(
    file_app,
):
    """Issue 15: an officer takes the version back to draft as the first party signs.
    Exactly one wins: either the version is back in draft with no signature (the
    signature refused), or it is still out for signature with the signature (the return
    refused with the reason)."""
    officer = make_user("Olu Officer", "olu@northbridge.example.org")
    signer = make_user("Sade Signer", "sade@example.org")
    other = make_user("Otis Other", "otis@example.org")
    party = organisations.organisation("Party A", admin=signer)
    second = organisations.organisation("Party B", admin=other)
    place = partnership.partnership("Northbridge Together", officers=[officer],
                                    members=[party, second])
    db.session.commit()
    officer_client = signed_in_client(file_app, officer)
    signer_client = signed_in_client(file_app, signer)
    officer_token, signer_token = form_token(officer_client), form_token(signer_client)

    outcomes = set()
    for round_number in range(ROUNDS):
        mou = mous.draft(officer, place, [party, second], title=f"Round {round_number}")
        version = mous.open_for_signature(officer, mou)
        db.session.commit()
        base = f"/partnerships/{place.slug}/mous/{mou.id}"
        back, signed = all_at_once([
            partial(officer_client.post, f"{base}/return-to-draft",
                    data={"csrf_token": officer_token}),
            partial(signer_client.post, f"{base}/sign/{party.id}", data={
                "version": str(version.number), "name": signer.name, "role": "Chair",
                "statement": statement_for(party), "csrf_token": signer_token}),
        ])

        db.session.expire_all()
        now = db.session.get(Mou, mou.id)
        assert now is not None
        first = now.versions[0]
        if first.status is VersionStatus.DRAFT:
            assert first.signatures == [], f"round {round_number}: a signature on a draft"
            assert now.status is MouStatus.DRAFT
            assert back.status_code == 303 and signed.status_code == 409, round_number
            outcomes.add("returned")
        else:
            assert first.status is VersionStatus.SIGNING, round_number
            assert len(first.signatures) == 1 and now.status is MouStatus.SIGNING
            assert signed.status_code == 303 and back.status_code == 409, round_number
            assert "has already signed" in back.get_data(as_text=True)
            outcomes.add("signed")
    assert outcomes  # at least one round ran; either order is a correct outcome
