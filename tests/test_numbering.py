"""Gapless numbers: sequential per series, given back by a rollback, and under 50
concurrent transactions (PostgreSQL) distinct and without gaps."""

import os
import threading

import pytest

from portal.extensions import db
from portal.numbering.services import last_number, next_number


def test_each_series_counts_from_one(app):
    assert [next_number("member:610302") for _ in range(3)] == [1, 2, 3]
    assert next_number("member:610323") == 1
    assert next_number("group:610302") == 1
    db.session.commit()
    assert last_number("member:610302") == 3
    assert last_number("receipt:610302:2026") == 0


def test_a_rolled_back_number_is_issued_again(app):
    next_number("volunteer:610302")
    db.session.commit()
    assert next_number("volunteer:610302") == 2
    db.session.rollback()
    assert next_number("volunteer:610302") == 2


@pytest.mark.parametrize("key", ["", "Member", "member:61 0302", "member;drop", "x" * 61])
def test_odd_keys_are_refused(app, key):
    with pytest.raises(ValueError):
        next_number(key)


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="real concurrent transactions need PostgreSQL (set TEST_DATABASE_URL)",
)
def test_fifty_concurrent_transactions_get_fifty_numbers_without_gaps(app):
    """Fifty threads, each in its own transaction, released together; every fifth one
    rolls back after taking a number. The committed numbers are exactly 1..40."""
    threads_n = 50
    barrier = threading.Barrier(threads_n)
    taken: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                number = next_number("member:610302")
                if i % 5 == 4:
                    db.session.rollback()
                    return
                db.session.commit()
                with lock:
                    taken.append(number)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(taken) == list(range(1, 41))
    assert last_number("member:610302") == 40


def test_a_block_of_numbers_and_skipping_past_an_imported_one(app):
    from portal.numbering.services import reserve_numbers, skip_past

    assert next_number("member:610302") == 1
    assert list(reserve_numbers("member:610302", 3)) == [2, 3, 4]
    assert list(reserve_numbers("member:610302", 0)) == []
    skip_past("member:610302", 10)
    skip_past("member:610302", 7)  # never backwards
    assert next_number("member:610302") == 11
    skip_past("volunteer:610323", 5)  # a new series starts past it
    assert list(reserve_numbers("volunteer:610323", 2)) == [6, 7]


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="real concurrent transactions need PostgreSQL (set TEST_DATABASE_URL)",
)
def test_blocks_and_single_numbers_taken_concurrently_never_overlap(app):
    """Twenty threads released together, half reserving blocks of five (imports), half
    single numbers (approvals): every committed number is distinct, none is missing."""
    from portal.numbering.services import reserve_numbers

    threads_n = 20
    barrier = threading.Barrier(threads_n)
    taken: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                numbers = (
                    list(reserve_numbers("member:610302", 5))
                    if i % 2
                    else [next_number("member:610302")]
                )
                db.session.commit()
                with lock:
                    taken.extend(numbers)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(taken) == list(range(1, 61))
