"""Two parties signing an MoU at the same moment (issue 13): when they are the last two
to sign, the version comes into force. Before the fix each request saw only its own
signature next to the others already there, so neither brought it into force and the
MoU stayed out for signature with every party signed (on PostgreSQL; SQLite lets one
write in at a time). Every change to an MoU now locks it first (``mous.services.lock``).

Real concurrent requests (``tests/concurrency.py``), ``ROUNDS`` times, a new MoU each.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from flask import Flask

from partnerships.extensions import db
from partnerships.factories import mous, organisations, partnership
from partnerships.mous.models import Mou, MouStatus, VersionStatus
from partnerships.mous.services import statement_for
from tests.concurrency import (
    ROUNDS,
    all_at_once,
    file_database_app,
    form_token,
    make_user,
    signed_in_client,
)


@pytest.fixture
def file_app(tmp_path: Any) -> Iterator[Flask]:
    with file_database_app(tmp_path) as app:
        yield app


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
