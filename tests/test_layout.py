"""The page layout over HTTP: security headers, no inline script or style, no GOV.UK
branding (this is not a gov.uk service), system fonts, pinned htmx 2.0, a skip link
and a page language.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import AppClient

PAGES = ["/", "/account/sign-in", "/account/register", "/accessibility", "/no-such-page"]
NONCE_RE = re.compile(r"'nonce-([A-Za-z0-9_\-]+)'")
SCRIPT_RE = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_a_strict_content_security_policy(client: AppClient, path: str) -> None:
    response = client.get(path)

    csp = response.headers["Content-Security-Policy"]
    directives: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in csp.split(";"))):
        name, _, value = part.partition(" ")
        directives[name] = value
    assert directives["default-src"] == "'self'"
    assert directives["script-src"].startswith("'self' 'nonce-")
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", PAGES)
def test_inline_script_carries_the_nonce_and_there_is_no_inline_style(
    client: AppClient, path: str
) -> None:
    response = client.get(path)
    html = response.get_data(as_text=True)
    match = NONCE_RE.search(response.headers["Content-Security-Policy"])
    assert match, "the policy has no nonce"
    nonce = match.group(1)

    for attributes in SCRIPT_RE.findall(html):
        assert "src=" in attributes or f'nonce="{nonce}"' in attributes, (
            f"inline <script{attributes}> without this response's nonce on {path}"
        )
    assert not re.search(r"\sstyle=", html), f"style= attribute on {path} (blocked by the CSP)"
    assert not re.search(r"\son[a-z]+=", html), f"inline event handler on {path}"


def test_each_response_gets_a_fresh_nonce(client: AppClient) -> None:
    first = client.get("/").headers["Content-Security-Policy"]
    second = client.get("/").headers["Content-Security-Policy"]
    assert NONCE_RE.search(first).group(1) != NONCE_RE.search(second).group(1)  # type: ignore[union-attr]


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_a_language_a_skip_link_and_its_target(client: AppClient, path: str) -> None:
    html = client.get(path).get_data(as_text=True)

    assert re.search(r'<html lang="en"', html)
    assert re.search(r'<a href="#main-content" class="govuk-skip-link"', html)
    assert 'id="main-content"' in html
    assert html.count("<h1") == 1


@pytest.mark.parametrize("path", PAGES)
def test_pages_show_our_service_name_and_no_gov_uk_branding(client: AppClient, path: str) -> None:
    html = client.get(path).get_data(as_text=True)

    header = html[html.index("<header"):html.index("</header>")]
    footer = html[html.index("<footer"):html.index("</footer>")]
    assert "Local Partnerships" in header
    assert "GOV.UK" not in header and "GOV.UK" not in footer  # the wordmark
    for gov_uk_only in (
        "govuk-header__logotype",  # the crown and GOV.UK wordmark
        "govuk-logo",
        "govuk-footer__copyright-logo",  # the crown copyright logo
        "Crown copyright",
        "govuk-opengraph-image",
        "govuk-icon-",
    ):
        assert gov_uk_only not in html, f"{gov_uk_only!r} on {path}"


def _asset(client: AppClient, path: str) -> tuple[int, str, str]:
    """Status, content type and text of a static file (closing the file it streams from)."""
    with client.get(path) as response:
        return response.status_code, response.content_type, response.get_data(as_text=True)


def test_stylesheet_uses_system_fonts_not_gds_transport(client: AppClient) -> None:
    status, _, css = _asset(client, "/assets/vendor/app.css")

    assert status == 200, "static/vendor/app.css is missing: run `make assets`"
    assert "GDS Transport" not in css
    assert ".woff" not in css
    assert "system-ui" in css


def test_htmx_2_0_is_served_from_our_own_assets(client: AppClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert '<script src="/assets/vendor/htmx.min.js" defer></script>' in html
    assert not re.search(r'src="(https?:)?//', html), "a script or image from another site"

    status, _, script = _asset(client, "/assets/vendor/htmx.min.js")
    assert status == 200, "static/vendor/htmx.min.js is missing: run `make assets`"
    version = re.search(r'version:"([0-9.]+)"', script)
    assert version, "no version string in htmx.min.js"
    assert version.group(1).startswith("2.0."), f"htmx {version.group(1)}: pin 2.0.x"


def test_front_end_scripts_are_served_as_javascript(client: AppClient) -> None:
    """Browsers refuse to run an ES module served with any other type."""
    html = client.get("/").get_data(as_text=True)
    assert '<script type="module" src="/assets/js/app.mjs"></script>' in html

    for path in ("/assets/js/app.mjs", "/assets/vendor/govuk/govuk-frontend.min.js"):
        status, content_type, _ = _asset(client, path)
        assert status == 200, path
        assert "javascript" in content_type, (path, content_type)


def test_single_checkbox_has_no_empty_hint(client):
    page = client.get("/account/sign-in").get_data(as_text=True)
    assert 'id="remember"' in page
    assert "remember-hint" not in page
