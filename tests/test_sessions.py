"""The active-sessions page: your own live sessions only, end one or all others, and
someone else's session id is a 404 that changes nothing."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts.devices import describe_device
from portal.accounts.models import ServerSession
from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.sessions import hash_token
from portal.timeutil import utcnow
from tests.conftest import english_client, statements_run

WECHAT_ANDROID = (
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/116.0.0.0 Mobile Safari/537.36 MicroMessenger/8.0.47.2560(0x28002F35)"
)
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
EDGE_WINDOWS = CHROME_WINDOWS + " Edg/124.0.0.0"


@pytest.fixture
def client(app):
    return english_client(app)


def row_of(token: str) -> ServerSession:
    db.session.expire_all()
    return db.session.scalar(
        select(ServerSession).where(ServerSession.token_hash == hash_token(token))
    )


def set_device(token: str, user_agent: str, ip: str) -> ServerSession:
    row = row_of(token)
    row.user_agent, row.ip = user_agent, ip
    db.session.commit()
    return row


@pytest.mark.parametrize(
    "ua, expected",
    [
        (WECHAT_ANDROID, "WeChat on Android"),
        (CHROME_WINDOWS, "Chrome on Windows"),
        (SAFARI_IPHONE, "Safari on iPhone"),
        (EDGE_WINDOWS, "Edge on Windows"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4; rv:125.0) Gecko/20100101 Firefox/125.0",
            "Firefox on Mac",
        ),
        ("curl/8.5.0", "A web browser"),
        ("", "A web browser"),
        (None, "A web browser"),
    ],
)
def test_device_descriptions(app, ua, expected):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert describe_device(ua) == expected


def test_lists_own_live_sessions_only(app, make_user, login):
    me, other = make_user(), make_user()
    here = english_client(app)
    here_token = login(here, me)
    phone_token = login(english_client(app), me)
    set_device(phone_token, WECHAT_ANDROID, "203.0.113.7")
    set_device(here_token, CHROME_WINDOWS, "198.51.100.2")
    ended_token = login(english_client(app), me)
    row_of(ended_token).revoked_at = utcnow()
    stale_token = login(english_client(app), me)
    row_of(stale_token).last_seen_at = utcnow() - timedelta(days=1)
    other_token = login(english_client(app), other)
    set_device(other_token, SAFARI_IPHONE, "192.0.2.99")
    db.session.commit()

    body = here.get("/account/sessions", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "WeChat on Android" in body and "203.0.113.7" in body
    assert "Chrome on Windows" in body and "This device" in body
    assert body.index("Chrome on Windows") < body.index("WeChat on Android")  # this device first
    assert "192.0.2.99" not in body and "Safari on iPhone" not in body
    ids = {int(v) for v in re.findall(r'name="session_id" value="(\d+)"', body)}
    assert ids == {row_of(phone_token).id}  # no button for this device, ended or stale ones


def test_end_one_other_session(app, make_user, login):
    me = make_user()
    here = english_client(app)
    login(here, me)
    there = english_client(app)
    there_token = login(there, me)
    r = here.post("/account/sessions", data={"session_id": row_of(there_token).id})
    assert r.status_code == 302
    assert row_of(there_token).revoked_at is not None
    assert there.get("/account/password").status_code == 302  # logged out there
    assert here.get("/account/password").status_code == 200
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.actor_id == me.id)) == (
        "session_ended"
    )


def test_end_all_other_sessions(app, make_user, login):
    me = make_user()
    here = english_client(app)
    here_token = login(here, me)
    others = [login(english_client(app), me) for _ in range(3)]
    r = here.post(
        "/account/sessions",
        data={"end_all": "1"},
        headers={"Accept-Language": "en"},
        follow_redirects=True,
    )
    assert "3 other sessions were ended." in r.get_data(as_text=True)
    assert all(row_of(t).revoked_at is not None for t in others)
    assert row_of(here_token).revoked_at is None


@pytest.mark.parametrize("which", ["another_user", "revoked_own", "this_one", "missing", "junk"])
def test_cannot_end_what_is_not_an_other_live_session_of_mine(app, make_user, login, which):
    me, other = make_user(), make_user()
    here = english_client(app)
    here_token = login(here, me)
    other_token = login(english_client(app), other)
    revoked_token = login(english_client(app), me)
    row_of(revoked_token).revoked_at = utcnow()
    db.session.commit()
    target = {
        "another_user": row_of(other_token).id,
        "revoked_own": row_of(revoked_token).id,
        "this_one": row_of(here_token).id,
        "missing": 999_999,
        "junk": "' OR 1=1 --",
    }[which]
    r = here.post("/account/sessions", data={"session_id": target})
    assert r.status_code == 404
    assert row_of(other_token).revoked_at is None
    assert row_of(here_token).revoked_at is None
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "session_ended")) is None


def test_sessions_page_needs_login(client):
    r = client.get("/account/sessions")
    assert r.status_code == 302 and "/account/login" in r.headers["Location"]


def test_the_user_arrives_with_the_session_row(app, make_user, login):
    """One round trip reads the session and its user: no separate users query."""

    user = make_user()
    client = english_client(app)
    login(client, user)
    with statements_run() as statements:
        assert client.get("/account/").status_code == 200
    with_session = [s for s in statements if "FROM server_sessions" in s]
    assert len(with_session) == 1 and "JOIN users" in with_session[0]
    assert not [s for s in statements if "FROM users" in s and "server_sessions" not in s]


def test_prune_keeps_only_sessions_that_can_still_be_used(app, make_user):
    from datetime import datetime

    from portal.sessions import prune_dead_sessions

    now = datetime(2026, 11, 23, 4, 0)
    idle = app.config["SESSION_IDLE_TIMEOUT"]
    absolute = app.config["SESSION_ABSOLUTE_TIMEOUT"]
    user = make_user()

    def row(name, user_id=None, *, seen_ago, age, revoked=False):
        db.session.add(
            ServerSession(
                token_hash=hash_token(name),
                user_id=user_id,
                is_staff=False,
                data="{}",
                created_at=now - age,
                last_seen_at=now - seen_ago,
                revoked_at=now if revoked else None,
            )
        )

    row("live", user.id, seen_ago=timedelta(minutes=5), age=timedelta(hours=1))
    row("anonymous, live", seen_ago=idle - timedelta(minutes=1), age=timedelta(hours=3))
    row("anonymous, idle", seen_ago=idle + timedelta(minutes=1), age=timedelta(hours=3))
    row("logged out", user.id, seen_ago=timedelta(minutes=1), age=timedelta(hours=1), revoked=True)
    row("too old", user.id, seen_ago=timedelta(minutes=1), age=absolute + timedelta(hours=1))
    db.session.commit()

    assert prune_dead_sessions(app, now) == 3
    db.session.commit()
    left = set(db.session.scalars(select(ServerSession.token_hash)))
    assert left == {hash_token("live"), hash_token("anonymous, live")}
