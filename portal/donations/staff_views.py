"""Staff pages for the donations ledger under /admin/donations/: the ledger in scope,
recording, reversing and correcting gifts. Scoped through scope.py (404 outside) and
audited; officers and admins record, auditors read. Projects are in
staff_project_views.py, the month-end summary and the bulk import in
staff_report_views.py."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import audit
from portal.branches.models import Branch
from portal.branches.scope import (
    REVIEW_ROLES,
    acting_role,
    get_branch_in_scope_or_404,
    get_in_scope_or_404,
    scoped_branch_ids,
)
from portal.donations import labels, ledger, staff_bp
from portal.donations.errors import LedgerError
from portal.donations.models import (
    GOODS,
    ORGANISATION,
    Allocation,
    Donation,
    Project,
)
from portal.donations.money import fen_to_yuan_text, parse_quantity
from portal.donations.public_query import PER_PAGE, Page
from portal.donations.receipts import reversal_of
from portal.donations.staff_common import (
    DONOR_FIELDS,
    branch_choices,
    projects_in_scope,
    recording_role,
)
from portal.donations.staff_forms import (
    GiftForm,
    ReverseForm,
)
from portal.extensions import db
from portal.ids import id_arg, page_arg
from portal.permissions import staff_required
from portal.textcheck import search_text
from portal.timeutil import today_local

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
        branches=branch_choices(),
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
    form.branch.choices = branch_choices()
    projects = projects_in_scope()
    form.project.choices = [("", _("Unrestricted (no project)"))] + [
        (str(p.id), f"{p.code} {p.title(str(get_locale()))}") for p in projects
    ]
    if request.method == "GET":
        if original is not None:
            _prefill(form, original)
            _donor_viewed(original, recording_role(original.branch))
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
                        recording_role(original.branch),
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
                        recording_role(project.branch if project else branch),
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
        may_record=recording_role(d.branch) is not None,
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
            ledger.reverse(
                d, current_user, recording_role(d.branch), form.reason.data, today_local()
            )
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
