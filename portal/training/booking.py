"""Booking a seat: confirmed while seats remain, else a numbered place on the waitlist;
cancelling, offers, group bookings of named seats.

Correct under contention: the seat is taken by one conditional UPDATE (portal.capacity)
in the same transaction as the booking insert; the waitlist number by another on the
session row; the partial unique index on (session, person) refuses a second active
booking of the same person (the view turns that IntegrityError into a message).
Services take plain values, add and flush only; the view commits."""

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select

from portal import crypto
from portal.accounts.identity import age_on
from portal.accounts.models import User
from portal.accounts.phone import try_normalise_phone
from portal.capacity.seats import take_seats
from portal.cards.services import new_token
from portal.extensions import db
from portal.textcheck import has_hidden_characters
from portal.timeutil import to_local, utcnow
from portal.training import notify, waitlist
from portal.training.errors import TrainingError
from portal.training.models import (
    ACTIVE_STATES,
    CONFIRMED,
    OFFER_LAPSED,
    OFFERED,
    PUBLIC,
    SCHEDULED,
    SEATED_STATES,
    WAITLISTED,
    WITHDRAWN,
    Booking,
    Certificate,
    ClassSession,
)

GROUP_MAX = 50


def user_key(user_id: int) -> str:
    return f"u{user_id}"


def phone_key(phone: str) -> str:
    return "p" + crypto.blind_index(phone, "training_person")


def offer_hours() -> int:
    return int(current_app.config["TRAINING_OFFER_HOURS"])


def active_booking(session_id: int, person_key: str) -> Booking | None:
    return db.session.scalar(
        select(Booking).where(
            Booking.session_id == session_id,
            Booking.person_key == person_key,
            Booking.status.in_(ACTIVE_STATES),
        )
    )


def has_valid_certificate(person_key: str, course_id: int, on) -> bool:
    return (
        db.session.scalar(
            select(Certificate.id).where(
                Certificate.person_key == person_key,
                Certificate.course_id == course_id,
                Certificate.revoked_at.is_(None),
                (Certificate.expires_on.is_(None)) | (Certificate.expires_on >= on),
            )
        )
        is not None
    )


def _check_open(session: ClassSession | None, access_code: str | None, now: datetime) -> None:
    if session is None or session.status != SCHEDULED:
        raise TrainingError(_l("This class is not open for booking."))
    if now >= session.booking_cutoff:
        raise TrainingError(_l("Booking for this class has closed."))
    if session.restriction != PUBLIC:
        typed = (access_code or "").strip().upper()
        if not typed or typed != (session.access_code or "").upper():
            raise TrainingError(
                _l(
                    "This class is not open to the public. Please enter the booking code "
                    "your organisation or school was given."
                )
            )


def _check_person(session: ClassSession, person_key: str) -> None:
    """One read: the person's active bookings at this session or at one overlapping it."""
    clash = db.session.execute(
        select(Booking.session_id, ClassSession.starts_at)
        .join(ClassSession, ClassSession.id == Booking.session_id)
        .where(
            Booking.person_key == person_key,
            Booking.status.in_(ACTIVE_STATES),
            or_(
                Booking.session_id == session.id,
                and_(
                    ClassSession.starts_at < session.ends_at,
                    ClassSession.ends_at > session.starts_at,
                ),
            ),
        )
        .order_by((Booking.session_id == session.id).desc())
        .limit(1)
    ).first()
    if clash is None:
        return
    if clash.session_id == session.id:
        raise TrainingError(_l("You already have a booking for this class."))
    raise TrainingError(
        _l(
            "This class overlaps another class you have booked (%(date)s).",
            date=to_local(clash.starts_at).strftime("%Y-%m-%d"),
        )
    )


def _place(session: ClassSession, **fields) -> Booking:
    """Insert the booking: a seat if one is left, else the next place in the queue."""
    if take_seats(ClassSession, session.id):
        status, number = CONFIRMED, None
    else:
        status, number = WAITLISTED, waitlist.next_waitlist_no(ClassSession, session.id)
    booking = Booking(
        session_id=session.id,
        status=status,
        waitlist_no=number,
        checkin_token=new_token(),
        **fields,
    )
    db.session.add(booking)
    db.session.flush()
    return booking


def book(user, session_id: int, access_code: str | None = None, now=None) -> Booking:
    """Book `user` on the session: confirmed while seats remain, else waitlisted.

    Refuses (TrainingError): a cancelled or past-cutoff session; a restricted session
    without its booking code; no real-name profile; under the course's minimum age;
    a missing prerequisite certificate; an active booking already held; a booking of an
    overlapping session. A concurrent double submit fails on the unique index
    (IntegrityError, for the view)."""
    now = now or utcnow()
    session = db.session.get(ClassSession, session_id)
    _check_open(session, access_code, now)
    profile = user.profile
    if profile is None:
        raise TrainingError(
            _l("Please add your real-name profile first: a certificate carries your real name.")
        )
    course = session.course
    if age_on(profile.birth_date, to_local(session.starts_at).date()) < course.min_age:
        raise TrainingError(
            _l("This course is for people aged %(age)d and over.", age=course.min_age)
        )
    key = user_key(user.id)
    if course.prerequisite is not None and not has_valid_certificate(
        key, course.prerequisite_id, to_local(session.starts_at).date()
    ):
        raise TrainingError(
            _l(
                "This course needs a valid certificate of: %(course)s.",
                course=course.prerequisite.title_zh,
            )
        )
    _check_person(session, key)
    return _place(
        session,
        user_id=user.id,
        booked_by_id=user.id,
        person_key=key,
        attendee_name=profile.full_name,
    )


@dataclass
class Seat:
    name: str
    phone: str  # as typed


def parse_seats(text: str) -> list[Seat]:
    """One person a line, "name, mobile" (comma, Chinese comma or spaces between)."""
    seats = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        for sep in (",", "，", "\t", " "):
            if sep in line:
                name, _, phone = line.rpartition(sep)
                seats.append(Seat(name.strip(" ,，"), phone.strip()))
                break
        else:
            seats.append(Seat(line, ""))
    return seats


def group_book(contact, session_id: int, seats: list[Seat], access_code=None, now=None):
    """A company or school contact books a named seat for each of `seats`, all or none.
    Group bookings are confirmed seats only (no waitlist): refused when fewer seats are
    left than names given, with how many there are."""
    now = now or utcnow()
    session = db.session.get(ClassSession, session_id)
    _check_open(session, access_code, now)
    if not seats:
        raise TrainingError(_l("Please list at least one person."))
    if len(seats) > GROUP_MAX:
        raise TrainingError(_l("At most %(n)d people can be booked at once.", n=GROUP_MAX))
    people, seen = [], set()
    for i, seat in enumerate(seats, start=1):
        phone = try_normalise_phone(seat.phone)
        if (
            not seat.name
            or len(seat.name) > 50
            or has_hidden_characters(seat.name)
            or phone is None
        ):
            raise TrainingError(
                _l("Line %(n)d: please give the person's name and mobile number.", n=i)
            )
        if phone in seen:
            raise TrainingError(_l("Line %(n)d: this mobile number is listed twice.", n=i))
        seen.add(phone)
        registered = db.session.scalar(select(User).where(User.phone == phone))
        key = user_key(registered.id) if registered else phone_key(phone)
        try:
            _check_person(session, key)
        except TrainingError as exc:
            raise TrainingError(
                _l("Line %(n)d (%(name)s): %(reason)s", n=i, name=seat.name, reason=str(exc))
            ) from None
        people.append((seat.name, phone, registered, key))
    if not take_seats(ClassSession, session.id, len(people)):
        raise TrainingError(_l("Only %(n)d seats are left in this class.", n=session.seats_left))
    bookings = []
    for name, phone, registered, key in people:
        booking = Booking(
            session_id=session.id,
            status=CONFIRMED,
            checkin_token=new_token(),
            user_id=registered.id if registered else None,
            booked_by_id=contact.id,
            person_key=key,
            attendee_name=name,
        )
        if registered is None:
            booking.attendee_phone = phone
        db.session.add(booking)
        bookings.append(booking)
    db.session.flush()
    for booking in bookings:
        notify.group_seat_booked(booking)
    return bookings


def can_cancel(booking: Booking, now=None) -> bool:
    return booking.is_active and (now or utcnow()) < booking.session.booking_cutoff


def cancel(booking: Booking, now=None) -> None:
    """Cancel an active booking before the session's cutoff. A freed seat is offered
    to the head of the waitlist (or returns to the pool).

    Refuses (TrainingError): after the cutoff (the branch must be called), or a booking
    no longer active."""
    now = now or utcnow()
    session = booking.session
    if not booking.is_active:
        raise TrainingError(_l("This booking is no longer active."))
    if now >= session.booking_cutoff:
        raise TrainingError(
            _l(
                "Bookings can be cancelled online only until %(cutoff)s. Please call the "
                "branch on %(phone)s.",
                cutoff=to_local(session.booking_cutoff).strftime("%Y-%m-%d %H:%M"),
                phone=session.branch.contact_phone or "—",
            )
        )
    old = booking.status
    if not waitlist.move(Booking, booking.id, old, WITHDRAWN, offer_expires_at=None):
        raise TrainingError(_l("This booking has just changed. Please look again."))
    if old in SEATED_STATES:
        _pass_on(session, now)
    db.session.refresh(booking)


def _pass_on(session: ClassSession, now: datetime):
    until = waitlist.offer_window_end(now, offer_hours(), session.booking_cutoff)
    return waitlist.pass_seat_on(ClassSession, Booking, session.id, until, notify.offer_made)


def accept_offer(booking: Booking, now=None) -> None:
    """Take the offered seat (before the offer's window closes)."""
    now = now or utcnow()
    if booking.status != OFFERED:
        raise TrainingError(_l("There is no seat on offer for this booking."))
    if booking.offer_expires_at <= now:
        raise TrainingError(_l("Sorry, this offer has lapsed and passed to the next person."))
    if not waitlist.move(Booking, booking.id, OFFERED, CONFIRMED, offer_expires_at=None):
        raise TrainingError(_l("This booking has just changed. Please look again."))
    db.session.refresh(booking)


def expire_offers(now=None) -> int:
    """Lapse every offer whose window has closed and pass each seat on. Safe to run
    twice (and alongside a person accepting at the last second): each offer changes
    state once."""
    now = now or utcnow()
    lapsed = 0
    for booking_id in waitlist.lapsed_offers(Booking, now):
        if not waitlist.move(Booking, booking_id, OFFERED, OFFER_LAPSED):
            continue
        booking = db.session.get(Booking, booking_id)
        db.session.refresh(booking)
        notify.offer_lapsed(booking)
        _pass_on(booking.session, now)
        lapsed += 1
    db.session.flush()
    return lapsed


def waitlist_position(booking: Booking) -> int | None:
    if booking.status != WAITLISTED:
        return None
    return waitlist.position(Booking, booking)
