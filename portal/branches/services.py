"""Branch tree rules. Services add/flush only; the caller commits.

The tree is a materialized path of ids ("/1/4/17/"): a subtree is one indexed prefix
match (scope.path_under), so nothing here loads the tree to answer "is X under Y".
Changes made by a person (`actor`) are allowed to national admins only and audited."""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from sqlalchemy import func, literal, select, update
from sqlalchemy.orm import Mapped

from portal import audit
from portal.branches.models import LEVELS, UNIT_TYPES, Branch
from portal.branches.scope import forget_grants, is_national_admin, path_under
from portal.branches.signals import branch_moved
from portal.extensions import db
from portal.textcheck import HIDDEN_CHARACTERS_MESSAGE, has_hidden_characters
from portal.timeutil import utcnow

EDITABLE = ("name_zh", "name_en", "code", "unit_type", "address", "contact_phone")


class BranchError(ValueError):
    """A tree change that breaks a rule. `message` is translatable text; `field` names
    the form field it belongs beside (None: the form as a whole)."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class TreeNotAllowed(PermissionError):
    """The actor may not change the branch tree (only national admins may)."""


def _require_national_admin(actor) -> None:
    if not is_national_admin(actor):
        raise TreeNotAllowed


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _check_code_free(code: str | None, keep_id: int | None = None) -> None:
    if code is None:
        return
    other = db.session.scalar(select(Branch.id).where(Branch.code == code))
    if other is not None and other != keep_id:
        raise BranchError(_l("Another branch already uses this code."), "code")


def _check_values(name_zh: str | None, name_en: str | None, unit_type: str | None) -> None:
    if not name_zh:
        raise BranchError(_l("Please enter the Chinese name."), "name_zh")
    if not name_en:
        raise BranchError(_l("Please enter the English name."), "name_en")
    for field, name in (("name_zh", name_zh), ("name_en", name_en)):
        if has_hidden_characters(name):
            raise BranchError(HIDDEN_CHARACTERS_MESSAGE, field)
    if unit_type is not None and unit_type not in UNIT_TYPES:
        raise BranchError(_l("Please choose a type from the list."), "unit_type")


def is_within(branch: Branch, ancestor: Branch) -> bool:
    """True when `branch` is `ancestor` or lies anywhere below it (no query)."""
    return branch.path.startswith(ancestor.path)


def create_branch(
    *,
    parent: Branch | None,
    level: str,
    name_zh: str,
    name_en: str,
    code: str | None = None,
    unit_type: str | None = None,
    address: str | None = None,
    contact_phone: str | None = None,
    actor=None,
) -> Branch:
    """Create a branch under `parent` (None only for the national society) and give
    it its materialized path. Refuses: an unknown level, a level not below the parent's,
    a root that is not national, a closed parent, a code already in use, a missing name.
    With an `actor` (a person using the staff pages) it also refuses anyone but a
    national admin and writes the audit entry "branch_created"."""
    if actor is not None:
        _require_national_admin(actor)
    if level not in LEVELS:
        raise BranchError(_l("Please choose a level from the list."), "level")
    if parent is None and level != "national":
        raise BranchError(_l("Only the national society can sit at the top of the tree."), "level")
    if parent is not None and LEVELS.index(level) <= LEVELS.index(parent.level):
        raise BranchError(
            _l("A branch must be at a lower level than the branch above it."), "level"
        )
    if parent is not None and not parent.is_open:
        raise BranchError(_l("This branch is closed, so no new branches can be added under it."))
    name_zh, name_en, code = _clean(name_zh), _clean(name_en), _clean(code)
    unit_type = _clean(unit_type) if level == "grassroots" else None
    _check_values(name_zh, name_en, unit_type)
    _check_code_free(code)
    branch = Branch(
        parent=parent,
        level=level,
        name_zh=name_zh,
        name_en=name_en,
        code=code,
        unit_type=unit_type,
        address=_clean(address),
        contact_phone=_clean(contact_phone),
        depth=(parent.depth + 1) if parent else 0,
    )
    db.session.add(branch)
    db.session.flush()  # the id is part of the path
    branch.path = f"{parent.path if parent else '/'}{branch.id}/"
    if actor is not None:
        _audit(
            "branch_created",
            actor,
            branch,
            {"parent_id": parent.id if parent else None, "level": level, "name_zh": name_zh},
        )
    return branch


def update_branch(branch: Branch, *, actor, **values) -> dict:
    """Change a branch's names, code, unit type, address or contact (keys of EDITABLE).
    National admins only. Refuses an empty name or a code another branch uses. Returns
    {field: [old, new]} for what really changed and audits it as "branch_updated"
    (nothing is written when nothing changed)."""
    _require_national_admin(actor)
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    new = {key: _clean(value) for key, value in values.items()}
    if branch.level != "grassroots":
        new.pop("unit_type", None)
    _check_values(
        new.get("name_zh", branch.name_zh), new.get("name_en", branch.name_en), new.get("unit_type")
    )
    if "code" in new:
        _check_code_free(new["code"], keep_id=branch.id)
    changes = {}
    for key, value in new.items():
        old = getattr(branch, key)
        if old != value:
            changes[key] = [old, value]
            setattr(branch, key, value)
    if changes:
        db.session.flush()
        _audit("branch_updated", actor, branch, changes)
    return changes


def move_branch(branch: Branch, new_parent: Branch, *, actor) -> None:
    """Put `branch` and its whole subtree under `new_parent`. National admins only.
    Refuses: moving the national society, moving under itself or its own subtree, a
    parent not at a higher level, a closed parent, and a move to where it already is.
    Every path and depth in the subtree is rewritten by one UPDATE that swaps the old
    path prefix for the new one. Audited as "branch_moved"."""
    _require_national_admin(actor)
    if branch.parent_id is None:
        raise BranchError(_l("The national society cannot be moved."))
    if is_within(new_parent, branch):
        raise BranchError(_l("A branch cannot be moved under itself or a branch below it."))
    if new_parent.id == branch.parent_id:
        raise BranchError(_l("The branch is already under this parent."))
    if LEVELS.index(branch.level) <= LEVELS.index(new_parent.level):
        raise BranchError(_l("The new parent must be at a higher level than this branch."))
    if not new_parent.is_open:
        raise BranchError(_l("This branch is closed, so no new branches can be added under it."))
    old_parent_id, old_prefix = branch.parent_id, branch.path
    new_prefix = f"{new_parent.path}{branch.id}/"
    # What hangs on the tree (the review items' paths and counts) follows the move.
    branch_moved.send(
        branch, old_parent_path=old_prefix[: -len(f"{branch.id}/")], new_parent_path=new_parent.path
    )
    shift = new_parent.depth + 1 - branch.depth
    db.session.flush()
    db.session.execute(
        update(Branch)
        .where(path_under(old_prefix))
        .values(
            path=literal(new_prefix) + func.substr(Branch.path, len(old_prefix) + 1),
            depth=Branch.depth + shift,
        ),
        execution_options={"synchronize_session": False},
    )
    expire_loaded(Branch.path, Branch.depth)
    branch.parent = new_parent
    db.session.flush()
    _audit("branch_moved", actor, branch, {"parent_id": [old_parent_id, new_parent.id]})


def close_branch(branch: Branch, *, actor) -> None:
    """Close a branch: it keeps its history, its roles grant nothing and it takes no new
    branches. National admins only. Refuses the national society, a branch already
    closed, and a branch that still has open branches below it (close or move those
    first, so no open branch hides under a closed one). Audited as "branch_closed"."""
    _require_national_admin(actor)
    if branch.parent_id is None:
        raise BranchError(_l("The national society cannot be closed."))
    if not branch.is_open:
        raise BranchError(_l("This branch is already closed."))
    open_children = db.session.scalar(
        select(func.count())
        .select_from(Branch)
        .where(Branch.parent_id == branch.id, Branch.closed_at.is_(None))
    )
    if open_children:
        raise BranchError(
            _ln(
                "Close or move the open branch below it first.",
                "Close or move the %(num)d open branches below it first.",
                open_children,
            )
        )
    branch.closed_at = utcnow()
    db.session.flush()
    _audit("branch_closed", actor, branch, {"closed": True})


def reopen_branch(branch: Branch, *, actor) -> None:
    """Reopen a closed branch (its roles count again). National admins only. Refuses a
    branch that is open or whose parent is closed. Audited as "branch_reopened"."""
    _require_national_admin(actor)
    if branch.is_open:
        raise BranchError(_l("This branch is already open."))
    if branch.parent is not None and not branch.parent.is_open:
        raise BranchError(_l("The branch above it is closed. Reopen that one first."))
    branch.closed_at = None
    db.session.flush()
    _audit("branch_reopened", actor, branch, {"closed": False})


def _audit(action: str, actor, branch: Branch, changes: dict) -> None:
    forget_grants()  # closing, reopening and moving change what roles reach
    audit.record(
        action,
        actor=actor,
        actor_role="admin",
        branch_id=branch.id,
        object_kind="branch",
        object_id=branch.id,
        changes=changes,
    )


def expire_loaded(*attributes: Mapped) -> None:
    """Forget stale values of `attributes` (of one model) on its rows already loaded in
    the session, after a bulk UPDATE the ORM did not see."""
    model, names = attributes[0].class_, [a.key for a in attributes]
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, model):
            db.session.expire(obj, names)


# Reading the tree -----------------------------------------------------------------


def children(parent: Branch, *, offset: int = 0, limit: int = 100) -> list[Branch]:
    """The branches right below `parent`, open ones first, by code then name."""
    return list(
        db.session.scalars(
            select(Branch)
            .where(Branch.parent_id == parent.id)
            .order_by(Branch.closed_at.is_not(None), Branch.code, Branch.name_zh, Branch.id)
            .offset(offset)
            .limit(limit)
        )
    )


def child_counts(branch_ids: list[int]) -> dict[int, int]:
    """How many branches sit directly below each of `branch_ids` (missing = 0)."""
    if not branch_ids:
        return {}
    rows = db.session.execute(
        select(Branch.parent_id, func.count())
        .where(Branch.parent_id.in_(branch_ids))
        .group_by(Branch.parent_id)
    )
    return dict(rows.all())


def subtree_size(branch: Branch) -> int:
    """Branches in `branch`'s subtree, itself included."""
    return db.session.scalar(
        select(func.count()).select_from(Branch).where(path_under(branch.path))
    )


def ancestors(branch: Branch) -> list[Branch]:
    """The branches above `branch`, from the top down, read from its path (one query)."""
    ids = [int(part) for part in branch.path.strip("/").split("/")[:-1] if part]
    if not ids:
        return []
    found = {b.id: b for b in db.session.scalars(select(Branch).where(Branch.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def find_branches(where, text: str, *, offset: int = 0, limit: int = 50) -> list[Branch]:
    """Branches matching `where` (e.g. scope.scope_clause(user)) whose Chinese or English
    name contains `text` or whose code starts with it, higher levels first."""
    text = text.strip()
    match = (
        Branch.name_zh.contains(text, autoescape=True)
        | Branch.name_en.icontains(text, autoescape=True)
        | Branch.code.startswith(text, autoescape=True)
    )
    return list(
        db.session.scalars(
            select(Branch)
            .where(where, match)
            .order_by(Branch.depth, Branch.code, Branch.name_zh, Branch.id)
            .offset(offset)
            .limit(limit)
        )
    )
