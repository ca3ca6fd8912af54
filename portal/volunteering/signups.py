"""Signing up for shifts. Only an active registered volunteer who meets the activity's
requirements signs up, while seats remain and before the deadline; one live sign-up
per shift, none on two shifts at the same time. Seats are held by the shared capacity
service (portal/capacity) in the same transaction as the sign-up row, and the partial
unique index on shift_signups is the backstop against a double submit.

Services add and flush only; the views commit."""

from datetime import timedelta

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.capacity.seats import give_back_seats, take_seats
from portal.extensions import db
from portal.review.services import ReviewError
from portal.timeutil import to_local, utcnow
from portal.training.booking import has_valid_certificate, user_key
from portal.volunteering.models import Volunteer, VolunteerTeamMember
from portal.volunteering.service_models import (
    PUBLISHED,
    SIGNED_UP,
    WITHDRAWN,
    ShiftSignup,
    VolunteerActivity,
    VolunteerShift,
)
from portal.volunteering.services import age_of


class SeatsGone(ReviewError):
    """The shift filled up before this sign-up got a seat."""


def live_signup(volunteer, shift) -> ShiftSignup | None:
    return db.session.scalar(
        select(ShiftSignup).where(
            ShiftSignup.shift_id == shift.id,
            ShiftSignup.volunteer_id == volunteer.id,
            ShiftSignup.status == SIGNED_UP,
        )
    )


def overlapping(volunteer, shift) -> ShiftSignup | None:
    """The volunteer's live sign-up on another shift whose time overlaps this one."""
    return db.session.scalar(
        select(ShiftSignup)
        .join(VolunteerShift, VolunteerShift.id == ShiftSignup.shift_id)
        .where(
            ShiftSignup.volunteer_id == volunteer.id,
            ShiftSignup.status == SIGNED_UP,
            ShiftSignup.shift_id != shift.id,
            VolunteerShift.starts_at < shift.ends_at,
            VolunteerShift.ends_at > shift.starts_at,
        )
        .options(joinedload(ShiftSignup.shift).joinedload(VolunteerShift.activity))
        .limit(1)
    )


def why_not(volunteer, shift: VolunteerShift, now=None) -> str | None:
    """Why this volunteer cannot sign up for this shift now (a translated reason), or
    None when they can. Seats are checked by taking one, not here."""
    now = now or utcnow()
    activity = shift.activity
    if volunteer is None:
        return _l("Only registered volunteers can sign up. Register as a volunteer first.")
    if not volunteer.is_active:
        return _l("Your volunteer registration is not active, so you cannot sign up.")
    if activity.status != PUBLISHED:
        return _l("This activity is not open for sign-up.")
    if now >= activity.signup_deadline:
        return _l("Sign-up for this activity has closed.")
    if now >= shift.starts_at:
        return _l("This shift has already started.")
    if activity.min_age is not None:
        age = age_of(volunteer.user, to_local(shift.starts_at).date())
        if age is None or age < activity.min_age:
            return _l("This activity is for volunteers aged %(age)d or over.", age=activity.min_age)
    if activity.team_only and activity.team_id is not None:
        member = db.session.get(VolunteerTeamMember, (activity.team_id, volunteer.id))
        if member is None:
            return _l("This activity is for members of %(team)s.", team=activity.team.name)
    if activity.required_course_id is not None and not has_valid_certificate(
        user_key(volunteer.user_id),
        activity.required_course_id,
        to_local(shift.starts_at).date(),
    ):
        return _l(
            "This activity needs a %(course)s certificate that is still valid on the day. "
            "You can book a class under First-aid training.",
            course=activity.required_course.title(str(get_locale())),
        )
    if live_signup(volunteer, shift) is not None:
        return _l("You have already signed up for this shift.")
    return _overlap_reason(volunteer, shift)


def _overlap_reason(volunteer, shift: VolunteerShift):
    other = overlapping(volunteer, shift)
    if other is None:
        return None
    return _l(
        "You are already signed up for %(title)s at that time (%(when)s).",
        title=other.shift.activity.title,
        when=to_local(other.shift.starts_at).strftime("%Y-%m-%d %H:%M"),
    )


def sign_up(volunteer, shift: VolunteerShift, now=None) -> ShiftSignup:
    """A seat on `shift` for `volunteer`. Refuses (ReviewError, with the reason from
    `why_not`) and SeatsGone when no seat is left; nothing is written then."""
    reason = why_not(volunteer, shift, now)
    if reason is not None:
        raise ReviewError(reason)
    signup = ShiftSignup(shift_id=shift.id, volunteer_id=volunteer.id, status=SIGNED_UP)
    try:
        # The seat and the row stand or fall together: a double submit that loses on the
        # unique index gives its seat back with the savepoint.
        with db.session.begin_nested():
            if not take_seats(VolunteerShift, shift.id):
                raise SeatsGone(_l("Sorry, this shift is full."))
            # One volunteer's sign-ups queue behind each other (taking the seat took
            # SQLite's write lock; PostgreSQL locks the volunteer's row), so the overlap
            # is asked again of what another tab has just committed. The seat first: a
            # read before it would leave SQLite unable to upgrade to the write lock.
            db.session.execute(
                select(Volunteer.id).where(Volunteer.id == volunteer.id).with_for_update()
            )
            reason = _overlap_reason(volunteer, shift)
            if reason is not None:
                raise ReviewError(reason)
            db.session.add(signup)
            db.session.flush()
    except IntegrityError:
        raise ReviewError(_l("You have already signed up for this shift.")) from None
    return signup


def release(signup: ShiftSignup) -> None:
    """Withdraw a live sign-up and give its seat back (cancellation by the volunteer or
    of the whole activity)."""
    if signup.status != SIGNED_UP:
        return
    signup.status = WITHDRAWN
    signup.withdrawn_at = utcnow()
    db.session.flush()
    give_back_seats(VolunteerShift, signup.shift_id)


def cancel(volunteer, signup: ShiftSignup, now=None) -> None:
    """The volunteer takes back their own sign-up before the deadline (and before the
    shift starts, and before checking in): the seat is free again."""
    now = now or utcnow()
    if signup.volunteer_id != volunteer.id or signup.status != SIGNED_UP:
        raise ReviewError(_l("This sign-up cannot be cancelled."))
    shift = signup.shift
    if signup.checked_in_at is not None:
        raise ReviewError(_l("You have already checked in for this shift."))
    if now >= shift.activity.signup_deadline or now >= shift.starts_at:
        raise ReviewError(
            _l("The sign-up deadline has passed: please call the organiser to cancel.")
        )
    release(signup)


def my_signups(volunteer, upcoming: bool = True):
    """The volunteer's live sign-ups, upcoming (not yet ended) or past, by shift time."""
    now = utcnow()
    stmt = (
        select(ShiftSignup)
        .join(VolunteerShift, VolunteerShift.id == ShiftSignup.shift_id)
        .where(ShiftSignup.volunteer_id == volunteer.id, ShiftSignup.status == SIGNED_UP)
        .options(joinedload(ShiftSignup.shift).joinedload(VolunteerShift.activity))
    )
    if upcoming:
        stmt = stmt.where(VolunteerShift.ends_at >= now - timedelta(hours=12)).order_by(
            VolunteerShift.starts_at
        )
    else:
        stmt = stmt.where(VolunteerShift.ends_at < now).order_by(VolunteerShift.starts_at.desc())
    return list(db.session.scalars(stmt.limit(50)))


def signups_of_activity(activity: VolunteerActivity, volunteer) -> dict[int, ShiftSignup]:
    """{shift id: live sign-up} of this volunteer on this activity's shifts."""
    if volunteer is None:
        return {}
    rows = db.session.scalars(
        select(ShiftSignup)
        .join(VolunteerShift, VolunteerShift.id == ShiftSignup.shift_id)
        .where(
            VolunteerShift.activity_id == activity.id,
            ShiftSignup.volunteer_id == volunteer.id,
            ShiftSignup.status == SIGNED_UP,
        )
    )
    return {s.shift_id: s for s in rows}
