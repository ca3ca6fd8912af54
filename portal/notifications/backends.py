"""Senders: one small interface, chosen by config NOTIFY_BACKEND.

A real SMS gateway is one more class with a `send()` that raises on failure, plus an entry
in BACKENDS. Bodies hold one-time codes, so no backend may log them."""

import logging
import os
import smtplib
from email.message import EmailMessage
from typing import Protocol

from flask import current_app

from portal.notifications.models import Notification
from portal.notifications.services import EMAIL, mask_recipient

log = logging.getLogger(__name__)


class SendError(Exception):
    """The backend could not hand the message over; the worker will try again."""


class Sender(Protocol):
    def send(self, notification: Notification) -> None:
        """Hand one message to the gateway; raise on failure, return on success."""


class LoggingBackend:
    """The default: writes who and what kind to the log, never the body."""

    def send(self, notification: Notification) -> None:
        log.info(
            "notification %s sent: channel=%s kind=%s to=%s",
            notification.id,
            notification.channel,
            notification.kind,
            mask_recipient(notification.recipient),
        )


class SmtpEmailBackend:
    """Email over SMTP (settings from SMTP_* environment variables); SMS falls back to
    the logging backend until an SMS gateway class exists."""

    def __init__(self) -> None:
        self.host = os.environ.get("SMTP_HOST", "localhost")
        self.port = int(os.environ.get("SMTP_PORT", "587"))
        self.user = os.environ.get("SMTP_USER")
        self.password = os.environ.get("SMTP_PASSWORD")
        self.sender = os.environ.get("SMTP_FROM", "noreply@localhost")
        self.starttls = os.environ.get("SMTP_STARTTLS", "1") != "0"
        self.fallback = LoggingBackend()

    def send(self, notification: Notification) -> None:
        if notification.channel != EMAIL:
            self.fallback.send(notification)
            return
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = notification.recipient
        message["Subject"] = notification.subject or ""
        message.set_content(notification.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"SMTP: {type(exc).__name__}: {exc}") from exc
        log.info(
            "notification %s emailed: kind=%s to=%s",
            notification.id,
            notification.kind,
            mask_recipient(notification.recipient),
        )


BACKENDS: dict[str, type] = {
    "log": LoggingBackend,
    "smtp": SmtpEmailBackend,
}


def get_sender(name: str | None = None) -> Sender:
    """The sender named by `name` or config NOTIFY_BACKEND; an unknown name is a setup
    mistake, so it fails loudly rather than silently dropping messages."""
    name = name or current_app.config["NOTIFY_BACKEND"]
    try:
        return BACKENDS[name]()
    except KeyError:
        raise RuntimeError(
            f"Unknown NOTIFY_BACKEND {name!r}; choose one of {sorted(BACKENDS)}"
        ) from None
