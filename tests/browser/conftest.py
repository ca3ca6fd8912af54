"""Real-browser fixtures: the app served on a free loopback port by a werkzeug thread,
driven by Debian's Chromium through Playwright. Without Chromium the tests skip,
unless REQUIRE_BROWSER=1 (CI), which turns the skip into a failure."""

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/116.0.0.0 Mobile Safari/537.36 MicroMessenger/8.0.47.2560(0x28002F35) "
    "NetType/WIFI Language/zh_CN"
)
PHONE_VIEWPORT = {"width": 390, "height": 844}


@pytest.fixture
def app_overrides():
    # A browser posts real forms: CSRF on, like production; the dev outbox shows SMS codes.
    return {"WTF_CSRF_ENABLED": True, "SHOW_DEV_OUTBOX": True}


@pytest.fixture
def live_server(app):
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
            pytest.fail("REQUIRE_BROWSER=1 but Chromium is not installed (apt-get install chromium)")
        pytest.skip("Chromium not installed (apt-get install chromium); set REQUIRE_BROWSER=1 to fail")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-quic"],
        )
        yield browser
        browser.close()


@pytest.fixture
def phone_page(browser, live_server):
    """A page on a 390x844 phone in the WeChat in-app browser, Chinese first."""
    context = browser.new_context(
        viewport=PHONE_VIEWPORT, user_agent=WECHAT_UA, locale="zh-CN",
        device_scale_factor=2, is_mobile=True, has_touch=True,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base = live_server
    yield page
    context.close()
