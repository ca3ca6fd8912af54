"""Every handled error (400, 403, 404, 429, 500) answers with its own status and a
friendly page: in Simplified Chinese by default, in English when the browser asks for
it, titled with the catalogue's translation of the title in portal/errors.py, and with
the same security headers as every other page. A crash never shows its traceback."""

import html
import re

import pytest
from flask import abort
from flask_babel import force_locale, gettext

from portal.errors import MESSAGES
from portal.extensions import limiter

CODES = [400, 403, 404, 429, 500]
SECRET_DETAIL = "db password is hunter2"


@pytest.fixture
def app_overrides():
    # A crash must reach the 500 handler even in a test app.
    return {"PROPAGATE_EXCEPTIONS": False}


@pytest.fixture
def error_paths(app):
    """Test-only pages that fail in each way, added before the app's first request."""

    def bad_request():
        abort(400)

    def forbidden():
        abort(403)

    @limiter.limit("1 per minute")
    def limited():
        return "fine"

    def crash():
        raise RuntimeError(SECRET_DETAIL)

    app.add_url_rule("/_test/400", "test_400", bad_request)
    app.add_url_rule("/_test/403", "test_403", forbidden)
    app.add_url_rule("/_test/429", "test_429", limited)
    app.add_url_rule("/_test/500", "test_500", crash)
    return {
        400: "/_test/400",
        403: "/_test/403",
        404: "/_test/no-such-page",
        429: "/_test/429",
        500: "/_test/500",
    }


@pytest.fixture
def t(app):
    def translate(message: str, locale: str = "zh") -> str:
        with app.test_request_context(), force_locale(locale):
            return gettext(message)

    return translate


@pytest.fixture
def msgid(app):
    """The English source text of a lazy message in portal/errors.py."""

    def source(code: int, part: int = 0) -> str:
        with app.test_request_context(), force_locale("en"):
            return str(MESSAGES[code][part])

    return source


def _fetch(client, path: str, code: int):
    if code == 429:  # the first visit is allowed; the second one is over the limit
        assert client.get(path).status_code == 200
    return client.get(path)


def _page(response) -> dict:
    body = response.get_data(as_text=True)

    def first(pattern):
        match = re.search(pattern, body, re.S)
        assert match, f"{pattern!r} not found in the page"
        return html.unescape(match.group(1)).strip()

    return {
        "body": body,
        "lang": first(r'<html lang="([^"]+)"'),
        "title": first(r"<title>(.*?)</title>"),
        "h1": first(r"<h1>(.*?)</h1>"),
    }


def _assert_security_headers(response):
    h = response.headers
    csp = h.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert h.get("X-Content-Type-Options") == "nosniff"
    assert h.get("X-Frame-Options") == "DENY"
    assert "no-store" in h.get("Cache-Control", "")


@pytest.mark.parametrize("code", CODES)
def test_error_page_is_in_chinese_by_default(app, error_paths, t, msgid, code):
    title_msgid = msgid(code)
    zh_title = t(title_msgid, "zh")
    assert zh_title != title_msgid, f"{title_msgid!r} has no Chinese translation"

    r = _fetch(app.test_client(), error_paths[code], code)
    assert r.status_code == code
    assert r.mimetype == "text/html"
    page = _page(r)
    assert page["lang"] == "zh-Hans"
    assert page["h1"] == zh_title
    assert page["title"].startswith(f"{zh_title} · ")
    if code == 429:
        # The text names the real wait (here under a minute), as Retry-After does.
        assert "请等待约1分钟后再试。" in html.unescape(page["body"])
        assert 0 < int(r.headers["Retry-After"]) <= 60
    else:
        assert t(msgid(code, 1), "zh") in html.unescape(page["body"])
    _assert_security_headers(r)


@pytest.mark.parametrize("code", CODES)
def test_error_page_is_in_english_when_asked(app, error_paths, t, msgid, code):
    title_msgid = msgid(code)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

    r = _fetch(client, error_paths[code], code)
    assert r.status_code == code
    page = _page(r)
    assert page["lang"] == "en"
    assert page["h1"] == t(title_msgid, "en") == title_msgid
    assert page["title"].startswith(f"{title_msgid} · ")
    _assert_security_headers(r)


def test_a_crash_shows_no_details(app, error_paths):
    r = app.test_client().get(error_paths[500])
    assert r.status_code == 500
    body = r.get_data(as_text=True)
    assert SECRET_DETAIL not in body
    assert "Traceback" not in body and "RuntimeError" not in body


def test_error_pages_link_back_home(app, error_paths, t):
    for code in CODES:
        body = _fetch(app.test_client(), error_paths[code], code).get_data(as_text=True)
        assert t("Back to the home page", "zh") in body, code
        assert 'href="/"' in body, code
