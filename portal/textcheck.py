"""What free text may hold. Control characters have no place in a name, an address or a
note; invisible format characters (bidi overrides and isolates, zero-width spaces and
joiners, the byte-order mark) can make a name display as something else ("‮lanigiro" reads
backwards) or two names look alike, so every free-text name refuses them, as person
names already do (accounts.identity.normalise_name)."""

import unicodedata

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

# Line breaks and tabs are fine in a note or a reason typed into a text box.
_LAYOUT = frozenset("\n\r\t")

HIDDEN_CHARACTERS_MESSAGE = _l("Please remove the special characters.")


def has_hidden_characters(text: str | None, multiline: bool = False) -> bool:
    """Whether `text` holds a control or invisible format character (categories Cc, Cf),
    line breaks and tabs allowed when `multiline`."""
    for char in text or "":
        if multiline and char in _LAYOUT:
            continue
        if unicodedata.category(char) in ("Cc", "Cf"):
            return True
    return False


def plain_text(form, field) -> None:
    """WTForms validator for a one-line field (a name, an address, a code)."""
    if has_hidden_characters(field.data):
        raise ValidationError(HIDDEN_CHARACTERS_MESSAGE)


def plain_multiline_text(form, field) -> None:
    """WTForms validator for a text box (a note, a reason): line breaks allowed."""
    if has_hidden_characters(field.data, multiline=True):
        raise ValidationError(HIDDEN_CHARACTERS_MESSAGE)


def search_text(value: str | None, max_length: int = 50) -> str:
    """What a search box typed, ready for a query: hidden characters dropped (a NUL
    cannot even reach PostgreSQL), trimmed, at most `max_length` characters."""
    kept = "".join(c for c in value or "" if unicodedata.category(c) not in ("Cc", "Cf"))
    return kept.strip()[:max_length]
