"""Sessions: a signed cookie for visitors, a database row once someone signs in.

A visitor's state (the CSRF token, language, care mode, the number a code was sent
to, flashed messages) travels in a cookie signed with the app's secret, so looking at
the home, login or register page costs no database write. The moment a session holds a
logged-in user it moves to the server: the cookie then carries only a random token and
the row is found by the token's SHA-256, so a copy of the table cannot be replayed as
cookies. Logging out or changing the password revokes rows, which is what makes a
replayed cookie worthless; a signed cookie never carries a login, so there is nothing
in it to revoke.

Both live in the one session cookie: a signed value always holds ".", a token never
does, so one look at the value tells which it is and there is never a second cookie to
forget when switching.
"""

import hashlib
import json
import logging
import secrets
from datetime import datetime
from functools import cache

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from itsdangerous import BadData
from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.datastructures import CallbackDict

from portal.accounts.models import ServerSession, User
from portal.branches.scope import grants_column, remember_grants
from portal.extensions import db
from portal.timeutil import utcnow

log = logging.getLogger(__name__)

TOUCH_EVERY_SECONDS = 60  # write last_seen_at at most this often
# Keys only a server-side session may hold: a signed cookie carrying them is refused, so
# even a leaked secret key cannot mint a login that revocation would not reach.
SIGNED_IN_KEYS = ("_user_id", "_staff")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class DbSession(CallbackDict, SessionMixin):
    def __init__(self, initial=None, token=None, row_id=None, last_seen=None):
        def on_update(self):
            self.modified = True

        super().__init__(initial, on_update)
        self.token = token
        self.row_id = row_id
        self.last_seen = last_seen
        self.modified = False
        self.rotate_requested = False
        self.end_requested = False
        # The logged-in user read with the session row; holding it keeps it in
        # db.session's (weak) identity map until Flask-Login asks for it.
        self.user = None
        # Set when the session table could not be read (database down): nothing is
        # saved or deleted, so the person's session is still there when it comes back.
        self.storage_down = False
        # The request brought a cookie of ours (token or signed), so an emptied session
        # must clear it.
        self.cookie_sent = False

    @property
    def new(self) -> bool:
        return self.token is None

    def rotate(self) -> None:
        """Issue a new token on save (call at login: no session fixation). The CSRF token
        goes too: whoever planted or saw the old cookie knew it; the next page issues a
        new one."""
        self.pop("csrf_token", None)
        self.rotate_requested = True
        self.modified = True

    def end(self) -> None:
        """Revoke this session on save and clear the cookie (logout)."""
        self.clear()
        self.end_requested = True
        self.modified = True


def timeouts_for(app: Flask, is_staff: bool):
    if is_staff:
        return app.config["STAFF_SESSION_IDLE_TIMEOUT"], app.config[
            "STAFF_SESSION_ABSOLUTE_TIMEOUT"
        ]
    return app.config["SESSION_IDLE_TIMEOUT"], app.config["SESSION_ABSOLUTE_TIMEOUT"]


def is_live(app: Flask, row: ServerSession, now: datetime) -> bool:
    if row.revoked_at is not None:
        return False
    idle, absolute = timeouts_for(app, row.is_staff)
    return now - row.last_seen_at < idle and now - row.created_at < absolute


@cache
def _read_statement(dialect: str):
    """The session row, its user and the user's staff grants by token hash, built once
    (every request runs it)."""
    return (
        select(
            ServerSession.id,
            ServerSession.data,
            ServerSession.is_staff,
            ServerSession.created_at,
            ServerSession.last_seen_at,
            ServerSession.revoked_at,
            User,
            grants_column(ServerSession.user_id, dialect),
        )
        .outerjoin(User, User.id == ServerSession.user_id)
        .where(ServerSession.token_hash == bindparam("token_hash"))
    )


class DatabaseSessionInterface(SecureCookieSessionInterface):
    """Visitors: a signed cookie (Flask's own signing machinery, its own salt). Signed-in
    sessions: a row read through db.session and written through a short ORM session of
    its own, so that saving the web session never commits (or is rolled back with)
    whatever the view left in db.session."""

    salt = "boai-visitor-session"

    def open_session(self, app: Flask, request: Request) -> DbSession:
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return DbSession()
        if "." in value:
            return self._open_signed(app, value)
        if len(value) > 100:
            return DbSession()
        return self._open_row(app, value)

    def _open_signed(self, app: Flask, value: str) -> DbSession:
        serializer = self._serializer(app)
        web_session = DbSession()
        web_session.cookie_sent = True
        if serializer is None or len(value) > 4000:
            return web_session
        max_age = int(app.config["SESSION_ABSOLUTE_TIMEOUT"].total_seconds())
        try:
            data = serializer.loads(value, max_age=max_age)
        except BadData:  # forged, expired or garbled: start afresh
            return web_session
        if not isinstance(data, dict) or any(key in data for key in SIGNED_IN_KEYS):
            return web_session
        web_session.update(data)
        web_session.modified = False
        return web_session

    def _serializer(self, app: Flask):
        # Built once per app: open_session and save_session run on every request.
        serializer = app.extensions.get("boai_session_serializer")
        if serializer is None:
            serializer = self.get_signing_serializer(app)
            app.extensions["boai_session_serializer"] = serializer
        return serializer

    def _open_row(self, app: Flask, token: str) -> DbSession:
        # Read through the request's own db.session: one connection for the whole
        # request instead of a second check-out (and its ping) just for this row. The
        # user comes in the same round trip and waits in the identity map, so
        # Flask-Login's user_loader (db.session.get) needs no query of its own.
        try:
            statement = _read_statement(db.session.get_bind().dialect.name)
            row = db.session.execute(statement, {"token_hash": hash_token(token)}).first()
        except SQLAlchemyError:
            # The database is down: serve the request as a visitor (healthz answers 503,
            # other pages their own error) instead of failing before any handler runs.
            log.warning("session store unreachable", exc_info=True)
            db.session.rollback()
            down = DbSession(token=token)
            down.storage_down = True
            return down
        if row is None or not is_live(app, row, utcnow()):
            dead = DbSession()
            dead.cookie_sent = True
            return dead
        try:
            data = json.loads(row.data)
        except ValueError:
            data = {}
        web_session = DbSession(data, token=token, row_id=row.id, last_seen=row.last_seen_at)
        web_session.cookie_sent = True
        web_session.user = row.User
        if row.User is not None:
            remember_grants(row.User, row.grants)
        return web_session

    def save_session(self, app: Flask, session: DbSession, response: Response) -> None:
        if session.storage_down:
            return
        try:
            self._save(app, session, response)
        except SQLAlchemyError:
            log.warning("could not save the session", exc_info=True)

    def _save(self, app: Flask, session: DbSession, response: Response) -> None:
        now = utcnow()
        signed_in = _user_id(session) is not None and not session.end_requested
        had_row = session.row_id is not None
        if had_row and (session.end_requested or session.rotate_requested or not signed_in):
            # Logged out, rotated, or a row without a login (made before visitors got
            # signed cookies): this row is done with.
            with Session(db.engine) as s:
                s.execute(
                    update(ServerSession)
                    .where(ServerSession.id == session.row_id, ServerSession.revoked_at.is_(None))
                    .values(revoked_at=now)
                )
                s.commit()
            session.row_id = None
        if signed_in:
            self._save_row(app, session, response, now)
        else:
            self._save_signed(app, session, response, moved=had_row)

    def _save_row(self, app: Flask, session: DbSession, response: Response, now) -> None:
        with Session(db.engine) as s:
            if session.row_id is None:
                self._insert(app, s, session, now)
                self._set_cookie(app, session.token, response)
                return
            values = {}
            if session.modified:
                values["data"] = json.dumps(dict(session))
                values["user_id"] = _user_id(session)
                values["is_staff"] = bool(session.get("_staff"))
            if session.modified or (now - session.last_seen).total_seconds() > TOUCH_EVERY_SECONDS:
                values["last_seen_at"] = now
            if values:
                s.execute(
                    update(ServerSession)
                    .where(ServerSession.id == session.row_id, ServerSession.revoked_at.is_(None))
                    .values(**values)
                )
                s.commit()

    def _save_signed(self, app: Flask, session: DbSession, response: Response, moved) -> None:
        if not session:
            if session.cookie_sent or session.end_requested:
                response.delete_cookie(
                    self.get_cookie_name(app),
                    domain=self.get_cookie_domain(app),
                    path=self.get_cookie_path(app),
                )
                response.vary.add("Cookie")
            return
        if not (session.modified or moved):
            return
        serializer = self._serializer(app)
        if serializer is None:  # no SECRET_KEY: nothing can be kept for a visitor
            return
        self._set_cookie(app, serializer.dumps(dict(session)), response)

    def _insert(self, app, s: Session, session: DbSession, now: datetime) -> None:
        session.token = secrets.token_urlsafe(32)
        row = ServerSession(
            token_hash=hash_token(session.token),
            user_id=_user_id(session),
            is_staff=bool(session.get("_staff")),
            data=json.dumps(dict(session)),
            created_at=now,
            last_seen_at=now,
            ip=request.remote_addr,
            user_agent=(request.user_agent.string or "")[:200],
        )
        s.add(row)
        s.commit()
        session.row_id = row.id

    def _set_cookie(self, app, value: str, response: Response) -> None:
        # No expiry: the cookie ends with the browser; the server's timeouts (the row's,
        # or the signed value's age) end it sooner.
        response.set_cookie(
            self.get_cookie_name(app),
            value,
            httponly=True,
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
        )
        response.vary.add("Cookie")


def _user_id(session: DbSession) -> int | None:
    value = session.get("_user_id")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def revoke_user_sessions(user_id: int, keep_row_id: int | None = None) -> int:
    """Revoke every live session of a user except `keep_row_id`. Runs in db.session:
    the caller commits. Returns how many were revoked."""
    stmt = update(ServerSession).where(
        ServerSession.user_id == user_id, ServerSession.revoked_at.is_(None)
    )
    if keep_row_id is not None:
        stmt = stmt.where(ServerSession.id != keep_row_id)
    return db.session.execute(stmt.values(revoked_at=utcnow())).rowcount


def prune_dead_sessions(app: Flask, now: datetime | None = None) -> int:
    """Delete every session that is_live() would refuse: ended, idle past the longest
    idle timeout, or older than the longest absolute one. Visitors keep their state in
    a signed cookie and never get a row; rows left from before that, and every logged-in
    session once it is over, go here. Keeps the table to live sessions.
    Runs in db.session: the caller commits. Returns how many were deleted."""
    now = now or utcnow()
    idle = max(app.config["SESSION_IDLE_TIMEOUT"], app.config["STAFF_SESSION_IDLE_TIMEOUT"])
    absolute = max(
        app.config["SESSION_ABSOLUTE_TIMEOUT"], app.config["STAFF_SESSION_ABSOLUTE_TIMEOUT"]
    )
    result = db.session.execute(
        delete(ServerSession).where(
            or_(
                ServerSession.revoked_at.is_not(None),
                ServerSession.last_seen_at < now - idle,
                ServerSession.created_at < now - absolute,
            )
        )
    )
    return result.rowcount
