"""The donor's trail: find a gift by receipt number, confirm with a code sent to the
donor's phone (or an organisation's credit code), then see where it went. A signed-in
donor sees their own gifts without a code. Lookups are throttled per visitor; the code
itself dies after a few wrong tries (accounts.smscodes)."""

from flask import abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts import smscodes
from portal.accounts.phone import mask_phone
from portal.accounts.throttle import mark_sms_queued, sms_resend_interval
from portal.donations import bp, labels, trail
from portal.donations.forms import TrailCodeForm, TrailLookupForm
from portal.donations.models import ORGANISATION, Donation
from portal.extensions import db, limiter
from portal.main.my_red_cross import Section, register_section
from portal.notifications.services import queue_sms

GRANTED = "donation_trail"  # ids of gifts this browser has proved it may see
PENDING = "donation_trail_pending"  # the gift waiting for its SMS code
KEEP = 10


def _grant(donation: Donation) -> None:
    ids = [i for i in session.get(GRANTED, []) if i != donation.id]
    session[GRANTED] = (ids + [donation.id])[-KEEP:]
    session.pop(PENDING, None)


def _may_see(donation: Donation) -> bool:
    return donation.id in session.get(GRANTED, []) or trail.owns(current_user, donation)


def _code_text(code: str, receipt: str) -> str:
    return _(
        "Your code to see where your gift %(receipt)s went is %(code)s. It works for "
        "10 minutes. Never tell anyone this code.",
        receipt=receipt,
        code=code,
    )


@bp.route("/trail", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def trail_lookup():
    form = TrailLookupForm()
    if form.validate_on_submit():
        donation = trail.find_gift(form.receipt.data)
        if donation is None:
            form.receipt.errors.append(_("No gift has this receipt number. Please check it."))
        elif trail.owns(current_user, donation):
            _grant(donation)
            return redirect(url_for(".trail_page", donation_id=donation.id))
        elif donation.donor_kind == ORGANISATION:
            if trail.credit_code_matches(donation, form.credit_code.data):
                _grant(donation)
                return redirect(url_for(".trail_page", donation_id=donation.id))
            form.credit_code.errors.append(
                _("This is not the credit code given with this gift. Please check it.")
            )
        elif not donation.donor_phone_enc:
            form.receipt.errors.append(
                _(
                    "No phone number was given with this gift, so no code can be sent. "
                    "Please ask the branch that received it."
                )
            )
        else:
            return _send_code(donation)
    return render_template("donations/trail_lookup.html", form=form)


def _send_code(donation: Donation):
    phone = donation.donor_phone
    session[PENDING] = donation.id
    try:
        # The same per-number slowdown as login codes: receipt numbers are public, so
        # typing them must not let anyone flood a donor's phone with codes.
        issued = smscodes.issue_code(phone, "donation", resend_interval=sms_resend_interval(phone))
    except smscodes.ResendTooSoon as exc:
        db.session.rollback()
        flash(str(exc.message), "warning")
        return redirect(url_for(".trail_code"))
    queue_sms(phone, _code_text(issued.code, donation.receipt_number), kind="donation_code")
    db.session.commit()
    mark_sms_queued(phone)
    return redirect(url_for(".trail_code"))


@bp.route("/trail/code", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def trail_code():
    donation = db.session.get(Donation, session.get(PENDING) or 0)
    if donation is None:
        return redirect(url_for(".trail_lookup"))
    form = TrailCodeForm()
    if form.validate_on_submit():
        try:
            smscodes.verify_code(donation.donor_phone, "donation", form.code.data)
        except smscodes.CodeError as exc:
            db.session.commit()  # the spent try counts
            form.code.errors.append(str(exc))
        else:
            db.session.commit()
            _grant(donation)
            return redirect(url_for(".trail_page", donation_id=donation.id))
    return render_template(
        "donations/trail_code.html",
        form=form,
        phone=mask_phone(donation.donor_phone),
        receipt=donation.receipt_number,
    )


@bp.get("/trail/<int:donation_id>")
def trail_page(donation_id: int):
    donation = db.session.get(Donation, donation_id)
    if donation is None or donation.is_reversal:
        abort(404)
    if not _may_see(donation):
        return redirect(url_for(".trail_lookup"))
    return render_template(
        "donations/trail.html", t=trail.trail_of(donation), labels=labels.helpers()
    )


@bp.get("/mine")
@login_required
def mine():
    return render_template(
        "donations/mine.html", gifts=trail.gifts_of(current_user), labels=labels.helpers()
    )


def _my_section(user):
    gifts = trail.gifts_of(user, limit=5)
    return {"gifts": gifts} if gifts else None


register_section(Section("donations", 50, "donations/_my_section.html", _my_section))
