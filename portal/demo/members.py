"""Demo members in Baoji: ten approved through the inbox (one of them with a term ending
in three weeks) and one application waiting at 渭滨区. Idempotent: a citizen who is a
member or has an application waiting is left alone. Skips quietly when the branches or
their reviewers are missing."""

from datetime import date, timedelta

from portal.demo.accounts import demo_citizen
from portal.demo.workbench import _by_code, _reviewer
from portal.extensions import db
from portal.membership import services
from portal.membership.charter import CHARTER_VERSION
from portal.review.services import ReviewError, decide
from portal.timeutil import today_local

# (phone, name, county code, birth date, sequence, occupation, type, outcome)
PEOPLE = [
    ("13900000201", "刘志强", "610302", date(1975, 2, 11), "017", "医生", "ordinary", "ok"),
    ("13900000202", "陈晓燕", "610302", date(1983, 9, 3), "028", "护士", "ordinary", "ok"),
    ("13900000203", "杨帆", "610302", date(2004, 5, 20), "031", "学生", "youth", "ok"),
    ("13900000204", "周桂兰", "610303", date(1960, 12, 8), "042", "退休教师", "ordinary", "ok"),
    ("13900000205", "吴磊", "610303", date(1990, 7, 15), "053", "工程师", "ordinary", "soon"),
    ("13900000206", "郑雅琴", "610303", date(2003, 3, 30), "064", "学生", "youth", "ok"),
    ("13900000207", "孙建军", "610323", date(1968, 1, 25), "075", "农民", "ordinary", "ok"),
    ("13900000208", "马丽", "610323", date(1979, 11, 2), "086", "个体经营者", "ordinary", "ok"),
    ("13900000209", "胡文博", "610323", date(1987, 6, 18), "097", "公务员", "ordinary", "ok"),
    ("13900000210", "高秀梅", "610302", date(1972, 4, 9), "108", "社区工作者", "ordinary", "ok"),
    ("13900000211", "何晨", "610302", date(1998, 8, 27), "119", "快递员", "ordinary", None),
]


def load() -> list[str]:
    made = 0
    for phone, name, code, born, sequence, occupation, kind, outcome in PEOPLE:
        branch = _by_code(code)
        # A county without demo staff of its own is decided by the city above it.
        reviewer = branch and (_reviewer(branch) or (branch.parent and _reviewer(branch.parent)))
        if branch is None or reviewer is None:
            continue
        user = demo_citizen(phone, name, code, born, sequence, branch)
        db.session.flush()
        db.session.refresh(user)
        if services.membership_of(user) or services.pending_application(user):
            continue
        try:
            application = services.apply(
                user,
                branch,
                kind,
                occupation,
                None,
                branch.address or "宝鸡市",
                None,
                CHARTER_VERSION,
            )
        except ReviewError:
            continue
        db.session.flush()
        if outcome:
            decide(application, reviewer, "approve")
            if outcome == "soon":
                services.membership_of(user).valid_until = today_local() + timedelta(days=21)
        made += 1
    db.session.flush()
    return [f"members  {made} new demo members and applications"] if made else []
