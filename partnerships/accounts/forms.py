"""Account forms, with GOV.UK widgets and error messages that say how to fix things."""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import (
    GovPasswordInput,
    GovTextInput,
)
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import Email, InputRequired

from ..forms import BaseForm, Checkbox, MaxLength, add_field_error, submit
from .models import EMAIL_MAX, NAME_MAX, User
from .passwords import password_problem, verify_password

EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.org"


def email_field(label: str = "Email address", hint: str = "",
                required: str = "Enter your email address") -> EmailField:
    """An email address box: required (``required`` is the message), no longer than the
    column, and in the correct format. Other domains' forms use it for an account's
    address too."""
    return EmailField(
        label,
        description=hint,
        widget=GovTextInput(),
        validators=[
            InputRequired(required),
            MaxLength(EMAIL_MAX, "Email address"),
            Email(EMAIL_FORMAT, check_deliverability=False),
        ],
    )


def _password_field(label: str, required: str | None = None, hint: str = "") -> PasswordField:
    """A password box; ``required`` is the message when it must be filled in."""
    return PasswordField(
        label,
        description=hint,
        widget=GovPasswordInput(),
        validators=[InputRequired(required)] if required is not None else [],
    )


def _new_password_field(label: str = "Create a password") -> PasswordField:
    return _password_field(
        label, "Enter a password",
        hint="Use 12 characters or more. Three or four random words together work well.",
    )


def _name_field() -> StringField:
    return StringField(
        "Full name",
        widget=GovTextInput(),
        validators=[InputRequired("Enter your full name"), MaxLength(NAME_MAX, "Full name")],
    )


class RegisterForm(BaseForm):
    name = _name_field()
    email = email_field(hint="We will send you a link to confirm it.")
    password = _new_password_field()
    submit = submit("Create account")

    def check(self) -> None:
        """The password policy (``passwords.password_problem``, as the service applies
        it), whatever the name and email say, so every problem shows on one submit."""
        _check_new_password(self.password, [self.name.data or "", self.email.data or ""])


class SignInForm(BaseForm):
    email = email_field()
    password = _password_field("Password", "Enter your password")
    remember = BooleanField("Keep me signed in on this device", widget=Checkbox())
    submit = submit("Sign in")


class ResetRequestForm(BaseForm):
    email = email_field(hint="Use the address you registered with.")
    submit = submit("Send reset link")


class ResetPasswordForm(BaseForm):
    password = _new_password_field("New password")
    submit = submit("Save new password")


class ProfileForm(BaseForm):
    name = _name_field()
    email = email_field(
        hint="If you change it, we will send a link to the new address. Your address "
        "changes when you follow the link."
    )
    # Checked by accounts.services.email_change_problem, only when the email changes.
    current_password = _password_field(
        "Current password", hint="Only needed if you change your email address."
    )
    submit = submit("Save changes")


class ChangePasswordForm(BaseForm):
    current_password = _password_field("Current password", "Enter your current password")
    password = _new_password_field("New password")
    submit = submit("Change password")

    def __init__(self, *args: Any, person: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.person = person

    def check(self) -> None:
        """The current password and the new one's strength, both on one submit (the
        service checks them again)."""
        if self.person is None:
            return
        if self.current_password.data and not verify_password(
                self.person.password_hash, self.current_password.data):
            add_field_error(self.current_password, "Your current password is not right")
        _check_new_password(self.password, [self.person.name, self.person.email])


def _check_new_password(field: PasswordField, user_inputs: list[str]) -> None:
    if field.data and not field.errors:
        problem = password_problem(field.data, user_inputs)
        if problem:
            add_field_error(field, problem)


class DeleteAccountForm(BaseForm):
    password = _password_field("Enter your password to confirm",
                               "Enter your password to delete your account")
    submit = submit("Delete my account")
