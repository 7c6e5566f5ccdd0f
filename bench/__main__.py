"""Benchmarks at scale: ``make bench`` (or ``python -m bench``).

Two sizes of data (the full scale data set and one tenth of it, built once by ``flask
seed scale`` and kept in ``bench/.data/``):

1. In process, through the Flask test client: each page's status, SQL query count and
   median CPU time at each size. The query count must be the same at both sizes.
2. Under load: each size served by gunicorn (2 sync workers, production settings) on
   loopback, all at once, and each page driven by wrk (16 connections) for a fixed
   time (two rounds of 5 s a size by default, after a short warm-up), each round
   beside its baseline: the cheapest GOV.UK layout page of the app (/accessibility),
   or ``/healthz`` for the conditional feed request. A hello-world WSGI app
   (``bench/hello.py``) with the same gunicorn settings, the layout page and
   /healthz are also measured at the start and the end.

Machines here are shared and noisy, so results are ratios measured within a round,
seconds apart, with the median over rounds: each page's requests per second against
the layout page (and against hello-world), and the growth from one tenth to full
size. The load average before and after is recorded. Results go to
``bench/results/<date>.json`` and ``<date>.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import data, load, report
from .pages import HEALTH, LAYOUT, Page, find, measure, pages

RESULTS = Path(__file__).resolve().parent / "results"
HELLO = Page("hello world (bare WSGI)", "/")


def _app(path: Path, **settings: Any) -> Any:
    from partnerships import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": data.database_url(path),
        "SECRET_KEY": data.environment(path)["SECRET_KEY"],
        "RATELIMIT_ENABLED": False, "MAIL_PRINT": False, "TESTING": False, **settings,
    })


def _page_cache_bytes() -> int:
    from partnerships.config import Config

    return int(Config.PAGE_CACHE_BYTES)


@dataclass
class Size:
    """One size of the data: its database, the pages at its landmarks, and results."""

    fraction: float
    path: Path
    pages: list[Page]
    result: dict[str, Any]


def prepare(fraction: float, rebuild: bool, only: set[str] | None) -> Size:
    """Build (or reuse) the database, and measure each page in process."""
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
    # What rendering costs (every request, as for someone signed in): the page cache
    # off. Its query count is the one that must not grow with the data.
    rendered = measure(_app(path, PAGE_CACHE_BYTES=0), [*page_list, LAYOUT, HEALTH])
    result: dict[str, Any] = {
        "fraction": fraction, "database": path.name, "build_seconds": built, "rows": rows,
        "pages": {}, "baselines": {},
    }
    for page in [*page_list, LAYOUT, HEALTH]:
        c, r = counted[page.name], rendered[page.name]
        for status in (c.status, r.status):
            if status != page.status:
                raise SystemExit(f"{page.name}: {page.path} answered {status} in the test "
                                 f"client, not {page.status}")
        entry = {"path": page.path, "status": c.status, "queries": r.queries,
                 "served_queries": c.queries, "client_ms": round(c.ms, 2),
                 "render_ms": round(r.ms, 2), "bytes": c.bytes}
        (result["pages"] if page in page_list else result["baselines"])[page.name] = entry
    return Size(fraction, path, page_list, result)


def drive_all(sizes: list[Size], seconds: float, rounds: int) -> None:
    """Serve every size at once (an idle server costs nothing) and, for each page, run
    ``rounds`` rounds of: its baseline on the first size's server (the layout page, or
    /healthz for the 304), then the page at each size, ``seconds`` each. Each ratio (to
    the baseline, and the growth between sizes) is taken within a round, from runs
    seconds apart, and the median over rounds reported, so what the machine's other
    load does over the whole run cancels out. Hello-world, the layout page and /healthz
    are also measured on their own at the start and the end."""
    load_before = load.load_average()
    with ExitStack() as stack:
        hello = stack.enter_context(load.hello_server())
        bases = [stack.enter_context(load.app_server(size.path)) for size in sizes]
        runs: list[dict[str, list[load.Load]]] = [{} for _ in sizes]
        ratios: dict[str, dict[str, list[float]]] = {}

        def go(index: int, page: Page, server: str, warm: float = 2.0) -> load.Load:
            measured = load.drive(server, page, seconds, warm)
            runs[index].setdefault(page.name, []).append(measured)
            print(f"   {sizes[index].fraction:<4g} {page.name:<28} {measured.rps:8.1f} req/s"
                  f"  p50 {measured.p50:6.1f}  p95 {measured.p95:6.1f}"
                  f"  p99 {measured.p99:6.1f} ms", flush=True)
            return measured

        def baselines() -> None:
            go(0, HELLO, hello)
            for index, base in enumerate(bases):
                go(index, LAYOUT, base)
                go(index, HEALTH, base)

        baselines()
        for position, first in enumerate(sizes[0].pages):
            baseline = HEALTH if first.conditional else LAYOUT
            found = ratios.setdefault(first.name, {"baseline": [], "growth": []})
            for round_number in range(rounds):
                warm = 2.0 if round_number == 0 else 1.0
                base_run = go(0, baseline, bases[0], warm)
                measured = [go(index, size.pages[position], base, warm)
                            for index, (size, base) in enumerate(zip(sizes, bases,
                                                                     strict=True))]
                found["baseline"].append(measured[0].rps / base_run.rps)
                found["growth"].append(measured[-1].rps / measured[0].rps)
        baselines()
    load_after = load.load_average()
    for index, (size, measured_runs) in enumerate(zip(sizes, runs, strict=True)):
        size.result["load_before"], size.result["load_after"] = load_before, load_after
        for name, measured in measured_runs.items():
            target = (size.result["pages"].get(name)
                      or size.result["baselines"].setdefault(name, {}))
            target["load"] = [m.as_dict() for m in measured]
            target["rps"] = statistics.mean(m.rps for m in measured)
            target["p50"] = statistics.mean(m.p50 for m in measured)
            target["p95"] = statistics.mean(m.p95 for m in measured)
            target["p99"] = statistics.mean(m.p99 for m in measured)
            target["bad_status"] = sum(m.bad_status for m in measured)
            target["errors"] = sum(m.errors for m in measured)
            if index == 0 and name in ratios:
                target["round_ratios"] = ratios[name]
                target["share_of_baseline"] = statistics.median(ratios[name]["baseline"])
                target["growth"] = statistics.median(ratios[name]["growth"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5,
                        help="wrk time per page per round (0: in-process part only)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds of each page, its baseline and each size (default 2)")
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
                     "seconds": args.seconds, "rounds": args.rounds,
                     "database": "SQLite (WAL)",
                     # PAGE_CACHE_BYTES=0 in the environment measures rendering every time.
                     "page_cache_bytes": _page_cache_bytes()},
    }
    sizes = [prepare(f, args.rebuild, set(args.page or []) or None) for f in fractions]
    if args.seconds > 0:
        drive_all(sizes, args.seconds, max(1, args.rounds))
    results["sizes"] = [size.result for size in sizes]
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
