"""Send what the outbox holds. Runs outside requests (the CLI worker, or the development
after-response hook) and therefore commits on its own.

Each row is claimed with a compare-and-set UPDATE (pending -> sending) and only the worker
whose UPDATE changed the row sends it, so two workers never send the same message twice."""

import logging
from datetime import timedelta

from flask import Flask, Response, current_app, g
from sqlalchemy import and_, or_, select, update

from portal.extensions import db
from portal.notifications.backends import Sender, get_sender
from portal.notifications.models import Notification
from portal.notifications.services import mask_recipient
from portal.timeutil import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(seconds=30)  # doubled after each failure: 30 s, 1, 2, 4 min
# A claim older than this belongs to a worker that died mid-send; the row is tried again.
CLAIM_LEASE = timedelta(minutes=5)


def _due(now):
    return or_(
        and_(
            Notification.status == "pending",
            or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
        ),
        and_(Notification.status == "sending", Notification.next_attempt_at < now),
    )


def _claim(notification_id: int) -> bool:
    now = utcnow()
    result = db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, _due(now))
        .values(
            status="sending",
            attempts=Notification.attempts + 1,
            next_attempt_at=now + CLAIM_LEASE,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def _send_one(notification: Notification, sender: Sender) -> bool:
    if notification.attempts > MAX_ATTEMPTS:
        # Reclaimed after a crash with no tries left.
        notification.status = "failed"
        notification.next_attempt_at = None
        db.session.commit()
        return False
    try:
        sender.send(notification)
    except Exception as exc:  # any gateway failure: keep the worker alive, retry later
        notification.last_error = f"{type(exc).__name__}: {exc}"[:500]
        if notification.attempts >= MAX_ATTEMPTS:
            notification.status = "failed"
            notification.next_attempt_at = None
        else:
            notification.status = "pending"
            notification.next_attempt_at = utcnow() + RETRY_AFTER * 2 ** (notification.attempts - 1)
        log.warning(
            "notification %s to %s failed (attempt %s, now %s): %s",
            notification.id,
            mask_recipient(notification.recipient),
            notification.attempts,
            notification.status,
            type(exc).__name__,
        )
        db.session.commit()
        return False
    notification.status = "sent"
    notification.sent_at = utcnow()
    notification.next_attempt_at = None
    db.session.commit()
    return True


def dispatch_pending(limit: int = 100, sender: Sender | None = None) -> int:
    """Send up to `limit` due notifications, oldest first; return how many were sent.

    Commits after every claim and every result, so it must not run inside a request
    that has uncommitted work. A failed send goes back to pending with attempts+1 and a
    growing delay, and becomes 'failed' after MAX_ATTEMPTS tries. Rows another worker
    claimed first are skipped, never sent twice."""
    sender = sender or get_sender()
    try:
        ids = db.session.scalars(
            select(Notification.id).where(_due(utcnow())).order_by(Notification.id).limit(limit)
        ).all()
        db.session.commit()  # end the read so each claim starts a fresh transaction
        sent = 0
        for notification_id in ids:
            if not _claim(notification_id):
                continue
            notification = db.session.get(Notification, notification_id)
            if notification is not None and _send_one(notification, sender):
                sent += 1
        return sent
    except Exception:
        db.session.rollback()
        raise


def _dispatch_in_fresh_context(app: Flask) -> None:
    # Runs after the response went out; a failure here must never reach the server.
    try:
        with app.app_context():
            dispatch_pending()
    except Exception:
        log.exception("dispatching notifications after the response failed")


def dispatch_after_response(response: Response) -> Response:
    """Development only (config NOTIFY_DISPATCH_AFTER_RESPONSE): when this request queued
    notifications, send them once the response has been delivered, in a fresh app context,
    so a slow gateway never delays the page."""
    queued = g.get("notifications_queued", False)
    if queued and current_app.config["NOTIFY_DISPATCH_AFTER_RESPONSE"]:
        app = current_app._get_current_object()
        response.call_on_close(lambda: _dispatch_in_fresh_context(app))
    return response
