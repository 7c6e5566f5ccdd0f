"""Ratios, targets and the Markdown table of a benchmark run."""

from __future__ import annotations

from typing import Any

# The targets (2 cores, SQLite, 16 connections, full data).
MIN_SHARE_OF_LAYOUT = 0.33
MIN_304_SHARE_OF_HEALTH = 0.7
MAX_GROWTH = 1.2
MAX_P95_MS = 150
CONDITIONAL = "partnership feed, 304"


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def summarise(results: dict[str, Any]) -> None:
    """Add ``summary`` to ``results``: per page, the ratios at full size (the first
    size run), the growth from the smallest size, and which targets it meets."""
    sizes = results["sizes"]
    full, small = sizes[0], sizes[-1]
    base = full["baselines"]
    layout = base.get("empty layout page", {}).get("rps")
    health = base.get("/healthz", {}).get("rps")
    hello = base.get("hello world (bare WSGI)", {}).get("rps")
    pages: dict[str, Any] = {}
    independent = True
    for name, page in full["pages"].items():
        other = small["pages"].get(name, {})
        same_queries = page["queries"] == other.get("queries", page["queries"])
        independent = independent and same_queries
        row: dict[str, Any] = {
            "queries": {str(s["fraction"]): s["pages"].get(name, {}).get("queries")
                        for s in sizes},
            "queries_independent_of_size": same_queries,
            "client_ms": page["client_ms"],
            "render_ms": page.get("render_ms"),
            "client_growth": _ratio(page["client_ms"], other.get("client_ms")),
        }
        if "rps" in page:
            # Within-round ratios (``share_of_baseline``, ``growth``) where the run has
            # them; otherwise from the averages.
            paired = page.get("share_of_baseline")
            row.update(
                rps=round(page["rps"], 1),
                share_of_layout=round(paired, 3) if paired is not None and name != CONDITIONAL
                else _ratio(page["rps"], layout),
                share_of_hello=_ratio(page["rps"], hello),
                share_of_health=round(paired, 3) if paired is not None and name == CONDITIONAL
                else _ratio(page["rps"], health),
                p50=round(page["p50"], 1), p95=round(page["p95"], 1), p99=round(page["p99"], 1),
                growth=(round(page["growth"], 3) if page.get("growth") is not None
                        else _ratio(other.get("rps"), page["rps"])) if len(sizes) > 1 else None,
                bad_status=page["bad_status"], errors=page["errors"],
            )
            meets = {
                "share": (row["share_of_health"] or 0) >= MIN_304_SHARE_OF_HEALTH
                if name == CONDITIONAL else (row["share_of_layout"] or 0) >= MIN_SHARE_OF_LAYOUT,
                "growth": row["growth"] is None or row["growth"] < MAX_GROWTH,
                "p95": row["p95"] < MAX_P95_MS,
                "queries": same_queries,
                "no_errors": not row["bad_status"] and not row["errors"],
            }
            row["meets"] = meets
            row["meets_all"] = all(meets.values())
        pages[name] = row
    results["summary"] = {
        "layout_rps": layout, "health_rps": health, "hello_rps": hello,
        "layout_share_of_hello": _ratio(layout, hello),
        "pages": pages, "queries_independent_of_size": independent,
        "all_targets_met": all(row.get("meets_all", True) for row in pages.values()),
    }


def _f(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _mark(ok: bool | None) -> str:
    return "" if ok is None else (" ✓" if ok else " ✗")


def _page_cache_text(size: int | None) -> str:
    if size is None:
        return "(Before the page cache.)"
    if size <= 0:
        return ("Page cache off (PAGE_CACHE_BYTES=0): every request renders its page, "
                "as a signed-in one does.")
    return (f"Page cache on ({size / 2**20:g} MB a worker): signed-out requests after the "
            "first in each minute are served kept pages (pagecache.py).")


def markdown(results: dict[str, Any], before: dict[str, Any] | None = None) -> str:
    summary = results["summary"]
    sizes = results["sizes"]
    settings = results["settings"]
    lines = [
        f"# Benchmarks, {results['date'][:10]}",
        "",
        f"gunicorn {settings['workers']} {settings['worker_class']} workers on loopback, "
        f"SQLite (WAL), wrk {settings['connections']} connections, "
        f"{settings.get('rounds', 1)} round(s) of {settings['seconds']:g} s a page and size, "
        "each beside its baseline, after a 2 s warm-up; "
        f"{results['machine']['cpus']} CPUs, Python {results['machine']['python']}. "
        "Anonymous requests. Throughput is given as a share of the app's empty layout "
        "page measured beside it in each round (median over rounds), and of a hello-world "
        "WSGI app served the same way; growth is time per request at full size over one "
        "tenth, within each round (median). "
        "\"In-process ms\" is the median CPU time of a request in the Flask test client, "
        "\"render ms\" the same with the page cache off (every request renders, as for "
        "someone signed in); the query counts are those of rendering. "
        + _page_cache_text(settings.get("page_cache_bytes")),
        "",
    ]
    for size in sizes:
        rows = ", ".join(f"{n:,} {t}" for t, n in size["rows"].items())
        built = (f"built in {size['build_seconds']:.0f} s" if size.get("build_seconds")
                 else "reused from bench/.data")
        lines.append(f"- fraction {size['fraction']:g} ({built}): {rows}")
    if "load_before" in sizes[0]:
        lines += ["", f"Load average (1, 5, 15 minutes) before the load runs "
                  f"{_loads(sizes[0]['load_before'])}, after {_loads(sizes[0]['load_after'])}."]
    lines += [
        "",
        f"Baselines at full size: empty layout page {_f(summary['layout_rps'], 0)} req/s, "
        f"/healthz {_f(summary['health_rps'], 0)} req/s, hello world "
        f"{_f(summary['hello_rps'], 0)} req/s (layout = {_f(summary['layout_share_of_hello'])}"
        " of hello world).",
        "",
    ]
    fractions = [str(s["fraction"]) for s in sizes]
    head = ["page", *[f"queries {f}" for f in fractions], "req/s", "÷ layout", "÷ hello",
            "p50 ms", "p95 ms", "p99 ms", "growth", "in-process ms", "render ms"]
    after_share = head.index("÷ layout") + 1  # the columns before it depend on the sizes
    if before:
        head[after_share:after_share] = ["÷ layout before"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    old = (before or {}).get("summary", {}).get("pages", {})
    for name, row in summary["pages"].items():
        meets = row.get("meets", {})
        share = row.get("share_of_health") if name == CONDITIONAL else row.get("share_of_layout")
        share_text = _f(share) + (" (÷ /healthz)" if name == CONDITIONAL else "")
        cells = [name, *[str(row["queries"].get(f)) + _mark(meets.get("queries"))
                         for f in fractions],
                 _f(row.get("rps"), 1), share_text + _mark(meets.get("share")),
                 _f(row.get("share_of_hello"), 3),
                 _f(row.get("p50"), 1), _f(row.get("p95"), 1) + _mark(meets.get("p95")),
                 _f(row.get("p99"), 1), _f(row.get("growth")) + _mark(meets.get("growth")),
                 _f(row["client_ms"], 1), _f(row.get("render_ms"), 1)]
        if before:
            was = old.get(name, {})
            was_share = was.get("share_of_health") if name == CONDITIONAL \
                else was.get("share_of_layout")
            cells[after_share:after_share] = [_f(was_share)]
        lines.append("| " + " | ".join(cells) + " |")
    met = summary["all_targets_met"]
    if before:
        then = before.get("sizes", [{}])[0]
        rows = ", ".join(f"{n:,} {t}" for t, n in then.get("rows", {}).items())
        lines += ["", f"\"÷ layout before\" is the same ratio in {before.get('file', 'the run')} "
                  f"(before the fixes; full size then: {rows}; its data may have been shaped "
                  "differently and its run arranged differently, so compare the ratios, "
                  "not the requests per second)."]
    lines += [
        "",
        f"Targets: each page ≥ {MIN_SHARE_OF_LAYOUT} of the layout page (the 304 ≥ "
        f"{MIN_304_SHARE_OF_HEALTH} of /healthz), growth < {MAX_GROWTH}, p95 < {MAX_P95_MS} "
        "ms, the same query count at every size, no errors: "
        + ("all met." if met else "not all met (✗ above)."),
        "",
    ]
    return "\n".join(lines)


def _loads(values: list[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)
