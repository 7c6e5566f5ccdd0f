"""Imports every domain's models so Alembic's autogenerate sees the whole schema."""

from .accounts.models import User, UserSession
from .audit import AuditEvent
from .concerns.models import Concern
from .engagement.models import AccountablePerson, AnnualReport, EngagementPlan, PlanForum

# Keeps each forum's count of active members.
from .forums import counts as _forum_counts  # noqa: F401
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
from .meetings.models import (
    ActionItem,
    ActionUpdate,
    AgendaItem,
    AgendaRevision,
    AttendanceMark,
    CalendarToken,
    Decision,
    ItemRequest,
    Meeting,
    MeetingSeries,
    Paper,
    Registration,
)
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
from .notifications.models import (
    DigestCursor,
    NotificationDefault,
    NotificationKindOff,
    NotificationLevel,
)
from .once import SubmittedForm
from .opportunities.models import (
    Application,
    Opportunity,
    Placement,
    PlacementObjective,
    Reflection,
)
from .organisations.models import Organisation, OrganisationMember

# Keeps each membership's copy of its organisation's sector, size and sort name.
from .partnership import listing as _listing  # noqa: F401
from .partnership.models import (
    Partnership,
    PartnershipMember,
    PartnershipOfficer,
    PartnershipPrinciple,
)

# The value every committed change replaces (the page cache's key).
from .revision import SiteRevision

__all__ = [
    "AccountablePerson",
    "ActionItem",
    "ActionUpdate",
    "AgendaItem",
    "AgendaRevision",
    "AnnualReport",
    "Application",
    "AttendanceMark",
    "AuditEvent",
    "CalendarToken",
    "Concern",
    "Decision",
    "DigestCursor",
    "EngagementPlan",
    "Forum",
    "ForumBan",
    "ForumConvenor",
    "ForumInvitation",
    "ForumMember",
    "ItemRequest",
    "Meeting",
    "MeetingSeries",
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
    "NotificationDefault",
    "NotificationKindOff",
    "NotificationLevel",
    "Opportunity",
    "Organisation",
    "OrganisationMember",
    "OutboxMessage",
    "Paper",
    "Partnership",
    "PartnershipMember",
    "PartnershipOfficer",
    "PartnershipPrinciple",
    "Placement",
    "PlacementObjective",
    "PlanForum",
    "Post",
    "Reflection",
    "Registration",
    "SiteRevision",
    "SubmittedForm",
    "Thread",
    "ThreadState",
    "User",
    "UserSession",
]
