"""Command-line commands (`flask --app wsgi <command>`)."""

import click
from flask import Flask

from portal.branches import cli as branches_cli
from portal.demo import load_all
from portal.donations import cli as donations_cli
from portal.donors import cli as donors_cli
from portal.extensions import db
from portal.membership import cli as membership_cli
from portal.notifications import cli as notifications_cli
from portal.review import cli as review_cli
from portal.sessions import prune_dead_sessions
from portal.training import cli as training_cli
from portal.volunteering import cli as volunteering_cli


def register(app: Flask) -> None:
    @app.cli.command("demo")
    def demo():
        """Load the demo data (safe to run again) and print the demo logins."""
        for line in load_all():
            click.echo(line)

    @app.cli.command("prune-sessions")
    def prune_sessions():
        """Delete sessions that can never be used again (ended, idle or too old)."""
        pruned = prune_dead_sessions(app)
        db.session.commit()
        click.echo(f"pruned {pruned} sessions")

    notifications_cli.register(app)
    branches_cli.register(app)
    review_cli.register(app)
    membership_cli.register(app)
    volunteering_cli.register(app)
    donors_cli.register(app)
    training_cli.register(app)
    donations_cli.register(app)
