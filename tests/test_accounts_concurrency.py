"""People deleting their accounts at the same moment (issue 13): the last two site
administrators, or the last two admins of an organisation with members, each counted
the other and both went, leaving the site or the organisation with none (on PostgreSQL;
SQLite lets one write in at a time). Deleting an account now locks what it counts.

Real concurrent requests (``tests/concurrency.py``), ``ROUNDS`` times.
"""

from __future__ import annotations

from functools import partial

from flask import Flask
from sqlalchemy import func, select

from partnerships.accounts.models import User
from partnerships.extensions import db
from partnerships.factories import accounts, organisations
from partnerships.factories.accounts import PASSWORD
from partnerships.organisations.models import MemberRole, OrganisationMember, RequestStatus
from tests.concurrency import ROUNDS, all_at_once, form_token, signed_in_client

DELETE = "/account/delete"


def _delete_at_once(app: Flask, people: list[User]) -> list[int]:
    clients = [signed_in_client(app, person) for person in people]
    tokens = [form_token(client) for client in clients]
    answers = all_at_once([partial(client.post, DELETE, data={
        "password": PASSWORD, "csrf_token": token})
        for client, token in zip(clients, tokens, strict=True)])
    db.session.expire_all()
    return sorted(answer.status_code for answer in answers)


def test_the_last_two_site_administrators_deleting_at_once_leave_one(file_app: Flask) -> None:
    for round_number in range(ROUNDS):
        for survivor in db.session.scalars(select(User).where(User.is_site_admin)):
            survivor.is_site_admin = False  # last round's: these two are the only ones
        admins = [accounts.user(f"Admin {round_number}-{i}", f"a{round_number}-{i}@example.org",
                                site_admin=True) for i in range(2)]
        db.session.commit()
        assert _delete_at_once(file_app, admins) == [303, 422], f"round {round_number}"
        left = db.session.scalar(select(func.count(User.id)).where(
            User.is_site_admin, User.deleted_at.is_(None)))
        assert left == 1, f"round {round_number}"


def test_the_last_two_admins_of_an_organisation_deleting_at_once_leave_one(
        file_app: Flask) -> None:
    accounts.user("Site Admin", "site@example.org", site_admin=True)
    for round_number in range(ROUNDS):
        admins = [accounts.user(f"Admin {round_number}-{i}", f"o{round_number}-{i}@example.org")
                  for i in range(2)]
        member = accounts.user(f"Member {round_number}", f"m{round_number}@example.org")
        org = organisations.organisation(f"Charity {round_number}", admin=admins[0],
                                         members=[member])
        db.session.add(OrganisationMember(organisation_id=org.id, user_id=admins[1].id,
                                          role=MemberRole.ADMIN, status=RequestStatus.ACTIVE))
        db.session.commit()
        assert _delete_at_once(file_app, admins) == [303, 422], f"round {round_number}"
        left = db.session.scalar(select(func.count(OrganisationMember.id)).where(
            OrganisationMember.organisation_id == org.id,
            OrganisationMember.role == MemberRole.ADMIN,
            OrganisationMember.status == RequestStatus.ACTIVE))
        assert left == 1, f"round {round_number}"
