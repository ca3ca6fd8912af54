"""Demo volunteers in Baoji: ten approved (one of them 李建国, the demo citizen, so his
card shows), one application waiting at 渭滨区 and a first-aid team there. Idempotent:
a person who has applied once is left alone. Skips quietly without the demo branches
and reviewers (their loaders are other modules)."""

from datetime import date, timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.branches.models import Branch
from portal.demo.accounts import demo_citizen
from portal.extensions import db
from portal.review.services import decide
from portal.timeutil import utcnow
from portal.volunteering import services
from portal.volunteering.models import VolunteerApplication, VolunteerTeam, VolunteerTeamMember

REVIEWER = "13800000003"  # 宝鸡市 admin: reviews every county of Baoji
TEAM = "渭滨区红十字应急救护志愿服务队"

# (phone, name, region, birth date, sequence, branch code, areas, slots, skills, approved?)
VOLUNTEERS = [
    (
        "13900000002",
        None,
        None,
        None,
        None,
        "610302",
        ["first_aid", "elderly_care"],
        ["weekday_morning", "weekend_morning"],
        "红十字救护员证（2024年）",
        True,
    ),
    (
        "13900000101",
        "陈思远",
        "610302",
        date(1996, 2, 11),
        "017",
        "610302",
        ["first_aid", "disaster_relief"],
        ["weekend_morning", "weekend_afternoon"],
        "红十字救护员证；驾驶证C1",
        True,
    ),
    (
        "13900000102",
        "刘芳",
        "610302",
        date(1990, 7, 3),
        "028",
        "610302",
        ["first_aid", "donation_promotion"],
        ["weekday_evening"],
        "护士执业证书",
        True,
    ),
    (
        "13900000103",
        "杨帆",
        "610303",
        date(2001, 9, 19),
        "039",
        "610303",
        ["youth_schools", "publicity"],
        ["weekend_afternoon"],
        "摄影、短视频剪辑",
        True,
    ),
    (
        "13900000104",
        "周婷",
        "610303",
        date(1984, 12, 1),
        "042",
        "610303",
        ["boai_home", "elderly_care"],
        ["weekday_afternoon"],
        None,
        True,
    ),
    (
        "13900000105",
        "吴海涛",
        "610323",
        date(1979, 5, 25),
        "051",
        "610323",
        ["disaster_relief", "water_safety"],
        ["weekend_morning", "weekday_evening"],
        "游泳救生员证",
        True,
    ),
    (
        "13900000106",
        "郑雪",
        "610323",
        date(1993, 3, 8),
        "062",
        "610323",
        ["donation_promotion"],
        ["weekday_evening", "weekend_evening"],
        None,
        True,
    ),
    (
        "13900000107",
        "孙立伟",
        "610304",
        date(1988, 11, 30),
        "073",
        "610304",
        ["first_aid"],
        ["weekend_morning"],
        "红十字救护员证",
        True,
    ),
    (
        "13900000108",
        "马晓燕",
        "610305",
        date(1998, 4, 14),
        "084",
        "610305",
        ["publicity", "youth_schools"],
        ["weekend_afternoon"],
        "新媒体运营",
        True,
    ),
    (
        "13900000109",
        "胡博文",
        "610326",
        date(1975, 10, 2),
        "095",
        "610326",
        ["elderly_care", "boai_home"],
        ["weekday_morning"],
        None,
        True,
    ),
    (
        "13900000003",
        None,
        None,
        None,
        None,
        "610302",
        ["first_aid"],
        ["weekend_morning"],
        "急救培训初级",
        False,
    ),
]


def _branch(code: str) -> Branch | None:
    return db.session.scalar(select(Branch).where(Branch.code == code))


def _user(phone: str) -> User | None:
    return db.session.scalar(select(User).where(User.phone == phone))


def _citizen(phone, name, region, born, sequence, branch) -> User | None:
    """A new demo citizen, or (no name given) one another loader already made."""
    if name:
        return demo_citizen(phone, name, region, born, sequence, branch)
    user = _user(phone)
    if user is not None and user.home_branch_id is None:
        user.home_branch_id = branch.id
    return user


def load() -> list[str]:
    reviewer = _user(REVIEWER)
    weibin = _branch("610302")
    if reviewer is None or weibin is None:
        return []
    made = 0
    for phone, name, region, born, seq, code, areas, slots, skills, approve in VOLUNTEERS:
        branch = _branch(code)
        user = _citizen(phone, name, region, born, seq, branch) if branch else None
        if user is None or user.profile is None:
            continue
        if db.session.scalar(
            select(VolunteerApplication.id).where(VolunteerApplication.user_id == user.id)
        ):
            continue
        details = services.Details(
            service_areas=areas,
            availability=slots,
            skills=skills,
            languages="普通话、陕西话",
            emergency_name="王淑兰" if made % 2 else "李志强",
            emergency_relation="母亲" if made % 2 else "配偶",
            emergency_phone=f"1370000{made:04d}",
            health=None,
        )
        application = services.apply(user, branch, details, agreed_code=True)
        application.created_at = application.submitted_at = utcnow() - timedelta(days=40 - made)
        db.session.flush()
        if approve:
            decide(application, reviewer, "approve")
        made += 1
    _team(weibin, reviewer)
    return [f"volunteers: {made} added" if made else "volunteers: already there"]


def _team(weibin: Branch, reviewer: User) -> None:
    team = db.session.scalar(
        select(VolunteerTeam).where(
            VolunteerTeam.branch_id == weibin.id, VolunteerTeam.name == TEAM
        )
    )
    if team is not None:
        return
    team = VolunteerTeam(
        branch_id=weibin.id,
        name=TEAM,
        service_area="first_aid",
        leader_name="陈思远",
        created_by_id=reviewer.id,
    )
    db.session.add(team)
    db.session.flush()
    for phone in ("13900000101", "13900000102", "13900000002"):
        user = _user(phone)
        volunteer = services.volunteer_of(user) if user else None
        if volunteer is not None and volunteer.branch_id == weibin.id:
            db.session.add(VolunteerTeamMember(team_id=team.id, volunteer_id=volunteer.id))
    db.session.flush()
