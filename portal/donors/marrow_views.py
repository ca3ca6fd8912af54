"""Citizens' marrow pages: what pre-registration is, the form, the registration with its
cooling-off, withdrawal, and booking (or cancelling) a blood-sample appointment."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.donors import (
    eligibility,
    indicator,  # noqa: F401  (makes the dashboard's donor figures live)
    marrow,
    my_section,  # noqa: F401  (the "My Red Cross" section)
)
from portal.donors import marrow_bp as bp
from portal.donors.forms import MARROW_FORMS, ActionForm, WithdrawForm
from portal.extensions import db


def _page(**context):
    context.setdefault("labels", marrow.STATUS_LABELS)
    return render_template("donors/marrow.html", marrow=marrow, **context)


@bp.route("/", methods=["GET", "POST"])
def register():
    if not current_user.is_authenticated:
        return _page(reg=None, refusal=None, form=None)
    reg = marrow.current_registration(current_user)
    if reg is not None:
        if marrow.settle(reg):  # day 8 or later: confirmed on the first look
            db.session.commit()
        return _status_page(reg)
    problem = marrow.refusal(current_user)
    if problem is not None:
        return _page(
            reg=None, refusal=problem, form=None, last=marrow.latest_registration(current_user)
        )
    form = MARROW_FORMS[current_user.profile.sex]()
    if form.is_submitted() and _deferred_answer(form):
        # A "yes" ends it here, whatever else was filled in: explain, keep only the outcome.
        return _deferred(form)
    if form.validate_on_submit():
        try:
            marrow.register(
                current_user,
                weight_kg=form.weight.kg,
                answers=form.answers(),
                contacts=form.contacts(),
                preferences={"channel": form.channel.data, "time": form.best_time.data},
                health_consent=form.health_consent.data,
                registry_consent=form.registry_consent.data,
                ip=request.remote_addr,
            )
        except marrow.MarrowError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            db.session.commit()
            flash(_("Thank you. You are pre-registered as a stem cell donor."), "success")
            return redirect(url_for(".register"))
    return _page(reg=None, refusal=None, form=form, last=marrow.latest_registration(current_user))


def _deferred_answer(form) -> bool:
    return any(
        form[f"q_{k}"].data == "yes" for k in eligibility.questions_for(current_user.profile.sex)
    )


def _deferred(form):
    if "csrf_token" in form and not form.csrf_token.validate(form):
        abort(400)
    try:
        marrow.register(
            current_user,
            weight_kg=None,
            answers=form.answers(),
            contacts=[],
            preferences={},
            health_consent=False,
            registry_consent=False,
        )
    except marrow.Deferred as deferred:
        db.session.commit()  # the audit line saying "deferred", and nothing else
        return render_template("donors/marrow_deferred.html", reason=deferred.deferral.reason)
    except marrow.MarrowError:
        db.session.rollback()
    abort(400)


def _show_error(form, exc) -> None:
    field = {
        "weight": "weight",
        "health_consent": "health_consent",
        "registry_consent": "registry_consent",
    }.get(exc.field or "")
    if field:
        form[field].errors = [*form[field].errors, str(exc.message)]
    else:
        form.form_errors.append(str(exc.message))


def _status_page(reg, status=200):
    booking = marrow.active_booking(reg)
    sessions = marrow.sessions_for(reg) if reg.status == marrow.CONFIRMED else []
    return _page(
        reg=reg,
        booking=booking,
        sessions=sessions,
        in_cooling_off=marrow.in_cooling_off(reg),
        action_form=ActionForm(),
    ), status


@bp.route("/withdraw", methods=["GET", "POST"])
@login_required
def withdraw():
    reg = marrow.current_registration(current_user)
    if reg is None:
        abort(404)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            marrow.withdraw(reg, current_user, form.reason.data)
        except marrow.MarrowError as exc:
            db.session.rollback()
            flash(str(exc.message), "warning")
        else:
            db.session.commit()
            flash(
                _("Your registration is withdrawn and your health answers are deleted."), "success"
            )
        return redirect(url_for(".register"))
    return render_template(
        "donors/marrow_withdraw.html", reg=reg, form=form, in_cooling_off=marrow.in_cooling_off(reg)
    )


@bp.post("/sessions/<int:session_id>/book")
@login_required
def book(session_id: int):
    reg = marrow.current_registration(current_user)
    if reg is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        marrow.book(reg, session_id, current_user)
    except marrow.MarrowError as exc:
        db.session.rollback()
        flash(str(exc.message), "warning")
    else:
        db.session.commit()
        flash(_("Your appointment is booked. We have sent you the details by SMS."), "success")
    return redirect(url_for(".register"))


@bp.post("/appointment/cancel")
@login_required
def cancel():
    reg = marrow.current_registration(current_user)
    if reg is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        marrow.cancel_booking(reg, current_user)
    except marrow.MarrowError as exc:
        db.session.rollback()
        flash(str(exc.message), "warning")
    else:
        db.session.commit()
        flash(_("Your appointment is cancelled. You can book another one."), "success")
    return redirect(url_for(".register"))
