"""Command-line commands (`flask --app wsgi <command>`)."""

import click
from flask import Flask

from portal.extensions import db


def register(app: Flask) -> None:
    @app.cli.command("demo")
    def demo():
        """Load the demo data (safe to run again) and print the demo logins."""
        from portal.demo import load_all

        for line in load_all():
            click.echo(line)

    @app.cli.command("prune-sessions")
    def prune_sessions():
        """Delete sessions that can never be used again (ended, idle or too old)."""
        from portal.sessions import prune_dead_sessions

        pruned = prune_dead_sessions(app)
        db.session.commit()
        click.echo(f"pruned {pruned} sessions")

    @app.cli.command("rebuild-tallies")
    def rebuild_tallies():
        """Recompute the inbox's rolled-up pending counts from the applications."""
        from portal.admin import tallies

        rows = tallies.rebuild()
        db.session.commit()
        click.echo(f"{rows} pending tallies")

    from portal.branches import cli as branches_cli
    from portal.notifications import cli as notifications_cli

    notifications_cli.register(app)
    branches_cli.register(app)
