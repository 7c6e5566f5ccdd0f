"""Load: serve with gunicorn on loopback and drive one page at a time with wrk.

Every server runs with the same settings (``WORKERS`` sync workers), the app's in
production mode, and the bare WSGI app of ``bench/hello.py`` beside it, so each
page's requests per second can be given as a ratio to what the same machine, at the
same moment, serves for the empty layout page and for nothing at all.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .data import ROOT, environment
from .pages import Page, validators

WORKERS = 2
CONNECTIONS = 16
THREADS = 2
LOG = Path(__file__).resolve().parent / ".data" / "gunicorn.log"

# wrk prints this (one JSON line) when a run ends: it has p95, which --latency lacks.
REPORT_LUA = """
done = function(summary, latency, requests)
  local s = summary.duration / 1e6
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.2f, "p50": %.3f, "p95": %.3f, ' ..
    '"p99": %.3f, "max": %.3f, "bad_status": %d, "errors": %d}\\n',
    summary.requests, s, summary.requests / s, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
"""


@dataclass
class Load:
    """One wrk run: requests per second and latencies in milliseconds."""

    rps: float
    p50: float
    p95: float
    p99: float
    max: float
    requests: int
    bad_status: int
    errors: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(app: str, env: dict[str, str]) -> Iterator[str]:
    """Serve ``app`` (module:variable) on a free loopback port until the block ends."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**env, "BASE_URL": base}
    command = [str(Path(sys.executable).parent / "gunicorn"), "--workers", str(WORKERS),
               "--worker-class", "sync", "--bind", f"127.0.0.1:{port}", "--backlog", "2048",
               "--log-level", "warning", app]
    LOG.parent.mkdir(exist_ok=True)
    log = LOG.open("a")
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=5).read()
                break
            except urllib.error.HTTPError:
                break  # it answers (the hello app says 200 to anything)
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start: see {LOG}") from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def app_server(database: Path) -> Any:
    """The app, production settings, on the scale database."""
    return gunicorn("wsgi:app", environment(
        database, APP_ENV="production", SESSION_COOKIE_SECURE="0",
        # The personal feed is limited per token (60 an hour); the limiter still runs.
        CALENDAR_FEED_RATE_LIMIT="100000000 per hour", RATELIMIT_STORAGE_URI="memory://"))


def hello_server() -> Any:
    return gunicorn("bench.hello:app", dict(os.environ))


def fetch(base: str, page: Page) -> tuple[int, dict[str, str]]:
    """One request: the status and, for a conditional page, the headers wrk must send
    (the validators of a plain fetch first)."""
    headers: dict[str, str] = {}
    if page.conditional:
        with urllib.request.urlopen(base + page.path, timeout=60) as first:
            headers = validators(first.headers)
    request = urllib.request.Request(base + page.path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, headers
    except urllib.error.HTTPError as error:
        return error.code, headers


def wrk(url: str, seconds: float, headers: dict[str, str] | None = None,
        connections: int = CONNECTIONS) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(REPORT_LUA)
    try:
        command = ["wrk", "-t", str(min(THREADS, connections)), "-c", str(connections),
                   "-d", f"{max(1, round(seconds))}s", "--timeout", "10s", "-s", script.name]
        for name, value in (headers or {}).items():
            command += ["-H", f"{name}: {value}"]
        done = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    finally:
        os.unlink(script.name)
    line = next(line for line in done.stdout.splitlines() if line.startswith("{"))
    values = json.loads(line)
    return Load(rps=values["rps"], p50=values["p50"], p95=values["p95"], p99=values["p99"],
                max=values["max"], requests=values["requests"],
                bad_status=values["bad_status"], errors=values["errors"])


def drive(base: str, page: Page, seconds: float, warm: float = 2.0) -> Load:
    """Check the page answers as expected, warm every worker up, then measure."""
    status, headers = fetch(base, page)
    if status != page.status:
        raise RuntimeError(f"{page.name}: {page.path} answered {status}, not {page.status}")
    url = base + page.path
    if warm:
        wrk(url, warm, headers)
    return wrk(url, seconds, headers)


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()

