"""Local Partnerships: the application factory.

``create_app`` wires configuration, extensions, templates (our own first, then the
GOV.UK Frontend Jinja macros and govuk-frontend-wtf widgets), blueprints, error
handlers and CLI commands. Nothing at import time touches the database.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

from .config import Config, dev_secret_key, normalise_database_url

__all__ = ["create_app"]


def create_app(config: type[Config] | dict[str, Any] | None = None) -> Flask:
    """Build and return a configured Flask application."""
    from .links import App

    app = App(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        static_url_path="/assets",
        instance_relative_config=True,
    )
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.from_mapping(config)
    elif config is not None:
        app.config.from_object(config)

    _finish_config(app)
    from . import inputguard

    inputguard.register(app)  # before any route: ids and path text bounded, args cleaned
    _configure_templates(app)
    _init_extensions(app)
    _register_blueprints(app)

    from . import errors, security

    errors.register(app)
    security.register(app)
    from . import pagecache

    pagecache.register(app)  # after every other hook that decides whether a page is served

    from .cli import register as register_cli

    register_cli(app)
    return app


def _finish_config(app: Flask) -> None:
    """Fill defaults that depend on the instance folder, and refuse unsafe production."""
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'partnerships.sqlite'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    uploads = os.environ.get("UPLOAD_FOLDER", str(instance / "uploads"))
    app.config.setdefault("UPLOAD_FOLDER", uploads)
    is_production = app.config.get("ENV_NAME") == "production"
    if is_production and app.config.get("TRUSTED_HOSTS") is None:
        from .links import trusted_hosts

        app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config["BASE_URL"], None)
    if not app.config.get("SECRET_KEY"):
        if is_production:
            raise RuntimeError(
                "SECRET_KEY must be set in production. Generate one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        app.config["SECRET_KEY"] = dev_secret_key(instance)


def _configure_templates(app: Flask) -> None:
    from .templating import Template

    app.jinja_env.template_class = Template  # cheap macro imports (templating.py)
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(Path(app.root_path).parent / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    from govuk_frontend_wtf.main import WTFormsHelpers

    WTFormsHelpers(app)

    from . import template_helpers

    template_helpers.register(app)


def _init_extensions(app: Flask) -> None:
    from .extensions import csrf, db, htmx, limiter, login_manager, migrate

    db.init_app(app)
    from .transactions import configure_sqlite

    configure_sqlite(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = "Sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    from . import models  # noqa: F401  (register every model with the metadata)
    from .accounts.loader import load_user

    login_manager.user_loader(load_user)


def _register_blueprints(app: Flask) -> None:
    from .accounts.routes import bp as accounts_bp
    from .admin.routes import bp as admin_bp
    from .concerns.routes import bp as concerns_bp
    from .dashboard.routes import bp as dashboard_bp
    from .engagement.routes import bp as engagement_bp
    from .forums.routes import bp as forums_bp
    from .meetings.routes import bp as meetings_bp
    from .mous.routes import bp as mous_bp
    from .notifications.routes import bp as notifications_bp
    from .opendata.routes import bp as opendata_bp
    from .opportunities.routes import bp as opportunities_bp
    from .organisations.routes import bp as organisations_bp
    from .pages.routes import bp as pages_bp
    from .partnership.routes import bp as places_bp

    app.register_blueprint(pages_bp)
    app.register_blueprint(accounts_bp, url_prefix="/account")
    app.register_blueprint(organisations_bp, url_prefix="/organisations")
    app.register_blueprint(places_bp, url_prefix="/partnerships")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(forums_bp)  # /partnerships/<slug>/forums/..., /my/forums
    app.register_blueprint(mous_bp)  # /partnerships/<slug>/mous/...
    app.register_blueprint(opportunities_bp)  # /opportunities/..., /my/..., /placements/...
    app.register_blueprint(meetings_bp)  # /meetings/..., /partnerships/<slug>/meetings/, /my/...
    app.register_blueprint(dashboard_bp)  # /my/: Your Local Partnerships
    app.register_blueprint(notifications_bp)  # /account/notifications, /unsubscribe/...
    app.register_blueprint(opendata_bp)  # /api/v1/..., /open-data
    app.register_blueprint(engagement_bp)  # /partnerships/<slug>/record/, .../plan/<year>/
    app.register_blueprint(concerns_bp)  # /partnerships/<slug>/concerns/...
