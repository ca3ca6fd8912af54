"""The public accounts, open data and receipts: totals that add up at every level, masked
donors, no personal data, evidence served safely, and open data that rebuilds the totals."""

import csv
import io
import json
from datetime import date

import pytest

from portal.donations import evidence, ledger, spending
from portal.donations.models import ORGANISATION
from portal.extensions import db
from tests.donations_helpers import donations_world, gift, person

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def world(app, make_branch, make_user, grant_role):
    w = donations_world(make_branch, make_user, grant_role)
    o = w.officer
    w.restricted = ledger.record(
        w.county,
        w.home,
        gift(50_000, channel="bank"),
        person("王小明", "13900001111"),
        o,
        "officer",
    )
    w.anon = ledger.record(
        w.county,
        None,
        gift(20_000, on=date(2026, 4, 2)),
        person("李秀英", "13900001112", anonymous=True),
        o,
        "officer",
    )
    w.org = ledger.record(
        w.city,
        w.angel,
        gift(1_000_000, channel="alipay"),
        ledger.Donor(kind=ORGANISATION, name="宝鸡金台精密机械有限公司", uscc="91610300MA6X5G7J3C"),
        o,
        "officer",
    )
    spending.allocate_from_pool(w.county, w.home, 15_000, date(2026, 4, 3), o, "officer")
    w.expense = spending.record_expense(
        w.home, date(2026, 4, 5), 40_000, "冬季棉被", "12户困难家庭，凤县", o, "officer"
    )
    w.photo = evidence.store(w.expense, "photo", "../../发放现场.png", PNG, o)
    db.session.commit()
    return w


def test_society_branch_and_project_pages_show_totals(client, world):
    page = client.get("/transparency/").get_data(as_text=True)
    assert "¥10,700.00" in page  # received: 500 + 200 + 10 000
    assert "<svg" in page and "<title>" in page
    county = client.get(f"/transparency/branch/{world.county.id}").get_data(as_text=True)
    assert "¥700.00" in county and "¥650.00" in county  # received, allocated
    project = client.get(f"/transparency/project/{world.home.id}").get_data(as_text=True)
    assert "¥250.00" in project  # balance 650 - 400


def test_public_lists_never_show_names_or_phones(client, world):
    pages = [
        client.get(u).get_data(as_text=True)
        for u in (
            "/transparency/",
            "/transparency/donations",
            "/transparency/expenses",
            f"/transparency/branch/{world.county.id}",
            "/transparency/data.json",
            "/transparency/data.csv",
            f"/transparency/receipt/{world.anon.verify_token}",
        )
    ]
    text = "\n".join(pages)
    for secret in ("王小明", "李秀英", "13900001111", "13900001112", "1112", "91610300MA6X5G7J3C"):
        assert secret not in text
    assert "王*明" in text, text[:3000]
    assert "Anonymous" in pages[1] or "匿名" in pages[1]


def test_search_by_receipt_number(client, world):
    page = client.get("/transparency/donations", query_string={"q": world.anon.receipt_number})
    text = page.get_data(as_text=True)
    assert f"<td>{world.anon.receipt_number}" in text
    assert f"<td>{world.restricted.receipt_number}" not in text


def test_evidence_is_served_as_checked_type_and_cannot_run(client, world):
    response = client.get(f"/transparency/evidence/{world.photo.id}")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert world.photo.filename == "发放现场.png"
    assert "static" not in evidence.path_of(world.photo)


@pytest.mark.parametrize("data", [b"<script>alert(1)</script>", b"GIF89a", b"", b"MZ\x90"])
def test_evidence_refuses_other_types(app, world, data):
    from portal.donations.errors import LedgerError

    with pytest.raises(LedgerError):
        evidence.store(world.expense, "photo", "x.png", data, world.officer)


def _sums(rows):
    out = {"incoming": 0, "allocation": 0, "expenditure": 0}
    for r in rows:
        out[r["transaction_type"]] += int(r["amount_fen"])
    return out


@pytest.mark.parametrize("scope", ["society", "branch", "project"])
def test_open_data_rebuilds_every_public_total(client, world, scope):
    from portal.donations.public_query import Scope, accounts

    args, s = {}, Scope()
    if scope == "branch":
        args, s = {"branch": world.county.id}, Scope(branch=world.county)
    elif scope == "project":
        args, s = {"project": world.home.id}, Scope(branch=world.county, project=world.home)
    data = json.loads(client.get("/transparency/data.json", query_string=args).get_data())
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get("/transparency/data.csv", query_string=args)
                .get_data(as_text=True)
                .lstrip("\ufeff")
            )
        )
    )
    f = accounts(s).figures
    for built in (_sums(data["transactions"]), _sums(rows)):
        assert (built["incoming"], built["allocation"], built["expenditure"]) == (
            f.received,
            f.allocated,
            f.spent,
        )


def test_receipt_page_and_card_verification(client, world):
    page = client.get(f"/transparency/receipt/{world.restricted.verify_token}")
    assert page.status_code == 200 and world.restricted.receipt_number in page.get_data(True)
    card = client.get(f"/verify/{world.restricted.verify_token}").get_data(as_text=True)
    assert world.restricted.receipt_number in card
    assert client.get("/transparency/receipt/nope").status_code == 404
