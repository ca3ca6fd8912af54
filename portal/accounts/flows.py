"""Pieces the account views share: the "send me a code" step of the two-step forms,
safe redirects after login, and starting a clean session after a password reset.

The number being verified lives in the session between the two steps, never in a URL:
for a visitor that is the signed session cookie (HttpOnly, tamper-proof; it holds only
the number this browser typed), cleared when the flow ends.
"""

from flask import current_app, flash, redirect, render_template, request, session, url_for

from portal.accounts import services
from portal.accounts.forms import PhoneForm
from portal.accounts.phone import format_phone
from portal.accounts.smscodes import ResendTooSoon
from portal.accounts.throttle import mark_sms_queued, sms_resend_interval
from portal.extensions import db
from portal.security import is_safe_next

REGISTER_PHONE = "register_phone"
LOGIN_CODE_PHONE = "login_code_phone"
RESET_PHONE = "reset_phone"
LOGIN_NEXT = "login_next"
KEPT_PREFERENCES = ("locale", "care_mode")


def after_login_target(target: str | None) -> str:
    return target if is_safe_next(target) else url_for("accounts.profile")


def send_code_step(
    purpose: str, session_key: str, template: str, verify_endpoint: str, form=None, on_sent=None
):
    """Step 1 of a code flow: show the phone form; on a valid number (or a "resend"
    press on step 2, which reuses the number in the session) send the code and go
    to step 2. `on_sent(form)` may keep extra values in the session."""
    form = form if form is not None else PhoneForm()
    if request.method == "POST" and request.form.get("resend"):
        phone = session.get(session_key)
        if not phone:
            return redirect(url_for(request.endpoint))
        return _send(phone, purpose, session_key, verify_endpoint)
    if form.validate_on_submit():
        if on_sent is not None:
            on_sent(form)
        return _send(form.normalised_phone, purpose, session_key, verify_endpoint)
    if request.method == "GET" and session.get(session_key):
        # Back from step 2 with "use another number": show what they typed before.
        form.phone.data = format_phone(session[session_key])
    return render_template(template, form=form)


def _send(phone: str, purpose: str, session_key: str, verify_endpoint: str):
    session[session_key] = phone
    try:
        services.send_code(phone, purpose, resend_interval=sms_resend_interval(phone))
    except ResendTooSoon as exc:
        db.session.rollback()
        # The code sent a moment ago still works: let them type it in.
        flash(str(exc.message), "warning")
        return redirect(url_for(verify_endpoint))
    db.session.commit()
    mark_sms_queued(phone)
    return redirect(url_for(verify_endpoint))


def verify_step_context(session_key: str) -> dict:
    """What every step-2 page shows: the number the code went to."""
    minutes = int(current_app.config["SMS_CODE_TTL"].total_seconds() // 60)
    return {"phone": format_phone(session[session_key]), "code_minutes": minutes}


def restart_session() -> None:
    """Drop everything in this browser's session except language and care mode, on a
    new session id (a server-side one is revoked on save; what is left is a visitor's
    signed cookie)."""
    kept = {k: session[k] for k in KEPT_PREFERENCES if k in session}
    session.clear()
    session.update(kept)
    if hasattr(session, "rotate"):
        session.rotate()
