"""On a phone: a county officer records a restricted gift and an expense with a photo;
the donor, who has no account, finds the gift by its receipt number and the SMS code and
sees the expense, its photo and their share. Labels come from the catalogue."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.donations.models import Donation
from portal.extensions import db
from portal.notifications.models import Notification
from tests.browser.test_volunteer_flow import _logged_in, _phone, t  # noqa: F401  (fixture)
from tests.conftest import no_sideways_scroll
from tests.donations_helpers import donations_world

pytestmark = pytest.mark.browser

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_officer_records_gift_and_expense_donor_follows_it(
    app,
    browser,
    live_server,
    make_branch,
    make_user,
    grant_role,
    t,  # noqa: F811
):
    world = donations_world(make_branch, make_user, grant_role)
    home_id = world.home.id

    # 1. The officer records a restricted gift of ¥1,000 from 王小明.
    staff = _logged_in(browser, app, live_server, world.county_officer).new_page()
    staff.goto(live_server + "/admin/donations/new")
    staff.get_by_label(t("Project (restricted gift)")).select_option(str(home_id))
    staff.get_by_label(t("Amount in yuan (for goods: their value)")).fill("1,000")
    staff.get_by_label(t("Channel"), exact=True).select_option("wechat")
    staff.get_by_label(t("Donor's name (person or organisation)")).fill("王小明")
    staff.get_by_label(t("Donor's mobile number (kept private; lets them follow the gift)")).fill(
        "139 0000 1111"
    )
    staff.get_by_label(t("Date received")).fill("2026-03-05")
    assert no_sideways_scroll(staff)
    staff.get_by_role("button", name=t("Save")).click()
    staff.wait_for_url(re.compile(r".*/admin/donations/\d+$"))
    donation = db.session.scalar(select(Donation))
    expect(staff.get_by_text(donation.receipt_number).first).to_be_visible()

    # 2. ... and an expense of ¥400 with a photo of the handover.
    staff.goto(live_server + f"/admin/donations/projects/{home_id}")
    form = staff.locator("form", has=staff.get_by_role("button", name=t("Record the expense")))
    form.get_by_label(t("Amount in yuan")).fill("400")
    form.get_by_label(t("Date spent")).fill("2026-03-09")
    form.get_by_label(t("Purpose")).fill("冬季棉被")
    form.get_by_label(
        t("Who benefited, as a group (never a person's name): 12 households, 凤县")
    ).fill("12户困难家庭，凤县")
    form.get_by_label(t("Evidence file (photo or PDF, up to 1.9 MB)")).set_input_files(
        {"name": "发放现场.png", "mimeType": "image/png", "buffer": PNG}
    )
    form.get_by_role("button", name=t("Record the expense")).click()
    staff.wait_for_url(f"**/admin/donations/projects/{home_id}")
    expect(staff.get_by_text("发放现场.png").first).to_be_visible()

    # 3. The donor, on their phone without an account, follows the gift.
    page = _phone(browser).new_page()
    page.goto(live_server + "/transparency/trail")
    page.get_by_label(t("Receipt number")).fill(donation.receipt_number.lower())
    page.get_by_role("button", name=t("Continue")).click()
    page.wait_for_url("**/transparency/trail/code")
    body = db.session.scalars(select(Notification.body).order_by(Notification.id.desc())).first()
    code = re.search(r"(?<![-\d])(\d{6})(?![-\d])", body).group(1)
    page.get_by_label(t("Verification code")).fill(code)
    page.get_by_role("button", name=t("See where my gift went")).click()
    page.wait_for_url(f"**/transparency/trail/{donation.id}")
    expect(page.get_by_text("冬季棉被").first).to_be_visible()
    expect(page.get_by_text("¥400.00").first).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("发放现场")).first).to_be_visible()
    assert no_sideways_scroll(page)
    text = page.content()
    assert "王小明" not in text and "13900001111" not in text
