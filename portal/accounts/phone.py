"""Mainland China mobile numbers: what people type in, turned into the 11-digit form we store."""

import unicodedata

import phonenumbers
from flask_babel import lazy_gettext as _l

# Longer input is not a phone number however it is spaced; refusing early keeps
# the parser away from megabytes of junk.
MAX_INPUT_LENGTH = 30
MOBILE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)

MSG_EMPTY = _l("Please enter your mobile number.")
MSG_INVALID = _l(
    "Please enter an 11-digit mainland China mobile number, for example 138 0013 8000."
)
MSG_NOT_MAINLAND = _l("Only mainland China mobile numbers (+86) can be used.")


def mask_phone(phone: str | None) -> str:
    """A number safe to show a reviewer or write in a log: 13812348000 -> 138****8000."""
    if not phone:
        return ""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else phone


class InvalidPhone(ValueError):
    """The input is not a mainland mobile number; `message` says why, ready to show."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def normalise_phone(raw: str | None) -> str:
    """Return the 11-digit national number for a mainland mobile number.

    Accepts "+86 138 0013 8000", "0086 13800138000", "138-0013-8000" and full-width
    digits. Raises InvalidPhone (with a translated message) for anything else,
    including landlines and numbers from Hong Kong, Macao, Taiwan or abroad.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone(MSG_EMPTY)
    if len(text) > MAX_INPUT_LENGTH:
        raise InvalidPhone(MSG_INVALID)
    # NFKC turns full-width digits and the ideographic space into ASCII.
    text = unicodedata.normalize("NFKC", text)
    if any(unicodedata.category(c).startswith("C") for c in text):
        raise InvalidPhone(MSG_INVALID)
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise InvalidPhone(MSG_INVALID) from None
    if number.country_code != 86:
        raise InvalidPhone(MSG_NOT_MAINLAND)
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(MSG_INVALID)
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        raise InvalidPhone(MSG_INVALID)
    national = str(number.national_number)
    if len(national) != 11:
        raise InvalidPhone(MSG_INVALID)
    return national


def try_normalise_phone(raw: str | None) -> str | None:
    """normalise_phone() without the exception: None when the input is not usable."""
    try:
        return normalise_phone(raw)
    except InvalidPhone:
        return None


def format_phone(phone: str) -> str:
    """An 11-digit number spaced the way people read it: 138 0013 8000."""
    if len(phone) == 11 and phone.isdigit():
        return f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    return phone
