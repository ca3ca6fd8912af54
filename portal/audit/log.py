"""Writing the audit log. Services call `record()`; it only adds to db.session, so
the entry commits (or rolls back) with the action it describes."""

from flask import has_request_context, request

from portal.accounts.identity import mask_id_numbers_in_text
from portal.audit.models import AuditEntry
from portal.branches.scope import ALL_ROLES, acting_role, active_grants, scope_paths
from portal.extensions import db

# Keys that must never reach the log, at any depth of `changes`, whatever a caller
# passes. Exact names only: a branch's division `code` or a `token_count` is fine.
FORBIDDEN_KEYS = frozenset(
    {
        "password",
        "new_password",
        "current_password",
        "password_hash",
        "sms_code",
        "doc_number",
        "doc_number_enc",
        "doc_number_hmac",
        "token",
        "token_hash",
        "secret",
    }
)

# Staff roles, strongest first, for the role written beside a personal entry.
_ROLE_ORDER = ("admin", "officer", "auditor")


def mask_id_numbers(value):
    """`value` with every ID-number-shaped run in its strings masked the way the portal
    shows document numbers (first and last character kept), through nested dicts, lists and
    tuples; secret keys are dropped at every level. Other values are returned as they are."""
    if isinstance(value, str):
        return mask_id_numbers_in_text(value)
    if isinstance(value, dict):
        return {k: mask_id_numbers(v) for k, v in value.items() if k not in FORBIDDEN_KEYS}
    if isinstance(value, list | tuple):
        return [mask_id_numbers(v) for v in value]
    return value


def record(
    action: str,
    *,
    actor=None,
    actor_role: str | None = None,
    branch_id: int | None = None,
    object_kind: str | None = None,
    object_id=None,
    changes: dict | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Add one audit entry. `changes` is a small dict of what changed; secret keys are
    dropped and ID numbers in any text are masked, at every depth, so an ID number or
    password can never be logged through here."""
    clean = mask_id_numbers(changes or {})
    if ip is None and has_request_context():
        ip = request.remote_addr
    entry = AuditEntry(
        action=action,
        actor_id=getattr(actor, "id", actor) if actor is not None else None,
        actor_role=actor_role,
        branch_id=branch_id,
        object_kind=object_kind,
        object_id=str(object_id) if object_id is not None else None,
        ip=ip,
        changes=clean,
    )
    db.session.add(entry)
    return entry


def top_grants(user, roles: frozenset[str] = ALL_ROLES) -> list[tuple[str, int]]:
    """(role, branch_id) for each top branch of the user's scope for `roles` (none nested
    in another), with the strongest role held at that branch. Empty for a citizen."""
    grants = [g for g in active_grants(user) if g.role in roles]
    out = []
    for path in scope_paths(user, roles):
        here = [g for g in grants if g.path == path]
        role = next(r for r in _ROLE_ORDER if any(g.role == r for g in here))
        out.append((role, here[0].branch_id))
    return out


def record_for_person(
    action: str, person, roles: frozenset[str] = ALL_ROLES, **fields
) -> list[AuditEntry]:
    """Audit something a person did as themselves (log in, fail to, download a list).
    A staff member gets one entry per top branch of their scope for `roles`, with that
    branch and role, so the auditors above each part of their scope see it; anyone
    else (or a staff member without such a role) one entry tied to no branch."""
    grants = top_grants(person, roles) if person is not None else []
    if not grants:
        return [record(action, **fields)]
    return [
        record(action, actor_role=role, branch_id=branch_id, **fields) for role, branch_id in grants
    ]


def record_export(action: str, actor, roles: frozenset[str], branch, **fields) -> list[AuditEntry]:
    """Audit a staff download of a list: at the branch the list was narrowed to, or,
    for the whole scope, at each top branch the actor covers (`record_for_person`)."""
    if branch is not None:
        role = acting_role(actor, branch, roles)
        return [record(action, actor=actor, actor_role=role, branch_id=branch.id, **fields)]
    return record_for_person(action, actor, roles, actor=actor, **fields)


def sensitive_viewed(
    actor, subject_user_id: int, fields, branch_id: int | None, actor_role: str | None, **context
) -> AuditEntry:
    """Record that staff saw a person's sensitive personal data. `fields` names what was
    on screen (e.g. ["full_name"]), never the values; `context` may say where (small,
    non-personal values such as the item kind and id)."""
    names = sorted({str(f) for f in fields})
    return record(
        "sensitive_viewed",
        actor=actor,
        actor_role=actor_role,
        branch_id=branch_id,
        object_kind="user",
        object_id=subject_user_id,
        changes={"fields": names, **context},
    )
