"""Organ and body donation wishes (人体器官 / 遗体捐献志愿登记): registering (18+, with
consent), amending (each change a new version; the latest counts; the history is kept
and shown to the registrant), withdrawing after an SMS code, and the e-registration card
whose public verification shows only the masked name, "registered" and the date.

Services take plain values, add and flush only; the views commit."""

from datetime import date

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal import audit
from portal.accounts import smscodes
from portal.accounts.identity import age_on
from portal.accounts.models import User
from portal.cards.services import (
    CardKind,
    PublicCard,
    mask_name,
    new_token,
    register_card_kind,
    surname_matches,
)
from portal.consent import services as consent
from portal.consent.purposes import ORGAN_WISH, on_withdrawal
from portal.donors.models import REGISTERED, WITHDRAWN, OrganRegistration, OrganWishVersion
from portal.donors.notify import sms
from portal.extensions import db
from portal.notifications.services import queue_sms
from portal.numbering.services import next_number
from portal.timeutil import to_local, today_local, utcnow

MIN_AGE = 18
CODE_PURPOSE = "organ_withdraw"

ORGANS = {
    "heart": _l("Heart"),
    "lungs": _l("Lungs"),
    "liver": _l("Liver"),
    "kidneys": _l("Kidneys"),
    "pancreas": _l("Pancreas"),
    "small_intestine": _l("Small intestine"),
}
TISSUES = {
    "corneas": _l("Corneas"),
    "skin": _l("Skin"),
    "bone": _l("Bone"),
    "heart_valves": _l("Heart valves"),
    "blood_vessels": _l("Blood vessels"),
}
SCOPES = ("all", "some", "none")
STATUS_LABELS = {REGISTERED: _l("Registered"), WITHDRAWN: _l("Withdrawn")}
CHANGED_ELSEWHERE = _l(
    "Your registration was just changed in another window. Please check it and try again."
)


class OrganError(ValueError):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def current_registration(user) -> OrganRegistration | None:
    return db.session.scalar(
        select(OrganRegistration).where(
            OrganRegistration.user_id == user.id, OrganRegistration.status == REGISTERED
        )
    )


def latest_registration(user) -> OrganRegistration | None:
    return db.session.scalar(
        select(OrganRegistration)
        .where(OrganRegistration.user_id == user.id)
        .order_by(OrganRegistration.id.desc())
        .limit(1)
    )


def latest_version(reg: OrganRegistration) -> OrganWishVersion | None:
    return reg.versions[-1] if reg.versions else None


def latest_wish(reg: OrganRegistration) -> OrganWishVersion | None:
    """The version that counts: the newest that registered a wish."""
    return next((v for v in reversed(reg.versions) if v.action == REGISTERED), None)


def refusal(user, today: date | None = None):
    """Why `user` cannot register now (lazy message), or None."""
    profile = user.profile
    if profile is None:
        return _l("Please add your real-name profile first.")
    if user.home_branch_id is None:
        return _l("Donors register with their own branch. Please choose your branch first.")
    if age_on(profile.birth_date, today or today_local()) < MIN_AGE:
        return _l(
            "Organ and body donation wishes can be registered from the age of 18. Thank "
            "you for thinking of it."
        )
    return None


def _check(choices: dict, family: dict) -> None:
    scope = choices.get("organs_scope")
    organs, tissues = choices.get("organs") or [], choices.get("tissues") or []
    if (
        scope not in SCOPES
        or any(o not in ORGANS for o in organs)
        or any(t not in TISSUES for t in tissues)
    ):
        raise OrganError(_l("Please choose only from the list."))
    if scope == "some" and not organs:
        raise OrganError(_l("Please tick the organs you choose."))
    if scope == "none" and not tissues and not choices.get("body"):
        raise OrganError(_l("Please choose at least one thing to donate."))
    if not (family.get("name") and family.get("phone") and family.get("informed")):
        raise OrganError(
            _l("Please tell a family member first: they will be asked when the time comes.")
        )


def _version(reg: OrganRegistration, choices: dict | None, family: dict | None, action=REGISTERED):
    number = (latest_version(reg).version if reg.versions else 0) + 1
    version = OrganWishVersion(version=number, action=action)
    version.choices = choices
    version.family = family
    try:
        with db.session.begin_nested():  # two windows saving at once: one wins
            # Linked only inside the savepoint: begin_nested() flushes on entry, and a
            # version already in reg.versions but not yet added would be skipped there.
            version.registration = reg
            db.session.add(version)
    except IntegrityError:
        raise OrganError(CHANGED_ELSEWHERE) from None
    return version


def _lock(reg: OrganRegistration) -> None:
    """Re-read the registration under a row lock (PostgreSQL), so two changes of one
    registration happen one after the other."""
    db.session.refresh(reg, with_for_update=True)


def register(
    user, choices: dict, family: dict, *, consent_given: bool, ip=None
) -> OrganRegistration:
    """Register `user`'s wish: the consent in the ledger, a numbered registration with a
    card token and version 1, the "received" SMS and an audit line."""
    problem = refusal(user)
    if problem is not None:
        raise OrganError(problem)
    _check(choices, family)
    if not consent_given:
        raise OrganError(
            _l("Without this consent we cannot register you. Please read it and tick it.")
        )
    if current_registration(user) is not None:
        raise OrganError(_l("You are already registered. You can amend your wishes."))
    version = consent.give(user, ORGAN_WISH, ip=ip).version
    branch = user.home_branch
    reg = OrganRegistration(
        user_id=user.id,
        branch_id=branch.id,
        number=f"QG-{branch.code or branch.id}-{next_number(f'organ:{branch.code or branch.id}'):06d}",
        status=REGISTERED,
        card_token=new_token(),
        consent_version=version,
    )
    try:
        with db.session.begin_nested():
            db.session.add(reg)
    except IntegrityError:
        raise OrganError(_l("You are already registered. You can amend your wishes.")) from None
    _version(reg, choices, family)
    audit.record(
        "organ_registered",
        actor=user,
        branch_id=reg.branch_id,
        object_kind="organ_registration",
        object_id=reg.id,
    )
    sms(
        user,
        "organ_received",
        _l(
            "Thank you: your organ and body donation wish is registered (%(number)s). You "
            "can amend or withdraw it at any time on the portal."
        ),
        number=reg.number,
    )
    return reg


def amend(reg: OrganRegistration, user, choices: dict, family: dict) -> OrganWishVersion:
    """A new version of the wishes (earlier ones are kept). Refuses a withdrawn
    registration or someone else's."""
    if reg.user_id != user.id:
        raise OrganError(_l("This registration cannot be changed."))
    _lock(reg)
    if reg.status != REGISTERED:
        raise OrganError(_l("This registration cannot be changed."))
    _check(choices, family)
    version = _version(reg, choices, family)
    audit.record(
        "organ_amended",
        actor=user,
        branch_id=reg.branch_id,
        object_kind="organ_registration",
        object_id=reg.id,
        changes={"version": version.version},
    )
    sms(
        user,
        "organ_amended",
        _l("Your organ and body donation wish %(number)s has been updated (version %(v)s)."),
        number=reg.number,
        v=version.version,
    )
    return version


def send_withdraw_code(user) -> None:
    """Text the registrant a code to confirm the withdrawal (raises
    smscodes.ResendTooSoon inside the resend interval)."""
    issued = smscodes.issue_code(user.phone, CODE_PURPOSE)
    queue_sms(user.phone, _withdraw_code_text(user, issued.code), kind="organ_withdraw_code")


def _withdraw_code_text(user, code: str) -> str:
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        return _(
            "Your code to withdraw your organ and body donation registration is %(code)s. "
            "If you did not ask for it, ignore this message.",
            code=code,
        )


def withdraw(reg: OrganRegistration, user, code: str) -> None:
    """Withdraw after the SMS code: a "withdrawn" version is added (the history stays),
    the card stops being valid, "withdrawal confirmed" is texted.

    Refuses: smscodes.CodeError for a wrong or spent code; OrganError otherwise."""
    if reg.user_id != user.id or reg.status != REGISTERED:
        raise OrganError(_l("This registration cannot be changed."))
    smscodes.verify_code(user.phone, CODE_PURPOSE, code)
    _lock(reg)
    if reg.status != REGISTERED:
        raise OrganError(_l("This registration cannot be changed."))
    _end(reg, user)


def _end(reg: OrganRegistration, user) -> None:
    reg.status = WITHDRAWN
    reg.withdrawn_at = utcnow()
    _version(reg, None, None, action=WITHDRAWN)
    audit.record(
        "organ_withdrawn",
        actor=user,
        branch_id=reg.branch_id,
        object_kind="organ_registration",
        object_id=reg.id,
    )
    sms(
        user,
        "organ_withdrawn",
        _l(
            "Your organ and body donation registration %(number)s has been withdrawn. You "
            "can register again at any time."
        ),
        number=reg.number,
    )
    db.session.flush()


def _erase_on_consent(user) -> None:
    """Consent withdrawn: the registration ends and every version's choices and family
    contact are deleted (what was processed on that consent)."""
    reg = current_registration(user)
    if reg is not None:
        _end(reg, user)
    for old in db.session.scalars(
        select(OrganRegistration).where(OrganRegistration.user_id == user.id)
    ):
        for version in old.versions:
            version.choices = None
            version.family = None
    db.session.flush()


on_withdrawal(ORGAN_WISH, _erase_on_consent)


def describe(choices: dict | None) -> list[str]:
    """The wishes in words, for the registrant's own pages and staff's record page."""
    if not choices:
        return []
    lines = []
    scope = choices.get("organs_scope")
    if scope == "all":
        lines.append(_("All organs that can help someone"))
    elif scope == "some":
        lines.append(
            _(
                "Organs: %(list)s",
                list="、".join(str(ORGANS[o]) for o in choices["organs"] if o in ORGANS),
            )
        )
    if choices.get("tissues"):
        lines.append(
            _(
                "Tissues: %(list)s",
                list="、".join(str(TISSUES[t]) for t in choices["tissues"] if t in TISSUES),
            )
        )
    if choices.get("body"):
        lines.append(_("My body, for medical education and research"))
    return lines


# --- the e-registration card, as the public may see it ---------------------------------


def _public(reg: OrganRegistration | None) -> PublicCard | None:
    if reg is None:
        return None
    profile = reg.user.profile if reg.user is not None else None
    return PublicCard(
        kind_label=_("Organ and body donation registration"),
        masked_name=mask_name(profile.full_name if profile else ""),
        number="",  # only the masked name, the status and the date are shown
        branch_name="",
        status_label=status_label(reg.status),
        is_valid=reg.status == REGISTERED,
        valid_from=to_local(reg.created_at).date() if reg.status == REGISTERED else None,
    )


def _load(*where) -> OrganRegistration | None:
    return db.session.scalar(
        select(OrganRegistration)
        .where(*where)
        .options(joinedload(OrganRegistration.user).joinedload(User.profile))
    )


def _by_token(token: str) -> PublicCard | None:
    return _public(_load(OrganRegistration.card_token == token))


def _by_number(number: str, surname: str) -> PublicCard | None:
    reg = _load(OrganRegistration.number == number)
    if reg is None or reg.user is None or reg.user.profile is None:
        return None
    if not surname_matches(reg.user.profile.full_name, surname):
        return None
    return _public(reg)


register_card_kind(
    CardKind(
        key="organ",
        label=_l("Organ and body donation registration"),
        by_token=_by_token,
        by_number=_by_number,
    )
)
