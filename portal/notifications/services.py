"""Queue SMS and email in the outbox. Nothing here sends: a worker or the development
after-response hook does that later (see dispatch.py), so a slow gateway never delays a page."""

import re

from flask import current_app, g, has_app_context

from portal.accounts.identity import mask_id_numbers_in_text
from portal.extensions import db
from portal.notifications.models import Notification

SMS = "sms"
EMAIL = "email"

DEFAULT_SMS_SIGNATURE = "【红十字博爱】"

# A signature a caller (or an older catalogue entry) already wrote in front: 【…】 or [...].
_LEADING_SIGNATURE_RE = re.compile(r"\A\s*(?:【[^】]{1,20}】|\[[^\]]{1,30}\])\s*")


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


def sms_signature() -> str:
    """The sender's name every SMS starts with (config SMS_SIGNATURE)."""
    if has_app_context():
        return current_app.config.get("SMS_SIGNATURE", DEFAULT_SMS_SIGNATURE)
    return DEFAULT_SMS_SIGNATURE


def signed_sms(body: str) -> str:
    """`body` as it is sent: exactly one signature in front (one the caller wrote is
    replaced, not doubled) and any ID number in it masked (a reason typed by staff may
    quote one, and an SMS sits unencrypted on a phone)."""
    text = _LEADING_SIGNATURE_RE.sub("", body, count=1).strip()
    return sms_signature() + mask_id_numbers_in_text(text)


def queue_sms(phone: str, body: str, kind: str) -> Notification:
    """Add a pending SMS to `phone` to the outbox and flush it (so it has an id). The
    body is signed here (signed_sms): callers write the message only.

    Never sends and never commits: the caller's commit makes it visible to the worker,
    and a rolled-back request sends nothing."""
    return _queue(SMS, phone, None, signed_sms(body), kind)


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
