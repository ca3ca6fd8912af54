"""On a phone in WeChat: a citizen finds a first-aid class in their county and books
it, joins the waitlist of a full one, cancels the first; books today's class, where the
officer checks attendance on the roster and records a pass; the citizen opens the
certificate and a stranger verifies it from the QR code's URL (masked name only)."""

from datetime import time, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.timeutil import today_local, utcnow
from portal.training import booking as booking_svc
from portal.training import sessions
from portal.training.catalogue import course_by_code, ensure_catalogue
from portal.training.models import Booking, Certificate
from tests.browser.test_volunteer_flow import _logged_in, _phone
from tests.browser.test_volunteer_flow import t as t  # noqa: F401  (the fixture)
from tests.conftest import no_sideways_scroll
from tests.test_volunteering import add_profile

pytestmark = pytest.mark.browser


def _class(officer, branch, code, ahead, capacity, venue):
    plan = sessions.SessionPlan(
        course_id=course_by_code(code).id,
        first_day=today_local() + timedelta(days=ahead),
        days=1,
        start=time(9, 0),
        end=time(17, 0),
        venue=venue,
        address="宝鸡市渭滨区红旗路15号",
        map_url="https://uri.amap.com/search?keyword=x",
        capacity=capacity,
        instructors="王晓红",
        cutoff_hours=24,
    )
    return sessions.schedule(officer, branch, plan)


def test_find_book_waitlist_cancel_attend_pass_certificate_verify(
    app, browser, live_server, make_user, grant_role, tree, t
):
    ensure_catalogue()
    officer = grant_role(make_user(), tree.a, "officer")
    citizen = make_user(home_branch_id=tree.a.id)
    add_profile(citizen, name="张晓明", id_masked="6****************X")
    other = make_user()
    add_profile(other, name="李四")
    _class(officer, tree.a, "PJ-CPR", 10, 20, "渭滨区红十字会培训教室")
    full = _class(officer, tree.a, "PJ-ELDER", 12, 1, "经二路社区活动中心")
    today = _class(officer, tree.a, "JHY", 1, 20, "宝鸡市中心医院急救培训中心")
    elsewhere = _class(officer, tree.b, "PJ-CPR", 10, 20, "岐山县凤鸣镇")
    now = utcnow()
    day = today.days[0]
    day.starts_at, day.ends_at = now - timedelta(minutes=30), now + timedelta(hours=4)
    today.starts_at, today.ends_at = day.starts_at, day.ends_at
    today.booking_cutoff = now + timedelta(hours=1)
    db.session.commit()
    booking_svc.book(other, full.id)
    db.session.commit()

    context = _logged_in(browser, app, live_server, citizen)
    page = context.new_page()
    # 1. The listing opens on their county: its classes, not 岐山县's.
    page.goto(live_server + "/training/")
    assert page.get_by_role("link", name=course_by_code("PJ-CPR").title_zh).count() == 1
    assert page.get_by_text("岐山县凤鸣镇").count() == 0
    assert elsewhere.id
    assert no_sideways_scroll(page)
    page.get_by_role("link", name=course_by_code("PJ-CPR").title_zh).click()
    page.get_by_role("button", name=t("Book a seat")).click()
    expect(page.get_by_text(t("Your seat is booked."))).to_be_visible()
    # 2. The full class: the waitlist, with a position.
    page.goto(f"{live_server}/training/sessions/{full.id}")
    page.get_by_role("button", name=t("Join the waitlist")).click()
    expect(page.get_by_text(t("number %(n)d in the queue", n=1)).first).to_be_visible()
    # 3. Cancel the first booking.
    page.goto(f"{live_server}/training/mine")
    page.get_by_role("link", name=course_by_code("PJ-CPR").title_zh).click()
    page.get_by_role("button", name=t("Cancel my booking")).click()
    expect(page.get_by_text(t("Your booking has been cancelled."))).to_be_visible()
    # 4. Today's certified class: booked, with a check-in code.
    page.goto(f"{live_server}/training/sessions/{today.id}")
    page.get_by_role("button", name=t("Book a seat")).click()
    assert page.locator(".card svg").count() == 1
    booking = db.session.scalar(
        select(Booking).where(Booking.session_id == today.id, Booking.user_id == citizen.id)
    )

    # 5. The officer, on their phone: roster, attendance, results.
    staff = _logged_in(browser, app, live_server, officer)
    spage = staff.new_page()
    spage.goto(f"{live_server}/admin/training/sessions/{today.id}/days/{day.id}")
    spage.get_by_label("张晓明").check()
    spage.get_by_role("button", name=t("Save attendance")).click()
    expect(spage.get_by_text(t("Attendance saved."))).to_be_visible()
    assert no_sideways_scroll(spage)
    spage.goto(f"{live_server}/admin/training/sessions/{today.id}/results")
    spage.get_by_label(t("Theory score")).fill("92")
    spage.get_by_label(t("Practical")).select_option("pass")
    spage.get_by_role("button", name=t("Save results")).click()
    expect(spage.get_by_text(t("Results saved; %(n)d certificates issued.", n=1))).to_be_visible()

    # 6. The citizen opens the certificate.
    cert = db.session.scalar(select(Certificate).where(Certificate.booking_id == booking.id))
    page.goto(f"{live_server}/training/mine")
    page.locator(
        "a[href*='/training/certificates/']", has_text=course_by_code("JHY").title_zh
    ).click()
    expect(page.get_by_text(cert.number)).to_be_visible()
    assert page.locator(".card svg").count() == 1
    assert no_sideways_scroll(page)

    # 7. A stranger scans the QR code: masked name, valid, no phone or ID.
    stranger = _phone(browser).new_page()
    stranger.goto(f"{live_server}/verify/{cert.token}")
    body = stranger.locator("main").inner_text()
    assert "张*明" in body and "张晓明" not in body
    assert citizen.phone not in body and "6****************X" not in body
    assert t("Valid") in body
