"""Hot-path reads as plain rows, for the pages every staff request pays for.

Through the ORM a read compiles its statement through the ORM layer and turns each
row into a tracked object; for the few small reads a staff page makes on every
request (the user's roles, the pending tallies, a page of inbox cards) that costs
several times the database round trip itself. These helpers run statements built
once at import time on the request's own connection, so they read inside its
transaction, and return rows.
"""

import json

from sqlalchemy import Executable, func
from sqlalchemy.engine import Result

from portal.extensions import db


def rows(stmt: Executable, **params) -> Result:
    """Execute a Core statement on db.session's connection. What the session holds
    unflushed is flushed first, as the ORM's autoflush would before a query."""
    session = db.session
    if session.new or session.deleted or session.dirty:
        session.flush()
    return session.connection().execute(stmt, params)


def json_rows(dialect: str, *columns):
    """An aggregate of `columns` as one JSON array of arrays, [[a, b, ...], ...], for
    reading a few related rows inside another query's row. NULL over no rows on
    PostgreSQL, "[]" on SQLite; nested in another JSON value, SQLite gives it as text."""
    if dialect == "postgresql":
        return func.json_agg(func.json_build_array(*columns))
    return func.json_group_array(func.json_array(*columns))


def json_rows_value(value) -> list:
    """A json_rows() column as read: a list of lists. JSON arrives as text on SQLite and
    already decoded on PostgreSQL, where an aggregate over no rows is NULL."""
    if isinstance(value, str):
        value = json.loads(value)
    return value or []
