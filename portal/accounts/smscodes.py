"""One-time codes sent by SMS: for registering, logging in and resetting a password.

Only a keyed hash of each code is stored (a plain SHA-256 of six digits would be
reversed in a blink). A code lives SMS_CODE_TTL, dies after SMS_CODE_MAX_ATTEMPTS
tries, and a newer code for the same phone and purpose replaces the older one.
"""

import hmac
import math
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import select, update

from portal.accounts.models import SmsCode
from portal.crypto import blind_index
from portal.extensions import db
from portal.timeutil import utcnow

# "organ_withdraw": confirming the withdrawal of an organ / body donation registration.
# "donation": a donor without an account opens their gift's trail (portal/donations/trail.py).
PURPOSES = frozenset({"register", "login", "reset", "organ_withdraw", "donation"})
CODE_DIGITS = 6


class CodeError(Exception):
    """A code could not be issued or accepted; `message` is ready to show."""

    message = _l("This code cannot be used. Please ask for a new one.")

    def __str__(self) -> str:
        return str(self.message)


class ResendTooSoon(CodeError):
    def __init__(self, wait_seconds: int):
        super().__init__()
        self.wait_seconds = wait_seconds
        if wait_seconds <= 90:
            self.message = _l(
                "We just sent you a code. Please wait %(seconds)d seconds before asking for another one.",
                seconds=wait_seconds,
            )
        else:
            # Many codes went to this number today: the wait is longer, and the last
            # code (on the phone already) is the one to use meanwhile.
            self.message = lazy_ngettext(
                "A code was sent to this number a short while ago. Please use it, or wait "
                "about %(num)d minute before asking for another one.",
                "A code was sent to this number a short while ago. Please use it, or wait "
                "about %(num)d minutes before asking for another one.",
                math.ceil(wait_seconds / 60),
            )


class CodeExpired(CodeError):
    message = _l("This code has expired. Please ask for a new one.")


class CodeBurned(CodeError):
    message = _l("This code was typed wrongly too many times. Please ask for a new one.")


class CodeWrong(CodeError):
    def __init__(self, remaining: int):
        super().__init__()
        self.remaining = remaining
        self.message = _l(
            "The code is not right. You can try %(remaining)d more times.", remaining=remaining
        )


@dataclass(frozen=True)
class IssuedCode:
    code: str  # the plain code, to put in the SMS; never stored
    row: SmsCode


def _digest(salt: str, phone: str, purpose: str, code: str) -> str:
    return blind_index(f"{salt}:{phone}:{purpose}:{code}", "sms_code")


def _hash(phone: str, purpose: str, code: str) -> str:
    salt = secrets.token_hex(8)
    return f"{salt}${_digest(salt, phone, purpose, code)}"


def _matches(row: SmsCode, code: str) -> bool:
    salt, _, stored = row.code_hash.partition("$")
    return hmac.compare_digest(stored, _digest(salt, row.phone, row.purpose, code))


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown SMS code purpose: {purpose!r}")


def latest_code(phone: str, purpose: str) -> SmsCode | None:
    """The newest code row for this phone and purpose, used or not."""
    return db.session.scalar(
        select(SmsCode)
        .where(SmsCode.phone == phone, SmsCode.purpose == purpose)
        .order_by(SmsCode.created_at.desc(), SmsCode.id.desc())
        .limit(1)
    )


def issue_code(
    phone: str,
    purpose: str,
    now: datetime | None = None,
    resend_interval: timedelta | None = None,
) -> IssuedCode:
    """Make a fresh 6-digit code for `phone` and `purpose` and store its hash.

    Refuses with ResendTooSoon when the last code for the same phone and purpose is
    younger than `resend_interval` (default SMS_RESEND_INTERVAL). Any older unused
    code stops working. Adds and flushes; the caller sends the SMS and commits.
    """
    _check_purpose(purpose)
    now = now or utcnow()
    cfg = current_app.config
    interval = resend_interval if resend_interval is not None else cfg["SMS_RESEND_INTERVAL"]
    last = latest_code(phone, purpose)
    if last is not None:
        age = now - last.created_at
        if age < interval:
            wait = interval - age
            raise ResendTooSoon(max(1, math.ceil(wait.total_seconds())))
    db.session.execute(
        update(SmsCode)
        .where(SmsCode.phone == phone, SmsCode.purpose == purpose, SmsCode.consumed_at.is_(None))
        .values(consumed_at=now)
        .execution_options(synchronize_session=False)
    )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    row = SmsCode(
        phone=phone,
        purpose=purpose,
        code_hash=_hash(phone, purpose, code),
        created_at=now,
        expires_at=now + cfg["SMS_CODE_TTL"],
        attempts=0,
    )
    db.session.add(row)
    db.session.flush()
    return IssuedCode(code=code, row=row)


def clean_code(raw: str | None) -> str:
    """What the person typed, as plain ASCII digits (full-width digits and spaces allowed)."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(text.split())


def verify_code(phone: str, purpose: str, code: str, now: datetime | None = None) -> None:
    """Accept `code` for `phone` and `purpose` once, or raise a CodeError.

    Every try counts, right or wrong, and is counted in the database before the
    comparison, so parallel guesses cannot go past SMS_CODE_MAX_ATTEMPTS: after that
    many wrong tries the code is dead even if the next try is right. The comparison is
    constant-time. On success the code is used up. Flushes; the caller must commit
    even on failure so the spent try is kept.
    """
    _check_purpose(purpose)
    now = now or utcnow()
    max_attempts = current_app.config["SMS_CODE_MAX_ATTEMPTS"]
    row = db.session.scalar(
        select(SmsCode)
        .where(SmsCode.phone == phone, SmsCode.purpose == purpose, SmsCode.consumed_at.is_(None))
        .order_by(SmsCode.created_at.desc(), SmsCode.id.desc())
        .limit(1)
    )
    if row is None:
        # Used, replaced or never sent: the person's next step is the same.
        last = latest_code(phone, purpose)
        if last is not None and last.attempts >= max_attempts:
            raise CodeBurned()
        raise CodeExpired()
    if now >= row.expires_at:
        raise CodeExpired()
    counted = db.session.execute(
        update(SmsCode)
        .where(
            SmsCode.id == row.id,
            SmsCode.consumed_at.is_(None),
            SmsCode.attempts < max_attempts,
        )
        .values(attempts=SmsCode.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(row)
    if not counted:
        raise CodeBurned()
    cleaned = clean_code(code)
    if not (len(cleaned) == CODE_DIGITS and cleaned.isascii() and _matches(row, cleaned)):
        if row.attempts >= max_attempts:
            raise CodeBurned()
        raise CodeWrong(max_attempts - row.attempts)
    used = db.session.execute(
        update(SmsCode)
        .where(SmsCode.id == row.id, SmsCode.consumed_at.is_(None))
        .values(consumed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(row)
    if not used:  # another request used it a moment ago
        raise CodeExpired()
