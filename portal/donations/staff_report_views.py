"""Staff pages for a branch's month-end summary (XLSX) and the bulk import of gifts from
the finance system's export (dry run first)."""

import re

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
    scoped_branch_ids,
)
from portal.donations import evidence as evidence_store
from portal.donations import importer, staff_bp
from portal.donations.errors import LedgerError
from portal.donations.money import fen_to_yuan_text
from portal.donations.staff_common import branch_choices, recording_role
from portal.donations.staff_forms import (
    ImportForm,
)
from portal.donations.summary import month_summary
from portal.exports import xlsx_response
from portal.extensions import db
from portal.ids import id_arg
from portal.permissions import staff_required
from portal.timeutil import today_local

# --- month-end summary -------------------------------------------------------------------

MONTH = re.compile(r"20\d\d-(0[1-9]|1[0-2])")


@staff_bp.get("/summary")
@staff_required()
def summary():
    """The month-end summary of a branch in scope; ?format=xlsx downloads it."""
    choices = branch_choices(ALL_ROLES)
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
    form.branch.choices = branch_choices()
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
                made = importer.run(
                    report, branch, current_user, recording_role(branch), upload.filename
                )
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
