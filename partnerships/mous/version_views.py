"""Versions of an MoU: one version as agreed, a comparison of any two the viewer may
read, and a printable page (clean A4 with the print stylesheet).

Which versions a viewer may read is ``MouAccess.can_view_version``: signed and
superseded versions follow the MoU; drafts, versions out for signature and withdrawn
ones are for the officers and the parties' admins. A version the viewer may not read
is answered like an MoU they may not see (``view_helpers.refuse_version``).
"""

from __future__ import annotations

from flask import render_template, request

from ..bounds import is_whole_number, whole_number
from ..formflow import Page, found
from ..modelbase import utcnow
from . import services
from .compare import compare as compare_versions
from .forms import CompareForm
from .models import MouVersion
from .routes import bp
from .view_helpers import ONE, default_version, forum_endpoint, load_viewable, refuse_version


@bp.get(ONE + "/versions/<int:number>/")
def version(slug: str, mou_id: int, number: int) -> Page:
    """One version in full: its text, parties, clauses, who signed it and when."""
    partnership, mou, access = load_viewable(slug, mou_id)
    shown = found(services.get_version(mou, number))
    if not access.can_view_version(shown):
        refuse_version(partnership, "version of the memorandum")
    versions = services.visible_versions(mou, access)
    return render_template(
        "mous/version.html", partnership=partnership, mou=mou, version=shown, access=access,
        versions=versions, based_on=next((v for v in versions
                                          if v.id == shown.based_on_version_id), None),
        forum_endpoint=forum_endpoint(),
    )


def _chosen(raw: str | None, visible: dict[int, MouVersion], what: str) -> tuple[
        MouVersion | None, str | None]:
    """The version a parameter names, or the message that says what is wrong with it."""
    if raw is None or not raw.strip():
        return None, f"Choose the version to compare {what}"
    if not is_whole_number(raw.strip()):
        return None, f"Choose a version number to compare {what}, like 1 or 2"
    number = whole_number(raw)
    version = visible.get(number) if number is not None else None
    if version is None:
        return None, f"There is no version {raw.strip()[:12]} of this MoU that you can read"
    return version, None


@bp.get(ONE + "/compare")
def compare(slug: str, mou_id: int) -> Page:
    """Compare two versions (``?from=<n>&to=<m>``). Without parameters, the two latest
    versions the viewer may read; with a bad one, the form again with the problem (400)."""
    partnership, mou, access = load_viewable(slug, mou_id)
    versions = services.visible_versions(mou, access)
    visible = {v.number: v for v in versions}
    form = CompareForm(formdata=None)
    form.set_versions(versions)
    status = 200
    old = new = None
    if "from" not in request.args and "to" not in request.args:
        if len(versions) >= 2:
            old, new = versions[-2], versions[-1]
    else:
        old, from_problem = _chosen(request.args.get("from"), visible, "from")
        new, to_problem = _chosen(request.args.get("to"), visible, "with")
        if from_problem:
            form.from_version.errors = [from_problem]
        if to_problem:
            form.to_version.errors = [to_problem]
        if old is not None and new is not None and old.number == new.number:
            form.to_version.errors = ["Choose two different versions to compare"]
        if form.errors:
            status = 400
            old = new = None
    if old is not None and new is not None:
        form.from_version.data, form.to_version.data = str(old.number), str(new.number)
    else:
        form.from_version.data = request.args.get("from", "")
        form.to_version.data = request.args.get("to", "")
    comparison = None
    if old is not None and new is not None:
        # The version in force and the one in progress came with the MoU, in full.
        loaded = {mou.current_version_id, mou.draft_version_id}
        services.load_versions(v.id for v in (old, new) if v.id not in loaded)
        comparison = compare_versions(old, new)
    return render_template(
        "mous/compare.html", partnership=partnership, mou=mou, access=access, form=form,
        versions=versions, comparison=comparison,
    ), status


@bp.get(ONE + "/print", endpoint="print")
def print_page(slug: str, mou_id: int) -> Page:
    """The MoU (or ``?version=<n>``) laid out for paper: parties, clauses, signatures
    and version, with the print stylesheet's A4 page."""
    partnership, mou, access = load_viewable(slug, mou_id)
    number = request.args.get("version", "")
    if number:
        version = whole_number(number, minimum=1)
        shown = found(services.get_version(mou, version) if version is not None else None)
        if not access.can_view_version(shown):
            refuse_version(partnership, "version of the memorandum")
    else:
        shown = found(default_version(mou, access))  # loaded in full with the MoU
    return render_template(
        "mous/print.html", partnership=partnership, mou=mou, version=shown, access=access,
        printed_at=utcnow(),
    )
