"""Certificates: issuing (numbered gaplessly per course, branch and year), status, the
public verification card (masked name, never phone or ID), revocation (audited), expiry
reminders with a refresher class, and the dashboard's "new certified first-aiders"."""

from calendar import monthrange
from datetime import date, timedelta

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, literal_column, select

from portal import audit
from portal.admin.indicators import register_indicator
from portal.branches.models import Branch
from portal.branches.scope import REVIEW_ROLES, acting_role, path_under
from portal.cards.services import (
    CardKind,
    PublicCard,
    mask_name,
    new_token,
    register_card_kind,
    surname_matches,
)
from portal.extensions import db
from portal.numbering.services import next_number
from portal.textcheck import has_hidden_characters
from portal.timeutil import to_local, today_local, utcnow
from portal.training import notify
from portal.training.errors import TrainingError
from portal.training.models import (
    FIRST_AIDER,
    PUBLIC,
    SCHEDULED,
    Booking,
    Certificate,
    ClassSession,
    Course,
)

KIND = "training_certificate"
VALID, EXPIRED, REVOKED = "valid", "expired", "revoked"
STATUS_LABELS = {
    VALID: _l("Valid"),
    EXPIRED: _l("Expired"),
    REVOKED: _l("Revoked"),
}
REMIND_DAYS = 60


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def status(certificate: Certificate, today: date | None = None) -> str:
    if certificate.revoked_at is not None:
        return REVOKED
    today = today or today_local()
    if certificate.expires_on is not None and certificate.expires_on < today:
        return EXPIRED
    return VALID


def certificate_number(course: Course, branch, year: int, serial: int) -> str:
    return f"{course.code}-{branch.code or branch.id}-{year}-{serial:06d}"


def issue(booking: Booking, now=None) -> Certificate:
    """The certificate for a passed booking of a certifying course (once per booking),
    numbered within the course, the issuing branch and the year: gapless under
    concurrency (portal.numbering), so the view's commit takes the number."""
    now = now or utcnow()
    existing = db.session.scalar(select(Certificate).where(Certificate.booking_id == booking.id))
    if existing is not None:
        return existing
    session = booking.session
    course, branch = session.course, session.branch
    if not course.certifies:
        raise TrainingError(_l("This course gives no certificate."))
    issued_on = to_local(now).date()
    serial = next_number(f"training_cert:{course.code}:{branch.code or branch.id}:{issued_on.year}")
    certificate = Certificate(
        number=certificate_number(course, branch, issued_on.year, serial),
        token=new_token(),
        booking_id=booking.id,
        user_id=booking.user_id,
        person_key=booking.person_key,
        holder_name=booking.attendee_name,
        course_id=course.id,
        branch_id=branch.id,
        issued_at=now,
        issued_on=issued_on,
        expires_on=add_months(issued_on, course.validity_months)
        if course.validity_months
        else None,
    )
    db.session.add(certificate)
    db.session.flush()
    return certificate


def revoke(actor, certificate: Certificate, reason: str) -> None:
    """Revoke with a reason (audited); the verification page then says "revoked"."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 200 or has_hidden_characters(reason, multiline=True):
        raise TrainingError(_l("Please write the reason (at most 200 characters)."))
    if certificate.revoked_at is not None:
        raise TrainingError(_l("This certificate has already been revoked."))
    certificate.revoked_at = utcnow()
    certificate.revoked_reason = reason
    certificate.revoked_by_id = actor.id
    db.session.flush()
    audit.record(
        "training_certificate_revoked",
        actor=actor,
        actor_role=acting_role(actor, certificate.branch, REVIEW_ROLES),
        branch_id=certificate.branch_id,
        object_kind="training_certificate",
        object_id=certificate.id,
        changes={"number": certificate.number, "reason": reason},
    )


def certificates_of(user) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.person_key == f"u{user.id}")
            .order_by(Certificate.issued_at.desc())
        )
    )


# --- reminders -------------------------------------------------------------------------


def refresher_for(certificate: Certificate, now) -> ClassSession | None:
    """The soonest public session of the same course with seats, in the city (or the
    branch above) of the issuing branch."""
    area = certificate.branch.parent or certificate.branch
    return db.session.scalar(
        select(ClassSession)
        .join(Branch, Branch.id == ClassSession.branch_id)
        .where(
            ClassSession.course_id == certificate.course_id,
            ClassSession.status == SCHEDULED,
            ClassSession.restriction == PUBLIC,
            ClassSession.booking_cutoff > now,
            ClassSession.seats_taken < ClassSession.capacity,
            path_under(area.path),
        )
        .order_by(ClassSession.starts_at)
        .limit(1)
    )


def send_reminders(now=None) -> int:
    """Text each holder whose certificate expires within REMIND_DAYS (once per
    certificate) with a refresher class. Safe to run twice."""
    now = now or utcnow()
    today = to_local(now).date()
    due = db.session.scalars(
        select(Certificate).where(
            Certificate.revoked_at.is_(None),
            Certificate.reminded_at.is_(None),
            Certificate.expires_on.is_not(None),
            Certificate.expires_on >= today,
            Certificate.expires_on <= today + timedelta(days=REMIND_DAYS),
        )
    ).all()
    sent = 0
    for certificate in due:
        booking = certificate.booking
        phone = booking.attendee_phone
        certificate.reminded_at = now
        if not phone:
            continue
        user = booking.user
        locale = (user.locale if user else None) or current_app.config["BABEL_DEFAULT_LOCALE"]
        notify.certificate_expiring(certificate, phone, locale, refresher_for(certificate, now))
        sent += 1
    db.session.flush()
    return sent


# --- public verification ---------------------------------------------------------------


def public_card(certificate: Certificate) -> PublicCard:
    state = status(certificate)
    return PublicCard(
        kind_label=certificate.course.title(str(get_locale())),
        masked_name=mask_name(certificate.holder_name),
        number=certificate.number,
        branch_name=certificate.branch.name(str(get_locale())),
        status_label=str(STATUS_LABELS[state]),
        is_valid=state == VALID,
        valid_from=certificate.issued_on,
        valid_until=certificate.expires_on,
    )


def _by_token(token: str) -> PublicCard | None:
    certificate = db.session.scalar(select(Certificate).where(Certificate.token == token))
    return public_card(certificate) if certificate is not None else None


def _by_number(number: str, surname: str) -> PublicCard | None:
    certificate = db.session.scalar(select(Certificate).where(Certificate.number == number))
    if certificate is None or not surname_matches(certificate.holder_name, surname):
        return None
    return public_card(certificate)


register_card_kind(
    CardKind(key=KIND, label=_l("First-aid certificate"), by_token=_by_token, by_number=_by_number)
)


# --- the dashboard ---------------------------------------------------------------------


def first_aiders_certified(branch_ids, start, end):
    """Certified first-aider certificates issued by `branch_ids`, by the time issued."""
    return (
        select(
            Certificate.branch_id.label("branch_id"),
            Certificate.issued_at.label("at"),
            literal_column("1", Integer).label("amount"),
        )
        .join(Course, Course.id == Certificate.course_id)
        .where(
            Course.kind == FIRST_AIDER,
            Certificate.branch_id.in_(branch_ids),
            Certificate.issued_at >= start,
            Certificate.issued_at < end,
        )
    )


register_indicator(
    "first_aiders",
    _l("New certified first-aiders"),
    first_aiders_certified,
    note=_l("Counted by the year the first-aider certificate was issued."),
)
