"""Never overbook: two hosts accepting different applications for the last place at the
same moment give exactly one placement; the other application goes on the reserve list.

Real concurrent requests: two threads, each with its own test client (so its own
session, app context and database connection), against a file-based SQLite database
in WAL mode, released together by a barrier. Repeated a few times, since a race that
happens to serialise would prove nothing on its own.
"""

from __future__ import annotations

from functools import partial

from sqlalchemy import func, select

from partnerships.extensions import db
from partnerships.opportunities.models import (
    Application,
    ApplicationStatus,
    ManagerDecision,
    Placement,
    PlacementStatus,
)
from partnerships.organisations.models import (
    MemberRole,
    Organisation,
    OrganisationMember,
    OrgType,
    RequestStatus,
)
from tests.concurrency import (
    CROWD,
    ROUNDS,
    all_at_once,
    csrf_token,
    form_token,
    make_user,
    signed_in_client,
)
from tests.test_opportunities import make_opportunity


def test_two_hosts_accepting_the_last_place_at_once_make_exactly_one_placement(file_app):
    host_a = make_user("Host A", "a@cvs.example.org")
    host_b = make_user("Host B", "b@cvs.example.org")
    cvs = Organisation(name="CVS", slug="cvs", org_type=OrgType.CHARITY)
    council = Organisation(name="Council", slug="council", org_type=OrgType.LOCAL_AUTHORITY)
    db.session.add_all([cvs, council])
    db.session.flush()
    for host in (host_a, host_b):
        db.session.add(OrganisationMember(organisation_id=cvs.id, user_id=host.id,
                                          role=MemberRole.ADMIN, status=RequestStatus.ACTIVE))
    applicants = [make_user(f"Applicant {i}", f"applicant{i}@council.example.org")
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

        clients = [signed_in_client(file_app, host_a), signed_in_client(file_app, host_b)]
        urls = [f"/applications/{app.id}/" for app in apps]
        tokens = [csrf_token(client, url) for client, url in zip(clients, urls, strict=True)]
        responses = all_at_once([
            partial(client.post, f"{url}decision",
                    data={"decision": "accept", "message": "", "csrf_token": token})
            for client, url, token in zip(clients, urls, tokens, strict=True)])
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


def test_applicants_withdrawing_while_the_host_accepts_never_keep_a_place(file_app):
    """Withdraw vs accept (issue 13): the host accepts ``CROWD`` * 3/5 applications at
    once for a fifth as many places while the first two thirds of those applicants
    withdraw at the same moment. Before the fix an applicant withdrawing at the instant
    the host accepted was left withdrawn with an agreed placement, and the place never
    came back. After every round: no withdrawn application has a live placement, every
    accepted one has exactly one, and the places taken are those placements, no more
    than the places offered."""
    host = make_user("Host", "host@cvs.example.org")
    cvs = Organisation(name="CVS", slug="cvs", org_type=OrgType.CHARITY)
    council = Organisation(name="Council", slug="council", org_type=OrgType.LOCAL_AUTHORITY)
    db.session.add_all([cvs, council])
    db.session.flush()
    db.session.add(OrganisationMember(organisation_id=cvs.id, user_id=host.id,
                                      role=MemberRole.ADMIN, status=RequestStatus.ACTIVE))
    deciding = CROWD * 3 // 5
    withdrawing = deciding * 2 // 3
    places = max(1, CROWD // 5)
    applicants = [make_user(f"Applicant {i}", f"applicant{i}@council.example.org")
                  for i in range(deciding)]
    db.session.commit()
    host_clients = [signed_in_client(file_app, host) for _ in range(deciding)]
    host_tokens = [form_token(client) for client in host_clients]
    applicant_clients = [signed_in_client(file_app, person) for person in applicants]
    applicant_tokens = [form_token(client) for client in applicant_clients]

    for round_number in range(ROUNDS):
        opportunity = make_opportunity(cvs, host, places=places, title=f"Round {round_number}")
        apps = [Application(opportunity_id=opportunity.id, applicant_id=person.id,
                            organisation_id=council.id, statement="Please",
                            manager_decision=ManagerDecision.APPROVED) for person in applicants]
        db.session.add_all(apps)
        db.session.commit()
        ids = [app.id for app in apps]
        requests = [partial(host_clients[i].post, f"/applications/{ids[i]}/decision",
                            data={"decision": "accept", "message": "",
                                  "csrf_token": host_tokens[i]})
                    for i in range(deciding)]
        requests += [partial(applicant_clients[i].post, f"/applications/{ids[i]}/withdraw",
                             data={"csrf_token": applicant_tokens[i]})
                     for i in range(withdrawing)]
        responses = all_at_once(requests)
        # 409: accepting an application already withdrawn, as a second later would.
        assert all(r is not None and r.status_code in (303, 409) for r in responses), [
            (r.status_code, r.get_data(as_text=True)[:300]) for r in responses
            if r is None or r.status_code not in (303, 409)]
        assert all(r.status_code == 303 for r in responses[deciding:]), "a withdrawal failed"

        db.session.expire_all()
        label = f"round {round_number}"
        rows = {a.id: a for a in db.session.scalars(
            select(Application).where(Application.opportunity_id == opportunity.id))}
        live = {p.application_id: p for p in db.session.scalars(
            select(Placement).join(Application).where(
                Application.opportunity_id == opportunity.id,
                Placement.status != PlacementStatus.CANCELLED))}
        assert all(rows[i].status is ApplicationStatus.WITHDRAWN for i in ids[:withdrawing])
        assert not any(rows[i].status is ApplicationStatus.WITHDRAWN for i in live), (
            f"{label}: a withdrawn application kept its placement")
        accepted = {i for i, a in rows.items() if a.status is ApplicationStatus.ACCEPTED}
        assert accepted == set(live), f"{label}: accepted {accepted}, placements {set(live)}"
        db.session.refresh(opportunity)
        assert opportunity.places_taken == len(live) <= places, (
            f"{label}: {opportunity.places_taken} places taken, {len(live)} placements")
        assert all(rows[i].status in (ApplicationStatus.ACCEPTED, ApplicationStatus.RESERVE)
                   for i in ids[withdrawing:]), label
