"""On a phone, in WeChat: a citizen pre-registers as a marrow donor, books a blood-sample
appointment once the cooling-off is over, registers organ wishes, amends them and
withdraws them with the texted code. Labels come from the catalogue, as the person
reads them (Chinese)."""

import re
from datetime import date, timedelta

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect
from sqlalchemy import select

from portal.donors import eligibility
from portal.donors.models import MarrowRegistration, OrganRegistration
from portal.extensions import db
from portal.notifications.models import Notification
from portal.timeutil import today_local
from tests.browser.test_volunteer_flow import _logged_in
from tests.conftest import add_profile, no_sideways_scroll
from tests.donors_world import make_session

pytestmark = pytest.mark.browser


@pytest.fixture
def t(app):
    def translate(message: str, **kw) -> str:
        with app.test_request_context(), force_locale("zh"):
            return gettext(message, **kw)

    return translate


def _lazy(app, lazy) -> str:
    with app.test_request_context(), force_locale("zh"):
        return str(lazy)


def test_marrow_booking_and_organ_wishes_on_a_phone(app, browser, live_server, make_user, tree, t):
    citizen = make_user(phone="13912345678", home_branch_id=tree.a.id)
    add_profile(citizen, "张晓明")
    citizen.profile.birth_date = date(1995, 6, 1)
    citizen.profile.sex = "M"
    db.session.commit()
    session = make_session(tree.a, capacity=5)

    context = _logged_in(browser, app, live_server, citizen)
    page = context.new_page()
    page.set_default_timeout(10_000)

    # 1. Marrow pre-registration: the health questions, weight, contacts, consents.
    page.goto(live_server + "/marrow/")
    for key in eligibility.questions_for("M"):
        group = page.get_by_role("group", name=_lazy(app, eligibility.QUESTIONS[key]))
        group.get_by_label(t("No"), exact=True).check()
    page.get_by_label(t("Weight (kg)")).fill("49")
    page.get_by_label(t("First emergency contact: name")).fill("张建国")
    page.get_by_label(t("First emergency contact: relation to you")).fill("父亲")
    page.get_by_label(t("First emergency contact: mobile number")).fill("138 0000 1111")
    page.get_by_label(t("Second emergency contact: name")).fill("李秀英")
    page.get_by_label(t("Second emergency contact: relation to you")).fill("母亲")
    page.get_by_label(t("Second emergency contact: mobile number")).fill("13800002222")
    page.get_by_label(t("Text message")).check()
    page.get_by_label(t("Evenings")).check()
    assert no_sideways_scroll(page)
    page.get_by_role("button", name=t("Pre-register as a donor")).click()
    # Too light, and no consent ticked: said beside the fields, what was typed kept.
    expect(page.get_by_text(re.compile("50")).first).to_be_visible()
    assert page.get_by_label(t("First emergency contact: name")).input_value() == "张建国"
    page.get_by_label(t("Weight (kg)")).fill("62.5")
    page.locator("#health_consent").check()
    page.locator("#registry_consent").check()
    page.get_by_role("button", name=t("Pre-register as a donor")).click()
    expect(
        page.get_by_text(t("Thank you. You are pre-registered as a stem cell donor."))
    ).to_be_visible()
    assert no_sideways_scroll(page)

    # 2. Eight days later the cooling-off is over: the citizen books a sample.
    reg = db.session.scalar(select(MarrowRegistration))
    reg.registered_on = today_local() - timedelta(days=8)
    reg.cooling_off_until = today_local() - timedelta(days=1)
    db.session.commit()
    page.goto(live_server + "/marrow/")
    expect(page.get_by_text(session.place).first).to_be_visible()
    page.get_by_role("button", name=t("Book this session")).click()
    expect(page.get_by_text(t("Your blood sample appointment"))).to_be_visible()
    db.session.refresh(session)
    assert session.seats_taken == 1

    # 3. Organ wishes: some organs, a tissue, a family member told.
    page.goto(live_server + "/organ/")
    page.get_by_label(t("Only the organs I tick below")).check()
    page.get_by_label(t("Kidneys")).check()
    page.get_by_label(t("Corneas")).check()
    page.get_by_label(t("Family member told of my wish: name")).fill("王丽")
    page.get_by_label(t("Family member: relation to you")).fill("妻子")
    page.get_by_label(t("Family member: mobile number")).fill("13800003333")
    page.get_by_label(t("I have told this family member about my wish")).check()
    page.locator("#consent").check()
    page.get_by_role("button", name=t("Register my wish")).click()
    expect(page.get_by_text(t("Thank you. Your wish is registered."))).to_be_visible()
    assert no_sideways_scroll(page)

    # 4. Amend: the body too. A new version; the history shows both.
    page.get_by_role("link", name=t("Amend my wishes")).click()
    assert page.get_by_label(t("Kidneys")).is_checked()
    page.get_by_label(t("My body, for medical education and research")).check()
    page.get_by_role("button", name=t("Save as a new version")).click()
    page.get_by_role("link", name=t("Every version")).click()
    expect(page.get_by_text(t("Version %(v)s", v=1))).to_be_visible()
    expect(page.get_by_text(t("Version %(v)s", v=2))).to_be_visible()

    # 5. Withdraw with the texted code.
    page.goto(live_server + "/organ/withdraw")
    page.get_by_role("button", name=t("Send me a code")).click()
    body = db.session.scalar(
        select(Notification.body).where(Notification.kind == "organ_withdraw_code")
    )
    code = re.search(r"\d{6}", body).group(0)
    page.get_by_label(t("Code from the text message")).fill(code)
    page.get_by_role("button", name=t("Withdraw my registration")).click()
    expect(
        page.get_by_text(
            t("Your registration is withdrawn. Your earlier versions are kept for you to see.")
        )
    ).to_be_visible()
    reg = db.session.scalar(select(OrganRegistration))
    db.session.refresh(reg)
    assert reg.status == "withdrawn" and len(reg.versions) == 3
    context.close()
