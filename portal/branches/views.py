"""Staff pages under /admin/branches/: the tree of one's scope, a branch, the forms
national admins use to change the tree, and the staff holding roles below a branch."""

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, not_, select
from sqlalchemy.exc import IntegrityError

from portal import audit
from portal.accounts.models import User
from portal.branches import bp, roles, services
from portal.branches.forms import (
    LEVEL_LABELS,
    ROLE_LABELS,
    UNIT_TYPE_LABELS,
    BranchForm,
    ConfirmForm,
    GrantRoleForm,
    MoveForm,
    NewBranchForm,
)
from portal.branches.models import LEVELS, Branch, StaffRole
from portal.branches.scope import (
    STAFF_LIST_ROLES,
    acting_role,
    can_manage_tree,
    covers,
    get_branch_in_scope_or_404,
    get_in_scope_or_404,
    in_scope,
    path_under,
    scope_clause,
    scope_paths,
)
from portal.errors import render_error
from portal.exports import export_response
from portal.extensions import db
from portal.ids import id_arg, page_arg
from portal.permissions import staff_required
from portal.templating import localtime

ADMIN = frozenset({"admin"})
PER_PAGE = 50
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@bp.context_processor
def _labels():
    return {
        "level_labels": LEVEL_LABELS,
        "unit_type_labels": UNIT_TYPE_LABELS,
        "role_labels": ROLE_LABELS,
    }


@bp.errorhandler(PermissionError)
def _not_allowed(error):
    # A service refused the actor (e.g. the role changed between page and click).
    db.session.rollback()
    return render_error(403)


def _search_text() -> str:
    return _CONTROL.sub("", request.args.get("q", "")).strip()[:100]


def _show_errors(form, exc) -> None:
    field = getattr(form, exc.field, None) if exc.field else None
    (field.errors if field is not None else form.form_errors).append(str(exc.message))


def _saved(form, change):
    """Run a branch service call and commit. Returns its result, or None after putting
    a broken rule (or a code another branch already uses) beside the form's fields."""
    try:
        result = change()
        db.session.commit()
        return result
    except services.BranchError as exc:
        db.session.rollback()
        _show_errors(form, exc)
    except IntegrityError:
        db.session.rollback()
        form.code.errors.append(_("Another branch already uses this code."))
    return None


def _managed_branch(branch_id: int) -> Branch:
    """In scope (else 404) and the user manages the tree (else 403)."""
    branch = get_branch_in_scope_or_404(branch_id, current_user)
    if not can_manage_tree(current_user):  # the same question detail.html asks for its links
        abort(403)
    return branch


@bp.get("/")
@staff_required()
def tree():
    paths = scope_paths(current_user)
    text, page = _search_text(), page_arg()
    parent, trail = None, []
    if text:
        rows = services.find_branches(
            scope_clause(current_user), text, offset=(page - 1) * PER_PAGE, limit=PER_PAGE + 1
        )
    elif request.args.get("parent"):
        parent = get_branch_in_scope_or_404(request.args["parent"], current_user)
        trail = [b for b in services.ancestors(parent) if covers(paths, b)]
        rows = services.children(parent, offset=(page - 1) * PER_PAGE, limit=PER_PAGE + 1)
    else:
        rows = list(
            db.session.scalars(
                select(Branch)
                .where(Branch.path.in_(paths))
                .order_by(Branch.depth, Branch.code, Branch.id)
            )
        )
    has_next, rows = len(rows) > PER_PAGE, rows[:PER_PAGE]
    return render_template(
        "branches/tree.html",
        rows=rows,
        counts=services.child_counts([b.id for b in rows]),
        parent=parent,
        trail=trail,
        q=text,
        page=page,
        has_next=has_next,
        locale=str(get_locale()),
    )


@bp.get("/<int:branch_id>")
@staff_required()
def detail(branch_id: int):
    branch = get_branch_in_scope_or_404(branch_id, current_user)
    paths = scope_paths(current_user)
    return render_template(
        "branches/detail.html",
        branch=branch,
        trail=[(b, covers(paths, b)) for b in services.ancestors(branch)],
        child_count=services.child_counts([branch.id]).get(branch.id, 0),
        subtree_size=services.subtree_size(branch),
        # Which action links show is the template's to ask (can_manage_tree(),
        # can_see_staff(branch), can_audit(branch)): see portal/templating.py.
        confirm=ConfirmForm(),
        locale=str(get_locale()),
    )


@bp.route("/<int:branch_id>/new", methods=["GET", "POST"])
@staff_required(ADMIN)
def create(branch_id: int):
    parent = _managed_branch(branch_id)
    if not parent.is_open or parent.level == LEVELS[-1]:
        flash(_("No branches can be added under this one."), "warning")
        return redirect(url_for(".detail", branch_id=parent.id))
    form = NewBranchForm()
    form.set_levels(parent.level)
    if form.validate_on_submit():
        branch = _saved(
            form,
            lambda: services.create_branch(
                parent=parent,
                level=form.level.data,
                name_zh=form.name_zh.data,
                name_en=form.name_en.data,
                code=form.code.data,
                unit_type=form.unit_type.data,
                address=form.address.data,
                contact_phone=form.contact_phone.data,
                actor=current_user,
            ),
        )
        if branch is not None:
            flash(_("The branch %(name)s has been added.", name=branch.name_zh), "success")
            return redirect(url_for(".detail", branch_id=branch.id))
    return render_template("branches/form.html", form=form, parent=parent, branch=None)


@bp.route("/<int:branch_id>/edit", methods=["GET", "POST"])
@staff_required(ADMIN)
def edit(branch_id: int):
    branch = _managed_branch(branch_id)
    form = BranchForm(data={key: getattr(branch, key) or "" for key in services.EDITABLE})
    form.fixed_level = branch.level
    if form.validate_on_submit():
        values = {key: getattr(form, key).data for key in services.EDITABLE}
        changes = _saved(form, lambda: services.update_branch(branch, actor=current_user, **values))
        if changes is not None:
            flash(_("Saved.") if changes else _("Nothing was changed."), "success")
            return redirect(url_for(".detail", branch_id=branch.id))
    return render_template("branches/form.html", form=form, parent=branch.parent, branch=branch)


@bp.route("/<int:branch_id>/move", methods=["GET", "POST"])
@staff_required(ADMIN)
def move(branch_id: int):
    branch = _managed_branch(branch_id)
    form = MoveForm()
    if form.validate_on_submit():
        new_parent = get_branch_in_scope_or_404(form.new_parent_id.data, current_user)
        try:
            services.move_branch(branch, new_parent, actor=current_user)
            db.session.commit()
        except services.BranchError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc.message))
        else:
            flash(_("Moved under %(name)s.", name=new_parent.name_zh), "success")
            return redirect(url_for(".detail", branch_id=branch.id))
    elif request.method == "POST":
        form.form_errors.append(_("Please choose where to move it."))
    text = _search_text()
    above = LEVELS[: LEVELS.index(branch.level)]
    candidates = (
        services.find_branches(
            and_(
                scope_clause(current_user),
                Branch.closed_at.is_(None),
                Branch.level.in_(above),
                Branch.id != branch.parent_id,
                not_(path_under(branch.path)),
            ),
            text,
            limit=30,
        )
        if text
        else []
    )
    return render_template(
        "branches/move.html",
        branch=branch,
        form=form,
        q=text,
        candidates=candidates,
        locale=str(get_locale()),
    )


@bp.route("/<int:branch_id>/close", methods=["GET", "POST"])
@staff_required(ADMIN)
def close(branch_id: int):
    branch = _managed_branch(branch_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.close_branch(branch, actor=current_user)
            db.session.commit()
        except services.BranchError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc.message))
        else:
            flash(_("The branch is closed. Its history is kept."), "success")
            return redirect(url_for(".detail", branch_id=branch.id))
    return render_template("branches/close.html", branch=branch, form=form)


@bp.post("/<int:branch_id>/reopen")
@staff_required(ADMIN)
def reopen(branch_id: int):
    branch = _managed_branch(branch_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.reopen_branch(branch, actor=current_user)
        db.session.commit()
    except services.BranchError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
    else:
        flash(_("The branch is open again."), "success")
    return redirect(url_for(".detail", branch_id=branch_id))


# Staff holding roles below a branch ------------------------------------------------


def _render_staff(branch: Branch, form: GrantRoleForm | None):
    page = page_arg()
    rows = roles.staff_below(branch, offset=(page - 1) * PER_PAGE, limit=PER_PAGE + 1)
    return render_template(
        "branches/staff.html",
        branch=branch,
        rows=rows[:PER_PAGE],
        page=page,
        has_next=len(rows) > PER_PAGE,
        form=form,
        revocable={sr.id for sr in rows if roles.can_revoke(current_user, sr)},
        locale=str(get_locale()),
    )


def _grant_form(branch: Branch) -> GrantRoleForm | None:
    grantable = roles.grantable_roles(current_user, branch)
    if not grantable:
        return None
    form = GrantRoleForm()
    form.set_roles(grantable)
    return form


@bp.get("/<int:branch_id>/staff")
@staff_required(STAFF_LIST_ROLES)
def staff(branch_id: int):
    branch = get_branch_in_scope_or_404(branch_id, current_user, STAFF_LIST_ROLES)
    return _render_staff(branch, _grant_form(branch))


@bp.post("/<int:branch_id>/staff")
@staff_required(ADMIN)
def grant(branch_id: int):
    branch = get_branch_in_scope_or_404(branch_id, current_user, ADMIN)
    form = _grant_form(branch)
    if form is None:
        abort(403)
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.phone == form.normalised_phone))
        if user is None:
            form.phone.errors.append(
                _("No account uses this number. Ask the person to register first.")
            )
            return _render_staff(branch, form)
        try:
            roles.grant_role(actor=current_user, user=user, branch=branch, role=form.role.data)
            db.session.commit()
        except roles.RoleError as exc:
            db.session.rollback()
            _show_errors(form, exc)
        except IntegrityError:  # the same grant made at the same moment by someone else
            db.session.rollback()
            form.phone.errors.append(_("This person already has this role at this branch."))
        else:
            flash(
                _(
                    "%(person)s is now %(role)s here. They need to log in again.",
                    person=user.masked_phone,
                    role=ROLE_LABELS[form.role.data],
                ),
                "success",
            )
            return redirect(url_for(".staff", branch_id=branch.id))
    return _render_staff(branch, form)


@bp.post("/roles/<int:role_id>/revoke")
@staff_required(ADMIN)
def revoke(role_id: int):
    staff_role = get_in_scope_or_404(StaffRole, role_id, current_user, ADMIN)
    back = id_arg("back")  # read before anything changes: a bad one 404s with nothing done
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not roles.can_revoke(current_user, staff_role):
        abort(403)
    person, role = staff_role.user.masked_phone, ROLE_LABELS[staff_role.role]
    try:
        roles.revoke_role(actor=current_user, staff_role=staff_role)
        message = _("%(person)s is no longer %(role)s.", person=person, role=role), "success"
    except roles.RoleError as exc:
        db.session.rollback()
        message = str(exc.message), "error"
    # Asked after the revocation: an admin who ended their own role may no longer go back.
    target = back if back and in_scope(current_user, db.session.get(Branch, back), ADMIN) else None
    db.session.commit()  # the request's one commit, once every step has run
    flash(*message)
    return redirect(url_for(".staff", branch_id=target or staff_role.branch_id))


@bp.get("/<int:branch_id>/staff/export")
@staff_required(STAFF_LIST_ROLES)
def staff_export(branch_id: int):
    branch = get_branch_in_scope_or_404(branch_id, current_user, STAFF_LIST_ROLES)
    fmt = "xlsx" if request.args.get("format") == "xlsx" else "csv"
    locale = str(get_locale())
    rows = [
        (
            sr.user.profile.full_name if sr.user.profile else "",
            sr.user.masked_phone,
            str(ROLE_LABELS[sr.role]),
            sr.branch.name(locale),
            sr.branch.code,
            localtime(sr.granted_at),
        )
        for sr in roles.staff_below(branch)
    ]
    audit.record(
        "staff_list_exported",
        actor=current_user,
        actor_role=acting_role(current_user, branch, STAFF_LIST_ROLES),
        branch_id=branch.id,
        object_kind="branch",
        object_id=branch.id,
        changes={"format": fmt, "rows": len(rows)},
    )
    db.session.commit()
    header = [_("Name"), _("Mobile number"), _("Role"), _("Branch"), _("Division code"), _("Since")]
    return export_response(fmt, f"staff-{branch.code or branch.id}", header, rows, title=_("Staff"))
