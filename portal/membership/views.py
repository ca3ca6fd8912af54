"""Citizens' membership pages: join (apply), the member card, withdraw, renew, resign,
and the "My Red Cross" section."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.cards.services import qr_svg
from portal.extensions import db
from portal.main.my_red_cross import Section, register_section
from portal.membership import (
    applications,  # noqa: F401  (registers the review and card kinds)
    bp,
    indicator,  # noqa: F401  (makes the dashboard's "members" figure live)
    services,
)
from portal.membership.charter import CHARTER_POINTS, CHARTER_VERSION
from portal.membership.forms import ApplyForm, RenewForm, ResignForm, WithdrawForm
from portal.review.services import ReviewError, notify_received
from portal.review.withdrawal import withdraw_and_say


def _state(user) -> dict:
    member = services.membership_of(user)
    return {
        "member": member,
        "status": services.lifecycle(member) if member else None,
        "pending": services.pending_application(user),
        "withdraw_form": WithdrawForm(),
        "renew_form": RenewForm(),
        "resign_form": ResignForm(),
        "services": services,
    }


def _my_section(user) -> dict:
    return _state(user)


register_section(Section("membership", 20, "membership/_my_section.html", _my_section))


@bp.route("/", methods=["GET", "POST"])
def join():
    """What membership is; for a signed-in citizen the form, or their membership."""
    context = {"charter": CHARTER_POINTS, "charter_version": CHARTER_VERSION, "form": None}
    if not current_user.is_authenticated:
        return render_template("membership/join.html", **context)
    context.update(_state(current_user))
    member, pending = context["member"], context["pending"]
    can_apply = (
        current_user.profile is not None
        and pending is None
        and not (member and context["status"] in (services.ACTIVE, services.EXPIRING))
    )
    branches = services.branches_for(current_user) if can_apply else []
    context["branches"] = branches
    if can_apply and branches:
        form = ApplyForm()
        form.branch.choices = [(b.id, b.name(_locale())) for b in branches]
        if form.branch.data is None and not form.is_submitted():
            form.branch.data = branches[0].id
        if form.validate_on_submit():
            branch = next(b for b in branches if b.id == form.branch.data)
            try:
                application = services.apply(
                    current_user,
                    branch,
                    form.member_type.data,
                    form.occupation.data,
                    form.work_unit.data,
                    form.address.data,
                    form.motivation.data,
                    CHARTER_VERSION,
                )
            except ReviewError as exc:
                db.session.rollback()
                form.form_errors.append(str(exc))
            else:
                notify_received(application)
                db.session.commit()
                flash(_("Your application has been sent. The branch will reply by SMS."), "success")
                return redirect(url_for(".join"))
        context["form"] = form
    return render_template("membership/join.html", **context)


@bp.get("/card")
@login_required
def card():
    member = services.membership_of(current_user)
    if member is None:
        abort(404)
    url = url_for("cards.verify_token", token=member.card_token, _external=True)
    return render_template(
        "membership/card.html",
        member=member,
        status=services.lifecycle(member),
        services=services,
        qr=qr_svg(url),
    )


@bp.post("/withdraw")
@login_required
def withdraw_application():
    if not WithdrawForm().validate_on_submit():
        abort(400)
    withdraw_and_say(services.pending_application(current_user), current_user)
    return redirect(url_for(".join"))


@bp.post("/renew")
@login_required
def renew():
    if not RenewForm().validate_on_submit():
        abort(400)
    member = services.membership_of(current_user)
    if member is None:
        abort(404)
    try:
        services.renew(member, current_user)
    except ReviewError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
    else:
        db.session.commit()
        flash(_("Your membership has been renewed."), "success")
    return redirect(url_for(".join"))


@bp.route("/resign", methods=["GET", "POST"])
@login_required
def resign():
    member = services.membership_of(current_user)
    if member is None or member.status in (services.RESIGNED, services.REVOKED):
        abort(404)
    form = ResignForm()
    if form.validate_on_submit():
        try:
            services.resign(member, current_user, form.reason.data)
        except ReviewError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("You have resigned your membership."), "success")
            return redirect(url_for(".join"))
    return render_template("membership/resign.html", member=member, form=form)


def _locale() -> str:
    return str(get_locale())
