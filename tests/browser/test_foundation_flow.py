"""A newcomer on a phone, in the WeChat in-app browser: registers, reads the SMS code
from the development outbox, logs in, fills the real-name profile, switches to English
and to care mode, and logs out. Labels are looked up through the catalogue, so the
test reads the page the way the person does (in Chinese first)."""

import re

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect
from stdnum.cn import ric

from portal.accounts.models import User
from portal.accounts.profiles import CONSENT_NEEDED
from portal.consent.purposes import ID_DOCUMENT, PURPOSES
from portal.extensions import db
from tests.conftest import no_sideways_scroll

pytestmark = pytest.mark.browser

PHONE = "13912345678"
PASSWORD = "宝鸡的秋天 has golden leaves"
NAME = "王秀兰"


def valid_resident_id(region="610302", birth="19580312", seq="002") -> str:
    """A resident ID with a correct check digit: 宝鸡市渭滨区, born 1958-03-12, female."""
    body = region + birth + seq
    return body + ric.calc_check_digit(body + "0")  # stdnum skips the last character


@pytest.fixture
def t(app):
    def translate(message: str, locale: str = "zh") -> str:
        with app.test_request_context(), force_locale(locale):
            return gettext(message)

    return translate


def read_code_from_outbox(page, t) -> str:
    page.get_by_role("link", name=t("Development outbox (SMS and email)")).click()
    page.get_by_label(t("Mobile number or email")).fill(PHONE)
    page.get_by_role("button", name=t("Show messages")).click()
    body = page.locator(".outbox-body").first.inner_text()
    match = re.search(r"(?<!\d)(\d{6})(?!\d)", body)
    assert match, f"no 6-digit code in the outbox message: {body!r}"
    return match.group(1)


def as_shown(app, lazy_text, locale: str = "zh") -> str:
    """A message defined with lazy_gettext, as the page shows it."""
    with app.test_request_context(), force_locale(locale):
        return str(lazy_text)


def test_a_newcomer_registers_logs_in_fills_the_profile_and_switches_modes(app, phone_page, t):
    page = phone_page
    origins = set()
    page.on("request", lambda req: origins.add(re.match(r"^[a-z]+://[^/]+", req.url).group(0)))

    # 1. Register: ask for a code.
    page.goto(page.base + "/")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    page.get_by_role("navigation", name=t("Account")).get_by_role(
        "link", name=t("Register")
    ).click()
    page.get_by_label(t("Mobile number")).fill(PHONE)
    page.get_by_role("button", name=t("Send me a code")).click()
    page.wait_for_url("**/account/register/verify")
    verify_url = page.url
    assert no_sideways_scroll(page)

    # 2. Read the code in the development outbox, come back and finish.
    code = read_code_from_outbox(page, t)
    page.goto(verify_url)
    page.get_by_label(t("Code from the SMS")).fill(code)
    page.get_by_label(t("New password")).fill(PASSWORD)
    page.get_by_label(t("Type the password again")).fill(PASSWORD)
    page.get_by_role("button", name=t("Create my account")).click()
    page.wait_for_url("**/account/profile")
    assert db.session.query(User).filter_by(phone=PHONE).count() == 1

    # 3. Log out, then log in again with the password.
    page.get_by_role("button", name=t("Log out")).click()
    page.get_by_role("navigation", name=t("Account")).get_by_role("link", name=t("Log in")).click()
    page.get_by_label(t("Mobile number")).fill(PHONE)
    page.get_by_label(t("Password")).fill(PASSWORD)
    page.get_by_role("button", name=t("Log in"), exact=True).click()
    page.get_by_role("navigation", name=t("Account")).get_by_role(
        "link", name=t("My account")
    ).click()

    # 4. The real-name profile: the ID number is shown masked, never whole.
    page.get_by_role("link", name=t("Add my real-name profile")).click()
    page.get_by_label(t("Full name, as written on your document")).fill(NAME)
    page.get_by_label(t("Document number"), exact=True).fill(valid_resident_id())
    consent_box = page.get_by_role("checkbox", name=as_shown(app, PURPOSES[ID_DOCUMENT].text))
    assert not consent_box.is_checked()  # never ticked in advance
    page.get_by_role("button", name=t("Save")).click()
    expect(page.get_by_text(as_shown(app, CONSENT_NEEDED))).to_be_visible()
    page.get_by_label(t("Document number"), exact=True).fill(valid_resident_id())  # not shown back
    consent_box.check()
    page.get_by_role("button", name=t("Save")).click()
    page.wait_for_url("**/account/")
    expect(page.get_by_text(NAME)).to_be_visible()
    shown = page.locator("main").inner_text()
    number = valid_resident_id()
    assert number not in shown
    # First and last character only, and the birth year rather than the date.
    assert f"{number[0]}{'*' * 16}{number[-1]}" in shown
    assert number[6:10] in shown and f"{number[6:10]}-{number[10:12]}" not in shown
    assert no_sideways_scroll(page)

    # 5. English, remembered on the next page.
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_role("heading", name="My account", level=1)).to_be_visible()

    # 6. Care mode: large type and large tap targets, also remembered.
    page.get_by_role("button", name="Care mode").click()
    page.wait_for_load_state()
    assert "care" in (page.locator("html").get_attribute("class") or "")
    font_px = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert font_px >= 18
    button_height = page.get_by_role("button", name="Log out").bounding_box()["height"]
    assert button_height >= 60
    page.get_by_role("link", name="Where I am logged in").click()
    assert "care" in (page.locator("html").get_attribute("class") or "")
    assert no_sideways_scroll(page)

    # 7. Log out: the account pages are closed again.
    page.get_by_role("button", name="Log out").click()
    page.goto(page.base + "/account/")
    assert "/account/login" in page.url

    # Nothing was fetched from another origin.
    assert origins == {page.base}
