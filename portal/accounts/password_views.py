"""Forgotten password (by SMS code) and changing the password while logged in."""

from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from portal.accounts import bp, services
from portal.accounts.flows import RESET_PHONE, restart_session, send_code_step, verify_step_context
from portal.accounts.forms import ChangePasswordForm, ResetVerifyForm
from portal.accounts.smscodes import CodeError
from portal.accounts.throttle import password_check_limits, sms_limits
from portal.extensions import db


@bp.route("/reset", methods=["GET", "POST"])
@sms_limits(RESET_PHONE)
def reset_password():
    return send_code_step("reset", RESET_PHONE, "accounts/reset.html", "accounts.reset_verify")


@bp.route("/reset/verify", methods=["GET", "POST"])
def reset_verify():
    phone = session.get(RESET_PHONE)
    if not phone:
        return redirect(url_for("accounts.reset_password"))
    form = ResetVerifyForm()
    form.account_phone = phone
    if form.validate_on_submit():
        try:
            services.reset_password(phone, form.code.data, form.password.data)
        except CodeError as exc:
            db.session.commit()  # keep the spent try
            form.code.errors.append(exc.message)
        except services.PasswordRejected as exc:
            form.password.errors.extend(exc.problems)
        else:
            # Every session of the account has just ended, maybe this one too: start
            # this browser afresh, logged out, so nothing stale is left in it.
            if current_user.is_authenticated:
                logout_user()
            restart_session()
            db.session.commit()
            flash(_("Your new password is saved. Please log in with it."), "success")
            return redirect(url_for("accounts.login"))
    return render_template(
        "accounts/reset_verify.html", form=form, **verify_step_context(RESET_PHONE)
    )


@bp.route("/password", methods=["GET", "POST"])
@login_required
@password_check_limits
def change_password():
    form = ChangePasswordForm()
    form.account_phone = current_user.phone
    if form.validate_on_submit():
        try:
            ended = services.change_password(
                current_user._get_current_object(),
                form.current_password.data,
                form.password.data,
                keep_session_id=getattr(session, "row_id", None),
            )
        except services.WrongCurrentPassword as exc:
            form.current_password.errors.append(exc.message)
        except services.PasswordRejected as exc:
            form.password.errors.extend(exc.problems)
        else:
            # A new session id too, in case the old one had leaked.
            session.rotate()
            db.session.commit()
            if ended:
                flash(
                    _(
                        "Your password has been changed. You were logged out on your other "
                        "phones and computers."
                    ),
                    "success",
                )
            else:
                flash(_("Your password has been changed."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/change_password.html", form=form)
