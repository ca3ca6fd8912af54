"""Registering, logging in (password or SMS code) and logging out."""

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal.accounts import bp, services
from portal.accounts.auth import end_login, start_login
from portal.accounts.flows import (
    LOGIN_CODE_PHONE,
    LOGIN_NEXT,
    REGISTER_PHONE,
    after_login_target,
    send_code_step,
    verify_step_context,
)
from portal.accounts.forms import CodeForm, LoginCodePhoneForm, LoginForm, RegisterVerifyForm
from portal.accounts.smscodes import CodeError, CodeExpired
from portal.accounts.throttle import login_throttle, sms_limits
from portal.extensions import db
from portal.security import is_safe_next


def _safe_next_arg() -> str:
    target = request.args.get("next")
    return target if is_safe_next(target) else ""


@bp.route("/register", methods=["GET", "POST"])
@sms_limits(REGISTER_PHONE)
def register():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("accounts.profile"))
    return send_code_step(
        "register", REGISTER_PHONE, "accounts/register.html", "accounts.register_verify"
    )


@bp.route("/register/verify", methods=["GET", "POST"])
def register_verify():
    phone = session.get(REGISTER_PHONE)
    if not phone:
        return redirect(url_for("accounts.register"))
    form = RegisterVerifyForm()
    form.account_phone = phone
    if form.validate_on_submit():
        try:
            user = services.register_user(phone, form.code.data, form.password.data)
        except CodeError as exc:
            db.session.commit()  # keep the spent try
            form.code.errors.append(exc.message)
        except services.PasswordRejected as exc:
            form.password.errors.extend(exc.problems)
        except IntegrityError:
            # Two registrations of one number raced; the other one won.
            db.session.rollback()
            form.code.errors.append(CodeExpired.message)
        else:
            session.pop(REGISTER_PHONE, None)
            start_login(user, "register")
            db.session.commit()
            flash(
                _("Welcome! Your account is ready. Next, please add your real-name profile."),
                "success",
            )
            return redirect(url_for("accounts.edit_profile"))
    return render_template(
        "accounts/register_verify.html", form=form, **verify_step_context(REGISTER_PHONE)
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = _safe_next_arg()
    password_paused = False
    if form.validate_on_submit():
        throttle = login_throttle("password", form.normalised_phone)
        throttle.check()
        password_paused = throttle.password_paused()
        if not password_paused:
            try:
                user = services.authenticate_password(form.normalised_phone, form.password.data)
            except services.WrongCredentials as exc:
                if throttle.failed():
                    services.record_password_login_paused(form.normalised_phone)
                db.session.commit()  # keep the "login_failed" audit entry
                form.form_errors.append(exc.message)
            except services.AccountError as exc:
                db.session.commit()
                form.form_errors.append(exc.message)
            else:
                throttle.succeeded()
                start_login(user, "password")
                db.session.commit()
                return redirect(after_login_target(form.next.data))
    return render_template("accounts/login.html", form=form, password_paused=password_paused)


@bp.route("/login/code", methods=["GET", "POST"])
@sms_limits(LOGIN_CODE_PHONE)
def login_code():
    form = LoginCodePhoneForm()
    if request.method == "GET":
        form.next.data = _safe_next_arg()

    def keep_next(form):
        if is_safe_next(form.next.data):
            session[LOGIN_NEXT] = form.next.data
        else:
            session.pop(LOGIN_NEXT, None)

    return send_code_step(
        "login",
        LOGIN_CODE_PHONE,
        "accounts/login_code.html",
        "accounts.login_code_verify",
        form=form,
        on_sent=keep_next,
    )


@bp.route("/login/code/verify", methods=["GET", "POST"])
def login_code_verify():
    phone = session.get(LOGIN_CODE_PHONE)
    if not phone:
        return redirect(url_for("accounts.login_code"))
    form = CodeForm()
    if form.validate_on_submit():
        # Per client only: however many wrong passwords strangers typed for this
        # number, whoever holds the phone can log in with its code.
        throttle = login_throttle("sms_code", phone)
        throttle.check()
        try:
            user = services.authenticate_code(phone, form.code.data)
        except CodeError as exc:
            throttle.failed()
            db.session.commit()  # keep the spent try and the audit entry
            form.code.errors.append(exc.message)
        except services.AccountError as exc:
            db.session.commit()
            form.form_errors.append(exc.message)
        else:
            throttle.succeeded()
            session.pop(LOGIN_CODE_PHONE, None)
            target = session.pop(LOGIN_NEXT, None)
            start_login(user, "sms_code")
            db.session.commit()
            return redirect(after_login_target(target))
    return render_template(
        "accounts/login_code_verify.html", form=form, **verify_step_context(LOGIN_CODE_PHONE)
    )


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        # The goodbye message travels in a fresh visitor cookie, in the default look.
        end_login(current_user._get_current_object())
        db.session.commit()
        refresh()  # the goodbye in the language the next person sees, not the account's
        flash(_("You have logged out."), "success")
    return redirect(url_for("main.index"))


from portal.accounts import password_views, session_views  # noqa: E402,F401
