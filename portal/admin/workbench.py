"""The approval workbench: a registry of review kinds and the scoped inbox queries.

Each feature with applications registers one `ReviewKind` (its model uses
`portal.admin.review.ReviewMixin`). The inbox, the dashboard counts and the
decision service then work for every kind without knowing it. Every query here
filters through scope.py, the one scoping place: the review scope's paths
(`scope_paths(user, REVIEW_ROLES)`) and `under_any()` them, applied to each item's
own copy of its branch's path (ReviewMixin.branch_path).
"""

from collections import namedtuple
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from flask_babel import get_locale
from sqlalchemy import (
    Integer,
    Row,
    Select,
    and_,
    bindparam,
    literal,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import aliased

from portal import plainrows
from portal.admin import tallies
from portal.branches.models import Branch
from portal.branches.scope import (
    REVIEW_ROLES,
    BranchLabel,
    active_grants,
    can_review,
    read_with_grants,
    scope_paths,
    top_grants,
    under_any,
)
from portal.extensions import db

# Twenty cards fill a few phone screens; a longer page is slow to load and to scroll.
PAGE_SIZE = 20
PENDING = "pending"
# The inbox's branch filter lists at most this many branches.
CHOICES_MAX = 200


@dataclass(frozen=True)
class ReviewKind:
    """One kind of application that staff approve in the inbox.

    key: stable id, also the audit log's object_kind and the ?kind= filter.
    label: translated name (a lazy string).
    cards: the statement reading what an inbox card shows, as plain rows (start it with
    `card_select`; add joins and columns only: the inbox joins every kind's `cards` to
    the page's keys in one statement). summaries(rows) -> one translated line per such
    row, its columns read by name (a whole page at once, so each wording is looked up
    in the catalogue once, not once per card).
    facts(obj) -> [(label, value)] for the item page. on_approved(obj, actor) runs
    inside the deciding transaction.
    personal_fields: which real-name fields the summary and facts show, for the audit log.
    """

    key: str
    label: object
    model: type
    cards: Select
    summaries: Callable[[Sequence[Row]], list[str]]
    on_approved: Callable[[object, object], None] | None = None
    facts: Callable[[object], Sequence[tuple[str, str]]] | None = None
    # The applicant's real-name profile fields the item page shows (names only): each
    # opening of the page is written to the audit log as a view of personal data.
    personal_fields: tuple[str, ...] = ()


# What every kind's `cards` statement starts with (card_select); a page row carries
# these after its kind, then each kind's own columns in a slot of its own.
_COMMON = ("id", "created_at", "branch_id", "branch_zh", "branch_en")
_OWN = 1 + len(_COMMON)  # where the kinds' own columns start in a page row


def card_select(model, *columns) -> Select:
    """The start of a kind's `cards` statement: what every card shows (id, created_at,
    branch_id, and the deciding branch's names as branch_zh / branch_en) and `columns`.
    The kind adds the joins its own columns need; the workbench adds which items.

    A page of cards is read as rows, not ORM objects with their related objects loaded:
    the inbox is the page staff open all day, and building twenty applications with
    their applicants and branches cost more than the rest of the page."""
    return select(
        model.id,
        model.created_at,
        model.branch_id,
        Branch.name_zh.label("branch_zh"),
        Branch.name_en.label("branch_en"),
        *columns,
    ).join(Branch, Branch.id == model.branch_id)


_KINDS: dict[str, ReviewKind] = {}


def register_kind(kind: ReviewKind) -> ReviewKind:
    """Add a kind to the workbench (at import time). Re-registering a key replaces it,
    so re-importing a module in tests is harmless. Refuses `cards` that do not start as
    card_select's do: the page read finds every kind's columns by those names."""
    if tuple(kind.cards.selected_columns.keys())[: len(_COMMON)] != _COMMON:
        raise ValueError(f"{kind.key}: its cards statement must start with card_select()")
    _KINDS[kind.key] = kind
    for built in (_ordered_keys, _page_read, _cards_by_id):
        built.cache_clear()
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


def pending_counts_by_kind(user, within: Branch | None = None) -> dict[str, int]:
    """Pending items per kind key (every registered kind, zeros included) in the user's
    review scope, or the part of it under `within`. Staff without a reviewing role
    (auditors, citizens) get all zeros. From the rolled-up tallies: those of the user's
    own branches come with their grants; a branch inside them is one small query."""
    keys = [k.key for k in kinds()]
    roots = top_grants(user, REVIEW_ROLES)
    if within is not None:
        if any(within.path.startswith(g.path) for g in roots):
            return tallies.counts([within.id], keys)
        roots = [g for g in roots if g.path.startswith(within.path)]
    return tallies.counts_of_grants(roots, keys)


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
    """(the paths the items' branches lie under, the kind keys) for the inbox filters."""
    # A branch filter is a subtree inside the scope; the caller has checked the branch
    # is in scope (out of scope answers 404 there), so the subtree is the whole filter.
    paths = (branch.path,) if branch is not None else tuple(scope_paths(user, REVIEW_ROLES))
    keys = (kind.key,) if kind is not None else tuple(k.key for k in kinds())
    return paths, keys


def _pending_in_scope(kind_keys: tuple[str, ...], paths: tuple[str, ...]):
    """(kind, id, created_at) of every pending item under `paths`, across kinds."""
    parts = []
    for key in kind_keys:
        model = _KINDS[key].model
        parts.append(
            select(
                literal(key, literal_execute=True).label("kind"),
                model.id.label("id"),
                model.created_at.label("created_at"),
            ).where(pending_clause(model), under_any(paths, model.branch_path))
        )
    return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()


def _oldest_first(columns) -> tuple:
    return columns.created_at, columns.kind, columns.id


@lru_cache(maxsize=1024)
def _ordered_keys(kind_keys: tuple[str, ...], paths: tuple[str, ...], dialect: str) -> Select:
    """(kind, id) of every pending item under `paths`, oldest first, across kinds.
    Built once per scope shape: building and hashing it anew cost as much as running it.
    (`dialect` is part of the key because path_under writes SQLite's form differently.)"""
    sub = _pending_in_scope(kind_keys, paths)
    return select(sub.c.kind, sub.c.id).order_by(*_oldest_first(sub.c))


def _keys(kind_keys, paths) -> list[tuple[str, int]]:
    return [(k, i) for k, i in plainrows.rows(_ordered_keys(kind_keys, paths, _dialect()))]


class _Slot(NamedTuple):
    """Where one kind's own card columns sit in a page row, and the row type its
    summaries get: the common columns and its own, by name, as from its `cards`."""

    start: int
    stop: int
    row: type


class _PageRead(NamedTuple):
    statement: Select
    slots: dict[str, _Slot]


@lru_cache(maxsize=1024)
def _page_read(kind_keys: tuple[str, ...], paths: tuple[str, ...], dialect: str) -> _PageRead:
    """One page of cards, oldest first, in one statement: the page's keys (a
    materialized CTE, LIMIT and OFFSET written into the SQL text at execution), joined
    to each kind's `cards`. Kinds differ in their own columns, so each kind's part
    fills its own slot and NULL the others' (typed, so each column is read as its type)."""
    sub = _pending_in_scope(kind_keys, paths)
    page = (
        select(sub.c.kind, sub.c.id, sub.c.created_at)
        .order_by(*_oldest_first(sub.c))
        .limit(bindparam("page_limit", type_=Integer, literal_execute=True))
        .offset(bindparam("page_offset", type_=Integer, literal_execute=True))
        .cte("page_keys")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    own = {
        key: [c for c in _KINDS[key].cards.selected_columns if c.key not in _COMMON]
        for key in kind_keys
    }
    slots, start = {}, _OWN
    for key in kind_keys:
        names = _COMMON + tuple(c.key for c in own[key])
        slots[key] = _Slot(start, start + len(own[key]), namedtuple("Card", names))
        start += len(own[key])
    parts = []
    for key in kind_keys:
        kind = _KINDS[key]
        cards = kind.cards.selected_columns
        # Each slot's label is unique (two kinds may both read "phone"); rows are read
        # by position.
        padded = [
            (column if other == key else type_coerce(null(), column.type)).label(
                f"{other}__{column.key}"
            )
            for other in kind_keys
            for column in own[other]
        ]
        on_page = and_(
            page.c.kind == literal(key, literal_execute=True), page.c.id == kind.model.id
        )
        parts.append(
            kind.cards.join(page, on_page).with_only_columns(
                # Named, so that ORDER BY can name them after a UNION (SQLite insists).
                page.c.kind.label("kind"),
                *(cards[name].label(name) for name in _COMMON),
                *padded,
            )
        )
    if len(parts) == 1:
        statement = parts[0].order_by(*_oldest_first(page.c))
    else:
        both = union_all(*parts)
        statement = both.order_by(*_oldest_first(both.selected_columns))
    return _PageRead(statement, slots)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


@lru_cache(maxsize=64)
def _cards_by_id(kind_key: str) -> Select:
    kind = _KINDS[kind_key]
    return kind.cards.where(kind.model.id.in_(bindparam("ids", expanding=True)))


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


def _in_order(order: Sequence[tuple[str, int]], rows_by_kind: dict[str, list]) -> list[InboxCard]:
    """The cards of each kind's rows (a kind's wordings looked up once), in `order`."""
    loaded: dict[tuple[str, int], InboxCard] = {}
    for key, rows in rows_by_kind.items():
        for card in _as_cards(_KINDS[key], rows):
            loaded[(key, card.id)] = card
    return [loaded[key] for key in order if key in loaded]


def _load(keys: Sequence[tuple[str, int]]) -> list[InboxCard]:
    """The cards behind (kind, id) pairs: one query per kind, order kept."""
    by_kind: dict[str, list[int]] = {}
    for key, obj_id in keys:
        by_kind.setdefault(key, []).append(obj_id)
    rows = {key: plainrows.rows(_cards_by_id(key), ids=ids).all() for key, ids in by_kind.items()}
    return _in_order(keys, rows)


def _page_cards(kind_keys, paths, limit: int, offset: int) -> list[InboxCard]:
    """One page of cards, oldest first: one statement whatever the kinds (_page_read)."""
    read = _page_read(kind_keys, paths, _dialect())
    rows = plainrows.rows(read.statement, page_limit=limit, page_offset=offset).all()
    by_kind: dict[str, list] = {}
    for row in rows:
        slot = read.slots[row.kind]
        by_kind.setdefault(row.kind, []).append(
            slot.row(*row[1:_OWN], *row[slot.start : slot.stop])
        )
    return _in_order([(row.kind, row.id) for row in rows], by_kind)


def summary_of(kind: ReviewKind, obj) -> str:
    """The inbox summary line of one application (its item page shows it too)."""
    return kind.summaries([plainrows.rows(_cards_by_id(kind.key), ids=[obj.id]).one()])[0]


def inbox_page(
    user, kind: ReviewKind | None = None, branch: Branch | None = None, page: int = 1
) -> InboxPage:
    """One page (PAGE_SIZE) of pending items in the user's review scope, oldest first,
    optionally only one kind and/or one in-scope branch's subtree, with per-kind counts.
    A page past the end is clamped to the last page."""
    paths, kind_keys = _filters(user, kind, branch)
    counts = pending_counts_by_kind(user, within=branch)
    total = sum(counts[k] for k in kind_keys)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    cards = _page_cards(kind_keys, paths, PAGE_SIZE, (page - 1) * PAGE_SIZE) if total else []
    return InboxPage(cards, counts, total, page, pages)


def iter_inbox(
    user, kind: ReviewKind | None = None, branch: Branch | None = None, batch: int = 500
) -> Iterator[InboxCard]:
    """Every pending item in scope (same filters and order as inbox_page), loaded in
    batches, for exports."""
    paths, kind_keys = _filters(user, kind, branch)
    keys = _keys(kind_keys, paths)
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


def _filter_children_json(branch_id_column, dialect: str):
    """[[id, path, name_zh, name_en], ...]: the open children above grassroots level of
    the branch in `branch_id_column` (none for a county: its children are all units)."""
    child = aliased(Branch)
    rows = plainrows.json_rows(dialect, child.id, child.path, child.name_zh, child.name_en)
    return (
        select(rows)
        .select_from(child)
        .where(
            child.parent_id == branch_id_column,
            child.level != literal("grassroots", literal_execute=True),
            child.closed_at.is_(None),
        )
        .correlate_except(child)
        .scalar_subquery()
    )


# The inbox's branch filter needs each grant's children: they come with the grants.
read_with_grants("filter_children", _filter_children_json)


def branch_filter_choices(user) -> list[BranchLabel]:
    """A short list for the inbox's branch filter: the branches where the user holds a
    reviewing role and their open direct children above grassroots level (a province admin
    gets ~10 cities, a county officer just their county, never hundreds of units). Any
    other branch in scope is reached with ?branch=<id> (the inbox links each item's branch).
    Everything comes with the grants: no query."""
    branches: dict[int, BranchLabel] = {}
    for grant in active_grants(user):
        if grant.role not in REVIEW_ROLES:
            continue
        branches[grant.branch_id] = grant.branch
        for child in grant.figures.get("filter_children") or ():
            branches.setdefault(child[0], BranchLabel(*child))
    return sorted(branches.values(), key=lambda b: b.path)[:CHOICES_MAX]
