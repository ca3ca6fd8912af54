"""Rolled-up pending counts (`PendingTally`): one row per (branch, kind) holding the
number of pending items at that branch and below.

Every change to a pending item moves the counts of the item's branch and all its
ancestors, inside the same transaction:
- items added, deleted or edited through the ORM: the `after_flush` hook below;
- decisions and withdrawals (a guarded UPDATE, see services._compare_and_set): `adjust()`;
- a branch moved to another parent: `move_subtree()`.
The counts only label the inbox and the dashboard: which items the inbox shows never
depends on them. Anything that changes items behind the ORM's back (plain SQL, a bulk
load) leaves them wrong until `check()` (`flask review check-tallies`, run daily by
cron) recounts, reports the drift and repairs it.
"""

from collections import Counter, defaultdict
from functools import lru_cache

from sqlalchemy import bindparam, delete, event, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal import plainrows
from portal.branches.models import Branch
from portal.extensions import db
from portal.review.kinds import kind_for, kinds
from portal.review.models import PENDING, PendingTally, ReviewMixin


def ancestor_ids(path: str) -> list[int]:
    """Ids on a materialized path, root first: "/1/2/15/" -> [1, 2, 15]."""
    return [int(part) for part in path.strip("/").split("/") if part]


def _upsert(connection, deltas: dict[tuple[int, str], int]) -> None:
    deltas = {key: d for key, d in deltas.items() if d}
    if not deltas:
        return
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    # Sorted rows take row locks in one global order, so two transactions touching the
    # same ancestors queue behind each other instead of deadlocking.
    rows = [{"branch_id": b, "kind": k, "n": d} for (b, k), d in sorted(deltas.items())]
    stmt = insert(PendingTally).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["branch_id", "kind"], set_={"n": PendingTally.n + stmt.excluded.n}
    )
    connection.execute(stmt)


def adjust(kind_key: str, branch_path: str, delta: int, connection=None) -> None:
    """Add `delta` pending items of `kind_key` at the branch with `branch_path`."""
    deltas = {(bid, kind_key): delta for bid in ancestor_ids(branch_path)}
    _upsert(connection if connection is not None else db.session.connection(), deltas)


def counts(root_ids: list[int], kind_keys: list[str]) -> dict[str, int]:
    """Pending items per kind under the given branches (none nested in another)."""
    result = dict.fromkeys(kind_keys, 0)
    if not root_ids or not kind_keys:
        return result
    rows = db.session.execute(_counts_statement(), {"roots": root_ids, "kinds": kind_keys})
    for kind, n in rows:
        result[kind] = int(n or 0)
    return result


@lru_cache(maxsize=1)
def _counts_statement():
    # Built once: every staff dashboard runs it (see counts_column for the inbox's).
    return (
        select(PendingTally.kind, func.sum(PendingTally.n))
        .where(
            PendingTally.branch_id.in_(_in_text("roots")), PendingTally.kind.in_(_in_text("kinds"))
        )
        .group_by(PendingTally.kind)
    )


def _in_text(name: str):
    """A list parameter written into the SQL text at execution: PostgreSQL keeps one
    generic plan for the statement; with the values bound it planned it afresh on every
    request (the custom plans looked cheaper to it)."""
    return bindparam(name, expanding=True, literal_execute=True)


def counts_column(dialect: str):
    """counts() as one column of a page's read (the inbox reads its labels in one
    statement): the tallies at the branches in the expanding parameter `tally_roots` for
    the kinds in `tally_kinds`, as json_rows; sum them with counts_from()."""
    rows = plainrows.json_rows(dialect, PendingTally.kind, PendingTally.n)
    return (
        select(rows)
        .where(
            PendingTally.branch_id.in_(_in_text("tally_roots")),
            PendingTally.kind.in_(_in_text("tally_kinds")),
        )
        .scalar_subquery()
        .label("tallies")
    )


def counts_from(value, kind_keys: list[str]) -> dict[str, int]:
    """What counts() answers, from a counts_column() value."""
    result = dict.fromkeys(kind_keys, 0)
    for kind, n in plainrows.json_rows_value(value):
        if kind in result:
            result[kind] += int(n)
    return result


def move_subtree(branch: Branch, old_parent_path: str, new_parent_path: str) -> None:
    """Call before a move rewrites paths: the subtree's own counts stay, its old
    ancestors lose them and its new ancestors gain them."""
    moved = db.session.execute(
        select(PendingTally.kind, PendingTally.n).where(
            PendingTally.branch_id == branch.id, PendingTally.n != 0
        )
    ).all()
    deltas: Counter = Counter()
    for kind, n in moved:
        for bid in ancestor_ids(old_parent_path):
            deltas[(bid, kind)] -= n
        for bid in ancestor_ids(new_parent_path):
            deltas[(bid, kind)] += n
    _upsert(db.session.connection(), dict(deltas))


def _recount() -> Counter:
    """What every tally should be, counted from the applications themselves."""
    paths = dict(db.session.execute(select(Branch.id, Branch.path)).all())
    totals: Counter = Counter()
    for kind in kinds():
        model = kind.model
        per_branch = db.session.execute(
            select(model.branch_id, func.count())
            .where(model.status == PENDING)
            .group_by(model.branch_id)
        )
        for branch_id, n in per_branch:
            for bid in ancestor_ids(paths[branch_id]):
                totals[(bid, kind.key)] += n
    return totals


def check(repair: bool = True) -> list[tuple[int, str, int, int]]:
    """Recount every tally from the applications and return the drift as (branch_id,
    kind, stored, counted) for each row that differs; with `repair`, set them right in
    the caller's transaction. Rows locked for the recount keep decisions from moving
    the counts under it (PostgreSQL; SQLite serialises writers anyway)."""
    stored_rows = db.session.execute(
        select(PendingTally.branch_id, PendingTally.kind, PendingTally.n).with_for_update()
    )
    stored = {(b, k): n for b, k, n in stored_rows}
    counted = _recount()
    drift = [
        (b, k, stored.get((b, k), 0), counted.get((b, k), 0))
        for b, k in sorted(set(stored) | set(counted))
        if stored.get((b, k), 0) != counted.get((b, k), 0)
    ]
    if repair and drift:
        _upsert(db.session.connection(), {(b, k): c - s for b, k, s, c in drift})
    return drift


def rebuild() -> int:
    """Recompute every tally from the applications (after a bulk load); returns the
    number of rows."""
    totals = _recount()
    db.session.execute(delete(PendingTally))
    rows = [{"branch_id": b, "kind": k, "n": n} for (b, k), n in sorted(totals.items())]
    if rows:
        db.session.execute(PendingTally.__table__.insert(), rows)
    return len(rows)


_BEFORE = "review_items_before_flush"


def _changing_review_items(session):
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, ReviewMixin) and obj not in session.new:
            yield obj


@event.listens_for(Session, "before_flush")
def _read_states_before_flush(session, flush_context, instances) -> None:
    """Read the stored status and branch of each review item about to change. Asked of
    the database, because an expired object's attribute history cannot tell."""
    wanted: dict[type, set[int]] = defaultdict(set)
    for obj in _changing_review_items(session):
        if obj.id is not None:
            wanted[type(obj)].add(obj.id)
    before = {}
    for model, ids in wanted.items():
        rows = session.connection().execute(
            select(model.id, model.status, model.branch_id).where(model.id.in_(ids))
        )
        for obj_id, status, branch_id in rows:
            before[(model, obj_id)] = (status, branch_id)
    session.info[_BEFORE] = before


@event.listens_for(Session, "after_flush")
def _count_orm_changes(session, flush_context) -> None:
    before = session.info.pop(_BEFORE, {})
    changes: list[tuple[str, int | None, int]] = []  # (kind, branch_id, delta)
    for obj in session.new:
        if isinstance(obj, ReviewMixin) and (obj.status or PENDING) == PENDING:
            changes.append((kind_for(obj).key, obj.branch_id, +1))
    for obj in _changing_review_items(session):
        old_status, old_branch = before.get((type(obj), obj.id), (None, None))
        new_status, new_branch = (
            (None, None) if obj in session.deleted else (obj.status, obj.branch_id)
        )
        if (old_status, old_branch) == (new_status, new_branch):
            continue
        key = kind_for(obj).key
        if old_status == PENDING:
            changes.append((key, old_branch, -1))
        if new_status == PENDING:
            changes.append((key, new_branch, +1))
    if not changes:
        return
    connection = session.connection()
    ids = {bid for _, bid, _ in changes if bid is not None}
    paths = dict(connection.execute(select(Branch.id, Branch.path).where(Branch.id.in_(ids))).all())
    deltas: dict = defaultdict(int)
    for key, bid, delta in changes:
        for ancestor in ancestor_ids(paths.get(bid, "")):
            deltas[(ancestor, key)] += delta
    _upsert(connection, deltas)
