"""Accounts: register, confirm email, sign in and out, reset password, profile, delete."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)

from . import views  # noqa: E402,F401
