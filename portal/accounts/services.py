"""Account rules: registering, logging in, resetting and changing passwords, sessions.

Functions take plain values, add and flush, and never commit: the view commits once,
also after a failure, so spent code tries and failed-login audit entries are kept.
Messages in exceptions are translated and ready to show beside the form.
"""

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from portal import audit
from portal.accounts import smscodes
from portal.accounts.models import ServerSession, User
from portal.accounts.password_policy import password_problems
from portal.accounts.passwords import hash_password, needs_rehash, verify_password
from portal.extensions import db
from portal.notifications.services import queue_sms
from portal.sessions import is_live, revoke_user_sessions
from portal.timeutil import utcnow

SMS_KIND_CODE = "sms_code"
SMS_KIND_NOTICE = "account_notice"


class AccountError(Exception):
    """A rule refused the request; `message` is translated and ready to show."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class WrongCredentials(AccountError):
    def __init__(self):
        super().__init__(_l("The phone number or password is wrong."))


class AccountClosed(AccountError):
    def __init__(self):
        super().__init__(_l("This account has been closed. Please contact the Red Cross for help."))


class WrongCurrentPassword(AccountError):
    def __init__(self):
        super().__init__(_l("Your current password is not right."))


class PasswordRejected(AccountError):
    def __init__(self, problems: list):
        super().__init__(problems[0])
        self.problems = problems


def find_user_by_phone(phone: str) -> User | None:
    return db.session.scalar(select(User).where(User.phone == phone))


def _code_text(purpose: str, code: str) -> str:
    minutes = int(current_app.config["SMS_CODE_TTL"].total_seconds() // 60)
    if purpose == "register":
        return _(
            "Your code to register is %(code)s, valid for %(minutes)d minutes. "
            "Do not share it with anyone.",
            code=code,
            minutes=minutes,
        )
    if purpose == "login":
        return _(
            "Your code to log in is %(code)s, valid for %(minutes)d minutes. "
            "Do not share it with anyone.",
            code=code,
            minutes=minutes,
        )
    return _(
        "Your code to set a new password is %(code)s, valid for %(minutes)d "
        "minutes. Do not share it with anyone.",
        code=code,
        minutes=minutes,
    )


def _notice_text(purpose: str) -> str:
    if purpose == "register":
        return _(
            "This mobile number already has an account, so no new account is "
            'needed. Please log in with it. If you forgot the password, choose "Forgot '
            'password" on the log-in page.'
        )
    return _(
        "Someone asked for a code for this mobile number, but it has no "
        "account yet. To use the portal, please register first. If this was not you, you can "
        "ignore this message."
    )


def send_code(phone: str, purpose: str, resend_interval: timedelta | None = None) -> None:
    """Send a one-time code for `purpose` ("register", "login" or "reset") to `phone`.

    The screen never tells whether the number has an account, so this always issues
    a code (and obeys the once-a-minute rule: raises smscodes.ResendTooSoon) but
    only puts it in the SMS when it can be used: registering a number that already
    has an account, or logging in / resetting one that has none, sends a notice
    saying so instead. `resend_interval` overrides the usual wait between two codes.
    Queues the SMS in the outbox; the caller commits.
    """
    issued = smscodes.issue_code(phone, purpose, resend_interval=resend_interval)
    has_account = find_user_by_phone(phone) is not None
    if has_account == (purpose == "register"):
        queue_sms(phone, _notice_text(purpose), kind=SMS_KIND_NOTICE)
    else:
        queue_sms(phone, _code_text(purpose, issued.code), kind=SMS_KIND_CODE)


def check_new_password(password: str, phone: str) -> None:
    """Raise PasswordRejected unless `password` meets the password policy."""
    problems = password_problems(password, phone)
    if problems:
        raise PasswordRejected(problems)


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()


def register_user(phone: str, code: str, password: str) -> User:
    """Create the account for `phone` once its registration code checks out.

    Refuses a password that breaks the policy (PasswordRejected, before the code is
    tried) and a wrong, expired or used code (smscodes.CodeError). A number that
    already has an account never got a usable code; if one is somehow presented it
    is refused like a wrong code, so the answer says nothing about the account.
    The new account counts as phone-verified; adds the "register" audit entry.
    """
    check_new_password(password, phone)
    smscodes.verify_code(phone, "register", code)
    if find_user_by_phone(phone) is not None:
        raise smscodes.CodeExpired()
    now = utcnow()
    user = User(phone=phone, phone_verified_at=now, created_at=now)
    _set_password(user, password)
    db.session.add(user)
    db.session.flush()
    audit.record("register", actor=user, object_kind="user", object_id=user.id)
    return user


def _record_failed_login(phone: str, user: User | None, method: str) -> None:
    # For an existing staff account, one entry per top branch of their scope, so the
    # auditors there see attempts on it; an unknown number or a citizen: no branch.
    audit.record_for_person(
        "login_failed",
        user,
        actor=user,
        object_kind="user",
        object_id=user.id if user else None,
        changes={"method": method},
    )


def record_password_login_paused(phone: str) -> None:
    """Audit that wrong passwords from anywhere paused password login for `phone`
    (it needs an SMS code for a while), so the owner's auditors see the attack."""
    user = find_user_by_phone(phone)
    audit.record_for_person(
        "password_login_paused",
        user,
        actor=None,
        object_kind="user",
        object_id=user.id if user else None,
    )


def authenticate_password(phone: str, password: str) -> User:
    """The user whose number is `phone` and whose password is `password`.

    Raises WrongCredentials (the same for an unknown number and a wrong password,
    after the same hashing work) and records "login_failed"; raises AccountClosed
    only after a right password. Upgrades an outdated hash on success. Does not log
    in: the view calls auth.start_login().
    """
    user = find_user_by_phone(phone)
    if not verify_password(user.password_hash if user else None, password):
        _record_failed_login(phone, user, "password")
        raise WrongCredentials()
    if not user.is_active_account:
        _record_failed_login(phone, user, "password")
        raise AccountClosed()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def authenticate_code(phone: str, code: str) -> User:
    """The user whose number is `phone`, once the login code checks out.

    Raises smscodes.CodeError for a wrong, expired or used code (an unknown number
    gets the same answer) and records "login_failed"; AccountClosed for a closed
    account.
    """
    user = find_user_by_phone(phone)
    try:
        smscodes.verify_code(phone, "login", code)
        if user is None:
            raise smscodes.CodeExpired()
    except smscodes.CodeError:
        _record_failed_login(phone, user, "sms_code")
        raise
    if not user.is_active_account:
        _record_failed_login(phone, user, "sms_code")
        raise AccountClosed()
    return user


def reset_password(phone: str, code: str, new_password: str) -> User:
    """Set a new password for the account of `phone` after an SMS code.

    Refuses a password that breaks the policy (PasswordRejected, before the code is
    tried) and a bad code (smscodes.CodeError; an unknown number gets the same
    answer). Ends every session of the account, everywhere, and records
    "password_reset". The person then logs in afresh.
    """
    check_new_password(new_password, phone)
    smscodes.verify_code(phone, "reset", code)
    user = find_user_by_phone(phone)
    if user is None:
        raise smscodes.CodeExpired()
    _replace_password(user, new_password, "password_reset")
    return user


def change_password(
    user: User, current_password: str, new_password: str, keep_session_id: int | None
) -> int:
    """Replace `user`'s password after checking the current one.

    Raises WrongCurrentPassword when the current password is wrong, PasswordRejected
    for a policy failure or an unchanged password. Ends every other session of the
    user (all but `keep_session_id`), records "password_changed" and returns how
    many sessions were ended. The view rotates the kept session's id.
    """
    if not verify_password(user.password_hash, current_password):
        raise WrongCurrentPassword()
    check_new_password(new_password, user.phone)
    if current_password == new_password:
        raise PasswordRejected([_l("The new password must be different from the current one.")])
    return _replace_password(user, new_password, "password_changed", keep_session_id)


def _replace_password(
    user: User, new_password: str, action: str, keep_session_id: int | None = None
) -> int:
    """Store the new hash, end the user's other sessions (all of them unless one is
    kept) and audit `action`; returns how many sessions were ended."""
    _set_password(user, new_password)
    ended = revoke_user_sessions(user.id, keep_row_id=keep_session_id)
    audit.record(
        action,
        actor=user,
        object_kind="user",
        object_id=user.id,
        changes={"sessions_ended": ended},
    )
    return ended


def live_sessions(user: User, now: datetime | None = None) -> list[ServerSession]:
    """The user's sessions that still work (not ended, not timed out), newest first."""
    now = now or utcnow()
    rows = db.session.scalars(
        select(ServerSession)
        .where(ServerSession.user_id == user.id, ServerSession.revoked_at.is_(None))
        .order_by(ServerSession.last_seen_at.desc(), ServerSession.id.desc())
    ).all()
    return [row for row in rows if is_live(current_app, row, now)]


def end_session(user: User, session_id: int, current_session_id: int | None) -> bool:
    """End one of `user`'s other live sessions. False (and nothing changes) when the id
    is not a live session of this user, or is the session making the request (that
    one ends by logging out)."""
    if session_id == current_session_id:
        return False
    row = db.session.get(ServerSession, session_id)
    if row is None or row.user_id != user.id or not is_live(current_app, row, utcnow()):
        return False
    ended = db.session.execute(
        update(ServerSession)
        .where(ServerSession.id == row.id, ServerSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if ended:
        audit.record("session_ended", actor=user, object_kind="session", object_id=row.id)
    return bool(ended)


def end_other_sessions(user: User, current_session_id: int | None) -> int:
    """End all of `user`'s sessions except the current one; returns how many."""
    ended = revoke_user_sessions(user.id, keep_row_id=current_session_id)
    if ended:
        audit.record(
            "sessions_ended",
            actor=user,
            object_kind="user",
            object_id=user.id,
            changes={"count": ended},
        )
    return ended
