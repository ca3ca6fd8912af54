"""Pure rules for real-name identity: document types, document numbers, names, masking, age.

Nothing here touches the database or the request, so every rule is tested directly.
Validation failures raise IdentityError with a translatable message.

Resident ID numbers (GB 11643) are checked with `stdnum.cn.ric`'s parts (length, digits,
checksum, birth date, region) rather than `ric.validate()` as a whole, for three reasons:

- `ric.validate()` also requires the county code to have existed in the birth year. The code
  is where the person was first registered, which is often years after birth (a woman born
  in 1955 whose first card was issued in 渭滨区 in 1985 has 610302 + 1955). Refusing those
  would lock out exactly the older citizens the portal serves, so a county code is accepted
  when python-stdnum knows it in any period.
- The 18-digit Residence Permits for Hong Kong, Macao and Taiwan Residents use the same
  checksum with the region codes 810000 / 820000 / 830000; stdnum rejects 830000 always and
  the other two for anyone born before 1997 / 1999. Those three codes are accepted and the
  number is stored under "resident_id" (same format, same masking).
- `ric.validate()` raises KeyError (not a ValidationError) for a known province with an
  unknown county, e.g. 619999; going through the parts keeps that a field error.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

RESIDENT_ID = "resident_id"
PASSPORT = "passport"
HK_MACAO_PERMIT = "hk_macao_permit"
TAIWAN_PERMIT = "taiwan_permit"

DOC_TYPES = {
    RESIDENT_ID: _l("Resident ID card"),
    PASSPORT: _l("Passport"),
    HK_MACAO_PERMIT: _l("Mainland Travel Permit for Hong Kong and Macao Residents"),
    TAIWAN_PERMIT: _l("Mainland Travel Permit for Taiwan Residents"),
}

RESIDENCE_PERMIT_REGIONS = frozenset({"810000", "820000", "830000"})
MIN_AGE = 14
MAX_NAME_LENGTH = 50
EARLIEST_BIRTH_YEAR = 1900

_RESIDENT_ID_RE = re.compile(r"[0-9]{17}[0-9X]")
_HK_MACAO_RE = re.compile(r"[HM]([0-9]{8}|[0-9]{10})")
_TAIWAN_RE = re.compile(r"[0-9]{8}")
# Passports of every country: letters and digits only, after spaces and dashes are removed.
_PASSPORT_RE = re.compile(r"[A-Z0-9]{5,20}")

# Name separators allowed between letters. The curly apostrophe is what phone keyboards type.
_NAME_DOTS = "\u00b7\u30fb\u2022"
_NAME_SEPARATORS = frozenset(_NAME_DOTS + " -'\u2019")
_WIDE_SPACE = "\u3000"  # what Chinese input methods type for a space


class IdentityError(ValueError):
    """A value that breaks an identity rule. `message` is translated (lazily) text."""

    def __init__(self, message):
        # Not str(message): the translation is chosen later, where the locale is known.
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ResidentId:
    number: str  # normalised: 18 characters, upper-case X
    birth_date: date
    sex: str  # "M" | "F"


def doc_type_label(doc_type: str):
    return DOC_TYPES.get(doc_type, doc_type)


def normalise_name(value: str | None) -> str:
    """A person's name, trimmed, NFC-normalised and with single spaces between words.
    Refuses empty or over-long names and any character that cannot be part of a name."""
    name = unicodedata.normalize("NFC", (value or "").replace(_WIDE_SPACE, " "))
    name = re.sub(" {2,}", " ", name.strip(" "))
    # "买买提 · 艾力": people often put spaces around the middle dot; the name has none.
    name = re.sub(f" ?([{_NAME_DOTS}]) ?", r"\1", name)
    if not name:
        raise IdentityError(_l("Please enter your name."))
    if len(name) > MAX_NAME_LENGTH:
        raise IdentityError(_l("Your name can be at most %(max)d characters.", max=MAX_NAME_LENGTH))
    previous_was_separator = True  # so a name cannot start with a separator
    for char in name:
        if char in _NAME_SEPARATORS:
            if previous_was_separator:
                raise IdentityError(
                    _l("Dots, hyphens and apostrophes can only go between letters.")
                )
            previous_was_separator = True
            continue
        category = unicodedata.category(char)
        if category.startswith("L"):
            previous_was_separator = False
        elif not (category.startswith("M") and not previous_was_separator):
            # A combining mark is only accepted on a letter before it.
            raise IdentityError(
                _l(
                    "A name can only contain letters, spaces, the middle dot (·), hyphens and apostrophes."
                )
            )
    if previous_was_separator:
        raise IdentityError(_l("Dots, hyphens and apostrophes can only go between letters."))
    return name


def _compact(value: str | None) -> str:
    """Strip spaces and dashes people type inside numbers; full-width digits become ASCII."""
    text = unicodedata.normalize("NFKC", value or "")
    return re.sub(r"[\s\-]", "", text).upper()


@lru_cache(maxsize=4096)
def _known_region(code: str) -> bool:
    # Cached: a staff import checks thousands of numbers from the same few counties.
    if code in RESIDENCE_PERMIT_REGIONS:
        return True
    info = {k: v for _part, props in numdb.get("cn/loc").info(code) for k, v in props.items()}
    return "county" in info


def parse_resident_id(value: str | None, today: date) -> ResidentId:
    """Validate an 18-digit resident ID (or HK/Macao/Taiwan residence permit) number and
    read the birth date and sex from it. Refuses a wrong length or checksum, an impossible
    or future birth date and a region code python-stdnum does not know."""
    number = _compact(value)
    if not number:
        raise IdentityError(_l("Please enter your document number."))
    if not _RESIDENT_ID_RE.fullmatch(number):
        raise IdentityError(
            _l("A resident ID number has 18 characters: 17 digits, then a digit or X.")
        )
    if number[17] != ric.calc_check_digit(number):
        raise IdentityError(
            _l("This ID number is not right: please check each digit against your card.")
        )
    try:
        birth_date = ric.get_birth_date(number)
    except ValidationError:
        raise IdentityError(
            _l("The birth date in this ID number (digits 7 to 14) is not a real date.")
        ) from None
    check_birth_date(birth_date, today)
    if not _known_region(number[:6]):
        raise IdentityError(
            _l("The first six digits of this ID number are not a known region code.")
        )
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return ResidentId(number=number, birth_date=birth_date, sex=sex)


def normalise_document(doc_type: str, value: str | None) -> str:
    """The number of a passport or travel permit, upper-cased with spaces and dashes removed.
    Refuses a number that does not have that document's shape. (Resident IDs: parse_resident_id.)"""
    number = _compact(value)
    if not number:
        raise IdentityError(_l("Please enter your document number."))
    if doc_type == HK_MACAO_PERMIT:
        if not _HK_MACAO_RE.fullmatch(number):
            raise IdentityError(
                _l("This permit number starts with H or M, followed by 8 or 10 digits.")
            )
    elif doc_type == TAIWAN_PERMIT:
        if not _TAIWAN_RE.fullmatch(number):
            raise IdentityError(_l("This permit number has 8 digits."))
    elif doc_type == PASSPORT:
        if not _PASSPORT_RE.fullmatch(number):
            raise IdentityError(
                _l("A passport number has 5 to 20 letters and digits, as printed in your passport.")
            )
        # The look-up index is per document type, so a resident ID or a permit typed in
        # as a "passport" would slip past "one document, one account".
        if _RESIDENT_ID_RE.fullmatch(number) and number[17] == ric.calc_check_digit(number):
            raise IdentityError(
                _l('This is a resident ID number. Please choose "Resident ID card" above.')
            )
        if _HK_MACAO_RE.fullmatch(number):
            raise IdentityError(
                _l("This is a travel permit number. Please choose the permit above.")
            )
    else:
        raise IdentityError(_l("Please choose a document type."))
    return number


def check_birth_date(birth_date: date, today: date) -> None:
    """Refuse a birth date in the future or before 1900."""
    if birth_date > today:
        raise IdentityError(_l("The birth date is in the future. Please check it."))
    if birth_date.year < EARLIEST_BIRTH_YEAR:
        raise IdentityError(_l("Please check the birth date: the year looks wrong."))


def age_on(birth_date: date, today: date) -> int:
    """Whole years completed on `today` (someone born on 29 February turns a year older on
    1 March in common years)."""
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )


def check_minimum_age(birth_date: date, today: date) -> None:
    """Refuse anyone younger than MIN_AGE: they need a guardian, which is not built yet."""
    if age_on(birth_date, today) < MIN_AGE:
        raise IdentityError(
            _l(
                "People under %(age)d need a parent or guardian to register with them. "
                "Registering with a guardian is coming soon; for now please ask an adult "
                "in your family to register.",
                age=MIN_AGE,
            )
        )


# Numbers shorter than this are hidden entirely: with the first and last kept, too few
# characters would be left hidden.
_MASK_MIN_LENGTH = 6

# An ID number inside free text: a resident ID (17 digits and a digit or X, or the old 15
# digits) never part of a longer run of digits, or one masked the way the portal did before
# (first 4 and last 4 kept), which still gave the number back beside a birth date and county.
_ID_IN_TEXT_RE = re.compile(
    r"(?<![0-9*])(?:[0-9]{17}[0-9Xx]|[0-9]{15}|[0-9]{4}\*{10}[0-9]{3}[0-9Xx]|[0-9]{4}\*{7}[0-9]{4})"
    r"(?![0-9*])"
)


def mask_document(doc_type: str, number: str) -> str:
    """Shown instead of the number everywhere: the first and last character kept, the rest
    starred, same length ("6****************X"), whatever the document. A resident ID's
    digits 1-6 are the county and 7-14 the birth date, so keeping more would let anyone
    who also knows where and when a person was born read the whole number back."""
    if len(number) < _MASK_MIN_LENGTH:
        return "*" * len(number)
    return number[0] + "*" * (len(number) - 2) + number[-1]


def mask_id_numbers_in_text(text: str) -> str:
    """`text` with every resident-ID-shaped run (raw, or masked the old way) masked like
    mask_document: for free text that may carry one (a reason, a note, an audit line, SMS)."""
    return _ID_IN_TEXT_RE.sub(lambda m: mask_document(RESIDENT_ID, m.group(0)), text)


def parse_birth_date(value: str | None) -> date:
    """A birth date typed by a person: 1960-05-01, 1960/5/1, 1960.5.1, 19600501 or 1960年5月1日."""
    text = unicodedata.normalize("NFKC", value or "").strip()
    if not text:
        raise IdentityError(_l("Please enter your birth date."))
    match = re.fullmatch(r"([0-9]{4}) *[-/.年] *([0-9]{1,2}) *[-/.月] *([0-9]{1,2}) *日?", text)
    if match is None:
        match = re.fullmatch(r"([0-9]{4})([0-9]{2})([0-9]{2})", text)
    if match is None:
        raise IdentityError(_l("Please write the date like this: 1960-05-01."))
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        raise IdentityError(
            _l("This date does not exist. Please check the month and day.")
        ) from None
