"""Account forms, with GOV.UK widgets and error messages that say how to fix things."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import (
    GovPasswordInput,
    GovTextInput,
)
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import Email, InputRequired

from ..forms import BaseForm, Checkbox, MaxLength, submit

EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.org"


def _email_field(label: str = "Email address", hint: str | None = None) -> EmailField:
    return EmailField(
        label,
        description=hint,
        widget=GovTextInput(),
        validators=[
            InputRequired("Enter your email address"),
            MaxLength(254, "Email address"),
            Email(EMAIL_FORMAT, check_deliverability=False),
        ],
    )


def _new_password_field(label: str = "Create a password") -> PasswordField:
    return PasswordField(
        label,
        description="Use 12 characters or more. Three or four random words together work well.",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter a password")],
    )


class RegisterForm(BaseForm):
    name = StringField(
        "Full name",
        widget=GovTextInput(),
        validators=[InputRequired("Enter your full name"), MaxLength(120, "Full name")],
    )
    email = _email_field(hint="We will send you a link to confirm it.")
    password = _new_password_field()
    submit = submit("Create account")


class SignInForm(BaseForm):
    email = _email_field()
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter your password")],
    )
    remember = BooleanField("Keep me signed in on this device", widget=Checkbox())
    submit = submit("Sign in")


class ResetRequestForm(BaseForm):
    email = _email_field(hint="Use the address you registered with.")
    submit = submit("Send reset link")


class ResetPasswordForm(BaseForm):
    password = _new_password_field("New password")
    submit = submit("Save new password")


class ProfileForm(BaseForm):
    name = StringField(
        "Full name",
        widget=GovTextInput(),
        validators=[InputRequired("Enter your full name"), MaxLength(120, "Full name")],
    )
    email = _email_field(
        hint="If you change it, we will send a link to the new address. Your address "
        "changes when you follow the link."
    )
    # Checked by accounts.services.email_change_problem, only when the email changes.
    current_password = PasswordField(
        "Current password",
        description="Only needed if you change your email address.",
        widget=GovPasswordInput(),
    )
    submit = submit("Save changes")


class ChangePasswordForm(BaseForm):
    current_password = PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter your current password")],
    )
    password = _new_password_field("New password")
    submit = submit("Change password")


class DeleteAccountForm(BaseForm):
    password = PasswordField(
        "Enter your password to confirm",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter your password to delete your account")],
    )
    submit = submit("Delete my account")


class ConfirmForm(BaseForm):
    """A button-only form (sign out, resend confirmation): CSRF and nothing else."""

    submit = submit("Continue")
