"""The staff dashboard: pending work and plan indicators for the staff member's scope."""

from datetime import datetime
from typing import NamedTuple

from flask import current_app, render_template, request
from flask_caching.backends import NullCache
from flask_login import current_user
from sqlalchemy import bindparam, select

from portal import plainrows
from portal.admin import bp
from portal.admin.audit_query import role_label
from portal.admin.indicators import cached_rollup_all, chosen_indicator, indicators, sections
from portal.branches.models import Branch, name_in
from portal.branches.scope import (
    ALL_ROLES,
    active_grants,
    can_review,
    get_branch_in_scope_or_404,
    ids_under,
    in_scope,
    top_grants,
)
from portal.extensions import cache
from portal.permissions import staff_required
from portal.review.inbox import pending_counts_by_kind
from portal.review.kinds import kinds
from portal.timeutil import today_local


def _cache_seconds() -> int:
    """How old the figures may be: INDICATOR_CACHE_SECONDS, or 0 without a cache."""
    if isinstance(cache.cache, NullCache):
        return 0
    return current_app.config["INDICATOR_CACHE_SECONDS"]


class ChildBranch(NamedTuple):
    """A branch right below a dashboard root, as the page shows it."""

    id: int
    path: str
    parent_id: int
    name_zh: str
    name_en: str
    closed_at: datetime | None

    def name(self, locale: str) -> str:
        return name_in(locale, self.name_zh, self.name_en)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


_CHILDREN = (
    select(
        Branch.id, Branch.path, Branch.parent_id, Branch.name_zh, Branch.name_en, Branch.closed_at
    )
    # The ids written into the SQL text: bound, PostgreSQL re-planned it on every request.
    .where(Branch.parent_id.in_(bindparam("ids", expanding=True, literal_execute=True)))
    .order_by(Branch.code, Branch.name_zh)
)


@bp.route("/", methods=["GET"])
@staff_required()
def dashboard():
    user = current_user
    grants = active_grants(user)
    focus_id = request.args.get("branch", type=int)
    focus = None
    if focus_id is not None:
        focus = get_branch_in_scope_or_404(focus_id, user, ALL_ROLES)
        roots = [focus]
        paths = (focus.path,)
    else:
        # The top branches of the scope come with the grants: no query.
        roots = sorted((g.branch for g in top_grants(user)), key=lambda b: b.path)
        paths = tuple(r.path for r in roots)
    children = [ChildBranch(*row) for row in plainrows.rows(_CHILDREN, ids=[r.id for r in roots])]
    cache_for = _cache_seconds()
    figures = cached_rollup_all(
        paths, ids_under(paths), [*roots, *children], today_local().year, cache_for
    )

    chosen = chosen_indicator(request.args.get("indicator"))

    pending = []
    # The template asks can_review() / can_audit() itself for the links; this only
    # spares non-reviewers the tally query.
    if can_review(user):
        counts = pending_counts_by_kind(user, within=focus)
        pending = [(k, counts.get(k.key, 0)) for k in kinds()]

    my_roles = sorted(
        ((role_label(g.role), g.branch) for g in grants),
        key=lambda pair: (pair[1].path, pair[0]),
    )
    parent = focus.parent if focus is not None and focus.parent is not None else None
    return render_template(
        "admin/dashboard.html",
        sections=sections(roots, children, figures, chosen),
        indicators=indicators(),
        # Each label and note is shown several times: translated once here.
        labels={ind.key: str(ind.label) for ind in indicators()},
        notes={ind.key: str(ind.note) for ind in indicators() if ind.note},
        chosen=chosen,
        focus=focus,
        parent_in_scope=parent if parent is not None and in_scope(user, parent) else None,
        pending=pending,
        pending_total=sum(n for _k, n in pending),
        my_roles=my_roles,
        year=today_local().year,
        cache_minutes=round(cache_for / 60),
    )
