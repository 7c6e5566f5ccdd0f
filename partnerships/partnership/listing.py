"""Each membership's copy of its organisation's sector group, size and sort name.

The partnership page counts a partnership's members by sector (and the small ones) and
lists the first few of each sector by name. Read through ``organisations``, that reads
every member's organisation and sorts them: the page's time grew with the partnership.
So ``PartnershipMember`` keeps ``sector``, ``is_small`` and ``sort_name``, and the page
reads the index ``ix_partnership_members_listing`` (partnership, status, sector, sort
name, organisation, small) alone: the first of a sector are the index's next entries,
and the counts an index-only scan.

The copies are kept right in the same transaction as what they copy, whatever path
writes it (services, seed, factories, tests adding rows):

- a membership inserted takes its organisation's values, read with ``FOR SHARE`` (on
  PostgreSQL, an organisation being changed at that moment is waited for, so the
  values are its new ones; SQLite writes one transaction at a time anyway);
- an organisation whose name, type or income band changes has its memberships updated
  by one conditional ``UPDATE`` right after its own row (PostgreSQL: a membership
  being inserted at that moment holds the organisation's row, so the ``UPDATE`` waits
  and then sees it).

Bulk loads (``flask seed scale``) and migration 0023 fill them with ``refresh``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, event, inspect, or_, select, update
from sqlalchemy.engine import Connection

from ..organisations.models import SMALL_BANDS, Organisation, OrgType, Sector
from .models import PartnershipMember

# What ``sector`` holds: ``services.SECTOR_GROUPS``' keys.
SECTOR_KEYS = ("public", "vcse", "other")


def sector_key(org_type: OrgType) -> str:
    sector = org_type.sector
    return sector.value if sector in (Sector.PUBLIC, Sector.VCSE) else "other"


def sector_of_type() -> Any:
    """SQL: ``sector_key`` of ``Organisation.org_type``."""
    return case(*[(Organisation.org_type.in_([t for t in OrgType if t.sector is sector]),
                   sector.value) for sector in (Sector.PUBLIC, Sector.VCSE)], else_="other")


def is_small_band() -> Any:
    return Organisation.income_band.in_(sorted(SMALL_BANDS))


def refresh(connection: Connection, *conditions: Any) -> None:
    """Set the copies of the memberships matching ``conditions`` (all, if none) from
    their organisations, in one ``UPDATE``."""
    own = Organisation.id == PartnershipMember.organisation_id

    def of_org(column: Any) -> Any:
        return select(column).where(own).scalar_subquery()

    stale = or_(PartnershipMember.sector != of_org(sector_of_type()),
                PartnershipMember.is_small != of_org(is_small_band()),
                PartnershipMember.sort_name != of_org(Organisation.sort_name))
    connection.execute(
        update(PartnershipMember).where(and_(*conditions, stale) if conditions else stale)
        .values(sector=of_org(sector_of_type()), is_small=of_org(is_small_band()),
                sort_name=of_org(Organisation.sort_name)))


@event.listens_for(PartnershipMember, "before_insert")
def _copy_on_insert(_mapper: Any, connection: Connection, member: PartnershipMember) -> None:
    row = connection.execute(
        select(Organisation.org_type, Organisation.income_band, Organisation.sort_name)
        .where(Organisation.id == member.organisation_id)
        .with_for_update(read=True)).one_or_none()
    if row is None:  # the foreign key will refuse the row
        return
    org_type, income_band, sort_name = row
    member.sector = sector_key(org_type)
    member.is_small = income_band in SMALL_BANDS
    member.sort_name = sort_name


@event.listens_for(Organisation, "after_update")
def _copy_on_change(_mapper: Any, connection: Connection, organisation: Organisation) -> None:
    state = inspect(organisation)
    if any(state.attrs[name].history.has_changes()
           for name in ("name", "sort_name", "org_type", "income_band")):
        refresh(connection, PartnershipMember.organisation_id == organisation.id)
