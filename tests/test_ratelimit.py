"""Throttling: login per number and per IP, SMS per number and per IP, answered with
the friendly 429 page; only POSTs count, and other people are not affected."""

from datetime import timedelta

from limits import parse_many
from sqlalchemy import select

from portal.accounts import throttle
from portal.extensions import db
from portal.notifications.models import Notification
from tests.conftest import DEFAULT_PASSWORD

PHONE = "13800138000"
OTHER_PHONE = "13900139000"


def client_from(app, ip: str):
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": ip, "HTTP_ACCEPT_LANGUAGE": "en"})
    return client


def per_minute(limit_string: str) -> int:
    return next(lim.amount for lim in parse_many(limit_string) if lim.GRANULARITY.name == "minute")


def per(limit_string: str, granularity: str) -> int:
    return next(
        lim.amount for lim in parse_many(limit_string) if lim.GRANULARITY.name == granularity
    )


def wrong_login(client, phone=PHONE):
    return client.post("/account/login", data={"phone": phone, "password": "wrong password!!"})


def test_login_limit_per_phone_answers_429_with_the_friendly_page(app, make_user):
    make_user(phone=PHONE)
    attacker = client_from(app, "203.0.113.1")
    allowed = per_minute(throttle.LOGIN_LIMIT_PER_PHONE)
    for _ in range(allowed):
        assert wrong_login(attacker).status_code == 200
    r = wrong_login(attacker)
    assert r.status_code == 429
    body = r.get_data(as_text=True)
    assert "You have tried too many times" in body and '<main id="content"' in body
    # The right password is refused too for now: the limit is on the number.
    r = attacker.post("/account/login", data={"phone": PHONE, "password": DEFAULT_PASSWORD})
    assert r.status_code == 429
    # The same number typed differently is the same account.
    assert (
        wrong_login(client_from(app, "203.0.113.50"), phone="+86 138 0013 8000").status_code == 429
    )

    # Someone else, elsewhere, logs in as usual.
    make_user(phone=OTHER_PHONE)
    other = client_from(app, "198.51.100.9")
    r = other.post("/account/login", data={"phone": OTHER_PHONE, "password": DEFAULT_PASSWORD})
    assert r.status_code == 302


def test_sms_code_logins_share_the_per_phone_login_budget(app, make_user):
    make_user(phone=PHONE)
    client = client_from(app, "203.0.113.2")
    allowed = per_minute(throttle.LOGIN_LIMIT_PER_PHONE)
    for _ in range(allowed):
        wrong_login(client)
    client.post("/account/login/code", data={"phone": PHONE})
    # A made-up phone field does not buy a fresh budget: the number in the session counts.
    r = client.post("/account/login/code/verify", data={"code": "000000", "phone": OTHER_PHONE})
    assert r.status_code == 429


def test_login_limit_per_ip(app):
    client = client_from(app, "203.0.113.3")
    allowed = per_minute(throttle.LOGIN_LIMIT_PER_IP)
    phones = [f"1380000{n:04d}" for n in range(allowed + 1)]
    for phone in phones[:allowed]:
        assert wrong_login(client, phone=phone).status_code == 200
    assert wrong_login(client, phone=phones[-1]).status_code == 429
    assert wrong_login(client_from(app, "203.0.113.4"), phone=phones[-1]).status_code == 200


def test_looking_at_the_form_does_not_count(app, make_user):
    make_user(phone=PHONE)
    client = client_from(app, "203.0.113.5")
    for _ in range(per_minute(throttle.LOGIN_LIMIT_PER_IP) + 5):
        assert client.get("/account/login").status_code == 200
    r = client.post("/account/login", data={"phone": PHONE, "password": DEFAULT_PASSWORD})
    assert r.status_code == 302


def sms_count(phone: str) -> int:
    db.session.expire_all()
    return len(
        db.session.scalars(select(Notification).where(Notification.recipient == phone)).all()
    )


def test_sms_limit_per_phone_per_day(app):
    app.config["SMS_RESEND_INTERVAL"] = timedelta(0)  # let the daily wall be reached quickly
    allowed = per(throttle.SMS_LIMIT_PER_PHONE, "day")
    for n in range(allowed):
        # From different addresses, and through different doors: one budget per number.
        client = client_from(app, f"198.51.100.{n + 1}")
        path = ["/account/register", "/account/login/code", "/account/reset"][n % 3]
        assert client.post(path, data={"phone": PHONE}).status_code == 302
    assert sms_count(PHONE) == allowed
    r = client_from(app, "198.51.100.200").post("/account/reset", data={"phone": PHONE})
    assert r.status_code == 429
    assert sms_count(PHONE) == allowed
    # Another number is not affected.
    assert (
        client_from(app, "198.51.100.201")
        .post("/account/register", data={"phone": OTHER_PHONE})
        .status_code
        == 302
    )


def test_resend_button_counts_against_the_same_number(app):
    app.config["SMS_RESEND_INTERVAL"] = timedelta(0)
    client = client_from(app, "198.51.100.77")
    client.post("/account/register", data={"phone": PHONE})
    allowed = per(throttle.SMS_LIMIT_PER_PHONE, "day")
    for n in range(allowed - 1):
        # The resend acts on the number in the session, whatever else is posted.
        client.post("/account/register", data={"resend": "1", "phone": f"1360000{n:04d}"})
    assert sms_count(PHONE) == allowed
    r = client.post("/account/register", data={"resend": "1", "phone": OTHER_PHONE})
    assert r.status_code == 429


def test_please_wait_answers_do_not_use_up_the_sms_budget(app):
    client = client_from(app, "198.51.100.88")
    allowed = per(throttle.SMS_LIMIT_PER_PHONE, "day")
    for _ in range(allowed + 5):
        r = client.post("/account/register", data={"phone": PHONE})
        assert r.status_code == 302  # to step 2, with "please wait" after the first
    assert sms_count(PHONE) == 1


def test_sms_limit_per_ip(app):
    client = client_from(app, "192.0.2.10")
    allowed = per(throttle.SMS_LIMIT_PER_IP, "hour")
    for n in range(allowed):
        assert (
            client.post("/account/register", data={"phone": f"1370000{n:04d}"}).status_code == 302
        )
    r = client.post("/account/register", data={"phone": "13711112222"})
    assert r.status_code == 429
    assert sms_count("13711112222") == 0
    assert (
        client_from(app, "192.0.2.11")
        .post("/account/register", data={"phone": "13711112222"})
        .status_code
        == 302
    )
