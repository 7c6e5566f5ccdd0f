"""Account pages. Thin: load, authorise, validate, call the service, commit, redirect."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from ..errors import ValidationError
from ..extensions import db, limiter
from ..redirects import safe_next_url
from . import bp, services
from .forms import (
    ChangePasswordForm,
    ConfirmForm,
    DeleteAccountForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
    SignInForm,
)
from .tokens import TokenError


def _signin_limit() -> str:
    return current_app.config["SIGNIN_RATE_LIMIT"]


def _email_key() -> str:
    """Rate-limit key for one account, whatever address the attempts come from."""
    return "email:" + services.normalise_email(request.form.get("email", ""))


def _see_other(endpoint: str, **values: object) -> Response:
    return redirect(url_for(endpoint, **values), code=303)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def register() -> str | Response | tuple[str, int]:
    """Create an account. A safe ``next`` (e.g. a forum invitation) is where the person
    goes afterwards; ``email`` pre-fills the address an invitation was sent to."""
    next_url = safe_next_url(request.args.get("next"), "")
    if current_user.is_authenticated:
        return redirect(next_url or url_for("accounts.profile"), code=303)
    form = RegisterForm()
    if request.method == "GET" and request.args.get("email"):
        form.email.data = request.args["email"][:254]
    if form.validate_on_submit():
        try:
            user = services.register(form.name.data, form.email.data, form.password.data)
        except ValidationError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            db.session.commit()
            login_user(user)
            if next_url:
                flash(f"Your account is ready. We have sent a link to {user.email} to confirm "
                      "your email address.", "success")
                return redirect(next_url, code=303)
            return _see_other("accounts.check_email")
    status = 422 if form.errors else 200
    return render_template("accounts/register.html", form=form), status


@bp.get("/check-your-email")
@login_required
def check_email() -> str:
    return render_template("accounts/check_email.html", form=ConfirmForm())


@bp.post("/confirm/resend")
@login_required
@limiter.limit("5 per hour")
def resend_confirmation() -> Response:
    form = ConfirmForm()
    if form.validate_on_submit() and not current_user.is_confirmed:
        services.send_confirmation(current_user)
        db.session.commit()
        flash(f"We have sent a new link to {current_user.email}.", "success")
    return _see_other("accounts.check_email")


@bp.get("/confirm/<token>")
def confirm(token: str) -> str | Response | tuple[str, int]:
    try:
        user = services.confirm_email(token)
    except TokenError as error:
        db.session.rollback()
        return render_template(
            "accounts/link_problem.html", message=error.message, expired=error.expired,
            purpose="confirm",
        ), 400
    db.session.commit()
    flash("Your email address is confirmed. Thank you.", "success")
    if current_user.is_authenticated and current_user.id == user.id:
        return _see_other("accounts.profile")
    return _see_other("accounts.sign_in")


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_signin_limit, methods=["POST"])
@limiter.limit(_signin_limit, methods=["POST"], key_func=_email_key)
def sign_in() -> str | Response | tuple[str, int]:
    next_url = safe_next_url(request.args.get("next"), url_for("accounts.profile"))
    if current_user.is_authenticated:
        return redirect(next_url, code=303)
    form = SignInForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            db.session.rollback()
            form.add_error(
                "email",
                "Enter a correct email address and password. Both are case sensitive.",
            )
        else:
            db.session.commit()
            login_user(user, remember=bool(form.remember.data))
            return redirect(next_url, code=303)
    status = 422 if form.errors else 200
    return render_template("accounts/sign_in.html", form=form), status


@bp.get("/sign-out")
def sign_out_confirm() -> str | Response:
    if not current_user.is_authenticated:
        return _see_other("pages.home")
    return render_template("accounts/sign_out.html", form=ConfirmForm())


@bp.post("/sign-out")
def sign_out() -> Response:
    form = ConfirmForm()
    if form.validate_on_submit():
        logout_user()
        flash("You have signed out.", "success")
    return _see_other("pages.home")


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def reset_request() -> str | Response | tuple[str, int]:
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        return render_template("accounts/reset_sent.html", email=form.email.data)
    status = 422 if form.errors else 200
    return render_template("accounts/reset_request.html", form=form), status


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> str | Response | tuple[str, int]:
    try:
        services.user_for_reset_token(token)
    except TokenError as error:
        return render_template(
            "accounts/link_problem.html", message=error.message, expired=error.expired,
            purpose="reset",
        ), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.reset_password(token, form.password.data)
        except ValidationError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            db.session.commit()
            login_user(user)
            flash("Your password has been changed. You are signed in.", "success")
            return _see_other("accounts.profile")
    status = 422 if form.errors else 200
    return render_template("accounts/reset_password.html", form=form), status


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile() -> str | Response | tuple[str, int]:
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        try:
            email_changed = services.update_profile(current_user, form.name.data, form.email.data)
        except ValidationError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            db.session.commit()
            if email_changed:
                flash(
                    f"Your details are saved. We have sent a link to {current_user.email}: "
                    "follow it to confirm your new address.",
                    "success",
                )
            else:
                flash("Your details are saved.", "success")
            return _see_other("accounts.profile")
    status = 422 if form.errors else 200
    return render_template("accounts/profile.html", form=form, user=current_user), status


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> str | Response | tuple[str, int]:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.password.data)
        except ValidationError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # keep this session only
            flash("Your password has been changed. Other devices have been signed out.", "success")
            return _see_other("accounts.profile")
    status = 422 if form.errors else 200
    return render_template("accounts/change_password.html", form=form), status


@bp.route("/delete", methods=["GET", "POST"])
@login_required
def delete() -> str | Response | tuple[str, int]:
    form = DeleteAccountForm()
    blockers = services.deletion_blockers(current_user)
    if form.validate_on_submit():
        try:
            services.delete_account(current_user, form.password.data)
        except ValidationError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            db.session.commit()
            logout_user()
            flash(
                "Your account has been deleted. What you wrote stays, shown as by a former "
                "member.",
                "success",
            )
            return _see_other("pages.home")
    status = 422 if form.errors else 200
    return render_template("accounts/delete.html", form=form, blockers=blockers), status
