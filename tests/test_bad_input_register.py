"""Nasty input on the registration forms: a clear message beside the field, what was
typed kept (except passwords), no account written, never a 500."""

import re

import pytest
from markupsafe import escape
from sqlalchemy import select

from portal.accounts.models import SmsCode, User
from portal.extensions import db
from portal.notifications.models import Notification
from tests.conftest import count, english_client

PHONE = "13800138000"
GOOD_PASSWORD = "plum blossoms in winter 9"


@pytest.fixture
def client(app):
    return english_client(app)


def field_error(body: str, field_id: str) -> str | None:
    match = re.search(rf'<p class="error" id="{field_id}-err">(.*?)</p>', body, re.S)
    return match.group(1) if match else None


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "123",
        "1380013800",
        "138001380001",
        "010 6512 3456",
        "+852 6123 4567",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "\x00",
        "138\x000013800",
        "😀" * 5,
        "1" * 10000,
        "𠮷",
        "买买提·艾力",
    ],
    ids=lambda v: repr(v[:20]),
)
def test_bad_phone_numbers(client, typed):
    r = client.post("/account/register", data={"phone": typed})
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    error = field_error(body, "phone")
    assert error and ("mobile number" in error)
    assert 'aria-invalid="true"' in body
    if typed.strip():
        assert f'value="{escape(typed.strip())}"' in body
    assert "<script>alert(1)</script>" not in body
    assert count(User) == 0
    assert count(SmsCode) == 0
    assert count(Notification) == 0


@pytest.mark.parametrize(
    "typed", ["+86 138 0013 8000", "138 0013 8000", "138-0013-8000", "１３８００１３８０００"]
)
def test_good_phone_numbers_are_normalised(client, typed):
    r = client.post("/account/register", data={"phone": typed})
    assert r.status_code == 302
    assert db.session.scalar(select(SmsCode.phone)) == PHONE
    assert db.session.scalar(select(Notification.recipient)) == PHONE


def test_missing_phone_field_altogether(client):
    r = client.post("/account/register", data={})
    assert r.status_code == 200
    assert field_error(r.get_data(as_text=True), "phone")
    assert count(SmsCode) == 0


def _to_step_two(client) -> str:
    client.post("/account/register", data={"phone": PHONE})
    body = db.session.scalar(select(Notification.body))
    return re.search(r"\d{6}", body).group(0)


@pytest.mark.parametrize(
    "password, message",
    [
        ("", "Please choose a password."),
        ("short", "at least 12"),
        ("a" * 11 + "b", None),  # 12 characters: accepted, the control case
        ("x1" * 64 + "y", "at most 128"),  # 129
        ("1234567890ab", "too common"),
        ("Woaini1314520", "too common"),
        ("13800138000abc", "mobile number"),
        ("good password\x00here", "cannot be typed"),
        ("p" * 10000, "at most 128"),
        ("<script>alert(1)</script>", None),  # odd but allowed: it is only hashed
    ],
    ids=lambda v: repr(v[:20]) if isinstance(v, str) else str(v),
)
def test_bad_passwords(client, password, message):
    code = _to_step_two(client)
    r = client.post(
        "/account/register/verify", data={"code": code, "password": password, "confirm": password}
    )
    if message is None:
        assert r.status_code == 302
        assert count(User) == 1
        return
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert message in field_error(body, "password")
    if password:  # secrets are never sent back
        assert f'value="{escape(password)}"' not in body
    assert count(User) == 0


@pytest.mark.parametrize(
    "code", ["", "12345", "1234567", "abcdef", "<script>", "\x00" * 6, "😀" * 6, "9" * 10000]
)
def test_bad_codes(client, code):
    _to_step_two(client)
    r = client.post(
        "/account/register/verify",
        data={"code": code, "password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD},
    )
    assert r.status_code == 200
    assert field_error(r.get_data(as_text=True), "code")
    assert count(User) == 0
    # A code that is not even 6 digits does not use up a try.
    db.session.expire_all()
    assert db.session.scalar(select(SmsCode.attempts)) == 0


def test_malformed_form_encoding_is_not_a_500(client):
    """Undecodable bytes arrive as replacement characters: a phone number like any other
    bad one, answered beside the field."""
    r = client.post(
        "/account/register",
        data=b"phone=%ZZ%00%ff\xff",
        content_type="application/x-www-form-urlencoded",
    )
    assert r.status_code == 200
    assert field_error(r.get_data(as_text=True), "phone")
    assert count(User) == 0
