"""Public activity pages: the listing (filter by place, service area and day; plain GET
forms, no JavaScript), an activity with its shifts, and signing up / cancelling."""

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.ids import as_id, page_arg
from portal.review.services import ReviewError
from portal.volunteering import activities, bp, notices, services, signups
from portal.volunteering.service_forms import ActionForm
from portal.volunteering.service_models import DRAFT, ShiftSignup, VolunteerActivity, VolunteerShift

PAGE_SIZE = 20


def _listing() -> activities.Listing:
    args = request.args
    place_id = as_id(args.get("place"))
    place = None
    if place_id is not None:  # one of the places offered, or none (no query: cached)
        place = next((p for p in activities.listing_places() if p.id == place_id), None)
    day = None
    try:
        day = date.fromisoformat(args.get("date") or "")
    except ValueError:
        day = None
    area = args.get("area") if args.get("area") in services.SERVICE_AREAS else ""
    return activities.Listing(place=place, area=area, day=day)


@bp.get("/activities")
def activity_list():
    listing = _listing()
    page = page_arg()
    # One more than a page says whether a next page exists: no count of the whole list.
    items = list(
        db.session.scalars(
            activities.public_activities(listing)
            .options(joinedload(VolunteerActivity.branch))
            .limit(PAGE_SIZE + 1)
            .offset((page - 1) * PAGE_SIZE)
        )
    )
    more = len(items) > PAGE_SIZE
    args = {
        k: v
        for k, v in {
            "place": listing.place.id if listing.place else None,
            "area": listing.area,
            "date": listing.day.isoformat() if listing.day else None,
        }.items()
        if v
    }
    return render_template(
        "volunteering/activities.html",
        items=items[:PAGE_SIZE],
        listing=listing,
        places=activities.listing_places(),
        areas=services.SERVICE_AREAS,
        page=page,
        more=more,
        filter_args=args,
    )


def _public_activity_or_404(activity_id: int) -> VolunteerActivity:
    activity = db.session.get(VolunteerActivity, activity_id)
    if activity is None or activity.status == DRAFT:
        abort(404)
    return activity


@bp.get("/activities/<int:activity_id>")
def activity(activity_id: int):
    item = _public_activity_or_404(activity_id)
    volunteer = services.volunteer_of(current_user) if current_user.is_authenticated else None
    mine = signups.signups_of_activity(item, volunteer)
    reasons = (
        {s.id: signups.why_not(volunteer, s) for s in item.shifts if s.id not in mine}
        if volunteer is not None
        else {}
    )
    return render_template(
        "volunteering/activity.html",
        activity=item,
        area=services.SERVICE_AREAS.get(item.service_area, item.service_area),
        state=activities.STATE_LABELS[item.status],
        map_url=activities.map_link(item),
        volunteer=volunteer,
        mine=mine,
        reasons=reasons,
        form=ActionForm(),
    )


@bp.post("/shifts/<int:shift_id>/sign-up")
@login_required
def sign_up(shift_id: int):
    shift = db.session.get(VolunteerShift, shift_id)
    if shift is None or shift.activity.status == DRAFT:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    volunteer = services.volunteer_of(current_user)
    try:
        signup = signups.sign_up(volunteer, shift)
        notices.signed_up(signup)
    except ReviewError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
    else:
        db.session.commit()
        flash(_("You are signed up. We will send you a reminder the day before."), "success")
    return redirect(url_for(".activity", activity_id=shift.activity_id))


@bp.post("/sign-ups/<int:signup_id>/cancel")
@login_required
def cancel_signup(signup_id: int):
    signup = db.session.get(ShiftSignup, signup_id)
    volunteer = services.volunteer_of(current_user)
    if signup is None or volunteer is None or signup.volunteer_id != volunteer.id:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    activity_id = signup.shift.activity_id
    try:
        signups.cancel(volunteer, signup)
    except ReviewError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
    else:
        db.session.commit()
        flash(
            _("Your sign-up has been cancelled and the seat is free for someone else."), "success"
        )
    return redirect(url_for(".activity", activity_id=activity_id))
