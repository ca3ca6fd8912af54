"""Staff sessions time out sooner than citizens' (defaults: 30 minutes idle, 12 hours in
all), and a login marks the session as staff when the user holds a role."""

from datetime import timedelta

import pytest
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.models import ServerSession
from portal.extensions import db
from portal.timeutil import utcnow


@pytest.fixture
def whoami(app):
    """A tiny page that says who the session belongs to (added before any request)."""

    def view():
        return str(current_user.get_id()) if current_user.is_authenticated else "anonymous"

    app.add_url_rule("/_test/whoami", "test_whoami", view)
    return "/_test/whoami"


@pytest.fixture
def people(make_user, make_branch, grant_role):
    county = make_branch(make_branch(make_branch(make_branch())))
    return {"staff": grant_role(make_user(), county, "officer"), "citizen": make_user()}


def _age_session(user, *, idle: timedelta = timedelta(0), age: timedelta | None = None) -> None:
    row = db.session.scalar(select(ServerSession).where(ServerSession.user_id == user.id))
    now = utcnow()
    row.last_seen_at = now - idle
    row.created_at = now - (age if age is not None else idle)
    db.session.commit()


def _signed_in(app, login, user, whoami, **aging) -> bool:
    client = app.test_client()
    login(client, user)
    _age_session(user, **aging)
    return client.get(whoami).get_data(as_text=True) == str(user.id)


def test_login_fixture_marks_staff_sessions(app, login, people):
    for kind, expected in (("staff", True), ("citizen", False)):
        login(app.test_client(), people[kind])
        row = db.session.scalar(
            select(ServerSession).where(ServerSession.user_id == people[kind].id)
        )
        assert row.is_staff is expected


def test_staff_idle_31_minutes_is_refused_citizen_is_not(app, login, people, whoami):
    assert not _signed_in(app, login, people["staff"], whoami, idle=timedelta(minutes=31))
    assert _signed_in(app, login, people["citizen"], whoami, idle=timedelta(minutes=31))


def test_staff_idle_29_minutes_is_still_fine(app, login, people, whoami):
    assert _signed_in(app, login, people["staff"], whoami, idle=timedelta(minutes=29))


def test_staff_absolute_limit_is_12_hours(app, login, people, whoami):
    aged = {"idle": timedelta(minutes=1), "age": timedelta(hours=12, minutes=1)}
    assert not _signed_in(app, login, people["staff"], whoami, **aged)
    assert _signed_in(app, login, people["citizen"], whoami, **aged)


def test_refused_staff_session_cannot_reach_staff_pages(app, login, people):
    client = app.test_client()
    login(client, people["staff"])
    assert client.get("/admin/branches/").status_code == 200
    _age_session(people["staff"], idle=timedelta(minutes=31))
    r = client.get("/admin/branches/")
    assert r.status_code == 302 and "/account/login" in r.headers["Location"]


class TestConfigurable:
    @pytest.fixture
    def app_overrides(self):
        return {"STAFF_SESSION_IDLE_TIMEOUT": timedelta(minutes=5)}

    def test_staff_idle_timeout_follows_config(self, app, login, people, whoami):
        assert not _signed_in(app, login, people["staff"], whoami, idle=timedelta(minutes=6))
        assert _signed_in(app, login, people["staff"], whoami, idle=timedelta(minutes=4))


def test_start_login_sets_the_staff_flag_on_the_session_row(app, people, whoami):
    from portal.accounts.auth import start_login
    from portal.accounts.models import User

    def log_in(user_id: int):
        start_login(db.session.get(User, user_id), "test")
        db.session.commit()
        return "ok"

    app.add_url_rule("/_test/login/<int:user_id>", "test_login", log_in)
    for kind, expected in (("staff", True), ("citizen", False)):
        client = app.test_client()
        assert client.get(f"/_test/login/{people[kind].id}").status_code == 200
        row = db.session.scalar(
            select(ServerSession).where(
                ServerSession.user_id == people[kind].id, ServerSession.revoked_at.is_(None)
            )
        )
        assert row.is_staff is expected
        _age_session(people[kind], idle=timedelta(minutes=31))
        signed_in = client.get(whoami).get_data(as_text=True) == str(people[kind].id)
        assert signed_in is (not expected)
