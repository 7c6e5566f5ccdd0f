"""Read-only look-ups for the site administration pages (counts, accounts, choices).

Changes go through each domain's own services (e.g. ``partnership.services``); this module
only answers the administrator's questions, each in one query.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnExpressionArgument, ScalarSelect, func, or_, select

from .. import mail
from ..accounts.models import User
from ..extensions import db
from ..mail import OutboxMessage
from ..organisations.models import Organisation, RequestStatus
from ..partnership.models import Partnership, PartnershipMember

PAGE_SIZE = 25


@dataclass
class DashboardCounts:
    partnerships: int
    organisations: int
    accounts: int
    pending_requests: int
    failed_emails: int


def dashboard_counts() -> DashboardCounts:
    """The headline numbers for the admin dashboard, in one query."""

    def count(
        column: ColumnExpressionArgument[int], *where: ColumnExpressionArgument[bool]
    ) -> ScalarSelect[int]:
        return select(func.count(column)).where(*where).scalar_subquery()

    row = db.session.execute(
        select(
            count(Partnership.id),
            count(Organisation.id),
            count(User.id, User.deleted_at.is_(None)),
            count(PartnershipMember.id, PartnershipMember.status == RequestStatus.PENDING),
            count(OutboxMessage.id, *mail.failed()),
        )
    ).one()
    return DashboardCounts(*(int(value or 0) for value in row))


def search_users(query: str = "", page: int = 1) -> tuple[list[User], int]:
    """Accounts whose name or email contains ``query``, by name, one page at a time."""
    conditions = []
    query = query.strip().lower()
    if query:
        conditions.append(or_(func.lower(User.name).contains(query, autoescape=True),
                              User.email.contains(query, autoescape=True)))
    total = db.session.scalar(select(func.count(User.id)).where(*conditions)) or 0
    users = db.session.scalars(
        select(User)
        .where(*conditions)
        .order_by(func.lower(User.name), User.id)
        .limit(PAGE_SIZE)
        .offset((max(page, 1) - 1) * PAGE_SIZE)
    ).all()
    return list(users), total


def organisation_choices() -> list[tuple[int, str]]:
    """Every organisation's id and name, by name (for the officer's organisation select)."""
    rows = db.session.execute(
        select(Organisation.id, Organisation.name).order_by(func.lower(Organisation.name))
    )
    return [(org_id, name) for org_id, name in rows]


def get_organisation(org_id: int) -> Organisation | None:
    return db.session.get(Organisation, org_id)
