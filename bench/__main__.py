"""Benchmarks at scale: ``make bench`` (or ``python -m bench``).

For each size (the full scale data set and one tenth of it, built once by ``flask seed
scale`` and kept in ``bench/.data/``):

1. In process, through the Flask test client: each page's status, SQL query count and
   median time. The query count must be the same at both sizes.
2. Under load: the app served by gunicorn (2 sync workers, production settings) on
   loopback, each page driven by wrk (16 connections) for a fixed time, after a short
   warm-up. In the same run: the cheapest GOV.UK layout page of the app and ``/healthz``
   (measured before and after the pages, and averaged), and a hello-world WSGI app
   with the same gunicorn settings.

Machines here are shared and noisy, so results are ratios measured in the same run:
each page's requests per second against the layout page and against hello-world, and
the growth from one tenth to full size. The load average before and after each size's
run is recorded. Results go to ``bench/results/<date>.json`` and ``<date>.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import data, load, report
from .pages import HEALTH, LAYOUT, Page, find, measure, pages

RESULTS = Path(__file__).resolve().parent / "results"
HELLO = Page("hello world (bare WSGI)", "/")


def _app(path: Path) -> Any:
    from partnerships import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": data.database_url(path),
        "SECRET_KEY": data.environment(path)["SECRET_KEY"],
        "RATELIMIT_ENABLED": False, "MAIL_PRINT": False, "TESTING": False,
    })


def run_size(fraction: float, seconds: float, rebuild: bool,
             only: set[str] | None) -> dict[str, Any]:
    path, built = data.database(fraction, rebuild)
    print(f"== fraction {fraction:g}: {path.name}"
          + (f" (built in {built:.0f} s)" if built is not None else " (reused)"), flush=True)
    app = _app(path)
    marks, token = find(app)
    page_list = [page for page in pages(marks, token) if not only or page.name in only]
    with app.app_context():
        from partnerships.factories.scale import row_counts
        rows = row_counts()
    counted = measure(app, [*page_list, LAYOUT, HEALTH])
    result: dict[str, Any] = {
        "fraction": fraction, "database": path.name, "build_seconds": built, "rows": rows,
        "pages": {}, "baselines": {},
    }
    for page in [*page_list, LAYOUT, HEALTH]:
        c = counted[page.name]
        if c.status != page.status:
            raise SystemExit(f"{page.name}: {page.path} answered {c.status} in the test "
                             f"client, not {page.status}")
        entry = {"path": page.path, "status": c.status, "queries": c.queries,
                 "client_ms": round(c.ms, 2), "bytes": c.bytes}
        (result["pages"] if page in page_list else result["baselines"])[page.name] = entry
    if seconds <= 0:
        return result
    result["load_before"] = load.load_average()
    with load.hello_server() as hello, load.app_server(path) as base:
        runs: dict[str, list[load.Load]] = {}

        def go(page: Page, server: str = base) -> load.Load:
            measured = load.drive(server, page, seconds)
            runs.setdefault(page.name, []).append(measured)
            print(f"   {page.name:<28} {measured.rps:8.1f} req/s  p50 {measured.p50:6.1f}"
                  f"  p95 {measured.p95:6.1f}  p99 {measured.p99:6.1f} ms", flush=True)
            return measured

        go(HELLO, hello)
        go(LAYOUT)
        go(HEALTH)
        for page in page_list:
            go(page)
        go(LAYOUT)  # again at the end: the machine's load may have changed meanwhile
        go(HEALTH)
    result["load_after"] = load.load_average()
    for name, measured in runs.items():
        target = result["pages"].get(name) or result["baselines"].setdefault(name, {})
        target["load"] = [m.as_dict() for m in measured]
        target["rps"] = statistics.mean(m.rps for m in measured)
        target["p50"] = statistics.mean(m.p50 for m in measured)
        target["p95"] = statistics.mean(m.p95 for m in measured)
        target["p99"] = statistics.mean(m.p99 for m in measured)
        target["bad_status"] = sum(m.bad_status for m in measured)
        target["errors"] = sum(m.errors for m in measured)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10,
                        help="wrk time per page (0: in-process query counts only)")
    parser.add_argument("--fractions", default="1,0.1",
                        help="sizes to run, largest first (default 1,0.1)")
    parser.add_argument("--rebuild", action="store_true", help="build the databases afresh")
    parser.add_argument("--page", action="append", help="only this page (repeatable)")
    parser.add_argument("--label", default="", help="added to the results' file names")
    parser.add_argument("--before", type=Path,
                        help="an earlier results .json to show beside these (default: the "
                             "newest bench/results/*-before.json, the run before the fixes)")
    args = parser.parse_args(argv)
    fractions = [float(f) for f in args.fractions.split(",")]
    started = datetime.now(UTC)
    results: dict[str, Any] = {
        "date": started.isoformat(timespec="seconds"),
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "settings": {"workers": load.WORKERS, "worker_class": "sync",
                     "connections": load.CONNECTIONS, "wrk_threads": load.THREADS,
                     "seconds": args.seconds, "database": "SQLite (WAL)"},
        "sizes": [run_size(f, args.seconds, args.rebuild, set(args.page or []) or None)
                  for f in fractions],
    }
    report.summarise(results)
    earlier = args.before or next(iter(sorted(RESULTS.glob("*-before.json"), reverse=True)),
                                  None)
    before = json.loads(earlier.read_text()) if earlier else None
    if before is not None:
        before["file"] = earlier.name if earlier else ""
    RESULTS.mkdir(exist_ok=True)
    name = started.strftime("%Y-%m-%d") + (f"-{args.label}" if args.label else "")
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    markdown = report.markdown(results, before)
    (RESULTS / f"{name}.md").write_text(markdown)
    print(markdown)
    print(f"Written: bench/results/{name}.json and {name}.md")
    if not results["summary"]["queries_independent_of_size"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
