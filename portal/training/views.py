"""Citizens' first-aid pages: the class listing (no JavaScript needed), a session,
booking (alone or for a group), a booking with its check-in QR, offers, "My training"
and the certificate page."""

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.branches.models import Branch
from portal.cards.services import qr_svg
from portal.extensions import db
from portal.ids import as_id, page_arg
from portal.main.my_red_cross import Section, register_section
from portal.timeutil import utcnow
from portal.training import booking as booking_svc
from portal.training import bp, certificates, sessions
from portal.training.errors import TrainingError
from portal.training.forms import BookForm, ConfirmForm, GroupForm
from portal.training.labels import BOOKING_LABELS, OUTCOME_LABELS, RESTRICTION_LABELS
from portal.training.models import ACTIVE_STATES, Booking, Certificate, ClassSession


def _locale() -> str:
    return str(get_locale())


def _near(branch: Branch | None) -> Branch | None:
    """The county or city a citizen's home branch lies in."""
    while branch is not None and branch.level not in ("county", "city"):
        branch = branch.parent
    return branch


def _filters() -> dict:
    args = request.args
    area = None
    area_id = as_id(args.get("area"))
    if area_id is not None:
        area = db.session.get(Branch, area_id)
    elif args.get("area") is None and current_user.is_authenticated:
        area = _near(current_user.home_branch)  # "near me" until they choose
    course_id = as_id(args.get("course"))
    try:
        from_day = date.fromisoformat(args.get("from", "")) if args.get("from") else None
    except ValueError:
        from_day = None
    if from_day is not None and not date(2000, 1, 1) <= from_day <= date(2100, 1, 1):
        from_day = None
    return {
        "area": area,
        "course": course_id,
        "from": from_day,
        "seats": args.get("seats") == "1",
    }


@bp.get("/")
def classes():
    filters = _filters()
    result = sessions.listing(
        filters["area"], filters["course"], filters["from"], filters["seats"], page_arg()
    )
    args = {
        "area": filters["area"].id if filters["area"] else "all",
        "course": filters["course"],
        "from": filters["from"].isoformat() if filters["from"] else None,
        "seats": "1" if filters["seats"] else None,
    }
    return render_template(
        "training/classes.html",
        result=result,
        filters=filters,
        args={k: v for k, v in args.items() if v},
        areas=sessions.area_options(filters["area"]),
        courses=sessions.course_choices(),
        restriction_labels=RESTRICTION_LABELS,
    )


def _session_or_404(session_id: int) -> ClassSession:
    session = db.session.get(ClassSession, session_id, options=[joinedload(ClassSession.course)])
    if session is None:
        abort(404)
    return session


def _render_session(session: ClassSession, form=None, status=200):
    mine = None
    if current_user.is_authenticated:
        mine = booking_svc.active_booking(session.id, booking_svc.user_key(current_user.id))
    return (
        render_template(
            "training/session.html",
            session=session,
            form=form or BookForm(formdata=None),
            mine=mine,
            now=utcnow(),
            restriction_labels=RESTRICTION_LABELS,
            booking_labels=BOOKING_LABELS,
        ),
        status,
    )


@bp.get("/sessions/<int:session_id>")
def session(session_id: int):
    return _render_session(_session_or_404(session_id))


@bp.post("/sessions/<int:session_id>/book")
@login_required
def book(session_id: int):
    session_obj = _session_or_404(session_id)
    form = BookForm()
    if form.validate_on_submit():
        try:
            made = booking_svc.book(current_user, session_obj.id, form.access_code.data)
        except TrainingError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        except IntegrityError:  # a double submit lost the race on the unique index
            db.session.rollback()
            form.form_errors.append(_("You already have a booking for this class."))
        else:
            made_id, seated = made.id, made.status == "confirmed"  # read before the commit
            db.session.commit()
            # The outcome rides on the redirect, not in a flash: a flash would write the
            # session row twice more per booking, on the busiest form of the portal.
            just = "booked" if seated else "waitlisted"
            return redirect(url_for(".booking", booking_id=made_id, just=just))
    return _render_session(session_obj, form, 200)


@bp.route("/sessions/<int:session_id>/group", methods=["GET", "POST"])
@login_required
def group(session_id: int):
    session_obj = _session_or_404(session_id)
    form = GroupForm()
    if form.validate_on_submit():
        try:
            made = booking_svc.group_book(
                current_user,
                session_obj.id,
                booking_svc.parse_seats(form.people.data),
                form.access_code.data,
            )
        except TrainingError as exc:
            db.session.rollback()
            form.people.errors = [*form.people.errors, str(exc)]
        except IntegrityError:
            db.session.rollback()
            form.people.errors = [*form.people.errors, _("Someone listed is already booked.")]
        else:
            db.session.commit()
            flash(_("%(n)d seats are booked.", n=len(made)), "success")
            return redirect(url_for(".mine"))
    return render_template("training/group.html", session=session_obj, form=form)


def _booking_or_404(booking_id: int) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if booking is None or current_user.id not in (booking.user_id, booking.booked_by_id):
        abort(404)
    return booking


@bp.get("/bookings/<int:booking_id>")
@login_required
def booking(booking_id: int, error=None):
    b = _booking_or_404(booking_id)
    qr = None
    if b.status == "confirmed":
        qr = qr_svg(url_for("training_staff.checkin", token=b.checkin_token, _external=True))
    return render_template(
        "training/booking.html",
        booking=b,
        session=b.session,
        position=booking_svc.waitlist_position(b),
        can_cancel=booking_svc.can_cancel(b),
        form=ConfirmForm(formdata=None),
        qr=qr,
        error=error,
        just=request.args.get("just") if b.status in ("confirmed", "waitlisted") else None,
        booking_labels=BOOKING_LABELS,
        outcome_labels=OUTCOME_LABELS,
    )


def _act(booking_id: int, action, done: str):
    b = _booking_or_404(booking_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        action(b)
    except TrainingError as exc:
        db.session.rollback()
        return booking(booking_id, error=str(exc)), 200
    db.session.commit()
    flash(done, "success")
    return redirect(url_for(".booking", booking_id=booking_id))


@bp.post("/bookings/<int:booking_id>/cancel")
@login_required
def cancel(booking_id: int):
    return _act(booking_id, booking_svc.cancel, _("Your booking has been cancelled."))


@bp.post("/bookings/<int:booking_id>/accept")
@login_required
def accept(booking_id: int):
    return _act(booking_id, booking_svc.accept_offer, _("The seat is yours."))


def _my_training(user) -> dict:
    bookings = list(
        db.session.scalars(
            select(Booking)
            .where((Booking.user_id == user.id) | (Booking.booked_by_id == user.id))
            .order_by(Booking.created_at.desc(), Booking.id.desc())
            .limit(100)
        )
    )
    now = utcnow()

    def current(b: Booking) -> bool:
        # Active and still to come (or under way): a class that is over is history.
        return b.status in ACTIVE_STATES and b.outcome is None and b.session.ends_at >= now

    return {
        "active": [b for b in bookings if current(b)],
        "history": [b for b in bookings if not current(b)],
        "certificates": certificates.certificates_of(user),
        "status": certificates.status,
        "status_labels": certificates.STATUS_LABELS,
        "booking_labels": BOOKING_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "position": booking_svc.waitlist_position,
    }


def _my_section(user):
    data = _my_training(user)
    return data if (data["active"] or data["certificates"]) else None


register_section(Section("training", 40, "training/_my_section.html", _my_section))


@bp.get("/mine")
@login_required
def mine():
    return render_template("training/mine.html", **_my_training(current_user))


@bp.get("/certificates/<int:certificate_id>")
@login_required
def certificate(certificate_id: int):
    cert = db.session.get(Certificate, certificate_id)
    if cert is None or current_user.id not in (cert.user_id, cert.booking.booked_by_id):
        abort(404)
    url = url_for("cards.verify_token", token=cert.token, _external=True)
    return render_template(
        "training/certificate.html",
        cert=cert,
        state=certificates.status(cert),
        status_labels=certificates.STATUS_LABELS,
        qr=qr_svg(url),
        verify_url=url,
    )
