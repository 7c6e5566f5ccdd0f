"""Member organisations: public bodies and the voluntary and community sector."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..accounts.models import User
from ..enums import LabelledEnum
from ..modelbase import Model, TimestampMixin, UTCDateTime, str_enum
from .domains import usable_as_work_domain, website_domain


class Sector(LabelledEnum):
    PUBLIC = "public", "Public sector"
    VCSE = "vcse", "Voluntary, community and social enterprise (VCSE)"
    PRIVATE = "private", "Private sector"
    OTHER = "other", "Other"


class OrgType(LabelledEnum):
    LOCAL_AUTHORITY = "local_authority", "Local authority"
    COMBINED_AUTHORITY = "combined_authority", "Combined or strategic authority"
    NHS_BODY = "nhs_body", "NHS body, such as an integrated care board (ICB) or trust"
    POLICE = "police", "Police or police and crime commissioner (PCC)"
    FIRE = "fire", "Fire and rescue service"
    OTHER_PUBLIC = "other_public", "Other public body"
    CHARITY = "charity", "Registered charity or charitable incorporated organisation (CIO)"
    CIC = "cic", "Community interest company (CIC) or social enterprise"
    COMMUNITY_GROUP = "community_group", "Unincorporated community group"
    FAITH_GROUP = "faith_group", "Faith group"
    HOUSING_ASSOCIATION = "housing_association", "Housing association"
    EDUCATION = "education", "School, college or university"
    BUSINESS = "business", "Business"
    OTHER = "other", "Other"

    @property
    def sector(self) -> Sector:
        """Public sector or VCSE, derived from the type (see PRODUCT.md)."""
        return ORG_TYPE_SECTORS[self]


# Education counts as public sector (schools, colleges and universities are mostly
# public bodies); housing associations are not-for-profit and sit with the VCSE, as
# in NCVO's Almanac. Businesses are private sector and count as neither.
ORG_TYPE_SECTORS: dict[OrgType, Sector] = {
    OrgType.LOCAL_AUTHORITY: Sector.PUBLIC,
    OrgType.COMBINED_AUTHORITY: Sector.PUBLIC,
    OrgType.NHS_BODY: Sector.PUBLIC,
    OrgType.POLICE: Sector.PUBLIC,
    OrgType.FIRE: Sector.PUBLIC,
    OrgType.OTHER_PUBLIC: Sector.PUBLIC,
    OrgType.EDUCATION: Sector.PUBLIC,
    OrgType.CHARITY: Sector.VCSE,
    OrgType.CIC: Sector.VCSE,
    OrgType.COMMUNITY_GROUP: Sector.VCSE,
    OrgType.FAITH_GROUP: Sector.VCSE,
    OrgType.HOUSING_ASSOCIATION: Sector.VCSE,
    OrgType.BUSINESS: Sector.PRIVATE,
    OrgType.OTHER: Sector.OTHER,
}


class IncomeBand(LabelledEnum):
    """Annual income bands; the first three make an organisation "small" (£500,000 and under)."""

    UP_TO_10K = "up_to_10k", "£10,000 or less"
    UP_TO_100K = "10k_100k", "£10,001 to £100,000"
    UP_TO_500K = "100k_500k", "£100,001 to £500,000"
    UP_TO_1M = "500k_1m", "£500,001 to £1 million"
    UP_TO_10M = "1m_10m", "Over £1 million to £10 million"
    UP_TO_100M = "10m_100m", "Over £10 million to £100 million"
    OVER_100M = "over_100m", "Over £100 million"
    NOT_SAID = "not_said", "Prefer not to say"

    @property
    def is_small(self) -> bool | None:
        if self is IncomeBand.NOT_SAID:
            return None
        return self in SMALL_BANDS


SMALL_BANDS = frozenset({IncomeBand.UP_TO_10K, IncomeBand.UP_TO_100K, IncomeBand.UP_TO_500K})


# Length limits, beside the columns they protect; forms and services read them from
# here, so PostgreSQL never refuses what SQLite would accept.
NAME_MAX = 160
WEBSITE_MAX = 300
DESCRIPTION_MAX = 1000
# The organisation's email domains, space-separated (see ``domains.parse_domains``).
EMAIL_DOMAINS_MAX = 600
# A request to join (``OrganisationMember``), and the reason it was declined.
JOB_TITLE_MAX = 120
MESSAGE_MAX = 500
DECLINE_REASON_MAX = 1000


def sort_name(name: str) -> str:
    """How the directory orders a name: ignoring case."""
    return name.lower()


class Organisation(TimestampMixin, Model):
    """A member body. Anyone signed in may create one; its admins manage it."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False, index=True)
    # The name as the directory sorts it (lower case), kept by ``_sort_name`` whenever
    # the name is set, so the directory reads its first page from an index rather than
    # sorting every organisation on each view.
    sort_name: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False, default="",
                                           server_default="")
    org_type: Mapped[OrgType] = mapped_column(str_enum(OrgType), nullable=False, index=True)
    charity_number: Mapped[str | None] = mapped_column(String(12))
    company_number: Mapped[str | None] = mapped_column(String(8))
    income_band: Mapped[IncomeBand] = mapped_column(
        str_enum(IncomeBand), nullable=False, default=IncomeBand.NOT_SAID
    )
    website: Mapped[str | None] = mapped_column(String(WEBSITE_MAX))
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")  # DESCRIPTION_MAX
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Its staff's email domains as its admins record them ("northbridge.gov.uk nhs.net"):
    # a line manager's address on none of them (nor the website's) is flagged to the host.
    email_domains: Mapped[str] = mapped_column(String(EMAIL_DOMAINS_MAX), nullable=False,
                                               default="", server_default="")
    # Its staff may name only a line manager whose address is on those domains.
    require_manager_email_domain: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )

    memberships: Mapped[list[OrganisationMember]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("NOT require_manager_email_domain OR email_domains <> ''",
                        name="required_domains_recorded"),
        Index("ix_organisations_sort_name", "sort_name", "id"),
    )

    @validates("name")
    def _sort_name(self, _key: str, name: str) -> str:
        self.sort_name = sort_name(name)
        return name

    @property
    def email_domain_list(self) -> list[str]:
        return (self.email_domains or "").split()

    @property
    def required_manager_domains(self) -> list[str]:
        """The domains a line manager's address must be on ([]: any domain will do)."""
        return self.email_domain_list if self.require_manager_email_domain else []

    @property
    def work_domains(self) -> list[str]:
        """Where its staff's addresses are expected: the recorded email domains, then the
        website's domain (unless that is a webmail or shared domain)."""
        domains = self.email_domain_list
        site = website_domain(self.website)
        if site and usable_as_work_domain(site) and site not in domains:
            domains = [*domains, site]
        return domains

    @property
    def sector(self) -> Sector:
        return self.org_type.sector

    @property
    def is_vcse(self) -> bool:
        return self.sector is Sector.VCSE

    @property
    def is_small(self) -> bool | None:
        return self.income_band.is_small

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"


class MemberRole(StrEnum):
    MEMBER = "member"
    ADMIN = "admin"


class RequestStatus(StrEnum):
    """The life of a request to join something (used by organisations and partnerships)."""

    PENDING = "pending"
    ACTIVE = "active"
    DECLINED = "declined"
    LEFT = "left"


class OrganisationMember(TimestampMixin, Model):
    """A person's link to an organisation: asked to join, a member, or an admin."""

    __tablename__ = "organisation_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    role: Mapped[MemberRole] = mapped_column(
        str_enum(MemberRole), nullable=False, default=MemberRole.MEMBER
    )
    status: Mapped[RequestStatus] = mapped_column(
        str_enum(RequestStatus), nullable=False, default=RequestStatus.PENDING
    )
    job_title: Mapped[str] = mapped_column(String(JOB_TITLE_MAX), nullable=False, default="")
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")  # MESSAGE_MAX
    # When the person last asked to join (None for members added by the creator or seed).
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Up to DECLINE_REASON_MAX characters.
    decline_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")

    organisation: Mapped[Organisation] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        UniqueConstraint("organisation_id", "user_id"),
        Index("ix_organisation_members_user_status", "user_id", "status"),
        Index("ix_organisation_members_org_status", "organisation_id", "status"),
    )

    @property
    def is_admin(self) -> bool:
        return self.status is RequestStatus.ACTIVE and self.role is MemberRole.ADMIN
