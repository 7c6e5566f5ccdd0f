"""Migrations: upgrade from an empty database works, and matches the models exactly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from partnerships import create_app
from partnerships.extensions import db
from tests.conftest import app_settings
from tests.databases import fresh_database


@pytest.fixture
def migrated_app(tmp_path):
    """An app on an empty database of the kind the suite runs on (a SQLite file or a new
    PostgreSQL database); its connections are closed before the database is dropped."""
    with fresh_database(tmp_path, "migrated") as url:
        app = create_app(app_settings(SQLALCHEMY_DATABASE_URI=url))
        yield app
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()


def test_upgrade_from_empty_then_models_and_migrations_agree(migrated_app):
    app = migrated_app
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_as_batch": True}
            )
            differences = compare_metadata(context, db.metadata)
        assert differences == [], f"models and migrations differ: {differences}"


def test_downgrade_to_empty_and_upgrade_again(migrated_app):
    app = migrated_app
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "users" in inspect(db.engine).get_table_names()


def test_flask_db_check_finds_nothing_to_migrate(migrated_app):
    app = migrated_app
    with app.app_context():
        upgrade()
    result = app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


def test_the_sort_name_migration_fills_it_for_existing_organisations(migrated_app):
    """0011 adds ``organisations.sort_name`` and fills it from the names already there."""
    from sqlalchemy import text

    app = migrated_app
    with app.app_context():
        upgrade(revision="0010_outbox_retries")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO organisations (slug, name, org_type, income_band, description, "
                "email_domains, require_manager_email_domain, created_at, updated_at) VALUES "
                "('eastside', 'Eastside ÉCOLE Trust', 'charity', 'not_said', '', '', FALSE, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        upgrade(revision="0011_bench_indexes")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT sort_name FROM organisations")
                                      ).scalar_one() == "eastside école trust"
