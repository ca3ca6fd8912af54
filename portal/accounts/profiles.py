"""Saving a user's real-name profile. Adds and flushes only; the caller commits once.

The document number is encrypted (crypto.encrypt, context "doc_number"), indexed by a
keyed hash of "<doc_type>:<number>" so one document belongs to one account, and kept
masked for display. The plain number is never logged, audited or returned.

A profile holds a document number, sensitive personal information (PIPL art. 28-29), so
it is saved only with the person's separate consent (purpose ID_DOCUMENT), written to the
consent ledger in the same transaction. Withdrawing that consent deletes the profile
(forget_profile).
"""

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import audit, crypto
from portal.accounts import identity
from portal.accounts.identity import RESIDENT_ID, IdentityError
from portal.accounts.models import RealNameProfile, User
from portal.consent import services as consent
from portal.consent.purposes import ID_DOCUMENT, on_withdrawal
from portal.extensions import db
from portal.timeutil import today_local

DOC_NUMBER_CONTEXT = "doc_number"
SEXES = ("M", "F")

DOCUMENT_IN_USE = _l(
    "This document is already linked to another account. If it is yours, please contact "
    "your local Red Cross branch."
)
CONSENT_NEEDED = _l(
    "To save your document number we need your consent: please tick the box. Without it "
    "you can still use your account, but not add a real-name profile."
)
SAVED_ELSEWHERE = _l(
    "Your profile was changed in another window at the same time. Please check it and save again."
)


class ProfileError(ValueError):
    """The profile was refused. `errors` maps a form field name (or None for the whole
    form) to a translatable message. `hide_number` says the typed document number may be a
    real one, so a page must not show it back. After a ProfileError the caller rolls back."""

    def __init__(self, errors: dict[str | None, object], *, hide_number: bool = False):
        super().__init__(", ".join(str(k) for k in errors))
        self.errors = errors
        self.hide_number = hide_number


def document_index(doc_type: str, number: str) -> str:
    """The keyed hash that finds a document without decrypting anything."""
    return crypto.blind_index(f"{doc_type}:{number}", DOC_NUMBER_CONTEXT)


def document_in_use(doc_type: str, number: str, *, except_user_id: int | None = None) -> bool:
    """True when another account's profile already holds this (normalised) document."""
    stmt = select(RealNameProfile.id).where(
        RealNameProfile.doc_number_hmac == document_index(doc_type, number)
    )
    if except_user_id is not None:
        stmt = stmt.where(RealNameProfile.user_id != except_user_id)
    return db.session.scalar(stmt.limit(1)) is not None


def document_number(profile: RealNameProfile) -> str:
    """The full document number. Only for the person themselves (e.g. their own data export)
    or an audited staff action; never put it in a URL, log line or audit entry."""
    return crypto.decrypt(profile.doc_number_enc, DOC_NUMBER_CONTEXT)


def save_profile(
    user: User,
    *,
    full_name: str | None,
    doc_type: str | None,
    doc_number: str | None = None,
    birth_date: date | str | None = None,
    sex: str | None = None,
    id_consent: bool = False,
    ip: str | None = None,
    today: date | None = None,
) -> RealNameProfile:
    """Create or update `user`'s real-name profile and audit which fields changed.

    Promises: the name is normalised; a resident ID number gives the birth date and sex
    (the typed ones are ignored); other documents need a birth date (text like 1960-05-01
    or a date) and may give a sex. An empty `doc_number`, and for other documents an
    empty `birth_date`, keeps the stored value when the document type is unchanged.
    Unless the person's consent to the current ID_DOCUMENT text already stands,
    `id_consent` must be True: it is then recorded in the ledger (from `ip`) with the
    profile.

    Refuses (ProfileError, nothing written): no consent (error on "id_consent"), any
    invalid field, anyone under 14 on
    `today` (default: today in Asia/Shanghai), and a document already linked to another
    account — also when that other account saved it a moment ago (unique index on flush).
    """
    today = today or today_local()
    profile = db.session.scalar(select(RealNameProfile).where(RealNameProfile.user_id == user.id))
    errors: dict[str | None, object] = {}
    needs_consent = not consent.is_given(user, ID_DOCUMENT)
    if needs_consent and not id_consent:
        errors["id_consent"] = CONSENT_NEEDED

    name = _check(errors, "full_name", identity.normalise_name, full_name)
    if doc_type not in identity.DOC_TYPES:
        errors["doc_type"] = _l("Please choose a document type.")
        # The number was not checked against any document type: do not show it back.
        raise ProfileError(errors, hide_number=bool((doc_number or "").strip()))

    number, born, sex_value = _document_facts(errors, profile, doc_type, doc_number, today)
    if doc_type != RESIDENT_ID:
        born = _other_birth_date(errors, birth_date, today, _kept_birth_date(profile, doc_type))
        sex_value = (sex or "").strip() or None
        if sex_value is not None and sex_value not in SEXES:
            errors["sex"] = _l("Please choose from the list.")
    if born is not None:
        age_field = "doc_number" if doc_type == RESIDENT_ID else "birth_date"
        _check(errors, age_field, identity.check_minimum_age, born, today)
    if number is not None and "doc_number" not in errors:
        if document_in_use(doc_type, number, except_user_id=user.id):
            errors["doc_number"] = DOCUMENT_IN_USE
    if errors:
        raise ProfileError(errors, hide_number=number is not None)

    created = profile is None
    if created:
        profile = RealNameProfile(user=user)
        db.session.add(profile)
    changed = _apply(profile, name, doc_type, number, born, sex_value)
    try:
        db.session.flush()
    except IntegrityError as exc:
        # Another request won the race past document_in_use(): report it the same way.
        if "doc_number_hmac" in str(exc.orig):
            raise ProfileError({"doc_number": DOCUMENT_IN_USE}, hide_number=True) from exc
        raise ProfileError({None: SAVED_ELSEWHERE}, hide_number=number is not None) from exc
    if needs_consent:
        consent.give(user, ID_DOCUMENT, ip=ip)
    if changed:
        audit.record(
            "profile_created" if created else "profile_updated",
            actor=user,
            object_kind="real_name_profile",
            object_id=profile.id,
            changes={"fields": changed},
        )
    return profile


def forget_profile(user: User, *, reason: str) -> bool:
    """Delete `user`'s real-name profile (name, document, birth date, sex) and audit it
    with `reason` and the field names. True if there was one. What the profile allowed
    before (an approved branch, decisions made) is not undone."""
    profile = db.session.scalar(select(RealNameProfile).where(RealNameProfile.user_id == user.id))
    if profile is None:
        return False
    profile_id = profile.id
    db.session.delete(profile)
    db.session.flush()
    db.session.expire(user, ["profile"])
    audit.record(
        "profile_deleted",
        actor=user,
        object_kind="real_name_profile",
        object_id=profile_id,
        changes={"reason": reason},
    )
    return True


def _check(errors: dict, field: str, rule, *args):
    try:
        return rule(*args)
    except IdentityError as exc:
        errors.setdefault(field, exc.message)
        return None


def _document_facts(errors, profile, doc_type, doc_number, today):
    """(new number or None to keep the stored one, birth date, sex) for the document."""
    typed = (doc_number or "").strip()
    if not typed:
        if profile is not None and profile.doc_type == doc_type:
            return None, profile.birth_date if doc_type == RESIDENT_ID else None, profile.sex
        errors["doc_number"] = (
            _l("Please enter the number of your new document.")
            if profile is not None
            else _l("Please enter your document number.")
        )
        return None, None, None
    if doc_type == RESIDENT_ID:
        parsed = _check(errors, "doc_number", identity.parse_resident_id, typed, today)
        return (parsed.number, parsed.birth_date, parsed.sex) if parsed else (None, None, None)
    return _check(errors, "doc_number", identity.normalise_document, doc_type, typed), None, None


def _kept_birth_date(profile, doc_type) -> date | None:
    """The stored birth date an empty box keeps: the edit form does not show it in full
    beside the masked number, so the person need not type it again to save."""
    if profile is not None and profile.doc_type == doc_type:
        return profile.birth_date
    return None


def _other_birth_date(errors, value, today, kept: date | None = None) -> date | None:
    if isinstance(value, date):
        born = value
    elif kept is not None and not (value or "").strip():
        return kept
    else:
        born = _check(errors, "birth_date", identity.parse_birth_date, value)
    if born is not None:
        _check(errors, "birth_date", identity.check_birth_date, born, today)
    return None if "birth_date" in errors else born


def _apply(profile, name, doc_type, number, born, sex) -> list[str]:
    """Set the new values; return the names of the fields that changed (never values)."""
    changed = []
    new_values = {"full_name": name, "doc_type": doc_type, "birth_date": born, "sex": sex}
    for field, value in new_values.items():
        if getattr(profile, field) != value:
            setattr(profile, field, value)
            changed.append(field)
    if number is not None:
        index = document_index(doc_type, number)
        if profile.doc_number_hmac != index:
            profile.doc_number_enc = crypto.encrypt(number, DOC_NUMBER_CONTEXT)
            profile.doc_number_hmac = index
            profile.doc_number_masked = identity.mask_document(doc_type, number)
            changed.append("doc_number")
    return changed


# Withdrawing the consent to process the ID number deletes the profile it was given for.
on_withdrawal(ID_DOCUMENT, lambda user: forget_profile(user, reason="consent_withdrawn"))
