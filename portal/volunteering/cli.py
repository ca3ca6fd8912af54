"""`flask volunteering remind`: the day-before SMS for tomorrow's shifts (run it daily
from cron; running it twice sends nothing twice)."""

import click
from flask import Flask
from flask.cli import AppGroup

from portal.volunteering.reminders import send_reminders


def register(app: Flask) -> None:
    group = AppGroup("volunteering", help="Volunteer service upkeep.")

    @group.command("remind")
    def remind():
        """Queue reminders for every sign-up on a shift that starts tomorrow."""
        click.echo(f"queued {send_reminders()} reminders")

    app.cli.add_command(group)
