"""Changing the password (ends the other sessions, keeps this one on a new id) and
resetting a forgotten one by SMS code (ends them all)."""

import re

import pytest
from sqlalchemy import select

from portal.accounts.models import ServerSession, User
from portal.accounts.passwords import verify_password
from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.notifications.models import Notification
from portal.sessions import hash_token
from tests.conftest import DEFAULT_PASSWORD, english_client

PHONE = "13800138000"
NEW_PASSWORD = "the river runs east 2026"
COOKIE = "boai_session"


@pytest.fixture
def client(app):
    return english_client(app)


def logged_in(client) -> bool:
    return client.get("/account/password").status_code == 200


def row_for(token: str) -> ServerSession:
    db.session.expire_all()
    return db.session.scalar(
        select(ServerSession).where(ServerSession.token_hash == hash_token(token))
    )


def change(client, current=DEFAULT_PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post(
        "/account/password",
        data={
            "current_password": current,
            "password": new,
            "confirm": new if confirm is None else confirm,
        },
    )


def test_change_password_ends_other_sessions_and_keeps_this_one(app, make_user, login):
    user = make_user(phone=PHONE)
    here, phone2, laptop = english_client(app), english_client(app), english_client(app)
    here_token = login(here, user)
    login(phone2, user)
    login(laptop, user)
    stranger = english_client(app)
    login(stranger, make_user())

    r = change(here)
    assert r.status_code == 302 and r.headers["Location"] == "/account/"
    db.session.refresh(user)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert user.password_changed_at is not None
    # Others are out, this browser is in, on a new session id.
    assert not logged_in(phone2) and not logged_in(laptop)
    assert logged_in(here)
    assert here.get_cookie(COOKIE).value != here_token
    assert row_for(here_token).revoked_at is not None
    assert logged_in(stranger)
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "password_changed"))
    assert entry.actor_id == user.id and entry.changes == {"sessions_ended": 2}


def test_wrong_current_password(client, make_user, login):
    user = make_user(phone=PHONE)
    login(client, user)
    old_hash = user.password_hash
    r = change(client, current="not my password at all")
    assert r.status_code == 200
    assert "Your current password is not right." in r.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == old_hash


@pytest.mark.parametrize(
    "new, message",
    [
        ("too short", "at least 12"),
        ("password1234", "too common"),
        ("call 13800138000 now", "mobile number"),
        (DEFAULT_PASSWORD, "must be different"),
    ],
)
def test_new_password_policy(client, make_user, login, new, message):
    user = make_user(phone=PHONE)
    login(client, user)
    old_hash = user.password_hash
    r = change(client, new=new)
    assert r.status_code == 200
    assert message in r.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == old_hash


def test_change_password_needs_login(client):
    r = client.get("/account/password")
    assert r.status_code == 302 and r.headers["Location"].startswith("/account/login?next=")


def _reset_code(phone=PHONE) -> str:
    db.session.expire_all()
    body = db.session.scalars(
        select(Notification.body)
        .where(Notification.recipient == phone)
        .order_by(Notification.id.desc())
    ).first()
    return re.search(r"\b\d{6}\b", body).group(0)


def test_reset_password_by_sms_code_ends_every_session(app, client, make_user, login):
    user = make_user(phone=PHONE)
    elsewhere = english_client(app)
    login(elsewhere, user)
    here_token = login(client, user)  # even the browser doing the reset

    r = client.post("/account/reset", data={"phone": "138 0013 8000"})
    assert r.status_code == 302 and r.headers["Location"] == "/account/reset/verify"
    r = client.post(
        "/account/reset/verify",
        data={"code": _reset_code(), "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert r.status_code == 302 and r.headers["Location"] == "/account/login"
    db.session.refresh(user)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert not logged_in(elsewhere) and not logged_in(client)
    assert row_for(here_token).revoked_at is not None
    live = db.session.scalars(
        select(ServerSession).where(
            ServerSession.user_id == user.id, ServerSession.revoked_at.is_(None)
        )
    ).all()
    assert live == []
    assert "Please log in with it" in client.get("/account/login").get_data(as_text=True)
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "password_reset"))
    assert entry.actor_id == user.id
    # The new password works, the old one does not.
    fresh = english_client(app)
    r = fresh.post("/account/login", data={"phone": PHONE, "password": DEFAULT_PASSWORD})
    assert r.status_code == 200
    r = fresh.post("/account/login", data={"phone": PHONE, "password": NEW_PASSWORD})
    assert r.status_code == 302


def test_reset_with_wrong_code_changes_nothing(client, make_user):
    user = make_user(phone=PHONE)
    old_hash = user.password_hash
    client.post("/account/reset", data={"phone": PHONE})
    code = _reset_code()
    r = client.post(
        "/account/reset/verify",
        data={
            "code": f"{(int(code) + 1) % 10**6:06d}",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert r.status_code == 200
    assert "The code is not right" in r.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == old_hash


def test_reset_for_unknown_number_looks_the_same_and_sends_no_code(client):
    r = client.post("/account/reset", data={"phone": PHONE})
    assert r.status_code == 302 and r.headers["Location"] == "/account/reset/verify"
    [sms] = db.session.scalars(select(Notification)).all()
    assert not re.search(r"\d{6}", sms.body)
    r = client.post(
        "/account/reset/verify",
        data={"code": "123456", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert r.status_code == 200
    assert db.session.scalar(select(User)) is None


def test_reset_verify_needs_the_phone_step(client):
    r = client.get("/account/reset/verify")
    assert r.status_code == 302 and r.headers["Location"] == "/account/reset"
