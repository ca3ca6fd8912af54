"""Seats (portal/capacity): never more taken than the capacity, on SQLite and PostgreSQL,
including when a hundred people go for twenty seats at once.

The seated model is built inside a fixture on a table of its own, so it leaves nothing
in the metadata (tests/test_migrations.py compares the metadata with the migrations)."""

import itertools
import threading

import pytest
from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from portal.capacity.seats import SeatsMixin, give_back_seats, seats_check, take_seats
from portal.extensions import db

TABLE = "zz_seated"
_CLASSES = itertools.count()


@pytest.fixture
def Seated(app):
    model = type(
        f"Seated{next(_CLASSES)}",
        (SeatsMixin, db.Model),
        {
            "__module__": __name__,
            "__tablename__": TABLE,
            "__table_args__": (seats_check(),),
            "__annotations__": {"id": Mapped[int], "title": Mapped[str]},
            "id": mapped_column(primary_key=True),
            "title": mapped_column(String(40), default="急救培训"),
        },
    )
    model.__table__.create(db.engine)
    yield model
    db.session.remove()  # PostgreSQL's DROP waits for every open transaction on the table
    model.__table__.drop(db.engine)
    db.metadata.remove(model.__table__)


def _seated(model, capacity):
    row = model(capacity=capacity)
    db.session.add(row)
    db.session.commit()
    return row


def test_seats_are_taken_until_none_are_left(Seated):
    row = _seated(Seated, 3)
    assert take_seats(Seated, row.id, 2)
    assert (row.seats_taken, row.seats_left) == (2, 1)  # the loaded row shows the count
    assert not take_seats(Seated, row.id, 2)  # two wanted, one left: nothing taken
    assert take_seats(Seated, row.id)
    assert row.is_full and not take_seats(Seated, row.id)
    db.session.commit()
    assert db.session.scalar(select(Seated.seats_taken)) == 3


def test_a_seat_given_back_can_be_taken_again(Seated):
    row = _seated(Seated, 1)
    assert take_seats(Seated, row.id)
    give_back_seats(Seated, row.id)
    assert row.seats_left == 1
    assert take_seats(Seated, row.id)


def test_giving_back_more_than_was_taken_is_a_bug_that_changes_nothing(Seated):
    row = _seated(Seated, 5)
    take_seats(Seated, row.id)
    with pytest.raises(RuntimeError):
        give_back_seats(Seated, row.id, 2)
    db.session.rollback()
    assert db.session.get(Seated, row.id).seats_taken == 0  # rolled back with the caller


def test_a_rolled_back_booking_gives_its_seat_back(Seated):
    row = _seated(Seated, 1)
    row_id = row.id
    assert take_seats(Seated, row_id)
    db.session.rollback()  # e.g. the booking insert after it failed
    assert take_seats(Seated, row_id)


def test_the_database_refuses_more_taken_than_the_capacity(Seated):
    row = _seated(Seated, 1)
    row.seats_taken = 2  # what a bug writing the column directly would do
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize("n", [0, -1])
def test_a_count_below_one_is_refused(Seated, n):
    row = _seated(Seated, 1)
    with pytest.raises(ValueError):
        take_seats(Seated, row.id, n)
    with pytest.raises(ValueError):
        give_back_seats(Seated, row.id, n)


def test_a_hundred_people_at_once_for_twenty_seats(app, Seated):
    """Each thread is one request: its own session and transaction, then commit."""
    row_id = _seated(Seated, 20).id
    people = 100
    barrier = threading.Barrier(people)
    won: list[bool] = []
    errors: list[BaseException] = []

    def attempt() -> None:
        try:
            barrier.wait(timeout=30)  # before any connection is taken (see the pool)
            with app.app_context():
                got = take_seats(Seated, row_id)
                db.session.commit()
                won.append(got)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(people)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert won.count(True) == 20 and won.count(False) == 80
    db.session.expire_all()
    assert db.session.get(Seated, row_id).seats_taken == 20
