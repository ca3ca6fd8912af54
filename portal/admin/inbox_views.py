"""The staff inbox: every pending application in the reviewer's scope, across kinds.
Reviewers only (branch admins and officers); auditors get 403, out-of-scope items 404."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal import audit
from portal.accounts.identity import doc_type_label
from portal.admin import bp
from portal.branches.scope import (
    REVIEW_ROLES,
    BranchLabel,
    acting_role,
    get_branch_in_scope_or_404,
)
from portal.exports import export_response
from portal.extensions import db
from portal.ids import page_arg
from portal.permissions import staff_required
from portal.review import inbox as review_inbox
from portal.review import kinds
from portal.review.history import earlier_decisions
from portal.review.models import REASON_MAX
from portal.review.services import OWN_APPLICATION, ReviewError, decide, is_applicant
from portal.templating import localtime
from portal.textcheck import plain_multiline_text
from portal.timeutil import utcnow

BULK_MAX = 2 * review_inbox.PAGE_SIZE


class ApproveForm(FlaskForm):
    submit = SubmitField(_l("Approve"))


class RejectForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for not approving"),
        filters=[lambda v: v.replace("\x00", "").strip() if isinstance(v, str) else v],
        validators=[
            DataRequired(message=_l("Please write the reason, so the applicant knows why.")),
            Length(max=REASON_MAX, message=_l("Please keep the reason under %(max)d characters.")),
            plain_multiline_text,
        ],
    )
    submit = SubmitField(_l("Do not approve"))


class BulkForm(FlaskForm):
    """Checks the bulk form's CSRF token; the ticked items are read from request.form.
    (The inbox page writes the token itself with csrf_token(), as base.html does.)"""


def _age(since) -> tuple[str, int]:
    age = utcnow() - since
    if age.days:
        return "day", age.days
    if age.seconds >= 3600:
        return "hour", age.seconds // 3600
    return "minute", max(age.seconds // 60, 1)


def _waiting_words(unit: str, num: int) -> str:
    if unit == "day":
        return ngettext("Waiting %(num)d day", "Waiting %(num)d days", num)
    if unit == "hour":
        return ngettext("Waiting %(num)d hour", "Waiting %(num)d hours", num)
    return ngettext("Waiting %(num)d minute", "Waiting %(num)d minutes", num)


def waiting(since) -> str:
    """ "Waiting 3 days" / "Waiting 5 hours" / "Waiting 10 minutes"."""
    return _waiting_words(*_age(since))


def waiting_memo():
    """`waiting` for a page of many items: each distinct wording is translated once."""
    memo: dict[tuple[str, int], str] = {}

    def words(since) -> str:
        age = _age(since)
        if age not in memo:
            memo[age] = _waiting_words(*age)
        return memo[age]

    return words


def _filters():
    """?kind= and ?branch= from the query string (or a bulk form): unknown kind or a
    branch outside the reviewer's scope answers 404, like any out-of-scope object."""
    source = request.values
    kind = None
    if source.get("kind"):
        kind = kinds.get_kind(source["kind"])
        if kind is None:
            abort(404)
    branch = None
    if source.get("branch"):
        branch = get_branch_in_scope_or_404(source["branch"], current_user, REVIEW_ROLES)
    return kind, branch


def _filter_args(kind, branch) -> dict:
    args = {}
    if kind is not None:
        args["kind"] = kind.key
    if branch is not None:
        args["branch"] = branch.id
    return args


@bp.get("/inbox")
@staff_required(REVIEW_ROLES)
def inbox():
    kind, branch = _filters()
    fmt = request.args.get("format")
    if fmt in ("csv", "xlsx"):
        return _export(fmt, kind, branch)
    page = page_arg()
    result = review_inbox.inbox_page(current_user, kind, branch, page)
    choices = result.branch_choices
    if branch is not None and branch.id not in {c.id for c in choices}:
        choices.append(BranchLabel(branch.id, branch.path, branch.name_zh, branch.name_en))
    return render_template(
        "admin/inbox.html",
        result=result,
        kinds=kinds.kinds(),
        kind=kind,
        branch=branch,
        branch_choices=choices,
        filter_args=_filter_args(kind, branch),
        cards=_card_words(result.items),
        kind_labels=_kind_labels(),
    )


def _card_words(cards) -> list[tuple]:
    """(card, "Waiting 3 days", "Open #123") per card: each distinct wording is
    translated once a page, not once a card (a gettext from a template costs as much
    as the rest of the card)."""
    words = waiting_memo()
    opening = _("Open #%(id)s")  # without arguments: the translated pattern
    return [(card, words(card.waiting_since), opening % {"id": card.id}) for card in cards]


def _kind_labels() -> dict[str, str]:
    """Each kind's label, translated once per page rather than once per item."""
    return {k.key: str(k.label) for k in kinds.kinds()}


def _export(fmt: str, kind, branch):
    header = [
        _("Kind"),
        _("Number"),
        _("Sent on"),
        _("Waiting (days)"),
        _("Deciding branch"),
        _("Summary"),
    ]
    now = utcnow()
    labels = _kind_labels()
    rows = [
        [
            labels[item.kind],
            item.id,
            localtime(item.waiting_since),
            (now - item.waiting_since).days,
            item.branch_name,
            item.summary,
        ]
        for item in review_inbox.iter_inbox(current_user, kind, branch)
    ]
    audit.record_export(
        "inbox_exported",
        current_user,
        REVIEW_ROLES,
        branch,
        object_kind=kind.key if kind else None,
        changes={"format": fmt, "rows": len(rows)},
    )
    db.session.commit()
    return export_response(fmt, "inbox", header, rows, title=_("Inbox"))


def _item_or_404(kind_key: str, obj_id: int):
    obj = review_inbox.find_in_scope(current_user, kind_key, obj_id)
    if obj is None:
        abort(404)
    return kinds.get_kind(kind_key), obj


# What the item page shows of every applicant's real-name profile, whatever the kind.
_STATUS_FIELDS = ("doc_type", "doc_number_masked")


def _render_item(kind, obj, approve_form=None, reject_form=None):
    """The item page, with the applicant's real-name status (masked) and the earlier
    decisions on their applications of this kind in the reviewer's scope. Showing
    real-name details is audited (and committed: nothing else is pending when a page
    is shown)."""
    facts = kind.facts(obj) if kind.facts else []
    profile = obj.user.profile if obj.user is not None else None
    earlier = earlier_decisions(current_user, kind, obj)
    page = render_template(
        "admin/inbox_item.html",
        kind=kind,
        obj=obj,
        summary=review_inbox.summary_of(kind, obj),
        facts=facts,
        profile=profile,
        doc_type_label=doc_type_label,
        earlier=earlier,
        approve_form=approve_form or ApproveForm(formdata=None),
        reject_form=reject_form or RejectForm(formdata=None),
        waiting=waiting,
        # The applicant is never offered the forms, whatever roles they hold.
        may_decide=obj.is_pending and not is_applicant(obj, current_user),
    )
    if profile is not None:
        audit.sensitive_viewed(
            current_user,
            obj.user_id,
            [*kind.personal_fields, *_STATUS_FIELDS],
            obj.branch_id,
            acting_role(current_user, obj.branch, REVIEW_ROLES),
            via=kind.key,
            item_id=obj.id,
            earlier_decisions=len(earlier),
        )
        db.session.commit()
    return page


@bp.get("/inbox/<kind_key>/<int:obj_id>")
@staff_required(REVIEW_ROLES)
def inbox_item(kind_key: str, obj_id: int):
    kind, obj = _item_or_404(kind_key, obj_id)
    return _render_item(kind, obj)


@bp.post("/inbox/<kind_key>/<int:obj_id>/approve")
@staff_required(REVIEW_ROLES)
def inbox_approve(kind_key: str, obj_id: int):
    kind, obj = _item_or_404(kind_key, obj_id)
    form = ApproveForm()
    if not form.validate_on_submit():
        return _render_item(kind, obj, approve_form=form)
    try:
        done = decide(obj, current_user, "approve")
    except ReviewError as exc:
        return _refused(kind, obj, exc)
    return _decided(done, _("Approved. We will tell the applicant by SMS."))


@bp.post("/inbox/<kind_key>/<int:obj_id>/reject")
@staff_required(REVIEW_ROLES)
def inbox_reject(kind_key: str, obj_id: int):
    kind, obj = _item_or_404(kind_key, obj_id)
    if is_applicant(obj, current_user):
        # Refused before the reason is read, so the answer is the rule, not a field error.
        return _refused(kind, obj, OWN_APPLICATION)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            done = decide(obj, current_user, "reject", form.reason.data)
        except ReviewError as exc:
            form.reason.errors = [*form.reason.errors, str(exc)]
        else:
            return _decided(done, _("Not approved. We will tell the applicant the reason by SMS."))
    return _render_item(kind, obj, reject_form=form)


def _refused(kind, obj, message):
    """The engine refused the decision outright (the applicant deciding their own): the
    item page with its message, answered 403, nothing written."""
    db.session.rollback()
    flash(str(message), "error")
    return _render_item(kind, obj), 403


def _decided(done: bool, message: str):
    if done:
        db.session.commit()
        flash(message, "success")
    else:
        db.session.rollback()
        flash(_("Someone has already answered this, or the applicant withdrew it."), "warning")
    return redirect(url_for(".inbox"))


@bp.post("/inbox/bulk")
@staff_required(REVIEW_ROLES)
def inbox_bulk():
    kind, branch = _filters()
    back = redirect(url_for(".inbox", **_filter_args(kind, branch)))
    if not BulkForm().validate_on_submit():
        abort(400)
    picked = list(dict.fromkeys(request.form.getlist("item")))[:BULK_MAX]
    if not picked:
        flash(_("Please tick at least one item first."), "warning")
        return back
    approved = skipped = 0
    refusals = []
    for value in picked:
        obj = _parse_and_find(value)
        try:
            done = obj is not None and decide(obj, current_user, "approve")
        except ReviewError as exc:
            # Said per item (which one and why), the rest of the batch goes on.
            refusals.append((kinds.kind_for(obj), obj.id, str(exc)))
            continue
        approved += done
        skipped += not done
    db.session.commit()
    if approved:
        flash(_("Approved %(n)d. We will tell each applicant by SMS.", n=approved), "success")
    if skipped:
        flash(
            _("%(n)d could not be approved: already answered, withdrawn or not yours.", n=skipped),
            "warning",
        )
    for kind, obj_id, reason in refusals:
        flash(
            _(
                "%(kind)s #%(id)d was not approved: %(reason)s",
                kind=kind.label,
                id=obj_id,
                reason=reason,
            ),
            "error",
        )
    return back


def _parse_and_find(value: str):
    kind_key, _sep, raw_id = value.partition(":")
    return review_inbox.find_in_scope(current_user, kind_key, raw_id)
