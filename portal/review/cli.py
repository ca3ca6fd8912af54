"""`flask review check-tallies` (daily, from cron) and `flask review rebuild-tallies`."""

import click
from flask import Flask
from flask.cli import AppGroup

from portal.extensions import db
from portal.review import tallies


def register(app: Flask) -> None:
    group = AppGroup("review", help="The approval engine's upkeep.")

    @group.command("check-tallies")
    @click.option("--dry-run", is_flag=True, help="Report drift without repairing it.")
    def check_tallies(dry_run: bool):
        """Recount the pending tallies from the applications, report drift, repair it.
        Exits 1 when there was drift, so cron mails someone."""
        drift = tallies.check(repair=not dry_run)
        for branch_id, kind, stored, counted in drift:
            click.echo(f"branch {branch_id} {kind}: stored {stored}, counted {counted}")
        db.session.commit()
        if drift:
            verb = "found" if dry_run else "repaired"
            click.echo(f"{len(drift)} tallies drifted; {verb}")
            raise SystemExit(1)
        click.echo("tallies match the applications")

    @group.command("rebuild-tallies")
    def rebuild_tallies():
        """Recompute every pending tally from the applications (after a bulk load)."""
        rows = tallies.rebuild()
        db.session.commit()
        click.echo(f"{rows} pending tallies")

    app.cli.add_command(group)
