"""Registering: phone -> SMS code -> password. The code is read from the outbox, as a
person would read their SMS."""

import re

import pytest
from sqlalchemy import select

from portal.accounts.models import SmsCode, User
from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.notifications.models import Notification
from tests.conftest import count, english_client

PHONE = "13800138000"
GOOD_PASSWORD = "plum blossoms in winter 9"


@pytest.fixture
def client(app):
    return english_client(app)


def sms_to(phone: str) -> list[Notification]:
    db.session.expire_all()
    return db.session.scalars(
        select(Notification).where(Notification.recipient == phone).order_by(Notification.id)
    ).all()


def code_from_sms(phone: str) -> str:
    return re.search(r"\b(\d{6})\b", sms_to(phone)[-1].body).group(1)


def start(client, phone_typed="138 0013 8000"):
    return client.post("/account/register", data={"phone": phone_typed})


def finish(client, code, password=GOOD_PASSWORD, confirm=None):
    return client.post(
        "/account/register/verify",
        data={
            "code": code,
            "password": password,
            "confirm": password if confirm is None else confirm,
        },
    )


def test_register_happy_path(client):
    r = start(client, "+86 138-0013-8000")
    assert r.status_code == 302 and r.headers["Location"] == "/account/register/verify"
    assert PHONE not in r.headers["Location"]
    [sms] = sms_to(PHONE)
    assert sms.kind == "sms_code" and sms.channel == "sms" and sms.status == "pending"
    assert "10" in sms.body

    page = client.get("/account/register/verify").get_data(as_text=True)
    assert "138 0013 8000" in page

    r = finish(client, code_from_sms(PHONE))
    assert r.status_code == 302 and r.headers["Location"] == "/account/profile"
    user = db.session.scalar(select(User).where(User.phone == PHONE))
    assert user is not None
    assert user.phone_verified_at is not None
    assert user.password_hash.startswith("$argon2id$")
    assert GOOD_PASSWORD not in user.password_hash
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "register"))
    assert entry.actor_id == user.id
    assert db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "login", AuditEntry.actor_id == user.id)
    ).changes == {"method": "register"}
    # Logged in now: a login-only page opens.
    assert client.get("/account/password").status_code == 200


def test_code_is_used_up_after_registering(client):
    start(client)
    code = code_from_sms(PHONE)
    finish(client, code)
    row = db.session.scalar(select(SmsCode).where(SmsCode.phone == PHONE))
    assert row.consumed_at is not None


def test_verify_step_needs_the_phone_step_first(client):
    r = client.get("/account/register/verify")
    assert r.status_code == 302 and r.headers["Location"] == "/account/register"
    r = finish(client, "123456")
    assert r.status_code == 302
    assert count(User) == 0


def test_existing_number_gets_the_same_screen_but_a_different_sms(client, make_user):
    make_user(phone=PHONE)
    r = start(client)
    other = english_client(client.application).post(
        "/account/register", data={"phone": "13900139000"}
    )
    assert r.status_code == other.status_code == 302
    assert r.headers["Location"] == other.headers["Location"]
    assert client.get("/account/register/verify").status_code == 200
    [sms] = sms_to(PHONE)
    assert not re.search(r"\d{6}", sms.body)  # no usable code in it
    assert "already has an account" in sms.body
    # Any code typed fails like a wrong code, and no second account appears.
    r = finish(client, "000000")
    assert r.status_code == 200
    assert "The code is not right" in r.get_data(as_text=True)
    assert count(User) == 1


def test_wrong_code_keeps_the_try_and_writes_no_user(client):
    start(client)
    code = code_from_sms(PHONE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    r = finish(client, wrong)
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert "The code is not right. You can try 4 more times." in body
    assert count(User) == 0
    db.session.expire_all()
    assert db.session.scalar(select(SmsCode).where(SmsCode.phone == PHONE)).attempts == 1


def test_five_wrong_codes_then_the_right_one_is_refused(client):
    start(client)
    code = code_from_sms(PHONE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        finish(client, wrong)
    r = finish(client, code)
    assert "too many times" in r.get_data(as_text=True)
    assert count(User) == 0


@pytest.mark.parametrize(
    "password, message",
    [
        ("short pw", "at least 12"),
        ("qwertyuiop123", "too common"),
        ("WOAINI5201314", "too common"),
        ("me13800138000!", "mobile number"),
        ("my no. 138-0013-8000", "mobile number"),
        ("aaaaaaaaaaaaaaaa", "same character"),
    ],
)
def test_password_policy(client, password, message):
    start(client)
    r = finish(client, code_from_sms(PHONE), password=password)
    assert r.status_code == 200
    assert message in r.get_data(as_text=True)
    assert count(User) == 0
    # The code was not tried: the person can fix the password and use it.
    r = finish(client, code_from_sms(PHONE))
    assert r.status_code == 302
    assert count(User) == 1


def test_confirmation_must_match(client):
    start(client)
    r = finish(client, code_from_sms(PHONE), confirm=GOOD_PASSWORD + "x")
    assert "The two passwords are not the same." in r.get_data(as_text=True)
    assert count(User) == 0


def test_resend_within_a_minute_explains_and_sends_nothing(client):
    start(client)
    r = client.post("/account/register", data={"resend": "1"}, follow_redirects=True)
    assert r.status_code == 200
    assert "Please wait" in r.get_data(as_text=True)
    assert len(sms_to(PHONE)) == 1
    # Typing the number again within the minute: same answer, and the first code still works.
    r = start(client)
    assert r.headers["Location"] == "/account/register/verify"
    assert len(sms_to(PHONE)) == 1
    assert finish(client, code_from_sms(PHONE)).status_code == 302


def test_resend_after_a_minute_sends_a_new_code(client, app):
    from datetime import timedelta

    app.config["SMS_RESEND_INTERVAL"] = timedelta(0)
    start(client)
    first = code_from_sms(PHONE)
    client.post("/account/register", data={"resend": "1"})
    assert len(sms_to(PHONE)) == 2
    second = code_from_sms(PHONE)
    if first != second:
        assert finish(client, first).status_code == 200
    assert finish(client, second).status_code == 302


def test_use_another_number_shows_the_number_typed_before(client):
    start(client)
    body = client.get("/account/register").get_data(as_text=True)
    assert 'value="138 0013 8000"' in body


def test_logged_in_user_is_sent_to_their_account(client, make_user, login):
    login(client, make_user())
    r = client.get("/account/register")
    assert r.status_code == 302 and r.headers["Location"] == "/account/"
