"""Staff pages for donors: marrow and organ registrants of their scope (lists without
health data; opening a record is logged as a view of sensitive data), recording the
later marrow steps, sample sessions with their rosters, and exports that mask ID numbers
and keep the stated purpose in the audit log. Outside the scope: 404."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import audit
from portal.branches.models import Branch
from portal.branches.scope import (
    REVIEW_ROLES,
    acting_role,
    can_review,
    get_branch_in_scope_or_404,
    get_in_scope_or_404,
    in_scope,
    scoped_branch_ids,
)
from portal.donors import marrow, organ, staff_bp
from portal.donors.forms import ActionForm, SessionForm, StepForm
from portal.donors.models import (
    MARROW_STATUSES,
    REGISTERED,
    WITHDRAWN,
    MarrowRegistration,
    OrganRegistration,
    SampleSession,
)
from portal.donors.staff_query import page_of, registrations_query, roster, sessions_query
from portal.exports import export_response
from portal.extensions import db
from portal.ids import page_arg
from portal.permissions import staff_required
from portal.textcheck import has_hidden_characters, search_text
from portal.timeutil import local_to_utc, to_local, utcnow

PURPOSE_MAX = 200
BRANCH_CHOICES_MAX = 300
MARROW_FIELDS = (
    "full_name",
    "doc_number_masked",
    "phone",
    "marrow_health",
    "marrow_contacts",
    "marrow_preferences",
)
ORGAN_FIELDS = ("full_name", "doc_number_masked", "phone", "organ_choices", "organ_family")
ROSTER_FIELDS = ("full_name", "doc_number_masked", "phone_masked")


def _locale() -> str:
    return str(get_locale())


def _export_purpose() -> tuple[str | None, str | None]:
    """(purpose, error) of an export request: a purpose is required, plain, short."""
    raw = request.args.get("purpose") or ""
    purpose = search_text(raw, PURPOSE_MAX + 1)
    if not purpose:
        return None, _("Please say why you need this download; the audit log keeps it.")
    if len(purpose) > PURPOSE_MAX or has_hidden_characters(raw):
        return None, _("Please type at most %(max)d characters.", max=PURPOSE_MAX)
    return purpose, None


def _fmt() -> str:
    return "xlsx" if request.args.get("format") == "xlsx" else "csv"


@staff_bp.get("/")
@staff_required()
def index():
    return render_template("donors/staff_index.html")


# --- marrow registrants ------------------------------------------------------------------


@staff_bp.get("/marrow/")
@staff_required()
def marrow_list():
    q = search_text(request.args.get("q"))
    status = request.args.get("status") or ""
    status = status if status in MARROW_STATUSES else ""
    stmt = registrations_query(MarrowRegistration, current_user, q, status)
    purpose_error = None
    if request.args.get("format"):
        purpose, purpose_error = _export_purpose()
        if purpose is not None:
            return _marrow_export(stmt, purpose)
    return render_template(
        "donors/staff_marrow_list.html",
        page=page_of(stmt, page_arg()),
        q=q,
        status=status,
        statuses=MARROW_STATUSES,
        marrow=marrow,
        args={"q": q or None, "status": status or None},
        purpose_error=purpose_error,
        purpose=request.args.get("purpose", "")[:PURPOSE_MAX],
    ), (200 if purpose_error is None else 400)


def _marrow_export(stmt, purpose: str):
    header = [
        _("Name"),
        _("ID number"),
        _("Phone"),
        _("Branch"),
        _("Status"),
        _("Registered on"),
        _("Blood sample taken"),
    ]
    locale = _locale()
    rows = [
        [
            r.user.profile.full_name if r.user.profile else "",
            r.user.profile.doc_number_masked if r.user.profile else "",
            r.user.masked_phone,
            r.branch.name(locale),
            marrow.status_label(r.status),
            r.registered_on.isoformat(),
            to_local(r.sampled_at).date().isoformat() if r.sampled_at else "",
        ]
        for r in db.session.scalars(stmt.limit(50_000)).unique()
    ]
    audit.record_for_person(
        "marrow_registrants_exported",
        current_user,
        actor=current_user,
        object_kind="marrow_registration",
        changes={"rows": len(rows), "purpose": purpose},
    )
    db.session.commit()
    return export_response(_fmt(), "marrow-registrants", header, rows, _("Marrow registrants"))


@staff_bp.get("/marrow/<int:registration_id>")
@staff_required()
def marrow_record(registration_id: int):
    reg = get_in_scope_or_404(MarrowRegistration, registration_id, current_user)
    page = _marrow_page(reg, StepForm(formdata=None))
    db.session.commit()
    return page


def _marrow_page(reg, form):
    booking = marrow.active_booking(reg)
    page = render_template(
        "donors/staff_marrow_record.html",
        reg=reg,
        marrow=marrow,
        booking=booking,
        roster_in_scope=booking is not None and in_scope(current_user, booking.session.branch),
        form=form,
        may_record=can_review(current_user, reg.branch)
        and reg.status in (marrow.CONFIRMED, marrow.SAMPLE_BOOKED, marrow.SAMPLED),
    )
    audit.sensitive_viewed(
        current_user,
        reg.user_id,
        MARROW_FIELDS,
        reg.branch_id,
        acting_role(current_user, reg.branch),
        via="marrow_registration",
        registration_id=reg.id,
    )
    return page


@staff_bp.post("/marrow/<int:registration_id>/step")
@staff_required(REVIEW_ROLES)
def marrow_step(registration_id: int):
    reg = get_in_scope_or_404(MarrowRegistration, registration_id, current_user, REVIEW_ROLES)
    form = StepForm()
    if form.validate_on_submit():
        try:
            marrow.record_step(
                reg,
                form.step.data,
                current_user,
                acting_role(current_user, reg.branch, REVIEW_ROLES),
            )
        except marrow.MarrowError as exc:
            db.session.rollback()
            form.step.errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("Recorded. The registrant has been told by SMS."), "success")
            return redirect(url_for(".marrow_record", registration_id=reg.id))
    page = _marrow_page(reg, form)
    db.session.commit()
    return page, 400


# --- organ / body registrants -----------------------------------------------------------


@staff_bp.get("/organ/")
@staff_required()
def organ_list():
    q = search_text(request.args.get("q"))
    status = request.args.get("status") or ""
    status = status if status in (REGISTERED, WITHDRAWN) else ""
    stmt = registrations_query(OrganRegistration, current_user, q, status)
    purpose_error = None
    if request.args.get("format"):
        purpose, purpose_error = _export_purpose()
        if purpose is not None:
            return _organ_export(stmt, purpose)
    return render_template(
        "donors/staff_organ_list.html",
        page=page_of(stmt, page_arg()),
        q=q,
        status=status,
        organ=organ,
        args={"q": q or None, "status": status or None},
        purpose_error=purpose_error,
        purpose=request.args.get("purpose", "")[:PURPOSE_MAX],
    ), (200 if purpose_error is None else 400)


def _organ_export(stmt, purpose: str):
    header = [_("Number"), _("Name"), _("ID number"), _("Branch"), _("Status"), _("Registered on")]
    locale = _locale()
    rows = [
        [
            r.number,
            r.user.profile.full_name if r.user.profile else "",
            r.user.profile.doc_number_masked if r.user.profile else "",
            r.branch.name(locale),
            organ.status_label(r.status),
            to_local(r.created_at).date().isoformat(),
        ]
        for r in db.session.scalars(stmt.limit(50_000)).unique()
    ]
    audit.record_for_person(
        "organ_registrants_exported",
        current_user,
        actor=current_user,
        object_kind="organ_registration",
        changes={"rows": len(rows), "purpose": purpose},
    )
    db.session.commit()
    return export_response(_fmt(), "organ-registrants", header, rows, _("Organ registrants"))


@staff_bp.get("/organ/<int:organ_id>")
@staff_required()
def organ_record(organ_id: int):
    reg = get_in_scope_or_404(OrganRegistration, organ_id, current_user)
    page = render_template("donors/staff_organ_record.html", reg=reg, organ=organ)
    audit.sensitive_viewed(
        current_user,
        reg.user_id,
        ORGAN_FIELDS,
        reg.branch_id,
        acting_role(current_user, reg.branch),
        via="organ_registration",
        organ_id=reg.id,
    )
    db.session.commit()
    return page


# --- sample sessions and rosters -------------------------------------------------------


def _branch_choices() -> list[tuple[str, str]]:
    locale = _locale()
    branches = db.session.scalars(
        select(Branch)
        .where(
            Branch.id.in_(scoped_branch_ids(current_user, REVIEW_ROLES)), Branch.closed_at.is_(None)
        )
        .order_by(Branch.path)
        .limit(BRANCH_CHOICES_MAX)
    )
    return [(str(b.id), b.name(locale)) for b in branches]


@staff_bp.get("/sessions/")
@staff_required()
def sessions():
    past = request.args.get("past") == "1"
    stmt = sessions_query(current_user, not past, utcnow())
    return render_template(
        "donors/staff_sessions.html",
        page=page_of(stmt, page_arg()),
        past=past,
        may_create=can_review(current_user),
    )


@staff_bp.route("/sessions/new", methods=["GET", "POST"])
@staff_required(REVIEW_ROLES)
def new_session():
    form = SessionForm()
    form.branch.choices = _branch_choices()
    if form.validate_on_submit():
        branch = get_branch_in_scope_or_404(form.branch.data, current_user, REVIEW_ROLES)
        starts = local_to_utc(form.day.data, form.starts.data)
        ends = local_to_utc(form.day.data, form.ends.data)
        try:
            session = marrow.create_session(
                branch,
                place=form.place.data,
                address=form.address.data,
                starts_at=starts,
                ends_at=ends,
                capacity=form.capacity.data,
                actor=current_user,
                role=acting_role(current_user, branch, REVIEW_ROLES),
            )
        except marrow.MarrowError as exc:
            db.session.rollback()
            target = {
                "starts_at": form.starts,
                "ends_at": form.ends,
                "capacity": form.capacity,
            }.get(exc.field)
            if target is not None:
                target.errors = [*target.errors, str(exc.message)]
            else:
                form.form_errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("The sample session is open for booking."), "success")
            return redirect(url_for(".session_roster", session_id=session.id))
    return render_template("donors/staff_session_form.html", form=form)


@staff_bp.get("/sessions/<int:session_id>")
@staff_required()
def session_roster(session_id: int):
    session = get_in_scope_or_404(SampleSession, session_id, current_user)
    bookings = roster(session)
    purpose_error = None
    if request.args.get("format"):
        purpose, purpose_error = _export_purpose()
        if purpose is not None:
            return _roster_export(session, bookings, purpose)
    page = render_template(
        "donors/staff_session.html",
        session=session,
        bookings=bookings,
        purpose_error=purpose_error,
        purpose=request.args.get("purpose", "")[:PURPOSE_MAX],
    )
    role = acting_role(current_user, session.branch)
    for booking in bookings:  # each person on screen, named without their data
        audit.sensitive_viewed(
            current_user,
            booking.registration.user_id,
            ROSTER_FIELDS,
            session.branch_id,
            role,
            via="sample_session",
            session_id=session.id,
        )
    db.session.commit()
    return page, (200 if purpose_error is None else 400)


@staff_bp.post("/sessions/<int:session_id>/cancel")
@staff_required(REVIEW_ROLES)
def cancel_session(session_id: int):
    session = get_in_scope_or_404(SampleSession, session_id, current_user, REVIEW_ROLES)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        n = marrow.cancel_session(
            session, current_user, acting_role(current_user, session.branch, REVIEW_ROLES)
        )
    except marrow.MarrowError as exc:
        db.session.rollback()
        flash(str(exc.message), "warning")
    else:
        db.session.commit()
        flash(_("The session is called off; %(n)d people have been told by SMS.", n=n), "success")
    return redirect(url_for(".session_roster", session_id=session.id))


def _roster_export(session, bookings, purpose: str):
    header = [_("Name"), _("ID number"), _("Phone"), _("Appointment"), _("Status")]
    labels = {"booked": _("Booked"), "attended": _("Sample taken"), "cancelled": _("Cancelled")}
    rows = []
    for b in bookings:
        user = b.registration.user
        rows.append(
            [
                user.profile.full_name if user.profile else "",
                user.profile.doc_number_masked if user.profile else "",
                user.masked_phone,
                to_local(session.starts_at).strftime("%Y-%m-%d %H:%M"),
                labels.get(b.status, b.status),
            ]
        )
    audit.record(
        "sample_roster_exported",
        actor=current_user,
        actor_role=acting_role(current_user, session.branch),
        branch_id=session.branch_id,
        object_kind="sample_session",
        object_id=session.id,
        changes={"rows": len(rows), "purpose": purpose},
    )
    db.session.commit()
    return export_response(_fmt(), f"sample-roster-{session.id}", header, rows, _("Roster"))
