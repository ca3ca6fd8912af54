"""The volunteer's service pages: landing from a check-in QR code, my service (hours,
stars, history), the offline hours claim, and service certificates."""

from datetime import date, datetime, timedelta

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts.identity import doc_type_label
from portal.cards.services import qr_svg
from portal.extensions import db
from portal.ids import page_arg
from portal.main.my_red_cross import Section, register_section
from portal.review.services import ReviewError
from portal.timeutil import today_local, utcnow
from portal.volunteering import bp, certificates, checkin, claims, hours, services, signups
from portal.volunteering.service_forms import CertificateForm, ClaimForm, quarter_minutes
from portal.volunteering.service_models import ServiceCertificate, VolunteerShift
from portal.volunteering.stars import STAR_HOURS, hours_text, progress

# A scan made before logging in is kept this long (the login may need an SMS code).
SCAN_KEPT = timedelta(minutes=10)
_SCAN_KEY = "shift_scan"


def _my_service_section(user) -> dict | None:
    volunteer = services.volunteer_of(user)
    if volunteer is None:
        return None
    summary = hours.summary(volunteer, today_local().year)
    return {
        "summary": summary,
        "stars": progress(summary.total),
        "upcoming": signups.my_signups(volunteer)[:3],
    }


@bp.app_template_filter("service_hours")
def service_hours_filter(minutes: int | None) -> str:
    """Whole minutes as hours for a page (exact: quarter hours show as .25/.5/.75)."""
    return hours_text(minutes or 0)


register_section(
    Section("volunteer_service", 31, "volunteering/_my_service_section.html", _my_service_section)
)


def _result(shift: VolunteerShift | None, ok: bool, message: str, status: int = 200):
    return (
        render_template("volunteering/check_result.html", shift=shift, ok=ok, message=message),
        status,
    )


def _perform(shift: VolunteerShift, scan: checkin.Scan):
    volunteer = services.volunteer_of(current_user)
    try:
        signup = checkin.check_by_scan(volunteer, shift, scan)
    except ReviewError as exc:
        db.session.rollback()
        return _result(shift, False, str(exc))
    db.session.commit()
    if scan.action == checkin.IN:
        return _result(shift, True, _("You are checked in. Thank you for serving!"))
    entry = signup.hours
    return _result(
        shift,
        True,
        _(
            "You are checked out: %(hours)s hours, waiting for the organiser to confirm.",
            hours=hours_text(entry.minutes if entry else 0),
        ),
    )


@bp.get("/check/<int:shift_id>")
def check(shift_id: int):
    """Where the QR code on the organiser's screen leads. The token is read first (an
    expired or forged one is refused whoever opens it); a visitor who must log in
    first has the scan kept in their session for SCAN_KEPT and finishes it after.
    A GET changes state here on purpose: the camera opens a link, and the token,
    signed, short-lived and bound to the shift, is what a form's CSRF token would be."""
    shift = db.session.get(VolunteerShift, shift_id)
    if shift is None:
        abort(404)
    try:
        scan = checkin.read_token(request.args.get("t", ""), shift_id)
    except ReviewError as exc:
        return _result(shift, False, str(exc))
    if not current_user.is_authenticated:
        session[_SCAN_KEY] = {
            "s": scan.shift_id,
            "a": scan.action,
            "at": utcnow().isoformat(),
        }
        flash(_("Please log in to finish checking in or out."), "info")
        return redirect(url_for("accounts.login", next=url_for(".check_resume")))
    return _perform(shift, scan)


@bp.get("/check/resume")
@login_required
def check_resume():
    kept = session.pop(_SCAN_KEY, None)
    if not isinstance(kept, dict):
        return redirect(url_for(".my_service"))
    try:
        scanned_at = datetime.fromisoformat(kept["at"])
        shift = db.session.get(VolunteerShift, int(kept["s"]))
        scan = checkin.Scan(int(kept["s"]), kept["a"])
    except (KeyError, TypeError, ValueError):
        return redirect(url_for(".my_service"))
    if shift is None or scan.action not in (checkin.IN, checkin.OUT):
        abort(404)
    if utcnow() - scanned_at > SCAN_KEPT:
        return _result(shift, False, str(checkin.MESSAGES["expired"]))
    return _perform(shift, scan)


def _volunteer_or_404():
    volunteer = services.volunteer_of(current_user)
    if volunteer is None:
        abort(404)
    return volunteer


@bp.get("/service")
@login_required
def my_service():
    volunteer = services.volunteer_of(current_user)
    if volunteer is None:
        return redirect(url_for(".join"))
    page = page_arg()
    summary = hours.summary(volunteer, today_local().year)
    entries, more = hours.history(volunteer, page)
    return render_template(
        "volunteering/my_service.html",
        volunteer=volunteer,
        summary=summary,
        stars=progress(summary.total),
        star_hours=STAR_HOURS,
        entries=entries,
        more=more,
        page=page,
        upcoming=signups.my_signups(volunteer),
        claims=claims.my_claims(volunteer),
        certificates=certificates.of_volunteer(volunteer),
        areas=services.SERVICE_AREAS,
        status_labels=hours.HOURS_STATUS_LABELS,
        year=today_local().year,
    )


@bp.route("/service/claim", methods=["GET", "POST"])
@login_required
def claim():
    volunteer = _volunteer_or_404()
    form = ClaimForm()
    if form.validate_on_submit():
        minutes = quarter_minutes(form.hours.data)
        if minutes is None:
            form.hours.errors = [*form.hours.errors, _("Please give hours in quarter hours.")]
        else:
            try:
                claims.claim_hours(
                    volunteer,
                    form.served_on.data,
                    minutes,
                    form.service_area.data,
                    form.what.data,
                    form.place.data,
                    form.witness.data,
                )
            except ReviewError as exc:
                db.session.rollback()
                form.form_errors.append(str(exc))
            else:
                db.session.commit()
                flash(_("Your claim has been sent to your branch."), "success")
                return redirect(url_for(".my_service"))
    return render_template("volunteering/claim.html", form=form, volunteer=volunteer)


@bp.route("/service/certificate", methods=["GET", "POST"])
@login_required
def new_certificate():
    volunteer = _volunteer_or_404()
    today = today_local()
    form = CertificateForm(
        data=None
        if request.method == "POST"
        else {"period_from": date(today.year, 1, 1), "period_to": today}
    )
    if form.validate_on_submit():
        try:
            certificate = certificates.issue(volunteer, form.period_from.data, form.period_to.data)
        except ReviewError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            return redirect(url_for(".certificate", certificate_id=certificate.id))
    return render_template("volunteering/certificate_form.html", form=form, volunteer=volunteer)


@bp.get("/service/certificates/<int:certificate_id>")
@login_required
def certificate(certificate_id: int):
    volunteer = _volunteer_or_404()
    found = db.session.get(ServiceCertificate, certificate_id)
    if found is None or found.volunteer_id != volunteer.id:
        abort(404)
    url = url_for("cards.verify_token", token=found.token, _external=True)
    return render_template(
        "volunteering/certificate.html",
        certificate=found,
        volunteer=volunteer,
        profile=volunteer.user.profile,
        doc_type=doc_type_label(volunteer.user.profile.doc_type) if volunteer.user.profile else "",
        areas=certificates.area_text(found),
        hours=hours_text(found.minutes),
        qr=qr_svg(url),
        verify_url=url,
    )
