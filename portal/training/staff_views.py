"""Staff pages under /admin/training/: sessions of the staff member's scope, scheduling,
the roster (attendance per day, results, export), QR check-in, cancelling a session,
certificates and revocation. Admins and officers; outside the scope answers 404."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal import audit
from portal.accounts.phone import mask_phone
from portal.branches.models import Branch
from portal.branches.scope import (
    REVIEW_ROLES,
    acting_role,
    get_branch_in_scope_or_404,
    get_in_scope_or_404,
    in_scope,
    refuse_404,
    scope_clause,
    scoped_branch_ids,
)
from portal.exports import export_response
from portal.extensions import db
from portal.ids import as_id, page_arg
from portal.permissions import staff_required
from portal.textcheck import search_text
from portal.timeutil import to_local, utcnow
from portal.training import certificates, results, sessions, staff_bp
from portal.training.catalogue import active_courses
from portal.training.errors import TrainingError
from portal.training.forms import ConfirmForm, EditSessionForm, ReasonForm, SessionForm
from portal.training.labels import BOOKING_LABELS, OUTCOME_LABELS, RESTRICTION_LABELS
from portal.training.models import (
    ACTIVE_STATES,
    Booking,
    Certificate,
    ClassDay,
    ClassSession,
)

PAGE_SIZE = 25


def _locale() -> str:
    return str(get_locale())


@staff_bp.get("/")
@staff_required(REVIEW_ROLES)
def sessions_list():
    page = page_arg()
    past = request.args.get("past") == "1"
    now = utcnow()
    stmt = (
        select(ClassSession)
        .join(Branch, Branch.id == ClassSession.branch_id)
        .options(selectinload(ClassSession.days), selectinload(ClassSession.course))
        .where(scope_clause(current_user, REVIEW_ROLES))
    )
    if past:
        stmt = stmt.where(ClassSession.ends_at < now).order_by(ClassSession.starts_at.desc())
    else:
        stmt = stmt.where(ClassSession.ends_at >= now).order_by(ClassSession.starts_at)
    rows = list(
        db.session.scalars(
            stmt.order_by(ClassSession.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
        )
    )
    return render_template(
        "training/staff_sessions.html",
        rows=rows[:PAGE_SIZE],
        page=page,
        has_next=len(rows) > PAGE_SIZE,
        past=past,
    )


def _branch_choices() -> list[tuple[str, str]]:
    branches = db.session.scalars(
        select(Branch)
        .where(
            Branch.id.in_(scoped_branch_ids(current_user, REVIEW_ROLES)),
            Branch.closed_at.is_(None),
            Branch.level != "national",
        )
        .order_by(Branch.path)
        .limit(300)
    )
    return [(str(b.id), b.name(_locale())) for b in branches]


@staff_bp.route("/new", methods=["GET", "POST"])
@staff_required(REVIEW_ROLES)
def new_session():
    form = SessionForm()
    form.branch.choices = _branch_choices()
    form.course.choices = [(str(c.id), c.title(_locale())) for c in active_courses()]
    if form.validate_on_submit():
        branch = get_branch_in_scope_or_404(form.branch.data, current_user, REVIEW_ROLES)
        plan = sessions.SessionPlan(
            course_id=as_id(form.course.data) or 0,
            first_day=form.first_day.data,
            days=form.days.data,
            start=form.start.data,
            end=form.end.data,
            venue=form.venue.data,
            address=form.address.data,
            map_url=form.map_url.data or None,
            capacity=form.capacity.data,
            instructors=form.instructors.data,
            cutoff_hours=form.cutoff_hours.data,
            restriction=form.restriction.data,
            restriction_note=form.restriction_note.data or None,
        )
        try:
            created = sessions.schedule(current_user, branch, plan)
        except TrainingError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The class has been scheduled."), "success")
            return redirect(url_for(".session_detail", session_id=created.id))
    return render_template("training/staff_session_form.html", form=form)


def _session_or_404(session_id: int) -> ClassSession:
    return get_in_scope_or_404(ClassSession, session_id, current_user, REVIEW_ROLES)


@staff_bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@staff_required(REVIEW_ROLES)
def edit_session(session_id: int):
    session = _session_or_404(session_id)
    form = EditSessionForm(obj=session)
    if form.validate_on_submit():
        changes = sessions.SessionChanges(
            venue=form.venue.data,
            address=form.address.data,
            map_url=form.map_url.data or None,
            instructors=form.instructors.data,
            capacity=form.capacity.data,
        )
        try:
            sessions.change_session(current_user, session, changes)
            db.session.commit()
        except TrainingError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        except IntegrityError:  # a booking took a seat as the capacity went down
            db.session.rollback()
            form.form_errors.append(_("Seats were just booked. Please look again."))
        else:
            flash(_("The class has been updated."), "success")
            return redirect(url_for(".session_detail", session_id=session.id))
    return render_template("training/staff_session_edit.html", form=form, session=session)


def _people(session: ClassSession) -> list[Booking]:
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.session_id == session.id)
            .order_by(Booking.status, Booking.waitlist_no, Booking.attendee_name, Booking.id)
        )
    )


@staff_bp.get("/sessions/<int:session_id>")
@staff_required(REVIEW_ROLES)
def session_detail(session_id: int, cancel_form=None):
    session = _session_or_404(session_id)
    page = render_template(
        "training/staff_session.html",
        session=session,
        people=_people(session),
        marks=results.attendance_map(session),
        cancel_form=cancel_form or ReasonForm(formdata=None),
        booking_labels=BOOKING_LABELS,
        outcome_labels=OUTCOME_LABELS,
        restriction_labels=RESTRICTION_LABELS,
        active_states=ACTIVE_STATES,
    )
    _viewed(session, "roster")
    db.session.commit()
    return page


def _viewed(session: ClassSession, via: str) -> None:
    """A roster shows names and (masked) phones of people: audited as a view."""
    audit.record(
        "training_roster_viewed",
        actor=current_user,
        actor_role=acting_role(current_user, session.branch, REVIEW_ROLES),
        branch_id=session.branch_id,
        object_kind="class_session",
        object_id=session.id,
        changes={"via": via},
    )


@staff_bp.route("/sessions/<int:session_id>/days/<int:day_id>", methods=["GET", "POST"])
@staff_required(REVIEW_ROLES)
def attendance(session_id: int, day_id: int):
    session = _session_or_404(session_id)
    day = db.session.get(ClassDay, day_id)
    if day is None or day.session_id != session.id:
        abort(404)
    form = ConfirmForm()
    error = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        present = {as_id(v) for v in request.form.getlist("present")} - {None}
        try:
            results.mark_roster(current_user, session, day, present)
        except TrainingError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            db.session.commit()
            flash(_("Attendance saved."), "success")
            return redirect(url_for(".attendance", session_id=session.id, day_id=day.id))
    return render_template(
        "training/staff_attendance.html",
        session=session,
        day=day,
        roster=results.roster(session),
        marks=results.attendance_map(session),
        form=form,
        error=error,
    )


@staff_bp.route("/sessions/<int:session_id>/results", methods=["GET", "POST"])
@staff_required(REVIEW_ROLES)
def results_page(session_id: int):
    session = _session_or_404(session_id)
    roster = results.roster(session)
    form = ConfirmForm()
    errors: dict[int, str] = {}
    typed: dict[int, dict] = {}
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        issued = 0
        marks = results.attendance_map(session)
        for b in roster:
            theory_raw = (request.form.get(f"theory-{b.id}") or "").strip()
            practical_raw = request.form.get(f"practical-{b.id}") or ""
            typed[b.id] = {"theory": theory_raw[:10], "practical": practical_raw[:10]}
            attended = any(marks.get((b.id, d.id)) for d in session.days)
            nothing_typed = not theory_raw and not practical_raw
            if nothing_typed and session.course.has_exam and attended:
                continue  # nothing typed yet for someone who came (a no-show is recorded)
            theory = None
            if theory_raw:
                if not theory_raw.isascii() or not theory_raw.isdigit() or int(theory_raw) > 100:
                    errors[b.id] = _("The theory score is a whole number from 0 to 100.")
                    continue
                theory = int(theory_raw)
            practical = {"pass": True, "fail": False}.get(practical_raw)
            try:
                cert = results.record_result(current_user, b, theory, practical)
            except TrainingError as exc:
                errors[b.id] = str(exc)
                continue
            issued += cert is not None
        if not errors:
            db.session.commit()
            flash(_("Results saved; %(n)d certificates issued.", n=issued), "success")
            return redirect(url_for(".session_detail", session_id=session.id))
        db.session.rollback()
    return render_template(
        "training/staff_results.html",
        session=session,
        roster=roster,
        marks=results.attendance_map(session),
        form=form,
        errors=errors,
        typed=typed,
        outcome_labels=OUTCOME_LABELS,
    )


@staff_bp.get("/sessions/<int:session_id>/export")
@staff_required(REVIEW_ROLES)
def export(session_id: int):
    session = _session_or_404(session_id)
    _viewed(session, "export")
    db.session.commit()
    marks = results.attendance_map(session)
    header = [_("Name"), _("Mobile"), _("Status"), _("Waitlist number")]
    header += [_("Day %(n)d", n=d.day_no) for d in session.days]
    header += [_("Theory"), _("Practical"), _("Outcome")]
    rows = []
    for b in _people(session):
        row = [
            b.attendee_name,
            _masked(b.attendee_phone),
            str(BOOKING_LABELS.get(b.status, b.status)),
            b.waitlist_no or "",
        ]
        row += [_yes_no(marks.get((b.id, d.id))) for d in session.days]
        row += [
            b.theory_score if b.theory_score is not None else "",
            _yes_no(b.practical_passed),
            str(OUTCOME_LABELS.get(b.outcome, "")) if b.outcome else "",
        ]
        rows.append(row)
    fmt = "xlsx" if request.args.get("format") == "xlsx" else "csv"
    name = f"roster-{session.id}-{to_local(session.starts_at):%Y%m%d}"
    return export_response(fmt, name, header, rows, title=_("Roster"))


def _masked(phone: str) -> str:
    return mask_phone(phone) if phone else ""


def _yes_no(value) -> str:
    if value is None:
        return ""
    return _("Yes") if value else _("No")


@staff_bp.post("/sessions/<int:session_id>/cancel")
@staff_required(REVIEW_ROLES)
def cancel_session(session_id: int):
    session = _session_or_404(session_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            told = sessions.cancel_session(current_user, session, form.reason.data)
        except TrainingError as exc:
            db.session.rollback()
            form.reason.errors = [*form.reason.errors, str(exc)]
        else:
            db.session.commit()
            flash(_("The class is cancelled; %(n)d people will be told by SMS.", n=told), "success")
            return redirect(url_for(".session_detail", session_id=session.id))
    return session_detail(session_id, cancel_form=form)


@staff_bp.route("/checkin/<token>", methods=["GET", "POST"])
@staff_required(REVIEW_ROLES)
def checkin(token: str):
    """What the officer's phone opens on scanning an attendee's booking QR code."""
    if not token or len(token) > 64:
        abort(404)
    b = db.session.scalar(select(Booking).where(Booking.checkin_token == token))
    if b is None:
        abort(404)
    session = b.session
    if not in_scope(current_user, session.branch, REVIEW_ROLES):
        refuse_404(current_user, "class_booking", b.id, session.branch)
    today = to_local(utcnow()).date()
    day = next((d for d in session.days if to_local(d.starts_at).date() == today), None)
    form = ConfirmForm()
    error = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        day = db.session.get(ClassDay, as_id(request.form.get("day")) or 0) or day
        if day is None or day.session_id != session.id:
            error = _("This class has no day today.")
        else:
            try:
                results.check_in(current_user, b, day)
            except TrainingError as exc:
                db.session.rollback()
                error = str(exc)
            else:
                db.session.commit()
                flash(_("%(name)s is checked in.", name=b.attendee_name), "success")
                return redirect(url_for(".checkin", token=token))
    marks = results.attendance_map(session)
    return render_template(
        "training/staff_checkin.html",
        booking=b,
        session=session,
        day=day,
        present=day is not None and marks.get((b.id, day.id)),
        form=form,
        error=error,
        booking_labels=BOOKING_LABELS,
    )


@staff_bp.get("/certificates")
@staff_required(REVIEW_ROLES)
def certificates_list():
    q = search_text(request.args.get("q"), 40)
    page = page_arg()
    stmt = (
        select(Certificate)
        .join(Branch, Branch.id == Certificate.branch_id)
        .where(scope_clause(current_user, REVIEW_ROLES))
    )
    if q:
        stmt = stmt.where((Certificate.number == q.upper()) | (Certificate.holder_name == q))
    rows = list(
        db.session.scalars(
            stmt.order_by(Certificate.issued_at.desc(), Certificate.id.desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        )
    )
    return render_template(
        "training/staff_certificates.html",
        rows=rows[:PAGE_SIZE],
        page=page,
        has_next=len(rows) > PAGE_SIZE,
        q=q,
        status=certificates.status,
        status_labels=certificates.STATUS_LABELS,
    )


@staff_bp.route("/certificates/<int:certificate_id>", methods=["GET", "POST"])
@staff_required(REVIEW_ROLES)
def certificate_detail(certificate_id: int):
    cert = get_in_scope_or_404(Certificate, certificate_id, current_user, REVIEW_ROLES)
    form = ReasonForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            certificates.revoke(current_user, cert, form.reason.data)
        except TrainingError as exc:
            db.session.rollback()
            form.reason.errors = [*form.reason.errors, str(exc)]
        else:
            db.session.commit()
            flash(_("The certificate has been revoked."), "success")
            return redirect(url_for(".certificate_detail", certificate_id=cert.id))
    return render_template(
        "training/staff_certificate.html",
        cert=cert,
        state=certificates.status(cert),
        status_labels=certificates.STATUS_LABELS,
        form=form,
    )
