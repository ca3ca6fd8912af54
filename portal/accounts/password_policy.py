"""What makes a password acceptable (OWASP ASVS L2): length over complexity rules,
plus a check against passwords that attackers try first."""

import unicodedata
from functools import lru_cache
from pathlib import Path

from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12
MAX_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")

MSG_TOO_SHORT = _l("Use at least %(min)d characters.", min=MIN_LENGTH)
MSG_TOO_LONG = _l("Use at most %(max)d characters.", max=MAX_LENGTH)
MSG_COMMON = _l("This password is too common and easy to guess. Please choose another one.")
MSG_HAS_PHONE = _l("Do not put your mobile number in your password.")
MSG_ONE_CHARACTER = _l("Do not use the same character over and over.")
MSG_CONTROL = _l("The password contains a character that cannot be typed. Please type it again.")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().casefold() for line in lines if line.strip() and not line.startswith("#")
    )


def password_problems(password: str, phone: str | None = None) -> list:
    """Every reason `password` is refused, as translated messages; empty when it is fine.

    Refuses: fewer than 12 or more than 128 characters, a common password (any case),
    one that contains the mobile number, one made of a single repeated character,
    and control characters (NUL and the like), which no keyboard produces.
    """
    problems = []
    if any(unicodedata.category(c) == "Cc" for c in password):
        problems.append(MSG_CONTROL)
    if len(password) < MIN_LENGTH:
        problems.append(MSG_TOO_SHORT)
    elif len(password) > MAX_LENGTH:
        problems.append(MSG_TOO_LONG)
        return problems  # the other checks say nothing useful about 10 000 characters
    if password and len(set(password)) == 1:
        problems.append(MSG_ONE_CHARACTER)
    elif password.casefold() in common_passwords():
        problems.append(MSG_COMMON)
    # Digits only, so "138-0013-8000" and "138 0013 8000" count as the number too.
    digits = "".join(c for c in unicodedata.normalize("NFKC", password) if c in "0123456789")
    if phone and phone in digits:
        problems.append(MSG_HAS_PHONE)
    return problems
