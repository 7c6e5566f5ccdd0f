"""Imports every domain's models so Alembic's autogenerate sees the whole schema."""

from .accounts.models import User
from .audit import AuditEvent
from .mail import OutboxMessage
from .organisations.models import Organisation, OrganisationMember
from .places.models import Partnership, PartnershipMember, PartnershipOfficer, PartnershipPrinciple

__all__ = [
    "AuditEvent",
    "Organisation",
    "OrganisationMember",
    "OutboxMessage",
    "Partnership",
    "PartnershipMember",
    "PartnershipOfficer",
    "PartnershipPrinciple",
    "User",
]
