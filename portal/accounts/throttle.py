"""Throttling of logins and SMS sending, built so that a stranger cannot lock an owner out.

Logins count failures only (a right password or code costs nothing), and the walls
that answer 429 are per client: one number from one address, and one address across
all numbers. Across all addresses a number only has a ceiling on wrong passwords;
reaching it pauses password login for that number and asks for an SMS code instead,
so whoever holds the phone still gets in. SMS sending works the same way: hard
walls per client, and per number only a longer wait between codes. (A code sent at
a stranger's request lands on the owner's phone, so waiting never shuts them out.)

Figures live in Flask-Limiter's storage (moving windows; Redis when configured), so
every worker sees the same counts. Only POSTs count: looking at a form is free.
"""

import math
import time
from datetime import timedelta

from flask import current_app, request, session
from flask_limiter.util import get_remote_address
from limits import parse_many
from werkzeug.exceptions import TooManyRequests

from portal.accounts.phone import try_normalise_phone
from portal.extensions import limiter

# Wrong passwords or codes for one number from one address; then that address waits.
LOGIN_FAILURES_PER_CLIENT = "5/minute;20/hour"
# Wrong passwords or codes from one address, whatever the numbers; then it waits.
LOGIN_FAILURES_PER_IP = "30/minute;100/hour"
# Wrong passwords for one number from all addresses; then the number must use an SMS code.
PASSWORD_FAILURES_PER_PHONE = "10/hour"

SMS_LIMIT_PER_CLIENT = "10/day"
SMS_LIMIT_PER_IP = "20/hour"
# Codes sent to one number from all addresses; past this the resend wait grows.
SMS_SLOWDOWN_PER_PHONE = "10/day"
SMS_SLOW_RESEND_INTERVAL = timedelta(minutes=15)

PASSWORD_CHECK_LIMIT_PER_USER = "5/minute;20/hour"

_SMS_QUEUED = "boai.sms_queued"


class TooManyAttempts(TooManyRequests):
    """A 429 that knows how long the client has to wait (the error page says so)."""

    def __init__(self, retry_after: int):
        super().__init__()
        self.retry_after = max(1, int(retry_after))


def client_address() -> str:
    return get_remote_address() or "unknown"


def _wait(limit_string: str, *identifiers: str) -> int:
    """Seconds until one more hit fits every limit in `limit_string`; 0 if it fits now."""
    strategy = limiter.limiter
    now = time.time()
    wait = 0
    for item in parse_many(limit_string):
        if not strategy.test(item, *identifiers):
            reset, _ = strategy.get_window_stats(item, *identifiers)
            wait = max(wait, math.ceil(reset - now), 1)
    return wait


def _hit(limit_string: str, *identifiers: str) -> None:
    for item in parse_many(limit_string):
        limiter.limiter.hit(item, *identifiers)


def _clear(limit_string: str, *identifiers: str) -> None:
    for item in parse_many(limit_string):
        limiter.limiter.clear(item, *identifiers)


class LoginThrottle:
    """The failure counters of one login attempt: `method` is "password" or "sms_code"."""

    def __init__(self, method: str, phone: str, client: str):
        self.method = method
        self.phone = phone
        self.client = client

    @property
    def _client_key(self) -> tuple[str, ...]:
        return ("login-fail", self.method, self.phone, self.client)

    @property
    def _ip_key(self) -> tuple[str, ...]:
        return ("login-fail-ip", self.client)

    @property
    def _phone_key(self) -> tuple[str, ...]:
        return ("password-fail-phone", self.phone)

    def check(self) -> None:
        """Raise TooManyAttempts if this client has to wait before trying again."""
        wait = max(
            _wait(LOGIN_FAILURES_PER_CLIENT, *self._client_key),
            _wait(LOGIN_FAILURES_PER_IP, *self._ip_key),
        )
        if wait:
            raise TooManyAttempts(wait)

    def password_paused(self) -> bool:
        """True while too many wrong passwords for this number (from anywhere) mean
        only an SMS code may log it in."""
        return self.method == "password" and bool(
            _wait(PASSWORD_FAILURES_PER_PHONE, *self._phone_key)
        )

    def failed(self) -> bool:
        """Count a wrong password or code. True if this one paused password login
        for the number."""
        _hit(LOGIN_FAILURES_PER_CLIENT, *self._client_key)
        _hit(LOGIN_FAILURES_PER_IP, *self._ip_key)
        if self.method != "password":
            return False
        _hit(PASSWORD_FAILURES_PER_PHONE, *self._phone_key)
        return self.password_paused()

    def succeeded(self) -> None:
        # Only the slips of this number on this client are forgiven: the per-address
        # count stays (logging into one's own account must not buy fresh guesses at
        # others), and so does the number's ceiling (the stranger is still out there).
        _clear(LOGIN_FAILURES_PER_CLIENT, *self._client_key)


def login_throttle(method: str, phone: str) -> LoginThrottle:
    return LoginThrottle(method, phone, client_address())


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


def sms_resend_interval(phone: str) -> timedelta:
    """How long a number must wait between two codes of one kind: longer once it has
    had many codes today, from whoever asked."""
    interval = current_app.config["SMS_RESEND_INTERVAL"]
    if _wait(SMS_SLOWDOWN_PER_PHONE, "sms-phone", phone):
        return max(interval, SMS_SLOW_RESEND_INTERVAL)
    return interval


def mark_sms_queued(phone: str) -> None:
    """Call when a view queued an SMS to `phone`: only those requests use up the SMS
    budgets, so a "please wait a minute" answer does not lock anyone out for the day."""
    request.environ[_SMS_QUEUED] = True
    _hit(SMS_SLOWDOWN_PER_PHONE, "sms-phone", phone)


def _sms_was_queued(response) -> bool:
    return bool(request.environ.get(_SMS_QUEUED))


def sms_limits(session_key: str):
    """Decorator: the SMS budget per number and client (the number typed, or kept in
    the session under `session_key` when the person asks to resend) and per IP."""

    def decorate(view):
        view = limiter.shared_limit(
            SMS_LIMIT_PER_CLIENT,
            scope="sms-client",
            key_func=lambda: "{}|{}".format(
                _session_phone_key(session_key)
                if request.form.get("resend")
                else _typed_phone_key(),
                client_address(),
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


def retry_after_seconds(error) -> int | None:
    """How long the client behind a 429 must wait: from TooManyAttempts, or from the
    Flask-Limiter limit that was breached in this request."""
    if isinstance(error, TooManyAttempts):
        return error.retry_after
    try:
        breached = [lim for lim in limiter.current_limits if lim.breached]
    except Exception:  # outside a request the limiter has no context
        return None
    if not breached:
        return None
    # window[0], not reset_at: that one adds a second, and "1/minute" would read "2 minutes".
    return max(1, max(math.ceil(lim.window[0] - time.time()) for lim in breached))
