"""Scale benchmarks: how page cost grows with data, reported as ratios.

Machines here are noisy, so absolute times mean little. Each benchmark renders the
same page with a small and a large data set (in-memory SQLite, Flask test client)
and reports the median time and the query count of each, and the ratio large/small.
A page without N+1 queries keeps the same query count; its time ratio should stay
far below the data ratio.

Run: ``make bench`` (or ``.venv/bin/python -m bench``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from partnerships import create_app
from partnerships.accounts.models import User
from partnerships.config import TestConfig
from partnerships.extensions import db
from partnerships.modelbase import utcnow
from partnerships.organisations.models import IncomeBand, Organisation, OrgType, RequestStatus
from partnerships.partnership.models import Partnership, PartnershipMember, PartnershipOfficer

REPEATS = 15


def _build(members: int, partnerships: int) -> Any:
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    settings["RATELIMIT_ENABLED"] = False
    app = create_app(settings)
    with app.app_context():
        db.create_all()
        types = list(OrgType)
        bands = list(IncomeBand)
        orgs = [
            Organisation(name=f"Organisation {i:04d}", slug=f"organisation-{i:04d}",
                         org_type=types[i % len(types)], income_band=bands[i % len(bands)])
            for i in range(members)
        ]
        db.session.add_all(orgs)
        for p in range(partnerships):
            db.session.add(Partnership(name=f"Partnership {p:04d}", slug=f"p-{p:04d}",
                                       place="Northbridge"))
        db.session.flush()
        main = db.session.scalar(db.select(Partnership).where(Partnership.slug == "p-0000"))
        for i in range(3):
            user = User(name=f"Officer {i}", email=f"officer{i}@example.org",
                        password_hash="x", email_confirmed_at=utcnow())
            db.session.add(user)
            db.session.flush()
            db.session.add(PartnershipOfficer(partnership_id=main.id, user_id=user.id,
                                              role_title="Officer"))
        for org in orgs:
            db.session.add(PartnershipMember(partnership_id=main.id, organisation_id=org.id,
                                             status=RequestStatus.ACTIVE, requested_at=utcnow()))
        db.session.commit()
    return app


def _measure(app: Any, path: str, headers: dict[str, str] | None = None,
             status: int = 200) -> tuple[float, int]:
    client = app.test_client()
    with app.app_context():
        queries: list[str] = []

        def count(*_args: Any) -> None:
            queries.append("q")

        client.get(path)  # warm up templates and caches
        event.listen(db.engine, "before_cursor_execute", count)
        timings = []
        for _ in range(REPEATS):
            queries.clear()
            start = time.perf_counter()
            response = client.get(path, headers=headers or {})
            timings.append(time.perf_counter() - start)
            assert response.status_code == status, (path, response.status_code)
        event.remove(db.engine, "before_cursor_execute", count)
    return statistics.median(timings), len(queries)


def _compare(name: str, path: str, small: Callable[[], Any], large: Callable[[], Any],
             data_ratio: float) -> None:
    small_time, small_queries = _measure(small(), path)
    large_time, large_queries = _measure(large(), path)
    print(
        f"{name:<28} small {small_time * 1000:7.1f} ms {small_queries:3d} queries | "
        f"large {large_time * 1000:7.1f} ms {large_queries:3d} queries | "
        f"time x{large_time / small_time:5.2f} for data x{data_ratio:g}"
    )


def _with_meetings(count: int) -> Any:
    """One partnership with a public forum holding ``count`` public hybrid meetings,
    spread over the calendar window (about 18 months ahead)."""
    from datetime import timedelta

    from partnerships.forums.models import Forum, MembershipPolicy, Visibility
    from partnerships.meetings.models import Meeting, MeetingFormat

    app = _build(members=5, partnerships=1)
    with app.app_context():
        main = db.session.scalar(db.select(Partnership).where(Partnership.slug == "p-0000"))
        forum = Forum(partnership_id=main.id, slug="vcse-alliance", name="VCSE Alliance",
                      membership_policy=MembershipPolicy.BY_REQUEST,
                      visibility=Visibility.PUBLIC)
        db.session.add(forum)
        db.session.flush()
        now = utcnow().replace(minute=0, second=0, microsecond=0)
        step = timedelta(days=500) / count
        db.session.add_all(Meeting(
            forum_id=forum.id, title=f"Neighbourhood working group {n}",
            starts_at=now + step * (n + 1), ends_at=now + step * (n + 1) + timedelta(hours=2),
            format=MeetingFormat.HYBRID, venue_name="Northbridge Civic Centre",
            venue_address="1 Market Square, Northbridge NB1 1AA",
            joining_url="https://meet.example.org/abc", visibility=Visibility.PUBLIC)
            for n in range(count))
        db.session.commit()
    return app


def _calendar_feed() -> None:
    """A partnership feed of 1,000 meetings: the full build should stay well under a
    second, and a 304 (fingerprint query only, no calendar built) far cheaper."""
    path = "/partnerships/p-0000/calendar.ics"
    _compare("calendar feed (meetings)", path, lambda: _with_meetings(10),
             lambda: _with_meetings(1000), 100)
    app = _with_meetings(1000)
    build_time, build_queries = _measure(app, path)
    etag = app.test_client().get(path).headers["ETag"]
    cached_time, cached_queries = _measure(app, path, {"If-None-Match": etag}, 304)
    print(
        f"{'calendar feed 1,000: 304':<28} build {build_time * 1000:7.1f} ms "
        f"{build_queries:3d} queries | 304   {cached_time * 1000:7.1f} ms "
        f"{cached_queries:3d} queries | build/304 x{build_time / cached_time:5.1f}"
    )


def main() -> None:
    print(f"median of {REPEATS} requests each; in-memory SQLite; Flask test client")
    _compare("partnership page (members)", "/partnerships/p-0000/",
             lambda: _build(members=10, partnerships=1),
             lambda: _build(members=400, partnerships=1), 40)
    _compare("partnership list", "/partnerships/",
             lambda: _build(members=5, partnerships=10),
             lambda: _build(members=5, partnerships=400), 40)
    _compare("organisation directory", "/organisations/",
             lambda: _build(members=10, partnerships=1),
             lambda: _build(members=2000, partnerships=1), 200)
    _calendar_feed()


if __name__ == "__main__":
    main()
