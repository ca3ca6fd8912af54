"""Marrow (stem cell) pre-registration: who may register, registering with two separate
consents, the 7-day cooling-off, withdrawal at any stage, booking a blood-sample
appointment, and the later steps staff record (sampled, typed).

Services take plain values, add and flush only; the views and the CLI commit."""

from datetime import date, datetime, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal import audit
from portal.accounts.identity import RESIDENT_ID
from portal.branches.home_branch import ancestors
from portal.capacity.seats import give_back_seats, take_seats
from portal.consent import services as consent
from portal.consent.purposes import MARROW_HEALTH, MARROW_REGISTRY, PURPOSES, on_withdrawal
from portal.donors import eligibility
from portal.donors.models import (
    ATTENDED,
    BOOKED,
    CANCELLED,
    CONFIRMED,
    PRE_REGISTERED,
    SAMPLE_BOOKED,
    SAMPLED,
    TYPED,
    WITHDRAWN,
    MarrowRegistration,
    SampleBooking,
    SampleSession,
)
from portal.donors.notify import sms
from portal.extensions import db
from portal.timeutil import to_local, today_local, utcnow

COOLING_OFF_DAYS = 7

STATUS_LABELS = {
    PRE_REGISTERED: _l("Pre-registered (cooling-off period)"),
    CONFIRMED: _l("Confirmed"),
    SAMPLE_BOOKED: _l("Sample appointment booked"),
    SAMPLED: _l("Blood sample taken"),
    TYPED: _l("Typed and in the national registry"),
    WITHDRAWN: _l("Withdrawn"),
}
CHANNELS = {"sms": _l("Text message"), "call": _l("Phone call")}
TIMES = {
    "any": _l("Any time"),
    "weekday_day": _l("Weekdays, daytime"),
    "evening": _l("Evenings"),
    "weekend": _l("Weekends"),
}
# What staff may record, and from which statuses.
STAFF_STEPS = {SAMPLED: (SAMPLE_BOOKED, CONFIRMED), TYPED: (SAMPLED,)}


class MarrowError(ValueError):
    """A request the rules refuse; `message` is ready to show (lazy)."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class Deferred(Exception):
    """A "yes" to a deferral question: registration cannot go on (nothing is stored)."""

    def __init__(self, deferral: eligibility.Deferral):
        super().__init__(deferral.question)
        self.deferral = deferral


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def current_registration(user) -> MarrowRegistration | None:
    """The person's registration that is not withdrawn, if any."""
    return db.session.scalar(
        select(MarrowRegistration).where(
            MarrowRegistration.user_id == user.id, MarrowRegistration.status != WITHDRAWN
        )
    )


def latest_registration(user) -> MarrowRegistration | None:
    return db.session.scalar(
        select(MarrowRegistration)
        .where(MarrowRegistration.user_id == user.id)
        .order_by(MarrowRegistration.id.desc())
        .limit(1)
    )


def refusal(user, today: date | None = None):
    """Why `user` cannot start a pre-registration now (a lazy message), or None: no
    real-name profile with a resident ID number (age and sex are read from it), no
    branch, or an age outside 18–45 on `today`."""
    profile = user.profile
    if profile is None:
        return _l("Please add your real-name profile first.")
    if profile.doc_type != RESIDENT_ID or profile.sex not in ("M", "F"):
        return _l(
            "Pre-registration reads your age and sex from a resident ID card number. Please "
            "visit your Red Cross branch, which can register you with another document."
        )
    if user.home_branch_id is None:
        return _l("Donors register with their own branch. Please choose your branch first.")
    return eligibility.age_refusal(profile.birth_date, today or today_local())


def register(
    user,
    *,
    weight_kg: Decimal,
    answers: dict[str, bool],
    contacts: list[dict],
    preferences: dict,
    health_consent: bool,
    registry_consent: bool,
    ip: str | None = None,
    today: date | None = None,
) -> MarrowRegistration:
    """Pre-register `user`. Promises: the two consents in the ledger, one registration
    (pre-registered, cooling off until registered day + 7) with health answers, contacts
    and preferences encrypted, the "received" SMS and an audit line.

    Refuses: MarrowError (not eligible, weight under the limit, a consent not given,
    already registered); Deferred for a "yes" (then only the outcome is audited, not
    which question)."""
    today = today or today_local()
    problem = refusal(user, today)
    if problem is not None:
        raise MarrowError(problem)
    sex = user.profile.sex
    deferral = eligibility.first_deferral(sex, answers)
    if deferral is not None:
        audit.record(
            "marrow_deferred",
            actor=user,
            branch_id=user.home_branch_id,
            object_kind="marrow_registration",
            changes={"outcome": "deferred"},
        )
        raise Deferred(deferral)
    asked = eligibility.questions_for(sex)
    if any(key not in answers for key in asked):
        raise MarrowError(_l("Please answer every question."), "answers")
    weight_problem = eligibility.weight_refusal(sex, weight_kg)
    if weight_problem is not None:
        raise MarrowError(weight_problem, "weight")
    if not health_consent:
        raise MarrowError(
            _l("Please read and agree to the processing of your health information."),
            "health_consent",
        )
    if not registry_consent:
        raise MarrowError(
            _l("Please read and agree to sharing your registration with the national registry."),
            "registry_consent",
        )
    if len(contacts) != 2 or not all(c.get("name") and c.get("phone") for c in contacts):
        raise MarrowError(_l("Please give two emergency contacts."), "contacts")
    if current_registration(user) is not None:
        raise MarrowError(_l("You are already pre-registered."))
    health_version = consent.give(user, MARROW_HEALTH, ip=ip).version
    registry_version = consent.give(user, MARROW_REGISTRY, ip=ip).version
    reg = MarrowRegistration(
        user_id=user.id,
        branch_id=user.home_branch_id,
        status=PRE_REGISTERED,
        health_consent_version=health_version,
        registry_consent_version=registry_version,
        registered_on=today,
        cooling_off_until=today + timedelta(days=COOLING_OFF_DAYS),
    )
    reg.health = {
        "weight_kg": str(weight_kg),
        "answers": {key: bool(answers.get(key)) for key in asked},
    }
    reg.contacts = contacts
    reg.preferences = preferences
    try:
        with db.session.begin_nested():  # a double submit loses on the unique index
            db.session.add(reg)
    except IntegrityError:
        raise MarrowError(_l("You are already pre-registered.")) from None
    audit.record(
        "marrow_registered",
        actor=user,
        branch_id=reg.branch_id,
        object_kind="marrow_registration",
        object_id=reg.id,
    )
    sms(
        user,
        "marrow_received",
        _l(
            "%(branch)s has received your stem cell donor pre-registration. You can "
            "withdraw it online until %(date)s; after that it is confirmed and you can "
            "book a blood sample."
        ),
        branch=reg.branch,
        date=reg.cooling_off_until.isoformat(),
    )
    return reg


def in_cooling_off(reg: MarrowRegistration, today: date | None = None) -> bool:
    """Day 0 (the day of registering) to day 7 inclusive."""
    return reg.status == PRE_REGISTERED and (today or today_local()) <= reg.cooling_off_until


def settle(reg: MarrowRegistration, today: date | None = None) -> bool:
    """Confirm a pre-registration whose cooling-off is over (from day 8), with the
    "cooling-off ended" SMS. True when it changed now."""
    if reg.status != PRE_REGISTERED or in_cooling_off(reg, today):
        return False
    _set_status(reg, CONFIRMED)
    reg.confirmed_at = utcnow()
    sms(
        reg.user,
        "marrow_confirmed",
        _l(
            "Your cooling-off period has ended and your stem cell donor registration is "
            "confirmed. Please book a blood sample on the portal; you can still withdraw "
            "at any time."
        ),
    )
    db.session.flush()
    return True


def _lock(reg: MarrowRegistration) -> None:
    """Re-read the registration under a row lock (PostgreSQL): changes to one
    registration (book, cancel, withdraw, a staff step) happen one after the other, so a
    double press can never give a seat back twice."""
    db.session.refresh(reg, with_for_update=True)


def _set_status(reg: MarrowRegistration, status: str) -> None:
    reg.status = status
    reg.status_changed_at = utcnow()


def active_booking(reg: MarrowRegistration, *, lock: bool = False) -> SampleBooking | None:
    """The registrant's live appointment; with `lock`, its row locked (PostgreSQL) for a
    change, so a booking cancelled meanwhile by someone else is not found."""
    stmt = (
        select(SampleBooking)
        .where(SampleBooking.registration_id == reg.id, SampleBooking.status == BOOKED)
        .options(joinedload(SampleBooking.session))
    )
    if lock:
        stmt = stmt.with_for_update(of=SampleBooking)
    return db.session.scalar(stmt)


def withdraw(reg: MarrowRegistration, actor, reason: str | None = None, *, erase=True) -> None:
    """End a registration at any stage (the registrant, or their consent withdrawn).
    Cancels an appointment (its seat is given back), deletes the health answers,
    contacts and preferences (their purpose is over), keeps status and dates so the
    counts stay right, and sends "withdrawal confirmed"."""
    _lock(reg)  # a double press withdraws once
    if reg.status == WITHDRAWN:
        raise MarrowError(_l("This registration has already been withdrawn."))
    booking = active_booking(reg, lock=True)
    if booking is not None:
        _cancel(booking)
    was = reg.status
    _set_status(reg, WITHDRAWN)
    reg.withdrawn_at = utcnow()
    reg.withdraw_reason = (reason or "").strip() or None
    if erase:
        reg.health = reg.contacts = reg.preferences = None
    audit.record(
        "marrow_withdrawn",
        actor=actor,
        branch_id=reg.branch_id,
        object_kind="marrow_registration",
        object_id=reg.id,
        changes={"status": [was, WITHDRAWN]},
    )
    sms(
        reg.user,
        "marrow_withdrawn",
        _l(
            "Your stem cell donor registration has been withdrawn, and your health answers "
            "and contacts deleted. Thank you for considering it; you are welcome back at "
            "any time."
        ),
    )
    db.session.flush()


def _withdraw_on_consent(user) -> None:
    reg = current_registration(user)
    if reg is not None:
        withdraw(reg, user)


for _purpose in (MARROW_HEALTH, MARROW_REGISTRY):
    on_withdrawal(_purpose, _withdraw_on_consent)


# --- sample sessions and appointments --------------------------------------------------


def sessions_for(reg: MarrowRegistration, now: datetime | None = None) -> list[SampleSession]:
    """Sessions the registrant may book: run by their branch or a branch above it (a
    city's collection point serves its counties), not cancelled, not started."""
    branch_ids = [b.id for b in ancestors(reg.branch)]
    return list(
        db.session.scalars(
            select(SampleSession)
            .where(
                SampleSession.branch_id.in_(branch_ids),
                SampleSession.cancelled_at.is_(None),
                SampleSession.starts_at > (now or utcnow()),
            )
            .options(joinedload(SampleSession.branch))
            .order_by(SampleSession.starts_at, SampleSession.id)
            .limit(50)
        )
    )


def book(
    reg: MarrowRegistration, session_id: int, user, today: date | None = None
) -> SampleBooking:
    """Book a seat at a session for a confirmed registrant. The seat is taken with one
    conditional UPDATE (portal.capacity) in this transaction, with the booking.

    Refuses (MarrowError): not the registrant, still cooling off, not confirmed (or
    already booked), a session not offered to them, started or full."""
    if reg.user_id != user.id:
        raise MarrowError(_l("Only the registrant can book."))
    _lock(reg)
    settle(reg, today)
    if reg.status == PRE_REGISTERED:
        raise MarrowError(
            _l(
                "You can book a blood sample once your cooling-off period ends on %(date)s.",
                date=reg.cooling_off_until.isoformat(),
            )
        )
    if reg.status == SAMPLE_BOOKED:
        raise MarrowError(_l("You already have an appointment. Cancel it first to choose another."))
    if reg.status != CONFIRMED:
        raise MarrowError(_l("This registration cannot book a blood sample."))
    if session_id not in {s.id for s in sessions_for(reg)}:
        raise MarrowError(_l("This session cannot be booked. Please choose another."))
    if not take_seats(SampleSession, session_id):
        raise MarrowError(_l("This session is full. Please choose another."))
    booking = SampleBooking(session_id=session_id, registration_id=reg.id, status=BOOKED)
    try:
        with db.session.begin_nested():
            db.session.add(booking)
    except IntegrityError:
        raise MarrowError(
            _l("You already have an appointment. Cancel it first to choose another.")
        ) from None
    _set_status(reg, SAMPLE_BOOKED)
    db.session.flush()
    session = db.session.get(SampleSession, session_id)
    audit.record(
        "marrow_sample_booked",
        actor=user,
        branch_id=session.branch_id,
        object_kind="sample_booking",
        object_id=booking.id,
        changes={"session_id": session_id},
    )
    sms(
        user,
        "marrow_booked",
        _l("Your blood sample appointment: %(when)s at %(place)s, %(address)s."),
        when=to_local(session.starts_at).strftime("%Y-%m-%d %H:%M"),
        place=session.place,
        address=session.address,
    )
    return booking


def _cancel(booking: SampleBooking) -> None:
    booking.status = CANCELLED
    booking.cancelled_at = utcnow()
    db.session.flush()  # the partial unique index must see it before a new booking
    give_back_seats(SampleSession, booking.session_id)


def cancel_booking(reg: MarrowRegistration, user) -> None:
    """The registrant cancels their appointment; the seat is given back."""
    if reg.user_id != user.id:
        raise MarrowError(_l("Only the registrant can cancel."))
    _lock(reg)
    booking = active_booking(reg, lock=True)
    if booking is None or reg.status != SAMPLE_BOOKED:
        raise MarrowError(_l("You have no appointment to cancel."))
    _cancel(booking)
    _set_status(reg, CONFIRMED)
    audit.record(
        "marrow_sample_cancelled",
        actor=user,
        branch_id=booking.session.branch_id,
        object_kind="sample_booking",
        object_id=booking.id,
    )
    db.session.flush()


def record_step(reg: MarrowRegistration, step: str, actor, role: str | None) -> None:
    """Staff record that the sample was taken or the sample typed (the caller checked
    scope). Refuses a step out of order."""
    allowed_from = STAFF_STEPS.get(step)
    _lock(reg)
    if allowed_from is None or reg.status not in allowed_from:
        raise MarrowError(_l("This step cannot be recorded now."))
    was = reg.status
    now = utcnow()
    if step == SAMPLED:
        booking = active_booking(reg, lock=True)
        if booking is not None:
            booking.status = ATTENDED
        reg.sampled_at = now
    else:
        reg.typed_at = now
    _set_status(reg, step)
    audit.record(
        "marrow_status_changed",
        actor=actor,
        actor_role=role,
        branch_id=reg.branch_id,
        object_kind="marrow_registration",
        object_id=reg.id,
        changes={"status": [was, step]},
    )
    message = (
        _l("Thank you: your blood sample has been taken. We will tell you when it is typed.")
        if step == SAMPLED
        else _l(
            "Your blood sample has been typed and you are now in the national stem cell "
            "registry. If you match a patient, we will call you."
        )
    )
    sms(reg.user, f"marrow_{step}", message)
    db.session.flush()


def create_session(
    branch,
    *,
    place: str,
    address: str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
    actor,
    role: str | None,
) -> SampleSession:
    """A branch opens a sample session (times naive UTC). Refuses an end before the
    start, a start in the past, or a capacity outside 1–500."""
    if ends_at <= starts_at:
        raise MarrowError(_l("The session must end after it starts."), "ends_at")
    if starts_at <= utcnow():
        raise MarrowError(_l("The session must start in the future."), "starts_at")
    if not 1 <= capacity <= 500:
        raise MarrowError(_l("Please give a capacity from 1 to 500."), "capacity")
    session = SampleSession(
        branch_id=branch.id,
        place=place,
        address=address,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        seats_taken=0,
        created_by_id=actor.id,
    )
    db.session.add(session)
    db.session.flush()
    audit.record(
        "sample_session_created",
        actor=actor,
        actor_role=role,
        branch_id=branch.id,
        object_kind="sample_session",
        object_id=session.id,
        changes={"capacity": capacity},
    )
    return session


def cancel_session(session: SampleSession, actor, role: str | None) -> int:
    """A branch calls off a session: every appointment in it is cancelled (the
    registrants are back to "confirmed" and texted to book another). Returns how many
    were booked. Refuses a session already cancelled or over."""
    db.session.refresh(session, with_for_update=True)  # called off once
    if session.cancelled_at is not None or session.ends_at <= utcnow():
        raise MarrowError(_l("This session cannot be called off."))
    session.cancelled_at = utcnow()
    bookings = db.session.scalars(
        select(SampleBooking)
        .where(SampleBooking.session_id == session.id, SampleBooking.status == BOOKED)
        .options(joinedload(SampleBooking.registration))
        .with_for_update(of=SampleBooking)
    ).all()
    for booking in bookings:
        _cancel(booking)
        reg = booking.registration
        if reg.status == SAMPLE_BOOKED:
            _set_status(reg, CONFIRMED)
        sms(
            reg.user,
            "marrow_session_cancelled",
            _l(
                "Sorry: the blood sample session at %(place)s on %(when)s has been called "
                "off. Please book another one on the portal."
            ),
            place=session.place,
            when=to_local(session.starts_at).strftime("%Y-%m-%d %H:%M"),
        )
    audit.record(
        "sample_session_cancelled",
        actor=actor,
        actor_role=role,
        branch_id=session.branch_id,
        object_kind="sample_session",
        object_id=session.id,
        changes={"bookings": len(bookings)},
    )
    db.session.flush()
    return len(bookings)


# --- the daily run -------------------------------------------------------------------


REMINDER_AHEAD = timedelta(hours=24)


def run_daily(today: date | None = None, now: datetime | None = None) -> tuple[int, int]:
    """Confirm every pre-registration whose cooling-off is over, and remind each
    registrant whose appointment starts within a day (once: reminder_sent_at). Safe to
    run twice. Returns (confirmed, reminded); flushes, the caller commits."""
    today = today or today_local()
    now = now or utcnow()
    due = db.session.scalars(
        select(MarrowRegistration)
        .where(
            MarrowRegistration.status == PRE_REGISTERED,
            MarrowRegistration.cooling_off_until < today,
        )
        .with_for_update()
    ).all()
    confirmed = sum(settle(reg, today) for reg in due)
    bookings = db.session.scalars(
        select(SampleBooking)
        .join(SampleSession, SampleSession.id == SampleBooking.session_id)
        .where(
            SampleBooking.status == BOOKED,
            SampleBooking.reminder_sent_at.is_(None),
            SampleSession.starts_at > now,
            SampleSession.starts_at <= now + REMINDER_AHEAD,
            SampleSession.cancelled_at.is_(None),
        )
        .with_for_update(of=SampleBooking)
    ).all()
    for booking in bookings:
        booking.reminder_sent_at = now
        session = booking.session
        sms(
            booking.registration.user,
            "marrow_reminder",
            _l("Reminder: your blood sample appointment is at %(when)s at %(place)s, %(address)s."),
            when=to_local(session.starts_at).strftime("%Y-%m-%d %H:%M"),
            place=session.place,
            address=session.address,
        )
    db.session.flush()
    return confirmed, len(bookings)


def purposes():
    return PURPOSES[MARROW_HEALTH], PURPOSES[MARROW_REGISTRY]
