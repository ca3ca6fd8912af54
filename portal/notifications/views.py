"""The development outbox page and the development after-response sending hook."""

from flask import abort, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.extensions import db
from portal.notifications import bp
from portal.notifications.dispatch import dispatch_after_response
from portal.notifications.models import Notification
from portal.notifications.services import mask_recipient

OUTBOX_SIZE = 50
STATUS_LABELS = {
    "pending": _l("Waiting"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
}
CHANNEL_LABELS = {"sms": _l("SMS"), "email": _l("Email")}

bp.after_app_request(dispatch_after_response)


def _normalise_filter(value: str) -> str:
    # No whitespace, and no NUL: PostgreSQL text cannot hold it, even in a LIKE pattern.
    value = "".join(value.replace("\x00", "").split())[:254]
    if value.startswith("+86"):
        value = value[3:]
    return value


@bp.route("/dev/outbox")
def dev_outbox():
    if not current_app.config["SHOW_DEV_OUTBOX"]:
        abort(404)
    to = _normalise_filter(request.args.get("to", ""))
    query = select(Notification).order_by(Notification.id.desc()).limit(OUTBOX_SIZE)
    if to:
        query = query.where(Notification.recipient.contains(to, autoescape=True))
    notifications = db.session.scalars(query).all()
    response = current_app.make_response(
        render_template(
            "notifications/outbox.html",
            notifications=notifications,
            to=to,
            mask=mask_recipient,
            status_labels=STATUS_LABELS,
            channel_labels=CHANNEL_LABELS,
            size=OUTBOX_SIZE,
        )
    )
    # It shows live one-time codes: keep it out of every cache.
    response.headers["Cache-Control"] = "no-store"
    return response
