"""Shared fixtures. Builders return functions (`make_user(...)`) so each test makes
exactly what it needs. TEST_DATABASE_URL selects PostgreSQL; default is SQLite."""

import json
import os
import secrets
import shutil
import threading
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal import create_app
from portal.extensions import db, limiter

DEFAULT_PASSWORD = "correct horse battery staple"
_PHONES = iter(range(10_000_000))

pytest_plugins = []


WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def worker_database(url: str, suffix: str = "") -> str:
    """A PostgreSQL database of this xdist worker's own, created empty.

    Workers run tests at the same time and each empties every table after a test,
    so sharing one database would let them delete each other's rows."""
    from sqlalchemy import create_engine, text

    base, name = url.rsplit("/", 1)
    name = f"{name}_{WORKER}{suffix}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{base}/{name}"


def drop_worker_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    name = url.rsplit("/", 1)[1]
    admin = create_engine(os.environ["TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return worker_database(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = _database_url(tmp_path_factory)
    yield url
    if url.startswith("postgresql"):
        drop_worker_database(url)


@pytest.fixture(scope="session")
def _schema(database_url):
    """Create the schema once per run; tests then empty the tables after themselves."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def app_overrides():
    """Override in a test module to change configuration for its tests."""
    return {}


@pytest.fixture
def app(_schema, database_url, app_overrides):
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            # Workers share one Redis and limiter.reset() deletes every key under the
            # storage prefix, so each worker keeps its counters under a prefix of its own.
            "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": f"boai-test-{WORKER}"},
            **app_overrides,
        },
    )

    @app.before_request
    def _forget_cached_user():
        # The test keeps one app context open, so requests share `g`; Flask-Login caches
        # the user there. Drop it so each request (and each client) loads its own user.
        from flask import g

        g.pop("_login_user", None)
        g.pop("_flask_babel", None)  # Flask-Babel's per-request locale cache, likewise
        g.pop("csrf_token", None)  # Flask-WTF's per-request token, likewise

    with app.app_context():
        limiter.reset()
        yield app
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def english_client(app):
    """A browser asking for English, so messages can be checked against their msgids."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def make_user(app):
    from portal.accounts.models import User
    from portal.accounts.passwords import hash_password

    def make(phone: str | None = None, password: str = DEFAULT_PASSWORD, **fields):
        phone = phone or f"139{next(_PHONES):08d}"
        user = User(phone=phone, password_hash=hash_password(password), **fields)
        from portal.timeutil import utcnow

        user.phone_verified_at = utcnow()
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def login(app):
    """Log a user into a test client by creating a real server-side session row."""
    from portal.accounts.models import ServerSession
    from portal.branches.scope import is_staff
    from portal.sessions import hash_token

    def do_login(client, user):
        token = secrets.token_urlsafe(32)
        data = {"_user_id": str(user.id), "_fresh": True, "_staff": is_staff(user)}
        db.session.add(
            ServerSession(
                token_hash=hash_token(token),
                user_id=user.id,
                is_staff=data["_staff"],
                data=json.dumps(data),
            )
        )
        db.session.commit()
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], token)
        return token

    return do_login


@pytest.fixture
def make_branch(app):
    from portal.branches.models import Branch
    from portal.branches.services import create_branch

    def make(parent: Branch | None = None, level: str | None = None, name: str | None = None, **kw):
        if level is None:
            order = ["national", "province", "city", "county", "grassroots"]
            level = order[order.index(parent.level) + 1] if parent else "national"
        name = name or f"{level}-{secrets.token_hex(3)}"
        branch = create_branch(parent=parent, level=level, name_zh=name, name_en=name, **kw)
        db.session.commit()
        return branch

    return make


@pytest.fixture
def staff_world(make_branch, make_user, grant_role):
    """national → province → city ("own") → county ("child"); a sibling city; and one user
    per kind: citizen, officer / branch admin / auditor at the city, national admin. For
    permission matrices: `users[kind]`, `branches[relation]`, and the branches by name."""
    national = make_branch()
    province = make_branch(national)
    city = make_branch(province)
    county = make_branch(city)
    sibling = make_branch(province)
    users = {
        "citizen": make_user(),
        "officer": grant_role(make_user(), city, "officer"),
        "admin": grant_role(make_user(), city, "admin"),
        "auditor": grant_role(make_user(), city, "auditor"),
        "national": grant_role(make_user(), national, "admin"),
    }
    branches = {
        "own": city,
        "child": county,
        "sibling": sibling,
        "parent": province,
        "national": national,
    }
    return SimpleNamespace(
        users=users, branches=branches, national=national, city=city, county=county
    )


@pytest.fixture
def tree(make_branch):
    """A small review tree: national > 陕西 > 宝鸡 > {渭滨 > 社区, 岐山}; national > 甘肃 > 城关."""
    n = make_branch(name="中国红十字会总会")
    p = make_branch(n, name="陕西省红十字会")
    c = make_branch(p, name="宝鸡市红十字会")
    a = make_branch(c, name="渭滨区红十字会")
    b = make_branch(c, name="岐山县红十字会")
    g = make_branch(a, level="grassroots", name="经二路社区红十字会")
    p2 = make_branch(n, name="甘肃省红十字会")
    x = make_branch(p2, level="county", name="城关区红十字会")
    return SimpleNamespace(n=n, p=p, c=c, a=a, b=b, g=g, p2=p2, x=x)


@pytest.fixture
def grant_role(app):
    from portal.branches.models import StaffRole

    def grant(user, branch, role: str = "officer"):
        db.session.add(StaffRole(user_id=user.id, branch_id=branch.id, role=role))
        db.session.commit()
        return user

    return grant


def count(model) -> int:
    """Rows in a model's table, for asserting nothing was written."""
    return len(db.session.scalars(select(model)).all())


def add_profile(user, full_name: str = "买买提·艾力") -> None:
    """A real-name profile as reviewer pages show it (only the masked number, never the
    encrypted one, is read there), committed."""
    from datetime import date

    from portal.accounts.models import RealNameProfile

    db.session.add(
        RealNameProfile(
            user_id=user.id,
            full_name=full_name,
            doc_type="resident_id",
            doc_number_enc=b"x",
            doc_number_hmac=f"{user.id:064d}",
            doc_number_masked="6101**********123X",
            birth_date=date(1960, 5, 1),
        )
    )
    db.session.commit()


@contextmanager
def statements_run():
    """Collects the SQL text of every statement the engine runs inside the block."""
    from sqlalchemy import event

    seen: list[str] = []

    def remember(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)


@contextmanager
def transaction_ends():
    """Collects "commit" / "rollback" as the engine ends transactions."""
    from sqlalchemy import event

    seen: list[str] = []

    def committed(conn):
        seen.append("commit")

    def rolled_back(conn):
        seen.append("rollback")

    event.listen(db.engine, "commit", committed)
    event.listen(db.engine, "rollback", rolled_back)
    try:
        yield seen
    finally:
        event.remove(db.engine, "commit", committed)
        event.remove(db.engine, "rollback", rolled_back)


# --- real browser: Debian's Chromium through Playwright ------------------------------
# Served on a free loopback port by a werkzeug thread. Without Chromium the tests skip,
# unless REQUIRE_BROWSER=1 (CI), which turns the skip into a failure.

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/116.0.0.0 Mobile Safari/537.36 MicroMessenger/8.0.47.2560(0x28002F35) "
    "NetType/WIFI Language/zh_CN"
)
PHONE_VIEWPORT = {"width": 390, "height": 844}


def no_sideways_scroll(page) -> bool:
    """Nothing sticks out past the viewport. Compared with the root's clientWidth, not
    window.innerWidth: in mobile emulation (is_mobile=True, like a real phone) Chromium
    widens the layout viewport to fit overflowing content, so innerWidth grows along
    with scrollWidth and `scrollWidth <= innerWidth` can never fail there."""
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


@pytest.fixture
def live_server(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(
                "REQUIRE_BROWSER=1 but Chromium is not installed (apt-get install chromium)"
            )
        pytest.skip(
            "Chromium not installed (apt-get install chromium); set REQUIRE_BROWSER=1 to fail"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def phone_page(browser, live_server):
    """A page on a 390x844 phone in the WeChat in-app browser, Chinese first."""
    context = browser.new_context(
        viewport=PHONE_VIEWPORT,
        user_agent=WECHAT_UA,
        locale="zh-CN",
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base = live_server
    yield page
    context.close()
