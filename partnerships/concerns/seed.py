"""The ``concerns`` section of the demo (``flask seed demo``): concerns raised about how
a partnership engages, made through the same services as the site, each step at its
moment in the past (days count from loading, negative for before it).

An entry names its ``partnership``, a ``category``, what happened (``details``) and
who raised it: ``by`` (an account) or, signed out, an ``email`` and optionally a
``name``. ``publish`` and ``show_name`` are the raiser's answers (both false unless
said). The steps follow when the file gives them: ``acknowledged_day``, a
``response`` on ``responded_day``, ``closed_day``, each by an officer (``officer``,
the partnership's first officer unless said). A step the site would refuse (closing
before a response, say) is reported with the service's message and where it is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..accounts.models import User
from ..extensions import db
from ..mous.seed import Days, step
from ..partnership.models import Partnership, PartnershipOfficer
from ..seed import SeedContext, SeedError, check_fields, entries, enum, text
from . import services
from .models import ConcernCategory

REQUIRED = {"partnership", "category", "details", "raised_day"}
OPTIONAL = {"by", "email", "name", "publish", "show_name", "officer", "acknowledged_day",
            "response", "responded_day", "closed_day"}


def _flag(entry: dict[str, Any], key: str, where: str) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        raise SeedError(f"{where}: {key} should be true or false")
    return value


def _first_officer(partnership: Partnership, where: str) -> User:
    officer = db.session.scalar(select(User).join(
        PartnershipOfficer, PartnershipOfficer.user_id == User.id).where(
        PartnershipOfficer.partnership_id == partnership.id).order_by(PartnershipOfficer.id))
    if officer is None:
        raise SeedError(f"{where}: the partnership has no officer to act on the concern")
    return officer


def _load_concern(entry: dict[str, Any], ctx: SeedContext, days: Days, where: str) -> None:
    check_fields(entry, REQUIRED, OPTIONAL, where)
    partnership = ctx.partnership(entry["partnership"], where)
    if ("by" in entry) == ("email" in entry):
        raise SeedError(f"{where}: say who raised it with either by (an account) or email "
                        "(someone signed out)")
    raiser = ctx.user(entry["by"], where) if "by" in entry else None
    if raiser is not None and "name" in entry:
        raise SeedError(f"{where}: name is only for someone signed out (by uses the "
                        "account's name)")
    publish = _flag(entry, "publish", where)
    details = services.ConcernDetails(
        category=enum(ConcernCategory, entry["category"], f"{where}: category"),
        details=text(entry["details"]), consent_to_publish=publish,
        anonymous=not (publish and _flag(entry, "show_name", where)),
        name=text(entry.get("name")), email=text(entry.get("email")))
    with step(where, days.past(entry, "raised_day", where)):
        concern, _secret = services.raise_concern(raiser, partnership, details)
    officer = (ctx.user(entry["officer"], where) if "officer" in entry
               else _first_officer(partnership, where))
    if "acknowledged_day" in entry:
        with step(f"{where}: acknowledged", days.past(entry, "acknowledged_day", where)):
            services.acknowledge(officer, concern)
    if ("response" in entry) != ("responded_day" in entry):
        raise SeedError(f"{where}: give both response and responded_day, or neither")
    if "response" in entry:
        with step(f"{where}: responded", days.past(entry, "responded_day", where)):
            services.respond(officer, concern, text(entry["response"]))
    if "closed_day" in entry:
        with step(f"{where}: closed", days.past(entry, "closed_day", where)):
            services.close(officer, concern)
    ctx.count("concerns")


def load_concerns(section: Any, ctx: SeedContext) -> None:
    days = Days.from_now()
    for index, entry in enumerate(entries(section, "concerns")):
        _load_concern(entry, ctx, days, f"concerns[{index}]")
