"""`flask donations check-tallies` and `flask donations sweep-evidence` (daily, from
cron) and `flask donations rebuild-tallies`."""

import click
from flask import Flask
from flask.cli import AppGroup

from portal.donations import evidence, tallies
from portal.extensions import db


def register(app: Flask) -> None:
    group = AppGroup("donations", help="The donations ledger's upkeep.")

    @group.command("check-tallies")
    def check_tallies():
        """Recount the public sums from the ledger and report any drift (exit 1)."""
        drift = tallies.check()
        for key, stored, counted in drift:
            click.echo(f"{key}: stored {stored}, counted {counted}")
        if drift:
            click.echo(f"{len(drift)} tallies drifted; run rebuild-tallies")
            raise SystemExit(1)
        click.echo("tallies match the ledger")

    @group.command("rebuild-tallies")
    def rebuild_tallies():
        """Recompute every tally from the ledger (after a bulk load)."""
        rows = tallies.rebuild()
        db.session.commit()
        click.echo(f"{rows} donation tallies")

    @group.command("sweep-evidence")
    def sweep_evidence():
        """Remove uploaded evidence files that no expense refers to (left by a crash)."""
        removed = evidence.sweep()
        click.echo(f"{len(removed)} unreferenced evidence files removed")

    app.cli.add_command(group)
