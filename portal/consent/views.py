"""The privacy policy (any version, in the page's language) and the citizen's
"My consents" page, where each consent given can be withdrawn."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.consent import bp, policy
from portal.consent import services as consent
from portal.consent.forms import WithdrawConsentForm
from portal.consent.purposes import PURPOSES
from portal.extensions import db, limiter


@bp.get("/privacy")
def privacy():
    return _policy_page(policy.CURRENT)


@bp.get("/privacy/<version>")
def privacy_version(version: str):
    if version not in policy.VERSIONS:
        abort(404)
    return _policy_page(version)


def _policy_page(version: str):
    return render_template(
        "consent/privacy.html",
        version=version,
        effective=policy.VERSIONS[version],
        is_current=version == policy.CURRENT,
        versions=policy.VERSIONS,
        text_template=policy.template_for(version, str(get_locale())),
    )


@bp.get("/account/consents")
@login_required
def my_consents():
    latest = consent.latest_by_purpose(current_user)
    return render_template(
        "consent/my_consents.html",
        purposes=[p for p in PURPOSES.values() if p.listed_unasked or p.key in latest],
        latest=latest,
        history={key: consent.history(current_user, key) for key in latest},
        form=WithdrawConsentForm(),
    )


@bp.post("/account/consents/<purpose>/withdraw")
@login_required
@limiter.limit("30 per hour", key_func=lambda: f"consent:{current_user.get_id()}")
def withdraw(purpose: str):
    p = PURPOSES.get(purpose)
    if p is None:
        abort(404)
    form = WithdrawConsentForm()
    if not form.validate_on_submit():
        abort(400)
    if not consent.is_given(current_user, purpose, current_version=False):
        flash(_("This consent is not given, so there is nothing to withdraw."), "warning")
        return redirect(url_for(".my_consents"))
    if p.withdrawal_warning is not None and form.confirm.data != "yes":
        return render_template("consent/withdraw.html", purpose=p, form=form)
    consent.withdraw(current_user, purpose, ip=request.remote_addr)
    db.session.commit()
    flash(_("Your consent is withdrawn."), "success")
    return redirect(url_for(".my_consents"))
