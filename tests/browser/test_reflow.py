"""Every page of the demo fits a 320 CSS px wide screen (WCAG 2.2 1.4.10 Reflow).

Signed out and signed in as each demo account, every same-site link is followed from
a few starting pages (through the app's test client, which is quick), trying up to
three pages of each route; the largest page of each route (and of each route with a
query string), as whichever person's version of it is largest, is then loaded in
Chromium at 320 by 720 with a phone's touch and
overlay scroll bars. A page fails when it scrolls sideways
(``document.documentElement.scrollWidth`` wider than the viewport) or when a link or
button lies outside the viewport's width, since someone who cannot see it cannot
press it, or when a table cell under a visible column heading has no ``data-label``
(a stacked table shows it as the cell's label; see templates/macros/table.html). The
failure names every such page, how wide it became and the elements that stick out,
so it says what to fix. The first page of each route with a table also gets an
axe-core check at this width. Pages added later are reached by their links and
checked without this file changing.

Links that would sign the person out, or carry a one-time token, and downloads
(calendar feeds, CSV and JSON exports, papers and attachments) are not followed. The
"Are you sure?" pages (remove, decline, withdraw, cancel) are: a GET only shows the
question, and the question has to fit a phone too.

The demo is loaded into an app of its own (loading it empties the database, which
the other browser tests share), served on a loopback port.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Error, Page
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server

from partnerships import create_app
from partnerships.accounts.models import User
from partnerships.config import TestConfig
from partnerships.extensions import db
from partnerships.seed import DEMO_PASSWORD, load_demo
from tests.browser.conftest import TIMEOUT_MS, _QuietHandler, axe_check
from tests.conftest import AppClient, Auth

WIDTH = 320
VIEWPORT = {"width": WIDTH, "height": 720}

# Signed out, then each demo account in the README.
PEOPLE: list[str | None] = [
    None,
    "admin@example.org",
    "officer@northbridge.example.org",
    "convenor@northbridge-cvs.example.org",
    "volunteer@eastside-food.example.org",
    "staff@northbridge-icb.example.org",
    "manager@northbridge-icb.example.org",
]
START = ["/", "/partnerships/", "/organisations/", "/opportunities/", "/my/meetings",
         "/my/forums", "/my/actions", "/my/applications", "/my/opportunities",
         "/organisations/mine", "/account/profile", "/admin/", "/opportunities/figures",
         "/account/sign-in", "/account/register", "/account/reset"]
# Not followed: signing out, deleting the account, one-time tokens, downloads.
NOT_FOLLOWED = re.compile(
    r"/sign-out|/account/delete|/confirm/|/reset/|/invitations/|/manager/"
    r"|\.(ics|csv|json|pdf|txt)$|/papers/\d+$|/attachments/\d+$|^/assets/"
)

# For each element that sticks out to the right (or left) of the viewport and whose
# parent does not (so the element that causes the overflow, not all its ancestors),
# and each link or button not wholly inside the viewport's width: a short description.
# Elements inside a box that clips or scrolls its overflow are left out: they do not
# widen the page (but links and buttons in them are still reported).
MEASURE_JS = """
(width) => {
  const describe = (el) => {
    let name = el.tagName.toLowerCase();
    if (el.id) name += '#' + el.id;
    const classes = [...el.classList].slice(0, 3);
    if (classes.length) name += '.' + classes.join('.');
    const text = (el.innerText || el.value || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
    const box = el.getBoundingClientRect();
    const where = `x ${Math.round(box.left + scrollX)} to ${Math.round(box.right + scrollX)}`;
    return text ? `${name} "${text}" (${where})` : `${name} (${where})`;
  };
  const outside = (box) => box.right + scrollX > width + 0.5 || box.left + scrollX < -0.5;
  // Inside a box that fits and clips or scrolls what it holds: the page is not widened.
  const clipped = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== 'visible'
          && !outside(up.getBoundingClientRect())) return true;
    }
    return false;
  };
  const visible = (el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 1 && box.height > 1 && style.visibility !== 'hidden';
  };
  const wide = [];
  const overflowing = document.documentElement.scrollWidth > width;
  for (const el of overflowing ? document.body.querySelectorAll('*') : []) {
    if (!visible(el) || clipped(el)) continue;
    const box = el.getBoundingClientRect();
    if (outside(box)) {
      const parent = el.parentElement;
      if (parent && parent !== document.body && outside(parent.getBoundingClientRect())) continue;
      wide.push(describe(el));
    } else if (el.scrollWidth > el.clientWidth + 1
               && box.left + scrollX + el.scrollWidth > width + 0.5
               && ![...el.children].some((child) => outside(child.getBoundingClientRect())
                                         || child.scrollWidth > child.clientWidth + 1)) {
      // The box fits but its text does not (a long word, such as an email address): the
      // innermost such box.
      wide.push(`${describe(el)}, its text ${el.scrollWidth} px wide`);
    }
  }
  const controls = [];
  for (const el of document.body.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, textarea, summary')) {
    if (visible(el) && outside(el.getBoundingClientRect())) controls.push(describe(el));
  }
  // A stacked table's cells show their column's heading from data-label: one missing
  // would leave a value with nothing to say what it is.
  const unlabelled = [];
  for (const table of document.querySelectorAll('table.govuk-table')) {
    const headings = [...table.querySelectorAll('thead th')].map((th) => {
      const shown = th.cloneNode(true);
      shown.querySelectorAll('.govuk-visually-hidden').forEach((hidden) => hidden.remove());
      return shown.textContent.trim();
    });
    for (const cell of table.querySelectorAll('tbody td')) {
      const heading = headings[cell.cellIndex];
      if (heading && !cell.dataset.label && cell.textContent.trim()) {
        unlabelled.push(`${describe(cell)} under "${heading}"`);
      }
    }
  }
  return {
    unlabelled: unlabelled.slice(0, 8),
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
    wide: wide.slice(0, 8),
    controls: controls.slice(0, 8),
  };
}
"""
HREF_RE = re.compile(r'href="(/[^"#]*)')
PER_ROUTE = 3


@dataclass
class Overflow:
    who: str
    url: str
    scroll_width: int
    wide: list[str]
    controls: list[str]
    unlabelled: list[str]

    def __str__(self) -> str:
        lines = [f"{self.url} as {self.who}: {self.scroll_width} px wide"]
        lines += [f"    sticks out: {item}" for item in self.wide]
        lines += [f"    link or button off screen: {item}" for item in self.controls]
        lines += [f"    table cell without data-label: {item}" for item in self.unlabelled]
        return "\n".join(lines)


@dataclass
class Crawl:
    """What one person's crawl saw."""

    who: str
    pages: list[str] = field(default_factory=list)
    overflows: list[Overflow] = field(default_factory=list)
    axe: list[str] = field(default_factory=list)
    routes: set[tuple[str, bool]] = field(default_factory=set)


# --- the demo, served --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    """The demo loaded into an app of its own, on a loopback port (see the docstring)."""
    folder = tmp_path_factory.mktemp("reflow")
    config = {name: getattr(TestConfig, name) for name in dir(TestConfig) if name.isupper()}
    config.update(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'demo.sqlite'}",
        UPLOAD_FOLDER=str(folder / "uploads"),
        RATELIMIT_ENABLED=False,
        PROPAGATE_EXCEPTIONS=False,
    )
    app = create_app(config)
    app.test_client_class = AppClient
    with app.app_context():
        load_demo()
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, name="reflow-server", daemon=True)
    thread.start()
    try:
        yield app, url
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


def _context(browser: Browser, base_url: str) -> BrowserContext:
    context = browser.new_context(
        base_url=base_url, viewport=VIEWPORT, is_mobile=True, has_touch=True,
        locale="en-GB", timezone_id="Europe/London",
    )
    context.set_default_timeout(TIMEOUT_MS)
    # Images never change a page's width here (each has a width), and are slow to fetch.
    context.route(re.compile(r"\.(png|jpe?g|gif|svg|ico|woff2?)$"),
                  lambda route: route.abort())
    return context


def _sign_in(page: Page, email: str) -> None:
    page.goto("/account/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/account/sign-in" not in url)


# --- the crawl ---------------------------------------------------------------------------------


def _discover(app: Flask, email: str | None) -> dict[tuple[str, bool], tuple[int, str]]:
    """The pages one person can reach: following links through the app itself (fast),
    up to ``PER_ROUTE`` pages of each route; for each route (and each route with a
    query string) the largest page and its size, since the page with the most in it
    (the meeting with the most registrations, the forum with requests waiting) is the
    one most likely not to fit."""
    client = app.test_client()
    if email:
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == email))
            assert user is not None, email
            Auth(client).login(user)  # type: ignore[arg-type]
    adapter = app.url_map.bind("127.0.0.1")
    largest: dict[tuple[str, bool], tuple[int, str]] = {}
    tried: Counter[tuple[str, bool]] = Counter()
    queued = set(START)
    queue = deque(START)
    while queue:
        url = queue.popleft()
        path, _, query = url.partition("?")
        try:
            rule, _args = adapter.match(path, method="GET", return_rule=True)
        except HTTPException:
            continue
        key = (rule.endpoint, bool(query))
        if tried[key] >= PER_ROUTE:
            continue
        tried[key] += 1
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        page = response.get_data(as_text=True)
        if len(page) > largest.get(key, (-1, ""))[0]:
            largest[key] = (len(page), url)
        for href in HREF_RE.findall(page):
            found = unescape(href)
            if NOT_FOLLOWED.search(found.partition("?")[0]) or found in queued:
                continue
            queued.add(found)
            queue.append(found)
    return largest


def _share_out(
    found: dict[str | None, dict[tuple[str, bool], tuple[int, str]]],
) -> dict[str | None, dict[tuple[str, bool], str]]:
    """Each route is measured once, as the person whose page of it is largest (an
    officer's meeting page, with its organiser's panel, rather than a visitor's):
    loading every route as every account took over three minutes of CI for pages
    that are mostly the same. The signed-out visitor still gets every route they can
    reach that nobody's larger page covers."""
    best: dict[tuple[str, bool], tuple[int, str | None, str]] = {}
    for who, routes in found.items():
        for key, (size, url) in routes.items():
            if size > best.get(key, (-1, None, ""))[0]:
                best[key] = (size, who, url)
    shared: dict[str | None, dict[tuple[str, bool], str]] = {who: {} for who in found}
    for key, (_size, who, url) in best.items():
        shared[who][key] = url
    return shared


def _measure(page: Page, urls: dict[tuple[str, bool], str], who: str,
             axe_checked: set[str]) -> Crawl:
    """Load each page at 320 px and measure it; run axe-core on the first page of each
    route that has a table (``axe_checked`` holds the routes done, for everyone)."""
    crawl = Crawl(who, routes=set(urls))
    for (endpoint, _query), url in sorted(urls.items()):
        try:
            response = page.goto(url)
        except Error:  # a page that never finished
            continue
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        crawl.pages.append(url)
        measured: dict[str, Any] = page.evaluate(MEASURE_JS, WIDTH)
        assert measured["clientWidth"] == WIDTH, measured
        if measured["scrollWidth"] > WIDTH or measured["controls"] or measured["unlabelled"]:
            crawl.overflows.append(Overflow(who, url, measured["scrollWidth"], measured["wide"],
                                            measured["controls"], measured["unlabelled"]))
        if endpoint not in axe_checked and page.locator("table.govuk-table").count():
            # A stacked table must still be a table to assistive technology.
            axe_checked.add(endpoint)
            try:
                axe_check(page)
            except AssertionError as error:
                crawl.axe.append(f"as {who}: {error}")
    return crawl


def test_every_demo_page_fits_320_px_for_everyone(
    browser: Browser, demo_server: tuple[Flask, str]
) -> None:
    app, base_url = demo_server
    started = time.monotonic()
    found = {email: _discover(app, email) for email in PEOPLE}
    for email, routes in found.items():
        # The crawl really went round the site (a broken sign-in would see a handful).
        assert len(routes) >= 15, (email, sorted(routes))
    shared = _share_out(found)
    print(f"found in {time.monotonic() - started:.1f}s")
    crawls: list[Crawl] = []
    axe_checked: set[str] = set()
    for email in PEOPLE:
        if not shared[email]:
            continue
        context = _context(browser, base_url)
        try:
            page = context.new_page()
            if email:
                _sign_in(page, email)
            started = time.monotonic()
            crawls.append(_measure(page, shared[email], email or "signed out", axe_checked))
            print(f"{email}: {len(shared[email])} pages measured in "
                  f"{time.monotonic() - started:.1f}s")
        finally:
            context.close()

    reached = {endpoint for routes in found.values() for endpoint, _query in routes}
    pages = [rule for rule in app.url_map.iter_rules() if "GET" in (rule.methods or ())
             and not NOT_FOLLOWED.search(rule.rule)]
    print("Not reached:", sorted({rule.rule for rule in pages if rule.endpoint not in reached}))
    measured = sum(len(crawl.pages) for crawl in crawls)
    # Every route found was loaded in the browser (none lost between the two steps).
    assert measured == sum(len(urls) for urls in shared.values()), measured
    problems = [str(overflow) for crawl in crawls for overflow in crawl.overflows]
    problems += [problem for crawl in crawls for problem in crawl.axe]
    if problems:
        pytest.fail(f"{len(problems)} page(s) fail at {WIDTH} CSS px wide (of "
                    f"{measured} visited):\n" + "\n".join(problems), pytrace=False)
