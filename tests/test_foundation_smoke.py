"""The skeleton: the app starts, /healthz answers, security headers are on every response."""

import pytest

from config import ProductionConfig


def test_healthz_ok(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_unreachable_database(app, monkeypatch):
    from portal.extensions import db

    def broken(*a, **kw):
        raise RuntimeError("database down")

    monkeypatch.setattr(db.session, "execute", broken)
    r = app.test_client().get("/healthz")
    assert r.status_code == 503
    assert r.get_json()["database"] == "unreachable"


@pytest.mark.parametrize("path", ["/healthz", "/no-such-page"])
def test_security_headers(client, path):
    h = client.get(path).headers
    csp = h["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_production_refuses_default_secrets(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FIELD_ENCRYPTION_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        ProductionConfig.check()


def test_a_database_outage_is_answered_not_crashed(database_url, tmp_path):
    """With the database gone, a visitor who has a session cookie still gets answers:
    503 from /healthz and the public pages, not an error before any handler runs."""
    from portal import create_app

    app = create_app(
        "testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite3"}
    )
    client = app.test_client()
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], "a-session-from-before-the-outage")
    r = client.get("/healthz")
    assert r.status_code == 503 and r.get_json()["database"] == "unreachable"
    assert client.get("/").status_code == 200
    # The cookie is kept for when the database is back.
    assert "Set-Cookie" not in client.get("/").headers


@pytest.mark.parametrize(
    "secret, field_key, refused",
    [
        ("x" * 40, "bm90LWEta2V5", "FIELD_ENCRYPTION_KEY"),  # base64, but 9 bytes
        ("x" * 40, "not base64 at all!", "FIELD_ENCRYPTION_KEY"),
        ("too-short", None, "SECRET_KEY"),
    ],
)
def test_production_refuses_weak_or_malformed_secrets(monkeypatch, secret, field_key, refused):
    from portal.crypto import generate_key

    monkeypatch.setenv("SECRET_KEY", secret)
    monkeypatch.setenv("FIELD_ENCRYPTION_KEY", field_key or generate_key())
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", secret)
    monkeypatch.setattr(ProductionConfig, "FIELD_ENCRYPTION_KEY", field_key or "set")
    with pytest.raises(RuntimeError, match=refused):
        ProductionConfig.check()


def test_production_is_the_default(monkeypatch):
    from portal import create_app

    monkeypatch.delenv("PORTAL_CONFIG", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


@pytest.mark.parametrize("proxies, seen", [(0, "127.0.0.1"), (1, "203.0.113.7")])
def test_client_address_comes_from_the_trusted_proxy_only(database_url, proxies, seen):
    from flask import request

    from portal import create_app

    app = create_app(
        "testing", {"SQLALCHEMY_DATABASE_URI": database_url, "TRUSTED_PROXY_COUNT": proxies}
    )
    app.add_url_rule("/_ip", "ip", lambda: request.remote_addr)
    r = app.test_client().get("/_ip", headers={"X-Forwarded-For": "203.0.113.7"})
    assert r.get_data(as_text=True) == seen
