"""Friendly, translated error pages. No input may produce a bare 500."""

import logging
import math

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.accounts.throttle import retry_after_seconds
from portal.extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: (
        _l("Bad request"),
        _l("We could not understand that request. Please go back and try again."),
    ),
    403: (_l("Not allowed"), _l("Your account does not have permission to open this page.")),
    404: (_l("Page not found"), _l("The page you asked for does not exist or has moved.")),
    405: (_l("Not allowed"), _l("That action is not available here.")),
    413: (_l("Too large"), _l("What you sent is too large. Please send something smaller.")),
    429: (
        _l("Too many attempts"),
        _l("You have tried too many times in a short while. Please wait a while and try again."),
    ),
    500: (
        _l("Something went wrong"),
        _l("Sorry, something went wrong on our side. Please try again later."),
    ),
}


def render_error(code: int, message: str | None = None):
    title, text = MESSAGES.get(code, MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title, text=message or text), code


def wait_text(seconds: int) -> str:
    """The wait in minutes (or hours past 90 minutes), rounded up so it is never
    shorter than the Retry-After header sent with it."""
    from flask_babel import ngettext

    minutes = max(1, math.ceil(seconds / 60))
    if minutes <= 90:
        return ngettext(
            "You have tried too many times. Please wait about %(num)d minute and try again.",
            "You have tried too many times. Please wait about %(num)d minutes and try again.",
            minutes,
        )
    return ngettext(
        "You have tried too many times. Please wait about %(num)d hour and try again.",
        "You have tried too many times. Please wait about %(num)d hours and try again.",
        math.ceil(minutes / 60),
    )


def render_too_many(error: HTTPException):
    """The 429 page, naming the real wait, with a Retry-After header that matches it."""
    seconds = retry_after_seconds(error)
    if seconds is None:
        return render_error(429)
    body, code = render_error(429, wait_text(seconds))
    return body, code, {"Retry-After": str(seconds)}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        from flask_babel import gettext as _

        return render_error(
            400,
            _(
                "This form has expired or was sent from another page. Please reload it and try again."
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code == 429:
            return render_too_many(error)
        if error.code in MESSAGES:
            return render_error(error.code)
        return error

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        log.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return render_error(500)
