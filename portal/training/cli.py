"""`flask training ...` (from cron): lapse offers whose window closed (every few minutes)
and remind holders of certificates expiring within 60 days (daily). Both are safe to
run twice, or at the same time as people use the site."""

import click
from flask import Flask
from flask.cli import AppGroup

from portal.extensions import db
from portal.training import booking, certificates
from portal.training.catalogue import ensure_catalogue


def register(app: Flask) -> None:
    group = AppGroup("training", help="First-aid training upkeep.")

    @group.command("expire-offers")
    def expire_offers():
        """Lapse offers not accepted in time and offer each seat to the next in line."""
        lapsed = booking.expire_offers()
        db.session.commit()
        click.echo(f"{lapsed} offers lapsed and passed on")

    @group.command("remind")
    def remind():
        """Text holders whose certificate expires within 60 days (once), with a
        refresher class near them."""
        sent = certificates.send_reminders()
        db.session.commit()
        click.echo(f"{sent} expiry reminders queued")

    @group.command("courses")
    def courses():
        """Add any missing course of the standard catalogue."""
        ensure_catalogue()
        db.session.commit()
        click.echo("catalogue up to date")

    app.cli.add_command(group)
