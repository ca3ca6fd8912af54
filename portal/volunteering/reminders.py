"""The day-before reminder: one SMS per live sign-up whose shift starts tomorrow
(Asia/Shanghai), however often the command runs. Each sign-up is claimed with a
conditional UPDATE (reminded_at still empty) before its SMS is queued in the same
transaction, so two runs, even at once, send one reminder."""

from datetime import date, timedelta

from sqlalchemy import select, update

from portal.extensions import db
from portal.timeutil import local_to_utc, today_local, utcnow
from portal.volunteering import notices
from portal.volunteering.service_models import (
    PUBLISHED,
    SIGNED_UP,
    ShiftSignup,
    VolunteerActivity,
    VolunteerShift,
)


def send_reminders(today: date | None = None) -> int:
    """Queue tomorrow's reminders not yet sent; commits each; returns how many."""
    tomorrow = (today or today_local()) + timedelta(days=1)
    start = local_to_utc(tomorrow)
    ids = list(
        db.session.scalars(
            select(ShiftSignup.id)
            .join(VolunteerShift, VolunteerShift.id == ShiftSignup.shift_id)
            .join(VolunteerActivity, VolunteerActivity.id == VolunteerShift.activity_id)
            .where(
                ShiftSignup.status == SIGNED_UP,
                ShiftSignup.reminded_at.is_(None),
                VolunteerActivity.status == PUBLISHED,
                VolunteerShift.starts_at >= start,
                VolunteerShift.starts_at < start + timedelta(days=1),
            )
            .order_by(ShiftSignup.id)
        )
    )
    sent = 0
    for signup_id in ids:
        claimed = db.session.execute(
            update(ShiftSignup)
            .where(
                ShiftSignup.id == signup_id,
                ShiftSignup.reminded_at.is_(None),
                ShiftSignup.status == SIGNED_UP,
            )
            .values(reminded_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed == 1:
            notices.reminder(db.session.get(ShiftSignup, signup_id))
            sent += 1
        db.session.commit()
    return sent
