"""The donor's trail: a donor without an account finds their gift by receipt number and
an SMS code; an organisation by its credit code; a signed-in donor sees their own gifts.
Wrong codes are refused and lookups are throttled."""

import re
from datetime import date

import pytest
from sqlalchemy import select

from portal.donations import evidence, ledger, spending
from portal.donations.models import ORGANISATION
from portal.donations.trail import trail_of
from portal.extensions import db
from portal.notifications.models import Notification
from tests.donations_helpers import donations_world, gift, person

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def world(app, make_branch, make_user, grant_role):
    w = donations_world(make_branch, make_user, grant_role)
    o = w.officer
    w.gift = ledger.record(
        w.county, w.home, gift(30_000), person("王小明", "13900001111"), o, "officer"
    )
    ledger.record(w.county, w.home, gift(10_000), person("赵六", None), o, "officer")
    w.expense = spending.record_expense(
        w.home, date(2026, 4, 5), 10_000, "冬季棉被", "12户困难家庭，凤县", o, "officer"
    )
    evidence.store(w.expense, "photo", "现场.png", PNG, o)
    w.org = ledger.record(
        w.county,
        None,
        gift(90_000),
        ledger.Donor(kind=ORGANISATION, name="宝鸡金台精密机械有限公司", uscc="91610300MA6X5G7J3C"),
        o,
        "officer",
    )
    db.session.commit()
    return w


def _last_code() -> str:
    body = db.session.scalars(select(Notification.body).order_by(Notification.id.desc())).first()
    # Six digits standing alone (the receipt number's parts are joined by hyphens).
    return re.search(r"(?<![-\d])(\d{6})(?![-\d])", body).group(1)


def test_share_spent_is_proportional(app, world):
    t = trail_of(world.gift)
    # The project got 40 000 and spent 10 000: a quarter of the donor's 30 000.
    assert (t.allocated, t.share_spent, t.waiting) == (30_000, 7_500, 0)


def test_donor_without_account_finds_gift_by_receipt_and_code(client, world):
    r = client.post("/transparency/trail", data={"receipt": world.gift.receipt_number.lower()})
    assert r.status_code == 302 and r.headers["Location"].endswith("/transparency/trail/code")
    sms = db.session.scalars(select(Notification)).all()[-1]
    assert sms.recipient == "13900001111"
    bad = client.post(
        "/transparency/trail/code",
        data={"code": "000000" if _last_code() != "000000" else "111111"},
    )
    assert bad.status_code == 200
    assert client.get(f"/transparency/trail/{world.gift.id}").status_code == 302
    r = client.post("/transparency/trail/code", data={"code": _last_code()})
    assert r.status_code == 302
    page = client.get(f"/transparency/trail/{world.gift.id}").get_data(as_text=True)
    assert "冬季棉被" in page and "¥75.00" in page and "现场.png" in page
    assert "王小明" not in page and "13900001111" not in page


def test_organisation_uses_its_credit_code(client, world):
    r = client.post(
        "/transparency/trail",
        data={"receipt": world.org.receipt_number, "credit_code": "91610300MA6X5G7J3X"},
    )
    assert r.status_code == 200
    assert client.get(f"/transparency/trail/{world.org.id}").status_code == 302
    r = client.post(
        "/transparency/trail",
        data={"receipt": world.org.receipt_number, "credit_code": "91610300MA6X5G7J3C"},
    )
    assert r.status_code == 302
    assert client.get(f"/transparency/trail/{world.org.id}").status_code == 200


def test_gift_without_phone_cannot_be_opened_by_receipt_alone(client, world):
    from portal.donations.trail import find_gift

    other = find_gift("JZ-610302-2026-000002")
    r = client.post("/transparency/trail", data={"receipt": other.receipt_number})
    assert r.status_code == 200
    assert client.get(f"/transparency/trail/{other.id}").status_code == 302


def test_lookups_are_throttled(client, world):
    codes = [
        client.post("/transparency/trail", data={"receipt": f"JZ-X-{i}"}).status_code
        for i in range(21)
    ]
    assert codes[:20] == [200] * 20 and codes[20] == 429


def test_signed_in_donor_sees_own_gifts(client, world, make_user, login):
    donor = make_user(phone="13900001111")  # registered after giving, same verified phone
    login(client, donor)
    page = client.get("/transparency/mine").get_data(as_text=True)
    assert world.gift.receipt_number in page
    assert client.get(f"/transparency/trail/{world.gift.id}").status_code == 200
    assert client.get(f"/transparency/trail/{world.org.id}").status_code == 302


def test_my_red_cross_lists_gifts(client, world, make_user, login):
    login(client, make_user(phone="13900001111"))
    assert world.gift.receipt_number in client.get("/my").get_data(as_text=True)
