"""Throttling: wrong logins count per client (number + address) and per address, so a
stranger cannot lock an owner out; across addresses a number's wrong passwords only
pause password login in favour of an SMS code. SMS sending: hard walls per client and
address, per number only a longer wait. The 429 page and Retry-After name the real wait."""

import re
from datetime import timedelta

import pytest
from limits import parse_many
from sqlalchemy import select

from portal.accounts import throttle
from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.notifications.models import Notification
from tests.conftest import DEFAULT_PASSWORD

PHONE = "13800138000"
OTHER_PHONE = "13900139000"
OWNER_IP = "192.0.2.200"
PAUSED = "it can only log in with an SMS code for now"


def client_from(app, ip: str, language: str = "en"):
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": ip, "HTTP_ACCEPT_LANGUAGE": language})
    return client


def per(limit_string: str, granularity: str) -> int:
    return next(
        lim.amount for lim in parse_many(limit_string) if lim.GRANULARITY.name == granularity
    )


def wrong_login(client, phone=PHONE):
    return client.post("/account/login", data={"phone": phone, "password": "wrong password!!"})


def right_login(client, phone=PHONE):
    return client.post("/account/login", data={"phone": phone, "password": DEFAULT_PASSWORD})


def last_code(phone: str) -> str:
    db.session.expire_all()
    body = db.session.scalars(
        select(Notification.body)
        .where(Notification.recipient == phone)
        .order_by(Notification.id.desc())
    ).first()
    return re.search(r"\b\d{6}\b", body).group(0)


def sms_code_login(client, phone=PHONE):
    """The whole SMS-code login; returns the answer to the code."""
    r = client.post("/account/login/code", data={"phone": phone})
    assert r.status_code == 302, r.status_code
    return client.post("/account/login/code/verify", data={"code": last_code(phone)})


def retry_after(response) -> int:
    return int(response.headers["Retry-After"])


def strangers_guess(app, count: int, phone=PHONE):
    """`count` wrong passwords, each from an address of its own."""
    for n in range(count):
        r = wrong_login(client_from(app, f"203.0.113.{n + 1}"), phone=phone)
        assert r.status_code == 200, n


def audit(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


# --- Logins ------------------------------------------------------------------------


def test_wrong_passwords_from_one_client_block_that_client_only(app, make_user):
    make_user(phone=PHONE)
    attacker = client_from(app, "203.0.113.1")
    for _ in range(per(throttle.LOGIN_FAILURES_PER_CLIENT, "minute")):
        assert wrong_login(attacker).status_code == 200
    r = wrong_login(attacker)
    assert r.status_code == 429
    body = r.get_data(as_text=True)
    assert '<main id="content"' in body
    assert "Please wait about 1 minute and try again." in body
    assert 0 < retry_after(r) <= 60
    # The right password is refused too, from this client, for now.
    assert right_login(attacker).status_code == 429
    # The same number typed differently is the same account.
    assert wrong_login(attacker, phone="+86 138 0013 8000").status_code == 429

    # The owner, elsewhere, logs in as usual, by password or by code.
    owner = client_from(app, OWNER_IP)
    assert right_login(owner).status_code == 302
    assert sms_code_login(client_from(app, "192.0.2.201")).status_code == 302


def test_strangers_twenty_wrong_passwords_do_not_stop_the_owners_sms_code_login(app, make_user):
    user = make_user(phone=PHONE)
    strangers_guess(app, 20)
    owner = client_from(app, OWNER_IP)
    r = sms_code_login(owner)
    assert r.status_code == 302 and r.headers["Location"] == "/account/"
    assert owner.get("/account/password").status_code == 200
    [entry] = [e for e in audit("login") if e.actor_id == user.id]
    assert entry.changes == {"method": "sms_code"}


def test_per_number_ceiling_asks_for_an_sms_code_and_the_owner_gets_in(app, make_user):
    user = make_user(phone=PHONE)
    ceiling = per(throttle.PASSWORD_FAILURES_PER_PHONE, "hour")
    strangers_guess(app, ceiling)
    assert len(audit("login_failed")) == ceiling
    [paused] = audit("password_login_paused")
    assert paused.object_id == str(user.id)

    owner = client_from(app, OWNER_IP)
    # Even the right password only gets the offer of a code: from here nobody can
    # tell the owner from a stranger who guessed it.
    r = right_login(owner, phone="138 0013 8000")
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert PAUSED in body
    assert 'action="/account/login/code"' in body and 'value="13800138000"' in body
    assert owner.get("/account/password").status_code == 302  # not logged in
    # Paused attempts check no password, so they are not failed logins.
    assert len(audit("login_failed")) == ceiling

    # The button on that page sends the code; the owner types it in.
    r = owner.post("/account/login/code", data={"phone": PHONE, "next": ""})
    assert r.status_code == 302
    r = owner.post("/account/login/code/verify", data={"code": last_code(PHONE)})
    assert r.status_code == 302
    assert owner.get("/account/password").status_code == 200

    # Other numbers are not affected.
    make_user(phone=OTHER_PHONE)
    assert right_login(client_from(app, "198.51.100.9"), phone=OTHER_PHONE).status_code == 302


def test_password_login_is_not_paused_below_the_ceiling(app, make_user):
    make_user(phone=PHONE)
    strangers_guess(app, per(throttle.PASSWORD_FAILURES_PER_PHONE, "hour") - 1)
    assert right_login(client_from(app, OWNER_IP)).status_code == 302
    assert audit("password_login_paused") == []


def test_wrong_codes_do_not_pause_password_login(app, make_user):
    make_user(phone=PHONE)
    for n in range(per(throttle.PASSWORD_FAILURES_PER_PHONE, "hour")):
        client = client_from(app, f"203.0.113.{n + 1}")
        client.post("/account/login/code", data={"phone": PHONE})
        r = client.post("/account/login/code/verify", data={"code": "000000"})
        assert r.status_code == 200
    assert right_login(client_from(app, OWNER_IP)).status_code == 302


def test_wrong_codes_from_one_client_block_that_client_only(app, make_user):
    make_user(phone=PHONE)
    app.config["SMS_CODE_MAX_ATTEMPTS"] = 100  # let the client wall come first
    attacker = client_from(app, "203.0.113.7")
    attacker.post("/account/login/code", data={"phone": PHONE})
    for _ in range(per(throttle.LOGIN_FAILURES_PER_CLIENT, "minute")):
        r = attacker.post("/account/login/code/verify", data={"code": "000000"})
        assert r.status_code == 200
    # A made-up phone field does not buy a fresh budget: the number in the session counts.
    r = attacker.post("/account/login/code/verify", data={"code": "000000", "phone": OTHER_PHONE})
    assert r.status_code == 429
    # The owner's phone got the code; they type it in from their own address.
    owner = client_from(app, OWNER_IP)
    owner.post("/account/login/code", data={"phone": PHONE})  # "just sent": the code stands
    r = owner.post("/account/login/code/verify", data={"code": last_code(PHONE)})
    assert r.status_code == 302


def test_successful_logins_do_not_count(app, make_user):
    make_user(phone=PHONE)
    client = client_from(app, OWNER_IP)
    for _ in range(per(throttle.LOGIN_FAILURES_PER_IP, "minute") + 5):
        assert right_login(client).status_code == 302
    # A few slips before getting it right are forgiven each time (for this client;
    # the number's ceiling keeps them, and is not reached here).
    slips = per(throttle.LOGIN_FAILURES_PER_CLIENT, "minute") - 1
    assert 2 * slips + 1 < per(throttle.PASSWORD_FAILURES_PER_PHONE, "hour")
    for _ in range(2):
        for _ in range(slips):
            assert wrong_login(client).status_code == 200
        assert right_login(client).status_code == 302
    assert wrong_login(client).status_code == 200


def test_login_failures_per_ip_across_numbers(app):
    client = client_from(app, "203.0.113.3")
    allowed = per(throttle.LOGIN_FAILURES_PER_IP, "minute")
    phones = [f"1380000{n:04d}" for n in range(allowed + 1)]
    for phone in phones[:allowed]:
        assert wrong_login(client, phone=phone).status_code == 200
    assert wrong_login(client, phone=phones[-1]).status_code == 429
    assert wrong_login(client_from(app, "203.0.113.4"), phone=phones[-1]).status_code == 200


def test_looking_at_the_form_does_not_count(app, make_user):
    make_user(phone=PHONE)
    client = client_from(app, "203.0.113.5")
    for _ in range(per(throttle.LOGIN_FAILURES_PER_IP, "minute") + 5):
        assert client.get("/account/login").status_code == 200
    assert right_login(client).status_code == 302


# --- The 429 page ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Please wait about 60 minutes and try again."),
        ("zh", "请等待约60分钟后再试。"),
    ],
)
def test_an_hour_long_wait_is_named_on_the_page_and_in_retry_after(
    app, make_user, monkeypatch, language, text
):
    monkeypatch.setattr(throttle, "LOGIN_FAILURES_PER_CLIENT", "2/hour")
    make_user(phone=PHONE)
    client = client_from(app, "203.0.113.9", language)
    wrong_login(client)
    wrong_login(client)
    r = wrong_login(client)
    assert r.status_code == 429
    assert 3590 <= retry_after(r) <= 3600
    assert text in r.get_data(as_text=True)


def test_a_day_long_wait_is_named_in_hours(app, monkeypatch):
    monkeypatch.setattr(throttle, "LOGIN_FAILURES_PER_IP", "1/day")
    client = client_from(app, "203.0.113.10")
    wrong_login(client)
    r = wrong_login(client, phone=OTHER_PHONE)
    assert r.status_code == 429
    assert 86390 <= retry_after(r) <= 86400
    assert "Please wait about 24 hours and try again." in r.get_data(as_text=True)


# --- SMS sending -------------------------------------------------------------------


def sms_count(phone: str) -> int:
    db.session.expire_all()
    return len(
        db.session.scalars(select(Notification).where(Notification.recipient == phone)).all()
    )


def test_sms_limit_per_number_and_client_per_day(app):
    app.config["SMS_RESEND_INTERVAL"] = timedelta(0)  # let the daily wall be reached quickly
    allowed = per(throttle.SMS_LIMIT_PER_CLIENT, "day")
    client = client_from(app, "198.51.100.1")
    for n in range(allowed):
        # Through different doors: one budget per number and client.
        path = ["/account/register", "/account/login/code", "/account/reset"][n % 3]
        assert client.post(path, data={"phone": PHONE}).status_code == 302
    assert sms_count(PHONE) == allowed
    r = client.post("/account/reset", data={"phone": PHONE})
    assert r.status_code == 429
    assert 86390 <= retry_after(r) <= 86400
    assert "about 24 hours" in r.get_data(as_text=True)
    assert sms_count(PHONE) == allowed
    # Another number from this client is not affected.
    assert client.post("/account/register", data={"phone": OTHER_PHONE}).status_code == 302


def test_strangers_asking_for_codes_only_slow_the_number_down(app, make_user):
    make_user(phone=PHONE)
    app.config["SMS_RESEND_INTERVAL"] = timedelta(0)
    allowed = per(throttle.SMS_SLOWDOWN_PER_PHONE, "day")
    for n in range(allowed):
        client = client_from(app, f"198.51.100.{n + 1}")
        assert client.post("/account/login/code", data={"phone": PHONE}).status_code == 302
    assert sms_count(PHONE) == allowed

    # The owner asks too: no new SMS for a while, but no 429 either, and the code the
    # strangers had sent (to the owner's phone) logs them in.
    owner = client_from(app, OWNER_IP)
    r = owner.post("/account/login/code", data={"phone": PHONE})
    assert r.status_code == 302 and r.headers["Location"] == "/account/login/code/verify"
    assert sms_count(PHONE) == allowed
    page = owner.get("/account/login/code/verify").get_data(as_text=True)
    minutes = int(throttle.SMS_SLOW_RESEND_INTERVAL.total_seconds() // 60)
    assert f"wait about {minutes} minutes before asking for another one" in page
    r = owner.post("/account/login/code/verify", data={"code": last_code(PHONE)})
    assert r.status_code == 302 and r.headers["Location"] == "/account/"


def test_resend_button_counts_against_the_same_number(app):
    app.config["SMS_RESEND_INTERVAL"] = timedelta(0)
    client = client_from(app, "198.51.100.77")
    client.post("/account/register", data={"phone": PHONE})
    allowed = per(throttle.SMS_LIMIT_PER_CLIENT, "day")
    for n in range(allowed - 1):
        # The resend acts on the number in the session, whatever else is posted.
        client.post("/account/register", data={"resend": "1", "phone": f"1360000{n:04d}"})
    assert sms_count(PHONE) == allowed
    r = client.post("/account/register", data={"resend": "1", "phone": OTHER_PHONE})
    assert r.status_code == 429


def test_please_wait_answers_do_not_use_up_the_sms_budget(app):
    client = client_from(app, "198.51.100.88")
    allowed = per(throttle.SMS_LIMIT_PER_CLIENT, "day")
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
    assert 3590 <= retry_after(r) <= 3600
    assert "Please wait about 60 minutes and try again." in r.get_data(as_text=True)
    assert sms_count("13711112222") == 0
    assert (
        client_from(app, "192.0.2.11")
        .post("/account/register", data={"phone": "13711112222"})
        .status_code
        == 302
    )
