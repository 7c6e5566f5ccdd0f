"""Accounts: register, confirm email, sign in and out, reset password, profile, delete."""
