"""Recording the outcome of an MoU's review (officers and site admins): continue with
a new review date, amend, or end. One page with a form per outcome; the rules are in
``reviews``."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, render_template, request
from flask_login import current_user, login_required

from .. import formflow
from ..formflow import Page
from ..timeutil import format_day, today_uk
from . import reviews
from .forms import REVIEW_FORMS, AmendReviewForm, ContinueForm, EndForm, ReviewPart
from .models import Mou
from .routes import bp
from .view_helpers import ONE, load_managed, to_mou


@bp.route(ONE + "/review", methods=["GET", "POST"])
@login_required
def review(slug: str, mou_id: int) -> Page:
    partnership, mou, _access = load_managed(slug, mou_id)
    today = today_uk()
    reviews.require_reviewable(current_user, mou)  # a draft or ended MoU: the 409 page
    # Each outcome is its own form; only the one sent reads the request.
    forms = {name: cls(prefix=name, formdata=None) for name, cls in REVIEW_FORMS.items()}
    sent = None
    if request.method == "POST":
        outcome = request.form.get("outcome", "")
        if outcome not in REVIEW_FORMS:
            abort(400)
        sent = forms[outcome] = REVIEW_FORMS[outcome](prefix=outcome)
        if sent.validate() and (done := formflow.save(
                sent, lambda: _record(sent, mou, today), validate=False)):
            flash(done.value, "success")
            return to_mou(partnership, mou)
    return render_template("mous/review.html", partnership=partnership, mou=mou,
                           version=mou.current_version, forms=forms, form=sent,
                           today=today), formflow.status_for(sent) if sent is not None else 200


def _record(sent: ReviewPart, mou: Mou, today: date) -> str:
    """Record the outcome the sent form is for; the message that says what happened."""
    if isinstance(sent, ContinueForm):
        reviews.continue_unchanged(current_user, mou, sent.review_date.data,
                                   sent.note.data or "", today)
        return (f"The review is recorded. {mou.reference} continues unchanged; "
                f"its next review is on {format_day(sent.review_date.data)}.")
    if isinstance(sent, AmendReviewForm):
        version = reviews.amend(current_user, mou, sent.changelog.data or "",
                                sent.note.data or "")
        return (f"The review is recorded. Version {version.number} is a new "
                "draft; the version in force stays in force until every party "
                "signs it.")
    assert isinstance(sent, EndForm)
    reviews.end(current_user, mou, sent.end_kind_value, sent.end_date.data,
                sent.reason.data or "", today)
    return (f"{mou.reference} has ended. It stays on the register with its "
            "end date and reason.")
