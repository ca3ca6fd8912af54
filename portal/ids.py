"""Reading row ids and page numbers from a request, the one way every view does it.

Ids are 32-bit integers on PostgreSQL: a bigger number sent to the database raises
DataError (and past 2**63 SQLite raises OverflowError), which would be a 500. So every
id from a URL, a query string or a form passes through here, and one no row can have
is simply not found."""

import re

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1
# 1 to 2147483647 without leading zeros, digit by digit (MAX_ID is 2147483647).
_ID_PATTERN = (
    r"(?:[1-9][0-9]{0,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}"
    r"|2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}"
    r"|21474836[0-3][0-9]|214748364[0-7])"
)
# The same pattern for text from anywhere. ASCII digits only: int() also reads "١٢",
# "+5", " 7 " and "1_000".
_ID = re.compile(_ID_PATTERN)


def as_id(value) -> int | None:
    """`value` (text or int) as a row id, a whole number from 1 to MAX_ID; None for
    anything else (absent, junk, zero, negative, too big)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _ID.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if 0 < number <= MAX_ID else None


def id_arg(name: str, source=None) -> int | None:
    """The id in the query string (or `source`, e.g. request.form) under `name`: None
    when absent or empty, 404 when it is not an id any row can have."""
    value = (request.args if source is None else source).get(name)
    if value in (None, ""):
        return None
    number = as_id(value)
    if number is None:
        abort(404)
    return number


def page_arg(name: str = "page") -> int:
    """A page number from the query string: 1 when absent or empty, 404 when it is not
    a page there can be (junk, zero, negative, past 2**31). A page past the end of a
    list is the list's business: it shows its last page."""
    return id_arg(name) or 1


class IdConverter(IntegerConverter):
    """`<int:...>` in a route: an id from 1 to MAX_ID, anything else 404 before the
    view (and its login or permission check) runs. Werkzeug's own accepts any size.

    The range is in the pattern, not only in to_python: werkzeug checks the method
    before converting, so a value refused there answered 405 on a path whose GET and
    POST are separate rules."""

    regex = _ID_PATTERN

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_ids(app: Flask) -> None:
    """Before any blueprint is registered: rules take their converter when added."""
    app.url_map.converters["int"] = IdConverter
