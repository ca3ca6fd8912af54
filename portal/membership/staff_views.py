"""Staff pages for members: the list in scope (search, status, paging), a member's page
(opening it is logged as a view of personal data), revocation with a reason, CSV."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

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
from portal.membership import services, staff_bp
from portal.membership.forms import strip
from portal.membership.models import REASON_MAX, Member
from portal.membership.staff_query import FILTERS, members_page, members_query
from portal.permissions import staff_required
from portal.review.services import ReviewError
from portal.textcheck import plain_multiline_text, search_text

# What the member page shows of the person (logged on each opening).
PERSONAL_FIELDS = ("full_name", "doc_number_masked", "phone_masked")


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Please write the reason.")),
            Length(max=REASON_MAX, message=_l("Please type at most %(max)d characters.")),
            plain_multiline_text,
        ],
    )


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


@staff_bp.get("/")
@staff_required()
def members():
    q, status, branch = _filters()
    stmt = members_query(current_user, q, status, branch)
    if request.args.get("format") == "csv":
        return _export(stmt, branch)
    page = members_page(stmt, page_arg())
    args = {"q": q or None, "status": status or None, "branch": branch.id if branch else None}
    return render_template(
        "membership/staff_list.html",
        page=page,
        q=q,
        status=status,
        branch=branch,
        filters=FILTERS,
        args=args,
        services=services,
    )


def _export(stmt, branch):
    header = [
        _("Number"),
        _("Name"),
        _("ID number"),
        _("Branch"),
        _("Membership type"),
        _("Status"),
        _("Valid from"),
        _("Valid until"),
    ]
    locale = str(get_locale())
    rows = [
        [
            m.number,
            m.user.profile.full_name if m.user.profile else "",
            m.user.profile.doc_number_masked if m.user.profile else "",
            m.branch.name(locale),
            str(services.TYPES.get(m.member_type, m.member_type)),
            services.status_label(services.lifecycle(m)),
            m.valid_from.isoformat(),
            m.valid_until.isoformat(),
        ]
        for m in db.session.scalars(stmt).unique()
    ]
    audit.record_export(
        "members_exported",
        current_user,
        ALL_ROLES,
        branch,
        object_kind="member",
        changes={"rows": len(rows)},
    )
    db.session.commit()
    return csv_response("members", header, rows)


@staff_bp.get("/<int:member_id>")
@staff_required()
def member(member_id: int):
    member = get_in_scope_or_404(Member, member_id, current_user)
    page = _render(member, RevokeForm(formdata=None))
    db.session.commit()
    return page


def _render(member: Member, form):
    page = render_template(
        "membership/staff_member.html",
        member=member,
        status=services.lifecycle(member),
        services=services,
        form=form,
        may_revoke=acting_role(current_user, member.branch, REVIEW_ROLES) is not None
        and member.status not in (services.RESIGNED, services.REVOKED),
    )
    audit.sensitive_viewed(
        current_user,
        member.user_id,
        PERSONAL_FIELDS,
        member.branch_id,
        acting_role(current_user, member.branch),
        via="member",
        member_id=member.id,
    )
    return page


@staff_bp.post("/<int:member_id>/revoke")
@staff_required(REVIEW_ROLES)
def revoke(member_id: int):
    member = get_in_scope_or_404(Member, member_id, current_user, REVIEW_ROLES)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            services.revoke(
                member,
                current_user,
                acting_role(current_user, member.branch, REVIEW_ROLES),
                form.reason.data,
            )
        except ReviewError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The membership has been revoked."), "success")
            return redirect(url_for(".member", member_id=member.id))
    page = _render(member, form)
    db.session.commit()
    return page, 200
