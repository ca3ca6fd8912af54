"""The volunteer's SMS about their service, in their own language, queued in the
outbox (never sent inside a request): sign-up confirmed, the day-before reminder,
activity cancelled, hours confirmed, a new star."""

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.notifications.services import queue_sms
from portal.timeutil import to_local


def _send(user, kind: str, build) -> None:
    if user is None or not user.phone:
        return
    locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        body = build(locale)
    queue_sms(user.phone, body, kind=kind)


def _when(value) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M")


def signed_up(signup) -> None:
    shift = signup.shift

    def build(locale):
        return _(
            "You are signed up for %(title)s on %(when)s at %(place)s.",
            title=shift.activity.title,
            when=_when(shift.starts_at),
            place=shift.activity.address,
        )

    _send(signup.volunteer.user, "service_signed_up", build)


def reminder(signup) -> None:
    shift = signup.shift

    def build(locale):
        return _(
            "Reminder: %(title)s starts tomorrow at %(when)s, %(place)s. Contact: %(contact)s.",
            title=shift.activity.title,
            when=_when(shift.starts_at),
            place=shift.activity.address,
            contact=shift.activity.contact_phone,
        )

    _send(signup.volunteer.user, "service_reminder", build)


def cancelled(signup, reason: str) -> None:
    activity = signup.shift.activity

    def build(locale):
        return _(
            "%(title)s on %(when)s has been cancelled. Reason: %(reason)s",
            title=activity.title,
            when=_when(signup.shift.starts_at),
            reason=reason,
        )

    _send(signup.volunteer.user, "service_cancelled", build)


def hours_confirmed(volunteer, title: str, hours: str) -> None:
    def build(locale):
        return _(
            "%(hours)s hours of service (%(title)s) have been confirmed.",
            hours=hours,
            title=title,
        )

    _send(volunteer.user, "service_hours_confirmed", build)


def new_star(volunteer, stars: int) -> None:
    def build(locale):
        return _(
            "Congratulations: your confirmed service hours have earned you %(n)d stars.",
            n=stars,
        )

    _send(volunteer.user, "service_new_star", build)
