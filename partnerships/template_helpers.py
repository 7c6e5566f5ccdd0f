"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request, url_for
from flask_login import current_user

from . import permissions
from .text import render_markdown
from .timeutil import format_day, format_deadline, format_uk


def _nav_items() -> list[dict[str, Any]]:
    """Service navigation, with the current section marked for screen readers."""
    path = request.path
    items: list[dict[str, Any]] = [
        {"href": url_for("partnership.index"), "text": "Partnerships", "prefix": "/partnerships"},
        {"href": url_for("organisations.index"), "text": "Organisations",
         "prefix": "/organisations"},
        {"href": url_for("opportunities.index"), "text": "Secondments",
         "prefix": "/opportunities"},
    ]
    if permissions.is_site_admin(current_user):
        items.append({"href": url_for("admin.index"), "text": "Admin", "prefix": "/admin"})
    if current_user.is_authenticated:
        # "Your page" (/my/) first: where signing in lands, with what needs them.
        items.append({"href": url_for("dashboard.index"), "text": "Your page",
                      "prefix": "/my/"})
        items.append({"href": url_for("forums.mine"), "text": "Forums",
                      "prefix": "/my/forums"})
        items.append({"href": url_for("meetings.mine"), "text": "Meetings",
                      "prefix": "/my/meetings"})
        items.append({"href": url_for("accounts.profile"), "text": "Your account",
                      "prefix": "/account"})
        items.append({"href": url_for("accounts.sign_out_confirm"), "text": "Sign out",
                      "prefix": "/account/sign-out"})
    else:
        items.append({"href": url_for("accounts.sign_in"), "text": "Sign in",
                      "prefix": "/account/sign-in"})
    best = max(
        (item for item in items if path.startswith(item["prefix"])),
        key=lambda item: len(item["prefix"]),
        default=None,
    )
    for item in items:
        item["active"] = item is best
        item.pop("prefix")
    return items


def meeting_host_url(meeting: Any) -> str:
    """The page of a meeting's host: its forum, or its partnership for the
    partnership's own meetings (breadcrumbs, "back to")."""
    if meeting.forum is not None:
        return url_for("forums.show", slug=meeting.partnership.slug,
                       forum_slug=meeting.forum.slug)
    return url_for("partnership.show", slug=meeting.partnership.slug)


def meetings_url(meeting: Any) -> str:
    """The list of meetings a meeting belongs to: its forum's, or its partnership's."""
    if meeting.forum is not None:
        return url_for("meetings.forum_meetings", slug=meeting.partnership.slug,
                       forum_slug=meeting.forum.slug)
    return url_for("meetings.partnership_meetings", slug=meeting.partnership.slug)


def register(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["uk_datetime"] = lambda v: format_uk(v, "datetime")
    app.jinja_env.filters["uk_date"] = lambda v: format_uk(v, "date")
    app.jinja_env.filters["uk_time"] = lambda v: format_uk(v, "time")
    app.jinja_env.filters["uk_day"] = format_day
    app.jinja_env.filters["uk_deadline"] = format_deadline
    app.jinja_env.globals["permissions"] = permissions
    app.jinja_env.globals["nav_items"] = _nav_items
    app.jinja_env.globals["meeting_host_url"] = meeting_host_url
    app.jinja_env.globals["meetings_url"] = meetings_url

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"service_name": current_app.config["SERVICE_NAME"]}
