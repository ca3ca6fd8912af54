"""The membership term, shared by individual members and group members (团体会员): a
numbered row valid from / until, its life cycle (active, expiring in the last 30 days,
expired, resigned, revoked), renewal and ending, and the staff list's status filter.
Each kind keeps its own rules on who may act; what happens to the term is here once.

Adds and flushes only; the caller commits."""

from datetime import date, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_

from portal import audit
from portal.membership.models import ACTIVE, EXPIRED, RESIGNED, REVOKED
from portal.review.services import ReviewError
from portal.textcheck import HIDDEN_CHARACTERS_MESSAGE, has_hidden_characters
from portal.timeutil import today_local, utcnow

EXPIRING_DAYS = 30
EXPIRING = "expiring"  # computed, never stored
REASON_MAX = 200

STATUS_LABELS = {
    ACTIVE: _l("Active"),
    EXPIRING: _l("Expiring soon"),
    EXPIRED: _l("Expired"),
    RESIGNED: _l("Resigned"),
    REVOKED: _l("Revoked"),
}
# The staff lists' status filter, in this order.
FILTERS = (ACTIVE, EXPIRING, EXPIRED, RESIGNED, REVOKED)


def term_years() -> int:
    return int(current_app.config.get("MEMBERSHIP_TERM_YEARS", 3))


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def lifecycle(term, today: date | None = None) -> str:
    """The status as shown: the stored one, or "expiring" in the last 30 days of an
    active term, or "expired" once the term is over (before the CLI marks it)."""
    today = today or today_local()
    if term.status != ACTIVE:
        return term.status
    if term.valid_until < today:
        return EXPIRED
    if term.valid_until - today <= timedelta(days=EXPIRING_DAYS):
        return EXPIRING
    return ACTIVE


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def clean(value: str | None) -> str | None:
    value = (value or "").replace("\x00", "").strip()
    return value or None


def start_term(term, number: str, card_token: str) -> None:
    """A fresh term from today with a new number and card (a first admission, or a
    former member admitted again)."""
    today = today_local()
    term.number = number
    term.status = ACTIVE
    term.valid_from = today
    term.valid_until = add_years(today, term_years())
    term.card_token = card_token
    term.ended_at = term.end_reason = None
    term.expiring_notice_at = term.expired_notice_at = None


def renew(term, actor, object_kind: str, action: str) -> None:
    """Extend the term by one term from the later of today and its end. Only while
    expiring or expired (not after resigning or revocation). The caller checked that
    `actor` may."""
    state = lifecycle(term)
    if state not in (EXPIRING, EXPIRED) or term.status not in (ACTIVE, EXPIRED):
        raise ReviewError(_l("Your membership can be renewed in its last 30 days."))
    start = max(today_local(), term.valid_until)
    old_until = term.valid_until
    term.valid_until = add_years(start, term_years())
    term.status = ACTIVE
    term.renewed_at = utcnow()
    term.expiring_notice_at = term.expired_notice_at = None
    audit.record(
        action,
        actor=actor,
        branch_id=term.branch_id,
        object_kind=object_kind,
        object_id=term.id,
        changes={"valid_until": [old_until.isoformat(), term.valid_until.isoformat()]},
    )


def end(term, status: str, reason: str | None, actor, action: str, object_kind: str, role=None):
    """Resign or revoke: the term ends now with the reason (audited). Refuses a term
    already ended and a reason with hidden characters or over REASON_MAX."""
    reason = clean(reason)
    if has_hidden_characters(reason, multiline=True):
        raise ReviewError(HIDDEN_CHARACTERS_MESSAGE)
    if reason is not None and len(reason) > REASON_MAX:
        raise ReviewError(_l("Please keep the reason under %(n)d characters.", n=REASON_MAX))
    if term.status in (RESIGNED, REVOKED):
        raise ReviewError(_l("This membership has already ended."))
    term.status = status
    term.ended_at = utcnow()
    term.end_reason = reason
    audit.record(
        action,
        actor=actor,
        actor_role=role,
        branch_id=term.branch_id,
        object_kind=object_kind,
        object_id=term.id,
        changes={"reason": reason},
    )


def status_clause(model, status: str, today):
    """The SQL condition for the staff lists' status filter on `model` (a term table)."""
    soon = today + timedelta(days=EXPIRING_DAYS)
    if status == ACTIVE:
        return and_(model.status == ACTIVE, model.valid_until > soon)
    if status == EXPIRING:
        return and_(model.status == ACTIVE, model.valid_until >= today, model.valid_until <= soon)
    if status == EXPIRED:
        return or_(model.status == EXPIRED, and_(model.status == ACTIVE, model.valid_until < today))
    return model.status == status
