"""Projects: created and edited by staff of the owning branch (audited). Their money
figures are never typed: they move only with ledger entries (see ledger.py, spending.py)."""

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import audit
from portal.donations.errors import LedgerError
from portal.donations.models import PROJECT_STATUSES, Project
from portal.extensions import db

CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,29}")
EDITABLE = (
    "title_zh",
    "title_en",
    "description_zh",
    "description_en",
    "starts_on",
    "ends_on",
    "target_fen",
    "status",
)


def clean_code(raw: str | None) -> str:
    return (raw or "").strip().upper()


def _check(values: dict) -> None:
    if values["status"] not in PROJECT_STATUSES:
        raise LedgerError(_l("Please choose a status."))
    ends: date | None = values.get("ends_on")
    if ends is not None and ends < values["starts_on"]:
        raise LedgerError(_l("The end date cannot be before the start date."))


def create_project(branch, actor, actor_role: str, code: str, **values) -> Project:
    """A new project of `branch`. Refuses a code already taken or not of A-Z, 0-9, "-"."""
    code = clean_code(code)
    if not CODE.fullmatch(code):
        raise LedgerError(_l("Use 2 to 30 capital letters, digits and hyphens."))
    if db.session.scalar(select(Project.id).where(Project.code == code)) is not None:
        raise LedgerError(_l("This project code is taken already."))
    _check(values)
    project = Project(code=code, branch_id=branch.id, **{k: values[k] for k in EDITABLE})
    db.session.add(project)
    db.session.flush()
    audit.record(
        "donation_project_created",
        actor=actor,
        actor_role=actor_role,
        branch_id=branch.id,
        object_kind="donation_project",
        object_id=project.id,
        changes={"code": code, "title": project.title_zh, "status": project.status},
    )
    return project


def update_project(project: Project, actor, actor_role: str, **values) -> dict:
    """Change a project's words, dates, target and status; the changes are audited."""
    _check(values)
    changes = {}
    for key in EDITABLE:
        old, new = getattr(project, key), values[key]
        if old != new:
            changes[key] = [
                str(old) if old is not None else None,
                str(new) if new is not None else None,
            ]
            setattr(project, key, new)
    if changes:
        audit.record(
            "donation_project_updated",
            actor=actor,
            actor_role=actor_role,
            branch_id=project.branch_id,
            object_kind="donation_project",
            object_id=project.id,
            changes=changes,
        )
    db.session.flush()
    return changes
