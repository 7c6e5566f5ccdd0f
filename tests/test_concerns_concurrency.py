"""Two officers respond to the same concern at the same moment: one response is saved
and emailed, the other officer is told someone else got there first (409)."""

from __future__ import annotations

from functools import partial

from flask import Flask
from sqlalchemy import select

from partnerships.concerns import services
from partnerships.concerns.models import Concern, ConcernCategory
from partnerships.extensions import db
from partnerships.factories import partnership as partnership_factory
from partnerships.mail import OutboxMessage
from tests.concurrency import (
    ROUNDS,
    all_at_once,
    form_token,
    make_user,
    signed_in_client,
)


def test_two_officers_responding_at_once_give_one_response(file_app: Flask) -> None:
    officers = [make_user(f"Officer {i}", f"officer{i}@example.org") for i in range(2)]
    partnership = partnership_factory.partnership("Race Together", officers=officers)
    db.session.commit()
    clients = [signed_in_client(file_app, officer) for officer in officers]
    tokens = [form_token(client) for client in clients]
    for round_number in range(ROUNDS):
        with file_app.test_request_context():
            concern, _ = services.raise_concern(None, partnership, services.ConcernDetails(
                category=ConcernCategory.OTHER, details=f"Round {round_number}.",
                email=f"raiser{round_number}@example.net"))
        db.session.commit()
        url = f"/partnerships/{partnership.slug}/concerns/{concern.id}/respond"
        responses = all_at_once([
            partial(client.post, url, data={"csrf_token": token, "reason": f"From {i}."})
            for i, (client, token) in enumerate(zip(clients, tokens, strict=True))])
        assert sorted(r.status_code for r in responses) == [303, 409], round_number
        db.session.expire_all()
        saved = db.session.get(Concern, concern.id)
        assert saved is not None and saved.response in ("From 0.", "From 1.")
        answers = list(db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.to == f"raiser{round_number}@example.net",
            OutboxMessage.subject.startswith("A response"))))
        assert len(answers) == 1 and saved.response in answers[0].body
