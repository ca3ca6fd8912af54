"""Bulk import from the finance system: a dry run reports every bad row and writes
nothing; an import writes all rows or none; the same export twice is refused."""

import io

import pytest
from flask_babel import force_locale, gettext
from openpyxl import Workbook

from portal.donations.models import Donation
from portal.extensions import db
from tests.conftest import count
from tests.donations_helpers import donations_world

GOOD = (
    "日期,金额,渠道,凭证号,捐赠人类型,捐赠人,手机号,统一社会信用代码,项目代码,匿名,备注\n"
    '2026-03-01,"1,234.56",微信支付,WX001,个人,王小明,13900001111,,BAJY-610302-2026,否,\n'
    "2026-03-02,500,bank,BK002,单位,宝鸡金台精密机械有限公司,,91610300MA6X5G7J3G,,no,年度捐赠\n"
    "2026/03/03,20,cash,,person,李四,,,,是,\n"
)
BAD = GOOD + ("2026-02-30,12.345,paypal,WX001,个人,,123,,NOPE,maybe,\n")


@pytest.fixture
def world(app, make_branch, make_user, grant_role):
    return donations_world(make_branch, make_user, grant_role)


def _post(client, world, text_or_bytes, name="export.csv", go="check"):
    data = text_or_bytes.encode() if isinstance(text_or_bytes, str) else text_or_bytes
    return client.post(
        "/admin/donations/import",
        content_type="multipart/form-data",
        data={"branch": str(world.county.id), "go": go, "file": (io.BytesIO(data), name)},
    )


def test_dry_run_reports_every_bad_row_and_writes_nothing(client, login, world):
    login(client, world.officer)
    r = _post(client, world, BAD)
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and count(Donation) == 0
    assert '<th scope="row">5</th>' in page
    r = _post(client, world, BAD, go="import")
    assert r.status_code == 200 and count(Donation) == 0


def test_import_writes_all_rows_and_refuses_the_same_file_twice(client, login, world):
    login(client, world.officer)
    r = _post(client, world, GOOD)
    assert r.status_code == 200 and count(Donation) == 0
    assert _post(client, world, GOOD, go="import").status_code == 302
    rows = db.session.query(Donation).order_by(Donation.id).all()
    assert [d.amount_fen for d in rows] == [123456, 50000, 2000]
    assert rows[0].project_id == world.home.id and rows[2].anonymous
    assert _post(client, world, GOOD, go="import").status_code == 200
    assert count(Donation) == 3


def test_xlsx_export_is_read(client, login, world):
    wb = Workbook()
    ws = wb.active
    ws.append(["date", "amount", "channel", "reference", "donor_name"])
    ws.append(["2026-03-01", 88.8, "alipay", "ALI9", "赵六"])
    out = io.BytesIO()
    wb.save(out)
    login(client, world.officer)
    assert _post(client, world, out.getvalue(), "export.xlsx", go="import").status_code == 302
    assert db.session.query(Donation.amount_fen).scalar() == 8880


@pytest.mark.parametrize(
    "body, name",
    [
        (b"PK\x03\x04junk", "x.xlsx"),
        (b"\xff\xfe\x00", "x.csv"),
        (b"a,b\n1,2\n", "x.csv"),
        (b"x", "x.exe"),
    ],
)
def test_unreadable_files_are_refused(client, login, world, body, name):
    login(client, world.officer)
    r = _post(client, world, body, name)
    assert r.status_code == 200 and count(Donation) == 0
    assert "form-errors" in r.get_data(as_text=True)


GOODS_FILE = (
    "日期,类别,金额,渠道,物资名称,数量,单位,估值依据,捐赠人类型,捐赠人,统一社会信用代码,项目代码\n"
    "2026-03-05,物资,12000,,冬季棉被,200,床,采购发票单价60元,单位,"
    "宝鸡金台精密机械有限公司,91610300MA6X5G7J3G,BAJY-610302-2026\n"
    "2026-03-06,款,800,微信支付,,,,,个人,王小明,,\n"
)


def test_goods_rows_are_imported_with_what_how_many_and_the_valuation_basis(client, login, world):
    login(client, world.officer)
    assert _post(client, world, GOODS_FILE, go="import").status_code == 302
    goods, money = db.session.query(Donation).order_by(Donation.id).all()
    assert (goods.kind, goods.amount_fen, goods.channel) == ("goods", 1200000, None)
    assert (goods.goods_description, goods.goods_quantity, goods.goods_unit) == (
        "冬季棉被",
        "200",
        "床",
    )
    assert goods.valuation_basis == "采购发票单价60元" and goods.project_id == world.home.id
    assert (money.kind, money.channel) == ("money", "wechat")


def test_a_goods_row_missing_its_details_is_reported_by_line(client, login, world):
    login(client, world.officer)
    bad = (
        GOODS_FILE
        + "2026-03-07,物资,300,,大米,many,,,个人,李四,,\n2026-03-08,food,1,,,,,,个人,赵六,,\n"
    )
    page = _post(client, world, bad, go="import").get_data(as_text=True)
    assert count(Donation) == 0
    line_4 = page.split('<th scope="row">4</th>')[1].split("</tr>")[0]
    with force_locale("zh"):
        expected = [
            gettext("Please type a quantity such as 200 or 1.5."),
            gettext("Please give the unit (at most 10 characters)."),
            gettext("Please say how the value was set (at most 200 characters)."),
        ]
        unknown = gettext("Unknown kind of gift: use money or goods.")
    assert all(message in line_4 for message in expected)
    assert unknown in page.split('<th scope="row">5</th>')[1].split("</tr>")[0]
