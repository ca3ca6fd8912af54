"""On a phone: a citizen registers as a volunteer, the county officer approves in the
inbox, the citizen opens the card, and a stranger opening the QR code's URL sees only
the masked card. Labels come from the catalogue, as the person reads them (Chinese)."""

import json
import secrets

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.volunteering.models import Volunteer, VolunteerApplication
from tests.conftest import PHONE_VIEWPORT, WECHAT_UA, no_sideways_scroll
from tests.test_volunteering import add_profile

pytestmark = pytest.mark.browser


@pytest.fixture
def t(app):
    def translate(message: str, **kw) -> str:
        with app.test_request_context(), force_locale("zh"):
            return gettext(message, **kw)

    return translate


def _logged_in(browser, app, base, user):
    from portal.accounts.models import ServerSession
    from portal.branches.scope import is_staff
    from portal.sessions import hash_token

    token = secrets.token_urlsafe(32)
    staff = is_staff(user)
    data = {"_user_id": str(user.id), "_fresh": True, "_staff": staff}
    db.session.add(
        ServerSession(
            token_hash=hash_token(token), user_id=user.id, is_staff=staff, data=json.dumps(data)
        )
    )
    db.session.commit()
    context = _phone(browser)
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": token, "url": base}])
    return context


def _phone(browser):
    return browser.new_context(
        viewport=PHONE_VIEWPORT,
        user_agent=WECHAT_UA,
        locale="zh-CN",
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )


def test_apply_approve_card_and_stranger_verifies(
    app, browser, live_server, make_user, grant_role, tree, t
):
    citizen = make_user(home_branch_id=tree.a.id)
    add_profile(citizen, name="张晓明", id_masked="6****************X")
    officer = grant_role(make_user(), tree.a, "officer")

    # 1. The citizen applies.
    context = _logged_in(browser, app, live_server, citizen)
    page = context.new_page()
    page.goto(live_server + "/volunteer/apply")
    page.get_by_label(t("Emergency first aid"), exact=True).check()
    page.get_by_label(f"{t('Weekends')} · {t('Morning')}").check()
    page.get_by_label(t("Emergency contact's name")).fill("张建国")
    page.get_by_label(t("Their relation to you")).fill("父亲")
    page.get_by_label(t("Emergency contact's mobile number")).fill("138 0013 8000")
    assert no_sideways_scroll(page)
    # Without agreeing to the code: refused beside the box, what was typed kept.
    page.get_by_role("button", name=t("Send my application")).click()
    expect(page.get_by_text(t("Please agree to the volunteer code.")).first).to_be_visible()
    assert page.get_by_label(t("Emergency contact's name")).input_value() == "张建国"
    page.get_by_label(t("I have read the volunteer code and agree to follow it")).check()
    page.get_by_role("button", name=t("Send my application")).click()
    page.wait_for_url("**/my")
    application = db.session.scalar(select(VolunteerApplication))
    assert application is not None and application.status == "pending"

    # 2. The county officer approves it in the inbox.
    staff = _logged_in(browser, app, live_server, officer).new_page()
    staff.goto(live_server + "/admin/inbox?kind=volunteer")
    staff.get_by_role("link", name=t("Open #%(id)s", id=application.id)).click()
    expect(staff.get_by_text("张晓明").first).to_be_visible()
    staff.get_by_role("button", name=t("Approve"), exact=True).click()
    staff.wait_for_load_state()
    volunteer = db.session.scalar(select(Volunteer))
    assert volunteer is not None

    # 3. The citizen opens the card.
    page.goto(live_server + "/my")
    page.get_by_role("link", name=t("Open my volunteer card")).click()
    card = page.locator(".card")
    expect(card).to_be_visible()
    text = card.inner_text()
    assert volunteer.number in text and "张晓明" in text
    assert card.locator("svg").count() == 1
    assert no_sideways_scroll(page)

    # 4. A stranger scans the QR code: only the masked card.
    stranger = _phone(browser).new_page()
    stranger.goto(f"{live_server}/verify/{volunteer.card_token}")
    html = stranger.content()
    assert "张*明" in html and volunteer.number in html
    for secret in ("张晓明", citizen.phone, "6****************X", "13800138000"):
        assert secret not in html
    assert no_sideways_scroll(stranger)
