"""The benchmarks' SQLite databases, built by ``flask seed scale`` and kept under
``bench/.data/`` (git-ignored).

A database is named by the fraction and a hash of what decides its rows: the builder
(``partnerships/factories/scale.py``) and the migrations. So a rerun reuses it, and a
change to either builds afresh. The data's times count from when it was built, so a
database older than ``MAX_AGE`` is built again (upcoming meetings would drift into the
past).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / ".data"
MAX_AGE = 7 * 24 * 3600


def source_hash() -> str:
    digest = hashlib.sha256()
    sources = [ROOT / "partnerships" / "factories" / "scale.py",
               *sorted((ROOT / "migrations" / "versions").glob("*.py"))]
    for path in sources:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def database_url(path: Path) -> str:
    return f"sqlite:///{path}"


def environment(path: Path, **extra: str) -> dict[str, str]:
    """What the app needs to run on ``path`` (the seed command and the servers)."""
    env = dict(os.environ)
    env.update(DATABASE_URL=database_url(path), FLASK_APP="wsgi:app",
               SECRET_KEY="bench-secret-key-not-for-production", MAIL_PRINT="0", **extra)
    return env


def database(fraction: float, rebuild: bool = False) -> tuple[Path, float | None]:
    """The database for ``fraction``, built if missing or stale; and the seconds the
    build took (None when reused)."""
    DATA.mkdir(exist_ok=True)
    path = DATA / f"scale-{fraction:g}-{source_hash()}.sqlite"
    stamp = path.with_suffix(".built")  # the database's own time changes as it is used
    fresh = path.exists() and stamp.exists() and \
        time.time() - float(stamp.read_text() or 0) < MAX_AGE
    if fresh and not rebuild:
        return path, None
    for old in DATA.glob(f"scale-{fraction:g}-*"):
        old.unlink()
    started = time.perf_counter()
    flask = Path(sys.executable).parent / "flask"
    subprocess.run([str(flask), "seed", "scale", "--fraction", f"{fraction:g}"],
                   env=environment(path), cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    stamp.write_text(str(time.time()))
    return path, time.perf_counter() - started
