"""Demo donors in Baoji: blood-sample sessions run by the city and by 渭滨区, five marrow
registrants at every stage (cooling off, confirmed, booked, sampled, typed), three
organ / body registrants (one who amended their wishes) and three names on the memorial
page. Idempotent: a person with a registration, a branch with sessions and a memorial
name already there are left alone. Skips quietly without the demo branches."""

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from portal.demo.accounts import demo_citizen
from portal.demo.workbench import _by_code, _reviewer
from portal.donors import eligibility, marrow, memorial, organ
from portal.donors.models import MemorialDonor, SampleSession
from portal.extensions import db
from portal.timeutil import local_to_utc, today_local

# (branch code, place, address, days ahead, start hour, capacity)
SESSIONS = [
    ("610300", "宝鸡市中心血站", "宝鸡市金台区宝福路 8 号", 3, 9, 30),
    ("610300", "宝鸡文理学院献血车", "宝鸡市渭滨区宝光路 44 号", 6, 14, 40),
    ("610302", "渭滨区红十字会", "宝鸡市渭滨区红旗路 15 号", 10, 9, 15),
]

# (phone, name, region, birth date, sequence, stage)
MARROW = [
    ("13900001201", "赵鹏", "610302", date(1996, 3, 12), "037", marrow.TYPED),
    ("13900001202", "孙婷", "610302", date(1999, 7, 8), "048", marrow.SAMPLED),
    ("13900001203", "王磊", "610303", date(2001, 11, 20), "059", marrow.SAMPLE_BOOKED),
    ("13900001204", "李娜", "610323", date(1993, 2, 14), "062", marrow.CONFIRMED),
    ("13900001205", "陈浩", "610302", date(2003, 9, 30), "071", marrow.PRE_REGISTERED),
]
CONTACTS = [
    {"name": "赵建国", "relation": "父亲", "phone": "13800001201"},
    {"name": "刘芳", "relation": "母亲", "phone": "13800001202"},
]

# (phone, name, region, birth date, sequence, choices, amended choices or None)
ORGAN = [
    (
        "13900001201",
        "赵鹏",
        "610302",
        date(1996, 3, 12),
        "037",
        {"organs_scope": "all", "organs": [], "tissues": ["corneas"], "body": False},
        None,
    ),
    (
        "13900001206",
        "周建华",
        "610302",
        date(1970, 4, 18),
        "083",
        {"organs_scope": "some", "organs": ["kidneys", "liver"], "tissues": [], "body": False},
        {"organs_scope": "all", "organs": [], "tissues": ["corneas", "skin"], "body": False},
    ),
    (
        "13900001207",
        "吴秀兰",
        "610303",
        date(1962, 10, 5),
        "094",
        {"organs_scope": "none", "organs": [], "tissues": ["corneas"], "body": True},
        None,
    ),
]
FAMILY = {"name": "周丽", "relation": "女儿", "phone": "13800001207", "informed": True}

# (branch code, name, kind, donated on, tribute, agreed by, relation)
MEMORIAL = [
    ("610302", "刘德明", "organ", date(2025, 11, 3), "他让三个人重获新生。", "刘小红", "女儿"),
    ("610300", "陈素珍", "body", date(2025, 4, 17), "一生从教，身后仍为医学育人。", "陈立", "儿子"),
    ("610303", "马建军", "cornea", date(2024, 9, 9), "让两位陌生人重见光明。", "王梅", "妻子"),
]


def _at(days: int, hour: int) -> datetime:
    """`hour` o'clock in Asia/Shanghai `days` from today, as naive UTC."""
    return local_to_utc(today_local() + timedelta(days=days), time(hour))


def _reviewer_for(branch):
    return _reviewer(branch) or (branch.parent and _reviewer(branch.parent))


def _sessions() -> int:
    made = 0
    for code, place, address, days, hour, capacity in SESSIONS:
        branch = _by_code(code)
        reviewer = branch and _reviewer_for(branch)
        if branch is None or reviewer is None:
            continue
        if db.session.scalar(
            select(SampleSession.id).where(
                SampleSession.branch_id == branch.id, SampleSession.place == place
            )
        ):
            continue
        marrow.create_session(
            branch,
            place=place,
            address=address,
            starts_at=_at(days, hour),
            ends_at=_at(days, hour + 3),
            capacity=capacity,
            actor=reviewer,
            role="officer",
        )
        made += 1
    return made


def _marrow() -> int:
    made = 0
    for phone, name, region, born, sequence, stage in MARROW:
        branch = _by_code(region)
        reviewer = branch and _reviewer_for(branch)
        if branch is None or reviewer is None:
            continue
        user = demo_citizen(phone, name, region, born, sequence, branch)
        db.session.flush()
        db.session.refresh(user)
        if marrow.latest_registration(user) is not None:
            continue
        days_ago = 2 if stage == marrow.PRE_REGISTERED else 30
        reg = marrow.register(
            user,
            weight_kg=eligibility.MIN_WEIGHT[user.profile.sex] + 12,
            answers=dict.fromkeys(eligibility.questions_for(user.profile.sex), False),
            contacts=CONTACTS,
            preferences={"channel": "sms", "time": "evening"},
            health_consent=True,
            registry_consent=True,
            today=today_local() - timedelta(days=days_ago),
        )
        if stage != marrow.PRE_REGISTERED:
            marrow.settle(reg)
        if stage in (marrow.SAMPLE_BOOKED, marrow.SAMPLED, marrow.TYPED):
            sessions = marrow.sessions_for(reg)
            if sessions:
                marrow.book(reg, sessions[0].id, user)
        if stage in (marrow.SAMPLED, marrow.TYPED) and reg.status == marrow.SAMPLE_BOOKED:
            marrow.record_step(reg, marrow.SAMPLED, reviewer, "officer")
        if stage == marrow.TYPED and reg.status == marrow.SAMPLED:
            marrow.record_step(reg, marrow.TYPED, reviewer, "officer")
        made += 1
    return made


def _organ() -> int:
    made = 0
    for phone, name, region, born, sequence, choices, amended in ORGAN:
        branch = _by_code(region)
        if branch is None:
            continue
        user = demo_citizen(phone, name, region, born, sequence, branch)
        db.session.flush()
        db.session.refresh(user)
        if organ.latest_registration(user) is not None:
            continue
        reg = organ.register(user, choices, FAMILY, consent_given=True)
        if amended:
            organ.amend(reg, user, amended, FAMILY)
        made += 1
    return made


def _memorial() -> int:
    made = 0
    for code, name, kind, donated_on, tribute, agreed_by, relation in MEMORIAL:
        branch = _by_code(code)
        reviewer = branch and _reviewer_for(branch)
        if branch is None or reviewer is None:
            continue
        if db.session.scalar(select(MemorialDonor.id).where(MemorialDonor.display_name == name)):
            continue
        memorial.add(
            branch,
            display_name=name,
            kind=kind,
            donated_on=donated_on,
            tribute=tribute,
            agreed_by=agreed_by,
            agreed_relation=relation,
            agreed_on=donated_on + timedelta(days=20),
            actor=reviewer,
            role="officer",
        )
        made += 1
    return made


def load() -> list[str]:
    sessions, registrants, wishes, names = _sessions(), _marrow(), _organ(), _memorial()
    db.session.flush()
    if not (sessions or registrants or wishes or names):
        return []
    return [
        f"donors   {sessions} sample sessions, {registrants} marrow registrants, "
        f"{wishes} organ/body registrants, {names} memorial names "
        "(marrow: 13900001201-13900001205; organ: 13900001206, 13900001207)"
    ]
