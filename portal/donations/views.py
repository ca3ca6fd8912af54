"""The public accounts: the society, each branch (with its subtree) and each project:
received, allocated, spent, balance; by month, by channel, by project; every gift
(masked or anonymous) and every expense with its evidence; and the receipt page a
receipt's QR code opens."""

from flask import Response, abort, render_template, request
from sqlalchemy import select

from portal.branches.models import Branch
from portal.cards.services import qr_svg
from portal.donations import (
    bp,
    charts,
    evidence,
    indicator,  # noqa: F401  (makes the dashboard's "funds raised" figure live)
    labels,
    public_query,
    receipts,  # noqa: F401  (registers the receipt card kind)
)
from portal.donations.models import Donation, Evidence, Project
from portal.extensions import db, limiter
from portal.ids import id_arg, page_arg
from portal.templating import yuan
from portal.textcheck import search_text


def _branch_or_404(branch_id) -> Branch:
    branch = db.session.get(Branch, branch_id) if branch_id else None
    if branch is None:
        abort(404)
    return branch


def _project_or_404(project_id) -> Project:
    project = db.session.get(Project, project_id) if project_id else None
    if project is None:
        abort(404)
    return project


def _chart(accounts):
    groups = [(m.month[2:], [m.received, m.spent]) for m in accounts.months]
    return charts.grouped_bars(groups, yuan)


def _render_accounts(scope: public_query.Scope):
    accounts = public_query.accounts(scope)
    projects = [] if scope.project else public_query.projects_in(scope.branch)
    children = [] if scope.project else public_query.child_branches(scope.branch)
    return render_template(
        "donations/accounts.html",
        scope=scope,
        accounts=accounts,
        chart=_chart(accounts),
        projects=projects,
        children=children,
        labels=labels.helpers(),
        recent=public_query.donations_page(scope, "", 1, per_page=5).rows,
    )


@bp.get("/")
def public():
    return _render_accounts(public_query.Scope())


@bp.get("/branch/<int:branch_id>")
def branch(branch_id: int):
    return _render_accounts(public_query.Scope(branch=_branch_or_404(branch_id)))


@bp.get("/project/<int:project_id>")
def project(project_id: int):
    found = _project_or_404(project_id)
    return _render_accounts(public_query.Scope(branch=found.branch, project=found))


def _list_scope() -> tuple[public_query.Scope, dict]:
    """The scope named in the query string (?branch= or ?project=), and those args."""
    branch_id, project_id = id_arg("branch"), id_arg("project")
    if project_id:
        found = _project_or_404(project_id)
        return public_query.Scope(branch=found.branch, project=found), {"project": project_id}
    if branch_id:
        return public_query.Scope(branch=_branch_or_404(branch_id)), {"branch": branch_id}
    return public_query.Scope(), {}


@bp.get("/donations")
def gifts():
    scope, args = _list_scope()
    q = search_text(request.args.get("q"), 40)
    page = public_query.donations_page(scope, q, page_arg())
    return render_template(
        "donations/gifts.html", scope=scope, page=page, q=q, args=args, labels=labels.helpers()
    )


@bp.get("/expenses")
def expenses():
    scope, args = _list_scope()
    page = public_query.expenses_page(scope, page_arg())
    return render_template(
        "donations/expenses.html", scope=scope, page=page, args=args, labels=labels.helpers()
    )


@bp.get("/evidence/<int:evidence_id>")
@limiter.limit("120 per minute")
def evidence_file(evidence_id: int):
    """An evidence file, as the type it was checked to be, shown inline and unable to run."""
    item = db.get_or_404(Evidence, evidence_id)
    data = evidence.read(item)
    if data is None:
        abort(404)
    response = Response(data, mimetype=item.content_type)
    response.headers["Content-Disposition"] = evidence.disposition(item)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.get("/receipt/<token>")
@limiter.limit("120 per minute")
def receipt(token: str):
    """The receipt a donor keeps (press and hold to save): what a QR code opens."""
    donation = None
    if 0 < len(token) <= 64:
        donation = db.session.scalar(select(Donation).where(Donation.verify_token == token))
    if donation is None:
        return render_template("donations/receipt.html", donation=None), 404
    url = request.url_root.rstrip("/") + request.path
    return render_template(
        "donations/receipt.html",
        donation=donation,
        reversal=receipts.reversal_of(donation),
        qr=qr_svg(url),
        labels=labels.helpers(),
    )
