"""Command-line tasks: ``flask seed demo`` and ``scale``, ``flask outbox send`` and
``retry``, ``flask reminders send``, ``flask digests send``, ``flask uploads prune``."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from . import transactions
from .extensions import db

seed_cli = AppGroup("seed", help="Load demo data.")
outbox_cli = AppGroup("outbox", help="Send queued email; requeue email that failed.")
reminders_cli = AppGroup("reminders", help="Send due reminders (run daily by cron).")
digests_cli = AppGroup("digests", help="Send daily and weekly digests (run hourly by cron).")
uploads_cli = AppGroup("uploads", help="Look after uploaded files.")


@seed_cli.command("demo")
def seed_demo() -> None:
    """Empty the database and load the Northbridge demo (run it again to put the demo back)."""
    if current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException("Refusing to load demo data: APP_ENV is production.")
    from .seed import load_demo

    with transactions.writing():
        summary = load_demo()
        db.session.commit()
    # Files uploaded before the database was emptied (say an MoU attachment added during
    # a walkthrough) are no longer referenced: remove them now, whatever their age.
    from datetime import timedelta

    from .uploads import prune

    prune(timedelta(0))
    click.echo("Demo data loaded:")
    for what, n in summary.items():
        click.echo(f"  {what}: {n}")


@seed_cli.command("scale")
@click.option("--fraction", default=1.0, show_default=True,
              type=click.FloatRange(min=0, min_open=True, max=10),
              help="Share of the full size to build (0.1: one tenth).")
def seed_scale(fraction: float) -> None:
    """Empty the database and build the benchmarks' data set (always the same rows for
    the same fraction): at 1.0, 50 partnerships, 2,000 organisations, 10,000 people,
    20,000 meetings, 100,000 forum posts, 1,000 opportunities and 500 MoUs."""
    if current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException("Refusing to load scale data: APP_ENV is production.")
    import time

    from .factories.scale import build
    from .seed import empty_database

    started = time.perf_counter()
    empty_database()
    counts = build(fraction)
    db.session.commit()
    click.echo(f"Scale data (fraction {fraction:g}) built in "
               f"{time.perf_counter() - started:.1f} s:")
    for what, n in counts.items():
        click.echo(f"  {what}: {n:,}")


@outbox_cli.command("send")
@click.option("--limit", default=200, show_default=True, help="Most messages to send this run.")
def outbox_send(limit: int) -> None:
    """Send the email that is due over SMTP (SMTP_HOST, SMTP_PORT, ...).

    A message the server refuses is recorded and tried again after 1, 5 and 15
    minutes, then hourly, for more than a day, without stopping the others. If the
    server cannot be reached no message spends an attempt, and the command exits 1.
    Safe to run while another run is still going: each message is sent once."""
    from .mail import MAX_ATTEMPTS, send_pending, waiting_count

    result = send_pending(limit=limit)
    click.echo(f"Sent {result.sent} message(s); {result.failed} failed.")
    if result.gave_up:
        click.echo(f"{result.gave_up} message(s) failed for the last time ({MAX_ATTEMPTS} "
                   "attempts) and will not be tried again: see Site administration.")
    if result.unreachable:
        click.echo(f"Could not reach the mail server ({result.error}). No attempt was spent: "
                   f"{waiting_count()} unsent message(s) are waiting.")
        raise SystemExit(1)


@outbox_cli.command("retry")
@click.option("--id", "message_id", type=click.IntRange(min=1, max=2**31 - 1), default=None,
              help="Only this message (its number on Site administration).")
def outbox_retry(message_id: int | None) -> None:
    """Put email that failed for good back in the queue (all of it, or one message):
    the next `outbox send` tries it again, with a fresh set of attempts."""
    from .mail import failed_ids, requeue

    with transactions.writing():  # reads which failed, then changes them
        requeued = requeue([message_id] if message_id is not None else failed_ids())
        db.session.commit()
    if message_id is not None and not requeued:
        raise click.ClickException(f"Message {message_id} has not failed for good "
                                   "(it has been sent, is still being tried, or does not exist).")
    click.echo(f"Put {len(requeued)} failed message(s) back in the queue.")


@reminders_cli.command("send")
def reminders_send() -> None:
    """Email MoU review reminders due today (60, 30 and 7 days before, and overdue).
    Safe to run more than once a day: each reminder is sent once."""
    from .mous.reviews import send_review_reminders
    from .timeutil import today_uk

    with transactions.writing():  # reads what is due, then records what it sent
        sent = send_review_reminders(today_uk())  # links start with BASE_URL (links.py)
        db.session.commit()
    emails = sum(len(reminder.recipients) for reminder in sent)
    click.echo(f"Sent {len(sent)} MoU review reminder(s) in {emails} email(s).")


@digests_cli.command("send")
def digests_send() -> None:
    """Queue the daily digests (due at 7am UK time) and weekly digests (Mondays, 7am)
    that are due, one email per person; `outbox send` delivers them. Run it hourly:
    a run catches up on missed ones, and running it twice, or two at once, never sends
    anything twice."""
    from .notifications.digests import send

    result = send()  # links start with BASE_URL (links.py)
    click.echo(f"Queued {result.sent} digest(s).")


@uploads_cli.command("prune")
@click.option("--hours", default=24, show_default=True, type=click.IntRange(min=1),
              help="Keep unreferenced files younger than this (they may be mid-upload).")
def uploads_prune(hours: int) -> None:
    """Delete uploaded files that no MoU attachment or meeting paper points at."""
    from datetime import timedelta

    from .uploads import prune

    deleted = prune(timedelta(hours=hours))
    click.echo(f"Deleted {len(deleted)} unreferenced file(s).")


def register(app: Flask) -> None:
    app.cli.add_command(seed_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(digests_cli)
    app.cli.add_command(uploads_cli)
    from .backup import backup_command, restore_command  # flask backup DIR, flask restore DIR

    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
