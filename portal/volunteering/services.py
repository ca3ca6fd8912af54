"""Volunteer registration: the application (review kind "volunteer"), what approval does
(a numbered volunteer with a card), the public card look-ups and the volunteer's own edits.

Services take plain values, add and flush only; the views commit."""

from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, literal_column, select, update
from sqlalchemy.exc import IntegrityError

from portal import audit
from portal.accounts.identity import age_on
from portal.accounts.models import RealNameProfile, User
from portal.accounts.phone import mask_phone, try_normalise_phone
from portal.admin.indicators import register_indicator
from portal.branches.models import Branch, name_in
from portal.cards.services import (
    CardKind,
    PublicCard,
    mask_name,
    new_token,
    register_card_kind,
    surname_matches,
)
from portal.consent import services as consent
from portal.consent.purposes import PURPOSES, VOLUNTEER_GUARDIAN, on_withdrawal
from portal.extensions import db
from portal.numbering.services import next_number
from portal.review.kinds import ReviewKind, card_select, register_kind
from portal.review.models import PENDING
from portal.review.services import ReviewError, withdraw
from portal.textcheck import has_hidden_characters
from portal.timeutil import today_local, utcnow
from portal.volunteering.models import ACTIVE, LEFT, SUSPENDED, Volunteer, VolunteerApplication

KIND = "volunteer"
MIN_AGE = 14
ADULT_AGE = 18

SERVICE_AREAS = {
    "first_aid": _l("Emergency first aid"),
    "disaster_relief": _l("Disaster relief"),
    "donation_promotion": _l("Blood, marrow and organ donation promotion"),
    "boai_home": _l("Community care (Boai Home)"),
    "youth_schools": _l("Youth and schools"),
    "elderly_care": _l("Elderly care"),
    "water_safety": _l("Water safety"),
    "publicity": _l("Publicity"),
}
DAYS = {"weekday": _l("Weekdays"), "weekend": _l("Weekends")}
TIMES = {"morning": _l("Morning"), "afternoon": _l("Afternoon"), "evening": _l("Evening")}
SLOTS = tuple(f"{d}_{t}" for d in DAYS for t in TIMES)

STATUS_LABELS = {
    ACTIVE: _l("Active volunteer"),
    SUSPENDED: _l("Suspended"),
    LEFT: _l("No longer volunteering"),
}

# The volunteer code as agreed to: a new wording is a new version (the old stays listed,
# since each application names the version its volunteer agreed to).
CODE_TEXTS = {
    "1": _l(
        "As a Red Cross volunteer I follow the principles of humanity, impartiality, "
        "neutrality, independence, voluntary service, unity and universality. I serve "
        "without pay and without seeking personal gain, respect the dignity and privacy "
        "of the people I help, keep what I learn about them confidential, follow the "
        "instructions of the organising branch and act only within my training, and I "
        "do not use the Red Cross emblem or name for anything but Red Cross service."
    ),
}
CODE_VERSION = list(CODE_TEXTS)[-1]

# The guardian's consent is a purpose of the consent ledger (its text and versions live
# there); the application keeps a copy of when and which version, for the inbox.
GUARDIAN_TEXTS = PURPOSES[VOLUNTEER_GUARDIAN].texts
GUARDIAN_VERSION = PURPOSES[VOLUNTEER_GUARDIAN].version


@dataclass
class Details:
    """What the applicant (or volunteer, editing) typed, already checked by the form."""

    service_areas: list[str]
    availability: list[str]
    skills: str | None
    languages: str | None
    emergency_name: str
    emergency_relation: str
    emergency_phone: str  # normalised, 11 digits
    health: str | None


def age_of(user, today=None) -> int | None:
    profile = user.profile
    if profile is None:
        return None
    return age_on(profile.birth_date, today or today_local())


def volunteer_of(user) -> Volunteer | None:
    return db.session.scalar(select(Volunteer).where(Volunteer.user_id == user.id))


def pending_application(user) -> VolunteerApplication | None:
    return db.session.scalar(
        select(VolunteerApplication).where(
            VolunteerApplication.user_id == user.id, VolunteerApplication.status == PENDING
        )
    )


def latest_application(user) -> VolunteerApplication | None:
    return db.session.scalar(
        select(VolunteerApplication)
        .where(VolunteerApplication.user_id == user.id)
        .order_by(VolunteerApplication.created_at.desc(), VolunteerApplication.id.desc())
        .limit(1)
    )


def can_receive(branch: Branch | None) -> bool:
    return branch is not None and branch.is_open and branch.level != "national"


# The longest each free-text detail may be (the forms say so beside the field).
TEXT_LIMITS = {
    "skills": 500,
    "languages": 200,
    "emergency_name": 50,
    "emergency_relation": 20,
    "health": 300,
}


def _check_details(details: Details) -> None:
    """The rules the forms check, again for any other caller: nothing half-written or
    too long for its column, whoever calls."""
    for name, limit in TEXT_LIMITS.items():
        value = getattr(details, name) or ""
        if len(value) > limit or has_hidden_characters(value, multiline=True):
            raise ReviewError(_l("Please check what you typed."))
    if not details.emergency_name or not details.emergency_relation:
        raise ReviewError(_l("Please give an emergency contact."))
    if try_normalise_phone(details.emergency_phone) != details.emergency_phone:
        raise ReviewError(_l("Please enter their mobile number."))
    areas = [a for a in details.service_areas if a in SERVICE_AREAS]
    if not areas or len(areas) != len(details.service_areas):
        raise ReviewError(_l("Please choose at least one service area."))
    if not details.availability or any(s not in SLOTS for s in details.availability):
        raise ReviewError(_l("Please tick when you are usually free."))


def _apply_details(obj, details: Details) -> None:
    obj.service_areas = ",".join(k for k in SERVICE_AREAS if k in details.service_areas)
    obj.availability = ",".join(s for s in SLOTS if s in details.availability)
    obj.skills = details.skills or None
    obj.languages = details.languages or None
    obj.emergency_contact = {
        "name": details.emergency_name,
        "relation": details.emergency_relation,
        "phone": details.emergency_phone,
    }
    obj.health = details.health or None


def apply(
    user,
    branch: Branch | None,
    details: Details,
    agreed_code: bool,
    guardian: dict | None = None,
    guardian_consent: bool = False,
    today=None,
    ip: str | None = None,
) -> VolunteerApplication:
    """Ask `branch` to register `user` as a volunteer.

    Refuses (ReviewError): no real-name profile; under MIN_AGE; under ADULT_AGE without a
    guardian's name, phone and consent; a closed, missing or national branch; someone
    already a volunteer or with an application waiting; the code not agreed to."""
    age = age_of(user, today)
    if age is None:
        raise ReviewError(_l("Please add your real-name profile first."))
    if age < MIN_AGE:
        raise ReviewError(_l("Volunteers must be at least %(age)d years old.", age=MIN_AGE))
    minor = age < ADULT_AGE
    if minor and not (guardian and guardian.get("name") and guardian.get("phone")):
        raise ReviewError(_l("Applicants under 18 need a parent or guardian's name and phone."))
    if minor and not guardian_consent:
        raise ReviewError(_l("Applicants under 18 need their parent or guardian's consent."))
    if not can_receive(branch):
        raise ReviewError(_l("Please choose an open branch."))
    if not agreed_code:
        raise ReviewError(_l("Please agree to the volunteer code."))
    _check_details(details)
    if volunteer_of(user) is not None:
        raise ReviewError(_l("You are already a registered volunteer."))
    if pending_application(user) is not None:
        raise ReviewError(_l("You already have an application waiting."))
    application = VolunteerApplication(
        user_id=user.id, branch_id=branch.id, code_version=CODE_VERSION
    )
    _apply_details(application, details)
    if minor:
        # The consent goes into the ledger (withdrawable under "My consents"); the
        # application keeps when and which text, for the inbox.
        given = consent.give(user, VOLUNTEER_GUARDIAN, version=GUARDIAN_VERSION, ip=ip)
        application.guardian = {"name": guardian["name"], "phone": guardian["phone"]}
        application.guardian_consent_at = given.at
        application.guardian_consent_version = given.version
    try:
        # A savepoint: a double submit that loses the race on the unique index undoes
        # only this insert.
        with db.session.begin_nested():
            db.session.add(application)
    except IntegrityError:
        raise ReviewError(_l("You already have an application waiting.")) from None
    return application


GUARDIAN_WITHDRAWN = _l("The parent or guardian withdrew their consent.")


def _guardian_consent_withdrawn(user) -> None:
    """The guardian's consent is withdrawn (consent.withdraw, in its transaction): a
    waiting application is withdrawn, a volunteer still under 18 leaves (audited), and
    the guardian's name and phone are deleted from every application and from the
    volunteer record (PIPL art. 47)."""
    pending = pending_application(user)
    if pending is not None:
        withdraw(pending, user)
    volunteer = volunteer_of(user)
    age = age_of(user)
    if volunteer is not None and volunteer.status != LEFT and age is not None and age < ADULT_AGE:
        old = volunteer.status
        volunteer.status = LEFT
        volunteer.status_reason = str(GUARDIAN_WITHDRAWN)
        audit.record(
            "volunteer_status_changed",
            actor=user,
            branch_id=volunteer.branch_id,
            object_kind="volunteer",
            object_id=volunteer.id,
            changes={"status": [old, LEFT], "reason": "guardian_consent_withdrawn"},
        )
    for model in (VolunteerApplication, Volunteer):
        db.session.execute(
            update(model)
            .where(model.user_id == user.id)
            .values(guardian_enc=None)
            .execution_options(synchronize_session="fetch")
        )
    db.session.flush()


on_withdrawal(VOLUNTEER_GUARDIAN, _guardian_consent_withdrawn)


def update_details(volunteer: Volunteer, details: Details) -> None:
    """A registered volunteer's own edits (no new approval: the branch stays the same)."""
    _check_details(details)
    _apply_details(volunteer, details)


def volunteer_number(branch: Branch, serial: int) -> str:
    return f"ZY-{branch.code or branch.id}-{serial:06d}"


def _register(application: VolunteerApplication, actor) -> None:
    """On approval (inside the deciding transaction): the volunteer, numbered gaplessly
    within the branch, with a card token (the decision SMS names the number: _number_note)."""
    branch = application.branch
    serial = next_number(f"volunteer:{branch.code or branch.id}")
    volunteer = Volunteer(
        user_id=application.user_id,
        branch_id=application.branch_id,
        application_id=application.id,
        number=volunteer_number(branch, serial),
        card_token=new_token(),
        status=ACTIVE,
        registered_at=utcnow(),
        service_areas=application.service_areas,
        availability=application.availability,
        skills=application.skills,
        languages=application.languages,
        emergency_contact_enc=application.emergency_contact_enc,
        health_enc=application.health_enc,
    )
    db.session.add(volunteer)
    db.session.flush()


def _number_note(application: VolunteerApplication) -> str | None:
    """The line the approval SMS gains (review's decision_note, in the applicant's
    language): the new volunteer number."""
    number = db.session.scalar(
        select(Volunteer.number).where(Volunteer.application_id == application.id)
    )
    return _("Your volunteer number is %(number)s.", number=number) if number else None


# --- the inbox ---------------------------------------------------------------------------

_CARDS = (
    card_select(
        VolunteerApplication,
        VolunteerApplication.service_areas,
        VolunteerApplication.guardian_consent_at,
        RealNameProfile.full_name,
        User.phone,
    )
    .join(User, User.id == VolunteerApplication.user_id)
    .outerjoin(RealNameProfile, RealNameProfile.user_id == User.id)
)


def area_labels(keys) -> str:
    return "、".join(str(SERVICE_AREAS[k]) for k in keys if k in SERVICE_AREAS)


def _summaries(rows) -> list[str]:
    pattern = _("%(who)s applies to volunteer (%(areas)s)")
    minor = _("under 18, guardian consented")
    lines = []
    for row in rows:
        who = row.full_name or mask_phone(row.phone)
        if row.full_name:
            who = f"{row.full_name} ({mask_phone(row.phone)})"
        line = pattern % {"who": who, "areas": area_labels((row.service_areas or "").split(","))}
        if row.guardian_consent_at is not None:
            line += f" · {minor}"
        lines.append(line)
    return lines


def slot_labels(keys) -> str:
    out = []
    for d, d_label in DAYS.items():
        for t, t_label in TIMES.items():
            if f"{d}_{t}" in keys:
                out.append(f"{d_label} {t_label}")
    return "、".join(out)


def _facts(application: VolunteerApplication) -> list[tuple[str, str]]:
    user = application.user
    profile = user.profile if user is not None else None
    contact = application.emergency_contact
    facts = [
        (_("Applicant"), profile.full_name if profile else mask_phone(user.phone)),
        (_("Age"), str(age_of(user)) if profile else ""),
        (_("Branch"), application.branch.name(str(get_locale()))),
        (_("Service areas"), area_labels(application.area_keys)),
        (_("Available"), slot_labels(application.slot_keys)),
        (_("Skills and certificates"), application.skills or "—"),
        (_("Languages"), application.languages or "—"),
        (
            _("Emergency contact"),
            f"{contact['name']} ({contact['relation']}) {mask_phone(contact['phone'])}",
        ),
        (_("Health statement"), application.health or "—"),
        (_("Volunteer code"), _("Agreed (version %(v)s)", v=application.code_version)),
    ]
    guardian = application.guardian
    if guardian:
        facts.append(
            (
                _("Parent or guardian"),
                _(
                    "%(name)s, %(phone)s, consented (version %(v)s)",
                    name=guardian["name"],
                    phone=mask_phone(guardian["phone"]),
                    v=application.guardian_consent_version,
                ),
            )
        )
    return facts


register_kind(
    ReviewKind(
        key=KIND,
        label=_l("Volunteer registration"),
        model=VolunteerApplication,
        cards=_CARDS,
        summaries=_summaries,
        facts=_facts,
        on_approved=_register,
        decision_note=_number_note,
        personal_fields=("full_name", "birth_date"),
    )
)


# --- the card ----------------------------------------------------------------------------


def public_card(row) -> PublicCard:
    """`row`: the columns _card_row reads (number, status, branch names, full name)."""
    return PublicCard(
        kind_label=str(_l("Volunteer card")),
        masked_name=mask_name(row.full_name or ""),
        number=row.number,
        branch_name=name_in(str(get_locale()), row.name_zh, row.name_en),
        status_label=str(STATUS_LABELS.get(row.status, row.status)),
        is_valid=row.status == ACTIVE,
        valid_from=None,
        valid_until=None,
    )


def _card_row(*where):
    # Plain columns in one statement: the public page shows a few values, and building
    # Volunteer, User, profile and Branch objects for them (three lazy loads before)
    # was most of its time.
    return db.session.execute(
        select(
            Volunteer.number,
            Volunteer.status,
            Branch.name_zh,
            Branch.name_en,
            RealNameProfile.full_name,
        )
        .join(Branch, Branch.id == Volunteer.branch_id)
        .outerjoin(RealNameProfile, RealNameProfile.user_id == Volunteer.user_id)
        .where(*where)
    ).first()


def _by_token(token: str) -> PublicCard | None:
    row = _card_row(Volunteer.card_token == token)
    return public_card(row) if row is not None else None


def _by_number(number: str, surname: str) -> PublicCard | None:
    row = _card_row(Volunteer.number == number)
    if row is None or not surname_matches(row.full_name, surname):
        return None
    return public_card(row)


register_card_kind(
    CardKind(key=KIND, label=_l("Volunteer card"), by_token=_by_token, by_number=_by_number)
)


# --- the dashboard -----------------------------------------------------------------------


def volunteers_registered(branch_ids, start, end):
    """Volunteers of `branch_ids` by the time they were registered (approved)."""
    return select(
        Volunteer.branch_id.label("branch_id"),
        Volunteer.registered_at.label("at"),
        literal_column("1", Integer).label("amount"),
    ).where(
        Volunteer.branch_id.in_(branch_ids),
        Volunteer.registered_at >= start,
        Volunteer.registered_at < end,
    )


register_indicator(
    "volunteers",
    _l("New registered volunteers"),
    volunteers_registered,
    note=_l("Counted by the year the branch approved the volunteer."),
)
