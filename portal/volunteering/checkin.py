"""Check-in and check-out: by a QR code on the organiser's screen, or by hand on the
roster.

The QR code holds a portal URL with a token signed by the app's secret
(itsdangerous, with a timestamp): which shift, check-in or check-out, and the
30-second window it was made in. The screen makes a new one every window; a token is
accepted for TOKEN_MAX_AGE seconds (its own window and a little scanning time), then
refused as expired. Every refusal has its own message and records nothing.

Services add and flush only; the views commit."""

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from portal import audit
from portal.branches.scope import REVIEW_ROLES, acting_role
from portal.extensions import db
from portal.review.services import ReviewError
from portal.timeutil import utcnow
from portal.volunteering.hours import record_stay
from portal.volunteering.service_models import SIGNED_UP, ShiftSignup, VolunteerShift
from portal.volunteering.signups import live_signup

WINDOW_SECONDS = 30
TOKEN_MAX_AGE = 60
IN, OUT = "in", "out"
_SALT = "volunteer-shift-check"
# How long before a shift starts check-in opens, and after it ends check-out stays open.
OPEN_BEFORE_MINUTES = 60
OPEN_AFTER_MINUTES = 180


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def make_token(shift_id: int, action: str, now: float | None = None) -> str:
    """The token shown in the QR code for `shift_id` and `action` ("in"/"out")."""
    import time

    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    serializer = _serializer()
    # Signed as of the window's start, so one code on the screen is one token, and its
    # age (hence expiry) counts from when it first appeared.
    signer = serializer.make_signer(_SALT)
    signer.get_timestamp = lambda: window * WINDOW_SECONDS
    payload = serializer.dump_payload({"s": shift_id, "a": action, "w": window})
    return signer.sign(payload).decode()


class CheckRefused(ReviewError):
    """A scan that records nothing; `code` names why (for tests and the page)."""

    def __init__(self, code: str, message):
        super().__init__(message)
        self.code = code


MESSAGES = {
    "expired": _l("This code has expired. Please scan the code on the organiser's screen again."),
    "forged": _l("This code is not valid. Please scan the code on the organiser's screen."),
    "wrong_shift": _l("This code belongs to another shift. Please scan the code for your shift."),
    "not_signed_up": _l("You are not signed up for this shift, so you cannot check in."),
    "already_in": _l("You are already checked in."),
    "already_out": _l("You have already checked out."),
    "not_in": _l("You have not checked in yet: scan the check-in code first."),
    "not_open": _l("Check-in for this shift is not open at this time."),
}


def refuse(code: str) -> CheckRefused:
    return CheckRefused(code, MESSAGES[code])


@dataclass(frozen=True)
class Scan:
    shift_id: int
    action: str


def read_token(token: str, shift_id: int, max_age: int = TOKEN_MAX_AGE) -> Scan:
    """The scan a token stands for, for the shift in the URL. Refuses: expired, forged
    (bad signature or content), another shift's."""
    if not token or len(token) > 200:
        raise refuse("forged")
    serializer = _serializer()
    try:
        data = serializer.loads(token, max_age=max_age)
    except SignatureExpired:
        raise refuse("expired") from None
    except BadSignature:
        raise refuse("forged") from None
    if not isinstance(data, dict) or data.get("a") not in (IN, OUT):
        raise refuse("forged")
    if data.get("s") != shift_id:
        raise refuse("wrong_shift")
    return Scan(shift_id, data["a"])


def _open(shift: VolunteerShift, now: datetime) -> bool:
    from datetime import timedelta

    return (
        shift.starts_at - timedelta(minutes=OPEN_BEFORE_MINUTES)
        <= now
        <= shift.ends_at + timedelta(minutes=OPEN_AFTER_MINUTES)
    )


def check_by_scan(volunteer, shift: VolunteerShift, scan: Scan, now=None) -> ShiftSignup:
    """Check the volunteer in or out by a token already read (read_token). Refuses: not
    signed up, outside the shift's opening, already in (a replayed check-in code),
    already out, out before in."""
    now = now or utcnow()
    signup = live_signup(volunteer, shift) if volunteer is not None else None
    if signup is None:
        raise refuse("not_signed_up")
    if scan.action == IN:
        if signup.checked_in_at is not None:
            raise refuse("already_in")
        if not _open(shift, now):
            raise refuse("not_open")
        signup.checked_in_at = now
    else:
        if signup.checked_out_at is not None:
            raise refuse("already_out")
        if signup.checked_in_at is None:
            raise refuse("not_in")
        signup.checked_out_at = now
        record_stay(signup)
    db.session.flush()
    return signup


def check_by_hand(actor, signup: ShiftSignup, action: str, at: datetime) -> None:
    """The organiser records a check-in or check-out for someone (a volunteer without a
    phone, a forgotten check-out), at time `at` (UTC); who did it is kept on the sign-up
    and in the audit log."""
    branch = signup.shift.activity.branch
    role = acting_role(actor, branch, REVIEW_ROLES)
    if role is None:
        raise ReviewError(_l("You cannot change this roster."))
    if signup.status != SIGNED_UP:
        raise ReviewError(_l("This sign-up has been cancelled."))
    if action == IN:
        if signup.checked_out_at is not None and at >= signup.checked_out_at:
            raise ReviewError(_l("The check-in must come before the check-out."))
        signup.checked_in_at = at
        signup.checked_in_by_id = actor.id
    elif action == OUT:
        if signup.checked_in_at is None:
            raise ReviewError(_l("Check this volunteer in first."))
        if at <= signup.checked_in_at:
            raise ReviewError(_l("The check-out must come after the check-in."))
        signup.checked_out_at = at
        signup.checked_out_by_id = actor.id
    else:
        raise ReviewError(_l("Please choose check-in or check-out."))
    if signup.checked_out_at is not None:
        record_stay(signup)
    audit.record(
        "volunteer_checked_by_hand",
        actor=actor,
        actor_role=role,
        branch_id=branch.id,
        object_kind="shift_signup",
        object_id=signup.id,
        changes={"action": action, "at": at.isoformat(timespec="minutes")},
    )
    db.session.flush()
