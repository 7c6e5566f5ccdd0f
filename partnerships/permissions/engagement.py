"""Engagement plans, the engagement record and annual reports (``engagement`` package).

The record is public, built only from what anyone may see; the plan is public too
(naming who is accountable is the point of it), but only the partnership's officers
and site administrators may set it. An annual report is written and published by the
same people; until it is published only they see it (``can_view_annual_report`` /
``annual_reports_visible_to``, side by side), and once published anyone does."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, true

from ..engagement.models import AnnualReport
from ..partnership.models import Partnership
from .core import Viewer, is_site_admin, signed_in
from .partnership import can_manage_partnership, partnerships_run_by


def can_edit_engagement_plan(user: Viewer, partnership: Partnership) -> bool:
    """Set or change the partnership's engagement plan for any year: its officers and
    site administrators (those who run the partnership), no one else."""
    return can_manage_partnership(user, partnership)


def can_write_annual_report(user: Viewer, partnership: Partnership) -> bool:
    """Write, publish and revise the partnership's annual reports, and see drafts: its
    officers and site administrators, as for the plan the report answers to."""
    return can_manage_partnership(user, partnership)


def can_view_annual_report(user: Viewer, report: AnnualReport) -> bool:
    """Anyone, once published; a draft only those who may write it."""
    return report.is_published or can_write_annual_report(user, report.partnership)


def annual_reports_visible_to(user: Viewer) -> ColumnElement[bool]:
    """``can_view_annual_report`` as a SQL condition on ``AnnualReport`` (the list of a
    partnership's reports; open data asks for ``None``: published reports only)."""
    published: ColumnElement[bool] = AnnualReport.published_at.is_not(None)
    if not signed_in(user):
        return published
    if is_site_admin(user):
        return true()
    return or_(published, AnnualReport.partnership_id.in_(partnerships_run_by(user.id)))
