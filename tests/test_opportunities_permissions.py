"""Permission boundaries for every opportunity page: anonymous visitors are sent to sign
in (or see the public pages), signed-in people without the right get 403, and pages
about someone else's application or placement answer 404 so they reveal nothing. A
guard test makes sure every route of the blueprint is in the table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from partnerships.extensions import db
from partnerships.opportunities.models import (
    Application,
    ApplicationStatus,
    ManagerDecision,
    OpportunityPoster,
    OpportunityStatus,
    Placement,
    PlacementStatus,
)
from partnerships.organisations.models import OrganisationMember, RequestStatus
from tests.conftest import build_world
from tests.test_opportunities import SIGN_IN, TOKEN_PAGE, make_opportunity

# (method, url, what an anonymous visitor gets, what a signed-in outsider gets)
# "signin" means a redirect to the sign-in page.
ROUTES: list[tuple[str, str, Any, int]] = [
    ("GET", "/opportunities/", 200, 200),
    ("GET", "/opportunities/figures", 200, 200),
    ("GET", "/opportunities/manager-decision-sent", 200, 200),
    ("GET", "/opportunities/manager/{token}", 404, 404),
    ("POST", "/opportunities/manager/{token}", 404, 404),
    ("GET", "/opportunities/{open}/", 200, 200),
    ("GET", "/opportunities/{draft}/", "signin", 404),  # the link may be the host's
    ("GET", "/opportunities/new", "signin", 403),
    ("POST", "/opportunities/new", "signin", 403),
    ("GET", "/opportunities/{open}/edit", "signin", 403),
    ("POST", "/opportunities/{open}/edit", "signin", 403),
    ("GET", "/opportunities/{draft}/edit", "signin", 404),
    ("POST", "/opportunities/{draft}/publish", "signin", 404),
    ("POST", "/opportunities/{open}/publish", "signin", 403),
    ("POST", "/opportunities/{open}/close", "signin", 403),
    ("POST", "/opportunities/{open}/reopen", "signin", 403),
    ("GET", "/opportunities/{open}/withdraw", "signin", 403),
    ("POST", "/opportunities/{open}/withdraw", "signin", 403),
    ("GET", "/opportunities/{open}/applications", "signin", 403),
    ("GET", "/opportunities/{open}/apply", "signin", 200),  # tells them to join an org
    ("POST", "/opportunities/{open}/apply", "signin", 200),
    ("GET", "/opportunities/{draft}/apply", "signin", 404),
    ("GET", "/my/applications", "signin", 200),
    ("GET", "/my/opportunities", "signin", 200),
    ("GET", "/applications/{application}/", "signin", 404),
    ("POST", "/applications/{application}/decision", "signin", 404),
    ("POST", "/applications/{application}/remind", "signin", 404),
    ("GET", "/applications/{application}/withdraw", "signin", 404),
    ("POST", "/applications/{application}/withdraw", "signin", 404),
    ("GET", "/placements/{placement}/", "signin", 404),
    ("GET", "/placements/{placement}/plan", "signin", 404),
    ("POST", "/placements/{placement}/plan", "signin", 404),
    ("POST", "/placements/{placement}/checklist", "signin", 404),
    ("POST", "/placements/{placement}/start", "signin", 404),
    ("POST", "/placements/{placement}/complete", "signin", 404),
    ("GET", "/placements/{placement}/reflection", "signin", 404),
    ("POST", "/placements/{placement}/reflection", "signin", 404),
    ("GET", "/placements/{placement}/cancel", "signin", 404),
    ("POST", "/placements/{placement}/cancel", "signin", 404),
    # Organisations are public, so their admins-only page answers 403 (not 404).
    ("GET", "/organisations/{org}/opportunity-posters", "signin", 403),
    ("POST", "/organisations/{org}/opportunity-posters", "signin", 403),
    ("POST", "/organisations/{org}/opportunity-posters/{poster}/remove", "signin", 403),
]


@dataclass
class Ids:
    open: int
    draft: int
    application: int
    placement: int
    org: str
    poster: int
    token: str = "not-a-real-token"


@pytest.fixture
def setup(app: Any, make_user: Any, make_organisation: Any, make_partnership: Any) -> Any:
    world = build_world(app, make_user, make_organisation, make_partnership)
    lead = make_user("Hana HR Lead", "hana@cvs.example.org")
    db.session.add(OrganisationMember(organisation_id=world.cvs.id, user_id=lead.id,
                                      status=RequestStatus.ACTIVE))
    poster = OpportunityPoster(organisation_id=world.cvs.id, user_id=lead.id,
                               granted_by_id=world.cvs_admin.id)
    db.session.add(poster)
    opportunity = make_opportunity(world.cvs, world.cvs_admin, places=2, places_taken=1)
    draft = make_opportunity(world.cvs, world.cvs_admin, status=OpportunityStatus.DRAFT)
    application = Application(opportunity_id=opportunity.id,
                              applicant_id=world.council_staff.id,
                              organisation_id=world.council.id, statement="Private",
                              manager_decision=ManagerDecision.APPROVED,
                              status=ApplicationStatus.ACCEPTED)
    db.session.add(application)
    db.session.flush()
    placement = Placement(application_id=application.id, status=PlacementStatus.IN_PROGRESS)
    db.session.add(placement)
    db.session.commit()
    return world, Ids(opportunity.id, draft.id, application.id, placement.id,
                      world.cvs.slug, poster.id)


def _call(client: Any, method: str, url: str, token_page: str) -> Any:
    if method == "GET":
        return client.get(url)
    return client.submit(url, {}, page=token_page)


@pytest.mark.parametrize("method, url, anonymous, outsider", ROUTES)
def test_every_page_guards_its_door(setup, client, auth, method, url, anonymous, outsider):
    world, ids = setup
    path = url.format(**vars(ids))
    response = _call(client, method, path, SIGN_IN)
    if anonymous == "signin":
        assert response.status_code in (302, 303), (method, path, response.status_code)
        assert response.headers["Location"].startswith(SIGN_IN)
    else:
        assert response.status_code == anonymous, (method, path)
    auth.login(world.outsider)
    response = _call(client, method, path, TOKEN_PAGE)
    assert response.status_code == outsider, (method, path, response.status_code)


def test_the_permission_table_covers_every_opportunity_route(app):
    """A new route must be added to ``ROUTES`` so the table sees it."""
    covered = set()
    for _method, url, _anonymous, _outsider in ROUTES:
        covered.add(url.replace("{open}", "<int:opportunity_id>")
                    .replace("{draft}", "<int:opportunity_id>")
                    .replace("{application}", "<int:application_id>")
                    .replace("{placement}", "<int:placement_id>")
                    .replace("{org}", "<key>")
                    .replace("{poster}", "<int:poster_id>")
                    .replace("{token}", "<token>"))
    registered = {rule.rule for rule in app.url_map.iter_rules()
                  if rule.endpoint.startswith("opportunities.")}
    assert registered <= covered, registered - covered


def test_people_inside_the_host_cannot_act_unless_admins(setup, client, auth):
    world, ids = setup
    auth.login(world.cvs_staff)  # a member of the host, not an admin
    assert client.get(f"/opportunities/{ids.open}/applications").status_code == 403
    assert client.get(f"/opportunities/{ids.open}/edit").status_code == 403
    assert client.get(f"/applications/{ids.application}/").status_code == 404
    assert client.get(f"/placements/{ids.placement}/").status_code == 404
    assert client.get(f"/organisations/{ids.org}/opportunity-posters").status_code == 403
