"""Account pages. Thin: load, authorise, validate, call the service, commit, redirect."""

from __future__ import annotations

from typing import cast

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from .. import formflow, transactions
from ..extensions import db, limiter
from ..formflow import Page, see_other
from ..forms import ButtonForm
from ..redirects import safe_next_url
from . import services
from .forms import (
    ChangePasswordForm,
    DeleteAccountForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
    SignInForm,
)
from .models import EMAIL_MAX, User
from .routes import bp
from .tokens import TokenError


def _signin_limit() -> str:
    return str(current_app.config["SIGNIN_RATE_LIMIT"])


def _email_key() -> str:
    """Rate-limit key for one account, whatever address the attempts come from."""
    return "email:" + services.normalise_email(request.form.get("email", ""))


def _account_key() -> str:
    """Rate-limit key for the signed-in account (its address for anyone else), so forms
    that check the current password cannot be used to guess it from a stolen session."""
    if current_user.is_authenticated:
        return f"account:{current_user.id}"
    return "address:" + (request.remote_addr or "")


def _password_check_limit() -> str:
    """Password-checking forms of a signed-in account: enough for typing mistakes, far
    too few to guess a password."""
    return str(current_app.config["PASSWORD_CHECK_RATE_LIMIT"])


def _me() -> User:
    """The signed-in user itself (not Flask-Login's proxy), for services."""
    # Flask-Login's proxy is typed Any (typings/flask_login); behind login_required it
    # holds our User.
    return cast(User, current_user._get_current_object())


def _user_agent() -> str:
    return request.user_agent.string


def _stay_signed_in(user: User) -> None:
    """After other sessions end: sign this browser in again only if its session id
    changed (a session without a device row gets one)."""
    if session.get("_user_id") != user.get_id():
        login_user(user)


def _link_problem(error: TokenError, purpose: str) -> tuple[str, int]:
    """The page for an emailed link that cannot be used (400), saying why."""
    return render_template(
        "accounts/link_problem.html", message=error.message, expired=error.expired,
        purpose=purpose,
    ), 400


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def register() -> Page:
    """Create an account. A safe ``next`` (e.g. a forum invitation) is where the
    confirmation link leads; ``email`` pre-fills the address an invitation was sent to.

    The answer is the same whether or not the address already has an account ("check
    your email", and nobody signed in), so it tells no one which addresses do. The
    person signs in by following the link, or with their password."""
    next_url = safe_next_url(request.args.get("next"), "")
    if current_user.is_authenticated:
        return redirect(next_url or url_for("dashboard.index"), code=303)
    form = RegisterForm()
    if request.method == "GET" and request.args.get("email"):
        form.email.data = request.args["email"][:EMAIL_MAX]
    if formflow.save(form, lambda: services.register(
            form.name.data or "", form.email.data or "", form.password.data or "", next_url)):
        session["registered_email"] = services.normalise_email(form.email.data or "")
        return see_other("accounts.check_email")
    return formflow.render("accounts/register.html", form)


@bp.get("/check-your-email")
def check_email() -> Page:
    if current_user.is_authenticated:
        email = current_user.email
    else:
        email = session.get("registered_email")
        if not email:
            return see_other("accounts.sign_in")
    return render_template("accounts/check_email.html", form=ButtonForm(), email=email)


@bp.post("/confirm/resend")
@login_required
@limiter.limit("5 per hour")
def resend_confirmation() -> Response:
    form = ButtonForm()
    if form.validate_on_submit() and not current_user.is_confirmed:
        formflow.apply(lambda: services.send_confirmation(current_user))
        flash(f"We have sent a new link to {current_user.email}.", "success")
    return see_other("accounts.check_email")


@bp.get("/confirm/<token>")
@transactions.writes
def confirm(token: str) -> Page:
    """Confirm an address. The first use of the link also signs the person in on this
    device (it proves the address, as a reset link does), unless someone already is."""
    try:
        user, newly_confirmed = services.confirm_email(token)
    except TokenError as error:
        db.session.rollback()
        return _link_problem(error, "confirm")
    next_url = safe_next_url(request.args.get("next"), url_for("dashboard.index"))
    sign_in_here = newly_confirmed and not current_user.is_authenticated
    if sign_in_here:
        services.start_session(user, _user_agent())
    db.session.commit()
    flash("Your email address is confirmed. Thank you.", "success")
    if sign_in_here:
        login_user(user)
        return redirect(next_url, code=303)
    if current_user.is_authenticated and current_user.id == user.id:
        return redirect(next_url, code=303)
    return see_other("accounts.sign_in", next=request.args.get("next"))


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_signin_limit, methods=["POST"])
@limiter.limit(_signin_limit, methods=["POST"], key_func=_email_key)
def sign_in() -> Page:
    next_url = safe_next_url(request.args.get("next"), url_for("dashboard.index"))
    if current_user.is_authenticated:
        return redirect(next_url, code=303)
    form = SignInForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data or "", form.password.data or "")
        if user is None:
            db.session.rollback()
            form.add_error(
                "email",
                "Enter a correct email address and password. The password is case sensitive.",
            )
        else:
            services.start_session(user, _user_agent())
            db.session.commit()
            login_user(user, remember=bool(form.remember.data))
            return redirect(next_url, code=303)
    return formflow.render("accounts/sign_in.html", form)


@bp.get("/sign-out")
def sign_out_confirm() -> Page:
    if not current_user.is_authenticated:
        return see_other("pages.home")
    return render_template("accounts/sign_out.html", form=ButtonForm())


@bp.post("/sign-out")
def sign_out() -> Response:
    """Sign out: the device session ends on the server too, so copies of the session
    or "remember me" cookie stop working."""
    form = ButtonForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            formflow.apply(lambda: services.sign_out(_me()))
        logout_user()
        flash("You have signed out.", "success")
    return see_other("pages.home")


@bp.post("/sign-out-other-devices")
@login_required
def sign_out_other_devices() -> Response:
    form = ButtonForm()
    if form.validate_on_submit():
        me = _me()
        done = formflow.apply(lambda: services.sign_out_other_devices(me, _user_agent()))
        if isinstance(done, formflow.Done):
            _stay_signed_in(me)
            if ended := done.value:
                flash(f"You have signed out of {_plural(ended, 'other device')}.", "success")
            else:
                flash("You were not signed in on any other device.", "success")
    return see_other("accounts.profile")


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def reset_request() -> Page:
    form = ResetRequestForm()
    if formflow.save(form, lambda: services.request_password_reset(form.email.data or "")):
        return render_template("accounts/reset_sent.html", email=form.email.data)
    return formflow.render("accounts/reset_request.html", form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Page:
    try:
        services.user_for_reset_token(token)
    except TokenError as error:
        return _link_problem(error, "reset")
    form = ResetPasswordForm()
    if done := formflow.save(form, lambda: services.reset_password(
            token, form.password.data or "", _user_agent())):
        login_user(done.value)
        flash("Your password has been changed. You are signed in.", "success")
        return see_other("accounts.profile")
    return formflow.render("accounts/reset_password.html", form)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
@limiter.limit(_password_check_limit, methods=["POST"], key_func=_account_key)
def profile() -> Page:
    """Name changes at once; a new email address needs the current password and
    changes only when the link sent to it is followed."""
    me = _me()
    form = ProfileForm(obj=me)
    if form.is_submitted():
        if form.validate():
            name_before = me.name
            if done := formflow.save(form, lambda: services.update_profile(
                    me, form.name.data or "", form.email.data or "",
                    form.current_password.data or "",
            ), validate=False):
                if new_email := done.value:
                    saved = "Your name is saved. " if me.name != name_before else ""
                    flash(f"{saved}We have sent a link to {new_email}. Your email address "
                          "changes when you follow it.", "success")
                else:
                    flash("Your details are saved.", "success")
                return see_other("accounts.profile")
        else:
            # Report every problem at once: the password too, if the address changes.
            problem = services.email_change_problem(
                me, form.email.data or "", form.current_password.data or ""
            )
            if problem:
                form.add_error("current_password", problem)
    return formflow.render(
        "accounts/profile.html", form, user=me, other_devices=services.other_devices(me),
    )


@bp.get("/email/confirm/<token>")
@transactions.writes
def confirm_email_change(token: str) -> Page:
    try:
        user = services.confirm_email_change(token)
    except TokenError as error:
        db.session.rollback()
        return _link_problem(error, "email_change")
    db.session.commit()
    flash(f"Your email address is now {user.email}.", "success")
    if current_user.is_authenticated and current_user.id == user.id:
        return see_other("accounts.profile")
    return see_other("accounts.sign_in")


@bp.route("/password", methods=["GET", "POST"])
@login_required
@limiter.limit(_password_check_limit, methods=["POST"], key_func=_account_key)
def change_password() -> Page:
    me = _me()
    form = ChangePasswordForm(person=me)
    if formflow.save(form, lambda: services.change_password(
            me, form.current_password.data or "", form.password.data or "", _user_agent())):
        _stay_signed_in(me)  # this session only
        flash("Your password has been changed. Other devices have been signed out.", "success")
        return see_other("accounts.profile")
    return formflow.render("accounts/change_password.html", form)


@bp.route("/delete", methods=["GET", "POST"])
@login_required
@limiter.limit(_password_check_limit, methods=["POST"], key_func=_account_key)
def delete() -> Page:
    form = DeleteAccountForm()
    blockers = services.deletion_blockers(current_user)
    if formflow.save(form, lambda: services.delete_account(_me(), form.password.data or "")):
        logout_user()
        flash(
            "Your account has been deleted. What you wrote stays, shown as by a former "
            "member.",
            "success",
        )
        return see_other("pages.home")
    return formflow.render("accounts/delete.html", form, blockers=blockers)
