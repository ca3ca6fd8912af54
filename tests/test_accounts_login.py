"""Logging in by password or SMS code, safe `next`, failed-login audit, logging out."""

import re

import pytest
from sqlalchemy import select

from portal.accounts.models import ServerSession, User
from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.notifications.models import Notification
from portal.sessions import hash_token
from tests.conftest import DEFAULT_PASSWORD, count, english_client

PHONE = "13800138000"
COOKIE = "boai_session"


@pytest.fixture
def client(app):
    return english_client(app)


def session_row(client) -> ServerSession | None:
    cookie = client.get_cookie(COOKIE)
    if cookie is None:
        return None
    db.session.expire_all()
    return db.session.scalar(
        select(ServerSession).where(ServerSession.token_hash == hash_token(cookie.value))
    )


def audit(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def logged_in(client) -> bool:
    return client.get("/account/password").status_code == 200


def login_pw(client, phone=PHONE, password=DEFAULT_PASSWORD, **extra):
    return client.post("/account/login", data={"phone": phone, "password": password, **extra})


def test_login_with_password(client, make_user):
    user = make_user(phone=PHONE)
    r = login_pw(client, phone="+86 138 0013 8000")
    assert r.status_code == 302 and r.headers["Location"] == "/account/"
    row = session_row(client)
    assert row.user_id == user.id and row.revoked_at is None
    [entry] = audit("login")
    assert entry.actor_id == user.id and entry.changes == {"method": "password"}
    db.session.refresh(user)
    assert user.last_login_at is not None
    assert logged_in(client)


def test_login_starts_a_new_session_id(client, make_user):
    user = make_user(phone=PHONE)
    client.get("/account/login")
    client.post("/language", data={"locale": "en", "next": "/"})  # a visitor's cookie
    before = client.get_cookie(COOKIE).value
    login_pw(client)
    after = client.get_cookie(COOKIE).value
    assert after != before
    row = session_row(client)
    assert row.user_id == user.id and row.revoked_at is None
    # The cookie from before the login (maybe planted by someone else) stays a visitor's.
    replay = english_client(client.application)
    replay.set_cookie(COOKIE, before)
    r = replay.get("/account/password")
    assert r.status_code == 302 and r.headers["Location"].startswith("/account/login")


@pytest.mark.parametrize("known_phone", [True, False])
def test_wrong_password_or_unknown_phone_get_the_same_answer(client, make_user, known_phone):
    user = make_user(phone=PHONE) if known_phone else None
    r = login_pw(client, password="not the right password")
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert "The phone number or password is wrong." in body
    assert 'value="13800138000"' in body  # the number typed is kept
    assert "not the right password" not in body
    assert not logged_in(client)
    [entry] = audit("login_failed")
    assert entry.actor_id == (user.id if user else None)
    assert entry.changes == {"method": "password"}
    assert "not the right password" not in str(entry.changes)
    assert entry.branch_id is None and entry.actor_role is None  # not staff: no branch


def test_invalid_phone_shows_a_field_error(client):
    r = login_pw(client, phone="12345")
    assert r.status_code == 200
    assert 'id="phone-err"' in r.get_data(as_text=True)
    assert count(AuditEntry) == 0


def test_closed_account_cannot_log_in(client, make_user):
    make_user(phone=PHONE, is_active_account=False)
    r = login_pw(client)
    assert "This account has been closed" in r.get_data(as_text=True)
    assert not logged_in(client)
    assert len(audit("login_failed")) == 1


def test_outdated_hash_is_upgraded_on_login(client, make_user, app):
    from argon2 import PasswordHasher

    user = make_user(phone=PHONE)
    user.password_hash = PasswordHasher(time_cost=2, memory_cost=2048).hash(DEFAULT_PASSWORD)
    db.session.commit()
    old_hash = user.password_hash
    assert login_pw(client).status_code == 302
    db.session.refresh(user)
    assert user.password_hash != old_hash
    assert "t=1" in user.password_hash  # the configured parameters


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/\r\nLocation: http://evil.example",
    ],
)
def test_unsafe_next_is_ignored(client, make_user, target):
    make_user(phone=PHONE)
    page = client.get("/account/login", query_string={"next": target}).get_data(as_text=True)
    assert '<input id="next" name="next" type="hidden" value="">' in page
    assert 'href="/account/login/code"' in page
    r = login_pw(client, next=target)
    assert r.status_code == 302
    assert r.headers["Location"] == "/account/"


def test_safe_next_is_followed(client, make_user):
    make_user(phone=PHONE)
    page = client.get("/account/login?next=/branches/mine").get_data(as_text=True)
    assert 'value="/branches/mine"' in page
    r = login_pw(client, next="/branches/mine")
    assert r.headers["Location"] == "/branches/mine"


def _code_for(phone: str) -> str:
    db.session.expire_all()
    body = db.session.scalars(
        select(Notification.body)
        .where(Notification.recipient == phone)
        .order_by(Notification.id.desc())
    ).first()
    return re.search(r"\b\d{6}\b", body).group(0)


def test_login_with_sms_code(client, make_user):
    user = make_user(phone=PHONE)
    r = client.post(
        "/account/login/code", data={"phone": "138 0013 8000", "next": "/branches/mine"}
    )
    assert r.status_code == 302 and r.headers["Location"] == "/account/login/code/verify"
    assert "138 0013 8000" in client.get("/account/login/code/verify").get_data(as_text=True)
    r = client.post("/account/login/code/verify", data={"code": _code_for(PHONE)})
    assert r.status_code == 302 and r.headers["Location"] == "/branches/mine"
    assert session_row(client).user_id == user.id
    [entry] = audit("login")
    assert entry.changes == {"method": "sms_code"}


def test_sms_code_login_with_unsafe_next_goes_to_account(client, make_user):
    make_user(phone=PHONE)
    client.post("/account/login/code", data={"phone": PHONE, "next": "//evil.example"})
    r = client.post("/account/login/code/verify", data={"code": _code_for(PHONE)})
    assert r.headers["Location"] == "/account/"


def test_wrong_sms_code_is_audited(client, make_user):
    user = make_user(phone=PHONE)
    client.post("/account/login/code", data={"phone": PHONE})
    code = _code_for(PHONE)
    r = client.post("/account/login/code/verify", data={"code": f"{(int(code) + 1) % 10**6:06d}"})
    assert r.status_code == 200
    assert "The code is not right" in r.get_data(as_text=True)
    assert not logged_in(client)
    [entry] = audit("login_failed")
    assert entry.actor_id == user.id and entry.changes == {"method": "sms_code"}


def test_sms_code_for_unknown_number_sends_a_notice_not_a_code(client):
    r = client.post("/account/login/code", data={"phone": PHONE})
    assert r.status_code == 302 and r.headers["Location"] == "/account/login/code/verify"
    [sms] = db.session.scalars(select(Notification)).all()
    assert not re.search(r"\d{6}", sms.body) and "no account" in sms.body
    r = client.post("/account/login/code/verify", data={"code": "123456"})
    assert r.status_code == 200
    assert count(User) == 0


def test_logout_then_replaying_the_old_cookie_is_anonymous(client, make_user):
    user = make_user(phone=PHONE)
    login_pw(client)
    old = client.get_cookie(COOKIE).value
    r = client.post("/account/logout")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert "You have logged out." in client.get("/").get_data(as_text=True)
    db.session.expire_all()
    row = db.session.scalar(
        select(ServerSession).where(ServerSession.token_hash == hash_token(old))
    )
    assert row.revoked_at is not None
    assert [e.actor_id for e in audit("logout")] == [user.id]

    replay = english_client(client.application)
    replay.set_cookie(COOKIE, old)
    r = replay.get("/account/password")
    assert r.status_code == 302 and r.headers["Location"].startswith("/account/login")


def test_logout_returns_to_the_browsers_language(client, make_user):
    make_user(phone=PHONE, locale="zh")  # while this browser asks for English
    login_pw(client)
    assert '<html lang="zh-Hans"' in client.get("/").get_data(as_text=True)
    client.post("/account/logout")
    assert '<html lang="en"' in client.get("/").get_data(as_text=True)


def test_logout_needs_post(client, make_user, login):
    login(client, make_user())
    assert client.get("/account/logout").status_code == 405
    assert logged_in(client)


def test_staff_logins_are_logged_at_their_branch_with_their_role(
    client, make_user, make_branch, grant_role
):
    """Password login, a wrong SMS code and logout of a county officer: each entry names
    the county and the role, so the auditors above the county can read it."""
    national = make_branch()
    county = make_branch(make_branch(make_branch(national, "province"), "city"), "county")
    officer = grant_role(make_user(phone=PHONE), county, "officer")
    login_pw(client)
    client.post("/account/logout")
    client.post("/account/login/code", data={"phone": PHONE})
    code = _code_for(PHONE)
    client.post("/account/login/code/verify", data={"code": f"{(int(code) + 1) % 10**6:06d}"})
    for action in ("login", "logout", "login_failed"):
        [entry] = audit(action)
        assert (entry.actor_id, entry.actor_role, entry.branch_id) == (
            officer.id,
            "officer",
            county.id,
        ), action
