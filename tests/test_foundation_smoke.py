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
