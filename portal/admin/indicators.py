"""Plan indicators for the staff dashboard (十四五 plan table), this year vs last year.

A registry: each indicator is registered with a *facts* function
`(branch_ids, start, end) -> Select` that returns one row per counted thing in
those branches and that time window, with the labelled columns `branch_id`, `at`
(naive UTC) and `amount` (1 for a head count, fen for money). From it the registry
derives both a plain total (`total()`) and the dashboard's roll-up over the tree
(`rollup()`), which is ONE grouped query per indicator however many branches are
shown, so a whole province (10 000 branches) stays fast.

The features behind most indicators (members, volunteers, first-aid training,
donors, donations) don't exist yet: they are registered without facts, count 0
and say so. A feature makes its indicator live by calling `register_indicator()`
again with the same key and a facts function, at import time.
"""

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, Select, case, func, literal_column, select

from portal.accounts.models import User
from portal.branches.models import Branch
from portal.branches.scope import path_under
from portal.extensions import cache, db
from portal.timeutil import local_to_utc

NOT_LIVE_NOTE = _l("Recorded once the feature is live.")

Facts = Callable[[Select, datetime, datetime], Select]


@dataclass(frozen=True)
class Indicator:
    key: str
    label: object  # a lazy translated string
    facts: Facts | None = None
    unit: str = "people"  # "people", "projects" or "fen"
    note: object | None = None

    @property
    def live(self) -> bool:
        return self.facts is not None


@dataclass(frozen=True)
class Figures:
    this_year: int = 0
    last_year: int = 0

    @property
    def change(self) -> int:
        return self.this_year - self.last_year


_REGISTRY: dict[str, Indicator] = {}


def register_indicator(
    key: str, label, facts: Facts | None = None, unit: str = "people", note=None
) -> Indicator:
    """Add (or replace, keeping its place in the order) an indicator. Without `facts`
    it counts 0 and carries the "recorded once the feature is live" note."""
    indicator = Indicator(key, label, facts, unit, note if facts else (note or NOT_LIVE_NOTE))
    _REGISTRY[key] = indicator
    return indicator


def indicators() -> list[Indicator]:
    return list(_REGISTRY.values())


def get_indicator(key: str | None) -> Indicator | None:
    return _REGISTRY.get(key or "")


def chosen_indicator(key: str | None) -> Indicator:
    """The indicator asked for, else the first live one, else the first."""
    found = get_indicator(key)
    if found is not None:
        return found
    return next((i for i in indicators() if i.live), indicators()[0])


def year_windows(year: int) -> tuple[datetime, datetime, datetime]:
    """Starts of last year, this year and next year in Asia/Shanghai, as naive UTC:
    2026 begins at 2025-12-31 16:00 UTC."""
    return tuple(local_to_utc(date(y, 1, 1)) for y in (year - 1, year, year + 1))


def total(indicator: Indicator, branch_ids: Select, start: datetime, end: datetime) -> int:
    """The indicator's sum over `branch_ids` for start <= at < end (0 if not live)."""
    if not indicator.live:
        return 0
    facts = indicator.facts(branch_ids, start, end).subquery()
    return int(db.session.scalar(select(func.coalesce(func.sum(facts.c.amount), 0))) or 0)


def rollup(
    indicator: Indicator, branch_ids: Select, buckets: Sequence[Branch], year: int
) -> dict[int, Figures]:
    """For each branch in `buckets`: this year's and last year's sum over its whole
    subtree (limited to `branch_ids`). Buckets may nest (a root and its children).

    One grouped query, whatever the size of the tree: facts are summed per branch,
    each branch is put in the deepest bucket above it (a CASE over constant path
    prefixes, which needs no join between branches), and the few bucket sums are
    then added up the tree here. Buckets with nothing get Figures(0, 0)."""
    result = {b.id: Figures() for b in buckets}
    if not indicator.live or not buckets:
        return result
    last_start, this_start, next_start = year_windows(year)
    facts = indicator.facts(branch_ids, last_start, next_start).subquery()
    per_branch = (
        select(
            facts.c.branch_id,
            func.sum(case((facts.c.at >= this_start, facts.c.amount), else_=0)).label("this"),
            func.sum(case((facts.c.at < this_start, facts.c.amount), else_=0)).label("last"),
        )
        .group_by(facts.c.branch_id)
        .subquery()
    )
    deepest_first = sorted(buckets, key=lambda b: len(b.path), reverse=True)
    # Paths hold only digits and "/", so the prefixes need no LIKE escaping.
    bucket_of = case(*[(path_under(b.path), b.id) for b in deepest_first])
    placed = (
        select(bucket_of.label("bucket"), per_branch.c.this, per_branch.c.last)
        .select_from(per_branch)
        .join(Branch, Branch.id == per_branch.c.branch_id)
        .subquery()
    )
    stmt = select(placed.c.bucket, func.sum(placed.c.this), func.sum(placed.c.last)).group_by(
        placed.c.bucket
    )
    own = {bucket: (this, last) for bucket, this, last in db.session.execute(stmt) if bucket}
    paths = {b.id: b.path for b in buckets}
    for b in buckets:
        inside = [sums for k, sums in own.items() if paths[k].startswith(b.path)]
        result[b.id] = Figures(
            sum(int(this or 0) for this, _ in inside), sum(int(last or 0) for _, last in inside)
        )
    return result


def rollup_all(
    branch_ids: Select, buckets: Sequence[Branch], year: int
) -> dict[str, dict[int, Figures]]:
    """`rollup()` for every registered indicator: {indicator key: {branch id: Figures}}."""
    return {ind.key: rollup(ind, branch_ids, buckets, year) for ind in indicators()}


@dataclass
class RootSection:
    """One scope root on the dashboard: every indicator for its whole subtree, and
    one indicator for each branch right below it (with that branch's subtree)."""

    branch: Branch
    figures: list[tuple[Indicator, Figures]]
    children: list[tuple[Branch, Figures]]


def sections(
    roots: Sequence[Branch],
    children: Sequence[Branch],
    figures: dict[str, dict[int, Figures]],
    chosen: Indicator,
) -> list[RootSection]:
    """Arrange `rollup_all()` figures (which must cover roots and children) by root."""
    return [
        RootSection(
            root,
            [(ind, figures[ind.key][root.id]) for ind in indicators()],
            [(c, figures[chosen.key][c.id]) for c in children if c.parent_id == root.id],
        )
        for root in roots
    ]


def cached_rollup_all(
    scope_key: tuple, branch_ids: Select, buckets: Sequence[Branch], year: int, timeout: int
) -> dict[str, dict[int, Figures]]:
    """`rollup_all()` kept in the app's cache (Flask-Caching) for `timeout` seconds.
    Yearly figures need not be live to the second, and a province's roll-up reads every
    row of the year, so the dashboard reuses it. `scope_key` must identify `branch_ids`
    (e.g. the scope paths). Without a shared cache (NullCache) it is computed each time."""
    if timeout <= 0:  # 0 would mean "for ever" to the cache
        return rollup_all(branch_ids, buckets, year)
    ids = sorted(b.id for b in buckets)
    digest = hashlib.sha256(repr((scope_key, ids, year)).encode()).hexdigest()
    key = f"indicators:{digest}"
    value = cache.get(key)
    if value is None:
        value = rollup_all(branch_ids, buckets, year)
        cache.set(key, value, timeout=timeout)
    return value


def _one() -> object:
    return literal_column("1", Integer)


def citizens_attached(branch_ids: Select, start: datetime, end: datetime) -> Select:
    """Citizens whose home branch is in `branch_ids`, by the time they registered."""
    return select(
        User.home_branch_id.label("branch_id"),
        User.created_at.label("at"),
        _one().label("amount"),
    ).where(User.home_branch_id.in_(branch_ids), User.created_at >= start, User.created_at < end)


# The order the dashboard shows them. Only citizens_attached has data today.
register_indicator(
    "citizens_attached",
    _l("Citizens attached to a branch"),
    citizens_attached,
    note=_l("Counted by the year the citizen registered on this portal."),
)
register_indicator("members", _l("New Red Cross members"))
register_indicator("group_members", _l("New group members (organisations)"), unit="projects")
register_indicator("volunteers", _l("New registered volunteers"))
register_indicator("active_volunteers", _l("Active volunteers this year"))
register_indicator("volunteer_hours", _l("Confirmed volunteer service hours"), unit="minutes")
register_indicator("first_aiders", _l("New certified first-aiders"))
register_indicator("marrow_donors", _l("Stem cell (marrow) registry additions"))
register_indicator("organ_donors", _l("Organ and body donation registrants"))
register_indicator("boai_homes", _l("Boai Home community projects"), unit="projects")
register_indicator("funds_raised", _l("Funds raised"), unit="fen")
