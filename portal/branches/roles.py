"""Who may grant and revoke staff roles, and doing it. Services add/flush only.

A national admin grants and revokes anywhere. A branch admin grants and revokes only at
branches inside their own subtree: officer and auditor at their own branch too, admin
only strictly below it (so nobody makes a peer of themselves). Officers and auditors
grant nothing. Every grant and revocation is audited."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, selectinload

from portal import audit
from portal.accounts.models import User
from portal.branches.models import ROLES, Branch, StaffRole
from portal.branches.scope import active_grants, forget_grants, path_under
from portal.extensions import db
from portal.sessions import revoke_user_sessions
from portal.timeutil import utcnow


class RoleError(ValueError):
    """A grant or revocation that breaks a rule; `message` is translatable text and
    `field` the form field it belongs beside (None: the form as a whole)."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class RoleNotAllowed(PermissionError):
    """The actor may not grant or revoke this role at this branch."""


def _admin_paths(actor) -> list[str]:
    return [g.path for g in active_grants(actor) if g.role == "admin"]


def _allowed(admin_paths: list[str], branch: Branch, role: str) -> bool:
    for path in admin_paths:
        if path.count("/") == 2:  # held at the root: a national admin
            return True
        if branch.path.startswith(path) and (role != "admin" or branch.path != path):
            return True
    return False


def can_grant(actor, branch: Branch, role: str) -> bool:
    """Whether `actor` may grant `role` at `branch` (an open branch, a known role)."""
    return role in ROLES and branch.is_open and _allowed(_admin_paths(actor), branch, role)


def grantable_roles(actor, branch: Branch) -> list[str]:
    """The roles `actor` may grant at `branch`, in ROLES order (empty: none)."""
    if not branch.is_open:
        return []
    paths = _admin_paths(actor)
    return [role for role in ROLES if _allowed(paths, branch, role)]


def can_revoke(actor, staff_role: StaffRole) -> bool:
    """Whether `actor` may revoke this live role (closed branches included, to tidy up)."""
    return staff_role.revoked_at is None and _allowed(
        _admin_paths(actor), staff_role.branch, staff_role.role
    )


def grant_role(*, actor, user: User, branch: Branch, role: str) -> StaffRole:
    """Give `user` `role` at `branch`. Refuses (RoleNotAllowed) what `actor` may not
    grant; refuses (RoleError) a closed branch, a disabled account or a grant the user
    already holds. Ends the user's other sessions so their next login gets the staff
    session timeouts. Audited as "role_granted"."""
    if role not in ROLES:
        raise RoleError(_l("Please choose a role from the list."), "role")
    if not branch.is_open:
        raise RoleError(_l("This branch is closed. Roles cannot be given there."))
    if not can_grant(actor, branch, role):
        raise RoleNotAllowed
    if not user.is_active_account:
        raise RoleError(_l("This account is switched off."), "phone")
    if _live_role(user.id, branch.id, role) is not None:
        raise RoleError(_l("This person already has this role at this branch."), "phone")
    staff_role = StaffRole(
        user_id=user.id, branch_id=branch.id, role=role, granted_by_id=actor.id, granted_at=utcnow()
    )
    db.session.add(staff_role)
    db.session.flush()
    if user.id != actor.id:
        revoke_user_sessions(user.id)
    _audit("role_granted", actor, staff_role)
    return staff_role


def revoke_role(*, actor, staff_role: StaffRole) -> None:
    """End a live role. Refuses (RoleNotAllowed) what `actor` may not revoke; refuses
    (RoleError) a role already ended and the last national admin role (someone must be
    able to manage the tree). Audited as "role_revoked"."""
    if staff_role.revoked_at is not None:
        raise RoleError(_l("This role has already been taken away."))
    if not can_revoke(actor, staff_role):
        raise RoleNotAllowed
    if (
        staff_role.role == "admin"
        and staff_role.branch.parent_id is None
        and _national_admins() <= 1
    ):
        raise RoleError(_l("This is the last national admin. Give the role to someone else first."))
    staff_role.revoked_at = utcnow()
    staff_role.revoked_by_id = actor.id
    db.session.flush()
    _audit("role_revoked", actor, staff_role)


def bootstrap_national_admin(user: User, national: Branch) -> StaffRole | None:
    """For the `create-admin` command only (the operator at the server is trusted):
    grant admin at the national branch without a granting actor. Returns None when the
    user already holds it. Audited as "role_granted" with no actor."""
    if _live_role(user.id, national.id, "admin") is not None:
        return None
    staff_role = StaffRole(
        user_id=user.id, branch_id=national.id, role="admin", granted_at=utcnow()
    )
    db.session.add(staff_role)
    db.session.flush()
    _audit("role_granted", None, staff_role, via="cli")
    return staff_role


def staff_below(branch: Branch, *, offset: int = 0, limit: int | None = None) -> list[StaffRole]:
    """Live roles held at `branch` or anywhere below it, with user and branch loaded,
    higher branches first."""
    stmt = (
        select(StaffRole)
        .join(StaffRole.branch)
        .where(StaffRole.revoked_at.is_(None), path_under(branch.path))
        .options(
            contains_eager(StaffRole.branch),
            selectinload(StaffRole.user).selectinload(User.profile),
        )
        .order_by(Branch.depth, Branch.path, StaffRole.role, StaffRole.granted_at, StaffRole.id)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def _live_role(user_id: int, branch_id: int, role: str) -> StaffRole | None:
    return db.session.scalar(
        select(StaffRole).where(
            StaffRole.user_id == user_id,
            StaffRole.branch_id == branch_id,
            StaffRole.role == role,
            StaffRole.revoked_at.is_(None),
        )
    )


def _national_admins() -> int:
    return db.session.scalar(
        select(func.count(func.distinct(StaffRole.user_id)))
        .join(StaffRole.branch)
        .where(
            StaffRole.role == "admin", StaffRole.revoked_at.is_(None), Branch.parent_id.is_(None)
        )
    )


def _audit(action: str, actor, staff_role: StaffRole, **extra) -> None:
    forget_grants()  # every change passes here: scope checks later in this request re-read
    audit.record(
        action,
        actor=actor,
        actor_role="admin" if actor is not None else None,
        branch_id=staff_role.branch_id,
        object_kind="staff_role",
        object_id=staff_role.id,
        changes={"role": staff_role.role, "user_id": staff_role.user_id, **extra},
    )
