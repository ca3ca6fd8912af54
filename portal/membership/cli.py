"""`flask membership expire` (daily, from cron): expiry notices and expired terms."""

import click
from flask import Flask
from flask.cli import AppGroup

from portal.extensions import db
from portal.membership import expiry


def register(app: Flask) -> None:
    group = AppGroup("membership", help="Membership upkeep.")

    @group.command("expire")
    def expire():
        """Text members whose term ends within 30 days (once), mark ended terms expired
        and text them (once). Safe to run twice."""
        notices, expired = expiry.run()
        db.session.commit()
        click.echo(f"{notices} expiring notices, {expired} memberships expired")

    app.cli.add_command(group)
