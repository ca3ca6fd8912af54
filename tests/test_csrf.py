"""CSRF switched on, as in production: a POST without the token is refused with the
friendly 400 page and changes nothing; a real form submission with the token works."""

import re

import pytest
from sqlalchemy import select

from portal.accounts.models import ServerSession, SmsCode, User
from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.notifications.models import Notification
from tests.conftest import DEFAULT_PASSWORD, count

PHONE = "13800138000"


@pytest.fixture
def app_overrides():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def token_from(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def logged_in_sessions() -> int:
    db.session.expire_all()
    return len(
        db.session.scalars(select(ServerSession).where(ServerSession.user_id.is_not(None))).all()
    )


def test_tokenless_login_is_refused_and_changes_nothing(client, make_user):
    make_user(phone=PHONE)
    r = client.post("/account/login", data={"phone": PHONE, "password": DEFAULT_PASSWORD})
    assert r.status_code == 400
    body = r.get_data(as_text=True)
    assert "This form has expired or was sent from another page." in body
    assert '<main id="content"' in body  # the friendly page, not a bare error
    assert logged_in_sessions() == 0
    assert count(AuditEntry) == 0


def test_token_from_another_session_is_refused(app, client, make_user):
    make_user(phone=PHONE)
    other = app.test_client()
    stolen = token_from(other.get("/account/login").get_data(as_text=True))
    r = client.post(
        "/account/login", data={"phone": PHONE, "password": DEFAULT_PASSWORD, "csrf_token": stolen}
    )
    assert r.status_code == 400
    assert logged_in_sessions() == 0


def test_real_login_form_with_token_works(client, make_user):
    user = make_user(phone=PHONE)
    token = token_from(client.get("/account/login").get_data(as_text=True))
    r = client.post(
        "/account/login", data={"phone": PHONE, "password": DEFAULT_PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 302
    assert db.session.scalar(select(ServerSession.user_id).where(ServerSession.user_id == user.id))


def test_tokenless_register_sends_no_sms(client):
    r = client.post("/account/register", data={"phone": PHONE})
    assert r.status_code == 400
    assert count(SmsCode) == 0 and count(Notification) == 0


def test_full_registration_with_tokens(client):
    page = client.get("/account/register").get_data(as_text=True)
    r = client.post("/account/register", data={"phone": PHONE, "csrf_token": token_from(page)})
    assert r.status_code == 302
    code = re.search(r"\d{6}", db.session.scalar(select(Notification.body))).group(0)
    page = client.get("/account/register/verify").get_data(as_text=True)
    password = "spring rain on the roof 7"
    r = client.post(
        "/account/register/verify",
        data={
            "code": code,
            "password": password,
            "confirm": password,
            "csrf_token": token_from(page),
        },
    )
    assert r.status_code == 302
    assert count(User) == 1


def test_tokenless_logout_is_refused(client, make_user, login):
    login(client, make_user())
    r = client.post("/account/logout")
    assert r.status_code == 400
    assert client.get("/account/password").status_code == 200  # still logged in


def test_tokenless_end_session_is_refused(app, client, make_user, login):
    me = make_user()
    login(client, me)
    login(app.test_client(), me)
    r = client.post("/account/sessions", data={"end_all": "1"})
    assert r.status_code == 400
    db.session.expire_all()
    assert all(row.revoked_at is None for row in db.session.scalars(select(ServerSession)))


def test_withdrawing_a_consent_needs_the_token(client, make_user, login):
    from portal.consent import services as consent
    from portal.consent.models import ConsentRecord
    from portal.consent.purposes import ID_DOCUMENT

    user = make_user()
    consent.give(user, ID_DOCUMENT)
    db.session.commit()
    login(client, user)
    url = f"/account/consents/{ID_DOCUMENT}/withdraw"
    assert client.post(url, data={"confirm": "yes"}).status_code == 400
    assert count(ConsentRecord) == 1

    page = client.get("/account/consents").get_data(as_text=True)
    warning = client.post(url, data={"csrf_token": token_from(page)})
    assert warning.status_code == 200  # the warning, then the confirmation
    token = re.search(r'name="csrf_token" value="([^"]+)"', warning.get_data(as_text=True))
    r = client.post(url, data={"csrf_token": token.group(1), "confirm": "yes"})
    assert r.status_code == 302
    assert not consent.is_given(user, ID_DOCUMENT)


def header_token(page: str) -> str:
    """The token of the switches in the page header (every page has them)."""
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_login_reissues_the_token(client, make_user):
    """The token from before the login (known to whoever planted or saw that visitor
    cookie) stops working; the pages after the login carry one that works."""
    make_user(phone=PHONE)
    page = client.get("/account/login").get_data(as_text=True)
    before = token_from(page)
    r = client.post(
        "/account/login", data={"phone": PHONE, "password": DEFAULT_PASSWORD, "csrf_token": before}
    )
    assert r.status_code == 302
    r = client.post("/care-mode", data={"on": "1", "next": "/", "csrf_token": before})
    assert r.status_code == 400
    after = header_token(client.get("/account/").get_data(as_text=True))
    r = client.post("/care-mode", data={"on": "1", "next": "/", "csrf_token": after})
    assert r.status_code == 302
    r = client.post("/account/logout", data={"csrf_token": after})
    assert r.status_code == 302
    assert logged_in_sessions() == 1  # the row is kept, revoked


def test_a_visitor_after_logout_gets_a_working_token(client, make_user, login):
    login(client, make_user())
    token = header_token(client.get("/account/").get_data(as_text=True))
    assert client.post("/account/logout", data={"csrf_token": token}).status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "You have logged out." in page
    r = client.post(
        "/language", data={"locale": "en", "next": "/", "csrf_token": header_token(page)}
    )
    assert r.status_code == 302
    db.session.expire_all()
    revoked = db.session.scalars(select(ServerSession.revoked_at)).all()
    assert [when is not None for when in revoked] == [True]  # and no visitor row since


def test_the_register_flow_keeps_its_token_in_the_visitor_cookie(client):
    """Step 1 and step 2 of registering run on the signed cookie alone."""
    page = client.get("/account/register").get_data(as_text=True)
    r = client.post("/account/register", data={"phone": PHONE, "csrf_token": token_from(page)})
    assert r.status_code == 302
    assert count(ServerSession) == 0
