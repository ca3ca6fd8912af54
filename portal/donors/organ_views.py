"""Citizens' organ / body donation pages: register, the registration with its history,
amend (a new version), withdraw with an SMS code, and the e-registration card."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts import smscodes
from portal.cards.services import qr_svg
from portal.donors import organ
from portal.donors import organ_bp as bp
from portal.donors.forms import ActionForm, CodeForm, OrganForm
from portal.extensions import db, limiter


def _form(**kwargs) -> OrganForm:
    form = OrganForm(**kwargs)
    form.organs.choices = [(k, str(v)) for k, v in organ.ORGANS.items()]
    form.tissues.choices = [(k, str(v)) for k, v in organ.TISSUES.items()]
    return form


@bp.route("/", methods=["GET", "POST"])
def register():
    if not current_user.is_authenticated:
        return render_template("donors/organ.html", reg=None, form=None, refusal=None)
    reg = organ.current_registration(current_user)
    if reg is not None:
        return render_template(
            "donors/organ.html",
            reg=reg,
            wish=organ.latest_wish(reg),
            organ=organ,
            form=None,
            refusal=None,
        )
    problem = organ.refusal(current_user)
    form = None
    if problem is None:
        form = _form()
        if form.validate_on_submit():
            try:
                organ.register(
                    current_user,
                    form.choices_value(),
                    form.family_value(),
                    consent_given=bool(form.consent.data),
                    ip=request.remote_addr,
                )
            except organ.OrganError as exc:
                db.session.rollback()
                form.form_errors.append(str(exc.message))
            else:
                db.session.commit()
                flash(_("Thank you. Your wish is registered."), "success")
                return redirect(url_for(".register"))
    return render_template(
        "donors/organ.html",
        reg=None,
        form=form,
        refusal=problem,
        last=organ.latest_registration(current_user),
        organ=organ,
    )


@bp.route("/amend", methods=["GET", "POST"])
@login_required
def amend():
    reg = organ.current_registration(current_user)
    if reg is None:
        abort(404)
    wish = organ.latest_wish(reg)
    if request.method == "GET":
        choices, family = wish.choices or {}, wish.family or {}
        form = _form(
            formdata=None,
            organs_scope=choices.get("organs_scope"),
            organs=choices.get("organs"),
            tissues=choices.get("tissues"),
            body=choices.get("body"),
            family_name=family.get("name"),
            family_relation=family.get("relation"),
            family_phone=family.get("phone"),
            family_informed=bool(family.get("informed")),
        )
    else:
        form = _form()
    del form.consent  # given once, at registration
    if form.validate_on_submit():
        try:
            organ.amend(reg, current_user, form.choices_value(), form.family_value())
        except organ.OrganError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("Your wishes are updated. Earlier versions are kept below."), "success")
            return redirect(url_for(".register"))
    return render_template("donors/organ_amend.html", form=form, reg=reg)


@bp.route("/withdraw", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per hour", methods=["POST"], key_func=lambda: f"organ:{current_user.get_id()}")
def withdraw():
    reg = organ.current_registration(current_user)
    if reg is None:
        abort(404)
    send_form, code_form = ActionForm(), CodeForm()
    code_sent = request.method == "POST"
    if request.method == "POST" and request.form.get("step") == "send":
        if not send_form.validate_on_submit():
            abort(400)
        try:
            organ.send_withdraw_code(current_user)
        except smscodes.ResendTooSoon as exc:
            db.session.rollback()
            flash(str(exc.message), "warning")
        else:
            db.session.commit()
            flash(
                _("We have sent a code to %(phone)s.", phone=current_user.masked_phone), "success"
            )
        code_form = CodeForm(formdata=None)
    elif code_form.validate_on_submit():
        try:
            organ.withdraw(reg, current_user, code_form.code.data)
        except smscodes.CodeError as exc:
            db.session.commit()  # the spent try is kept
            code_form.code.errors.append(str(exc.message))
        except organ.OrganError as exc:
            db.session.rollback()
            code_form.form_errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(
                _("Your registration is withdrawn. Your earlier versions are kept for you to see."),
                "success",
            )
            return redirect(url_for(".register"))
    return render_template(
        "donors/organ_withdraw.html",
        reg=reg,
        send_form=send_form,
        code_form=code_form,
        code_sent=code_sent,
    )


@bp.get("/history")
@login_required
def history():
    reg = organ.latest_registration(current_user)
    if reg is None:
        abort(404)
    return render_template("donors/organ_history.html", reg=reg, organ=organ)


@bp.get("/card")
@login_required
def card():
    reg = organ.current_registration(current_user)
    if reg is None:
        abort(404)
    url = url_for("cards.verify_token", token=reg.card_token, _external=True)
    return render_template("donors/organ_card.html", reg=reg, organ=organ, qr=qr_svg(url))
