"""Downloading the audit log: CSV that Excel opens (UTF-8 with BOM), XLSX, scope,
formula injection, the size limit and WeChat."""

import csv
import io
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal import audit
from portal.audit.models import AuditEntry
from portal.exports import csv_response, xlsx_response
from portal.extensions import db
from tests.conftest import add_profile

EN = {"Accept-Language": "en"}
WECHAT = "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.47"


@pytest.fixture
def world(make_user, make_branch, grant_role):
    national = make_branch(name="中国红十字会总会")
    city = make_branch(make_branch(national, name="陕西省红十字会"), name="宝鸡市红十字会")
    county = make_branch(city, name="渭滨区红十字会")
    sibling = make_branch(city, name="岐山县红十字会")
    w = SimpleNamespace(city=city, county=county, sibling=sibling)
    w.city_admin = grant_role(make_user(), city, "admin")
    w.county_auditor = grant_role(make_user(), county, "auditor")
    w.officer = make_user(phone="13700001111")
    add_profile(w.officer, "买买提·艾力")
    return w


def entry(branch, action="review_rejected", **kw) -> AuditEntry:
    e = audit.record(
        action, actor=kw.pop("actor", None), actor_role="officer", branch_id=branch.id, **kw
    )
    db.session.commit()
    return e


def read_csv(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 byte order mark"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_csv_has_bom_and_chinese_text_intact(client, login, world):
    entry(
        world.county,
        actor=world.officer,
        object_kind="home_branch",
        object_id=7,
        changes={"reason": "资料不全，请补充户籍所在地"},
    )
    login(client, world.city_admin)
    r = client.get("/admin/audit", query_string={"format": "csv"}, headers=EN)
    assert r.status_code == 200
    assert r.mimetype == "text/csv"
    assert "attachment;" in r.headers["Content-Disposition"]
    rows = read_csv(r)
    assert rows[0][:3] == ["Time (Beijing)", "Who", "Name"]
    data = [row for row in rows[1:] if row[6] == "review_rejected"]
    assert len(data) == 1
    row = data[0]
    assert row[1] == "137****1111" and row[2] == "买买提·艾力"
    assert row[4] == "渭滨区红十字会"
    assert row[5] == "Turned down an application"
    assert row[7:9] == ["home_branch", "7"]
    assert "资料不全，请补充户籍所在地" in row[10]
    assert "13700001111" not in r.get_data().decode("utf-8-sig")


def test_xlsx_loads_with_header_and_rows(client, login, world):
    for i in range(3):
        entry(world.county, object_kind="user", object_id=i)
    login(client, world.city_admin)
    r = client.get(
        "/admin/audit", query_string={"format": "xlsx", "object_kind": "user"}, headers=EN
    )
    assert r.status_code == 200
    assert r.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(r.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Time (Beijing)" and rows[0][6] == "Action code"
    assert len(rows) == 4
    assert {row[8] for row in rows[1:]} == {"0", "1", "2"}
    assert all(row[4] == "渭滨区红十字会" for row in rows[1:])


def test_export_keeps_to_the_scope(client, login, world):
    entry(world.county, object_kind="mine", object_id=1)
    entry(world.sibling, object_kind="theirs", object_id=2)
    login(client, world.county_auditor)
    rows = read_csv(client.get("/admin/audit", query_string={"format": "csv"}, headers=EN))
    kinds = {row[7] for row in rows[1:]}
    assert "mine" in kinds and "theirs" not in kinds


def test_export_follows_the_current_search(client, login, world):
    entry(world.county, action="review_approved", object_kind="a", object_id=1)
    entry(world.county, action="review_rejected", object_kind="b", object_id=2)
    login(client, world.city_admin)
    r = client.get("/admin/audit", query_string={"format": "csv", "action": "review_approved"})
    rows = read_csv(r)
    assert [row[6] for row in rows[1:]] == ["review_approved"]


FORMULAS = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0"]


@pytest.mark.parametrize("payload", FORMULAS)
def test_formula_injection_is_neutralised(client, login, world, payload):
    entry(world.county, object_kind="x", object_id=payload[:40], changes={"note": payload})
    login(client, world.city_admin)
    rows = read_csv(client.get("/admin/audit", query_string={"format": "csv"}, headers=EN))
    cells = [c for row in rows[1:] for c in row if payload[:10] in c]
    assert cells and all(not c.startswith(("=", "+", "-", "@")) for c in cells)

    r = client.get("/admin/audit", query_string={"format": "xlsx"}, headers=EN)
    sheet = load_workbook(io.BytesIO(r.get_data())).active
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", cell.value
            if isinstance(cell.value, str):
                assert not cell.value.startswith(("=", "+", "-", "@"))


def test_shared_helpers_write_bom_and_guard_formulas(app):
    with app.test_request_context():
        r = csv_response("t", ["名字"], [["=1+1", "张三"]])
        assert r.get_data().startswith(b"\xef\xbb\xbf")
        assert read_csv(r)[1] == ["'=1+1", "张三"]
        x = xlsx_response("t", ["名字"], [["=1+1"]])
        ws = load_workbook(io.BytesIO(x.get_data())).active
        assert ws["A2"].value == "'=1+1" and ws["A2"].data_type != "f"


def test_too_large_export_is_refused_not_cut_short(client, login, world, monkeypatch):
    monkeypatch.setattr("portal.admin.audit_query.EXPORT_LIMIT", 2)
    for i in range(3):
        entry(world.county, object_kind="x", object_id=i)
    login(client, world.city_admin)
    r = client.get("/admin/audit", query_string={"format": "csv"}, headers=EN)
    assert r.status_code == 302 and "format" not in r.headers["Location"]
    exported = db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "audit_exported")
    )
    assert exported == 0
    page = client.get(r.headers["Location"], headers=EN).get_data(as_text=True)
    assert "More than 2 entries match. Please narrow the search" in page


def test_invalid_search_downloads_nothing(client, login, world):
    login(client, world.city_admin)
    r = client.get("/admin/audit", query_string={"format": "csv", "actor": "nope"})
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "audit_exported")
        )
        == 0
    )


def test_wechat_gets_open_in_browser_advice_instead_of_links(client, login, world):
    login(client, world.city_admin)
    html = client.get("/admin/audit", headers={**EN, "User-Agent": WECHAT}).get_data(as_text=True)
    assert "Open this page in your browser" in html
    assert "format=csv" not in html
    normal = client.get("/admin/audit", headers=EN).get_data(as_text=True)
    assert "format=csv" in normal and "format=xlsx" in normal
