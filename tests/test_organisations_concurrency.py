"""An organisation always keeps an admin, even when its two admins step down at the same
moment (issue 13). Before the fix each request counted the other admin, and both
stepped down (on PostgreSQL; SQLite lets one write in at a time), leaving nobody to
run the organisation. Changes of role and removals now lock the organisation first.

Real concurrent requests (``tests/concurrency.py``), ``ROUNDS`` times, a new
organisation each.
"""

from __future__ import annotations

from functools import partial

from sqlalchemy import func, select

from partnerships.extensions import db
from partnerships.factories import organisations
from partnerships.organisations.models import MemberRole, OrganisationMember, RequestStatus
from tests.concurrency import (
    ROUNDS,
    all_at_once,
    form_token,
    make_user,
    signed_in_client,
)


def test_two_admins_stepping_down_at_once_leave_one_admin(file_app):
    admins = [make_user(f"Admin {i}", f"admin{i}@example.org") for i in range(2)]
    member = make_user("Member", "member@example.org")
    db.session.commit()
    clients = [signed_in_client(file_app, admin) for admin in admins]
    tokens = [form_token(client) for client in clients]

    for round_number in range(ROUNDS):
        org = organisations.organisation(f"Round {round_number}", admin=admins[0],
                                         members=[member])
        organisations.member(org, admins[1], role=MemberRole.ADMIN)
        db.session.commit()
        links = {link.user_id: link.id for link in db.session.scalars(
            select(OrganisationMember).where(OrganisationMember.organisation_id == org.id))}
        # Each admin makes the other an ordinary member, at the same moment.
        responses = all_at_once([
            partial(client.post,
                    f"/organisations/{org.slug}/members/{links[other.id]}/remove-admin",
                    data={"csrf_token": token})
            for client, token, other in zip(clients, tokens, reversed(admins), strict=True)])
        # The one who came second is no longer an admin (403), or, if both had read
        # their rights first, is told the organisation needs one (422).
        assert sorted(r.status_code for r in responses) in ([303, 403], [303, 422]), [
            r.get_data(as_text=True)[:300] for r in responses]

        db.session.expire_all()
        left = db.session.scalar(select(func.count()).select_from(OrganisationMember).where(
            OrganisationMember.organisation_id == org.id,
            OrganisationMember.status == RequestStatus.ACTIVE,
            OrganisationMember.role == MemberRole.ADMIN))
        assert left == 1, f"round {round_number}"
