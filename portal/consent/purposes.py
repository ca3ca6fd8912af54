"""The purposes people are asked to consent to, each with its consent text per version.

A purpose's text is what the person ticks. Changing what a text says means adding a new
version (the old one stays here: the ledger names the version each person agreed to);
the last version listed is the one asked for now. Later features (membership,
volunteering, marrow and organ registrations) add their purposes here.

What happens to the data when a consent is withdrawn (PIPL art. 47: data processed on
a consent that is withdrawn is deleted) is registered by the feature that holds the
data, with `on_withdrawal()` (this package sits below the features); the purpose's
`withdrawal_warning` tells the person before they confirm.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

ID_DOCUMENT = "id_document"
VOLUNTEER_GUARDIAN = "volunteer_guardian"
MARROW_HEALTH = "marrow_health"
MARROW_REGISTRY = "marrow_registry"
ORGAN_WISH = "organ_wish"


@dataclass(frozen=True)
class Purpose:
    key: str
    label: object  # a lazy string: the purpose in a few words
    texts: dict[str, object]  # version -> the lazy consent text shown beside the tick box
    give_at: str | None = None  # the endpoint of the form where the consent is asked for
    withdrawal_warning: object | None = None
    # False for a consent only some people are ever asked for (a minor's guardian):
    # "My consents" lists it only to those with a ledger row for it.
    listed_unasked: bool = True

    @property
    def version(self) -> str:
        """The version asked for now: the last one listed."""
        return list(self.texts)[-1]

    @property
    def text(self):
        return self.texts[self.version]


PURPOSES: dict[str, Purpose] = {
    p.key: p
    for p in (
        Purpose(
            key=ID_DOCUMENT,
            label=_l("Identity document number (real-name profile)"),
            texts={
                "1": _l(
                    "I separately agree that the Red Cross may process my identity document "
                    "number, which is sensitive personal information, to confirm who I am and "
                    "to make sure one person has only one account. It is stored encrypted and "
                    "shown only in part. I can withdraw this consent at any time under "
                    '"My consents".'
                ),
            },
            give_at="accounts.edit_profile",
            withdrawal_warning=_l(
                "If you withdraw this consent we delete your real-name profile: your name, "
                "document type and number, birth date and sex. Your account, your branch and "
                "decisions already made stay as they are. To join as a member, volunteer or "
                "donor you will need to add your profile again and agree again."
            ),
        ),
        # A volunteer applicant aged 14-17: their parent or guardian's consent, recorded
        # on the minor's own account (they tick it together when applying).
        Purpose(
            key=VOLUNTEER_GUARDIAN,
            label=_l("Parent or guardian's consent to volunteering (under 18)"),
            texts={
                "1": _l(
                    "I am the parent or legal guardian of the applicant. I agree that they "
                    "register as a Red Cross volunteer, that the Red Cross processes their "
                    "personal information for this, and that they take part only in "
                    "activities suited to their age."
                ),
            },
            give_at="volunteering.apply",
            listed_unasked=False,
            withdrawal_warning=_l(
                "If this consent is withdrawn, a volunteer application still waiting is "
                "withdrawn, a volunteer under 18 stops being a registered volunteer, and "
                "the parent or guardian's name and phone are deleted."
            ),
        ),
        Purpose(
            key=MARROW_HEALTH,
            label=_l("Health information for stem cell (marrow) donation"),
            texts={
                "1": _l(
                    "I separately agree that the Red Cross may process the health information "
                    "I give for stem cell (marrow) donor pre-registration (my weight and my "
                    "answers to the health questions) and my emergency contacts, which is "
                    "sensitive personal information, to decide whether I can register and to "
                    "reach me about a blood sample. It is stored encrypted. I can withdraw "
                    'this consent at any time on the donor page or under "My consents".'
                ),
            },
            give_at="marrow.register",
            withdrawal_warning=_l(
                "If you withdraw this consent your stem cell (marrow) registration is "
                "withdrawn, any sample appointment is cancelled, and your health answers, "
                "emergency contacts and contact preferences are deleted."
            ),
        ),
        Purpose(
            key=MARROW_REGISTRY,
            label=_l("Sharing a marrow registration with the China Marrow Donor Program"),
            texts={
                "1": _l(
                    "I separately agree that the Red Cross may share my name, identity "
                    "document, contact details and, once my blood sample is typed, my HLA "
                    "type with the China Marrow Donor Program (中华骨髓库), the national "
                    "registry, so that a patient who matches me can be found. I can withdraw "
                    'this consent at any time on the donor page or under "My consents".'
                ),
            },
            give_at="marrow.register",
            withdrawal_warning=_l(
                "If you withdraw this consent your stem cell (marrow) registration is "
                "withdrawn and the registry is told to remove you; any sample appointment "
                "is cancelled and your health answers and contacts are deleted."
            ),
        ),
        Purpose(
            key=ORGAN_WISH,
            label=_l("Organ and body donation wishes"),
            texts={
                "1": _l(
                    "I separately agree that the Red Cross may process my organ and body "
                    "donation wishes and my family contact, which is sensitive personal "
                    "information, to keep my registration and tell the organ procurement "
                    "organisation of my wish when the time comes. It is stored encrypted. "
                    'I can withdraw this consent at any time under "My consents".'
                ),
            },
            give_at="organ.register",
            withdrawal_warning=_l(
                "If you withdraw this consent your organ and body donation registration is "
                "withdrawn, your card stops being valid, and the choices and family contact "
                "of every version are deleted."
            ),
        ),
    )
}


def get(key: str) -> Purpose | None:
    return PURPOSES.get(key)


_WITHDRAWAL_EFFECTS: dict[str, Callable] = {}


def on_withdrawal(key: str, effect: Callable) -> None:
    """Have `effect(user)` run, in the withdrawing transaction, when `user` withdraws
    consent to `key` (the feature holding the data calls this at import time)."""
    _WITHDRAWAL_EFFECTS[key] = effect


def withdrawal_effect(key: str) -> Callable | None:
    return _WITHDRAWAL_EFFECTS.get(key)
