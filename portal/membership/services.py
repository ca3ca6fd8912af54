"""Membership: applying (a review kind, "membership"), what approval makes (a numbered
Member with a term and a card token), renewal, resignation, revocation and expiry.

Services take plain values, add and flush only; the views and the CLI commit.
"""

from datetime import date, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import audit
from portal.branches.home_branch import ancestors, can_receive
from portal.branches.models import Branch
from portal.cards.services import new_token
from portal.extensions import db
from portal.membership.charter import CHARTER_VERSION
from portal.membership.models import (
    ACTIVE,
    EXPIRED,
    RESIGNED,
    REVOKED,
    Member,
    MembershipApplication,
)
from portal.notifications.services import queue_sms
from portal.numbering.services import next_number
from portal.review.models import PENDING
from portal.review.services import ReviewError
from portal.textcheck import HIDDEN_CHARACTERS_MESSAGE, has_hidden_characters
from portal.timeutil import today_local, utcnow

KIND = "membership"
EXPIRING_DAYS = 30
EXPIRING = "expiring"  # computed, never stored

# What citizens may ask for; "honorary" is granted by staff only, never offered.
CITIZEN_TYPES = {"ordinary": _l("Ordinary member"), "youth": _l("Youth member (students)")}
TYPES = {**CITIZEN_TYPES, "honorary": _l("Honorary member")}

STATUS_LABELS = {
    ACTIVE: _l("Active"),
    EXPIRING: _l("Expiring soon"),
    EXPIRED: _l("Expired"),
    RESIGNED: _l("Resigned"),
    REVOKED: _l("Revoked"),
}

ALREADY_PENDING = _l("You already have an application waiting. Withdraw it first to apply again.")


def pending_application(user) -> MembershipApplication | None:
    return db.session.scalar(
        select(MembershipApplication).where(
            MembershipApplication.user_id == user.id, MembershipApplication.status == PENDING
        )
    )


def membership_of(user) -> Member | None:
    return db.session.scalar(select(Member).where(Member.user_id == user.id))


def branches_for(user) -> list[Branch]:
    """Where a citizen may apply: their home branch and the branches above it that take
    members (open, below the national society), nearest first."""
    if user.home_branch is None:
        return []
    return [b for b in reversed(ancestors(user.home_branch)) if can_receive(b)]


def term_years() -> int:
    return int(current_app.config.get("MEMBERSHIP_TERM_YEARS", 3))


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def lifecycle(member: Member, today: date | None = None) -> str:
    """The member's status as shown: the stored one, or "expiring" in the last 30 days
    of an active term, or "expired" once the term is over (before the CLI marks it)."""
    today = today or today_local()
    if member.status != ACTIVE:
        return member.status
    if member.valid_until < today:
        return EXPIRED
    if member.valid_until - today <= timedelta(days=EXPIRING_DAYS):
        return EXPIRING
    return ACTIVE


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def _clean(value: str | None) -> str | None:
    value = (value or "").replace("\x00", "").strip()
    return value or None


def apply(
    user,
    branch: Branch | None,
    member_type: str,
    occupation: str,
    work_unit: str | None,
    address: str,
    motivation: str | None,
    charter_version: str,
) -> MembershipApplication:
    """A citizen applies to `branch`. Refuses (ReviewError): no real-name profile, a
    branch they may not apply to, a type citizens cannot ask for, a current membership,
    a second pending application, hidden characters, a stale charter version."""
    if user.profile is None:
        raise ReviewError(_l("Please add your real-name profile first."))
    if branch is None or branch.id not in {b.id for b in branches_for(user)}:
        raise ReviewError(_l("Please choose an open branch."))
    if member_type not in CITIZEN_TYPES:
        raise ReviewError(_l("Please choose a membership type."))
    if charter_version != CHARTER_VERSION:
        raise ReviewError(_l("Please read and agree to the charter."))
    current = membership_of(user)
    if current is not None and lifecycle(current) in (ACTIVE, EXPIRING):
        raise ReviewError(_l("You are already a member."))
    values = [_clean(v) for v in (occupation, work_unit, address, motivation)]
    if any(has_hidden_characters(v, multiline=True) for v in values):
        raise ReviewError(HIDDEN_CHARACTERS_MESSAGE)
    occupation, work_unit, address, motivation = values
    if not occupation or not address:
        raise ReviewError(_l("Please fill in your occupation and address."))
    if pending_application(user) is not None:
        raise ReviewError(ALREADY_PENDING)
    application = MembershipApplication(
        user_id=user.id,
        branch_id=branch.id,
        member_type=member_type,
        occupation=occupation,
        work_unit=work_unit,
        address=address,
        motivation=motivation,
        charter_version=charter_version,
    )
    try:
        # A savepoint: a double submit losing the race on the unique index undoes only this.
        with db.session.begin_nested():
            db.session.add(application)
    except IntegrityError:
        raise ReviewError(ALREADY_PENDING) from None
    return application


def series_key(branch: Branch) -> str:
    return f"member:{branch.code or branch.id}"


def format_number(branch: Branch, n: int) -> str:
    return f"HY-{branch.code or branch.id}-{n:06d}"


def admit(application: MembershipApplication, actor) -> Member:
    """On approval (inside the deciding transaction): the applicant becomes a member with
    the branch's next number, a fresh term and a card token. A former member (resigned,
    revoked, expired) keeps their row and gets a new number and card."""
    branch = application.branch
    number = format_number(branch, next_number(series_key(branch)))
    today = today_local()
    member = membership_of(application.user)
    if member is None:
        member = Member(user_id=application.user_id)
        db.session.add(member)
    member.branch_id = branch.id
    member.application_id = application.id
    member.number = number
    member.member_type = application.member_type
    member.status = ACTIVE
    member.valid_from = today
    member.valid_until = add_years(today, term_years())
    member.card_token = new_token()
    member.ended_at = member.end_reason = None
    member.expiring_notice_at = member.expired_notice_at = None
    db.session.flush()
    return member


def number_note(application: MembershipApplication) -> str | None:
    """The line the approval SMS gains (review's decision_note, called in the applicant's
    language after admit): the new member number."""
    number = db.session.scalar(select(Member.number).where(Member.application_id == application.id))
    return _("Your member number is %(number)s.", number=number) if number else None


def renew(member: Member, user) -> None:
    """The member extends their term by one term from the later of today and its end.
    Only while expiring or expired (not after resigning or revocation)."""
    if member.user_id != user.id:
        raise ReviewError(_l("Only the member can renew."))
    state = lifecycle(member)
    if state not in (EXPIRING, EXPIRED) or member.status not in (ACTIVE, EXPIRED):
        raise ReviewError(_l("Your membership can be renewed in its last 30 days."))
    start = max(today_local(), member.valid_until)
    old_until = member.valid_until
    member.valid_until = add_years(start, term_years())
    member.status = ACTIVE
    member.renewed_at = utcnow()
    member.expiring_notice_at = member.expired_notice_at = None
    audit.record(
        "membership_renewed",
        actor=user,
        branch_id=member.branch_id,
        object_kind="member",
        object_id=member.id,
        changes={"valid_until": [old_until.isoformat(), member.valid_until.isoformat()]},
    )
    db.session.flush()


def _end(member: Member, status: str, reason: str | None, actor, action: str, role=None) -> None:
    reason = _clean(reason)
    if has_hidden_characters(reason, multiline=True):
        raise ReviewError(HIDDEN_CHARACTERS_MESSAGE)
    if reason is not None and len(reason) > 200:
        raise ReviewError(_l("Please keep the reason under %(n)d characters.", n=200))
    if member.status in (RESIGNED, REVOKED):
        raise ReviewError(_l("This membership has already ended."))
    member.status = status
    member.ended_at = utcnow()
    member.end_reason = reason
    audit.record(
        action,
        actor=actor,
        actor_role=role,
        branch_id=member.branch_id,
        object_kind="member",
        object_id=member.id,
        changes={"reason": reason},
    )
    db.session.flush()


def resign(member: Member, user, reason: str | None = None) -> None:
    if member.user_id != user.id:
        raise ReviewError(_l("Only the member can resign."))
    _end(member, RESIGNED, reason, user, "membership_resigned")


def revoke(member: Member, actor, role: str, reason: str | None) -> None:
    """Staff end a membership; the reason is required. The caller checked scope."""
    if not _clean(reason):
        raise ReviewError(_l("Please write the reason."))
    _end(member, REVOKED, reason, actor, "membership_revoked", role)


# --- SMS, in the citizen's language ----------------------------------------------------


def _sms(user, kind: str, pattern, **values) -> None:
    """Queue an SMS to `user` in their language: `pattern` is a lazy string with
    named placeholders."""
    if user is None or not user.phone:
        return
    locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        if "branch" in values and isinstance(values["branch"], Branch):
            values["branch"] = values["branch"].name(locale)
        body = str(pattern) % values
    queue_sms(user.phone, body, kind=kind)
