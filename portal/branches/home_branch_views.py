"""Citizens' "My branch" pages: see the home branch, ask to join or move to another
branch, follow the request and withdraw it while it waits."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.branches import home_branch
from portal.branches import public_bp as bp
from portal.branches.home_branch import (
    HomeBranchRequest,
    ancestors,
    children_with_counts,
    search_branches,
)
from portal.branches.home_branch_forms import BranchSearchForm, HomeBranchRequestForm, WithdrawForm
from portal.branches.models import Branch
from portal.extensions import db
from portal.ids import as_id
from portal.main.my_red_cross import Section, register_section
from portal.review.services import ReviewError, withdraw


def _my_section(user) -> dict:
    pending = home_branch.pending_request(user)
    return {"home": user.home_branch, "pending": pending, "form": WithdrawForm()}


register_section(Section("home_branch", 10, "branches/_my_section.html", _my_section))


@bp.get("/mine")
@login_required
def my_branch():
    pending = home_branch.pending_request(current_user)
    search = BranchSearchForm(request.args)
    results = None
    if search.q.data and search.validate():
        results = search_branches(search.q.data)
    under = _open_branch_or_404(request.args.get("under"))
    return render_template(
        "branches/my_branch.html",
        home=current_user.home_branch,
        pending=pending,
        history=[r for r in home_branch.latest_requests(current_user) if r is not pending],
        withdraw_form=WithdrawForm(),
        search=search,
        results=results,
        under=under,
        trail=ancestors(under) if under else [],
        children=children_with_counts(under),
    )


@bp.route("/mine/request", methods=["GET", "POST"])
@login_required
def request_home_branch():
    branch = _open_branch_or_404(request.args.get("branch"))
    if branch is None or not home_branch.can_receive(branch):
        abort(404)
    if home_branch.pending_request(current_user) is not None:
        flash(_("You already have a request waiting. Withdraw it first to ask again."), "warning")
        return redirect(url_for(".my_branch"))
    form = HomeBranchRequestForm()
    if form.validate_on_submit():
        try:
            home_branch.request_home_branch(current_user, branch, form.note.data)
        except ReviewError as exc:
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Your request has been sent. The branch will reply by SMS."), "success")
            return redirect(url_for(".my_branch"))
    return render_template(
        "branches/my_branch_request.html",
        branch=branch,
        trail=ancestors(branch)[:-1],
        home=current_user.home_branch,
        form=form,
    )


@bp.post("/mine/requests/<int:request_id>/withdraw")
@login_required
def withdraw_request(request_id: int):
    req = db.session.get(HomeBranchRequest, request_id)  # the route's id is in range
    if req is None or req.user_id != current_user.id:
        abort(404)
    form = WithdrawForm()
    if not form.validate_on_submit():
        abort(400)
    if withdraw(req, current_user):
        db.session.commit()
        flash(_("Your request has been withdrawn."), "success")
    else:
        db.session.rollback()
        flash(_("This request has already been decided, so it cannot be withdrawn."), "warning")
    return redirect(url_for(".my_branch"))


def _open_branch_or_404(value) -> Branch | None:
    """An optional ?branch= / ?under= id: absent gives None; junk or a closed branch 404s."""
    if value in (None, ""):
        return None
    branch_id = as_id(value)
    branch = db.session.get(Branch, branch_id) if branch_id is not None else None
    if branch is None or not branch.is_open:
        abort(404)
    return branch
