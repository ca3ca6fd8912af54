"""The scoped inbox queries: every pending application in a reviewer's scope, across
kinds, oldest first.

Every query filters through scope.py, the one scoping place: the review scope's paths
(`scope_paths(user, REVIEW_ROLES)`) applied to each item's own copy of its branch's
path (ReviewMixin.branch_path). A page is read in two steps: the page's (kind, id)
keys in one statement across kinds, then each kind's cards for those ids. The pending
tallies only label the page (counts per kind); which items show never depends on them.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from flask_babel import get_locale
from sqlalchemy import Row, literal, select, union_all

from portal.branches.models import Branch
from portal.branches.scope import (
    REVIEW_ROLES,
    BranchLabel,
    active_grants,
    can_review,
    scope_paths,
    top_grants,
    under_any,
)
from portal.branches.signals import access_refused
from portal.extensions import db
from portal.ids import as_id
from portal.review import tallies
from portal.review.kinds import ReviewKind, get_kind, kinds
from portal.review.models import PENDING

# Twenty cards fill a few phone screens; a longer page is slow to load and to scroll.
PAGE_SIZE = 20
# The inbox's branch filter lists at most this many branches.
CHOICES_MAX = 200


def pending_clause(model):
    """`status = 'pending'` with the literal in the SQL text, not a bound parameter: the
    planner can only use the partial index of pending rows (review_indexes) for a value
    it can see."""
    return model.status == literal(PENDING, literal_execute=True)


def pending_counts_by_kind(user, within: Branch | None = None) -> dict[str, int]:
    """Pending items per kind key (every registered kind, zeros included) in the user's
    review scope, or the part of it under `within`. Staff
    without a reviewing role get all zeros. From the rolled-up tallies: labels only."""
    keys = [k.key for k in kinds()]
    roots = top_grants(user, REVIEW_ROLES)
    if within is not None:
        if can_review(user, within):
            return tallies.counts([within.id], keys)
        roots = [g for g in roots if g.path.startswith(within.path)]
    return tallies.counts([g.branch_id for g in roots], keys)


class InboxCard(NamedTuple):
    """One pending item as the inbox shows it, its words ready in the page's language."""

    kind: str  # the kind's key
    id: int
    branch_id: int
    branch_name: str
    waiting_since: datetime
    summary: str

    @property
    def key(self) -> str:
        """What a bulk-approve checkbox carries: "<kind>:<id>"."""
        return f"{self.kind}:{self.id}"


@dataclass
class InboxPage:
    items: list[InboxCard]
    counts: dict[str, int]  # per kind (tallies), for the branch filter but not the kind filter
    page: int
    has_next: bool

    @property
    def total(self) -> int:
        """Items matching the filters, as the tallies count them (a label)."""
        return sum(self.counts.values())

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def pages(self) -> int:
        """At least as many pages as the items shown so far need, whatever the tallies say."""
        counted = max(1, -(-self.total // PAGE_SIZE))
        return max(counted, self.page + (1 if self.has_next else 0))


def _filters(user, kind: ReviewKind | None, branch: Branch | None):
    """(the paths the items' branches lie under, the kinds) for the inbox filters."""
    # A branch filter is a subtree inside the scope; the caller has checked the branch
    # is in scope (out of scope answers 404 there), so the subtree is the whole filter.
    paths = [branch.path] if branch is not None else scope_paths(user, REVIEW_ROLES)
    return paths, ([kind] if kind is not None else kinds())


def _ordered_keys(chosen: Sequence[ReviewKind], paths: list[str], first: int | None = None):
    """(kind, id) of every pending item of `chosen` kinds under `paths`, oldest first;
    with `first`, only enough for the first `first` rows. Each kind's part is then
    ordered and cut on its own, so it is read in index order and stops early: a union
    sorted only as a whole would read every pending item in scope first."""
    parts = []
    for kind in chosen:
        part = select(
            literal(kind.key).label("kind"),
            kind.model.id.label("id"),
            kind.model.created_at.label("created_at"),
        ).where(pending_clause(kind.model), under_any(paths, kind.model.branch_path))
        if first is not None and len(chosen) > 1:
            # A subquery of its own: SQLite allows no ORDER BY or LIMIT in a UNION's parts.
            cut = part.order_by(kind.model.created_at, kind.model.id).limit(first).subquery()
            part = select(cut.c.kind, cut.c.id, cut.c.created_at)
        parts.append(part)
    pending = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
    return select(pending.c.kind, pending.c.id).order_by(
        pending.c.created_at, pending.c.kind, pending.c.id
    )


def _as_cards(kind: ReviewKind, rows: Sequence[Row]) -> list[InboxCard]:
    en = str(get_locale()) == "en"
    return [
        InboxCard(
            kind.key,
            row.id,
            row.branch_id,
            row.branch_en if en else row.branch_zh,
            row.created_at,
            summary,
        )
        for row, summary in zip(rows, kind.summaries(rows), strict=True)
    ]


def load_cards(keys: Sequence[tuple[str, int]]) -> list[InboxCard]:
    """The cards behind (kind, id) pairs, in their order: one query per kind."""
    ids_by_kind: dict[str, list[int]] = {}
    for key, obj_id in keys:
        ids_by_kind.setdefault(key, []).append(obj_id)
    loaded: dict[tuple[str, int], InboxCard] = {}
    for key, ids in ids_by_kind.items():
        kind = get_kind(key)
        rows = db.session.execute(kind.cards.where(kind.model.id.in_(ids))).all()
        for card in _as_cards(kind, rows):
            loaded[(key, card.id)] = card
    return [loaded[key] for key in keys if key in loaded]


def summary_of(kind: ReviewKind, obj) -> str:
    """The inbox summary line of one application (its item page shows it too)."""
    return load_cards([(kind.key, obj.id)])[0].summary


def inbox_page(
    user, kind: ReviewKind | None = None, branch: Branch | None = None, page: int = 1
) -> InboxPage:
    """One page (PAGE_SIZE) of pending items in the user's review scope, oldest first,
    optionally only one kind and/or one in-scope branch's subtree, with per-kind counts.
    A page past the end shows the last page that has items."""
    paths, chosen = _filters(user, kind, branch)
    counts = pending_counts_by_kind(user, within=branch)
    counts = {k.key: counts.get(k.key, 0) for k in chosen}
    page = max(1, page)
    keys: list[tuple[str, int]] = []
    if paths:
        keys = _page_of(chosen, paths, page)
        if not keys and page > 1:
            # Past the end: the last page there is (counted, not taken from the tallies).
            everything = _ordered_keys(chosen, paths).subquery()
            total = db.session.scalar(select(db.func.count()).select_from(everything))
            page = max(1, -(-total // PAGE_SIZE))
            keys = _page_of(chosen, paths, page)
    has_next = len(keys) > PAGE_SIZE
    return InboxPage(load_cards(keys[:PAGE_SIZE]), counts, page, has_next)


def _page_of(chosen, paths, page: int) -> list[tuple[str, int]]:
    # One more than a page: whether there is a next page, without counting.
    offset = (page - 1) * PAGE_SIZE
    ordered = _ordered_keys(chosen, paths, first=offset + PAGE_SIZE + 1)
    query = ordered.limit(PAGE_SIZE + 1).offset(offset)
    return [(k, i) for k, i in db.session.execute(query)]


def iter_inbox(
    user, kind: ReviewKind | None = None, branch: Branch | None = None, batch: int = 500
) -> Iterator[InboxCard]:
    """Every pending item in scope (same filters and order as inbox_page), loaded in
    batches, for exports."""
    paths, chosen = _filters(user, kind, branch)
    if not paths:
        return
    keys = [(k, i) for k, i in db.session.execute(_ordered_keys(chosen, paths))]
    for start in range(0, len(keys), batch):
        yield from load_cards(keys[start : start + batch])


def find_in_scope(user, key: str, object_id: int | str):
    """The review object of kind `key` and id `object_id` if the user may review it
    (its deciding branch is in their review scope), else None (the view answers 404; a
    refusal of an existing item is audited)."""
    kind, object_id = get_kind(key), as_id(object_id)
    if kind is None or object_id is None:
        return None
    obj = db.session.get(kind.model, object_id)
    if obj is not None and not can_review(user, obj):
        access_refused.send(user, object_kind=kind.key, object_id=obj.id, branch_id=obj.branch_id)
        return None
    return obj


def branch_filter_choices(user) -> list[BranchLabel]:
    """A short list for the inbox's branch filter: the branches where the user holds a
    reviewing role and their open direct children above grassroots level (a province
    admin gets ~10 cities, a county officer just their county, never hundreds of units).
    Any other branch in scope is reached with ?branch=<id> (the inbox links each item's
    branch)."""
    grants = [g for g in active_grants(user) if g.role in REVIEW_ROLES]
    branches: dict[int, BranchLabel] = {g.branch_id: g.branch for g in grants}
    if grants:
        children = db.session.execute(
            select(Branch.id, Branch.path, Branch.name_zh, Branch.name_en).where(
                Branch.parent_id.in_([g.branch_id for g in grants]),
                Branch.level != "grassroots",
                Branch.closed_at.is_(None),
            )
        )
        for row in children:
            branches.setdefault(row.id, BranchLabel(*row))
    return sorted(branches.values(), key=lambda b: b.path)[:CHOICES_MAX]
