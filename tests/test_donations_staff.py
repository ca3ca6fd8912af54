"""Staff pages: recording gifts and expenses (with evidence) in scope, corrections,
reversals, allocations, the month-end summary; 404 outside the scope, 403 for citizens,
read-only for auditors; bad input answered beside the field with nothing written."""

import io
from datetime import date

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.donations import ledger, tallies
from portal.donations.models import Donation, Evidence, Expense, Project
from portal.extensions import db
from tests.conftest import count
from tests.donations_helpers import donations_world, gift, person

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def world(app, make_branch, make_user, grant_role):
    return donations_world(make_branch, make_user, grant_role)


def _gift_form(world, **over):
    data = {
        "branch": str(world.county.id),
        "project": str(world.home.id),
        "kind": "money",
        "amount": "1,234.56",
        "channel": "wechat",
        "channel_ref": "4200001234",
        "donor_kind": "person",
        "donor_name": "王小明",
        "donor_phone": "139 0000 1111",
        "received_on": "2026-03-05",
    }
    data.update(over)
    return data


def test_officer_records_a_restricted_gift(client, login, world):
    login(client, world.officer)
    r = client.post("/admin/donations/new", data=_gift_form(world))
    assert r.status_code == 302
    d = db.session.scalar(select(Donation))
    assert (d.amount_fen, d.project_id, d.branch_id) == (123456, world.home.id, world.county.id)
    assert d.donor_phone == "13900001111" and d.public_label == "王*明"
    page = client.get(f"/admin/donations/{d.id}").get_data(as_text=True)
    assert "王小明" in page and "139****1111" in page
    assert "sensitive_viewed" in db.session.scalars(select(AuditEntry.action)).all()


@pytest.mark.parametrize(
    "over, field",
    [
        ({"amount": "12.345"}, "amount"),
        ({"amount": ""}, "amount"),
        ({"channel": ""}, "channel"),
        ({"donor_name": ""}, "donor_name"),
        ({"donor_phone": "12345"}, "donor_phone"),
        ({"donor_kind": "organisation", "credit_code": "91610300MA6X5G7J3X"}, "credit_code"),
        ({"kind": "goods", "goods_description": "", "channel": ""}, "goods_description"),
        ({"donor_name": "<script>\u202e"}, "donor_name"),
    ],
)
def test_bad_gift_input_is_refused_beside_the_field(client, login, world, over, field):
    login(client, world.officer)
    r = client.post("/admin/donations/new", data=_gift_form(world, **over))
    assert r.status_code == 200
    assert f'id="{field}-err"' in r.get_data(as_text=True)
    assert count(Donation) == 0


def test_scope_is_enforced(client, login, world, make_user, grant_role, make_branch):
    outsider_branch = make_branch(world.province, name="西安市红十字会")
    outsider = grant_role(make_user(), outsider_branch, "officer")
    d = ledger.record(world.county, world.home, gift(), person(), world.officer, "officer")
    db.session.commit()
    login(client, outsider)
    assert client.get(f"/admin/donations/{d.id}").status_code == 404
    assert client.get(f"/admin/donations/projects/{world.home.id}").status_code == 404
    r = client.post(
        f"/admin/donations/projects/{world.home.id}/expenses",
        data={
            "amount": "1",
            "spent_on": "2026-03-06",
            "purpose": "x",
            "beneficiary": "y",
            "evidence_kind": "photo",
        },
    )
    assert r.status_code == 404
    r = client.post("/admin/donations/new", data=_gift_form(world))
    assert r.status_code in (200, 404) and count(Donation) == 1


def test_citizen_gets_403_and_auditor_reads_only(client, login, world, make_user, grant_role):
    login(client, make_user())
    assert client.get("/admin/donations/").status_code == 403
    auditor = grant_role(make_user(), world.city, "auditor")
    other = client.application.test_client()
    login(other, auditor)
    assert other.get("/admin/donations/").status_code == 200
    assert other.post("/admin/donations/new", data=_gift_form(world)).status_code == 403


def test_expense_with_photo_and_refusal_beyond_allocation(client, login, world):
    ledger.record(world.county, world.home, gift(50_000), person(), world.officer, "officer")
    db.session.commit()
    login(client, world.county_officer)
    url = f"/admin/donations/projects/{world.home.id}/expenses"
    form = {
        "amount": "400",
        "spent_on": "2026-03-06",
        "purpose": "冬季棉被",
        "beneficiary": "12户困难家庭，凤县",
        "evidence_kind": "photo",
        "evidence": (io.BytesIO(PNG), "发放.png"),
    }
    r = client.post(url, data=form, content_type="multipart/form-data")
    assert r.status_code == 302
    assert count(Expense) == 1 and count(Evidence) == 1
    form.update(amount="100.01", evidence=(io.BytesIO(PNG), "again.png"))
    r = client.post(url, data=form, content_type="multipart/form-data")
    assert r.status_code == 200 and count(Expense) == 1 and count(Evidence) == 1
    bad = {**form, "amount": "1", "evidence": (io.BytesIO(b"<html>"), "x.png")}
    r = client.post(url, data=bad, content_type="multipart/form-data")
    assert r.status_code == 200 and count(Expense) == 1  # nothing half-written


def test_reverse_and_correct_over_http(client, login, world):
    d = ledger.record(world.county, world.home, gift(50_000), person(), world.officer, "officer")
    db.session.commit()
    login(client, world.officer)
    assert client.get(f"/admin/donations/new?corrects={d.id}").status_code == 200
    r = client.post(
        f"/admin/donations/new?corrects={d.id}",
        data=_gift_form(world, amount="5000", reason="金额少录一个零"),
    )
    assert r.status_code == 302
    amounts = sorted(db.session.scalars(select(Donation.amount_fen)))
    assert amounts == [-50_000, 50_000, 500_000]
    assert tallies.check() == []
    r = client.post(f"/admin/donations/{d.id}/reverse", data={"reason": "again"})
    assert r.status_code == 200 and count(Donation) == 3


def test_allocate_and_project_edit_and_summary(client, login, world):
    ledger.record(
        world.county, None, gift(80_000, on=date(2026, 3, 1)), person(), world.officer, "officer"
    )
    db.session.commit()
    login(client, world.officer)
    url = f"/admin/donations/projects/{world.home.id}"
    assert (
        client.post(
            url + "/allocate", data={"amount": "300", "allocated_on": "2026-03-02"}
        ).status_code
        == 302
    )
    assert (
        client.post(
            url + "/allocate", data={"amount": "600", "allocated_on": "2026-03-02"}
        ).status_code
        == 200
    )
    db.session.expire_all()
    assert db.session.get(Project, world.home.id).allocated_fen == 30_000
    r = client.post(
        url,
        data={
            "code": "IGNORED",
            "branch": str(world.county.id),
            "title_zh": "博爱家园（渭滨）",
            "title_en": "Boai Home",
            "starts_on": "2026-01-01",
            "status": "running",
            "target": "100000",
        },
    )
    assert r.status_code == 302
    db.session.expire_all()
    p = db.session.get(Project, world.home.id)
    assert (p.title_zh, p.status, p.target_fen, p.code) == (
        "博爱家园（渭滨）",
        "running",
        10_000_000,
        "BAJY-610302-2026",
    )
    page = client.get(f"/admin/donations/summary?branch={world.county.id}&month=2026-03")
    assert "¥800.00" in page.get_data(as_text=True)
    xlsx = client.get(
        f"/admin/donations/summary?branch={world.county.id}&month=2026-03&format=xlsx"
    )
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_new_project(client, login, world):
    login(client, world.officer)
    r = client.post(
        "/admin/donations/projects/new",
        data={
            "code": "jsszd-2023",
            "branch": str(world.city.id),
            "title_zh": "积石山地震救灾",
            "title_en": "Jishishan earthquake relief",
            "starts_on": "2026-01-01",
            "status": "fundraising",
            "target": "500,000",
        },
    )
    assert r.status_code == 302
    assert (
        db.session.scalar(select(Project.code).where(Project.title_zh == "积石山地震救灾"))
        == "JSSZD-2023"
    )
    assert client.get("/admin/donations/projects").status_code == 200
    assert client.get("/admin/donations/").status_code == 200


def test_funds_raised_indicator_is_live(app, world):
    from portal.admin.indicators import get_indicator, total, year_windows
    from portal.branches.scope import ids_under
    from portal.timeutil import today_local

    ledger.record(world.county, world.home, gift(50_000), person(), world.officer, "officer")
    d = ledger.record(world.county, None, gift(7_000), person(), world.officer, "officer")
    ledger.reverse(d, world.officer, "officer", "退回", today_local())
    db.session.commit()
    funds = get_indicator("funds_raised")
    assert funds.live
    _, start, end = year_windows(today_local().year)
    assert total(funds, ids_under([world.city.path]), start, end) == 50_000
