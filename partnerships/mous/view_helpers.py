"""What the MoU view modules share: the URL prefixes, loading a partnership and an MoU
the viewer may see (sign in or a 403 otherwise) or manage (403), and the version a page shows. Kept
out of ``views`` so that no view module imports another."""

from __future__ import annotations

from datetime import date
from typing import NoReturn

from flask import abort, current_app
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import permissions
from ..formflow import found, see_other
from ..partnership import services as partnership_services
from ..partnership.models import Partnership
from ..timeutil import today_uk
from . import services, standing
from .models import Mou, MouVersion
from .routes import bp

BASE = "/partnerships/<slug>/mous"
ONE = BASE + "/<int:mou_id>"


def load_partnership(slug: str) -> Partnership:
    return found(partnership_services.get_by_slug(slug))


def load_viewable(slug: str, mou_id: int) -> tuple[Partnership, Mou, permissions.MouAccess]:
    """The MoU, if this viewer may see it; otherwise sign in first, or the page saying
    it is for its parties (``permissions.refuse``: never its title or text)."""
    partnership = load_partnership(slug)
    mou = found(services.get_mou(partnership, mou_id))
    access = permissions.mou_access(current_user, partnership)
    if not access.can_view_mou(mou):
        refuse_version(partnership)
    return partnership, mou, access


def refuse_version(partnership: Partnership,
                   what: str = "memorandum of understanding") -> NoReturn:
    """An MoU, or a version of one (``what``), this viewer may not read (a draft, say):
    sign in first, or who it is for."""
    permissions.refuse(current_user, permissions.mou_audience(partnership, what))


def load_managed(slug: str, mou_id: int) -> tuple[Partnership, Mou, permissions.MouAccess]:
    """The MoU, for the partnership's officers and site admins (403 for others)."""
    partnership, mou, access = load_viewable(slug, mou_id)
    if not access.manages:
        abort(403)
    return partnership, mou, access


def to_mou(partnership: Partnership, mou: Mou) -> Response:
    """Back to the MoU's page, after a change (303)."""
    return see_other("mous.show", slug=partnership.slug, mou_id=mou.id)


def forum_endpoint() -> str | None:
    return "forums.show" if "forums.show" in current_app.view_functions else None


def default_version(mou: Mou, access: permissions.MouAccess) -> MouVersion | None:
    """The version the MoU page shows: the one in force, else the one in progress (for
    those who may see it), else (for officers) the last one of a withdrawn MoU."""
    shown = mou.current_version
    if shown is None and mou.draft_version is not None \
            and access.can_view_version(mou.draft_version):
        shown = mou.draft_version
    if shown is None and access.manages:
        shown = services.latest_version(mou)
    return shown


@bp.app_template_global("mou_standing")
def mou_standing(mou: Mou) -> standing.Standing:
    """Where the MoU stands today (``standing``), for the MoU pages' templates."""
    return standing.standing(mou, today_uk())


@bp.app_template_global("mou_version_label")
def mou_version_label(version: MouVersion) -> str:
    """A version's status in words today (``standing.version_label``)."""
    return standing.version_label(version, today_uk())


@bp.app_template_global("mou_version_phrase")
def mou_version_phrase(version: MouVersion) -> str:
    """When a version is or was in force, in words, today (``standing.version_phrase``)."""
    return standing.version_phrase(version, today_uk())


@bp.app_template_global("mou_start_word")
def mou_start_word(start: date | None) -> str:
    """ "Starts" or "Started", today (``standing.start_word``)."""
    return standing.start_word(start, today_uk())
