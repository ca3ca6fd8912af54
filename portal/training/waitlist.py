"""A strict-order waitlist with time-limited offers, for any seated table whose
bookings have `status`, `waitlist_no` and `offer_expires_at` (class sessions here).

While anyone waits, a freed seat is never given back to the pool: it goes to the head
of the queue as an *offer* (the seat stays taken), so someone booking fresh cannot jump
the queue. An offer accepted becomes a booking; one declined or lapsed passes on to the
next person, and the seat returns to the pool only when no one is left waiting.

Every change of a booking's state is a conditional UPDATE (`... WHERE status = old`),
so two cancellations at once never offer the same seat twice, and running the expiry
twice changes nothing the second time. Services flush only; the caller commits."""

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from portal.capacity.seats import give_back_seats
from portal.extensions import db

WAITLISTED, OFFERED = "waitlisted", "offered"


def next_waitlist_no(seated_model, row_id: int) -> int:
    """The next place in the queue of row `row_id` (1, 2, 3, ... in arrival order; the
    row lock it takes orders concurrent joiners)."""
    return db.session.scalar(
        update(seated_model)
        .where(seated_model.id == row_id)
        .values(waitlist_last=seated_model.waitlist_last + 1)
        .returning(seated_model.waitlist_last)
        .execution_options(synchronize_session=False)
    )


def position(booking_model, booking) -> int:
    """1 for the head of the queue: how many still wait ahead, plus one."""
    ahead = db.session.scalar(
        select(func.count())
        .select_from(booking_model)
        .where(
            booking_model.session_id == booking.session_id,
            booking_model.status == WAITLISTED,
            booking_model.waitlist_no < booking.waitlist_no,
        )
    )
    return int(ahead or 0) + 1


def move(booking_model, booking_id: int, old: str, new: str, **values) -> bool:
    """Change a booking's state from `old` to `new` only if it is still `old`; whether
    this call did it."""
    result = db.session.execute(
        update(booking_model)
        .where(booking_model.id == booking_id, booking_model.status == old)
        .values(status=new, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def pass_seat_on(
    seated_model,
    booking_model,
    row_id: int,
    offer_until: datetime | None,
    on_offer: Callable[[object], None],
):
    """A held seat of row `row_id` is free: offer it to the head of the queue (until
    `offer_until`), or give it back to the pool when no one waits or no offer can be
    made any more (`offer_until` None). Returns the booking offered, or None."""
    while offer_until is not None:
        head = db.session.scalar(
            select(booking_model)
            .where(booking_model.session_id == row_id, booking_model.status == WAITLISTED)
            .order_by(booking_model.waitlist_no)
            .limit(1)
        )
        if head is None:
            break
        if move(booking_model, head.id, WAITLISTED, OFFERED, offer_expires_at=offer_until):
            db.session.refresh(head)
            on_offer(head)
            return head
        # Someone else offered it (or they left) at this moment: the next in line.
    give_back_seats(seated_model, row_id)
    return None


def lapsed_offers(booking_model, now: datetime, limit: int = 500) -> list[int]:
    """Ids of offers whose window has closed."""
    return list(
        db.session.scalars(
            select(booking_model.id)
            .where(booking_model.status == OFFERED, booking_model.offer_expires_at <= now)
            .order_by(booking_model.offer_expires_at, booking_model.id)
            .limit(limit)
        )
    )


def offer_window_end(now: datetime, hours: int, cutoff: datetime) -> datetime | None:
    """When an offer made now closes: `hours` later, but never after the booking cutoff;
    None when the cutoff has passed (no more offers)."""
    if now >= cutoff:
        return None
    return min(now + timedelta(hours=hours), cutoff)
