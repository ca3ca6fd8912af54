"""The citizen pages fit a narrow phone in a real browser: at 360x740 and at 180x370
(a 360 px phone zoomed to 200 %), in normal and in care mode, the home page, the login
and register pages and a logged-in citizen's account page never scroll sideways. In
care mode the type is at least 18 px and every visible button (and link styled as one)
is a tap target at least 60 px tall, as the care-mode stylesheet promises."""

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect

from tests.conftest import DEFAULT_PASSWORD, WECHAT_UA, no_sideways_scroll

pytestmark = pytest.mark.browser

VIEWPORTS = {
    "360x740": ({"width": 360, "height": 740}, 2),
    "180x370-zoom200": ({"width": 180, "height": 370}, 4),
}
PAGES = {
    "home": "/",
    "login": "/account/login",
    "register": "/account/register",
    "account": "/account/",
}
CARE_MIN_FONT_PX = 18
CARE_MIN_TAP_PX = 60

# Every visible <button> and <a class="button">, with what a failure message needs.
TAP_TARGETS_JS = """
() => [...document.querySelectorAll('button, a.button')]
  .filter(e => {
    const r = e.getBoundingClientRect(), s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  })
  .map(e => ({
    text: e.innerText.trim(),
    tag: e.tagName.toLowerCase(),
    cls: e.className,
    height: e.getBoundingClientRect().height,
  }))
"""

# What overflows the page sideways, for a readable failure message.
WIDE_ELEMENTS_JS = """
() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .slice(0, 5)
  .map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '')
            + ' right=' + Math.round(e.getBoundingClientRect().right))
"""


@pytest.fixture
def t(app):
    def translate(message: str, locale: str = "zh") -> str:
        with app.test_request_context(), force_locale(locale):
            return gettext(message)

    return translate


def _new_page(browser, live_server, viewport_name):
    viewport, scale = VIEWPORTS[viewport_name]
    context = browser.new_context(
        viewport=viewport,
        user_agent=WECHAT_UA,
        locale="zh-CN",
        device_scale_factor=scale,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base = live_server
    return context, page


@pytest.fixture(params=list(VIEWPORTS))
def narrow_page(request, browser, live_server):
    context, page = _new_page(browser, live_server, request.param)
    yield page
    context.close()


def _log_in_with_the_form(page, t, user):
    page.goto(page.base + "/account/login")
    page.get_by_label(t("Mobile number")).fill(user.phone)
    page.get_by_label(t("Password")).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name=t("Log in"), exact=True).click()
    page.wait_for_load_state()
    nav = page.get_by_role("navigation", name=t("Account"))
    expect(nav.get_by_role("link", name=t("My account")), "the login did not work").to_be_visible()


def _switch_care_mode_on(page, t):
    page.get_by_role("button", name=t("Care mode")).click()
    page.wait_for_load_state()
    assert _care_mode_shown(page)


def _care_mode_shown(page) -> bool:
    return "care" in (page.locator("html").get_attribute("class") or "").split()


def _visit(page, t, make_user, path_name, care):
    """Open the page the way a person gets there: log in first for the account page,
    then switch care mode on with the header's 关怀模式 button."""
    if path_name == "account":
        _log_in_with_the_form(page, t, make_user())
    else:
        page.goto(page.base + "/")
    if care:
        _switch_care_mode_on(page, t)
    page.goto(page.base + PAGES[path_name])
    assert page.url.endswith(PAGES[path_name]), f"ended up on {page.url}"
    assert _care_mode_shown(page) is care


def _layout_case(viewport, mode, name):
    return pytest.param(viewport, mode, name, id=f"{viewport}-{mode}-{name}")


LAYOUT_CASES = [
    _layout_case(viewport, mode, name)
    for viewport in VIEWPORTS
    for mode in ("normal", "care")
    for name in PAGES
]


@pytest.mark.parametrize("viewport, mode, name", LAYOUT_CASES)
def test_page_does_not_scroll_sideways(browser, live_server, make_user, t, viewport, mode, name):
    context, page = _new_page(browser, live_server, viewport)
    try:
        _visit(page, t, make_user, name, care=(mode == "care"))
        wide = page.evaluate(WIDE_ELEMENTS_JS)
        assert no_sideways_scroll(page), f"{PAGES[name]} scrolls sideways; too wide: {wide}"
    finally:
        context.close()


CARE_CASES = [
    pytest.param(viewport, name, id=f"{viewport}-care-{name}")
    for viewport in VIEWPORTS
    for name in PAGES
]


@pytest.mark.parametrize("viewport, name", CARE_CASES)
def test_care_mode_has_large_type_and_tap_targets(
    browser, live_server, make_user, t, viewport, name
):
    context, page = _new_page(browser, live_server, viewport)
    try:
        _visit(page, t, make_user, name, care=True)
        font_px = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert font_px >= CARE_MIN_FONT_PX

        targets = page.evaluate(TAP_TARGETS_JS)
        # At least the language and care-mode switches are always there: an empty list
        # would mean the probe found nothing, not that every target is big enough.
        assert len(targets) >= 3, targets
        small = [x for x in targets if x["height"] < CARE_MIN_TAP_PX]
        assert not small, f"tap targets under {CARE_MIN_TAP_PX}px on {PAGES[name]}: {small}"
    finally:
        context.close()


def test_the_sideways_probe_catches_an_overflow(narrow_page):
    """The check above can fail: a too-wide element makes it report a sideways scroll."""
    page = narrow_page
    page.goto(page.base + "/account/login")
    assert no_sideways_scroll(page)
    page.evaluate(
        "() => { const d = document.createElement('div');"
        " d.style.width = (document.documentElement.clientWidth + 50) + 'px'; d.style.height = '1px';"
        " document.querySelector('main').appendChild(d); }"
    )
    assert not no_sideways_scroll(page)
