"""The page where an organisation's admins choose who else may post its opportunities
(/organisations/<slug>/opportunity-posters): allow a current member, or withdraw it.

It lives with the opportunities because that is what it grants. Only the
organisation's admins (and site admins) may open it: other people get 403, and an
unknown organisation 404.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import permissions
from ..errors import ValidationError
from ..extensions import db
from ..organisations import services as organisation_services
from ..organisations.models import Organisation
from . import posters as rules
from .forms import ButtonForm, PosterForm
from .routes import bp

Page = str | Response | tuple[str, int]


def _organisation(key: str) -> Organisation:
    organisation = organisation_services.get_by_id_or_slug(key)
    if organisation is None:
        abort(404)
    if not permissions.can_manage_opportunity_posters(current_user, organisation):
        abort(403)
    return organisation


def _to_posters(organisation: Organisation) -> Response:
    return redirect(url_for("opportunities.posters", key=organisation.slug), code=303)


@bp.route("/organisations/<key>/opportunity-posters", methods=["GET", "POST"])
@login_required
def posters(key: str) -> Page:
    organisation = _organisation(key)
    members = organisation_services.active_members(organisation)
    allowed = rules.posters_of(organisation)
    form = PosterForm()
    form.set_members(rules.candidates(members, allowed))
    if form.validate_on_submit():
        try:
            poster = rules.allow(current_user, organisation, form.chosen_user_id())
        except ValidationError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            name = poster.user.display_name
            db.session.commit()
            flash(f"{name} can now post opportunities for {organisation.name}. We have "
                  "emailed them.", "success")
            return _to_posters(organisation)
    status = 422 if form.errors else 200
    return render_template(
        "opportunities/posters.html", organisation=organisation, posters=allowed,
        member_ids={m.user_id for m in members}, form=form, button_form=ButtonForm(),
    ), status


@bp.post("/organisations/<key>/opportunity-posters/<int:poster_id>/remove")
@login_required
def remove_poster(key: str, poster_id: int) -> Response:
    organisation = _organisation(key)
    poster = rules.get(organisation, poster_id)
    if poster is None:
        abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400)
    name = poster.user.display_name
    rules.withdraw(current_user, organisation, poster)
    db.session.commit()
    flash(f"{name} can no longer post opportunities for {organisation.name}. We have "
          "emailed them.", "success")
    return _to_posters(organisation)
