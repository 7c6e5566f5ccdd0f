"""Real-browser fixtures: the app on a loopback port, Debian's Chromium driven by
Playwright's sync API, data factories that write through the live app, and an
axe-core check.

Every test in this folder is marked ``browser``. Without ``/usr/bin/chromium`` they
are all skipped, with one loud line saying how to install it (``.ci/run`` does, so CI
always runs them). We never use ``playwright install``: it downloads browsers.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Response,
    sync_playwright,
)
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from partnerships import create_app
from partnerships.accounts.models import User
from partnerships.config import TestConfig
from partnerships.extensions import db
from partnerships.factories import accounts, partnership
from partnerships.mail import OutboxMessage
from partnerships.organisations.models import (
    IncomeBand,
    MemberRole,
    Organisation,
    OrganisationMember,
    OrgType,
    RequestStatus,
)
from partnerships.partnership.models import (
    Partnership,
    Principle,
)
from partnerships.slugs import slugify
from tests.conftest import PASSWORD

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SKIP_REASON = (
    f"Chromium not found at {CHROMIUM}: install it with `sudo apt-get install -y chromium` "
    "(CI does this in .ci/run)"
)

# Playwright adds --headless itself; the rest keep an offline machine quiet (no
# update checks, sync, QUIC or background fetches flooding refused connections).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
TIMEOUT_MS = 10_000

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
# Rules switched off, each with why. Only best-practice rules that GOV.UK Frontend
# itself trips may go here, never WCAG rules.
AXE_DISABLED_RULES: dict[str, str] = {}


def _is_browser_test(item: pytest.Item) -> bool:
    return item.path.is_relative_to(HERE)


# --- collection: mark, and skip loudly without Chromium -------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``browser`` (so ``-m "not browser"`` works)."""
    for item in items:
        if _is_browser_test(item):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip from this one place, so ``-ra`` folds every skip into a single line."""
    if _is_browser_test(item) and not CHROMIUM.exists():
        pytest.skip(SKIP_REASON)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    skipped = [
        report for report in terminalreporter.stats.get("skipped", [])
        if SKIP_REASON in str(getattr(report, "longrepr", ""))
    ]
    if skipped:
        terminalreporter.write_line(
            f"BROWSER TESTS SKIPPED ({len(skipped)}): {SKIP_REASON}", red=True, bold=True
        )


# --- the live server ------------------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    """Log errors, not every request."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class LiveServer:
    """The running app; pages get ``url`` as their base, so tests ``goto("/path")``."""

    app: Flask
    url: str


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app with a file database: the server thread and the tests share it."""
    db_file = tmp_path_factory.mktemp("browser") / "browser.sqlite"
    config = {name: getattr(TestConfig, name) for name in dir(TestConfig) if name.isupper()}
    config.update(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{db_file}",
        RATELIMIT_ENABLED=False,
        # Let the error pages render (as in production) instead of raising into werkzeug.
        PROPAGATE_EXCEPTIONS=False,
    )
    app = create_app(config)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(live_app: Flask) -> Iterator[LiveServer]:
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, live_app, threaded=True, request_handler=_QuietHandler
    )
    url = f"http://127.0.0.1:{server.server_port}"
    live_app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(live_app, url)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


# --- data, written through the live app -----------------------------------------------------------


def _detached(obj: Any) -> Any:
    """Load every column, then let the object outlive its app context."""
    db.session.refresh(obj)
    db.session.expunge(obj)
    return obj


def _attached(obj: Any) -> Any:
    """The row of a detached object (from another app context) in this one's session."""
    return None if obj is None else db.session.get(type(obj), obj.id)


@dataclass
class Data:
    """Factories and look-ups in the live app's database (unique names every call)."""

    app: Flask
    counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def user(self, name: str | None = None, *, confirmed: bool = True) -> User:
        n = next(self.counter)
        with self.app.app_context():
            user = accounts.user(name or f"Browser Person {n}", f"browser.person{n}@example.org",
                                 confirmed=confirmed)
            db.session.commit()
            return _detached(user)

    def organisation(
        self, name: str | None = None, *, admin: User | None = None,
        members: list[User] | None = None, org_type: OrgType = OrgType.COMMUNITY_GROUP,
    ) -> Organisation:
        n = next(self.counter)
        name = name or f"Browser Group {n}"
        with self.app.app_context():
            # Written directly, not through organisations.services: these tests share
            # one database for the whole run and reuse names ("Northbridge CVS" in
            # several journeys), and the service rightly refuses a second organisation
            # of the same name. Each copy gets its own web address instead.
            org = Organisation(
                name=name, slug=f"{slugify(name)}-{n}", org_type=org_type,
                income_band=IncomeBand.UP_TO_10K, description="We run a weekly lunch club.",
            )
            db.session.add(org)
            db.session.flush()
            people = [(admin, MemberRole.ADMIN)] if admin else []
            people += [(member, MemberRole.MEMBER) for member in members or []]
            for person, role in people:
                db.session.add(OrganisationMember(
                    organisation_id=org.id, user_id=person.id, role=role,
                    status=RequestStatus.ACTIVE, job_title="Coordinator",
                ))
            db.session.commit()
            return _detached(org)

    def partnership(
        self, name: str | None = None, *, officers: list[User] | None = None,
        members: list[Organisation] | None = None, place: str = "Northbridge",
    ) -> Partnership:
        n = next(self.counter)
        name = name or f"Browser Partnership {n}"
        with self.app.app_context():
            made = partnership.partnership(
                name, slug=f"{slugify(name)}-{n}", place=place,
                description="We bring **public bodies** and community groups together.",
                principles=(Principle.PARTNERSHIP, Principle.TRANSPARENCY),
                officers=[_attached(o) for o in officers or []],
                members=[_attached(org) for org in members or []])
            db.session.commit()
            return _detached(made)

    def outbox(self, to: str | None = None) -> list[OutboxMessage]:
        """Emails queued so far (optionally to one address), oldest first."""
        with self.app.app_context():
            stmt = select(OutboxMessage).order_by(OutboxMessage.id)
            if to:
                stmt = stmt.where(OutboxMessage.to == to.lower())
            messages = list(db.session.scalars(stmt))
            for message in messages:
                db.session.expunge(message)
            return messages


@pytest.fixture(scope="session")
def data(live_app: Flask) -> Data:
    return Data(live_app)


# --- Playwright -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    driver = sync_playwright().start()
    try:
        yield driver
    finally:
        driver.stop()


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()


@dataclass
class PageErrors:
    """Console errors, uncaught exceptions and failed asset loads seen on one page."""

    messages: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        # Chromium logs every 4xx/5xx as "Failed to load resource", including pages we
        # expect to be 404 or 422; ``response`` below records failing assets instead.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.messages.append(f"console: {message.text} ({message.location.get('url')})")

    def response(self, response: Response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.messages.append(f"{response.status} for {response.url}")

    def exception(self, error: Exception) -> None:
        self.messages.append(f"uncaught: {error}")

    def csp(self) -> list[str]:
        return [m for m in self.messages if "Content Security Policy" in m]


@pytest.fixture
def new_context(
    browser: Browser, live_server: LiveServer
) -> Iterator[Callable[..., BrowserContext]]:
    """``new_context(phone=True)``: a fresh, isolated browser profile (no cookies)."""
    contexts: list[BrowserContext] = []

    def make(*, phone: bool = False) -> BrowserContext:
        context = browser.new_context(
            base_url=live_server.url,
            viewport=PHONE if phone else DESKTOP,
            is_mobile=phone,
            has_touch=phone,
            locale="en-GB",
            timezone_id="Europe/London",
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def _page(context: BrowserContext) -> Page:
    page = context.new_page()
    errors = PageErrors()
    page.on("console", errors.console)
    page.on("pageerror", errors.exception)
    page.on("response", errors.response)
    page.app_errors = errors  # type: ignore[attr-defined]
    return page


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    """A desktop-size page; ``errors_on(page)`` lists console errors and failed assets."""
    return _page(new_context())


@pytest.fixture
def phone_page(new_context: Callable[..., BrowserContext]) -> Page:
    """A phone-size page (390 by 844, touch); ``errors_on(page)`` as for ``page``."""
    return _page(new_context(phone=True))


def errors_on(page: Page) -> PageErrors:
    """What went wrong in the browser on this page so far (see ``PageErrors``)."""
    return page.app_errors  # type: ignore[attr-defined,no-any-return]


# --- axe-core -------------------------------------------------------------------------------------


@cache
def _axe_source() -> str:
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `make assets` (npm ci) first")
    return AXE_JS.read_text(encoding="utf-8")


def _describe(violations: list[dict[str, Any]], url: str) -> str:
    lines = [f"axe-core found {len(violations)} accessibility violation(s) on {url}:"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation.get('impact')}): {violation['help']} "
            f"<{violation['helpUrl']}>"
        )
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    at {target}: {summary}")
    return "\n".join(lines)


def axe_check(page: Page) -> None:
    """Run axe-core on the page as it is now; fail listing rule, impact, help and selectors.

    axe is evaluated through DevTools, which the page's Content Security Policy does
    not govern, so the app's own scripts still run under the real policy.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    options: dict[str, Any] = {
        "runOnly": {"type": "tag", "values": AXE_TAGS},
        "rules": {rule: {"enabled": False} for rule in AXE_DISABLED_RULES},
        "resultTypes": ["violations"],
    }
    results = page.evaluate("options => axe.run(document, options)", options)
    violations = results["violations"]
    assert not violations, _describe(violations, page.url)


# --- journeys shared by tests ---------------------------------------------------------------------


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real form and wait for "Your page", where it lands."""
    page.goto("/account/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/my/")
