"""The approval workbench: a registry of review kinds and the scoped inbox queries.

Each feature with applications registers one `ReviewKind` (its model uses
`portal.admin.review.ReviewMixin`). The inbox, the dashboard counts and the
decision service then work for every kind without knowing it. Every query here
filters through `scoped_branch_ids(user, REVIEW_ROLES)`, the one scoping place.
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, literal, select, union_all

from portal.admin import tallies
from portal.branches.models import Branch
from portal.branches.scope import (
    REVIEW_ROLES,
    active_grants,
    can_review,
    scope_paths,
    scoped_branch_ids,
    subtree_ids,
)
from portal.extensions import db

# Twenty cards fill a few phone screens; a longer page is slow to load and to scroll.
PAGE_SIZE = 20
# Levels whose children can only be grassroots units.
BELOW_ONLY_UNITS = frozenset({"county", "grassroots"})
PENDING = "pending"


@dataclass(frozen=True)
class ReviewKind:
    """One kind of application that staff approve in the inbox.

    key: stable id, also the audit log's object_kind and the ?kind= filter.
    label: translated name (a lazy string). summary(obj) -> one translated line.
    facts(obj) -> [(label, value)] for the item page. on_approved(obj, actor) runs
    inside the deciding transaction. load_options: loader options so a page of
    items loads its related rows in a few queries, not one per item.
    personal_fields: which real-name fields the item page shows, for the audit log.
    """

    key: str
    label: object
    model: type
    summary: Callable[[object], str]
    on_approved: Callable[[object, object], None] | None = None
    facts: Callable[[object], Sequence[tuple[str, str]]] | None = None
    load_options: tuple = field(default_factory=tuple)
    # The applicant's real-name profile fields the item page shows (names only): each
    # opening of the page is written to the audit log as a view of personal data.
    personal_fields: tuple[str, ...] = ()


_KINDS: dict[str, ReviewKind] = {}


def register_kind(kind: ReviewKind) -> ReviewKind:
    """Add a kind to the workbench (at import time). Re-registering a key replaces it,
    so re-importing a module in tests is harmless."""
    _KINDS[kind.key] = kind
    return kind


def kinds() -> list[ReviewKind]:
    return sorted(_KINDS.values(), key=lambda k: k.key)


def get_kind(key: str | None) -> ReviewKind | None:
    return _KINDS.get(key or "")


def kind_for(obj) -> ReviewKind:
    """The registered kind of a review object; raises LookupError for an unknown model."""
    for kind in _KINDS.values():
        if isinstance(obj, kind.model):
            return kind
    raise LookupError(f"{type(obj).__name__} is not a registered review kind")


def pending_clause(model):
    """`status = 'pending'` with the literal in the SQL text, not a bound parameter: a
    prepared statement's generic plan (PostgreSQL) or SQLite cannot use the partial index
    of pending rows (review.review_indexes) for a parameter whose value it does not know."""
    return model.status == literal(PENDING, literal_execute=True)


def _pending(kind: ReviewKind, branch_ids: Select):
    return (pending_clause(kind.model), kind.model.branch_id.in_(branch_ids))


def review_roots(user, within: Branch | None = None) -> list[int]:
    """Ids of the top branches of the user's review scope (none nested in another),
    narrowed to `within`'s subtree when given."""
    by_path = {g.path: g.branch_id for g in active_grants(user) if g.role in REVIEW_ROLES}
    roots = scope_paths(user, REVIEW_ROLES)
    if within is None:
        return [by_path[p] for p in roots]
    if any(within.path.startswith(p) for p in roots):
        return [within.id]
    return [by_path[p] for p in roots if p.startswith(within.path)]


def pending_counts_by_kind(user, within: Branch | None = None) -> dict[str, int]:
    """Pending items per kind key (every registered kind, zeros included) in the user's
    review scope, or the part of it under `within`. Staff without a reviewing role
    (auditors, citizens) get all zeros. Read from the rolled-up tallies: a few rows,
    however many branches and applications the scope holds."""
    return tallies.counts(review_roots(user, within), [k.key for k in kinds()])


@dataclass
class InboxItem:
    kind: ReviewKind
    obj: object

    @property
    def key(self) -> str:
        """What a bulk-approve checkbox carries: "<kind>:<id>"."""
        return f"{self.kind.key}:{self.obj.id}"

    @property
    def summary(self) -> str:
        return self.kind.summary(self.obj)

    @property
    def waiting_since(self) -> datetime:
        return self.obj.created_at


@dataclass
class InboxPage:
    items: list[InboxItem]
    counts: dict[str, int]  # per kind, for the branch filter but not the kind filter
    total: int  # items matching both filters
    page: int
    pages: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _filters(user, kind: ReviewKind | None, branch: Branch | None):
    # A branch filter is a subtree inside the scope; the caller has checked the branch
    # is in scope (out of scope answers 404 there), so the subtree is the whole filter.
    scope = subtree_ids(branch) if branch is not None else scoped_branch_ids(user, REVIEW_ROLES)
    chosen = [kind] if kind is not None else kinds()
    return scope, chosen


def _ordered_keys(chosen: list[ReviewKind], scope: Select) -> Select:
    """(kind, id, created_at) of every pending item, oldest first, across kinds."""
    parts = [
        select(
            literal(k.key).label("kind"),
            k.model.id.label("id"),
            k.model.created_at.label("created_at"),
        ).where(*_pending(k, scope))
        for k in chosen
    ]
    if len(parts) == 1:
        sub = parts[0].subquery()
    else:
        sub = union_all(*parts).subquery()
    return select(sub.c.kind, sub.c.id).order_by(sub.c.created_at, sub.c.kind, sub.c.id)


def _load(keys: Sequence[tuple[str, int]]) -> list[InboxItem]:
    """Load the objects behind (kind, id) pairs: one query per kind, order kept."""
    by_kind: dict[str, list[int]] = {}
    for key, obj_id in keys:
        by_kind.setdefault(key, []).append(obj_id)
    loaded: dict[tuple[str, int], object] = {}
    for key, ids in by_kind.items():
        kind = _KINDS[key]
        rows = db.session.scalars(
            select(kind.model).where(kind.model.id.in_(ids)).options(*kind.load_options)
        )
        for obj in rows.unique():
            loaded[(key, obj.id)] = obj
    return [InboxItem(_KINDS[k], loaded[(k, i)]) for k, i in keys if (k, i) in loaded]


def inbox_page(
    user, kind: ReviewKind | None = None, branch: Branch | None = None, page: int = 1
) -> InboxPage:
    """One page (PAGE_SIZE) of pending items in the user's review scope, oldest first,
    optionally only one kind and/or one in-scope branch's subtree, with per-kind counts.
    A page past the end is clamped to the last page."""
    scope, chosen = _filters(user, kind, branch)
    counts = pending_counts_by_kind(user, within=branch)
    total = sum(counts[k.key] for k in chosen)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    keys = []
    if total:
        stmt = _ordered_keys(chosen, scope).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
        keys = [(k, i) for k, i in db.session.execute(stmt)]
    return InboxPage(_load(keys), counts, total, page, pages)


def iter_inbox(
    user, kind: ReviewKind | None = None, branch: Branch | None = None, batch: int = 500
) -> Iterator[InboxItem]:
    """Every pending item in scope (same filters and order as inbox_page), loaded in
    batches, for exports."""
    scope, chosen = _filters(user, kind, branch)
    keys = [(k, i) for k, i in db.session.execute(_ordered_keys(chosen, scope))]
    for start in range(0, len(keys), batch):
        yield from _load(keys[start : start + batch])


def find_in_scope(user, key: str, object_id: int):
    """The review object of kind `key` and id `object_id` if the user may review it
    (its deciding branch is in their review scope), else None (the view answers 404)."""
    kind = get_kind(key)
    if kind is None or not 0 < object_id < 2**31:  # 32-bit ids: bigger ones do not exist
        return None
    obj = db.session.get(kind.model, object_id)
    if obj is None or not can_review(user, obj):
        return None
    return obj


def branch_filter_choices(user, limit: int = 200) -> list[Branch]:
    """A short list for the inbox's branch filter: the branches where the user holds a
    reviewing role and their open direct children above grassroots level (a province admin
    gets ~10 cities, a county officer just their county, never hundreds of units). Any
    other branch in scope is reached with ?branch=<id> (the inbox links each item's branch)."""
    grants = [g for g in active_grants(user) if g.role in REVIEW_ROLES]
    if not grants:
        return []
    if all(g.level in BELOW_ONLY_UNITS for g in grants):
        # A county's children are grassroots units, which the list leaves out: the
        # branches of the grants are the whole list, already loaded with them.
        branches = {g.branch_id: g.branch for g in grants}
        return sorted(branches.values(), key=lambda b: b.path)[:limit]
    role_ids = {g.branch_id for g in grants}
    # A union rather than "id IN (..) OR parent_id IN (..)": each half uses its index,
    # where the OR would read all 10 000 branches of a province.
    wanted = union_all(
        select(Branch.id).where(Branch.id.in_(role_ids)),
        select(Branch.id).where(Branch.parent_id.in_(role_ids), Branch.level != "grassroots"),
    )
    return list(
        db.session.scalars(
            select(Branch)
            .where(Branch.id.in_(wanted), Branch.closed_at.is_(None))
            .order_by(Branch.path)
            .limit(limit)
        )
    )
