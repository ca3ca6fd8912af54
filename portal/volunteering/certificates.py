"""Service certificates (志愿服务证明): the volunteer's confirmed hours over a period
they choose, frozen when issued, numbered gaplessly per branch (portal/numbering), and
verifiable by anyone through the card registry's public page (masked name, hours,
period, branch, valid or revoked).

Services add and flush only; the views commit."""

from datetime import date, timedelta

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal import audit
from portal.branches.scope import REVIEW_ROLES, acting_role, in_scope
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
from portal.review.services import ReviewError
from portal.timeutil import local_to_utc, today_local, utcnow
from portal.volunteering.hours import check_reason
from portal.volunteering.service_models import HOURS_CONFIRMED, ServiceCertificate, ServiceHours
from portal.volunteering.services import SERVICE_AREAS
from portal.volunteering.stars import hours_text

KIND = "service_certificate"


def confirmed_in_period(volunteer, period_from: date, period_to: date) -> tuple[int, list[str]]:
    """Confirmed minutes of service that took place from `period_from` to `period_to`
    (Asia/Shanghai days, both included), and the service areas, most hours first."""
    start = local_to_utc(period_from)
    end = local_to_utc(period_to + timedelta(days=1))
    rows = db.session.execute(
        select(ServiceHours.service_area, func.sum(ServiceHours.minutes))
        .where(
            ServiceHours.volunteer_id == volunteer.id,
            ServiceHours.status == HOURS_CONFIRMED,
            ServiceHours.started_at >= start,
            ServiceHours.started_at < end,
        )
        .group_by(ServiceHours.service_area)
    ).all()
    rows = sorted(((a, int(m)) for a, m in rows), key=lambda r: -r[1])
    return sum(m for _a, m in rows), [a for a, m in rows if m > 0]


def of_volunteer(volunteer, limit: int = 20) -> list[ServiceCertificate]:
    """The volunteer's certificates, newest first ("My service" lists them)."""
    return list(
        db.session.scalars(
            select(ServiceCertificate)
            .where(ServiceCertificate.volunteer_id == volunteer.id)
            .order_by(ServiceCertificate.issued_at.desc())
            .limit(limit)
        )
    )


def certificate_number(branch, year: int, serial: int) -> str:
    return f"ZYFW-{branch.code or branch.id}-{year}-{serial:05d}"


def issue(volunteer, period_from: date, period_to: date, today: date | None = None):
    """A certificate of the volunteer's confirmed hours in the period, issued by their
    branch. Refuses: an inactive volunteer, a period that ends before it starts or in
    the future, and a period without confirmed hours."""
    today = today or today_local()
    if not volunteer.is_active:
        raise ReviewError(_l("Only active volunteers can get a service certificate."))
    if period_from > period_to or period_to > today:
        raise ReviewError(_l("Please choose a period that has already ended or ends today."))
    minutes, areas = confirmed_in_period(volunteer, period_from, period_to)
    if minutes == 0:
        raise ReviewError(_l("You have no confirmed hours in this period."))
    branch = volunteer.branch
    code = branch.code or str(branch.id)
    serial = next_number(f"service_cert:{code}:{today.year}")
    certificate = ServiceCertificate(
        volunteer_id=volunteer.id,
        branch_id=branch.id,
        number=certificate_number(branch, today.year, serial),
        token=new_token(),
        period_from=period_from,
        period_to=period_to,
        minutes=minutes,
        content=",".join(areas)[:300],
    )
    db.session.add(certificate)
    db.session.flush()
    return certificate


def area_text(certificate: ServiceCertificate) -> str:
    return "、".join(
        str(SERVICE_AREAS[a]) for a in certificate.content.split(",") if a in SERVICE_AREAS
    )


def public_card(certificate: ServiceCertificate) -> PublicCard:
    profile = certificate.volunteer.user.profile
    valid = certificate.revoked_at is None
    summary = _(
        "%(hours)s hours of service, %(start)s to %(end)s",
        hours=hours_text(certificate.minutes),
        start=certificate.period_from.isoformat(),
        end=certificate.period_to.isoformat(),
    )
    state = _("Valid") if valid else _("Revoked")
    return PublicCard(
        kind_label=str(_l("Volunteer service certificate")),
        masked_name=mask_name(profile.full_name if profile else ""),
        number=certificate.number,
        branch_name=certificate.branch.name(str(get_locale())),
        status_label=f"{state} · {summary}",
        is_valid=valid,
    )


def _by_token(token: str) -> PublicCard | None:
    found = db.session.scalar(select(ServiceCertificate).where(ServiceCertificate.token == token))
    return public_card(found) if found is not None else None


def _by_number(number: str, surname: str) -> PublicCard | None:
    found = db.session.scalar(select(ServiceCertificate).where(ServiceCertificate.number == number))
    if found is None or found.volunteer.user.profile is None:
        return None
    if not surname_matches(found.volunteer.user.profile.full_name, surname):
        return None
    return public_card(found)


register_card_kind(
    CardKind(
        key=KIND,
        label=_l("Volunteer service certificate"),
        by_token=_by_token,
        by_number=_by_number,
    )
)


def find_for_staff(actor, number: str) -> ServiceCertificate | None:
    """The certificate with this number if its issuing branch is in the actor's scope."""
    number = (number or "").strip().upper()
    if not number or len(number) > 40:
        return None
    found = db.session.scalar(select(ServiceCertificate).where(ServiceCertificate.number == number))
    if found is None or not in_scope(actor, found.branch, REVIEW_ROLES):
        return None
    return found


def revoke(actor, certificate: ServiceCertificate, reason: str) -> None:
    """Mark a certificate revoked (a mistake, hours withdrawn) with a reason, audited; the
    public page then says so."""
    role = acting_role(actor, certificate.branch, REVIEW_ROLES)
    if role is None:
        raise ReviewError(_l("You cannot change this certificate."))
    if certificate.revoked_at is not None:
        raise ReviewError(_l("This certificate has already been revoked."))
    reason = check_reason(reason)
    certificate.revoked_at = utcnow()
    certificate.revoked_reason = reason
    audit.record(
        "service_certificate_revoked",
        actor=actor,
        actor_role=role,
        branch_id=certificate.branch_id,
        object_kind="service_certificate",
        object_id=certificate.id,
        changes={"number": certificate.number, "reason": reason},
    )
    db.session.flush()
