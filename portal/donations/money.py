"""Amounts of money as people type them, turned into integer fen exactly (Decimal,
never float): "1,234.56", "1234.5", "¥ 800", "８００元" and full-width digits."""

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

# A single gift or expense above ¥1 000 000 000 is a typing mistake here, not a gift.
MAX_FEN = 100_000_000_000

# Digits with optional thousands commas (every group of three), then up to 2 decimals.
_AMOUNT = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?")


class BadAmount(ValueError):
    """Not an amount of money; `message` says why, ready to show."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


MSG_AMOUNT = _l("Please type an amount in yuan, for example 1,234.56 or 200.")
MSG_POSITIVE = _l("The amount must be more than zero.")
MSG_TOO_BIG = _l("This amount is too large to be right. Please check it.")


def parse_yuan(raw: str | None) -> int:
    """The amount in `raw` (yuan, at most two decimals) as integer fen; raises BadAmount."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if len(text) > 30:
        raise BadAmount(MSG_AMOUNT)
    for sign in ("¥", "￥", "RMB", "CNY"):
        text = text.removeprefix(sign)
    text = text.removesuffix("元").replace(" ", "")
    if not _AMOUNT.fullmatch(text):
        raise BadAmount(MSG_AMOUNT)
    try:
        fen = Decimal(text.replace(",", "")) * 100
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise BadAmount(MSG_AMOUNT) from None
    if fen != fen.to_integral_value():  # pragma: no cover - two decimals at most
        raise BadAmount(MSG_AMOUNT)
    fen = int(fen)
    if fen <= 0:
        raise BadAmount(MSG_POSITIVE)
    if fen > MAX_FEN:
        raise BadAmount(MSG_TOO_BIG)
    return fen


def fen_to_yuan_text(fen: int) -> str:
    """Fen as a plain decimal yuan figure for open data and forms: 123456 -> "1234.56"."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def parse_quantity(raw: str | None) -> str | None:
    """A quantity of goods ("500", "1.5") as normalised text, or None when not one."""
    text = unicodedata.normalize("NFKC", raw or "").strip().replace(",", "")
    if not re.fullmatch(r"\d{1,9}(\.\d{1,3})?", text):
        return None
    value = Decimal(text)
    if value <= 0:
        return None
    return format(value.normalize(), "f")
