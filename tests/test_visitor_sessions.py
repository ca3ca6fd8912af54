"""Visitors keep their state in a signed cookie and cost no database write; the
server-side session starts at sign-in. A forged, tampered or expired visitor cookie is
a fresh visitor, and no signed cookie can carry a login."""

import json
import re
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import event, select

from portal.accounts.models import ServerSession
from portal.extensions import db
from portal.sessions import hash_token
from portal.timeutil import utcnow
from tests.conftest import DEFAULT_PASSWORD, count, english_client

COOKIE = "boai_session"
WRITES = ("INSERT", "UPDATE", "DELETE")


@contextmanager
def writes_counted():
    """Every INSERT, UPDATE and DELETE sent to the database inside the block."""
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(WRITES):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def signed(app, data: dict, secret: str | None = None) -> str:
    """A visitor cookie value as the app would sign it (with another secret if given)."""
    interface = app.session_interface
    if secret is None:
        return interface.get_signing_serializer(app).dumps(data)
    other = app.__class__(__name__)
    other.secret_key = secret
    return interface.get_signing_serializer(other).dumps(data)


class TestCostsNoWrite:
    """With CSRF on (as in production) and off (as the other tests run)."""

    @pytest.fixture(params=[True, False], ids=["csrf-on", "csrf-off"])
    def app_overrides(self, request):
        return {"WTF_CSRF_ENABLED": request.param}

    @pytest.mark.parametrize("path", ["/", "/account/login", "/account/register"])
    def test_a_cookieless_visit_writes_nothing(self, app, path):
        client = english_client(app)
        with writes_counted() as writes:
            r = client.get(path)
            assert r.status_code == 200
            again = client.get(path)  # now with the cookie the first visit set
            assert again.status_code == 200
        assert writes == []
        cookie = client.get_cookie(COOKIE)
        assert cookie is not None and "." in cookie.value  # the CSRF token is kept, signed
        assert "Set-Cookie" not in again.headers  # nothing changed: nothing re-sent
        assert count(ServerSession) == 0

    def test_the_login_pages_tokens_live_in_the_visitor_cookie(self, app):
        client = english_client(app)
        page = client.get("/account/login").get_data(as_text=True)
        # The switches in the header, and the login form itself when CSRF is on.
        tokens = re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert len(tokens) >= 2
        serializer = app.session_interface.get_signing_serializer(app)
        assert set(serializer.loads(client.get_cookie(COOKIE).value)) == {"csrf_token"}


def test_visitors_never_get_a_session_row(app, make_user):
    """Switches, both code flows' first step, a wrong password: all on the signed cookie."""
    user = make_user(phone="13800138000")
    client = english_client(app)
    client.post("/language", data={"locale": "zh", "next": "/"})
    client.post("/care-mode", data={"on": "1", "next": "/"})
    assert client.post("/account/register", data={"phone": "13900139000"}).status_code == 302
    page = client.get("/account/register/verify")
    assert page.status_code == 200 and "139 0013 9000" in page.get_data(as_text=True)
    r = client.post("/account/login/code", data={"phone": user.phone})
    assert r.status_code == 302 and r.headers["Location"] == "/account/login/code/verify"
    assert client.get("/account/login/code/verify").status_code == 200
    r = client.post("/account/login", data={"phone": user.phone, "password": "wrong one"})
    assert r.status_code == 200
    assert count(ServerSession) == 0
    assert '<html lang="zh-Hans" class="care">' in client.get("/").get_data(as_text=True)


def test_signing_in_moves_the_session_to_the_server(app, make_user):
    user = make_user()
    client = english_client(app)
    client.post("/care-mode", data={"on": "1", "next": "/"})
    r = client.post("/account/login", data={"phone": user.phone, "password": DEFAULT_PASSWORD})
    assert r.status_code == 302
    token = client.get_cookie(COOKIE).value
    assert "." not in token
    [row] = db.session.scalars(select(ServerSession)).all()
    assert row.token_hash == hash_token(token) and row.user_id == user.id
    assert "csrf_token" not in json.loads(row.data)  # re-issued by the next page
    assert client.get("/account/password").status_code == 200


def test_logging_out_leaves_no_row_behind_for_the_visitor(app, make_user):
    user = make_user()
    client = english_client(app)
    client.post("/account/login", data={"phone": user.phone, "password": DEFAULT_PASSWORD})
    client.post("/account/logout")
    assert "You have logged out." in client.get("/").get_data(as_text=True)
    db.session.expire_all()
    rows = db.session.scalars(select(ServerSession)).all()
    assert [r.revoked_at is not None for r in rows] == [True]
    assert "." in client.get_cookie(COOKIE).value


def test_a_cookie_signed_with_another_key_is_a_fresh_visitor(app):
    client = english_client(app)
    forged = signed(app, {"register_phone": "13800138000"}, secret="x" * 40)
    client.set_cookie(COOKIE, forged)
    r = client.get("/account/register/verify")
    assert r.status_code == 302 and r.headers["Location"] == "/account/register"
    tampered = signed(app, {"locale": "en"})
    client.set_cookie(COOKIE, tampered[:-2] + ("AA" if not tampered.endswith("AA") else "BB"))
    assert '<html lang="zh-Hans"' in client.get("/", headers={"Accept-Language": ""}).get_data(
        as_text=True
    )


def test_a_signed_cookie_never_carries_a_login(app, make_user):
    """Even with the secret key, a login must come from a row that can be revoked."""
    user = make_user()
    client = english_client(app)
    client.set_cookie(COOKIE, signed(app, {"_user_id": str(user.id), "_fresh": True}))
    r = client.get("/account/password")
    assert r.status_code == 302 and r.headers["Location"].startswith("/account/login")


def test_a_visitor_cookie_expires_with_the_absolute_timeout(app, monkeypatch):
    client = english_client(app)
    client.set_cookie(COOKIE, signed(app, {"locale": "zh"}))
    assert '<html lang="zh-Hans"' in client.get("/").get_data(as_text=True)
    limit = int(app.config["SESSION_ABSOLUTE_TIMEOUT"].total_seconds())
    monkeypatch.setattr(
        TimestampSigner, "get_timestamp", lambda self: int(time.time()) - limit - 60
    )
    old = signed(app, {"locale": "zh"})
    monkeypatch.undo()
    client.set_cookie(COOKIE, old)
    assert '<html lang="en"' in client.get("/").get_data(as_text=True)


def test_a_visitor_row_from_before_moves_into_the_cookie(app):
    """Rows made for visitors before this change: the next visit revokes the row and
    keeps its contents in a signed cookie."""
    now = utcnow()
    db.session.add(
        ServerSession(
            token_hash=hash_token("old-visitor-token"),
            user_id=None,
            is_staff=False,
            data=json.dumps({"locale": "zh"}),
            created_at=now,
            last_seen_at=now,
        )
    )
    db.session.commit()
    client = english_client(app)
    client.set_cookie(COOKIE, "old-visitor-token")
    assert '<html lang="zh-Hans"' in client.get("/").get_data(as_text=True)
    assert "." in client.get_cookie(COOKIE).value
    db.session.expire_all()
    assert db.session.scalar(select(ServerSession.revoked_at)) is not None
    assert '<html lang="zh-Hans"' in client.get("/").get_data(as_text=True)


def test_prune_sessions_command(app, make_user, login):
    live = login(app.test_client(), make_user())
    ended = login(app.test_client(), make_user())
    row = db.session.scalar(
        select(ServerSession).where(ServerSession.token_hash == hash_token(ended))
    )
    row.revoked_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["prune-sessions"])
    assert result.exit_code == 0 and result.output.strip() == "pruned 1 sessions"
    db.session.expire_all()
    assert db.session.scalars(select(ServerSession.token_hash)).all() == [hash_token(live)]
