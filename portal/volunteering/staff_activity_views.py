"""Staff pages for volunteer service under /admin/volunteering/: activities and shifts
of the staff member's scope, the check-in QR screen, rosters (hand check-in/out,
hours confirmation and adjustment), exports and the hours ranking. Admins and officers
only; anything outside their scope answers 404; every change is audited."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from wtforms import SubmitField

from portal import audit
from portal.branches.models import Branch
from portal.branches.scope import (
    REVIEW_ROLES,
    acting_role,
    get_branch_in_scope_or_404,
    get_in_scope_or_404,
    in_scope,
    scoped_branch_ids,
    top_grants,
)
from portal.cards.services import qr_svg
from portal.exports import export_response
from portal.extensions import db
from portal.ids import as_id, page_arg
from portal.permissions import staff_required
from portal.review.services import ReviewError
from portal.textcheck import search_text
from portal.timeutil import local_to_utc, to_local, today_local
from portal.training.catalogue import certifying_courses
from portal.volunteering import (
    activities,
    certificates,
    checkin,
    claims,  # noqa: F401  (registers the review kind)
    hours,
    notices,
    ranking,
    staff,
    staff_bp,
)
from portal.volunteering.activities import ActivityDetails, shift_times
from portal.volunteering.models import Volunteer
from portal.volunteering.service_forms import (
    ActionForm,
    ActivityForm,
    AdjustForm,
    HandCheckForm,
    ReasonForm,
    ShiftForm,
    quarter_minutes,
)
from portal.volunteering.service_models import (
    ACTIVITY_STATES,
    HOURS_PENDING,
    SIGNED_UP,
    ServiceCertificate,
    ShiftSignup,
    VolunteerActivity,
    VolunteerShift,
)
from portal.volunteering.services import SERVICE_AREAS
from portal.volunteering.stars import hours_text

PAGE_SIZE = 25
BRANCH_CHOICES_MAX = 300


def _activity_or_404(activity_id: int) -> VolunteerActivity:
    return get_in_scope_or_404(VolunteerActivity, activity_id, current_user, REVIEW_ROLES)


def _shift_or_404(shift_id: int) -> VolunteerShift:
    return get_in_scope_or_404(VolunteerShift, shift_id, current_user, REVIEW_ROLES)


def _signup_or_404(signup_id: int) -> ShiftSignup:
    return get_in_scope_or_404(ShiftSignup, signup_id, current_user, REVIEW_ROLES)


@staff_bp.get("/activities")
@staff_required(REVIEW_ROLES)
def activities_list():
    state = request.args.get("state") if request.args.get("state") in ACTIVITY_STATES else ""
    stmt = activities.staff_activities(current_user, state)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page_arg(), pages)
    items = list(db.session.scalars(stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return render_template(
        "volunteering/staff_activities.html",
        items=items,
        state=state,
        states=activities.STATE_LABELS,
        page=page,
        pages=pages,
        total=total,
    )


def _branch_choices() -> list[tuple[str, str]]:
    locale = str(get_locale())
    branches = db.session.scalars(
        select(Branch)
        .where(
            Branch.id.in_(scoped_branch_ids(current_user, REVIEW_ROLES)),
            Branch.closed_at.is_(None),
            Branch.level != "national",
        )
        .order_by(Branch.path)
        .limit(BRANCH_CHOICES_MAX)
    )
    return [(str(b.id), b.name(locale)) for b in branches]


def _activity_form(activity: VolunteerActivity | None = None) -> ActivityForm:
    data = None
    if activity is not None and request.method == "GET":
        deadline = to_local(activity.signup_deadline)
        data = {
            "branch": str(activity.branch_id),
            "team": str(activity.team_id or ""),
            "team_only": activity.team_only,
            "title": activity.title,
            "description": activity.description,
            "service_area": activity.service_area,
            "address": activity.address,
            "min_age": activity.min_age,
            "required_course": str(activity.required_course_id or ""),
            "deadline_date": deadline.date(),
            "deadline_time": deadline.time().replace(second=0, microsecond=0),
            "contact_name": activity.contact_name,
            "contact_phone": activity.contact_phone,
        }
    form = ActivityForm(data=data)
    if activity is None:
        form.branch.choices = _branch_choices()
    else:
        form.branch.choices = [(str(activity.branch_id), activity.branch.name(str(get_locale())))]
    locale = str(get_locale())
    form.team.choices = [("", _("No team"))] + [
        (str(t.id), f"{t.name} ({t.branch.name(locale)})")
        for t in staff.teams_in_scope(current_user)
    ]
    form.required_course.choices = [("", _("No certificate needed"))] + [
        (str(course.id), course.title(locale)) for course in certifying_courses()
    ]
    return form


def _details(form: ActivityForm) -> ActivityDetails:
    return ActivityDetails(
        title=form.title.data,
        description=form.description.data,
        service_area=form.service_area.data,
        address=form.address.data,
        signup_deadline=local_to_utc(form.deadline_date.data, form.deadline_time.data),
        contact_name=form.contact_name.data,
        contact_phone=form.contact_phone.data,
        min_age=form.min_age.data,
        team_id=as_id(form.team.data),
        team_only=bool(form.team_only.data),
        required_course_id=as_id(form.required_course.data),
    )


@staff_bp.route("/activities/new", methods=["GET", "POST"])
@staff_required(REVIEW_ROLES)
def new_activity():
    form = _activity_form()
    if form.validate_on_submit():
        branch = get_branch_in_scope_or_404(form.branch.data, current_user, REVIEW_ROLES)
        try:
            activity = activities.create_activity(current_user, branch, _details(form))
        except ReviewError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The activity has been saved as a draft. Add its shifts."), "success")
            return redirect(url_for(".staff_activity", activity_id=activity.id))
    return render_template("volunteering/staff_activity_form.html", form=form, activity=None)


@staff_bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@staff_required(REVIEW_ROLES)
def edit_activity(activity_id: int):
    activity = _activity_or_404(activity_id)
    form = _activity_form(activity)
    if form.validate_on_submit():
        try:
            activities.update_activity(current_user, activity, _details(form))
        except ReviewError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The activity has been saved."), "success")
            return redirect(url_for(".staff_activity", activity_id=activity.id))
    return render_template("volunteering/staff_activity_form.html", form=form, activity=activity)


def _render_activity(activity, shift_form=None, reason_form=None, status=200):
    return (
        render_template(
            "volunteering/staff_activity.html",
            activity=activity,
            area=SERVICE_AREAS.get(activity.service_area, activity.service_area),
            state=activities.STATE_LABELS[activity.status],
            shift_form=shift_form or ShiftForm(formdata=None),
            reason_form=reason_form or ReasonForm(formdata=None),
            form=ActionForm(formdata=None),
        ),
        status,
    )


@staff_bp.get("/activities/<int:activity_id>")
@staff_required(REVIEW_ROLES)
def staff_activity(activity_id: int):
    return _render_activity(_activity_or_404(activity_id))


@staff_bp.post("/activities/<int:activity_id>/shifts")
@staff_required(REVIEW_ROLES)
def add_shift(activity_id: int):
    activity = _activity_or_404(activity_id)
    form = ShiftForm()
    if form.validate_on_submit():
        starts, ends = shift_times(form.day.data, form.start.data, form.end.data)
        try:
            activities.add_shift(current_user, activity, starts, ends, form.capacity.data)
        except ReviewError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The shift has been added."), "success")
            return redirect(url_for(".staff_activity", activity_id=activity.id))
    return _render_activity(activity, shift_form=form)


def _simple_action(activity_id: int, action, done: str):
    activity = _activity_or_404(activity_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        action(current_user, activity)
    except ReviewError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
    else:
        db.session.commit()
        flash(done, "success")
    return redirect(url_for(".staff_activity", activity_id=activity.id))


@staff_bp.post("/activities/<int:activity_id>/publish")
@staff_required(REVIEW_ROLES)
def publish_activity(activity_id: int):
    return _simple_action(activity_id, activities.publish, _("The activity is published."))


@staff_bp.post("/activities/<int:activity_id>/finish")
@staff_required(REVIEW_ROLES)
def finish_activity(activity_id: int):
    return _simple_action(activity_id, activities.finish, _("The activity is marked finished."))


@staff_bp.post("/activities/<int:activity_id>/cancel")
@staff_required(REVIEW_ROLES)
def cancel_activity(activity_id: int):
    activity = _activity_or_404(activity_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            withdrawn = activities.cancel(current_user, activity, form.reason.data)
            for signup in withdrawn:
                notices.cancelled(signup, form.reason.data)
        except ReviewError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(
                _("The activity is cancelled; %(n)d volunteers will be told.", n=len(withdrawn)),
                "success",
            )
            return redirect(url_for(".staff_activity", activity_id=activity.id))
    return _render_activity(activity, reason_form=form)


@staff_bp.post("/shifts/<int:shift_id>/remove")
@staff_required(REVIEW_ROLES)
def remove_shift(shift_id: int):
    shift = _shift_or_404(shift_id)
    activity_id = shift.activity_id
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        activities.remove_shift(current_user, shift)
    except ReviewError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
    else:
        db.session.commit()
        flash(_("The shift has been removed."), "success")
    return redirect(url_for(".staff_activity", activity_id=activity_id))


# --- check-in screen and roster ----------------------------------------------------------


@staff_bp.get("/shifts/<int:shift_id>/qr")
@staff_required(REVIEW_ROLES)
def shift_qr(shift_id: int):
    """The code volunteers scan. The page reloads itself (meta refresh, no JavaScript)
    when its 30-second window ends, showing the next code."""
    import time

    shift = _shift_or_404(shift_id)
    action = checkin.OUT if request.args.get("mode") == "out" else checkin.IN
    now = time.time()
    token = checkin.make_token(shift.id, action, now)
    url = url_for("volunteering.check", shift_id=shift.id, t=token, _external=True)
    refresh = checkin.WINDOW_SECONDS - int(now) % checkin.WINDOW_SECONDS
    return render_template(
        "volunteering/staff_qr.html",
        shift=shift,
        action=action,
        qr=qr_svg(url),
        refresh=max(1, refresh),
        checked_in=_count(shift, ShiftSignup.checked_in_at.is_not(None)),
        checked_out=_count(shift, ShiftSignup.checked_out_at.is_not(None)),
    )


def _count(shift, condition) -> int:
    return db.session.scalar(
        select(func.count()).where(
            ShiftSignup.shift_id == shift.id, ShiftSignup.status == SIGNED_UP, condition
        )
    )


def _roster(shift) -> list[ShiftSignup]:
    return list(
        db.session.scalars(
            select(ShiftSignup)
            .where(ShiftSignup.shift_id == shift.id, ShiftSignup.status == SIGNED_UP)
            .options(
                joinedload(ShiftSignup.volunteer).joinedload(Volunteer.user),
                joinedload(ShiftSignup.hours),
            )
            .order_by(ShiftSignup.created_at, ShiftSignup.id)
        ).unique()
    )


def _hand_form(signup_id: int, **kw) -> HandCheckForm:
    # One form per row, each with its own prefix: unique ids and labels on the page.
    return HandCheckForm(prefix=f"c{signup_id}", **kw)


def _adjust_form(signup_id: int, **kw) -> AdjustForm:
    return AdjustForm(prefix=f"a{signup_id}", **kw)


@staff_bp.get("/shifts/<int:shift_id>/roster")
@staff_required(REVIEW_ROLES)
def roster(shift_id: int, submitted=None, form_for=None):
    shift = _shift_or_404(shift_id)
    day = to_local(shift.starts_at).date()
    rows = _roster(shift)
    hand_forms = {s.id: _hand_form(s.id, formdata=None, day=day) for s in rows}
    adjust_forms = {s.id: _adjust_form(s.id, formdata=None) for s in rows}
    if submitted is not None:
        (hand_forms if isinstance(submitted, HandCheckForm) else adjust_forms)[form_for] = submitted
    return render_template(
        "volunteering/staff_roster.html",
        shift=shift,
        signups=rows,
        hand_forms=hand_forms,
        adjust_forms=adjust_forms,
        form_for=form_for,
        form=ActionForm(formdata=None),
        hours_text=hours_text,
        status_labels=hours.HOURS_STATUS_LABELS,
    )


@staff_bp.post("/sign-ups/<int:signup_id>/check")
@staff_required(REVIEW_ROLES)
def check_by_hand(signup_id: int):
    signup = _signup_or_404(signup_id)
    form = _hand_form(signup.id)
    if form.validate_on_submit():
        at = local_to_utc(form.day.data, form.at.data)
        try:
            checkin.check_by_hand(current_user, signup, form.action.data, at)
        except ReviewError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Recorded."), "success")
            return redirect(url_for(".roster", shift_id=signup.shift_id))
    return roster(signup.shift_id, submitted=form, form_for=signup.id), 200


@staff_bp.post("/shifts/<int:shift_id>/confirm")
@staff_required(REVIEW_ROLES)
def confirm_hours(shift_id: int):
    shift = _shift_or_404(shift_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    chosen = {as_id(v) for v in request.form.getlist("entry")} - {None}
    entries = [
        s.hours
        for s in _roster(shift)
        if s.hours is not None
        and s.hours.status == HOURS_PENDING
        and (not chosen or s.hours.id in chosen)
    ]
    try:
        done = hours.confirm(current_user, entries, shift.activity.branch)
    except ReviewError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
    else:
        db.session.commit()
        flash(_("%(n)d entries confirmed.", n=done), "success")
    return redirect(url_for(".roster", shift_id=shift.id))


@staff_bp.post("/sign-ups/<int:signup_id>/adjust")
@staff_required(REVIEW_ROLES)
def adjust_hours(signup_id: int):
    signup = _signup_or_404(signup_id)
    if signup.hours is None:
        abort(404)
    form = _adjust_form(signup.id)
    if form.validate_on_submit():
        minutes = quarter_minutes(form.hours.data)
        if minutes is None:
            form.hours.errors = [*form.hours.errors, _("Please give hours in quarter hours.")]
        else:
            try:
                hours.adjust(
                    current_user,
                    signup.hours,
                    minutes,
                    form.reason.data,
                    signup.shift.activity.branch,
                )
            except ReviewError as exc:
                db.session.rollback()
                form.form_errors.append(str(exc))
            else:
                db.session.commit()
                flash(_("The hours have been changed."), "success")
                return redirect(url_for(".roster", shift_id=signup.shift_id))
    return roster(signup.shift_id, submitted=form, form_for=signup.id), 200


def _fmt() -> str:
    return "xlsx" if request.args.get("format") == "xlsx" else "csv"


@staff_bp.get("/shifts/<int:shift_id>/export")
@staff_required(REVIEW_ROLES)
def export_roster(shift_id: int):
    shift = _shift_or_404(shift_id)
    audit.record(
        "volunteer_roster_exported",
        actor=current_user,
        actor_role=acting_role(current_user, shift.branch, REVIEW_ROLES),
        branch_id=shift.activity.branch_id,
        object_kind="volunteer_shift",
        object_id=shift.id,
    )
    db.session.commit()
    header = [
        _("Volunteer number"),
        _("Name"),
        _("Checked in"),
        _("Checked out"),
        _("Hours"),
        _("Hours status"),
    ]
    rows = []
    for s in _roster(shift):
        profile = s.volunteer.user.profile
        entry = s.hours
        rows.append(
            (
                s.volunteer.number,
                profile.full_name if profile else "",
                to_local(s.checked_in_at).strftime("%Y-%m-%d %H:%M") if s.checked_in_at else "",
                to_local(s.checked_out_at).strftime("%Y-%m-%d %H:%M") if s.checked_out_at else "",
                hours_text(entry.minutes) if entry else "",
                str(hours.HOURS_STATUS_LABELS[entry.status]) if entry else "",
            )
        )
    return export_response(_fmt(), f"roster-{shift.id}", header, rows, title=_("Roster"))


# --- hours ranking -----------------------------------------------------------------------


CHILDREN_MAX = 200


def _ranking_branch() -> Branch:
    value = request.args.get("branch")
    if value:
        return get_branch_in_scope_or_404(value, current_user, REVIEW_ROLES)
    tops = top_grants(current_user, REVIEW_ROLES)
    if not tops:
        abort(404)
    return db.session.get(Branch, tops[0].branch_id)


@staff_bp.get("/hours")
@staff_required(REVIEW_ROLES)
def hours_ranking():
    branch = _ranking_branch()
    year = today_local().year
    rows = ranking.ranking(branch, year)
    children = db.session.scalars(
        select(Branch)
        .where(Branch.parent_id == branch.id, Branch.closed_at.is_(None))
        .order_by(Branch.path)
        .limit(CHILDREN_MAX)
    )
    parent = branch.parent if in_scope(current_user, branch.parent, REVIEW_ROLES) else None
    return render_template(
        "volunteering/staff_hours.html",
        branch=branch,
        year=year,
        rows=rows,
        hours_text=hours_text,
        children=list(children),
        parent=parent,
    )


@staff_bp.get("/hours/export")
@staff_required(REVIEW_ROLES)
def export_hours():
    branch = _ranking_branch()
    year = today_local().year
    audit.record(
        "volunteer_hours_exported",
        actor=current_user,
        actor_role=acting_role(current_user, branch, REVIEW_ROLES),
        branch_id=branch.id,
        object_kind="branch",
        object_id=branch.id,
        changes={"year": year},
    )
    db.session.commit()
    locale = str(get_locale())
    header = [_("Rank"), _("Volunteer number"), _("Name"), _("Branch"), _("Hours this year")]
    rows = [
        (i, r.number, r.full_name or "", r.branch_name(locale), hours_text(r.minutes))
        for i, r in enumerate(ranking.ranking(branch, year, limit=10_000), 1)
    ]
    return export_response(_fmt(), f"volunteer-hours-{year}", header, rows, title=_("Hours"))


# --- certificates ------------------------------------------------------------------------


class RevokeForm(ReasonForm):
    submit = SubmitField(_l("Revoke the certificate"))


@staff_bp.get("/certificates")
@staff_required(REVIEW_ROLES)
def certificate_lookup(form=None):
    number = search_text(request.args.get("number"), 40)
    found = certificates.find_for_staff(current_user, number) if number else None
    return render_template(
        "volunteering/staff_certificate.html",
        number=number,
        certificate=found,
        hours_text=hours_text,
        form=form or RevokeForm(formdata=None),
    )


@staff_bp.post("/certificates/<int:certificate_id>/revoke")
@staff_required(REVIEW_ROLES)
def revoke_certificate(certificate_id: int):
    certificate = get_in_scope_or_404(
        ServiceCertificate, certificate_id, current_user, REVIEW_ROLES
    )
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            certificates.revoke(current_user, certificate, form.reason.data)
        except ReviewError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The certificate has been revoked."), "success")
            return redirect(url_for(".certificate_lookup", number=certificate.number))
    return render_template(
        "volunteering/staff_certificate.html",
        number=certificate.number,
        certificate=certificate,
        hours_text=hours_text,
        form=form,
    )
