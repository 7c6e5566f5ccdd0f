"""The email settings page and the unsubscribe pages. Thin: load, validate, call the
service, commit, redirect."""

from __future__ import annotations

from typing import cast

from flask import flash, render_template, request
from flask_login import current_user, login_required

from .. import formflow
from ..accounts.models import User
from ..extensions import csrf, db
from ..formflow import Page, see_other
from ..mail.kinds import Sort, of_sort
from . import services, unsubscribe
from .forms import field_name, settings_form
from .models import Level
from .routes import bp


def _me() -> User:
    return cast(User, current_user._get_current_object())


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def settings() -> Page:
    """One form: a level per forum and partnership, the default for new ones, and the
    personal kinds. Takes effect for the next email queued."""
    me = _me()
    scopes = services.my_scopes(me)
    levels = services.levels(me, scopes)
    off = services.kinds_off(me.id)
    data: dict[str, object] = {field_name(scope): levels[scope.key].value for scope in scopes}
    data["default"] = services.default_level(me.id).value
    data["personal"] = [entry.kind.value for entry in of_sort(Sort.PERSONAL)
                        if entry.kind.value not in off]
    form = settings_form(scopes, data=data)
    if formflow.save(form, lambda: services.save(
            me, form.chosen(), Level(form.default.data), form.on())):
        flash("Your email settings are saved. They apply to the next email we send you.",
              "success")
        return see_other("notifications.settings")
    return formflow.render("notifications/settings.html", form,
                           essential=of_sort(Sort.ESSENTIAL))


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the protection; mail providers post with no session
def unsubscribe_link(token: str) -> Page:
    """GET: a page with one button (a link scanner following the link changes nothing).
    POST (the button, or a mail provider's RFC 8058 one-click ``List-Unsubscribe=
    One-Click``): turn it off and say so. No sign-in either way."""
    try:
        target = unsubscribe.read(token)
    except unsubscribe.LinkProblem as problem:
        return render_template("notifications/link_problem.html",
                               message=str(problem)), 400
    if request.method == "POST":
        unsubscribe.apply(target)
        db.session.commit()
        return render_template("notifications/unsubscribed.html", target=target)
    return render_template("notifications/unsubscribe.html", target=target, token=token)
