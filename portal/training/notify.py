"""Text messages about bookings and certificates, queued in the outbox in the
recipient's language (never sent in the request)."""

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.notifications.services import queue_sms
from portal.timeutil import to_local


def link(endpoint: str, **values) -> str:
    """A full link for a text message: the request's host, or (from the command line)
    the PUBLIC_BASE_URL setting in front of the path."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context():
        path = url_for(endpoint, **values)
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def _locale(booking_or_user) -> str:
    user = getattr(booking_or_user, "user", booking_or_user)
    return getattr(user, "locale", None) or current_app.config["BABEL_DEFAULT_LOCALE"]


def _when(value) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M")


def _course(session, locale) -> str:
    return session.course.title(locale)


def _send(booking, kind: str, make) -> None:
    phone = booking.attendee_phone
    if not phone:
        return
    locale = _locale(booking)
    with force_locale(locale):
        queue_sms(phone, make(locale), kind)


def offer_made(booking) -> None:
    session = booking.session

    def make(locale):
        return _(
            "A seat has opened for you: %(course)s on %(date)s at %(venue)s. Accept it by "
            "%(deadline)s at %(url)s, or it passes to the next person waiting.",
            course=_course(session, locale),
            date=_when(session.starts_at),
            venue=session.venue,
            deadline=_when(booking.offer_expires_at),
            url=link("training.booking", booking_id=booking.id),
        )

    _send(booking, "training_offer", make)


def offer_lapsed(booking) -> None:
    def make(locale):
        return _(
            "The seat offered to you for %(course)s was not accepted in time and has "
            "passed to the next person waiting.",
            course=_course(booking.session, locale),
        )

    _send(booking, "training_offer_lapsed", make)


def group_seat_booked(booking) -> None:
    session = booking.session

    def make(locale):
        return _(
            "%(name)s, a seat is booked for you: %(course)s on %(date)s at %(venue)s, %(address)s.",
            name=booking.attendee_name,
            course=_course(session, locale),
            date=_when(session.starts_at),
            venue=session.venue,
            address=session.address,
        )

    _send(booking, "training_group_seat", make)


def session_cancelled(booking, reason: str) -> None:
    session = booking.session

    def make(locale):
        return _(
            "The %(course)s class on %(date)s at %(venue)s has been cancelled: %(reason)s. "
            "We are sorry for the trouble.",
            course=_course(session, locale),
            date=_when(session.starts_at),
            venue=session.venue,
            reason=reason,
        )

    _send(booking, "training_session_cancelled", make)


def certificate_expiring(certificate, phone: str, locale: str, refresher) -> None:
    with force_locale(locale):
        if refresher is not None:
            body = _(
                "Your %(course)s certificate %(number)s expires on %(date)s. A refresher "
                "class: %(when)s at %(venue)s. Book at %(url)s",
                course=certificate.course.title(locale),
                number=certificate.number,
                date=certificate.expires_on.isoformat(),
                when=_when(refresher.starts_at),
                venue=refresher.venue,
                url=link("training.session", session_id=refresher.id),
            )
        else:
            body = _(
                "Your %(course)s certificate %(number)s expires on %(date)s. Book a "
                "refresher class at %(url)s",
                course=certificate.course.title(locale),
                number=certificate.number,
                date=certificate.expires_on.isoformat(),
                url=link("training.classes", course=certificate.course.id),
            )
        queue_sms(phone, body, "training_certificate_expiring")
