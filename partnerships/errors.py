"""Domain errors raised by services, and the styled (htmx-aware) error pages.

Services raise ``PermissionDenied``, ``NotFound``, ``Conflict`` or
``ValidationError``; views either let them through (403/404/409 pages) or catch
``ValidationError`` to show it against the right form field. ``permissions.refuse``
raises two kinds of ``PermissionDenied`` of its own for hidden things: ``SignInFirst``
(the sign-in page, then back) and ``MembersOnly`` (whose it is and how to join).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import (
    Flask,
    Response,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from .extensions import db, htmx
from .htmx import hx_redirect
from .links import is_own_address
from .opendata.problems import API_PREFIX, http_problem
from .redirects import safe_next_url


class DomainError(Exception):
    """Base class for errors that services raise for views to turn into responses."""

    status_code = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class PermissionDenied(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class ValidationError(DomainError):
    status_code = 422


ERROR_TITLES = {
    400: "Sorry, there is a problem with that request",
    401: "Sign in to see this page",
    403: "You do not have permission to see this page",
    404: "Page not found",
    405: "That action is not allowed here",
    409: "That has already changed",
    413: "That file is too big",
    422: "There is a problem with what you sent",
    429: "Too many attempts",
    500: "Sorry, there is a problem with the service",
}


def back_url() -> str:
    """Where "Go back" leads on an error page: the page of this site the request came
    from (a fresh copy of it, so it shows what changed), else the home page."""
    parts = urlsplit(request.referrer or "")
    if is_own_address(request.referrer or "", current_app) and parts.path.startswith("/"):
        return safe_next_url(urlunsplit(("", "", parts.path, parts.query, "")), "/")
    return "/"


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.path.endswith(".json")


def render_error(status: int, message: str | None = None) -> tuple[Response, int] | Response:
    """Render the error page (or a short fragment for htmx, JSON for the JSON exports,
    or RFC 9457 problem details for the open data API)."""
    if request.path.startswith(API_PREFIX):
        return http_problem(status, message)
    title = ERROR_TITLES.get(status, "Sorry, there is a problem")
    if _wants_json():
        return jsonify({"error": title, "message": message or ""}), status
    template = "errors/_fragment.html" if request.headers.get("HX-Request") else "errors/page.html"
    response = make_response(
        render_template(template, status=status, title=title, message=message,
                        back_url=back_url()), status
    )
    response.headers.add("Vary", "HX-Request")
    return response


def register(app: Flask) -> None:
    """Attach error handlers for HTTP errors and domain errors."""

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> tuple[Response, int] | Response:
        return render_error(
            400,
            "This form has expired, or was sent from somewhere other than this site.",
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[Response, int] | Response:
        status = error.code or 500
        # Show a description only when a view gave its own (abort(403, "why")),
        # never Werkzeug's generic technical text.
        custom = error.description != type(error).description
        response = app.make_response(render_error(status, error.description if custom else None))
        if status == 405:
            allow = dict(error.get_headers()).get("Allow")
            if allow:
                response.headers["Allow"] = allow
        return response

    @app.errorhandler(DomainError)
    def _domain(error: DomainError) -> tuple[Response, int] | Response:
        db.session.rollback()
        return render_error(error.status_code, error.message)

    from .permissions.members_only import MembersOnly, SignInFirst

    @app.errorhandler(SignInFirst)
    def _sign_in_first(error: SignInFirst) -> tuple[Response, int] | BaseResponse:
        """Signed out, asking for something for members (an email link, say): the
        sign-in page says so and, for a page one can come back to, brings them back."""
        db.session.rollback()
        if _wants_json():
            return render_error(401, error.message)
        flash(error.message, "info")
        back = request.full_path.rstrip("?") if request.method in ("GET", "HEAD") else None
        location = url_for("accounts.sign_in", next=back)
        # 302, as Flask-Login's own "sign in first"; htmx is sent the whole page there.
        return hx_redirect(location) if htmx else redirect(location)

    @app.errorhandler(MembersOnly)
    def _members_only(error: MembersOnly) -> tuple[Response, int] | Response:
        """Signed in without access: who the thing is for and how to join, never what
        the thing is (no title, no content)."""
        db.session.rollback()
        if _wants_json():
            return render_error(403, error.message)
        template = ("errors/_members_only.html" if request.headers.get("HX-Request")
                    else "errors/members_only.html")
        response = make_response(render_template(
            template, status=403, title=ERROR_TITLES[403], message=error.message,
            audience=error.audience), 403)
        response.headers.add("Vary", "HX-Request")
        return response

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def _bad_value(error: Exception) -> tuple[Response, int] | Response:
        """The backstop for a value the database cannot hold or compare: a number past
        its INTEGER (PostgreSQL's "integer out of range", SQLite's ``OverflowError``), NUL
        in text, text longer than its column. Such a value came from the request, so the
        answer is a 400, not a 500. The bounds belong earlier (``inputguard``, ``bounds``,
        the forms and services): this is logged as an error so that a missing one is
        found and added, and the tests fail on it."""
        db.session.rollback()
        app.logger.error("Bad input reached the database (%s %s): %s", request.method,
                         request.path, error, exc_info=error)
        return render_error(400)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Response, int] | Response:
        if isinstance(error, HTTPException):  # pragma: no cover - handled above
            return _http(error)
        app.logger.exception("Unhandled error")
        db.session.rollback()
        if app.config.get("TESTING") and app.config.get("PROPAGATE_EXCEPTIONS") is not False:
            raise error
        return render_error(500)
