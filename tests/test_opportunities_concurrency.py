"""Never overbook: two hosts accepting different applications for the last place at the
same moment give exactly one placement; the other application goes on the reserve list.

Real concurrent requests: two threads, each with its own test client (so its own
session, app context and database connection), against a file-based SQLite database
in WAL mode, released together by a barrier. Repeated a few times, since a race that
happens to serialise would prove nothing on its own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from partnerships import create_app
from partnerships.accounts.models import User
from partnerships.config import TestConfig
from partnerships.extensions import db
from partnerships.modelbase import utcnow
from partnerships.opportunities.models import (
    Application,
    ApplicationStatus,
    ManagerDecision,
    Placement,
)
from partnerships.organisations.models import (
    MemberRole,
    Organisation,
    OrganisationMember,
    OrgType,
    RequestStatus,
)
from tests.conftest import CSRF_RE, AppClient, _password_hash
from tests.test_opportunities import make_opportunity

ROUNDS = 5


@pytest.fixture
def file_app(tmp_path: Any) -> Iterator[Flask]:
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'race.sqlite'}"
    settings["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    app = create_app(settings)
    app.test_client_class = AppClient
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


def _user(name: str, email: str) -> User:
    user = User(name=name, email=email, password_hash=_password_hash(),
                email_confirmed_at=utcnow())
    db.session.add(user)
    db.session.flush()
    return user


def _client(app: Flask, user: User) -> AppClient:
    client: AppClient = app.test_client()  # type: ignore[assignment]
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


def _token(client: AppClient, url: str) -> str:
    match = CSRF_RE.search(client.get(url).get_data(as_text=True))
    assert match, url
    return match.group(1)


def test_two_hosts_accepting_the_last_place_at_once_make_exactly_one_placement(file_app):
    host_a = _user("Host A", "a@cvs.example.org")
    host_b = _user("Host B", "b@cvs.example.org")
    cvs = Organisation(name="CVS", slug="cvs", org_type=OrgType.CHARITY)
    council = Organisation(name="Council", slug="council", org_type=OrgType.LOCAL_AUTHORITY)
    db.session.add_all([cvs, council])
    db.session.flush()
    for host in (host_a, host_b):
        db.session.add(OrganisationMember(organisation_id=cvs.id, user_id=host.id,
                                          role=MemberRole.ADMIN, status=RequestStatus.ACTIVE))
    applicants = [_user(f"Applicant {i}", f"applicant{i}@council.example.org")
                  for i in range(2 * ROUNDS)]
    db.session.commit()

    for round_number in range(ROUNDS):
        opportunity = make_opportunity(cvs, host_a, places=1, title=f"Round {round_number}")
        pair = applicants[2 * round_number: 2 * round_number + 2]
        apps = [Application(opportunity_id=opportunity.id, applicant_id=person.id,
                            organisation_id=council.id, statement="Please",
                            manager_decision=ManagerDecision.APPROVED) for person in pair]
        db.session.add_all(apps)
        db.session.commit()

        clients = [_client(file_app, host_a), _client(file_app, host_b)]
        urls = [f"/applications/{app.id}/" for app in apps]
        tokens = [_token(client, url) for client, url in zip(clients, urls, strict=True)]
        barrier = threading.Barrier(2)
        responses: list[Any] = [None, None]
        errors: list[BaseException] = []

        def accept(i: int, clients: list[AppClient] = clients, urls: list[str] = urls,
                   tokens: list[str] = tokens, barrier: threading.Barrier = barrier,
                   responses: list[Any] = responses, errors: list[BaseException] = errors,
                   ) -> None:
            try:
                barrier.wait(timeout=10)
                responses[i] = clients[i].post(
                    f"{urls[i]}decision",
                    data={"decision": "accept", "message": "", "csrf_token": tokens[i]})
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

        threads = [threading.Thread(target=accept, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not errors, errors
        assert [r.status_code for r in responses] == [303, 303], [
            r.get_data(as_text=True)[:500] for r in responses]

        db.session.expire_all()
        placements = db.session.scalar(
            select(func.count()).select_from(Placement).join(Application)
            .where(Application.opportunity_id == opportunity.id))
        assert placements == 1, f"round {round_number}"
        statuses = sorted(a.status.value for a in apps)
        assert statuses == [ApplicationStatus.ACCEPTED.value, ApplicationStatus.RESERVE.value]
        db.session.refresh(opportunity)
        assert opportunity.places_taken == 1
        loser = next(i for i, a in enumerate(apps) if a.status is ApplicationStatus.RESERVE)
        page = clients[loser].get(urls[loser]).get_data(as_text=True)
        assert "There are no places left" in page and "reserve list" in page
