"""Gapless, duplicate-free numbers under concurrency.

`next_number(key)` advances the series' counter with one UPDATE ... RETURNING inside the
caller's transaction. The row lock it takes makes concurrent callers queue: the second
reads the first's number only after the first commits, and a transaction that rolls
back gives its number back with it, so the series never skips or repeats (PostgreSQL;
SQLite serialises writers on the file anyway). The price is that two approvals in the
same series cannot commit at the same moment, which is what "gapless" means.
Services flush only; the caller's view commits.
"""

import re

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.extensions import db
from portal.numbering.models import NumberSeries

_KEY = re.compile(r"[a-z_]+(:[0-9A-Za-z_-]+)*")


def next_number(key: str) -> int:
    """The next number of series `key` (1 for a new series), reserved until the
    caller's transaction ends: committed, it is taken; rolled back, it is free again."""
    if not _KEY.fullmatch(key) or len(key) > 60:
        raise ValueError(f"not a series key: {key!r}")
    advance = (
        update(NumberSeries)
        .where(NumberSeries.key == key)
        .values(last=NumberSeries.last + 1)
        .returning(NumberSeries.last)
    )
    number = db.session.scalar(advance)
    if number is not None:
        return number
    # A new series: create its row (a racing creator's row wins harmlessly), then advance.
    connection = db.session.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(NumberSeries).values(key=key, last=0).on_conflict_do_nothing())
    return db.session.scalar(advance)


def last_number(key: str) -> int:
    """The last number issued in series `key` (0 when none)."""
    return db.session.scalar(select(NumberSeries.last).where(NumberSeries.key == key)) or 0


def _ensure_series(key: str) -> None:
    if not _KEY.fullmatch(key) or len(key) > 60:
        raise ValueError(f"not a series key: {key!r}")
    connection = db.session.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(NumberSeries).values(key=key, last=0).on_conflict_do_nothing())


def reserve_numbers(key: str, count: int) -> range:
    """`count` consecutive numbers of series `key` at once (an import's new rows), under
    the same row lock and rollback rules as next_number."""
    if count < 1:
        return range(0)
    _ensure_series(key)
    last = db.session.scalar(
        update(NumberSeries)
        .where(NumberSeries.key == key)
        .values(last=NumberSeries.last + count)
        .returning(NumberSeries.last)
    )
    return range(last - count + 1, last + 1)


def skip_past(key: str, number: int) -> None:
    """Make sure series `key` never issues `number` or anything below it: an imported
    number of the portal's own form is taken already (numbers below it that were never
    issued stay unused, which keeps the series free of duplicates)."""
    _ensure_series(key)
    db.session.execute(
        update(NumberSeries)
        .where(NumberSeries.key == key, NumberSeries.last < number)
        .values(last=number)
    )
