"""The public remembrance page and its flowers; the staff pages that keep it."""

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.throttle import client_address
from portal.branches.scope import (
    REVIEW_ROLES,
    acting_role,
    can_review,
    get_branch_in_scope_or_404,
    get_in_scope_or_404,
    scoped_branch_ids,
)
from portal.donors import memorial, staff_bp
from portal.donors import memorial_bp as bp
from portal.donors.forms import ActionForm, MemorialForm
from portal.donors.models import MemorialDonor
from portal.donors.staff_query import page_of
from portal.donors.staff_views import _branch_choices
from portal.extensions import db
from portal.ids import page_arg
from portal.permissions import staff_required


@bp.get("/")
def index():
    page = page_of(memorial.shown(), page_arg())
    return render_template("donors/memorial.html", page=page, memorial=memorial, form=ActionForm())


@bp.post("/<int:donor_id>/flower")
def flower(donor_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    if db.session.get(MemorialDonor, donor_id) is None:
        abort(404)
    if memorial.leave_flower(donor_id, memorial.visitor_key(session), client_address()):
        db.session.commit()
        flash(_("Thank you for remembering them."), "success")
    else:
        db.session.rollback()
        flash(_("You have already left a flower today. Thank you for remembering them."), "info")
    return redirect(url_for(".index", _anchor=f"donor-{donor_id}"))


# --- staff -----------------------------------------------------------------------------


@staff_bp.route("/memorial/", methods=["GET", "POST"])
@staff_required()
def memorial_list():
    form = None
    if can_review(current_user):
        form = MemorialForm()
        form.branch.choices = _branch_choices()
        if form.validate_on_submit():
            branch = get_branch_in_scope_or_404(form.branch.data, current_user, REVIEW_ROLES)
            try:
                memorial.add(
                    branch,
                    display_name=form.display_name.data,
                    kind=form.kind.data,
                    donated_on=form.donated_on.data,
                    tribute=form.tribute.data,
                    agreed_by=form.agreed_by.data,
                    agreed_relation=form.agreed_relation.data,
                    agreed_on=form.agreed_on.data,
                    actor=current_user,
                    role=acting_role(current_user, branch, REVIEW_ROLES),
                )
            except memorial.MemorialError as exc:
                db.session.rollback()
                form.form_errors.append(str(exc.message))
            else:
                db.session.commit()
                flash(_("The donor is now on the memorial page."), "success")
                return redirect(url_for(".memorial_list"))
    elif request.method == "POST":
        abort(403)
    stmt = (
        select(MemorialDonor)
        .where(MemorialDonor.branch_id.in_(scoped_branch_ids(current_user)))
        .order_by(MemorialDonor.created_at.desc(), MemorialDonor.id.desc())
    )
    return render_template(
        "donors/staff_memorial.html",
        page=page_of(stmt, page_arg()),
        form=form,
        memorial=memorial,
        hide_form=ActionForm(),
    )


@staff_bp.post("/memorial/<int:donor_id>/hide")
@staff_required(REVIEW_ROLES)
def memorial_hide(donor_id: int):
    donor = get_in_scope_or_404(MemorialDonor, donor_id, current_user, REVIEW_ROLES)
    if not ActionForm().validate_on_submit():
        abort(400)
    memorial.hide(donor, current_user, acting_role(current_user, donor.branch, REVIEW_ROLES))
    db.session.commit()
    flash(_("The name has been taken off the memorial page."), "success")
    return redirect(url_for(".memorial_list"))
