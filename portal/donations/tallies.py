"""The ledger's sums per (branch, project, month, measure), rolled up the tree and kept
exact in the same transaction as each entry, like the inbox's pending tallies
(review/tallies.py).

Every entry adds its amount to the "all projects" rows (project 0) of its own branch
AND of each ancestor, so those rows hold the sums of the branch's whole subtree: the
society's page reads the national society's few rows (months x measures), a county's
page its own, whatever the size of the ledger. An entry of a project also adds to that
project's own rows, kept at the project's branch only. Entries are never
edited or deleted, so only `bump()` moves a sum; a branch moving in the tree moves its
subtree's sums from the old ancestors to the new (`_follow_moved_branch`). `check()`
recounts every sum from the entries (a test, and `flask donations check-tallies`)."""

from datetime import date

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.branches.models import Branch
from portal.branches.signals import branch_moved
from portal.donations.models import GOODS, Allocation, Donation, DonationTally, Expense
from portal.extensions import db
from portal.review.tallies import ancestor_ids

ALLOCATED, SPENT = "allocated", "spent"


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def incoming_measure(kind: str, channel: str | None) -> str:
    return "in:goods" if kind == GOODS else f"in:{channel}"


def _upsert(deltas: dict[tuple, tuple[int, int]]) -> None:
    deltas = {k: v for k, v in deltas.items() if v != (0, 0)}
    if not deltas:
        return
    connection = db.session.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    # Sorted rows take their locks in one global order: writers touching the same
    # ancestors queue behind each other instead of deadlocking.
    rows = [
        {"branch_id": b, "project_id": p, "month": m, "measure": measure, "fen": f, "n": n}
        for (b, p, m, measure), (f, n) in sorted(deltas.items())
    ]
    stmt = insert(DonationTally).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["branch_id", "project_id", "month", "measure"],
        set_={"fen": DonationTally.fen + stmt.excluded.fen, "n": DonationTally.n + stmt.excluded.n},
    )
    connection.execute(stmt)


def _keys(branch_path: str, project_id: int | None, month: str, measure: str) -> list[tuple]:
    ids = ancestor_ids(branch_path)
    keys = [(b, 0, month, measure) for b in ids]
    if project_id:
        keys.append((ids[-1], project_id, month, measure))
    return keys


def bump(branch_path: str, project_id: int | None, day: date, measure: str, fen: int, n: int):
    """Add `fen` and `n` entries to the subtree sums of the branch with `branch_path`
    and each ancestor, and to the project's own sums."""
    _upsert({k: (fen, n) for k in _keys(branch_path, project_id, month_of(day), measure)})


@branch_moved.connect
def _follow_moved_branch(branch, old_parent_path: str, new_parent_path: str, **_):
    """The moved branch's project-0 rows hold its subtree's sums: the old ancestors lose
    them, the new ancestors gain them (in the moving transaction, before paths are
    rewritten). Projects' own rows stay with their branch."""
    rows = db.session.execute(
        select(
            DonationTally.project_id,
            DonationTally.month,
            DonationTally.measure,
            DonationTally.fen,
            DonationTally.n,
        ).where(DonationTally.branch_id == branch.id, DonationTally.project_id == 0)
    ).all()
    deltas: dict = {}
    for p, m, measure, fen, n in rows:
        for bid in ancestor_ids(old_parent_path):
            deltas[(bid, p, m, measure)] = _add(deltas.get((bid, p, m, measure)), -fen, -n)
        for bid in ancestor_ids(new_parent_path):
            deltas[(bid, p, m, measure)] = _add(deltas.get((bid, p, m, measure)), fen, n)
    _upsert(deltas)


def _add(pair, fen, n):
    f0, n0 = pair or (0, 0)
    return (f0 + fen, n0 + n)


def _sign(amount: int) -> int:
    return -1 if amount < 0 else 1


def recomputed() -> dict:
    """{(branch, project, month, measure): (fen, n)} from the entries themselves."""
    sums: dict = {}

    def add(path, project_id, on, measure, amount):
        for key in _keys(path, project_id, month_of(on), measure):
            sums[key] = _add(sums.get(key), amount, _sign(amount))

    for path, project_id, on, kind, channel, amount in db.session.execute(
        select(
            Branch.path,
            Donation.project_id,
            Donation.received_on,
            Donation.kind,
            Donation.channel,
            Donation.amount_fen,
        ).join(Branch, Branch.id == Donation.branch_id)
    ):
        add(path, project_id, on, incoming_measure(kind, channel), amount)
    for model, day, measure in (
        (Allocation, Allocation.allocated_on, ALLOCATED),
        (Expense, Expense.spent_on, SPENT),
    ):
        for path, project_id, on, amount in db.session.execute(
            select(Branch.path, model.project_id, day, model.amount_fen).join(
                Branch, Branch.id == model.branch_id
            )
        ):
            add(path, project_id, on, measure, amount)
    return sums


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
        {"branch_id": b, "project_id": p, "month": m, "measure": measure, "fen": f, "n": n}
        for (b, p, m, measure), (f, n) in recomputed().items()
    ]
    for start in range(0, len(rows), 5000):
        db.session.execute(DonationTally.__table__.insert(), rows[start : start + 5000])
    db.session.flush()
    return len(rows)


def count_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(DonationTally)) or 0
