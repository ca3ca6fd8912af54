"""The one place that turns a staff member into the branches they may act on.

A role held at a branch reaches that branch's whole subtree (materialized path
prefix). Every staff query filters through `scoped_branch_ids()` / `scope_clause()` /
`ids_under()` / `path_under()` (SQL) or `in_scope()` / `covers()` (one loaded object);
an object outside the scope must answer 404, which `get_in_scope_or_404()` /
`get_branch_in_scope_or_404()` do. The named permission questions views and templates
ask (`can_review`, `can_audit`, `can_see_staff`, `can_manage_tree`) live here too, so a
page and the check behind it can never disagree. Nothing else in `portal/` should
compare paths in SQL (tests/test_scope.py greps for it).
"""

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from flask import abort, g
from sqlalchemy import ColumnElement, Select, String, and_, bindparam, false, literal, or_, select

from portal import plainrows
from portal.branches.models import Branch, StaffRole, name_in
from portal.branches.signals import access_refused
from portal.extensions import db
from portal.ids import as_id

REVIEW_ROLES = frozenset({"admin", "officer"})
AUDIT_ROLES = frozenset({"admin", "auditor"})
ALL_ROLES = frozenset({"admin", "officer", "auditor"})
# Who may see (and export) the staff of a branch: admins manage them, auditors check them.
STAFF_LIST_ROLES = frozenset({"admin", "auditor"})
# When one user holds several roles that reach a branch, the strongest one speaks for them
# (the audit log's actor_role, the grant a scope is shown under).
ROLE_ORDER = ("admin", "officer", "auditor")


class BranchLabel(NamedTuple):
    """What a page needs to name and order a branch, without loading the Branch."""

    id: int
    path: str
    name_zh: str
    name_en: str

    def name(self, locale: str) -> str:
        return name_in(locale, self.name_zh, self.name_en)


@dataclass(frozen=True)
class Grant:
    role: str
    branch_id: int
    path: str
    level: str
    # The branch's names, read with the grant: pages that name the user's branches
    # (the inbox filter, the dashboard) need no query of their own.
    branch: BranchLabel


_GRANT_COLUMNS = (
    StaffRole.role,
    Branch.id,
    Branch.path,
    Branch.level,
    Branch.name_zh,
    Branch.name_en,
)


def _live_grants(stmt: Select, user_id) -> Select:
    return stmt.join(Branch, Branch.id == StaffRole.branch_id).where(
        StaffRole.user_id == user_id,
        StaffRole.revoked_at.is_(None),
        Branch.closed_at.is_(None),
    )


def _decoded(value):
    # JSON nested in JSON arrives as text on SQLite, already decoded on PostgreSQL.
    return json.loads(value) if isinstance(value, str) else value


def _grant(role, bid, path, level, name_zh, name_en) -> Grant:
    return Grant(role, bid, path, level, BranchLabel(bid, path, name_zh, name_en))


def grants_column(user_id_column, dialect: str):
    """The live grants of the user in `user_id_column`, as one JSON array of
    [role, branch id, path, level, name_zh, name_en], for a query that reads the user
    anyway: the session read brings them, so a staff page needs no query for its grants
    (see remember_grants)."""
    rows = plainrows.json_rows(dialect, *_GRANT_COLUMNS)
    return (
        _live_grants(select(rows).select_from(StaffRole), user_id_column)
        .scalar_subquery()
        .label("grants")
    )


@lru_cache(maxsize=4)
def _grants_statement(dialect: str) -> Select:
    return select(grants_column(bindparam("user_id"), dialect))


def _grants_from(value) -> tuple[Grant, ...]:
    return tuple(_grant(*row) for row in _decoded(value) or ())


def remember_grants(user, value) -> None:
    """Take `user`'s grants for this request from a `grants_column` value."""
    if user is not None:
        _request_memo()[user.id] = _grants_from(value)


def active_grants(user) -> list[Grant]:
    """The user's live roles with their branch paths (closed branches grant nothing).
    Read once per request, usually with the session (remember_grants), and remembered
    for the rest of it (see forget_grants)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    memo = _request_memo()
    if user.id not in memo:
        dialect = db.session.get_bind().dialect.name
        statement = _grants_statement(dialect)
        memo[user.id] = _grants_from(plainrows.rows(statement, user_id=user.id).scalar())
    return list(memo[user.id])


def _request_memo() -> dict:
    # One page asks many times (menu, permission check, scope filters, templates).
    return g.setdefault("_scope_grants", {})


def forget_grants() -> None:
    """Drop this request's remembered grants; call after changing roles or branches."""
    g.pop("_scope_grants", None)


def is_staff(user) -> bool:
    return bool(active_grants(user))


def _paths(user, roles: frozenset[str]) -> list[str]:
    paths = sorted({g.path for g in active_grants(user) if g.role in roles})
    # Drop paths already covered by an ancestor path: fewer OR terms, same scope.
    kept: list[str] = []
    for p in paths:
        if not any(p.startswith(k) for k in kept):
            kept.append(p)
    return kept


def scope_paths(user, roles: frozenset[str] = ALL_ROLES) -> list[str]:
    """The paths of the top branches of the user's scope for `roles` (none nested in
    another). Compute once per request and pass to `covers()` when checking many rows."""
    return _paths(user, roles)


def top_grants(user, roles: frozenset[str] = ALL_ROLES) -> list[Grant]:
    """The user's grants for `roles` whose branch is not below another of them, highest
    first and, at one branch, the strongest role first (ROLE_ORDER): the roots a
    dashboard or an audit-branch list starts from. At most one grant per root path."""
    grants = sorted(
        (g for g in active_grants(user) if g.role in roles),
        key=lambda g: (g.path.count("/"), ROLE_ORDER.index(g.role), g.path),
    )
    top: list[Grant] = []
    for grant in grants:
        if not any(grant.path.startswith(t.path) for t in top):
            top.append(grant)
    return top


def covers(paths: list[str], branch: Branch | None) -> bool:
    """Whether `branch` lies under one of `paths` (from `scope_paths()`); no query."""
    return branch is not None and any(branch.path.startswith(p) for p in paths)


_PATH = re.compile(r"/(\d+/)+")


def path_under(prefix: str, column=Branch.path) -> ColumnElement[bool]:
    """SQL for "`column` starts with the branch path `prefix`", written so the path
    index serves it. PostgreSQL: LIKE 'prefix%' (the index uses varchar_pattern_ops).
    SQLite's LIKE ignores case, which stops it using the index, so there it is the
    equivalent range [prefix, prefix with its final "/" turned into "0"): paths hold
    only digits and "/", and "0" is the character right after "/".

    On PostgreSQL the pattern is written into the SQL text, not bound: a prepared
    statement's generic plan cannot use the index for a pattern it does not know, so
    with a parameter PostgreSQL planned the inbox's query afresh on every request. A
    path holds only digits and "/" (checked here), so it needs no quoting or escaping
    beyond what the literal gets."""
    if not _PATH.fullmatch(prefix):
        raise ValueError(f"not a branch path: {prefix!r}")
    if db.session.get_bind().dialect.name == "sqlite":
        return and_(column >= prefix, column < prefix[:-1] + "0")
    return column.like(literal(prefix + "%", literal_execute=True))


def under_any(paths: list[str] | tuple[str, ...], column=Branch.path) -> ColumnElement[bool]:
    """SQL for "`column` lies under one of `paths`" (from `scope_paths()`); false for none."""
    if not paths:
        return false()
    return or_(*[path_under(p, column) for p in paths])


def under_any_bound(count: int, column, dialect: str) -> ColumnElement[bool]:
    """under_any() for a statement built once and run for many scopes: "`column` lies
    under one of `count` paths" whose values come at execution, as `under_params(paths)`.
    The same SQL as under_any (on PostgreSQL each pattern is still written into the SQL
    text at execution, for the reason path_under gives), without building and hashing a
    new statement on every request."""
    if not count:
        return false()
    if dialect == "sqlite":
        return or_(
            *[
                and_(
                    column >= bindparam(f"scope_path_{i}", type_=String),
                    column < bindparam(f"scope_path_{i}_end", type_=String),
                )
                for i in range(count)
            ]
        )
    return or_(
        *[
            column.like(bindparam(f"scope_path_{i}", type_=String, literal_execute=True))
            for i in range(count)
        ]
    )


def under_params(paths: list[str] | tuple[str, ...], dialect: str) -> dict[str, str]:
    """The values of under_any_bound(len(paths), column, dialect)'s parameters."""
    params = {}
    for i, prefix in enumerate(paths):
        if not _PATH.fullmatch(prefix):
            raise ValueError(f"not a branch path: {prefix!r}")
        if dialect == "sqlite":
            params[f"scope_path_{i}"] = prefix
            params[f"scope_path_{i}_end"] = prefix[:-1] + "0"
        else:
            params[f"scope_path_{i}"] = prefix + "%"
    return params


def scope_clause(
    user, roles: frozenset[str] = ALL_ROLES, column=Branch.path
) -> ColumnElement[bool]:
    """A WHERE condition on a branch path column (`Branch.path` by default, so join
    Branch first) that keeps only the user's scope for `roles`. False when they hold none."""
    return under_any(_paths(user, roles), column)


def ids_under(paths: list[str] | tuple[str, ...]) -> Select:
    """A sub-select of the ids of the branches under `paths` (from `scope_paths()`, or one
    in-scope branch's path): it depends only on the paths, so a caller may build it once."""
    return select(Branch.id).where(under_any(paths))


def scoped_branch_ids(user, roles: frozenset[str] = ALL_ROLES) -> Select:
    """A sub-select of the ids of every branch in the user's scope for `roles`.
    Empty when the user holds none of them."""
    return ids_under(_paths(user, roles))


def in_scope(user, branch: Branch | None, roles: frozenset[str] = ALL_ROLES) -> bool:
    if branch is None:
        return False
    return any(branch.path.startswith(p) for p in _paths(user, roles))


def acting_role(user, branch: Branch | None, roles: frozenset[str] = ALL_ROLES) -> str | None:
    """The role through which the user reaches `branch` (admin first, then officer,
    then auditor), for the audit log's actor_role; None when out of scope (or no branch)."""
    if branch is None:
        return None
    held = {
        g.role for g in active_grants(user) if g.role in roles and branch.path.startswith(g.path)
    }
    return next((r for r in ROLE_ORDER if r in held), None)


def is_national_admin(user) -> bool:
    return any(g.role == "admin" and g.path.count("/") == 2 for g in active_grants(user))


def _get(model, object_id):
    object_id = as_id(object_id)
    return db.session.get(model, object_id) if object_id is not None else None


def refuse_404(user, object_kind: str, object_id, branch: Branch | None):
    """Answer 404, exactly as for an object that does not exist, for an object that does
    exist but lies outside the user's scope, and have the refusal audited (see
    audit.refusals) where the auditors above `branch` see it."""
    access_refused.send(
        user,
        object_kind=object_kind,
        object_id=object_id,
        branch_id=branch.id if branch is not None else None,
    )
    abort(404)


def get_in_scope_or_404(model, object_id, user, roles: frozenset[str] = ALL_ROLES):
    """Load `model` by id; 404 unless its `branch` lies in the user's scope (a refusal of
    an existing object is audited)."""
    obj = _get(model, object_id)
    if obj is None:
        abort(404)
    branch = getattr(obj, "branch", None)
    if not in_scope(user, branch, roles):
        refuse_404(user, model.__tablename__, obj.id, branch)
    return obj


def get_branch_in_scope_or_404(branch_id, user, roles: frozenset[str] = ALL_ROLES) -> Branch:
    """Load a branch by id; 404 unless it lies in the user's scope for `roles` (a refusal
    of an existing branch is audited)."""
    branch = _get(Branch, branch_id)
    if branch is None:
        abort(404)
    if not in_scope(user, branch, roles):
        refuse_404(user, "branch", branch.id, branch)
    return branch


# Named permission questions. Each reads only the memoised grants (active_grants), so a
# template may ask them once per row without a query. Called without a target they ask
# "anywhere in my scope?" (does the Inbox / Audit log link make sense for me at all).
ANYWHERE = object()


def _holds(user, roles: frozenset[str]) -> bool:
    return any(g.role in roles for g in active_grants(user))


def can_review(user, obj_or_branch=ANYWHERE) -> bool:
    """Whether the user may decide on an application (through its deciding `branch`) or
    on applications at a branch; without a target, whether they review anywhere."""
    if obj_or_branch is ANYWHERE:
        return _holds(user, REVIEW_ROLES)
    branch = (
        obj_or_branch
        if isinstance(obj_or_branch, Branch)
        else getattr(obj_or_branch, "branch", None)
    )
    return in_scope(user, branch, REVIEW_ROLES)


def can_audit(user, branch=ANYWHERE) -> bool:
    """Whether the user may read the audit log of `branch` (or, without one, at all)."""
    if branch is ANYWHERE:
        return _holds(user, AUDIT_ROLES)
    return in_scope(user, branch, AUDIT_ROLES)


def can_see_staff(user, branch: Branch | None) -> bool:
    """Whether the user may list (and export) the staff holding roles below `branch`."""
    return in_scope(user, branch, STAFF_LIST_ROLES)


def can_manage_tree(user) -> bool:
    """Whether the user may add, edit, move, close and reopen branches."""
    return is_national_admin(user)
