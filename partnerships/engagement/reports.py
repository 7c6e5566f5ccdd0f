"""Annual reports: the officers' narrative around a year's engagement record, written
as a draft, published (which freezes the record's figures) and revised.

Services take the acting user, check ``permissions``, flush and never commit. Saving a
report that exists locks its row; the first save of a year meets the unique
(partnership, year) constraint, so two officers starting the same year's report at
once get one report and a clear message. Publishing is a conditional UPDATE on
"still a draft", so a report is published (and its figures frozen) exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit, conditional, permissions
from ..accounts.models import User
from ..errors import Conflict, PermissionDenied, ValidationError
from ..extensions import db
from ..modelbase import utcnow
from ..partnership.models import Partnership
from ..permissions.core import Viewer
from . import record, snapshot
from .models import INTRODUCTION_MAX, SECTION_MAX, YEAR_MAX, YEAR_MIN, AnnualReport
from .services import valid_year


@dataclass(frozen=True)
class ReportText:
    """What the officer writes, as the form read it (Markdown)."""

    introduction: str
    went_well: str
    will_change: str


def get(partnership: Partnership, year: int) -> AnnualReport | None:
    return db.session.scalar(select(AnnualReport).where(
        AnnualReport.partnership_id == partnership.id, AnnualReport.year == year))


def listed(viewer: Viewer, partnership: Partnership) -> list[AnnualReport]:
    """The partnership's reports ``viewer`` may see (drafts for its officers), latest
    year first."""
    return list(db.session.scalars(
        select(AnnualReport).where(AnnualReport.partnership_id == partnership.id,
                                   permissions.annual_reports_visible_to(viewer))
        .order_by(AnnualReport.year.desc())))


def published_years(partnership: Partnership) -> list[int]:
    return list(db.session.scalars(
        select(AnnualReport.year).where(AnnualReport.partnership_id == partnership.id,
                                        permissions.annual_reports_visible_to(None))
        .order_by(AnnualReport.year.desc())))


def _check(text: ReportText) -> None:
    """The form checks these too; here so no other caller can store more."""
    if not text.went_well.strip() or not text.will_change.strip():
        raise ValidationError("Write what went well and what you will change")
    if len(text.introduction) > INTRODUCTION_MAX or len(text.went_well) > SECTION_MAX \
            or len(text.will_change) > SECTION_MAX:
        raise ValidationError("The report is too long")


def _may_write(actor: User, partnership: Partnership) -> None:
    if not permissions.can_write_annual_report(actor, partnership):
        raise PermissionDenied("Only the partnership's officers can write its annual report")


def save(actor: User, partnership: Partnership, year: int, text: ReportText) -> AnnualReport:
    """Create the year's report as a draft, or change its words (a draft's, or a
    published report's, which is then marked revised; its figures stay frozen)."""
    _may_write(actor, partnership)
    if not valid_year(year):
        raise ValidationError(f"The year must be between {YEAR_MIN} and {YEAR_MAX}")
    _check(text)
    report = get(partnership, year)
    values = {"introduction": text.introduction.strip(), "went_well": text.went_well.strip(),
              "will_change": text.will_change.strip()}
    if report is None:
        report = AnnualReport(partnership_id=partnership.id, year=year, created_by_id=actor.id,
                              updated_by_id=actor.id, **values)
        db.session.add(report)
        try:
            with db.session.begin_nested():
                db.session.flush()
        except IntegrityError:  # another officer started this year's report just now
            raise ValidationError(f"Someone else has just started the report for {year}. "
                                  "Check it and make your changes again.") from None
        audit.record(actor, "annual_report.created", "partnership", partnership.id, year=year)
        return report
    conditional.lock(report)
    changed = any(getattr(report, key) != value for key, value in values.items())
    for key, value in values.items():
        setattr(report, key, value)
    report.updated_by_id = actor.id
    if changed and report.is_published:
        report.revised_at = utcnow()
    db.session.flush()
    audit.record(actor, "annual_report.revised" if report.is_published
                 else "annual_report.updated", "partnership", partnership.id, year=year)
    return report


def publish(actor: User, report: AnnualReport, now: datetime | None = None) -> AnnualReport:
    """Publish a draft: anyone may read it from now on, with the engagement record's
    figures frozen as they stand ``now``."""
    partnership = report.partnership
    _may_write(actor, partnership)
    now = now or utcnow()
    figures = snapshot.dump(record.engagement_record(partnership, report.year, now=now))
    if not conditional.change(report, AnnualReport.published_at.is_(None),
                              published_at=now, published_by_id=actor.id, figures=figures,
                              figures_at=now, updated_by_id=actor.id):
        raise Conflict(f"The report for {report.year} has already been published.")
    audit.record(actor, "annual_report.published", "partnership", partnership.id,
                 year=report.year)
    return report


def frozen_record(report: AnnualReport) -> record.EngagementRecord:
    """The figures a published report shows: as frozen at publication."""
    assert report.figures is not None
    return snapshot.load(report.figures)


def figures_for(report: AnnualReport) -> record.EngagementRecord:
    """A published report's frozen figures; a draft's, live (what publishing would
    freeze if it happened now)."""
    if report.figures is not None:
        return frozen_record(report)
    return record.engagement_record(report.partnership, report.year)
