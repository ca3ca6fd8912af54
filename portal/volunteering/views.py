"""The citizen's volunteer pages: what volunteering is, the application, the card, and
the volunteer's own details."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.branches.models import Branch
from portal.cards.services import qr_svg
from portal.extensions import db
from portal.ids import as_id
from portal.main.my_red_cross import Section, register_section
from portal.review.services import ReviewError, notify_received
from portal.review.withdrawal import withdraw_and_say
from portal.volunteering import bp, services
from portal.volunteering.forms import ApplyForm, EditForm, WithdrawForm
from portal.volunteering.models import VolunteerApplication
from portal.volunteering.services import (
    ADULT_AGE,
    CODE_TEXTS,
    CODE_VERSION,
    GUARDIAN_TEXTS,
    GUARDIAN_VERSION,
    MIN_AGE,
    STATUS_LABELS,
    Details,
)


def _my_section(user) -> dict:
    return {
        "volunteer": services.volunteer_of(user),
        "pending": services.pending_application(user),
        "latest": services.latest_application(user),
        "form": WithdrawForm(),
        "status_labels": STATUS_LABELS,
    }


register_section(Section("volunteering", 30, "volunteering/_my_section.html", _my_section))


@bp.get("/")
def join():
    """What registered volunteering is, and where the visitor stands."""
    data = _my_section(current_user) if current_user.is_authenticated else None
    return render_template(
        "volunteering/join.html",
        data=data,
        areas=services.SERVICE_AREAS,
        code=CODE_TEXTS[CODE_VERSION],
        min_age=MIN_AGE,
    )


def _branch(user) -> Branch | None:
    """?branch=<id> when given (junk or a closed branch 404s), else the home branch."""
    value = request.args.get("branch")
    if value in (None, ""):
        return user.home_branch
    branch_id = as_id(value)
    branch = db.session.get(Branch, branch_id) if branch_id is not None else None
    if not services.can_receive(branch):
        abort(404)
    return branch


def _details(form) -> Details:
    return Details(
        service_areas=list(form.service_areas.data or []),
        availability=list(form.availability.data or []),
        skills=form.skills.data or None,
        languages=form.languages.data or None,
        emergency_name=form.emergency_name.data,
        emergency_relation=form.emergency_relation.data,
        emergency_phone=form.emergency_phone.phone,
        health=form.health.data or None,
    )


@bp.route("/apply", methods=["GET", "POST"])
@login_required
def apply():
    user = current_user
    if services.volunteer_of(user) is not None:
        return redirect(url_for(".card"))
    if services.pending_application(user) is not None:
        flash(_("You already have an application waiting."), "warning")
        return redirect(url_for("main.my_red_cross"))
    age = services.age_of(user)
    branch = _branch(user)
    if age is None or age < MIN_AGE:
        return render_template("volunteering/refused.html", age=age, min_age=MIN_AGE)
    minor = age < ADULT_AGE
    form = ApplyForm(minor=minor)
    if branch is not None and form.validate_on_submit():
        guardian = None
        if minor:
            guardian = {"name": form.guardian_name.data, "phone": form.guardian_phone.phone}
        try:
            application = services.apply(
                user,
                branch,
                _details(form),
                agreed_code=form.agree_code.data,
                guardian=guardian,
                guardian_consent=bool(form.guardian_consent.data),
                ip=request.remote_addr,
            )
        except ReviewError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            notify_received(application)
            db.session.commit()
            flash(_("Your application has been sent. The branch will reply by SMS."), "success")
            return redirect(url_for("main.my_red_cross"))
    return render_template(
        "volunteering/apply.html",
        form=form,
        branch=branch,
        minor=minor,
        code=CODE_TEXTS[CODE_VERSION],
        code_version=CODE_VERSION,
        guardian_text=GUARDIAN_TEXTS[GUARDIAN_VERSION],
    )


@bp.post("/applications/<int:application_id>/withdraw")
@login_required
def withdraw_application(application_id: int):
    application = db.session.get(VolunteerApplication, application_id)
    if application is None or application.user_id != current_user.id:
        abort(404)
    if not WithdrawForm().validate_on_submit():
        abort(400)
    withdraw_and_say(application, current_user)
    return redirect(url_for("main.my_red_cross"))


def _volunteer_or_404():
    volunteer = services.volunteer_of(current_user)
    if volunteer is None:
        abort(404)
    return volunteer


@bp.get("/card")
@login_required
def card():
    volunteer = _volunteer_or_404()
    url = url_for("cards.verify_token", token=volunteer.card_token, _external=True)
    return render_template(
        "volunteering/card.html",
        volunteer=volunteer,
        profile=volunteer.user.profile,
        status=STATUS_LABELS.get(volunteer.status, volunteer.status),
        qr=qr_svg(url),
        verify_url=url,
    )


@bp.route("/details", methods=["GET", "POST"])
@login_required
def edit():
    volunteer = _volunteer_or_404()
    if request.method == "GET":
        contact = volunteer.emergency_contact
        form = EditForm(
            data={
                "service_areas": volunteer.area_keys,
                "availability": volunteer.slot_keys,
                "skills": volunteer.skills,
                "languages": volunteer.languages,
                "emergency_name": contact["name"],
                "emergency_relation": contact["relation"],
                "emergency_phone": contact["phone"],
                "health": volunteer.health,
            }
        )
    else:
        form = EditForm()
        if form.validate_on_submit():
            try:
                services.update_details(volunteer, _details(form))
            except ReviewError as exc:
                db.session.rollback()
                form.form_errors.append(str(exc))
            else:
                db.session.commit()
                flash(_("Your volunteer details have been saved."), "success")
                return redirect(url_for("main.my_red_cross"))
    return render_template("volunteering/edit.html", form=form, volunteer=volunteer)
