"""Expiry: members whose term ends within 30 days get one "expiring" SMS; members whose
term is over are marked expired and get one "expired" SMS. The same for group members
(团体会员), texted to their contact. The notice columns make a second run the same day
(or any later day) send nothing twice."""

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.membership import services, terms
from portal.membership.models import ACTIVE, EXPIRED, GroupMember, Member
from portal.timeutil import today_local, utcnow

EXPIRING_SMS = _l(
    "Your Red Cross membership %(number)s ends on %(date)s. You can renew it on the portal."
)
EXPIRED_SMS = _l(
    "Your Red Cross membership %(number)s has expired. You can renew it on the portal."
)
GROUP_EXPIRING_SMS = _l(
    "The Red Cross group membership %(number)s of %(name)s ends on %(date)s. You can renew "
    "it on the portal."
)
GROUP_EXPIRED_SMS = _l(
    "The Red Cross group membership %(number)s of %(name)s has expired. You can renew it "
    "on the portal."
)


@dataclass(frozen=True)
class _Termed:
    """A table of terms and what its holders are texted."""

    model: type
    kind: str  # the SMS kinds are <kind>_expiring and <kind>_expired
    expiring: object
    expired: object


TERMED = (
    _Termed(Member, "membership", EXPIRING_SMS, EXPIRED_SMS),
    _Termed(GroupMember, "group_membership", GROUP_EXPIRING_SMS, GROUP_EXPIRED_SMS),
)


def _values(row) -> dict:
    return {
        "number": row.number,
        "date": row.valid_until.isoformat(),
        "name": getattr(row, "org_name", ""),
    }


def _run(termed: _Termed, today, now) -> tuple[int, int]:
    model = termed.model
    expiring = db.session.scalars(
        select(model)
        .where(
            model.status == ACTIVE,
            model.valid_until >= today,
            model.valid_until <= today + timedelta(days=terms.EXPIRING_DAYS),
            model.expiring_notice_at.is_(None),
        )
        .options(joinedload(model.user))
        .with_for_update(of=model)
    ).all()
    for row in expiring:
        row.expiring_notice_at = now
        services._sms(row.user, f"{termed.kind}_expiring", termed.expiring, **_values(row))
    ended = db.session.scalars(
        select(model)
        .where(model.status == ACTIVE, model.valid_until < today)
        .options(joinedload(model.user))
        .with_for_update(of=model)
    ).all()
    for row in ended:
        row.status = EXPIRED
        if row.expired_notice_at is None:
            row.expired_notice_at = now
            services._sms(row.user, f"{termed.kind}_expired", termed.expired, **_values(row))
    return len(expiring), len(ended)


def run(today=None) -> tuple[int, int]:
    """Send the notices that are due and mark ended terms expired, for members and group
    members. Returns (expiring notices sent, terms expired). Flushes; the caller
    commits."""
    today = today or today_local()
    now = utcnow()
    notices = expired = 0
    for termed in TERMED:
        n, e = _run(termed, today, now)
        notices, expired = notices + n, expired + e
    db.session.flush()
    return notices, expired
