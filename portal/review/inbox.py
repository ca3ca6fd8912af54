"""The scoped inbox queries: every pending application in a reviewer's scope, across
kinds, oldest first.

Every query filters through scope.py, the one scoping place: the review scope's paths
(`scope_paths(user, REVIEW_ROLES)`) applied to each item's own copy of its branch's
path (ReviewMixin.branch_path). A page is read in three steps: its labels (the pending
tallies per kind and the branch filter's choices) in one statement, the page's
(kind, id) keys in one statement across kinds, then the cards of each kind that has
items on the page. The tallies only label the page; which items show never depends on
them.

The statements are built once per shape (the kinds, how many scope paths, the
dialect) and cached with their values as parameters: a statement built per request
cost more to build and to hash for SQLAlchemy's compiled cache than to run.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from flask_babel import get_locale
from sqlalchemy import Integer, Row, bindparam, func, literal, select, union_all

from portal import plainrows
from portal.branches.models import Branch
from portal.branches.scope import (
    REVIEW_ROLES,
    BranchLabel,
    active_grants,
    can_review,
    scope_paths,
    top_grants,
    under_any_bound,
    under_params,
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


def _tally_roots(user, within: Branch | None) -> list[int]:
    """The branches whose tallies add up to the user's review scope (or the part of it
    under `within`): none nested in another, so nothing is counted twice."""
    if within is not None and can_review(user, within):
        return [within.id]
    roots = top_grants(user, REVIEW_ROLES)
    if within is not None:
        roots = [g for g in roots if g.path.startswith(within.path)]
    return [g.branch_id for g in roots]


def pending_counts_by_kind(user, within: Branch | None = None) -> dict[str, int]:
    """Pending items per kind key (every registered kind, zeros included) in the user's
    review scope, or the part of it under `within`. Staff
    without a reviewing role get all zeros. From the rolled-up tallies: labels only."""
    return tallies.counts(_tally_roots(user, within), [k.key for k in kinds()])


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
    branch_choices: list[BranchLabel] = field(default_factory=list)  # branch_filter_choices

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
    """(the statement, its parameters) reading (kind, id) of every pending item of
    `chosen` kinds under `paths`, oldest first; with `first`, only enough for the first
    `first` rows, and the statement takes `limit` and `offset` too."""
    dialect = db.session.get_bind().dialect.name
    statement = _keys_statement(_shape(chosen), len(paths), dialect, first is not None)
    params = under_params(paths, dialect)
    if first is not None:
        params["first"] = first
    return statement, params


def _count(chosen: Sequence[ReviewKind], paths: list[str]) -> int:
    """How many pending items of `chosen` kinds lie under `paths` (counted, not tallied)."""
    dialect = db.session.get_bind().dialect.name
    statement = _count_statement(_shape(chosen), len(paths), dialect)
    return db.session.scalar(statement, under_params(paths, dialect))


def _shape(chosen: Sequence[ReviewKind]) -> tuple[tuple[str, type], ...]:
    """What the keys statement depends on, as a cache key: each kind's key and model."""
    return tuple((kind.key, kind.model) for kind in chosen)


@lru_cache(maxsize=128)
def _keys_statement(shape: tuple[tuple[str, type], ...], n_paths: int, dialect: str, paged: bool):
    """Built once per shape: the kinds as (key, model), how many scope paths, the
    dialect, and whether it reads a page. Each kind's part of a page is ordered and cut
    on its own, so it is read in index order and stops early: a union sorted only as a
    whole would read every pending item in scope first."""
    parts = []
    for key, model in shape:
        part = select(
            literal(key).label("kind"),
            model.id.label("id"),
            model.created_at.label("created_at"),
        ).where(pending_clause(model), under_any_bound(n_paths, model.branch_path, dialect))
        if paged and len(shape) > 1:
            # A subquery of its own: SQLite allows no ORDER BY or LIMIT in a UNION's parts.
            cut = part.order_by(model.created_at, model.id).limit(_in_text("first")).subquery()
            part = select(cut.c.kind, cut.c.id, cut.c.created_at)
        parts.append(part)
    pending = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
    ordered = select(pending.c.kind, pending.c.id).order_by(
        pending.c.created_at, pending.c.kind, pending.c.id
    )
    if paged:
        ordered = ordered.limit(_in_text("limit")).offset(_in_text("offset"))
    return ordered


def _in_text(name: str):
    """A value written into the SQL text at execution, as the scope paths are: with the
    limits bound, PostgreSQL planned the page's statement afresh on most requests (it
    took the custom plans for cheaper than its generic one); with every value in the
    text it plans it once per connection."""
    return bindparam(name, type_=Integer, literal_execute=True)


@lru_cache(maxsize=32)
def _count_statement(shape: tuple[tuple[str, type], ...], n_paths: int, dialect: str):
    everything = _keys_statement(shape, n_paths, dialect, False).subquery()
    return select(func.count()).select_from(everything)


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
        rows = db.session.execute(_cards_statement(kind.key, kind.model, kind.cards), {"ids": ids})
        for card in _as_cards(kind, rows.all()):
            loaded[(key, card.id)] = card
    return [loaded[key] for key in keys if key in loaded]


@lru_cache(maxsize=64)
def _cards_statement(key: str, model, cards):
    """A kind's cards for the ids in the expanding parameter `ids`, built once per kind."""
    return cards.where(model.id.in_(bindparam("ids", expanding=True)))


def summary_of(kind: ReviewKind, obj) -> str:
    """The inbox summary line of one application (its item page shows it too)."""
    return load_cards([(kind.key, obj.id)])[0].summary


def inbox_page(
    user, kind: ReviewKind | None = None, branch: Branch | None = None, page: int = 1
) -> InboxPage:
    """One page (PAGE_SIZE) of pending items in the user's review scope, oldest first,
    optionally only one kind and/or one in-scope branch's subtree, with per-kind counts
    and the branch filter's choices. A page past the end shows the last page that has
    items."""
    paths, chosen = _filters(user, kind, branch)
    labels = page_labels(user, [k.key for k in chosen], within=branch)
    page = max(1, page)
    keys: list[tuple[str, int]] = []
    if paths:
        keys = _page_of(chosen, paths, page)
        if not keys and page > 1:
            # Past the end: the last page there is (counted, not taken from the tallies).
            page = max(1, -(-_count(chosen, paths) // PAGE_SIZE))
            keys = _page_of(chosen, paths, page)
    has_next = len(keys) > PAGE_SIZE
    return InboxPage(
        load_cards(keys[:PAGE_SIZE]), labels.counts, page, has_next, labels.branch_choices
    )


def _page_of(chosen, paths, page: int) -> list[tuple[str, int]]:
    # One more than a page: whether there is a next page, without counting.
    offset = (page - 1) * PAGE_SIZE
    statement, params = _ordered_keys(chosen, paths, first=offset + PAGE_SIZE + 1)
    params.update(limit=PAGE_SIZE + 1, offset=offset)
    return [(k, i) for k, i in db.session.execute(statement, params)]


def iter_inbox(
    user, kind: ReviewKind | None = None, branch: Branch | None = None, batch: int = 500
) -> Iterator[InboxCard]:
    """Every pending item in scope (same filters and order as inbox_page), loaded in
    batches, for exports."""
    paths, chosen = _filters(user, kind, branch)
    if not paths:
        return
    keys = [(k, i) for k, i in db.session.execute(*_ordered_keys(chosen, paths))]
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


class PageLabels(NamedTuple):
    counts: dict[str, int]  # pending_counts_by_kind for the kinds asked
    branch_choices: list[BranchLabel]  # branch_filter_choices


def page_labels(user, kind_keys: list[str], within: Branch | None = None) -> PageLabels:
    """What labels an inbox page, in one statement: the pending tallies of `kind_keys`
    in the user's review scope, or the part of it under `within` (as
    pending_counts_by_kind), and the branch filter's choices (as branch_filter_choices)."""
    grants = [g for g in active_grants(user) if g.role in REVIEW_ROLES]
    params = {
        "tally_roots": _tally_roots(user, within),
        "tally_kinds": kind_keys,
        "parents": [g.branch_id for g in grants],
    }
    row = db.session.execute(_labels_statement(db.session.get_bind().dialect.name), params).one()
    children = [BranchLabel(*child) for child in plainrows.json_rows_value(row.children)]
    return PageLabels(tallies.counts_from(row.tallies, kind_keys), _choices(grants, children))


@lru_cache(maxsize=4)
def _labels_statement(dialect: str):
    children = (
        select(plainrows.json_rows(dialect, Branch.id, Branch.path, Branch.name_zh, Branch.name_en))
        .where(
            Branch.parent_id.in_(bindparam("parents", expanding=True, literal_execute=True)),
            Branch.level != literal("grassroots", literal_execute=True),
            Branch.closed_at.is_(None),
        )
        .scalar_subquery()
        .label("children")
    )
    return select(tallies.counts_column(dialect), children)


def branch_filter_choices(user) -> list[BranchLabel]:
    """A short list for the inbox's branch filter: the branches where the user holds a
    reviewing role and their open direct children above grassroots level (a province
    admin gets ~10 cities, a county officer just their county, never hundreds of units).
    Any other branch in scope is reached with ?branch=<id> (the inbox links each item's
    branch)."""
    return page_labels(user, []).branch_choices


def _choices(grants, children: list[BranchLabel]) -> list[BranchLabel]:
    branches: dict[int, BranchLabel] = {g.branch_id: g.branch for g in grants}
    for child in children:
        branches.setdefault(child.id, child)
    return sorted(branches.values(), key=lambda b: b.path)[:CHOICES_MAX]
