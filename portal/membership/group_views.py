"""The contact's group membership pages (团体会员): what it is and the application, the
group card, withdraw, renew, resign, and the "My Red Cross" section."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.cards.services import qr_svg
from portal.extensions import db
from portal.main.my_red_cross import Section, register_section
from portal.membership import (
    bp,
    group_kind,  # noqa: F401  (registers the review and card kinds and the indicator)
    groups,
    terms,
)
from portal.membership.charter import CHARTER_POINTS, CHARTER_VERSION
from portal.membership.forms import RenewForm, ResignForm, WithdrawForm
from portal.membership.group_forms import GroupApplyForm
from portal.membership.services import branches_for
from portal.review.services import ReviewError, notify_received
from portal.review.withdrawal import withdraw_and_say


def _state(user) -> dict:
    return {
        "groups": groups.groups_of(user),
        "pending": groups.pending_application(user),
        "withdraw_form": WithdrawForm(),
        "renew_form": RenewForm(),
        "terms": terms,
        "type_label": groups.type_label,
    }


def _my_section(user) -> dict | None:
    state = _state(user)
    return state if state["groups"] or state["pending"] else None


register_section(Section("group_membership", 25, "membership/groups/_my_section.html", _my_section))


def _apply(form, branches):
    """The form was valid: apply, or put the service's refusal beside its field."""
    branch = next(b for b in branches if b.id == form.branch.data)
    try:
        application = groups.apply(
            current_user,
            branch,
            form.org_name.data,
            form.uscc.data,
            form.org_type.data,
            form.size.data,
            form.address.data,
            CHARTER_VERSION,
        )
    except groups.CodeError as exc:
        db.session.rollback()
        form.uscc.errors = [*form.uscc.errors, str(exc)]
    except ReviewError as exc:
        db.session.rollback()
        form.form_errors.append(str(exc))
    else:
        notify_received(application)
        db.session.commit()
        flash(_("Your application has been sent. The branch will reply by SMS."), "success")
        return redirect(url_for(".groups_page"))
    return None


@bp.route("/groups/", methods=["GET", "POST"])
def groups_page():
    """What group membership is; for a signed-in citizen their groups and the form."""
    context = {"charter": CHARTER_POINTS, "charter_version": CHARTER_VERSION, "form": None}
    if not current_user.is_authenticated:
        return render_template("membership/groups/join.html", **context)
    context.update(_state(current_user))
    can_apply = current_user.profile is not None and context["pending"] is None
    branches = branches_for(current_user) if can_apply else []
    context["branches"] = branches
    if can_apply and branches:
        form = GroupApplyForm()
        form.branch.choices = [(b.id, b.name(_locale())) for b in branches]
        if form.branch.data is None and not form.is_submitted():
            form.branch.data = branches[0].id
        if form.validate_on_submit():
            done = _apply(form, branches)
            if done is not None:
                return done
        context["form"] = form
    return render_template("membership/groups/join.html", **context)


def _group_or_404(group_id: int):
    group = groups.group_of(current_user, group_id)
    if group is None:
        abort(404)
    return group


@bp.get("/groups/<int:group_id>/card")
@login_required
def group_card(group_id: int):
    group = _group_or_404(group_id)
    url = url_for("cards.verify_token", token=group.card_token, _external=True)
    return render_template(
        "membership/groups/card.html",
        group=group,
        status=terms.lifecycle(group),
        terms=terms,
        type_label=groups.type_label,
        qr=qr_svg(url),
    )


@bp.post("/groups/withdraw")
@login_required
def withdraw_group_application():
    if not WithdrawForm().validate_on_submit():
        abort(400)
    withdraw_and_say(groups.pending_application(current_user), current_user)
    return redirect(url_for(".groups_page"))


@bp.post("/groups/<int:group_id>/renew")
@login_required
def renew_group(group_id: int):
    group = _group_or_404(group_id)
    if not RenewForm().validate_on_submit():
        abort(400)
    try:
        groups.renew(group, current_user)
    except ReviewError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
    else:
        db.session.commit()
        flash(_("The group membership has been renewed."), "success")
    return redirect(url_for(".groups_page"))


@bp.route("/groups/<int:group_id>/resign", methods=["GET", "POST"])
@login_required
def resign_group(group_id: int):
    group = _group_or_404(group_id)
    if group.status in (terms.RESIGNED, terms.REVOKED):
        abort(404)
    form = ResignForm()
    if form.validate_on_submit():
        try:
            groups.resign(group, current_user, form.reason.data)
        except ReviewError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The organisation has resigned its group membership."), "success")
            return redirect(url_for(".groups_page"))
    return render_template("membership/groups/resign.html", group=group, form=form)


def _locale() -> str:
    return str(get_locale())
