"""`flask donors daily` (from cron, once or more a day): confirms pre-registrations
whose cooling-off is over and reminds registrants of tomorrow's appointments."""

import click
from flask import Flask
from flask.cli import AppGroup

from portal.donors import marrow
from portal.extensions import db


def register(app: Flask) -> None:
    group = AppGroup("donors", help="Donor registrations upkeep.")

    @group.command("daily")
    def daily():
        """Confirm pre-registrations past their 7-day cooling-off (one SMS each) and
        remind appointments in the next 24 hours (once). Safe to run twice."""
        confirmed, reminded = marrow.run_daily()
        db.session.commit()
        click.echo(f"{confirmed} registrations confirmed, {reminded} appointment reminders")

    app.cli.add_command(group)
