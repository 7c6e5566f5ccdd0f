"""Organisations: public directory, profiles, join requests and admins."""
