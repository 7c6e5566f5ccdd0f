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
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..extensions import db
from ..modelbase import TimestampMixin, UTCDateTime, str_enum
from .domains import usable_as_work_domain, website_domain


class Sector(StrEnum):
    PUBLIC = "public"
    VCSE = "vcse"
    PRIVATE = "private"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "public": "Public sector",
            "vcse": "Voluntary, community and social enterprise (VCSE)",
            "private": "Private sector",
            "other": "Other",
        }[self.value]


class OrgType(StrEnum):
    LOCAL_AUTHORITY = "local_authority"
    COMBINED_AUTHORITY = "combined_authority"
    NHS_BODY = "nhs_body"
    POLICE = "police"
    FIRE = "fire"
    OTHER_PUBLIC = "other_public"
    CHARITY = "charity"
    CIC = "cic"
    COMMUNITY_GROUP = "community_group"
    FAITH_GROUP = "faith_group"
    HOUSING_ASSOCIATION = "housing_association"
    EDUCATION = "education"
    BUSINESS = "business"
    OTHER = "other"

    @property
    def label(self) -> str:
        return ORG_TYPE_LABELS[self]

    @property
    def sector(self) -> Sector:
        """Public sector or VCSE, derived from the type (see PRODUCT.md)."""
        return ORG_TYPE_SECTORS[self]


ORG_TYPE_LABELS: dict[OrgType, str] = {
    OrgType.LOCAL_AUTHORITY: "Local authority",
    OrgType.COMBINED_AUTHORITY: "Combined or strategic authority",
    OrgType.NHS_BODY: "NHS body, such as an integrated care board (ICB) or trust",
    OrgType.POLICE: "Police or police and crime commissioner (PCC)",
    OrgType.FIRE: "Fire and rescue service",
    OrgType.OTHER_PUBLIC: "Other public body",
    OrgType.CHARITY: "Registered charity or charitable incorporated organisation (CIO)",
    OrgType.CIC: "Community interest company (CIC) or social enterprise",
    OrgType.COMMUNITY_GROUP: "Unincorporated community group",
    OrgType.FAITH_GROUP: "Faith group",
    OrgType.HOUSING_ASSOCIATION: "Housing association",
    OrgType.EDUCATION: "School, college or university",
    OrgType.BUSINESS: "Business",
    OrgType.OTHER: "Other",
}

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


class IncomeBand(StrEnum):
    """Annual income bands; the first three make an organisation "small" (£500,000 and under)."""

    UP_TO_10K = "up_to_10k"
    UP_TO_100K = "10k_100k"
    UP_TO_500K = "100k_500k"
    UP_TO_1M = "500k_1m"
    UP_TO_10M = "1m_10m"
    UP_TO_100M = "10m_100m"
    OVER_100M = "over_100m"
    NOT_SAID = "not_said"

    @property
    def label(self) -> str:
        return INCOME_BAND_LABELS[self]

    @property
    def is_small(self) -> bool | None:
        if self is IncomeBand.NOT_SAID:
            return None
        return self in SMALL_BANDS


INCOME_BAND_LABELS: dict[IncomeBand, str] = {
    IncomeBand.UP_TO_10K: "£10,000 or less",
    IncomeBand.UP_TO_100K: "£10,001 to £100,000",
    IncomeBand.UP_TO_500K: "£100,001 to £500,000",
    IncomeBand.UP_TO_1M: "£500,001 to £1 million",
    IncomeBand.UP_TO_10M: "Over £1 million to £10 million",
    IncomeBand.UP_TO_100M: "Over £10 million to £100 million",
    IncomeBand.OVER_100M: "Over £100 million",
    IncomeBand.NOT_SAID: "Prefer not to say",
}
SMALL_BANDS = frozenset({IncomeBand.UP_TO_10K, IncomeBand.UP_TO_100K, IncomeBand.UP_TO_500K})


# The organisation's email domains, space-separated (see ``domains.parse_domains``).
EMAIL_DOMAINS_MAX = 600


class Organisation(TimestampMixin, db.Model):
    """A member body. Anyone signed in may create one; its admins manage it."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(160), nullable=False, index=True)
    org_type: Mapped[OrgType] = mapped_column(str_enum(OrgType), nullable=False, index=True)
    charity_number: Mapped[str | None] = mapped_column(String(12))
    company_number: Mapped[str | None] = mapped_column(String(8))
    income_band: Mapped[IncomeBand] = mapped_column(
        str_enum(IncomeBand), nullable=False, default=IncomeBand.NOT_SAID
    )
    website: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
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
    )

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


class OrganisationMember(TimestampMixin, db.Model):
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
    job_title: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # When the person last asked to join (None for members added by the creator or seed).
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
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
