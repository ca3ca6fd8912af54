"""Command-line commands (`flask --app wsgi <command>`)."""

import click
from flask import Flask
from sqlalchemy import delete, or_

from portal.extensions import db
from portal.timeutil import utcnow


def register(app: Flask) -> None:
    @app.cli.command("demo")
    def demo():
        """Load the demo data (safe to run again) and print the demo logins."""
        from portal.demo import load_all

        for line in load_all():
            click.echo(line)

    @app.cli.command("prune-sessions")
    def prune_sessions():
        """Delete revoked and expired server-side sessions."""
        from portal.sessions import ServerSession

        cutoff = utcnow() - max(
            app.config["SESSION_ABSOLUTE_TIMEOUT"], app.config["STAFF_SESSION_ABSOLUTE_TIMEOUT"]
        )
        result = db.session.execute(
            delete(ServerSession).where(
                or_(ServerSession.revoked_at.is_not(None), ServerSession.created_at < cutoff)
            )
        )
        db.session.commit()
        click.echo(f"pruned {result.rowcount} sessions")

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
