"""Queue SMS and email in the outbox. Nothing here sends: a worker or the development
after-response hook does that later (see dispatch.py), so a slow gateway never delays a page."""

from flask import g, has_app_context

from portal.extensions import db
from portal.notifications.models import Notification

SMS = "sms"
EMAIL = "email"


def _queue(channel: str, recipient: str, subject: str | None, body: str, kind: str) -> Notification:
    notification = Notification(
        channel=channel,
        recipient=recipient.strip(),
        kind=kind,
        subject=subject,
        body=body,
        status="pending",
        attempts=0,
    )
    db.session.add(notification)
    db.session.flush()
    if has_app_context():
        # Lets the development after-response hook know this request has something to send.
        g.notifications_queued = True
    return notification


def queue_sms(phone: str, body: str, kind: str) -> Notification:
    """Add a pending SMS to `phone` to the outbox and flush it (so it has an id).

    Never sends and never commits: the caller's commit makes it visible to the worker,
    and a rolled-back request sends nothing."""
    return _queue(SMS, phone, None, body, kind)


def queue_email(address: str, subject: str, body: str, kind: str) -> Notification:
    """Add a pending email to `address` to the outbox and flush it (so it has an id).

    Never sends and never commits, like queue_sms."""
    return _queue(EMAIL, address, subject, body, kind)


def mask_recipient(recipient: str) -> str:
    """A recipient safe for logs and screens: 13812348000 -> 138****8000,
    wang.li@example.com -> w***@example.com."""
    recipient = recipient or ""
    if "@" in recipient:
        local, _, domain = recipient.partition("@")
        return f"{local[:1]}***@{domain}"
    digits = recipient
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 2:
        return f"{digits[:1]}{'*' * (len(digits) - 2)}{digits[-1:]}"
    return "*" * len(digits)
