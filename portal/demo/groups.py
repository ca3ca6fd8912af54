"""Demo group members (团体会员) in Baoji: a machine-tool company, a primary school, an
elderly-care association and a county hospital approved through the inbox (the
association's term ends in three weeks), and a technology company's application
waiting at 渭滨区. Each contact is a demo citizen; the unified social credit codes get
their check digit from stdnum, so they validate like real ones. Idempotent: a code that
already has a group or an application waiting is left alone."""

from datetime import date, timedelta

from sqlalchemy import select
from stdnum.cn import uscc

from portal.demo.accounts import demo_citizen
from portal.demo.workbench import _by_code, _reviewer
from portal.extensions import db
from portal.membership import groups
from portal.membership.charter import CHARTER_VERSION
from portal.membership.models import GroupMembershipApplication
from portal.review.services import ReviewError, decide
from portal.timeutil import today_local

# (contact phone, name, county, birth date, sequence, organisation, type, size, address,
#  the code's first 17 characters, outcome)
GROUPS = [
    # The demo citizen 李建国 (accounts.py, home branch 渭滨区) is this company's contact.
    ("13900000002", "李建国", "610302", date(1958, 10, 1), "013", "宝鸡秦岭机床有限公司",
     "enterprise", 860, "宝鸡市渭滨区清姜路 8 号", "91610302MA6X1A2B3", "ok"),
    ("13900000302", "钱丽萍", "610302", date(1980, 10, 2), "142", "宝鸡市渭滨区经二路小学",
     "school", 1240, "宝鸡市渭滨区经二路 56 号", "12610302435201234", "ok"),
    ("13900000303", "孙卫东", "610303", date(1965, 6, 21), "153", "宝鸡市金台区爱心助老协会",
     "social_org", 85, "宝鸡市金台区东风路 21 号", "51610303MJY12345X", "soon"),
    ("13900000304", "李雪梅", "610323", date(1978, 1, 9), "164", "岐山县人民医院",
     "government", 720, "岐山县凤鸣镇西大街 12 号", "12610323435207788", "ok"),
    ("13900000305", "周凯", "610302", date(1990, 8, 30), "175", "宝鸡渭河智能科技有限公司",
     "enterprise", 46, "宝鸡市渭滨区高新大道 99 号", "91610302MA6XC7D8E", None),
]  # fmt: skip


def code(body: str) -> str:
    return body + uscc.calc_check_digit(body)


def _known(value: str) -> bool:
    if groups.group_by_code(value) is not None:
        return True
    return (
        db.session.scalar(
            select(GroupMembershipApplication.id).where(
                GroupMembershipApplication.uscc == value,
                GroupMembershipApplication.status == "pending",
            )
        )
        is not None
    )


def load() -> list[str]:
    made = 0
    for row in GROUPS:
        phone, name, county, born, sequence, org, kind, size, address, body, outcome = row
        branch = _by_code(county)
        # A county without demo staff of its own is decided by the city above it.
        reviewer = branch and (_reviewer(branch) or (branch.parent and _reviewer(branch.parent)))
        if branch is None or reviewer is None or _known(code(body)):
            continue
        user = demo_citizen(phone, name, county, born, sequence, branch)
        db.session.flush()
        db.session.refresh(user)
        if groups.pending_application(user) is not None:
            continue
        try:
            application = groups.apply(
                user, branch, org, code(body), kind, size, address, CHARTER_VERSION
            )
        except ReviewError:
            continue
        db.session.flush()
        if outcome:
            decide(application, reviewer, "approve")
            if outcome == "soon":
                group = groups.group_by_code(code(body))
                group.valid_until = today_local() + timedelta(days=21)
        made += 1
    db.session.flush()
    return [f"groups   {made} new demo group members and applications"] if made else []
