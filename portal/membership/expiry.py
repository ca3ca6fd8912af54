"""Expiry: members whose term ends within 30 days get one "expiring" SMS; members whose
term is over are marked expired and get one "expired" SMS. The notice columns make a
second run the same day (or any later day) send nothing twice."""

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.membership import services
from portal.membership.models import ACTIVE, EXPIRED, Member
from portal.timeutil import today_local, utcnow

EXPIRING_SMS = _l(
    "Your Red Cross membership %(number)s ends on %(date)s. You can renew it on the portal."
)
EXPIRED_SMS = _l(
    "Your Red Cross membership %(number)s has expired. You can renew it on the portal."
)


def run(today=None) -> tuple[int, int]:
    """Send the notices that are due and mark ended terms expired. Returns (expiring
    notices sent, memberships expired). Flushes; the caller commits."""
    today = today or today_local()
    now = utcnow()
    expiring = db.session.scalars(
        select(Member)
        .where(
            Member.status == ACTIVE,
            Member.valid_until >= today,
            Member.valid_until <= today + timedelta(days=services.EXPIRING_DAYS),
            Member.expiring_notice_at.is_(None),
        )
        .options(joinedload(Member.user))
        .with_for_update(of=Member)
    ).all()
    for member in expiring:
        member.expiring_notice_at = now
        services._sms(
            member.user,
            "membership_expiring",
            EXPIRING_SMS,
            number=member.number,
            date=member.valid_until.isoformat(),
        )
    ended = db.session.scalars(
        select(Member)
        .where(Member.status == ACTIVE, Member.valid_until < today)
        .options(joinedload(Member.user))
        .with_for_update(of=Member)
    ).all()
    for member in ended:
        member.status = EXPIRED
        if member.expired_notice_at is None:
            member.expired_notice_at = now
            services._sms(member.user, "membership_expired", EXPIRED_SMS, number=member.number)
    db.session.flush()
    return len(expiring), len(ended)
