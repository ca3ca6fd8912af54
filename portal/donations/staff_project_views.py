"""Staff pages for projects: create and edit them, allocate unrestricted money to them,
record and reverse their expenses with evidence files. Scoped and audited."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import audit
from portal.branches.scope import (
    REVIEW_ROLES,
    get_branch_in_scope_or_404,
    get_in_scope_or_404,
    scoped_branch_ids,
)
from portal.donations import evidence as evidence_store
from portal.donations import labels, spending, staff_bp
from portal.donations.errors import LedgerError
from portal.donations.models import (
    Expense,
    Project,
)
from portal.donations.money import fen_to_yuan_text
from portal.donations.projects import EDITABLE, create_project, update_project
from portal.donations.staff_common import branch_choices, recording_role
from portal.donations.staff_forms import (
    AllocateForm,
    EvidenceForm,
    ExpenseForm,
    ProjectForm,
    ReverseForm,
)
from portal.extensions import db
from portal.permissions import staff_required
from portal.timeutil import today_local

# --- projects, allocations, expenses -----------------------------------------------------


@staff_bp.get("/projects")
@staff_required()
def projects():
    rows = db.session.scalars(
        select(Project)
        .where(Project.branch_id.in_(scoped_branch_ids(current_user)))
        .order_by(Project.status, Project.code)
    ).all()
    return render_template("donations/staff_projects.html", projects=rows, labels=labels.helpers())


def _project_values(form: ProjectForm) -> dict:
    return {
        "title_zh": form.title_zh.data,
        "title_en": form.title_en.data,
        "description_zh": form.description_zh.data or "",
        "description_en": form.description_en.data or "",
        "starts_on": form.starts_on.data,
        "ends_on": form.ends_on.data,
        "target_fen": form.target.fen,
        "status": form.status.data,
    }


@staff_bp.route("/projects/new", methods=["GET", "POST"])
@staff_required(REVIEW_ROLES)
def new_project():
    form = ProjectForm()
    form.branch.choices = branch_choices()
    if request.method == "GET":
        form.starts_on.data = today_local()
    if form.validate_on_submit():
        branch = get_branch_in_scope_or_404(form.branch.data, current_user, REVIEW_ROLES)
        try:
            project = create_project(
                branch,
                current_user,
                recording_role(branch),
                form.code.data,
                **_project_values(form),
            )
        except LedgerError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The project has been created."), "success")
            return redirect(url_for(".project", project_id=project.id))
    return render_template("donations/staff_project_form.html", form=form, project=None)


def _project_page(project, edit=None, allocate=None, expense=None, reverse=None, status=200):
    edit = edit or ProjectForm(formdata=None, obj=None)
    if edit.title_zh.data is None:
        for key in EDITABLE:
            if key == "target_fen":
                edit.target.data = (
                    fen_to_yuan_text(project.target_fen) if project.target_fen else ""
                )
            elif hasattr(edit, key):
                getattr(edit, key).data = getattr(project, key)
        edit.code.data = project.code
    edit.branch.choices = [(str(project.branch_id), project.branch.name(str(get_locale())))]
    edit.branch.data = str(project.branch_id)
    expenses = db.session.scalars(
        select(Expense)
        .where(Expense.project_id == project.id)
        .order_by(Expense.spent_on.desc(), Expense.id.desc())
        .limit(100)
    ).all()
    if allocate is None:
        allocate = AllocateForm(formdata=None)
        allocate.allocated_on.data = today_local()
    if expense is None:
        expense = ExpenseForm(formdata=None)
        expense.spent_on.data = today_local()
    return render_template(
        "donations/staff_project.html",
        project=project,
        edit=edit,
        allocate=allocate,
        expense=expense,
        reverse=reverse or ReverseForm(formdata=None),
        expenses=expenses,
        pool=spending.pool_left(project.branch_id),
        may_record=recording_role(project.branch) is not None,
        labels=labels.helpers(),
    ), status


def _project_or_404(project_id, roles=None) -> Project:
    if roles is None:
        return get_in_scope_or_404(Project, project_id, current_user)
    return get_in_scope_or_404(Project, project_id, current_user, roles)


@staff_bp.get("/projects/<int:project_id>")
@staff_required()
def project(project_id: int):
    return _project_page(_project_or_404(project_id))


@staff_bp.post("/projects/<int:project_id>")
@staff_required(REVIEW_ROLES)
def edit_project(project_id: int):
    found = _project_or_404(project_id, REVIEW_ROLES)
    form = ProjectForm()
    form.branch.choices = [(str(found.branch_id), found.branch.name(str(get_locale())))]
    form.code.data = found.code
    if form.validate_on_submit():
        try:
            update_project(
                found, current_user, recording_role(found.branch), **_project_values(form)
            )
        except LedgerError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The project has been saved."), "success")
            return redirect(url_for(".project", project_id=found.id))
    return _project_page(found, edit=form)


@staff_bp.post("/projects/<int:project_id>/allocate")
@staff_required(REVIEW_ROLES)
def allocate(project_id: int):
    found = _project_or_404(project_id, REVIEW_ROLES)
    form = AllocateForm()
    if form.validate_on_submit():
        try:
            spending.allocate_from_pool(
                found.branch,
                found,
                form.amount.fen,
                form.allocated_on.data,
                current_user,
                recording_role(found.branch),
            )
        except LedgerError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The money has been allocated to the project."), "success")
            return redirect(url_for(".project", project_id=found.id))
    return _project_page(found, allocate=form)


@staff_bp.post("/projects/<int:project_id>/expenses")
@staff_required(REVIEW_ROLES)
def add_expense(project_id: int):
    found = _project_or_404(project_id, REVIEW_ROLES)
    form = ExpenseForm()
    if form.validate_on_submit():
        upload = form.evidence.data
        data = upload.read(evidence_store.EVIDENCE_MAX_BYTES + 1) if upload else b""
        try:
            expense = spending.record_expense(
                found,
                form.spent_on.data,
                form.amount.fen,
                form.purpose.data,
                form.beneficiary.data,
                current_user,
                recording_role(found.branch),
            )
            if upload and upload.filename:
                evidence_store.store(
                    expense, form.evidence_kind.data, upload.filename, data, current_user
                )
        except LedgerError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The expense has been recorded."), "success")
            return redirect(url_for(".project", project_id=found.id))
    return _project_page(found, expense=form)


@staff_bp.post("/projects/<int:project_id>/expenses/<int:expense_id>/evidence")
@staff_required(REVIEW_ROLES)
def add_evidence(project_id: int, expense_id: int):
    found = _project_or_404(project_id, REVIEW_ROLES)
    expense = db.session.get(Expense, expense_id)
    if expense is None or expense.project_id != found.id:
        abort(404)
    form = EvidenceForm()
    upload = form.evidence.data
    try:
        if not form.validate_on_submit():
            raise LedgerError(_("Please choose what the file shows."))
        if not (upload and upload.filename):
            raise LedgerError(_("Please choose a file."))
        evidence_store.store(
            expense,
            form.evidence_kind.data,
            upload.filename,
            upload.read(evidence_store.EVIDENCE_MAX_BYTES + 1),
            current_user,
        )
    except LedgerError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        audit.record(
            "expense_evidence_added",
            actor=current_user,
            actor_role=recording_role(found.branch),
            branch_id=found.branch_id,
            object_kind="donation_expense",
            object_id=expense.id,
            changes={"kind": form.evidence_kind.data},
        )
        db.session.commit()
        flash(_("The file has been added."), "success")
    return redirect(url_for(".project", project_id=found.id))


@staff_bp.post("/projects/<int:project_id>/expenses/<int:expense_id>/reverse")
@staff_required(REVIEW_ROLES)
def reverse_expense(project_id: int, expense_id: int):
    found = _project_or_404(project_id, REVIEW_ROLES)
    expense = db.session.get(Expense, expense_id)
    if expense is None or expense.project_id != found.id:
        abort(404)
    form = ReverseForm()
    if form.validate_on_submit():
        try:
            spending.reverse_expense(
                expense, today_local(), form.reason.data, current_user, recording_role(found.branch)
            )
        except LedgerError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("The expense has been reversed."), "success")
            return redirect(url_for(".project", project_id=found.id))
    return _project_page(found, reverse=form)
