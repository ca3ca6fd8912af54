"""The card registry, the safe public view of a card, QR codes and masked names.

A feature registers a `CardKind` with two look-ups: by the card's verification token
(the unguessable part of the QR code's URL) and by its number plus the holder's
surname (for someone typing what is printed on the card). Each returns a `PublicCard`,
which holds only what may be shown to anyone: never the ID number, the phone or the full
name.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import qrcode
import qrcode.image.svg
from markupsafe import Markup

TOKEN_BYTES = 16  # 128 bits: a verification URL cannot be guessed or enumerated


@dataclass(frozen=True)
class PublicCard:
    """What the public verification page shows of a card."""

    kind_label: str
    masked_name: str  # 张*明
    number: str
    branch_name: str
    status_label: str
    is_valid: bool
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass(frozen=True)
class CardKind:
    key: str
    label: object  # lazy string
    by_token: Callable[[str], PublicCard | None]
    by_number: Callable[[str, str], PublicCard | None]  # (number, surname)


_KINDS: dict[str, CardKind] = {}


def register_card_kind(kind: CardKind) -> CardKind:
    """Add a kind of card (at import time); re-registering a key replaces it."""
    _KINDS[kind.key] = kind
    return kind


def card_kinds() -> list[CardKind]:
    return sorted(_KINDS.values(), key=lambda k: k.key)


def new_token() -> str:
    """A fresh verification token for a card (store it, unique, on the card's row)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def find_by_token(token: str) -> PublicCard | None:
    if not token or len(token) > 64:
        return None
    for kind in card_kinds():
        card = kind.by_token(token)
        if card is not None:
            return card
    return None


def find_by_number(number: str, surname: str) -> PublicCard | None:
    """The card with `number` whose holder's name starts with `surname` (both as
    printed on the card); None when no card matches both."""
    number, surname = (number or "").strip().upper(), (surname or "").strip()
    if not number or not surname or len(number) > 40 or len(surname) > 20:
        return None
    for kind in card_kinds():
        card = kind.by_number(number, surname)
        if card is not None:
            return card
    return None


def mask_name(full_name: str | None) -> str:
    """A name as the public may see it: the first and last character with the rest
    hidden (张*明, 李*, 买****力); a Latin-script name keeps each word's initial (W*** L*)."""
    name = (full_name or "").strip()
    if not name:
        return ""
    if " " in name:  # Latin-script names: the initial of each word
        return " ".join(part[0] + "*" * (len(part) - 1) for part in name.split())
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def surname_matches(full_name: str | None, surname: str) -> bool:
    """Whether `surname` is how `full_name` starts (typed surnames of one or two
    characters, or a Latin surname at either end)."""
    name, surname = (full_name or "").strip(), surname.strip()
    if not name or not surname:
        return False
    if " " in name:
        parts = name.lower().split()
        return surname.lower() in (parts[0], parts[-1])
    return name.startswith(surname)


def qr_svg(url: str) -> Markup:
    """An inline SVG QR code for `url`, drawn by the portal (no image host)."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode")
    # The code scales with its box; the page sets the size.
    return Markup(svg.replace('width="', 'data-w="', 1).replace('height="', 'data-h="', 1))
