"""`flask notifications send` and `flask notifications worker`."""

import logging
import signal
import threading

import click
from flask import Flask
from flask.cli import AppGroup

from portal.extensions import db
from portal.notifications.dispatch import dispatch_pending

log = logging.getLogger(__name__)

IDLE_SLEEP = 2.0  # seconds between looks at an empty outbox
ERROR_SLEEP = 10.0  # after a database error, e.g. while PostgreSQL restarts


def run_worker(stop: threading.Event, limit: int = 100, once: bool = False) -> int:
    """Dispatch until `stop` is set (or one pass with once=True); return how many were sent.

    Sleeps only when there was nothing to send, and survives database outages."""
    total = 0
    while not stop.is_set():
        try:
            sent = dispatch_pending(limit=limit)
        except Exception:
            log.exception("notification worker: dispatch failed; retrying shortly")
            db.session.remove()
            if once:
                raise
            stop.wait(ERROR_SLEEP)
            continue
        total += sent
        if once:
            break
        if sent == 0:
            stop.wait(IDLE_SLEEP)
    return total


def register(app: Flask) -> None:
    group = AppGroup("notifications", help="Send the SMS and email waiting in the outbox.")

    @group.command("send")
    @click.option("--limit", default=100, show_default=True, help="Most messages to send.")
    def send(limit: int):
        """Send what is due once and print how many were sent."""
        click.echo(f"sent {dispatch_pending(limit=limit)} notifications")

    @group.command("worker")
    @click.option("--once", is_flag=True, help="One pass, then exit.")
    @click.option("--limit", default=100, show_default=True, help="Messages per pass.")
    def worker(once: bool, limit: int):
        """Keep sending until stopped with Ctrl+C or SIGTERM."""
        stop = threading.Event()

        def request_stop(signum, frame):
            log.info("notification worker: signal %s, stopping after this pass", signum)
            stop.set()

        previous = {
            sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        click.echo("notification worker started")
        try:
            total = run_worker(stop, limit=limit, once=once)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        click.echo(f"notification worker stopped; sent {total} notifications")

    app.cli.add_command(group)
