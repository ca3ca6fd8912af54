"""Seats under contention, on SQLite and PostgreSQL alike.

A seated table (a class session, a shift, a sample session) carries `capacity` and
`seats_taken` (`SeatsMixin`). Taking a seat is ONE conditional UPDATE:

    UPDATE t SET seats_taken = seats_taken + n WHERE id = :id AND seats_taken + n <= capacity

PostgreSQL locks the row and re-checks the condition after a concurrent writer commits
(READ COMMITTED), and SQLite serialises writers on the file, so two people can never
take the last seat. It runs in the caller's transaction together with the booking
insert: if anything after it fails, the rollback gives the seat back too. The booking
table's partial unique index (one active booking per person) is the backstop against a
double submit; the CHECK constraint from `seats_check` is the backstop against a bug.

Services flush only; the caller's view commits.
"""

from sqlalchemy import CheckConstraint, update
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from portal.extensions import db


class SeatsMixin:
    """`capacity` seats, of which `seats_taken` are held. Change `seats_taken` only
    through `take_seats` / `give_back_seats`."""

    capacity: Mapped[int]
    seats_taken: Mapped[int] = mapped_column(default=0, server_default="0")

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    @property
    def is_full(self) -> bool:
        return self.seats_taken >= self.capacity


def seats_check() -> CheckConstraint:
    """For the model's `__table_args__` (the naming convention makes it
    `ck_<table>_seats_within_capacity`; the migration creates the same)."""
    return CheckConstraint(
        "seats_taken >= 0 AND seats_taken <= capacity AND capacity >= 0",
        name="seats_within_capacity",
    )


def take_seats(model: type, row_id: int, n: int = 1) -> bool:
    """Hold `n` seats of row `row_id`; False (and nothing held) when fewer are left."""
    if n < 1:
        raise ValueError("take at least one seat")
    now_taken = db.session.scalar(
        update(model)
        .where(model.id == row_id, model.seats_taken + n <= model.capacity)
        .values(seats_taken=model.seats_taken + n)
        .returning(model.seats_taken)
        .execution_options(synchronize_session=False)
    )
    if now_taken is None:
        return False
    _show(model, row_id, now_taken)
    return True


def give_back_seats(model: type, row_id: int, n: int = 1) -> None:
    """Free `n` seats of row `row_id` (a cancelled booking, a no-longer-held offer)."""
    if n < 1:
        raise ValueError("give back at least one seat")
    now_taken = db.session.scalar(
        update(model)
        .where(model.id == row_id, model.seats_taken >= n)
        .values(seats_taken=model.seats_taken - n)
        .returning(model.seats_taken)
        .execution_options(synchronize_session=False)
    )
    if now_taken is None:
        # More seats given back than were held: a bookkeeping bug; undo the whole change.
        raise RuntimeError(f"{model.__tablename__} {row_id}: fewer than {n} seats held")
    _show(model, row_id, now_taken)


def _show(model: type, row_id: int, seats_taken: int) -> None:
    """The UPDATE went round the identity map: a row already loaded shows the new count
    (as loaded state, so the next flush does not write it back)."""
    loaded = db.session.identity_map.get(db.session.identity_key(model, row_id))
    if loaded is not None:
        set_committed_value(loaded, "seats_taken", seats_taken)
