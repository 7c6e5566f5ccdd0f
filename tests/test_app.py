"""The app factory, configuration, health check, error pages and response headers."""

from __future__ import annotations

import pytest
from flask import abort
from sqlalchemy.exc import OperationalError

from partnerships import create_app
from partnerships.config import normalise_database_url
from partnerships.extensions import db
from tests.databases import on_postgresql


def test_factory_uses_the_given_config(app, database_url):
    assert app.config["TESTING"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"] == database_url
    assert app.static_url_path == "/assets"


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": None,
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"})


def test_development_generates_and_keeps_a_secret_key(tmp_path, monkeypatch):
    first = create_app({"SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    second = create_app({"SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert first.config["SECRET_KEY"]
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u:p@db/x", "postgresql+psycopg://u:p@db/x"),
        ("postgresql://u:p@db/x", "postgresql+psycopg://u:p@db/x"),
        ("postgresql+psycopg://u:p@db/x", "postgresql+psycopg://u:p@db/x"),
        ("sqlite:///instance/x.sqlite", "sqlite:///instance/x.sqlite"),
    ],
)
def test_postgres_urls_use_the_psycopg_driver(given, used):
    assert normalise_database_url(given) == used


@pytest.mark.skipif(on_postgresql(), reason="PostgreSQL always enforces foreign keys")
def test_sqlite_runs_with_foreign_keys_on(app):
    assert db.session.execute(db.text("PRAGMA foreign_keys")).scalar() == 1


def test_healthz_reports_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_503_when_the_database_fails(client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"


@pytest.mark.parametrize(
    ("status", "title"),
    [
        (400, "Sorry, there is a problem with that request"),
        (403, "You do not have permission to see this page"),
        (404, "Page not found"),
        (405, "That action is not allowed here"),
        (413, "That file is too big"),
        (429, "Too many attempts"),
        (500, "Sorry, there is a problem with the service"),
    ],
)
def test_error_pages_are_styled_and_htmx_aware(app, client, status, title):
    @app.get(f"/boom/{status}")
    def boom():  # type: ignore[no-untyped-def]
        abort(status)

    response = client.get(f"/boom/{status}")
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert f"<h1 class=\"govuk-heading-l\">{title}</h1>" in page
    assert "govuk-footer" in page

    fragment = client.get(f"/boom/{status}", headers={"HX-Request": "true"})
    assert fragment.status_code == status
    body = fragment.get_data(as_text=True)
    assert title in body and "<html" not in body


def test_unexpected_exceptions_give_the_styled_500_page(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/crash")
    def crash():  # type: ignore[no-untyped-def]
        raise RuntimeError("bug")

    response = client.get("/crash")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.get_data(as_text=True)
    assert "bug" not in response.get_data(as_text=True)


def test_unknown_page_is_404_and_wrong_method_is_405(client):
    assert client.get("/no-such-page").status_code == 404
    response = client.delete("/")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_security_headers_and_csp_nonce(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.get_data(as_text=True)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/", "/accessibility", "/privacy", "/cookies"])
def test_information_pages_are_public(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("<h1") == 1


def test_session_cookie_is_httponly_and_samesite(client, make_user):
    make_user(email="sam@example.org")
    from tests.conftest import PASSWORD

    response = client.submit("/account/sign-in", {"email": "sam@example.org",
                                                  "password": PASSWORD})
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie


def test_the_wsgi_app_imports_in_a_fresh_interpreter(tmp_path):
    """Import order differs outside the test suite: catch circular imports here."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/fresh.sqlite"}
    result = subprocess.run(
        [sys.executable, "-c", "from wsgi import app; print(sorted(app.blueprints))"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "forums" in result.stdout
