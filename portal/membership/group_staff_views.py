"""Staff pages for group members (团体会员), under /admin/membership/groups/: the list in
scope (search, status, branch, paging, CSV), a group's page (opening it is logged as a
view of the contact's personal data) and revocation with a reason. Anything outside the
staff member's scope answers 404."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from portal import audit
from portal.branches.scope import (
    ALL_ROLES,
    REVIEW_ROLES,
    acting_role,
    get_branch_in_scope_or_404,
    get_in_scope_or_404,
)
from portal.exports import csv_response
from portal.extensions import db
from portal.ids import as_id, page_arg
from portal.membership import groups, staff_bp, terms
from portal.membership.group_staff_query import FILTERS, groups_page, groups_query
from portal.membership.models import GroupMember
from portal.membership.staff_views import RevokeForm
from portal.permissions import staff_required
from portal.review.services import ReviewError
from portal.textcheck import search_text

# What the group page shows of the contact (logged on each opening).
PERSONAL_FIELDS = ("full_name", "phone_masked")


def _filters():
    branch_value = request.args.get("branch")
    branch = None
    if branch_value not in (None, ""):
        branch_id = as_id(branch_value)
        if branch_id is None:
            abort(404)
        branch = get_branch_in_scope_or_404(branch_id, current_user)
    q = search_text(request.args.get("q"))
    status = request.args.get("status") or ""
    return q, status if status in FILTERS else "", branch


@staff_bp.get("/groups/")
@staff_required()
def group_members():
    q, status, branch = _filters()
    stmt = groups_query(current_user, q, status, branch)
    if request.args.get("format") == "csv":
        return _export(stmt, branch)
    args = {"q": q or None, "status": status or None, "branch": branch.id if branch else None}
    return render_template(
        "membership/groups/staff_list.html",
        page=groups_page(stmt, page_arg()),
        q=q,
        status=status,
        branch=branch,
        filters=FILTERS,
        args=args,
        terms=terms,
        type_label=groups.type_label,
    )


def _export(stmt, branch):
    header = [
        _("Number"),
        _("Organisation"),
        _("Unified social credit code"),
        _("Type of organisation"),
        _("Number of people"),
        _("Branch"),
        _("Contact"),
        _("Contact phone"),
        _("Status"),
        _("Valid from"),
        _("Valid until"),
    ]
    locale = str(get_locale())
    rows = [
        [
            g.number,
            g.org_name,
            g.uscc,
            groups.type_label(g.org_type),
            g.size,
            g.branch.name(locale),
            g.user.profile.full_name if g.user.profile else "",
            g.user.masked_phone,
            terms.status_label(terms.lifecycle(g)),
            g.valid_from.isoformat(),
            g.valid_until.isoformat(),
        ]
        for g in db.session.scalars(stmt).unique()
    ]
    audit.record_export(
        "group_members_exported",
        current_user,
        ALL_ROLES,
        branch,
        object_kind=groups.OBJECT_KIND,
        changes={"rows": len(rows)},
    )
    db.session.commit()
    return csv_response("group_members", header, rows)


@staff_bp.get("/groups/<int:group_id>")
@staff_required()
def group_member(group_id: int):
    group = get_in_scope_or_404(GroupMember, group_id, current_user)
    page = _render(group, RevokeForm(formdata=None))
    db.session.commit()
    return page


def _render(group: GroupMember, form):
    page = render_template(
        "membership/groups/staff_group.html",
        group=group,
        status=terms.lifecycle(group),
        terms=terms,
        type_label=groups.type_label,
        form=form,
        may_revoke=acting_role(current_user, group.branch, REVIEW_ROLES) is not None
        and group.status not in (terms.RESIGNED, terms.REVOKED),
    )
    audit.sensitive_viewed(
        current_user,
        group.user_id,
        PERSONAL_FIELDS,
        group.branch_id,
        acting_role(current_user, group.branch),
        via=groups.OBJECT_KIND,
        group_member_id=group.id,
    )
    return page


@staff_bp.post("/groups/<int:group_id>/revoke")
@staff_required(REVIEW_ROLES)
def revoke_group(group_id: int):
    group = get_in_scope_or_404(GroupMember, group_id, current_user, REVIEW_ROLES)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            groups.revoke(
                group,
                current_user,
                acting_role(current_user, group.branch, REVIEW_ROLES),
                form.reason.data,
            )
        except ReviewError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The group membership has been revoked."), "success")
            return redirect(url_for(".group_member", group_id=group.id))
    page = _render(group, form)
    db.session.commit()
    return page, 200
