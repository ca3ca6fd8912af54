"""Throttling of logins and SMS sending, per account (mobile number) and per IP.

Only POSTs count: looking at a form costs nothing. The limits are shared across the
views that do the same thing, so password and SMS-code logins draw from one budget
per number, and every way of asking for a code draws from one SMS budget. The
"once a minute" resend rule is a service rule with its own friendly message
(smscodes.ResendTooSoon); these are the outer walls, answered with the 429 page.
"""

from flask import request, session
from flask_limiter.util import get_remote_address

from portal.accounts.phone import try_normalise_phone
from portal.extensions import limiter

LOGIN_LIMIT_PER_PHONE = "5/minute;20/hour"
LOGIN_LIMIT_PER_IP = "30/minute"
SMS_LIMIT_PER_PHONE = "10/day"
SMS_LIMIT_PER_IP = "20/hour"
PASSWORD_CHECK_LIMIT_PER_USER = "5/minute;20/hour"

_SMS_QUEUED = "boai.sms_queued"


def _typed_phone_key() -> str:
    raw = request.form.get("phone")
    phone = try_normalise_phone(raw)
    # Input that is not a number still gets its own bucket (trimmed): it can never
    # reach an account, and one bucket for all typos would let strangers block each other.
    return phone or "raw:" + (raw or "")[:40]


def _session_phone_key(session_key: str) -> str:
    # Never the form here: the view acts on the number in the session, so a made-up
    # "phone" field must not buy a fresh budget.
    return session.get(session_key) or "none"


def _user_key() -> str:
    from flask_login import current_user

    return str(current_user.get_id() or get_remote_address())


def mark_sms_queued() -> None:
    """Call when a view queued an SMS: only those requests use up the SMS budget, so
    a "please wait a minute" answer does not lock someone out for the day."""
    request.environ[_SMS_QUEUED] = True


def _sms_was_queued(response) -> bool:
    return bool(request.environ.get(_SMS_QUEUED))


def login_limits(session_key: str | None = None):
    """Decorator: the login budget per mobile number (from the form, or the number
    kept in the session under `session_key` for a second step) and per IP."""

    def decorate(view):
        view = limiter.shared_limit(
            LOGIN_LIMIT_PER_PHONE,
            scope="login-phone",
            key_func=(lambda: _session_phone_key(session_key)) if session_key else _typed_phone_key,
            methods=["POST"],
        )(view)
        return limiter.shared_limit(
            LOGIN_LIMIT_PER_IP, scope="login-ip", key_func=get_remote_address, methods=["POST"]
        )(view)

    return decorate


def sms_limits(session_key: str):
    """Decorator: the SMS budget per mobile number (typed, or kept in the session under
    `session_key` when the person asks to resend) and per IP."""

    def decorate(view):
        view = limiter.shared_limit(
            SMS_LIMIT_PER_PHONE,
            scope="sms-phone",
            key_func=lambda: (
                _session_phone_key(session_key)
                if request.form.get("resend")
                else _typed_phone_key()
            ),
            methods=["POST"],
            deduct_when=_sms_was_queued,
        )(view)
        return limiter.shared_limit(
            SMS_LIMIT_PER_IP,
            scope="sms-ip",
            key_func=get_remote_address,
            methods=["POST"],
            deduct_when=_sms_was_queued,
        )(view)

    return decorate


def password_check_limits(view):
    """Decorator: tries at the current password, per logged-in user."""
    return limiter.limit(PASSWORD_CHECK_LIMIT_PER_USER, key_func=_user_key, methods=["POST"])(view)
