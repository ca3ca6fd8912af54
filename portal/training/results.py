"""Attendance per day (roster or QR check-in) and results; a pass of a certifying course
issues the certificate in the same transaction. Staff actions, audited; flush only."""

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import audit
from portal.branches.scope import REVIEW_ROLES, acting_role
from portal.extensions import db
from portal.timeutil import utcnow
from portal.training import certificates
from portal.training.errors import TrainingError
from portal.training.models import (
    ATTENDED,
    CONFIRMED,
    FAILED,
    NO_SHOW,
    PASSED,
    Attendance,
    Booking,
    ClassDay,
    ClassSession,
)


def roster(session: ClassSession) -> list[Booking]:
    """The confirmed people of a session, by name."""
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.session_id == session.id, Booking.status == CONFIRMED)
            .order_by(Booking.attendee_name, Booking.id)
        )
    )


def attendance_map(session: ClassSession) -> dict[tuple[int, int], bool]:
    """{(booking id, day id): present} for the session."""
    rows = db.session.execute(
        select(Attendance.booking_id, Attendance.day_id, Attendance.present)
        .join(ClassDay, ClassDay.id == Attendance.day_id)
        .where(ClassDay.session_id == session.id)
    )
    return {(b, d): p for b, d, p in rows}


def _set(booking_id: int, day_id: int, present: bool, actor) -> bool:
    row = db.session.scalar(
        select(Attendance).where(Attendance.booking_id == booking_id, Attendance.day_id == day_id)
    )
    if row is None:
        db.session.add(
            Attendance(booking_id=booking_id, day_id=day_id, present=present, marked_by_id=actor.id)
        )
        return True
    if row.present != present:
        row.present, row.marked_at, row.marked_by_id = present, utcnow(), actor.id
        return True
    return False


def _check_day(session: ClassSession, day: ClassDay, now) -> None:
    if day.session_id != session.id:
        raise TrainingError(_l("This day is not part of the class."))
    if session.is_cancelled:
        raise TrainingError(_l("This class has been cancelled."))
    # Attendance may be taken from an hour before the day starts.
    if (now or utcnow()) < day.starts_at - timedelta(hours=1):
        raise TrainingError(_l("Attendance can be taken from an hour before the day starts."))


def mark_roster(actor, session: ClassSession, day: ClassDay, present_ids: set[int], now=None):
    """Everyone on the roster is marked present (ticked) or absent for `day`."""
    _check_day(session, day, now)
    changed = 0
    for booking in roster(session):
        changed += _set(booking.id, day.id, booking.id in present_ids, actor)
    db.session.flush()
    audit.record(
        "training_attendance_marked",
        actor=actor,
        actor_role=acting_role(actor, session.branch, REVIEW_ROLES),
        branch_id=session.branch_id,
        object_kind="class_session",
        object_id=session.id,
        changes={"day": day.day_no, "present": len(present_ids), "changed": changed},
    )
    return changed


def check_in(actor, booking: Booking, day: ClassDay, now=None) -> None:
    """Mark the person of `booking` present on `day` (scanned from their booking's QR)."""
    session = booking.session
    _check_day(session, day, now)
    if booking.status != CONFIRMED:
        raise TrainingError(_l("This booking is not a confirmed seat."))
    _set(booking.id, day.id, True, actor)
    db.session.flush()
    audit.record(
        "training_checked_in",
        actor=actor,
        actor_role=acting_role(actor, session.branch, REVIEW_ROLES),
        branch_id=session.branch_id,
        object_kind="class_booking",
        object_id=booking.id,
        changes={"day": day.day_no},
    )


def record_result(actor, booking: Booking, theory: int | None, practical: bool | None, now=None):
    """Record the outcome of a confirmed booking once the class has ended. With an exam:
    passed = present every day, theory at least the pass mark and practical passed.
    Without: attended (present every day) or no-show. A pass of a certifying course
    issues its certificate (once). Returns the certificate issued, if any."""
    session = booking.session
    course = session.course
    now = now or utcnow()
    if booking.status != CONFIRMED:
        raise TrainingError(_l("Results are recorded for confirmed seats only."))
    if session.is_cancelled or now < session.days[-1].starts_at:
        raise TrainingError(_l("Results can be recorded on the last day of the class."))
    if booking.outcome == PASSED:
        raise TrainingError(_l("This person has already passed."))
    marks = attendance_map(session)
    days_present = sum(1 for d in session.days if marks.get((booking.id, d.id)))
    every_day = days_present == len(session.days)
    if course.has_exam:
        if theory is not None and not 0 <= theory <= 100:
            raise TrainingError(_l("The theory score is out of 100."))
        if days_present == 0:
            outcome = NO_SHOW
        elif every_day and theory is not None and theory >= course.pass_mark and practical:
            outcome = PASSED
        else:
            outcome = FAILED
    else:
        theory, practical = None, None
        outcome = ATTENDED if every_day else NO_SHOW
    if (booking.outcome, booking.theory_score, booking.practical_passed) == (
        outcome,
        theory,
        practical,
    ):
        return None  # saved again unchanged: nothing to record
    booking.theory_score, booking.practical_passed = theory, practical
    booking.outcome, booking.result_at, booking.result_by_id = outcome, now, actor.id
    db.session.flush()
    audit.record(
        "training_result_recorded",
        actor=actor,
        actor_role=acting_role(actor, session.branch, REVIEW_ROLES),
        branch_id=session.branch_id,
        object_kind="class_booking",
        object_id=booking.id,
        changes={"outcome": outcome, "theory": theory, "practical": practical},
    )
    if outcome == PASSED and course.certifies:
        return certificates.issue(booking, now)
    return None
