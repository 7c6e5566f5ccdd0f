"""Imports every domain's models so Alembic's autogenerate sees the whole schema."""

from .accounts.models import User
from .audit import AuditEvent
from .forums.models import (
    Forum,
    ForumBan,
    ForumConvenor,
    ForumInvitation,
    ForumMember,
    Post,
    Thread,
    ThreadState,
)
from .mail import OutboxMessage
from .mous.models import (
    Mou,
    MouAttachment,
    MouClause,
    MouComment,
    MouForumLink,
    MouParty,
    MouPrinciple,
    MouReminder,
    MouSignature,
    MouVersion,
)
from .opportunities.models import (
    Application,
    Opportunity,
    Placement,
    PlacementObjective,
    Reflection,
)
from .organisations.models import Organisation, OrganisationMember
from .places.models import Partnership, PartnershipMember, PartnershipOfficer, PartnershipPrinciple

__all__ = [
    "Application",
    "AuditEvent",
    "Forum",
    "ForumBan",
    "ForumConvenor",
    "ForumInvitation",
    "ForumMember",
    "Mou",
    "MouAttachment",
    "MouClause",
    "MouComment",
    "MouForumLink",
    "MouParty",
    "MouPrinciple",
    "MouReminder",
    "MouSignature",
    "MouVersion",
    "Opportunity",
    "Organisation",
    "OrganisationMember",
    "OutboxMessage",
    "Partnership",
    "PartnershipMember",
    "PartnershipOfficer",
    "PartnershipPrinciple",
    "Placement",
    "PlacementObjective",
    "Post",
    "Reflection",
    "Thread",
    "ThreadState",
    "User",
]
