"""Builders the donations tests share: a Baoji-like tree with staff and projects."""

from datetime import date
from types import SimpleNamespace

from portal.donations import ledger
from portal.donations.models import MONEY, PERSON, Project
from portal.extensions import db


def make_project(branch, code, title="红十字博爱家园", status="fundraising") -> Project:
    project = Project(
        code=code,
        branch_id=branch.id,
        title_zh=title,
        title_en="Boai Home",
        description_zh="社区防灾减灾",
        description_en="Community resilience",
        starts_on=date(2026, 1, 1),
        status=status,
    )
    db.session.add(project)
    db.session.commit()
    return project


def gift(fen=10_000, on=date(2026, 3, 5), channel="wechat", **kw) -> ledger.Gift:
    return ledger.Gift(kind=MONEY, amount_fen=fen, received_on=on, channel=channel, **kw)


def person(name="王小明", phone="13900001111", anonymous=False) -> ledger.Donor:
    return ledger.Donor(kind=PERSON, name=name, phone=phone, anonymous=anonymous)


def donations_world(make_branch, make_user, grant_role) -> SimpleNamespace:
    national = make_branch(name="中国红十字会总会")
    province = make_branch(national, name="陕西省红十字会", code="610000")
    city = make_branch(province, name="宝鸡市红十字会", code="610300")
    county = make_branch(city, name="渭滨区红十字会", code="610302")
    other = make_branch(city, name="岐山县红十字会", code="610323")
    officer = grant_role(make_user(), city, "officer")
    county_officer = grant_role(make_user(), county, "officer")
    home = make_project(county, "BAJY-610302-2026")
    angel = make_project(city, "TSJH-610300-2026", title="红十字天使计划")
    return SimpleNamespace(
        national=national,
        province=province,
        city=city,
        county=county,
        other=other,
        officer=officer,
        county_officer=county_officer,
        home=home,
        angel=angel,
    )
