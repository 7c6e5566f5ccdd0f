"""The page where an organisation's admins choose who else may post its opportunities
(/organisations/<slug>/opportunity-posters): allow a current member, or withdraw it.

It lives with the opportunities because that is what it grants. Only the
organisation's admins (and site admins) may open it: other people get 403, and an
unknown organisation 404.
"""

from __future__ import annotations

from flask import flash
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import formflow, permissions
from ..formflow import Page, allowed, found, press, see_other
from ..forms import ButtonForm
from ..organisations import services as organisation_services
from ..organisations.models import Organisation
from . import posters as rules
from .forms import PosterForm
from .routes import bp


def _organisation(key: str) -> Organisation:
    return allowed(found(organisation_services.get_by_id_or_slug(key)),
                   permissions.can_manage_opportunity_posters)


def _to_posters(organisation: Organisation) -> Response:
    return see_other("opportunities.posters", key=organisation.slug)


@bp.route("/organisations/<key>/opportunity-posters", methods=["GET", "POST"])
@login_required
def posters(key: str) -> Page:
    organisation = _organisation(key)
    members = organisation_services.active_members(organisation)
    allowed = rules.posters_of(organisation)
    form = PosterForm()
    form.set_members(rules.candidates(members, allowed))

    def allow() -> str:
        """Allow them, and give their name (read before the commit expires the row)."""
        return rules.allow(current_user, organisation, form.chosen_user_id()).user.display_name

    if done := formflow.save(form, allow):
        flash(f"{done.value} can now post opportunities for {organisation.name}. We have "
              "emailed them.", "success")
        return _to_posters(organisation)
    return formflow.render(
        "opportunities/posters.html", form, organisation=organisation, posters=allowed,
        member_ids={m.user_id for m in members}, button_form=ButtonForm(),
    )


@bp.post("/organisations/<key>/opportunity-posters/<int:poster_id>/remove")
@login_required
def remove_poster(key: str, poster_id: int) -> Response:
    organisation = _organisation(key)
    poster = found(rules.get(organisation, poster_id))
    name = poster.user.display_name
    return press(lambda: rules.withdraw(current_user, organisation, poster),
                 f"{name} can no longer post opportunities for {organisation.name}. We have "
                 "emailed them.", _to_posters(organisation))
