"""How a request's database transaction ends when the request did not commit it.

A transaction that only read is ended with COMMIT instead of the ROLLBACK that
Flask-SQLAlchemy's teardown issues. To the database the two are the same for a
transaction that wrote nothing, but psycopg forgets every prepared statement of the
connection on ROLLBACK (the rolled-back work might have dropped what they refer to).
Committing lets it keep them, so the statements every staff page runs (the session,
the roles, the tallies, the inbox cards) are planned once per connection rather than
on every request: planning the inbox cards' five-table join took three times as long
as running it.

A transaction that wrote anything and was not committed is still rolled back, as is
any request that failed: nothing half-done is ever committed here.
"""

import re

from flask import Flask
from sqlalchemy import TextClause, TextualSelect, event
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db

WROTE = "portal_wrote"
# Raw SQL (text(), exec_driver_sql) carries no flags: only its text tells. Statements
# that cannot change data; anything else (INSERT, UPDATE, DELETE, DDL) has written.
_READ_ONLY = re.compile(r"\s*(SELECT|SHOW|EXPLAIN)\b", re.IGNORECASE)
# Raw SQL with a CTE reads only if no write keyword appears anywhere in it; a false
# alarm (such a word in a name or a string) only costs a rollback.
_WITH = re.compile(r"\s*WITH\b", re.IGNORECASE)
_WRITE_WORD = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)


def _raw_sql_reads(statement: str) -> bool:
    if _READ_ONLY.match(statement):
        return True
    return bool(_WITH.match(statement)) and not _WRITE_WORD.search(statement)


def _may_write(context, statement: str) -> bool:
    """SQLAlchemy's own flags on the execution context for compiled Core and ORM
    statements; the SQL text only for raw SQL."""
    if context.isinsert or context.isupdate or context.isdelete or context.isddl:
        return True
    compiled = context.compiled
    if compiled is None or isinstance(compiled.statement, (TextClause, TextualSelect)):
        return not _raw_sql_reads(statement)
    if not compiled.statement.is_select:
        return True
    # A SELECT over a CTE that inserts, updates or deletes (PostgreSQL) writes too.
    return any(cte.element.is_dml for cte in compiled.ctes or ())


def _note_writes(conn, cursor, statement, parameters, context, executemany):
    if _may_write(context, statement):
        conn.info[WROTE] = True


def _fresh_transaction(conn):
    conn.info.pop(WROTE, None)


def _end_read_only_transaction(exc: BaseException | None) -> None:
    session = db.session()  # the request's Session itself, not the scoped proxy
    if exc is not None or not session.in_transaction():
        return
    if session.new or session.dirty or session.deleted:
        return
    try:
        if session.connection().info.get(WROTE):
            return
        session.commit()
    except SQLAlchemyError:
        # A transaction already failed: leave it to the rollback that follows.
        return


def init_transactions(app: Flask) -> None:
    """Register after db.init_app: teardown functions run in reverse order, so this one
    runs before Flask-SQLAlchemy's, which then finds nothing left to roll back. Listens
    on this app's engine only; another engine in the process is left alone."""
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", _note_writes)
    event.listen(engine, "begin", _fresh_transaction)
    app.teardown_appcontext(_end_read_only_transaction)
