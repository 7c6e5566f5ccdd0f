"""Profile one page of the scale data in process: ``python -m bench.profile PATH``.

Builds (or reuses) the database of ``--fraction``, opens PATH through the test client
``--repeat`` times after a warm-up, and prints the CPU time per request and a
pyinstrument call tree (``--cprofile`` for cProfile's table by CPU time instead, which
is steadier on a busy machine). PATH may use the landmarks: ``{partnership}``,
``{forum}``, ``{thread}``, ``{meeting}``, ``{token}``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

from . import data
from .__main__ import _app
from .pages import find


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("path")
    parser.add_argument("--fraction", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--sort", default="cumulative",
                        help="cProfile's order: cumulative (default) or tottime")
    parser.add_argument("--lines", type=int, default=45, help="cProfile's rows shown")
    args = parser.parse_args(argv)
    database, _built = data.database(args.fraction)
    app = _app(database)
    marks, token = find(app)
    path = args.path.format(partnership=marks.partnership_slug, forum=marks.forum_slug,
                            thread=marks.big_thread_id, meeting=marks.meeting_id, token=token)
    client = app.test_client()
    for _ in range(3):
        with app.app_context():
            response = client.get(path)
    print(f"{path}: {response.status_code}, {len(response.data):,} bytes")

    def run() -> None:
        for _ in range(args.repeat):
            with app.app_context():
                client.get(path)

    started = time.process_time()
    if args.cprofile:
        profiler = cProfile.Profile(time.process_time)
        profiler.runcall(run)
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.lines)
    else:
        from pyinstrument import Profiler

        with Profiler(interval=0.0005) as sampler:
            run()
        print(sampler.output_text(unicode=True, color=False))
    cpu = (time.process_time() - started) / args.repeat * 1000
    print(f"{cpu:.2f} ms of CPU per request (profiler included)")


if __name__ == "__main__":
    main()
