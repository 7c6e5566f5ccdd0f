"""Absolute links come from BASE_URL, never from the request's Host header, and a
production server refuses hosts it does not serve (security review, item 1).

Each email test sends every request of the journey with ``Host: attacker.example``, as
the attack did, and checks the emailed link starts with BASE_URL.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from partnerships import create_app
from partnerships.config import TestConfig
from partnerships.forums.models import MembershipPolicy
from tests.conftest import LINK_RE, PASSWORD, build_world
from tests.test_forums import HW, _invite, add_forum, people  # noqa: F401  (fixture)
from tests.test_opportunities import make_opportunity

BASE = "https://partnerships.example.org"
ATTACKER = "attacker.example"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def forged(app: Any, client: Any, monkeypatch: Any) -> Any:
    """The service lives at BASE; every request claims to be for the attacker's host."""
    app.config["BASE_URL"] = BASE
    send = client.open

    def open_with_forged_host(*args: Any, **kwargs: Any) -> Any:
        kwargs["headers"] = {**dict(kwargs.get("headers") or {}), "Host": ATTACKER}
        return send(*args, **kwargs)

    monkeypatch.setattr(client, "open", open_with_forged_host)
    return client


def sign_in(client: Any, user: Any) -> None:
    """Sign in through the form, on the forged host (the cookie is set for it)."""
    response = client.submit("/account/sign-in", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 303


def links(message: Any) -> list[str]:
    found = LINK_RE.findall(message.body)
    assert found, f"no link in email {message.subject!r}"
    return found


def assert_all_links_on_base(message: Any) -> None:
    for link in links(message):
        assert link.startswith(BASE + "/"), f"{message.subject!r} links to {link}"
    assert ATTACKER not in message.body


def test_the_forged_host_really_reaches_the_app(forged):
    """Guard for the tests below: the forged Host is what the app sees."""
    response = forged.get("/account/reset")
    assert response.status_code == 200
    assert response.request.host == ATTACKER


def test_password_reset_link_uses_base_url(forged, make_user, outbox):
    make_user(email="sam@example.org")
    response = forged.submit("/account/reset", {"email": "sam@example.org"})
    assert response.status_code == 200
    [message] = outbox("sam@example.org")
    assert_all_links_on_base(message)
    assert links(message)[0].startswith(BASE + "/account/reset/")


def test_confirmation_link_uses_base_url(forged, outbox):
    response = forged.submit("/account/register", {
        "name": "Sam Newcomer", "email": "sam@example.org",
        "password": "a long and unusual passphrase 42",
        "confirm": "a long and unusual passphrase 42",
    })
    assert response.status_code in (200, 303), response.get_data(as_text=True)[:500]
    [message] = outbox("sam@example.org")
    assert_all_links_on_base(message)
    assert links(message)[0].startswith(BASE + "/account/confirm/")


def test_forum_invitation_link_uses_base_url(forged, people, outbox):  # noqa: F811
    add_forum(people["partnership"], policy=MembershipPolicy.BY_INVITATION,
              convenors=[people["convenor"]])
    sign_in(forged, people["convenor"])
    response = _invite(forged, "newcomer@example.org")
    assert response.status_code == 303
    [message] = outbox("newcomer@example.org")
    assert_all_links_on_base(message)
    assert links(message)[0].startswith(BASE + "/invitations/")


def test_line_manager_approval_link_uses_base_url(forged, app, make_user,
                                                  make_organisation, make_partnership,
                                                  outbox):
    world = build_world(app, make_user, make_organisation, make_partnership)
    opportunity = make_opportunity(world.cvs, world.cvs_admin, title="Secondment to the CVS",
                                   places=2, contact_email="contact@cvs.example.org")
    sign_in(forged, world.council_staff)
    response = forged.submit(f"/opportunities/{opportunity.id}/apply", {
        "organisation_id": str(world.council.id), "statement": "I want to learn.",
        "availability": "Tuesdays", "manager_name": "Mo Manager",
        "manager_email": "mo.manager@council.example.org",
    })
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    [message] = outbox("mo.manager@council.example.org")
    assert_all_links_on_base(message)
    assert "/manager" in links(message)[0]


def test_links_shown_on_pages_and_in_feeds_use_base_url(forged, people):  # noqa: F811
    """The subscribe box's feed address and the feed's own links, asked for with a
    forged host."""
    slug = people["partnership"].slug
    page = forged.get(f"/partnerships/{slug}/meetings/")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert ATTACKER not in body
    assert f"{BASE}/partnerships/{slug}/calendar.ics" in body
    feed = forged.get(f"/partnerships/{slug}/calendar.ics")
    assert feed.status_code == 200
    assert ATTACKER not in feed.get_data(as_text=True)


def test_links_built_outside_a_request_use_base_url(app):
    """CLI jobs (reminders, digests) build links with no request at all."""
    from flask import url_for

    app.config["BASE_URL"] = BASE + "/"
    assert url_for("accounts.sign_in") == BASE + "/account/sign-in"
    assert url_for("accounts.sign_in", _external=True) == BASE + "/account/sign-in"


def test_an_app_mounted_under_a_path_keeps_it(app):
    app.config["BASE_URL"] = BASE + "/partners"
    with app.test_request_context("/x", base_url="http://internal:8000/partners"):
        from flask import url_for

        assert url_for("accounts.sign_in") == "/partners/account/sign-in"
        assert url_for("accounts.sign_in", _external=True) == BASE + "/partners/account/sign-in"


# --- Trusted hosts ---------------------------------------------------------------------------


def _production_app(**settings: Any) -> Any:
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    # No tables here, and the host check comes before any page: no page cache either.
    config.update({"ENV_NAME": "production", "BASE_URL": BASE, "TRUSTED_HOSTS": None,
                   "PAGE_CACHE_BYTES": 0, **settings})
    return create_app(config)


def test_production_refuses_hosts_it_does_not_serve_with_a_400():
    app = _production_app()
    assert app.config["TRUSTED_HOSTS"] == ["partnerships.example.org"]
    client = app.test_client()
    refused = client.get("/account/reset", headers={"Host": ATTACKER})
    assert refused.status_code == 400
    assert "problem with that request" in refused.get_data(as_text=True)
    served = client.get("/account/sign-in", headers={"Host": "partnerships.example.org"})
    assert served.status_code == 200
    # The port does not matter; the name does.
    assert client.get("/account/sign-in",
                      headers={"Host": "partnerships.example.org:443"}).status_code == 200


def test_trusted_hosts_can_be_set_explicitly():
    app = _production_app(TRUSTED_HOSTS=["partnerships.example.org", ".council.example"])
    client = app.test_client()
    assert client.get("/account/sign-in",
                      headers={"Host": "www.council.example"}).status_code == 200
    assert client.get("/account/sign-in", headers={"Host": ATTACKER}).status_code == 400


def test_trusted_hosts_from_the_environment():
    from partnerships.links import trusted_hosts

    assert trusted_hosts(BASE, None) == ["partnerships.example.org"]
    assert trusted_hosts(BASE, " a.example , .B.example ,") == ["a.example", ".b.example"]


def test_development_answers_any_host(app, client):
    assert app.config["TRUSTED_HOSTS"] is None
    assert client.get("/", headers={"Host": "my-laptop.local"}).status_code == 200


# --- One place builds absolute URLs -----------------------------------------------------------

_HOST_FROM_REQUEST = re.compile(r"request\.(host|host_url|url_root|root_url|base_url|url)\b")


def test_nothing_but_links_py_reads_the_request_host_to_build_links():
    """A future email or feed built from the request's host would bring the bug back."""
    offenders = []
    for path in [*ROOT.joinpath("partnerships").rglob("*.py"),
                 *ROOT.joinpath("templates").rglob("*.html"),
                 *ROOT.joinpath("templates").rglob("*.txt")]:
        if path.name == "links.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if _HOST_FROM_REQUEST.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


# --- Built paths remembered (issue 13, benchmarks) ----------------------------------------------


def test_a_path_built_twice_in_requests_is_built_once(app, client, monkeypatch):
    """Werkzeug builds each path once per app; the second request reuses it."""
    from werkzeug.routing import MapAdapter

    client.get("/healthz")  # the app has started serving: its URL map is fixed
    builds: list[str] = []
    build = MapAdapter.build

    def counted(self: Any, endpoint: str, *args: Any, **kwargs: Any) -> Any:
        builds.append(endpoint)
        return build(self, endpoint, *args, **kwargs)

    monkeypatch.setattr(MapAdapter, "build", counted)
    from flask import url_for

    for _ in range(2):
        with app.test_request_context("/x"):
            assert url_for("partnership.show", slug="north") == "/partnerships/north/"
            assert url_for("partnership.show", slug="north", _external=True) == \
                app.config["BASE_URL"].rstrip("/") + "/partnerships/north/"
    assert builds == ["partnership.show"]


def test_remembered_paths_keep_what_makes_them_differ(app, client):
    """Values of another type, another order, another anchor, another script root, a
    relative endpoint and a list of values all build their own path."""
    from flask import url_for

    client.get("/healthz")
    for _ in range(2):
        with app.test_request_context("/x"):
            assert url_for("partnership.members", slug="n", page=1) == \
                "/partnerships/n/members?page=1"
            assert url_for("partnership.members", slug="n", page=True) == \
                "/partnerships/n/members?page=True"
            assert url_for("partnership.members", slug="n", page=1, sector="vcse") == \
                "/partnerships/n/members?page=1&sector=vcse"
            assert url_for("partnership.members", slug="n", sector="vcse", page=1) == \
                "/partnerships/n/members?sector=vcse&page=1"
            assert url_for("partnership.show", slug="n", _anchor="forums") == \
                "/partnerships/n/#forums"
            assert url_for("opportunities.index", sector=["vcse", "public"]) == \
                "/opportunities/?sector=vcse&sector=public"
        with app.test_request_context("/partnerships/n/"):
            assert url_for(".members", slug="n") == "/partnerships/n/members"
        with app.test_request_context("/x", base_url="http://internal:8000/partners"):
            assert url_for("partnership.show", slug="n") == "/partners/partnerships/n/"
