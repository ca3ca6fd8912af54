"""The small world the donor tests act on: a Baoji branch tree, a citizen of 渭滨区 with
a real-name profile (birth date and sex set per test), an officer there and one at the
sibling county."""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from portal.donors.models import SampleSession
from portal.extensions import db
from portal.timeutil import utcnow
from tests.conftest import add_profile

NAME = "张晓明"


def born_years_ago(years: int, today: date, days_more: int = 0) -> date:
    """The birth date of someone turning `years` on `today` (minus `days_more` days)."""
    try:
        birthday = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        birthday = today.replace(year=today.year - years, day=28)
    return birthday - timedelta(days=days_more)


@pytest.fixture
def world(make_branch, make_user, grant_role):
    n = make_branch(name="中国红十字会总会")
    p = make_branch(n, name="陕西省红十字会", code="610000")
    c = make_branch(p, name="宝鸡市红十字会", code="610300")
    a = make_branch(c, name="渭滨区红十字会", code="610302")
    b = make_branch(c, name="岐山县红十字会", code="610323")
    citizen = make_user(phone="13912345678", locale="en", home_branch_id=a.id)
    add_profile(citizen, NAME)
    citizen.profile.birth_date = date(1995, 6, 1)
    citizen.profile.sex = "M"
    db.session.commit()
    officer = grant_role(make_user(locale="en"), a, "officer")
    city = grant_role(make_user(locale="en"), c, "officer")
    sibling = grant_role(make_user(locale="en"), b, "officer")
    return SimpleNamespace(
        n=n, p=p, c=c, a=a, b=b, citizen=citizen, officer=officer, city=city, sibling=sibling
    )


def make_session(branch, capacity=10, hours_ahead=48, place="宝鸡市中心血站"):
    start = utcnow() + timedelta(hours=hours_ahead)
    session = SampleSession(
        branch_id=branch.id,
        place=place,
        address="宝鸡市金台区宝福路 8 号",
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        capacity=capacity,
        seats_taken=0,
    )
    db.session.add(session)
    db.session.commit()
    return session


def marrow_form(**over) -> dict:
    data = {
        "q_blood_infection": "no",
        "q_chronic_disease": "no",
        "q_cancer_or_blood": "no",
        "q_recent_transfusion": "no",
        "weight": "62.5",
        "contact1_name": "张建国",
        "contact1_relation": "父亲",
        "contact1_phone": "13800001111",
        "contact2_name": "李秀英",
        "contact2_relation": "母亲",
        "contact2_phone": "13800002222",
        "channel": "sms",
        "best_time": "evening",
        "health_consent": "y",
        "registry_consent": "y",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def organ_form(**over) -> dict:
    data = {
        "organs_scope": "some",
        "organs": ["kidneys", "liver"],
        "tissues": ["corneas"],
        "body": "",
        "family_name": "王丽",
        "family_relation": "妻子",
        "family_phone": "13800003333",
        "family_informed": "y",
        "consent": "y",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v not in (None, "")}
