"""On a phone in WeChat: a volunteer signs up for a shift, checks in by opening the URL
the organiser's QR code holds, checks out, the organiser confirms on the roster, the
volunteer sees the hours and opens a service certificate, and a stranger verifies it.
Labels come from the catalogue, as the person reads them (Chinese)."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.timeutil import utcnow
from portal.volunteering import checkin
from portal.volunteering.service_models import ServiceCertificate, ShiftSignup
from tests.browser.test_volunteer_flow import _logged_in, _phone, t  # noqa: F401
from tests.conftest import no_sideways_scroll
from tests.service_helpers import make_activity, make_volunteer

pytestmark = pytest.mark.browser


def test_sign_up_check_in_out_confirm_certificate_verify(
    app,
    browser,
    live_server,
    make_user,
    grant_role,
    tree,
    t,  # noqa: F811
):
    officer = grant_role(make_user(), tree.a, "officer")
    user = make_user(home_branch_id=tree.a.id)
    make_volunteer(user, tree.a, name="张晓明")
    activity = make_activity(tree.a, shifts=((0.25, 2, 5),))
    shift = activity.shifts[0]

    # 1. The volunteer finds the activity in the listing and signs up.
    phone = _logged_in(browser, app, live_server, user).new_page()
    phone.goto(live_server + f"/volunteer/activities?place={tree.c.id}")
    phone.get_by_role("link", name=activity.title).click()
    assert no_sideways_scroll(phone)
    phone.get_by_role("button", name=t("Sign up for this shift")).click()
    expect(phone.get_by_text(t("You are signed up"), exact=True)).to_be_visible()

    # 2. The organiser's screen shows the code; the volunteer opens what it holds.
    staff = _logged_in(browser, app, live_server, officer).new_page()
    staff.goto(live_server + f"/admin/volunteering/shifts/{shift.id}/qr")
    assert staff.locator(".qr svg").count() == 1
    assert staff.locator('meta[http-equiv="refresh"]').count() == 1
    token = checkin.make_token(shift.id, checkin.IN)
    phone.goto(live_server + f"/volunteer/check/{shift.id}?t={token}")
    expect(phone.get_by_text(t("You are checked in. Thank you for serving!"))).to_be_visible()
    phone.goto(live_server + f"/volunteer/check/{shift.id}?t={token}")
    expect(phone.get_by_text(t("You are already checked in."))).to_be_visible()

    # Two hours later (moved back in the data), the check-out code.
    signup = db.session.scalar(select(ShiftSignup))
    signup.checked_in_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    out = checkin.make_token(shift.id, checkin.OUT)
    phone.goto(live_server + f"/volunteer/check/{shift.id}?t={out}")
    expect(phone.locator("p.ok")).to_be_visible()

    # 3. The organiser confirms on the roster.
    staff.goto(live_server + f"/admin/volunteering/shifts/{shift.id}/roster")
    staff.get_by_role(
        "button", name=t("Confirm the ticked hours (all pending when none is ticked)")
    ).click()
    expect(staff.get_by_text(t("%(n)d entries confirmed.", n=1))).to_be_visible()

    # 4. The volunteer sees the hours and gets a certificate.
    phone.goto(live_server + "/volunteer/service")
    assert phone.locator("dl.facts dd strong").first.inner_text() == "2"
    assert no_sideways_scroll(phone)
    phone.get_by_role("link", name=t("Get a service certificate")).click()
    phone.get_by_role("button", name=t("Issue the certificate")).click()
    assert phone.locator(".card svg").count() == 1
    expect(phone.get_by_text("6****************X")).to_be_visible()
    assert no_sideways_scroll(phone)

    # 5. A stranger opens the QR code's URL: the masked name, hours and branch only.
    cert = db.session.scalar(select(ServiceCertificate))
    stranger = _phone(browser).new_page()
    stranger.goto(live_server + f"/verify/{cert.token}")
    body = stranger.locator("main").inner_text()
    assert "张*明" in body and "张晓明" not in body and cert.number in body
