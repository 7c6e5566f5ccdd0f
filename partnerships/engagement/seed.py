"""The demo's engagement plans (the ``engagement`` section of ``seed/northbridge.yaml``),
set through ``services.save_plan`` as the officer the file names.

Years count from the load (``year: 0`` this year, ``-1`` last year), as every time in
the demo does, so the plans sit beside the demo's meetings whenever it is loaded."""

from __future__ import annotations

from typing import Any

from ..seed import SeedContext, SeedError, check_fields, entries, text
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
