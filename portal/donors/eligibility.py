"""Who may pre-register as a stem cell (marrow) donor (中华骨髓库): age 18–45 on the
day, from the birth date in the resident ID number; weight at least 50 kg for men and
45 kg for women (sex from the ID number); no "yes" to a deferral question. Pure rules:
no database, no request, so every boundary is tested directly."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from portal.accounts.identity import age_on

MIN_AGE, MAX_AGE = 18, 45
MIN_WEIGHT = {"M": Decimal(50), "F": Decimal(45)}

# Deferral questions: a "yes" to any of them means registering cannot go on now. Keys are
# stable (they name the answers); the wording may change. "female_only" questions are
# asked of women only.
QUESTIONS: dict[str, object] = {
    "blood_infection": _l(
        "Have you ever had hepatitis B or C, HIV, syphilis or another infection carried by blood?"
    ),
    "chronic_disease": _l(
        "Are you being treated for a long-term illness, such as heart, lung, kidney or "
        "liver disease, diabetes, epilepsy or an autoimmune disease?"
    ),
    "cancer_or_blood": _l("Have you ever had cancer or a disease of the blood?"),
    "recent_transfusion": _l(
        "Have you had a blood transfusion, an operation or an organ transplant in the "
        "last 12 months?"
    ),
    "pregnancy": _l(
        "Are you pregnant, or have you given birth or breastfed in the last 12 months?"
    ),
}
FEMALE_ONLY = frozenset({"pregnancy"})

# Why a "yes" stops registration, said kindly: nothing about the answer is kept.
DEFERRAL_REASONS: dict[str, object] = {
    "blood_infection": _l(
        "Donating stem cells could pass an infection carried by blood to a patient whose "
        "immune system has been switched off for the transplant, so people who have had "
        "one cannot join the registry. Thank you for wanting to help: you can still "
        "volunteer or support the Red Cross in other ways."
    ),
    "chronic_disease": _l(
        "Donating needs a few days of medicine and a collection that takes some hours, "
        "which could be hard on your own health while you are being treated. Please look "
        "after yourself first; if your doctor later says you are well, you are welcome to "
        "come back."
    ),
    "cancer_or_blood": _l(
        "To keep both donor and patient safe, people who have had cancer or a disease of "
        "the blood cannot join the registry. Thank you for wanting to help: you can still "
        "volunteer or support the Red Cross in other ways."
    ),
    "recent_transfusion": _l(
        "After a transfusion, an operation or a transplant the body needs time to settle, "
        "and the blood sample would not show your own type reliably. You are welcome to "
        "come back 12 months after it."
    ),
    "pregnancy": _l(
        "During pregnancy, and for a year after giving birth or while breastfeeding, your "
        "own health and your baby's come first. You are welcome to come back after that."
    ),
}

TOO_YOUNG = _l(
    "Stem cell donors register from their 18th birthday. Thank you for wanting to help: "
    "you are welcome to come back when you are 18."
)
TOO_OLD = _l(
    "The registry takes new donors up to the age of 45, because stem cells from younger "
    "donors help patients most and donors may be called for many years. Thank you for "
    "wanting to help: you can still give blood, volunteer or support the Red Cross in "
    "other ways."
)


def questions_for(sex: str | None) -> list[str]:
    """The deferral question keys to ask someone of `sex` ("M" / "F")."""
    return [k for k in QUESTIONS if sex == "F" or k not in FEMALE_ONLY]


def age_refusal(birth_date: date, today: date):
    """The kind message refusing someone too young or too old on `today`, else None.
    18 on their birthday is in; 45 is in until the day they turn 46."""
    age = age_on(birth_date, today)
    if age < MIN_AGE:
        return TOO_YOUNG
    if age > MAX_AGE:
        return TOO_OLD
    return None


def weight_refusal(sex: str | None, weight_kg: Decimal):
    """The message for a weight under the limit for `sex`, else None."""
    limit = MIN_WEIGHT.get(sex or "", MIN_WEIGHT["M"])
    if weight_kg < limit:
        return _l(
            "Donors need to weigh at least %(kg)d kg, so that giving stem cells is safe for "
            "you. Thank you for wanting to help.",
            kg=int(limit),
        )
    return None


@dataclass(frozen=True)
class Deferral:
    question: str
    reason: object


def first_deferral(sex: str | None, answers: dict[str, bool]) -> Deferral | None:
    """The first question asked of `sex` answered "yes", with its kind explanation."""
    for key in questions_for(sex):
        if answers.get(key):
            return Deferral(key, DEFERRAL_REASONS[key])
    return None
