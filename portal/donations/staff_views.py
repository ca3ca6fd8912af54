"""Staff pages for donations under /admin/donations/: the ledger in scope, recording,
reversing and correcting gifts, projects with their allocations and expenses (with
evidence uploads), and the month-end summary. Everything is scoped through scope.py
(404 outside) and audited; officers and admins record, auditors read."""

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import audit
from portal.branches.models import Branch
from portal.branches.scope import (
    ALL_ROLES,
    REVIEW_ROLES,
    acting_role,
    get_branch_in_scope_or_404,
    get_in_scope_or_404,
    scoped_branch_ids,
)
from portal.donations import evidence as evidence_store
from portal.donations import importer, labels, ledger, spending, staff_bp
from portal.donations.errors import LedgerError
from portal.donations.models import (
    CLOSED,
    GOODS,
    ORGANISATION,
    Allocation,
    Donation,
    Expense,
    Project,
)
from portal.donations.money import fen_to_yuan_text, parse_quantity
from portal.donations.projects import EDITABLE, create_project, update_project
from portal.donations.public_query import PER_PAGE, Page
from portal.donations.receipts import reversal_of
from portal.donations.staff_forms import (
    AllocateForm,
    EvidenceForm,
    ExpenseForm,
    GiftForm,
    ImportForm,
    ProjectForm,
    ReverseForm,
)
from portal.donations.summary import month_summary
from portal.exports import xlsx_response
from portal.extensions import db
from portal.ids import id_arg, page_arg
from portal.permissions import staff_required
from portal.textcheck import search_text
from portal.timeutil import today_local

BRANCH_CHOICES_MAX = 300
DONOR_FIELDS = ("donor_name", "donor_phone")


def _branch_choices(roles=REVIEW_ROLES) -> list[tuple[str, str]]:
    locale = str(get_locale())
    branches = db.session.scalars(
        select(Branch)
        .where(Branch.id.in_(scoped_branch_ids(current_user, roles)), Branch.closed_at.is_(None))
        .order_by(Branch.path)
        .limit(BRANCH_CHOICES_MAX)
    )
    return [(str(b.id), b.name(locale)) for b in branches]


def _projects_in_scope(open_only=True) -> list[Project]:
    stmt = select(Project).where(
        Project.branch_id.in_(scoped_branch_ids(current_user, REVIEW_ROLES))
    )
    if open_only:
        stmt = stmt.where(Project.status != CLOSED)
    return list(db.session.scalars(stmt.order_by(Project.code).limit(BRANCH_CHOICES_MAX)))


def _role(branch) -> str | None:
    return acting_role(current_user, branch, REVIEW_ROLES)


# --- the ledger ------------------------------------------------------------------------


@staff_bp.get("/")
@staff_required()
def ledger_list():
    branch_id = id_arg("branch")
    branch = get_branch_in_scope_or_404(branch_id, current_user) if branch_id else None
    q = search_text(request.args.get("q"), 40)
    ids = (
        select(Branch.id).where(Branch.id == branch.id)
        if branch
        else scoped_branch_ids(current_user)
    )
    stmt = select(Donation).where(Donation.branch_id.in_(ids))
    if q:
        stmt = stmt.where(Donation.receipt_number == q.upper())
    number = page_arg()
    rows = list(
        db.session.scalars(
            stmt.order_by(Donation.recorded_at.desc(), Donation.id.desc())
            .offset((number - 1) * PER_PAGE)
            .limit(PER_PAGE + 1)
        )
    )
    page = Page(rows[:PER_PAGE], number, len(rows) > PER_PAGE)
    args = {"branch": branch.id if branch else None, "q": q or None}
    return render_template(
        "donations/staff_ledger.html",
        page=page,
        q=q,
        branch=branch,
        args=args,
        labels=labels.helpers(),
        branches=_branch_choices(),
    )


def _donor_viewed(d: Donation, role: str | None) -> None:
    """A person donor's name and phone were on screen: logged against the donor's account
    when they have one, else against the gift (a donor without an account has no user)."""
    if d.donor_user_id:
        audit.sensitive_viewed(
            current_user,
            d.donor_user_id,
            DONOR_FIELDS,
            d.branch_id,
            role,
            via="donation",
            donation_id=d.id,
        )
    else:
        audit.record(
            "sensitive_viewed",
            actor=current_user,
            actor_role=role,
            branch_id=d.branch_id,
            object_kind="donation",
            object_id=d.id,
            changes={"fields": sorted(DONOR_FIELDS)},
        )


def _gift_from(form: GiftForm) -> ledger.Gift:
    goods = form.kind.data == GOODS
    return ledger.Gift(
        kind=form.kind.data,
        amount_fen=form.amount.fen,
        received_on=form.received_on.data,
        channel=None if goods else form.channel.data,
        channel_ref=None if goods else (form.channel_ref.data or None),
        goods_description=form.goods_description.data if goods else None,
        goods_quantity=parse_quantity(form.goods_quantity.data) if goods else None,
        goods_unit=form.goods_unit.data if goods else None,
        valuation_basis=form.valuation_basis.data if goods else None,
        note=form.note.data or None,
    )


def _donor_from(form: GiftForm) -> ledger.Donor:
    org = form.donor_kind.data == ORGANISATION
    return ledger.Donor(
        kind=form.donor_kind.data,
        name=form.donor_name.data,
        phone=None if org else form.normalised_phone,
        uscc=form.compact_uscc if org else None,
        anonymous=bool(form.anonymous.data),
    )


def _prefill(form: GiftForm, d: Donation) -> None:
    form.branch.data = str(d.branch_id)
    form.project.data = str(d.project_id or "")
    form.kind.data = d.kind
    form.amount.data = fen_to_yuan_text(d.amount_fen)
    form.channel.data = d.channel or ""
    form.channel_ref.data = d.channel_ref
    form.goods_description.data = d.goods_description
    form.goods_quantity.data = d.goods_quantity
    form.goods_unit.data = d.goods_unit
    form.valuation_basis.data = d.valuation_basis
    form.donor_kind.data = d.donor_kind
    form.donor_name.data = d.donor_name
    form.donor_phone.data = d.donor_phone
    form.credit_code.data = d.org_uscc
    form.anonymous.data = d.anonymous
    form.received_on.data = d.received_on


@staff_bp.route("/new", methods=["GET", "POST"])
@staff_required(REVIEW_ROLES)
def record_gift():
    corrects_id = id_arg("corrects")
    original = None
    if corrects_id:
        original = get_in_scope_or_404(Donation, corrects_id, current_user, REVIEW_ROLES)
        if original.is_reversal or reversal_of(original) is not None:
            abort(404)
    form = GiftForm()
    form.branch.choices = _branch_choices()
    projects = _projects_in_scope()
    form.project.choices = [("", _("Unrestricted (no project)"))] + [
        (str(p.id), f"{p.code} {p.title(str(get_locale()))}") for p in projects
    ]
    if request.method == "GET":
        if original is not None:
            _prefill(form, original)
            _donor_viewed(original, _role(original.branch))
            db.session.commit()
        else:
            form.received_on.data = today_local()
    if form.validate_on_submit():
        if original is not None and not form.reason.data:
            form.reason.errors.append(_("Please write the reason."))
        else:
            project = None
            if form.project.data:
                project = get_in_scope_or_404(
                    Project, form.project.data, current_user, REVIEW_ROLES
                )
            branch = get_branch_in_scope_or_404(form.branch.data, current_user, REVIEW_ROLES)
            try:
                if original is not None:
                    d = ledger.correct(
                        original,
                        project,
                        _gift_from(form),
                        _donor_from(form),
                        current_user,
                        _role(original.branch),
                        form.reason.data,
                        today_local(),
                    )
                else:
                    d = ledger.record(
                        branch,
                        project,
                        _gift_from(form),
                        _donor_from(form),
                        current_user,
                        _role(project.branch if project else branch),
                    )
            except LedgerError as exc:
                db.session.rollback()
                form.form_errors.append(str(exc))
            else:
                db.session.commit()
                flash(
                    _("Recorded with receipt number %(number)s.", number=d.receipt_number),
                    "success",
                )
                return redirect(url_for(".gift", donation_id=d.id))
    return render_template("donations/staff_gift_form.html", form=form, original=original)


@staff_bp.get("/<int:donation_id>")
@staff_required()
def gift(donation_id: int, form=None):
    d = get_in_scope_or_404(Donation, donation_id, current_user)
    allocations = db.session.scalars(
        select(Allocation).where(Allocation.donation_id == d.id).order_by(Allocation.id)
    ).all()
    page = render_template(
        "donations/staff_gift.html",
        d=d,
        allocations=allocations,
        reversal=reversal_of(d),
        form=form or ReverseForm(formdata=None),
        may_record=_role(d.branch) is not None,
        labels=labels.helpers(),
    )
    if d.donor_kind != ORGANISATION:
        _donor_viewed(d, acting_role(current_user, d.branch))
    db.session.commit()
    return page


@staff_bp.post("/<int:donation_id>/reverse")
@staff_required(REVIEW_ROLES)
def reverse_gift(donation_id: int):
    d = get_in_scope_or_404(Donation, donation_id, current_user, REVIEW_ROLES)
    form = ReverseForm()
    if form.validate_on_submit():
        try:
            ledger.reverse(d, current_user, _role(d.branch), form.reason.data, today_local())
        except LedgerError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(
                _("The gift has been reversed. The original entry stays in the ledger."), "success"
            )
            return redirect(url_for(".gift", donation_id=d.id))
    return gift(donation_id, form=form)


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
    form.branch.choices = _branch_choices()
    if request.method == "GET":
        form.starts_on.data = today_local()
    if form.validate_on_submit():
        branch = get_branch_in_scope_or_404(form.branch.data, current_user, REVIEW_ROLES)
        try:
            project = create_project(
                branch, current_user, _role(branch), form.code.data, **_project_values(form)
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
        may_record=_role(project.branch) is not None,
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
            update_project(found, current_user, _role(found.branch), **_project_values(form))
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
                _role(found.branch),
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
                _role(found.branch),
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
            actor_role=_role(found.branch),
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
                expense, today_local(), form.reason.data, current_user, _role(found.branch)
            )
        except LedgerError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("The expense has been reversed."), "success")
            return redirect(url_for(".project", project_id=found.id))
    return _project_page(found, reverse=form)


# --- month-end summary -------------------------------------------------------------------

MONTH = re.compile(r"20\d\d-(0[1-9]|1[0-2])")


@staff_bp.get("/summary")
@staff_required()
def summary():
    """The month-end summary of a branch in scope; ?format=xlsx downloads it."""
    choices = _branch_choices(ALL_ROLES)
    branch_id = id_arg("branch") or (int(choices[0][0]) if choices else None)
    if branch_id is None:
        abort(404)
    branch = get_branch_in_scope_or_404(branch_id, current_user)
    month = request.args.get("month") or today_local().strftime("%Y-%m")
    if not MONTH.fullmatch(month):
        month = today_local().strftime("%Y-%m")
    lines = month_summary(branch, month)
    locale = str(get_locale())
    if request.args.get("format") == "xlsx":
        header = [
            _("Project"),
            _("Received in the month"),
            _("Allocated in the month"),
            _("Spent in the month"),
            _("Received to date"),
            _("Allocated to date"),
            _("Spent to date"),
            _("Balance"),
        ]
        rows = [
            [
                (
                    f"{ln.project.code} {ln.project.title(locale)}"
                    if ln.project
                    else _("Unrestricted gifts")
                ),
                *(
                    fen_to_yuan_text(v)
                    for v in (
                        ln.received,
                        ln.allocated,
                        ln.spent,
                        ln.received_to_date,
                        ln.allocated_to_date,
                        ln.spent_to_date,
                        ln.balance,
                    )
                ),
            ]
            for ln in lines
        ]
        audit.record(
            "donations_summary_exported",
            actor=current_user,
            actor_role=acting_role(current_user, branch),
            branch_id=branch.id,
            object_kind="branch",
            object_id=branch.id,
            changes={"month": month},
        )
        db.session.commit()
        return xlsx_response(
            f"donations-{branch.code or branch.id}-{month}", header, rows, title=month
        )
    return render_template(
        "donations/staff_summary.html", branch=branch, month=month, lines=lines, branches=choices
    )


# --- bulk import -------------------------------------------------------------------------


@staff_bp.route("/import", methods=["GET", "POST"])
@staff_required(REVIEW_ROLES)
def bulk_import():
    """Check a finance export (dry run: every bad row reported, nothing written), then
    import it: all rows or none."""
    form = ImportForm()
    form.branch.choices = _branch_choices()
    report = None
    if form.validate_on_submit():
        branch = get_branch_in_scope_or_404(form.branch.data, current_user, REVIEW_ROLES)
        upload = form.file.data
        try:
            if not (upload and upload.filename):
                raise LedgerError(_("Please choose a file."))
            data = upload.read(evidence_store.EVIDENCE_MAX_BYTES + 1)
            report = importer.check(upload.filename, data, _scope_branch_ids())
            if request.form.get("go") == "import":
                made = importer.run(report, branch, current_user, _role(branch), upload.filename)
                db.session.commit()
                flash(_("%(n)d gifts have been imported.", n=len(made)), "success")
                return redirect(url_for(".ledger_list", branch=branch.id))
        except LedgerError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
    return render_template(
        "donations/staff_import.html",
        form=form,
        report=report,
        columns=sorted(set(importer.HEADERS.values())),
    )


def _scope_branch_ids() -> set[int]:
    return set(db.session.scalars(scoped_branch_ids(current_user, REVIEW_ROLES)))
