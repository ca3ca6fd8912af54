"""Searching the audit log within a staff member's scope.

Read-only by design: nothing here (or anywhere in the application) updates or
deletes an audit entry. Every query goes through `_scoped()`, so an entry outside
the user's audit scope can never be returned, whatever the filters say.
"""

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select

from portal.accounts.models import RealNameProfile, User
from portal.accounts.phone import mask_phone
from portal.audit import mask_id_numbers
from portal.audit.models import AuditEntry
from portal.branches.models import Branch
from portal.branches.scope import AUDIT_ROLES, is_national_admin, path_under, scoped_branch_ids
from portal.extensions import db
from portal.timeutil import local_to_utc

PAGE_SIZE = 50
EXPORT_LIMIT = 50_000

# Human labels for the actions features write; an action not listed is shown raw.
ACTION_LABELS = {
    "login": _l("Logged in"),
    "login_failed": _l("Failed login"),
    "password_login_paused": _l("Password login paused after many wrong passwords"),
    "logout": _l("Logged out"),
    "register": _l("Registered"),
    "password_changed": _l("Changed password"),
    "password_reset": _l("Reset password"),
    "profile_created": _l("Added real-name profile"),
    "profile_updated": _l("Changed real-name profile"),
    "profile_deleted": _l("Deleted real-name profile"),
    "consent_withdrawn": _l("Withdrew a consent"),
    "role_granted": _l("Gave a staff role"),
    "role_revoked": _l("Took away a staff role"),
    "branch_created": _l("Created a branch"),
    "branch_renamed": _l("Renamed a branch"),
    "branch_updated": _l("Changed branch details"),
    "branch_moved": _l("Moved a branch"),
    "branch_closed": _l("Closed a branch"),
    "branch_reopened": _l("Reopened a branch"),
    "review_approved": _l("Approved an application"),
    "review_rejected": _l("Turned down an application"),
    "review_withdrawn": _l("Withdrew an application"),
    "sensitive_viewed": _l("Viewed sensitive personal data"),
    "access_refused": _l("Was refused access (outside their branches)"),
    "membership_renewed": _l("Renewed a membership"),
    "membership_resigned": _l("Resigned a membership"),
    "membership_revoked": _l("Revoked a membership"),
    "group_membership_renewed": _l("Renewed a group membership"),
    "group_membership_resigned": _l("Resigned a group membership"),
    "group_membership_revoked": _l("Revoked a group membership"),
    "group_members_exported": _l("Downloaded the group member list"),
    "members_exported": _l("Downloaded the member list"),
    "members_imported": _l("Imported members from a file"),
    "volunteer_status_changed": _l("Changed the status of a volunteer"),
    "volunteer_team_created": _l("Created a volunteer team"),
    "volunteer_team_member_added": _l("Added a volunteer to a team"),
    "volunteer_team_member_removed": _l("Took a volunteer off a team"),
    "volunteers_exported": _l("Downloaded the volunteer list"),
    "volunteer_activity_created": _l("Created a volunteer activity"),
    "volunteer_activity_updated": _l("Edited a volunteer activity"),
    "service_certificate_revoked": _l("Revoked a volunteer service certificate"),
    "volunteer_activity_published": _l("Published a volunteer activity"),
    "volunteer_activity_cancelled": _l("Cancelled a volunteer activity"),
    "volunteer_activity_finished": _l("Marked a volunteer activity finished"),
    "volunteer_shift_added": _l("Added a shift to a volunteer activity"),
    "volunteer_shift_removed": _l("Removed a shift from a volunteer activity"),
    "volunteer_checked_by_hand": _l("Recorded a check-in or check-out by hand"),
    "service_hours_confirmed": _l("Confirmed volunteer service hours"),
    "service_hours_adjusted": _l("Changed volunteer service hours"),
    "volunteer_roster_exported": _l("Downloaded a shift roster"),
    "volunteer_hours_exported": _l("Downloaded the volunteer hours ranking"),
    "training_session_scheduled": _l("Scheduled a first-aid class"),
    "training_session_cancelled": _l("Cancelled a first-aid class"),
    "training_session_updated": _l("Changed a first-aid class"),
    "training_roster_viewed": _l("Opened or downloaded a class roster"),
    "training_attendance_marked": _l("Marked attendance at a class"),
    "training_checked_in": _l("Checked in a class attendee by QR code"),
    "training_result_recorded": _l("Recorded a class result"),
    "training_certificate_revoked": _l("Revoked a first-aid certificate"),
    "donation_recorded": _l("Recorded a donation"),
    "donation_reversed": _l("Reversed a donation"),
    "donation_corrected": _l("Recorded a corrected donation"),
    "donation_allocated": _l("Allocated unrestricted donations to a project"),
    "donation_project_created": _l("Created a donation project"),
    "donation_project_updated": _l("Edited a donation project"),
    "expense_recorded": _l("Recorded a project expense"),
    "expense_reversed": _l("Reversed a project expense"),
    "expense_evidence_added": _l("Added evidence to a project expense"),
    "donations_summary_exported": _l("Downloaded a month-end donations summary"),
    "donations_imported": _l("Imported donations from the finance system"),
    "volunteers_imported": _l("Imported volunteers from a file"),
    "audit_exported": _l("Downloaded the audit log"),
    "inbox_exported": _l("Downloaded the inbox"),
    "staff_list_exported": _l("Downloaded a staff list"),
    "session_ended": _l("Ended a login on another device"),
    "sessions_ended": _l("Ended all other logins"),
    "user_created": _l("Account created by an administrator"),
    "marrow_deferred": _l("Could not pre-register as a marrow donor (a health question)"),
    "marrow_registered": _l("Pre-registered as a marrow donor"),
    "marrow_withdrawn": _l("Withdrew a marrow registration"),
    "marrow_sample_booked": _l("Booked a blood-sample appointment"),
    "marrow_sample_cancelled": _l("Cancelled a blood-sample appointment"),
    "marrow_status_changed": _l("Recorded a marrow registration step"),
    "marrow_registrants_exported": _l("Downloaded the marrow registrant list"),
    "sample_session_created": _l("Opened a blood-sample session"),
    "sample_roster_exported": _l("Downloaded a sample session roster"),
    "sample_session_cancelled": _l("Called off a blood-sample session"),
    "organ_registered": _l("Registered organ or body donation wishes"),
    "organ_amended": _l("Amended organ or body donation wishes"),
    "organ_withdrawn": _l("Withdrew organ or body donation wishes"),
    "organ_registrants_exported": _l("Downloaded the organ and body registrant list"),
    "memorial_donor_added": _l("Added a donor to the memorial page"),
    "memorial_donor_hidden": _l("Took a donor off the memorial page"),
}

ROLE_LABELS = {
    "admin": _l("Branch admin"),
    "officer": _l("Branch officer"),
    "auditor": _l("Auditor"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS[action]) if action in ACTION_LABELS else action


def role_label(role: str | None) -> str:
    if not role:
        return ""
    return str(ROLE_LABELS[role]) if role in ROLE_LABELS else role


def compact_changes(changes: dict | None, limit: int | None = None) -> str:
    """`key: value; ...` on one line; long results are cut at `limit` characters. ID
    numbers are masked again on the way out: entries cannot be rewritten, and those
    written before the masking was tightened keep four digits at each end."""
    if not changes:
        return ""
    parts = []
    for key, value in mask_id_numbers(changes).items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        parts.append(f"{key}: {shown}")
    text = "; ".join(parts)
    if limit is not None and len(text) > limit:
        return text[: limit - 1] + "…"
    return text


@dataclass(frozen=True)
class AuditSearch:
    """What to look for. Dates are calendar days in Asia/Shanghai; `date_to` is
    included. `branch_id` means that branch and every branch below it."""

    actor_phone: str | None = None
    object_kind: str | None = None
    object_id: str | None = None
    action: str | None = None
    branch_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    def describe(self) -> dict:
        """The filters in use, safe for an audit entry (the phone is masked)."""
        out = {
            "actor": mask_phone(self.actor_phone) or None,
            "object_kind": self.object_kind,
            "object_id": self.object_id,
            "action": self.action,
            "branch_id": self.branch_id,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
        }
        return {k: v for k, v in out.items() if v is not None}


@dataclass
class AuditRow:
    entry: AuditEntry
    actor_phone: str | None
    actor_name: str | None
    branch_name_zh: str | None
    branch_name_en: str | None

    @property
    def actor(self) -> str:
        return mask_phone(self.actor_phone)

    def branch_name(self, locale: str) -> str:
        return (self.branch_name_en if locale == "en" else self.branch_name_zh) or ""

    @property
    def action_label(self) -> str:
        return action_label(self.entry.action)

    @property
    def role_label(self) -> str:
        return role_label(self.entry.actor_role)

    @property
    def object(self) -> str:
        e = self.entry
        if e.object_kind and e.object_id:
            return f"{e.object_kind} #{e.object_id}"
        return e.object_kind or ""


@dataclass
class AuditPage:
    rows: list[AuditRow] = field(default_factory=list)
    page: int = 1
    has_next: bool = False

    @property
    def has_prev(self) -> bool:
        return self.page > 1


class ExportTooLarge(ValueError):
    """More entries match than one download may hold."""


def _scoped(user) -> Select:
    """Entries the user may read: those of branches in their audit scope, plus, for
    national admins only, entries tied to no branch (logins and the like)."""
    in_branches = AuditEntry.branch_id.in_(scoped_branch_ids(user, AUDIT_ROLES))
    visible = (
        or_(in_branches, AuditEntry.branch_id.is_(None)) if is_national_admin(user) else in_branches
    )
    return (
        select(
            AuditEntry,
            User.phone,
            RealNameProfile.full_name,
            Branch.name_zh,
            Branch.name_en,
        )
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .outerjoin(RealNameProfile, RealNameProfile.user_id == User.id)
        .outerjoin(Branch, Branch.id == AuditEntry.branch_id)
        .where(visible)
    )


def search_statement(user, search: AuditSearch) -> Select:
    """The scoped, filtered query, newest first. Filters only ever narrow the scope: a
    branch outside it matches nothing rather than widening what the user sees."""
    stmt = _scoped(user)
    if search.actor_phone:
        stmt = stmt.where(User.phone == search.actor_phone)
    if search.object_kind:
        stmt = stmt.where(AuditEntry.object_kind == search.object_kind)
    if search.object_id:
        stmt = stmt.where(AuditEntry.object_id == search.object_id)
    if search.action:
        stmt = stmt.where(AuditEntry.action == search.action)
    if search.branch_id is not None:
        chosen = db.session.get(Branch, search.branch_id)
        if chosen is None:
            return stmt.where(False)
        stmt = stmt.where(path_under(chosen.path))
    if search.date_from:
        stmt = stmt.where(AuditEntry.at >= local_to_utc(search.date_from))
    if search.date_to:
        stmt = stmt.where(AuditEntry.at < local_to_utc(search.date_to + timedelta(days=1)))
    return stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def _rows(result) -> list[AuditRow]:
    return [AuditRow(*row) for row in result]


def search_page(user, search: AuditSearch, page: int = 1, per_page: int = PAGE_SIZE) -> AuditPage:
    """One page of matching entries in the user's scope, newest first. Looks one row
    ahead instead of counting, so a large log never needs a full count."""
    page = max(1, page)
    stmt = search_statement(user, search).limit(per_page + 1).offset((page - 1) * per_page)
    rows = _rows(db.session.execute(stmt))
    return AuditPage(rows[:per_page], page, len(rows) > per_page)


def export_rows(user, search: AuditSearch, limit: int | None = None) -> list[AuditRow]:
    """Every matching entry in scope, newest first, for a download. Refuses (raises
    ExportTooLarge, carrying the limit) rather than silently cutting a download short."""
    limit = EXPORT_LIMIT if limit is None else limit
    rows = _rows(db.session.execute(search_statement(user, search).limit(limit + 1)))
    if len(rows) > limit:
        raise ExportTooLarge(limit)
    return rows
