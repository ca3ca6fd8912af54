"""The staff dashboard: pending work and plan indicators for the staff member's scope."""

from flask import current_app, render_template, request
from flask_login import current_user
from sqlalchemy import select

from portal.admin import bp
from portal.admin.audit_query import role_label
from portal.admin.indicators import cached_rollup_all, chosen_indicator, indicators, sections
from portal.admin.permissions import staff_required
from portal.admin.workbench import kinds, pending_counts_by_kind
from portal.branches.models import Branch
from portal.branches.scope import (
    ALL_ROLES,
    active_grants,
    can_review,
    get_branch_in_scope_or_404,
    in_scope,
    scoped_branch_ids,
    subtree_ids,
    top_grants,
)
from portal.extensions import db
from portal.timeutil import today_local


def _cache_seconds() -> float:
    """INDICATOR_CACHE_SECONDS; 5 minutes by default, off in tests unless set."""
    return current_app.config.get("INDICATOR_CACHE_SECONDS", 0 if current_app.testing else 300)


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
        scope_key: tuple = ("branch", focus.path)
        scope_ids = subtree_ids(focus)
    else:
        top = top_grants(user)
        root_ids = [g.branch_id for g in top]
        scope_key = ("scope", *sorted(g.path for g in top))
        roots = db.session.scalars(
            select(Branch).where(Branch.id.in_(root_ids)).order_by(Branch.path)
        ).all()
        scope_ids = scoped_branch_ids(user, ALL_ROLES)

    children = db.session.scalars(
        select(Branch)
        .where(Branch.parent_id.in_([r.id for r in roots]))
        .order_by(Branch.code, Branch.name_zh)
    ).all()
    cache_for = _cache_seconds()
    figures = cached_rollup_all(
        scope_key, scope_ids, [*roots, *children], today_local().year, cache_for
    )

    chosen = chosen_indicator(request.args.get("indicator"))

    pending = []
    # The template asks can_review() / can_audit() itself for the links; this only
    # spares non-reviewers the tally query.
    if can_review(user):
        counts = pending_counts_by_kind(user, within=focus)
        pending = [(k, counts.get(k.key, 0)) for k in kinds()]

    grant_branches = {
        b.id: b
        for b in db.session.scalars(
            select(Branch).where(Branch.id.in_({g.branch_id for g in grants}))
        )
    }
    my_roles = sorted(
        ((role_label(g.role), grant_branches[g.branch_id]) for g in grants),
        key=lambda pair: (pair[1].path, pair[0]),
    )
    parent = focus.parent if focus is not None and focus.parent is not None else None
    return render_template(
        "admin/dashboard.html",
        sections=sections(roots, children, figures, chosen),
        indicators=indicators(),
        chosen=chosen,
        focus=focus,
        parent_in_scope=parent if parent is not None and in_scope(user, parent) else None,
        pending=pending,
        pending_total=sum(n for _k, n in pending),
        my_roles=my_roles,
        year=today_local().year,
        cache_minutes=round(cache_for / 60),
    )
