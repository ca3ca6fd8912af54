"""A citizen's (non-staff) session follows the citizen timeouts from the configuration
(defaults: 120 minutes idle, 72 hours in all): a minute short of the idle limit it still
opens the account pages, a minute past it the person is sent to log in again, and a
session older than the absolute limit is refused even when it was used a moment ago.
Sessions are aged by moving their row's timestamps back, as tests/test_staff_sessions.py
does."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import ServerSession
from portal.extensions import db
from portal.sessions import hash_token
from portal.timeutil import utcnow

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


@pytest.fixture
def citizen(make_user):
    return make_user()


@pytest.fixture
def limits(app):
    idle, absolute = app.config["SESSION_IDLE_TIMEOUT"], app.config["SESSION_ABSOLUTE_TIMEOUT"]
    # The cases below sit a minute either side of the idle limit and an hour past the
    # absolute one; they only mean something while the limits are far enough apart.
    assert absolute > idle + 2 * HOUR
    return idle, absolute


def _row(token: str) -> ServerSession:
    row = db.session.scalar(
        select(ServerSession).where(ServerSession.token_hash == hash_token(token))
    )
    db.session.refresh(row)
    return row


def _age_session(
    token: str, *, idle: timedelta = timedelta(0), age: timedelta | None = None
) -> None:
    """Move the session row of this cookie back in time: last seen `idle` ago, created
    `age` ago (default: when it was last seen)."""
    row = _row(token)
    assert row.is_staff is False
    now = utcnow()
    row.last_seen_at = now - idle
    row.created_at = now - (age if age is not None else idle)
    db.session.commit()


def _open_account(app, login, user, **aging):
    client = app.test_client()
    _age_session(login(client, user), **aging)
    return client.get("/account/")


def _is_sent_to_login(response) -> bool:
    return response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_fresh_citizen_session_opens_the_account_page(app, login, citizen):
    r = _open_account(app, login, citizen)
    assert r.status_code == 200


def test_one_minute_short_of_the_idle_limit_still_works(app, login, citizen, limits):
    idle, _ = limits
    r = _open_account(app, login, citizen, idle=idle - MINUTE)  # 119 minutes by default
    assert r.status_code == 200


def test_one_minute_past_the_idle_limit_is_refused(app, login, citizen, limits):
    idle, _ = limits
    r = _open_account(app, login, citizen, idle=idle + MINUTE)  # 121 minutes by default
    assert _is_sent_to_login(r)


def test_past_the_absolute_limit_is_refused_even_if_just_used(app, login, citizen, limits):
    _, absolute = limits
    r = _open_account(app, login, citizen, idle=MINUTE, age=absolute + HOUR)  # 73 hours
    assert _is_sent_to_login(r)


def test_just_inside_the_absolute_limit_still_works(app, login, citizen, limits):
    _, absolute = limits
    r = _open_account(app, login, citizen, idle=MINUTE, age=absolute - HOUR)  # 71 hours
    assert r.status_code == 200


def test_a_refused_session_stays_refused(app, login, citizen, limits):
    """Being refused does not revive the row: the next request is refused again."""
    idle, _ = limits
    client = app.test_client()
    token = login(client, citizen)
    _age_session(token, idle=idle + MINUTE)
    assert _is_sent_to_login(client.get("/account/"))
    assert _is_sent_to_login(client.get("/account/"))
    assert utcnow() - _row(token).last_seen_at > idle


def test_using_the_session_keeps_it_alive(app, login, citizen, limits):
    """Activity moves last_seen_at forward, so a session used often never goes idle."""
    idle, _ = limits
    client = app.test_client()
    token = login(client, citizen)
    _age_session(token, idle=idle - MINUTE)
    assert client.get("/account/").status_code == 200
    assert utcnow() - _row(token).last_seen_at < 5 * MINUTE


class TestTimeoutsFollowTheConfiguration:
    @pytest.fixture
    def app_overrides(self):
        return {
            "SESSION_IDLE_TIMEOUT": timedelta(minutes=10),
            "SESSION_ABSOLUTE_TIMEOUT": timedelta(hours=3),
        }

    def test_shorter_idle_limit(self, app, login, citizen, limits):
        assert limits[0] == timedelta(minutes=10)
        assert _open_account(app, login, citizen, idle=timedelta(minutes=9)).status_code == 200
        assert _is_sent_to_login(_open_account(app, login, citizen, idle=timedelta(minutes=11)))

    def test_shorter_absolute_limit(self, app, login, citizen, limits):
        assert limits[1] == timedelta(hours=3)
        aged = {"idle": MINUTE, "age": timedelta(hours=3, minutes=1)}
        assert _is_sent_to_login(_open_account(app, login, citizen, **aged))
