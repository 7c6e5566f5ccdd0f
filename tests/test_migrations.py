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


def test_the_partnership_meetings_migration_gives_existing_meetings_their_partnership(
        migrated_app):
    """0015 adds ``partnership_id`` to meetings and series, filled from their forum, and
    lets ``forum_id`` be empty (a meeting of the partnership itself). On SQLite the
    tables are rebuilt with foreign keys off (migrations/env.py), so nothing cascades."""
    from sqlalchemy import text

    now = "CURRENT_TIMESTAMP"
    app = migrated_app
    with app.app_context():
        upgrade(revision="0013_submitted_forms")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO partnerships (slug, name, place, description, created_at, "
                f"updated_at) VALUES ('p', 'P', 'Place', '', {now}, {now})"))
            partnership_id = connection.execute(text("SELECT id FROM partnerships")
                                                ).scalar_one()
            connection.execute(text(
                "INSERT INTO forums (partnership_id, slug, name, purpose, theme, tags, "
                "membership_policy, visibility, notice_days, created_at, updated_at) VALUES "
                f"({partnership_id}, 'f', 'F', '', '', '', 'open', 'public', 5, {now}, {now})"))
            forum_id = connection.execute(text("SELECT id FROM forums")).scalar_one()
            connection.execute(text(
                "INSERT INTO meeting_series (forum_id, kind, first_date, local_start, "
                "local_end, count, created_at, updated_at) VALUES "
                f"({forum_id}, 'every_n_weeks', '2027-01-05', '10:00:00', '11:00:00', 2, "
                f"{now}, {now})"))
            connection.execute(text(
                "INSERT INTO meetings (forum_id, title, description, starts_at, ends_at, "
                "format, venue_name, venue_address, parking, public_transport, access_notes, "
                "joining_url, joining_details, places_taken, visibility, status, "
                "status_reason, agenda_status, minutes_status, minutes_summary, sequence, "
                f"changed_at, created_at, updated_at) VALUES ({forum_id}, 'M', '', "
                "'2027-01-05 10:00:00+00:00', '2027-01-05 11:00:00+00:00', 'online', '', '', "
                "'', '', '', 'https://x.example', '', 0, 'public', 'scheduled', '', 'draft', "
                f"'none', '', 0, {now}, {now}, {now})"))
            meeting_id = connection.execute(text("SELECT id FROM meetings")).scalar_one()
            connection.execute(text(
                "INSERT INTO agenda_items (meeting_id, position, title, presenter_name, "
                f"notes, minutes, created_at, updated_at) VALUES ({meeting_id}, 1, 'Item', "
                f"'', '', '', {now}, {now})"))
        upgrade()
        with db.engine.connect() as connection:
            for table in ("meetings", "meeting_series"):
                assert connection.execute(text(f"SELECT partnership_id FROM {table}")
                                          ).scalar_one() == partnership_id
            assert connection.execute(text("SELECT notice_days FROM partnerships")
                                      ).scalar_one() == 5
            # Rebuilding the tables did not cascade: the meeting keeps its agenda.
            assert connection.execute(text("SELECT meeting_id FROM agenda_items")
                                      ).scalar_one() == meeting_id
        downgrade(revision="0013_submitted_forms")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT forum_id FROM meetings")
                                      ).scalar_one() == forum_id
            assert connection.execute(text("SELECT count(*) FROM agenda_items")
                                      ).scalar_one() == 1


def test_the_member_listing_migration_fills_the_copies_for_existing_members(migrated_app):
    """0023 gives each membership its organisation's sector group, size and sort name."""
    from sqlalchemy import text

    now = "CURRENT_TIMESTAMP"
    app = migrated_app
    with app.app_context():
        upgrade(revision="0022_partnership_calendar_index")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO partnerships (slug, name, place, description, created_at, "
                f"updated_at) VALUES ('p', 'P', 'Place', '', {now}, {now})"))
            for slug, name, org_type, band in (
                    ("council", "Eastside Council", "local_authority", "over_100m"),
                    ("trust", "Eastside ÉCOLE Trust", "charity", "10k_100k"),
                    ("firm", "Eastside Firm", "business", "not_said")):
                connection.execute(text(
                    "INSERT INTO organisations (slug, name, sort_name, org_type, income_band, "
                    "description, email_domains, require_manager_email_domain, created_at, "
                    f"updated_at) VALUES ('{slug}', '{name}', '{name.lower()}', '{org_type}', "
                    f"'{band}', '', '', FALSE, {now}, {now})"))
            connection.execute(text(
                "INSERT INTO partnership_members (partnership_id, organisation_id, status, "
                "message, decline_reason, created_at, updated_at) SELECT partnerships.id, "
                f"organisations.id, 'active', '', '', {now}, {now} FROM partnerships, "
                "organisations"))
        upgrade(revision="0023_member_listing")
        with db.engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT organisations.slug, sector, is_small, partnership_members.sort_name "
                "FROM partnership_members JOIN organisations ON organisations.id = "
                "organisation_id ORDER BY organisations.slug")).all()
        assert [(slug, sector, bool(small), name) for slug, sector, small, name in rows] == [
            ("council", "public", False, "eastside council"),
            ("firm", "other", False, "eastside firm"),
            ("trust", "vcse", True, "eastside école trust")]


def test_the_forum_member_count_migration_counts_existing_members(migrated_app):
    """0024 gives each forum the count of its active members."""
    from sqlalchemy import text

    now = "CURRENT_TIMESTAMP"
    app = migrated_app
    with app.app_context():
        upgrade(revision="0023_member_listing")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO partnerships (slug, name, place, description, created_at, "
                f"updated_at) VALUES ('p', 'P', 'Place', '', {now}, {now})"))
            for slug in ("busy", "quiet"):
                connection.execute(text(
                    "INSERT INTO forums (partnership_id, slug, name, purpose, theme, tags, "
                    "membership_policy, visibility, notice_days, created_at, updated_at) "
                    f"SELECT id, '{slug}', '{slug}', '', '', '', 'open', 'public', 5, {now}, "
                    f"{now} FROM partnerships"))
            for n, status in enumerate(("active", "active", "left", "pending")):
                connection.execute(text(
                    "INSERT INTO users (email, name, is_site_admin, session_token, created_at, "
                    f"updated_at) VALUES ('u{n}@example.org', 'U{n}', FALSE, 't{n}', {now}, "
                    f"{now})"))
                connection.execute(text(
                    "INSERT INTO forum_members (forum_id, user_id, status, introduction, "
                    "reason, created_at, updated_at) SELECT forums.id, users.id, "
                    f"'{status}', '', '', {now}, {now} FROM forums, users WHERE forums.slug "
                    f"= 'busy' AND users.email = 'u{n}@example.org'"))
        upgrade(revision="0024_forum_member_count")
        with db.engine.connect() as connection:
            assert dict(connection.execute(text(
                "SELECT slug, member_count FROM forums")).tuples().all()) == {
                    "busy": 2, "quiet": 0}
