"""The demo's engagement plans (the ``engagement`` section of ``seed/northbridge.yaml``),
set through ``services.save_plan`` as the officer the file names.

Years count from the load (``year: 0`` this year, ``-1`` last year), as every time in
the demo does, so the plans sit beside the demo's meetings whenever it is loaded."""

from __future__ import annotations

from typing import Any

from ..seed import SeedContext, SeedError, check_fields, entries, refused_as_seed_error, text
from . import services


def _number(entry: dict[str, Any], key: str, where: str) -> int:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SeedError(f"{where}: {key} should be a whole number")
    return value


def load_engagement(section: Any, ctx: SeedContext) -> None:
    for index, entry in enumerate(entries(section, "engagement")):
        where = f"engagement[{index}]"
        check_fields(entry, {"partnership", "by", "year", "partnership_meetings",
                             "notice_days", "minutes_days"}, {"forums", "accountable"}, where)
        partnership = ctx.partnership(entry["partnership"], where)
        year = ctx.now.year + _number(entry, "year", where)
        forums = entry.get("forums") or {}
        people = entry.get("accountable") or {}
        if not isinstance(forums, dict) or not isinstance(people, dict):
            raise SeedError(f"{where}: forums and accountable map slugs to values")
        details = services.PlanDetails(
            partnership_meetings=_number(entry, "partnership_meetings", where),
            notice_days=_number(entry, "notice_days", where),
            minutes_days=_number(entry, "minutes_days", where),
            forum_meetings={ctx.forum(partnership.slug, slug, where).id:
                            _number(forums, slug, where) for slug in forums},
            accountable={ctx.organisation(slug, where).id: services.Accountable(
                text(person.get("name")), text(person.get("role")))
                for slug, person in people.items()})
        services.save_plan(ctx.user(entry["by"], where), partnership, year, details)
        ctx.count("engagement plans")


def load_annual_reports(section: Any, ctx: SeedContext) -> None:
    """The demo's annual reports (the ``annual_reports`` section), written through
    ``reports.save`` and, with ``publish: true``, published through ``reports.publish``
    at the load's time, so their frozen figures are the demo's own (the concerns
    included: this section loads after them)."""
    from . import reports

    for index, entry in enumerate(entries(section, "annual_reports")):
        where = f"annual_reports[{index}]"
        check_fields(entry, {"partnership", "by", "year", "went_well", "will_change"},
                     {"introduction", "publish"}, where)
        partnership = ctx.partnership(entry["partnership"], where)
        officer = ctx.user(entry["by"], where)
        publish = entry.get("publish", False)
        if not isinstance(publish, bool):
            raise SeedError(f"{where}: publish should be true or false")
        year = ctx.now.year + _number(entry, "year", where)
        with refused_as_seed_error(where):
            report = reports.save(officer, partnership, year, reports.ReportText(
                introduction=text(entry.get("introduction")),
                went_well=text(entry["went_well"]), will_change=text(entry["will_change"])))
            if publish:
                reports.publish(officer, report, now=ctx.now)
        ctx.count("annual reports")
