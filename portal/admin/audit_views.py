"""The audit log pages. Read-only: there is deliberately no route that changes an
entry; the only write here is the entry recording that someone downloaded the log."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import audit
from portal.admin import bp
from portal.admin.audit_query import (
    AuditSearch,
    ExportTooLarge,
    compact_changes,
    export_rows,
    search_page,
)
from portal.admin.forms import AuditSearchForm, normalise_search_phone
from portal.branches.models import Branch
from portal.branches.scope import AUDIT_ROLES, get_branch_in_scope_or_404, top_grants
from portal.exports import export_response
from portal.extensions import db
from portal.ids import page_arg
from portal.permissions import staff_required
from portal.timeutil import to_local, today_local

EXPORT_FORMATS = ("csv", "xlsx")


def _branch_choices(user, selected: Branch | None) -> list[tuple]:
    """The user's audit branches and the branches right below them, plus a branch
    picked elsewhere (a ?branch= link, already checked to be in scope). Kept short on
    purpose: a province has thousands of branches."""
    locale = str(get_locale())
    root_ids = [g.branch_id for g in top_grants(user, AUDIT_ROLES)]
    roots = db.session.scalars(select(Branch).where(Branch.id.in_(root_ids))).all()
    children = db.session.scalars(
        select(Branch)
        .where(Branch.parent_id.in_(root_ids))
        .order_by(Branch.parent_id, Branch.code, Branch.name_zh)
    ).all()
    choices = [("", _("All branches I can see"))]
    for root in roots:
        choices.append((root.id, root.name(locale)))
        choices.extend((c.id, "— " + c.name(locale)) for c in children if c.parent_id == root.id)
    if selected is not None and selected.id not in {value for value, _label in choices}:
        choices.append((selected.id, selected.name(locale)))
    return choices


def _search_from(form: AuditSearchForm) -> AuditSearch:
    return AuditSearch(
        actor_phone=normalise_search_phone(form.actor.data),
        object_kind=form.object_kind.data or None,
        object_id=form.object_id.data or None,
        action=form.action.data or None,
        branch_id=form.branch.data,
        date_from=form.date_from.data,
        date_to=form.date_to.data,
    )


@bp.route("/audit", methods=["GET"])
@staff_required(AUDIT_ROLES)
def audit_log():
    form = AuditSearchForm(formdata=request.args or None)
    # A branch outside the auditor's scope answers 404, as the inbox's filter does.
    selected = None
    if request.args.get("branch"):
        selected = get_branch_in_scope_or_404(request.args["branch"], current_user, AUDIT_ROLES)
    form.branch.choices = _branch_choices(current_user, selected)
    valid = not request.args or form.validate()
    search = _search_from(form) if valid else None
    fmt = request.args.get("format")
    query_args = {k: v for k, v in request.args.items() if k not in ("page", "format")}

    if search is not None and fmt in EXPORT_FORMATS:
        return _export(search, fmt, query_args)

    page = search_page(current_user, search, page_arg()) if valid else None
    return render_template(
        "admin/audit.html", form=form, page=page, query_args=query_args, compact=compact_changes
    )


def _export(search: AuditSearch, fmt: str, query_args: dict):
    try:
        rows = export_rows(current_user, search)
    except ExportTooLarge as too_large:
        flash(
            _(
                "More than %(limit)s entries match. Please narrow the search, for example by date.",
                limit=f"{too_large.args[0]:,}",
            ),
            "warning",
        )
        return redirect(url_for("admin.audit_log", **query_args))
    # The highest audit grant (admin before auditor) speaks for the download.
    grant = top_grants(current_user, AUDIT_ROLES)[0]
    audit.record(
        "audit_exported",
        actor=current_user,
        actor_role=grant.role,
        branch_id=search.branch_id or grant.branch_id,
        object_kind="audit_log",
        changes={"format": fmt, "rows": len(rows), "filters": search.describe()},
    )
    db.session.commit()
    locale = str(get_locale())
    header = [
        _("Time (Beijing)"),
        _("Who"),
        _("Name"),
        _("Role"),
        _("Branch"),
        _("What they did"),
        _("Action code"),
        _("Kind of record"),
        _("Record number"),
        _("IP address"),
        _("Details"),
    ]
    body = (
        [
            to_local(r.entry.at).strftime("%Y-%m-%d %H:%M:%S"),
            r.actor,
            r.actor_name or "",
            r.role_label,
            r.branch_name(locale),
            r.action_label,
            r.entry.action,
            r.entry.object_kind or "",
            r.entry.object_id or "",
            r.entry.ip or "",
            compact_changes(r.entry.changes),
        ]
        for r in rows
    )
    filename = f"audit-log-{today_local():%Y%m%d}"
    return export_response(fmt, filename, header, body, title=_("Audit log"))
