"""SMS to registrants, queued in the outbox in each person's own language."""

from flask import current_app
from flask_babel import force_locale

from portal.branches.models import Branch
from portal.notifications.services import queue_sms


def sms(user, kind: str, pattern, **values) -> None:
    """Queue an SMS to `user` in their language: `pattern` is a lazy string with named
    placeholders; a Branch value is named in that language."""
    if user is None or not user.phone:
        return
    locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        values = {k: v.name(locale) if isinstance(v, Branch) else str(v) for k, v in values.items()}
        body = str(pattern) % values
    queue_sms(user.phone, body, kind=kind)
