"""The registry of review kinds: what the engine needs to know about each kind of
application to list, show and decide it without knowing the feature behind it."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Row, Select, select

from portal.branches.models import Branch


@dataclass(frozen=True)
class ReviewKind:
    """One kind of application that staff approve in the inbox.

    key: stable id, also the audit log's object_kind and the ?kind= filter.
    label: translated name (a lazy string).
    model: the application model (uses `review.models.ReviewMixin`).
    cards: the statement reading what an inbox card shows, as plain rows: start it with
    `card_select(model, ...)` and add the joins its own columns need.
    summaries(rows) -> one translated line per such row, its columns read by name (a
    whole page at once, so each wording is looked up in the catalogue once).
    facts(obj) -> [(label, value)] for the item page.
    on_approved(obj, actor) runs inside the deciding transaction.
    decision_note(obj) -> str | None: a sentence the kind adds to the decision SMS (e.g.
    "Your member number is ..."), called after on_approved in the applicant's language.
    personal_fields: the applicant's real-name profile fields the summary and facts show
    (names only): each opening of the item page is audit-logged as a view of them.
    """

    key: str
    label: object
    model: type
    cards: Select
    summaries: Callable[[Sequence[Row]], list[str]]
    on_approved: Callable[[object, object], None] | None = None
    facts: Callable[[object], Sequence[tuple[str, str]]] | None = None
    personal_fields: tuple[str, ...] = ()
    decision_note: Callable[[object], str | None] | None = None


# What every kind's cards start with (card_select): the inbox reads these by name.
COMMON_COLUMNS = ("id", "created_at", "branch_id", "branch_zh", "branch_en")


def card_select(model, *columns) -> Select:
    """The start of a kind's `cards` statement: what every card shows (id, created_at,
    branch_id, and the deciding branch's names as branch_zh / branch_en) and `columns`."""
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
    """Add a kind to the engine (at import time). Re-registering a key replaces it, so
    re-importing a module in tests is harmless. Refuses `cards` that do not start as
    card_select's do."""
    if tuple(kind.cards.selected_columns.keys())[: len(COMMON_COLUMNS)] != COMMON_COLUMNS:
        raise ValueError(f"{kind.key}: its cards statement must start with card_select()")
    _KINDS[kind.key] = kind
    return kind


def unregister_kind(key: str) -> None:
    """Remove a kind (tests that register one of their own clean up with this)."""
    _KINDS.pop(key, None)


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
