"""The production configuration, built as it would run with its own secrets, actually
does what it promises on the wire: every response carries Strict-Transport-Security
(development and testing do not, so a laptop on plain http is never pinned to https),
and the session cookie a page sets is Secure, HttpOnly and SameSite=Lax."""

import pytest

import config
from portal import create_app
from portal.extensions import db

COOKIE = config.Config.SESSION_COOKIE_NAME


def _field_key() -> str:
    try:
        from portal.crypto import generate_key
    except ImportError:  # pragma: no cover - older tree without the helper
        import base64
        import os

        return base64.b64encode(os.urandom(32)).decode()
    return generate_key()


def _build(config_name: str, tmp_path):
    """An app of the given kind on a fresh SQLite file, its tables created."""
    app = create_app(
        config_name, {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / f'{config_name}.sqlite3'}"}
    )
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def production_secrets(monkeypatch):
    """Real-looking secrets, in the environment (read by check()) and on the class
    (config.py read the environment at import time, before this test set it)."""
    import secrets

    secret_key, field_key = secrets.token_urlsafe(48), _field_key()
    monkeypatch.setenv("SECRET_KEY", secret_key)
    monkeypatch.setenv("FIELD_ENCRYPTION_KEY", field_key)
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", secret_key)
    monkeypatch.setattr(config.ProductionConfig, "FIELD_ENCRYPTION_KEY", field_key)
    # The rate limits: one worker here, so counting them in memory is exact.
    monkeypatch.setenv("SINGLE_WORKER", "1")
    return secret_key


@pytest.fixture
def production_app(production_secrets, tmp_path):
    yield from _build("production", tmp_path)


@pytest.fixture
def development_app(tmp_path):
    yield from _build("development", tmp_path)


def _session_cookie(response) -> list[str]:
    """The Set-Cookie header for the session cookie, split into lower-cased attributes."""
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE}=")]
    assert len(headers) == 1, (
        f"expected one {COOKIE} cookie, got {response.headers.getlist('Set-Cookie')}"
    )
    return [part.strip().lower() for part in headers[0].split(";")]


def test_production_app_starts_with_its_own_secrets(production_app, production_secrets):
    assert production_app.config["SECRET_KEY"] == production_secrets
    assert not production_app.testing and not production_app.debug


@pytest.mark.parametrize(
    "path, status",
    [("/healthz", 200), ("/", 200), ("/account/login", 200), ("/no-such-page", 404)],
)
def test_production_sends_hsts(production_app, path, status):
    r = production_app.test_client().get(path)
    assert r.status_code == status
    hsts = r.headers.get("Strict-Transport-Security")
    assert hsts, f"no Strict-Transport-Security on {path}"
    directives = [d.strip().lower() for d in hsts.split(";")]
    max_age = next(int(d.split("=", 1)[1]) for d in directives if d.startswith("max-age="))
    assert max_age >= 180 * 24 * 3600  # at least half a year, as browsers' preload lists ask


@pytest.mark.parametrize("path", ["/healthz", "/"])
def test_development_sends_no_hsts(development_app, path):
    r = development_app.test_client().get(path)
    assert r.status_code == 200
    assert "Strict-Transport-Security" not in r.headers


@pytest.mark.parametrize("path", ["/healthz", "/"])
def test_testing_sends_no_hsts(client, path):
    r = client.get(path)
    assert r.status_code == 200
    assert "Strict-Transport-Security" not in r.headers


def test_production_session_cookie_is_secure_httponly_lax(production_app):
    # The login page renders a CSRF-bearing form: a visitor's signed cookie carries it.
    client = production_app.test_client()
    r = client.get("/account/login")
    assert r.status_code == 200
    attrs = _session_cookie(r)
    assert "secure" in attrs
    assert "httponly" in attrs
    assert "samesite=lax" in attrs
    assert "." in attrs[0]  # signed, not a server-side token


def test_production_signed_in_cookie_is_an_opaque_token(production_app):
    """Once signed in, only a random token travels in the cookie, never the contents."""
    from portal.accounts.models import User
    from portal.accounts.passwords import hash_password
    from portal.timeutil import utcnow

    with production_app.app_context():
        db.session.add(
            User(
                phone="13800138000",
                password_hash=hash_password("correct horse battery staple"),
                phone_verified_at=utcnow(),
            )
        )
        db.session.commit()
    client = production_app.test_client()
    page = client.get("/account/login").get_data(as_text=True)
    csrf = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    r = client.post(
        "/account/login",
        data={
            "phone": "13800138000",
            "password": "correct horse battery staple",
            "csrf_token": csrf,
        },
    )
    assert r.status_code == 302
    attrs = _session_cookie(r)
    assert "secure" in attrs and "httponly" in attrs and "samesite=lax" in attrs
    token = attrs[0].split("=", 1)[1]
    assert 40 <= len(token) <= 100 and "." not in token and "{" not in token


@pytest.mark.parametrize(
    "single_worker, redis_url, refused",
    [(None, None, True), ("1", None, False), (None, "redis://127.0.0.1:6379/0", False)],
)
def test_production_needs_shared_rate_limits_or_one_worker(
    production_secrets, monkeypatch, single_worker, redis_url, refused
):
    if single_worker is None:
        monkeypatch.delenv("SINGLE_WORKER", raising=False)
    monkeypatch.setattr(config.ProductionConfig, "REDIS_URL", redis_url)
    monkeypatch.setattr(config.ProductionConfig, "RATELIMIT_STORAGE_URI", redis_url or "memory://")
    if refused:
        with pytest.raises(RuntimeError, match="REDIS_URL") as caught:
            config.ProductionConfig.check()
        assert "SECRET_KEY" not in str(caught.value)  # the secrets are fine
    else:
        config.ProductionConfig.check()


def test_development_session_cookie_is_not_secure(development_app):
    """The contrast that makes the production test meaningful: over plain http in
    development the cookie must not be Secure (or the browser would drop it)."""
    r = development_app.test_client().get("/account/login")
    assert r.status_code == 200
    attrs = _session_cookie(r)
    assert "secure" not in attrs
    assert "httponly" in attrs and "samesite=lax" in attrs
