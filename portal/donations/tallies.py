"""The ledger's sums per (branch, project, month, measure), kept exact in the same
transaction as each entry, like the inbox's pending tallies (review/tallies.py).

Every service that adds an entry calls `bump()`; the public pages add up a handful of
tally rows (one per branch, month and measure) instead of the entries themselves.
Entries are never edited or deleted, so nothing else can move a sum. `check()` recomputes
every sum from the entries and says where they differ (a test and `flask donations
check-tallies` use it)."""

from collections import Counter
from datetime import date

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.donations.models import GOODS, Allocation, Donation, DonationTally, Expense
from portal.extensions import db

ALLOCATED, SPENT = "allocated", "spent"


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def incoming_measure(kind: str, channel: str | None) -> str:
    return "in:goods" if kind == GOODS else f"in:{channel}"


def bump(branch_id: int, project_id: int | None, day: date, measure: str, fen: int, n: int):
    """Add `fen` and `n` entries to one tally row (created at zero when missing)."""
    connection = db.session.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(DonationTally).values(
        branch_id=branch_id,
        project_id=project_id or 0,
        month=month_of(day),
        measure=measure,
        fen=fen,
        n=n,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["branch_id", "project_id", "month", "measure"],
        set_={"fen": DonationTally.fen + stmt.excluded.fen, "n": DonationTally.n + stmt.excluded.n},
    )
    connection.execute(stmt)


def _sign(amount: int) -> int:
    return -1 if amount < 0 else 1


def recomputed() -> Counter:
    """{(branch, project, month, measure): (fen, n)} from the entries themselves."""
    sums: Counter = Counter()
    counts: Counter = Counter()
    for d in db.session.execute(
        select(
            Donation.branch_id,
            Donation.project_id,
            Donation.received_on,
            Donation.kind,
            Donation.channel,
            Donation.amount_fen,
        )
    ):
        key = (
            d.branch_id,
            d.project_id or 0,
            month_of(d.received_on),
            incoming_measure(d.kind, d.channel),
        )
        sums[key] += d.amount_fen
        counts[key] += _sign(d.amount_fen)
    for model, day, measure in (
        (Allocation, Allocation.allocated_on, ALLOCATED),
        (Expense, Expense.spent_on, SPENT),
    ):
        for branch_id, project_id, on, amount in db.session.execute(
            select(model.branch_id, model.project_id, day, model.amount_fen)
        ):
            key = (branch_id, project_id, month_of(on), measure)
            sums[key] += amount
            counts[key] += _sign(amount)
    return Counter({k: (sums[k], counts[k]) for k in sums})


def check() -> list[tuple]:
    """The tally rows that differ from the entries: [(key, stored, recomputed)]."""
    expected = recomputed()
    stored = {
        (t.branch_id, t.project_id, t.month, t.measure): (t.fen, t.n)
        for t in db.session.scalars(select(DonationTally))
    }
    drift = []
    for key in set(expected) | set(stored):
        want = expected.get(key, (0, 0))
        have = stored.get(key, (0, 0))
        if want != have:
            drift.append((key, have, want))
    return sorted(drift)


def rebuild() -> int:
    """Replace every tally row by a recount of the entries (after a bulk load into the
    tables behind the services' back); returns the number of rows."""
    db.session.execute(delete(DonationTally))
    rows = [
        DonationTally(branch_id=b, project_id=p, month=m, measure=measure, fen=fen, n=n)
        for (b, p, m, measure), (fen, n) in recomputed().items()
    ]
    db.session.add_all(rows)
    db.session.flush()
    return len(rows)


def count_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(DonationTally)) or 0
