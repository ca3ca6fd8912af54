"""Demo volunteer service in Baoji: published activities in the coming days (博爱家园
elderly visits in 渭滨区, first aid at 岐山 周公庙, a night first-aid post at 宝鸡站,
campus first aid at 宝鸡文理学院, blood donation publicity in 陈仓区), and a finished
water-safety activity on the 渭河 whose hours are confirmed, so 李建国 (the demo
citizen, a volunteer) has a service record, a star's progress, an upcoming shift and a
service certificate.
An offline hours claim waits in 渭滨区's inbox. Idempotent: skipped once any activity
exists; skipped quietly without the demo branches and volunteers."""

from datetime import date, time, timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.branches.models import Branch
from portal.extensions import db
from portal.timeutil import local_to_utc, today_local, utcnow
from portal.training.catalogue import ensure_catalogue
from portal.volunteering import activities, certificates, claims, hours
from portal.volunteering.models import Volunteer
from portal.volunteering.service_models import (
    FINISHED,
    HOURS_CONFIRMED,
    PUBLISHED,
    ServiceHours,
    ShiftSignup,
    VolunteerActivity,
    VolunteerShift,
)
from portal.volunteering.signups import sign_up

ORGANISER = "13800000005"  # 渭滨区 officer
CITIZEN = "13900000002"  # 李建国

# (branch code, title, area, address, description, contact, [(days ahead, start, end, seats)])
ACTIVITIES = [
    (
        "610302",
        "博爱家园·经二路社区敬老助老服务",
        "boai_home",
        "宝鸡市渭滨区经二路街道办事处",
        "走访社区独居老人，测量血压、讲解防跌倒和用药安全知识，帮助老人使用智能手机挂号。",
        ("王丽华", "0917-3245678"),
        [(3, time(9, 0), time(11, 30), 12), (3, time(14, 0), time(16, 30), 12)],
    ),
    (
        "610323",
        "周公庙庙会应急救护服务站",
        "first_aid",
        "宝鸡市岐山县凤鸣镇周公庙景区",
        "庙会期间在景区入口设立红十字应急救护点，为游客提供止血包扎、中暑处置等救护服务。"
        "须持红十字救护员证。",
        ("赵建军", "0917-8212560"),
        [(5, time(8, 30), time(12, 30), 8), (5, time(12, 30), time(17, 0), 8)],
    ),
    (
        "610302",
        "宝鸡站春运夜间应急救护值守",
        "first_aid",
        "宝鸡市渭滨区宝鸡火车站候车大厅",
        "春运高峰夜间在候车大厅红十字救护站值守，协助处置旅客突发疾病。夜班跨零点。",
        ("王丽华", "0917-3261120"),
        [(6, time(22, 0), time(2, 0), 4)],
    ),
    (
        "610303",
        "应急救护知识进校园（宝鸡文理学院）",
        "youth_schools",
        "宝鸡市金台区高新大道1号宝鸡文理学院",
        "协助培训师为新生讲授心肺复苏和AED使用，维持练习秩序，发放宣传资料。",
        ("周婷", "0917-3512230"),
        [(8, time(14, 30), time(17, 30), 30)],
    ),
    (
        "610304",
        "无偿献血宣传（虢镇东大街）",
        "donation_promotion",
        "宝鸡市陈仓区虢镇东大街21号",
        "在献血车旁讲解无偿献血和造血干细胞捐献知识，引导市民填写登记表。",
        ("孙立伟", "0917-6212340"),
        [(10, time(9, 0), time(12, 0), 10)],
    ),
]


# Activities only certified first-aiders may sign up for (李建国 holds a 救护员
# certificate from the training demo; other demo volunteers are told where to get one).
NEEDS_FIRST_AIDER = {"周公庙庙会应急救护服务站", "宝鸡站春运夜间应急救护值守"}


def _branch(code: str) -> Branch | None:
    return db.session.scalar(select(Branch).where(Branch.code == code))


def _new(branch, title, area, address, text, contact, shift_specs, status=PUBLISHED):
    today = today_local()
    first_day = today + timedelta(days=min(s[0] for s in shift_specs))
    activity = VolunteerActivity(
        branch_id=branch.id,
        title=title,
        description=text,
        service_area=area,
        address=address,
        signup_deadline=local_to_utc(first_day - timedelta(days=1), time(20, 0)),
        contact_name=contact[0],
        contact_phone=contact[1],
        status=status,
    )
    db.session.add(activity)
    db.session.flush()
    for days, start, end, seats in shift_specs:
        starts, ends = activities.shift_times(today + timedelta(days=days), start, end)
        db.session.add(
            VolunteerShift(activity_id=activity.id, starts_at=starts, ends_at=ends, capacity=seats)
        )
    db.session.flush()
    activities._refresh_span(activity)
    return activity


def _volunteer(phone: str) -> Volunteer | None:
    return db.session.scalar(
        select(Volunteer).join(User, User.id == Volunteer.user_id).where(User.phone == phone)
    )


def load() -> list[str]:
    if db.session.scalar(select(VolunteerActivity.id).limit(1)) is not None:
        return []
    weibin = _branch("610302")
    organiser = db.session.scalar(select(User).where(User.phone == ORGANISER))
    citizen = _volunteer(CITIZEN)
    if weibin is None or organiser is None or citizen is None:
        return []
    first_aider = next(c for c in ensure_catalogue() if c.code == "JHY")
    made = []
    for code, title, area, address, text, contact, shifts in ACTIVITIES:
        branch = _branch(code)
        if branch is not None:
            made.append(_new(branch, title, area, address, text, contact, shifts))
            if title in NEEDS_FIRST_AIDER:
                made[-1].required_course_id = first_aider.id
    # 李建国 signs up for the first 博爱家园 shift.
    first = made[0].shifts[0]
    sign_up(citizen, first)
    _past_activity(weibin, organiser)
    today = today_local()
    certificates.issue(citizen, date(today.year, 1, 1), today)
    claims.claim_hours(
        citizen,
        today_local() - timedelta(days=12),
        180,
        "disaster_relief",
        "协助社区转移安置暴雨受灾群众，搬运和发放救灾物资",
        "宝鸡市渭滨区神农镇",
        "神农镇民政办 刘主任 13709171234",
    )
    return [
        f"Volunteer service: {len(made) + 1} activities, 1 hours claim waiting (渭滨区), "
        "a service certificate for 李建国"
    ]


def _past_activity(weibin: Branch, organiser: User) -> None:
    """A finished water-safety activity ten days ago on the 渭河, with every Weibin
    demo volunteer's attendance confirmed."""
    activity = _new(
        weibin,
        "渭河公园防溺水安全宣传",
        "water_safety",
        "宝鸡市渭滨区渭河公园（英达桥段）",
        "暑期在渭河岸边向游客和学生宣传防溺水知识，劝阻野泳。",
        ("王丽华", "0917-3261120"),
        [(-10, time(9, 0), time(12, 0), 15)],
        status=FINISHED,
    )
    shift = activity.shifts[0]
    volunteers = db.session.scalars(
        select(Volunteer).where(Volunteer.branch_id == weibin.id).order_by(Volunteer.id)
    ).all()
    for i, volunteer in enumerate(volunteers):
        signup = ShiftSignup(
            shift_id=shift.id,
            volunteer_id=volunteer.id,
            checked_in_at=shift.starts_at - timedelta(minutes=10),
            checked_out_at=shift.ends_at + timedelta(minutes=5 * i),
        )
        db.session.add(signup)
        shift.seats_taken += 1
        db.session.flush()
        entry = hours.record_stay(signup)
        entry.status = HOURS_CONFIRMED
        entry.confirmed_at = utcnow()
        entry.confirmed_by_id = organiser.id
        hours.credit(volunteer, entry.started_at, entry.service_area, entry.minutes)
    # 李建国 has served before the portal existed: 96 confirmed hours on record.
    citizen = _volunteer(CITIZEN)
    earlier = local_to_utc(date(today_local().year, 1, 6), time(9, 0))
    db.session.add(
        ServiceHours(
            volunteer_id=citizen.id,
            branch_id=citizen.branch_id,
            service_area="first_aid",
            title="应急救护培训助教（本年度累计）",
            started_at=earlier,
            minutes=96 * 60,
            status=HOURS_CONFIRMED,
            confirmed_at=utcnow(),
            confirmed_by_id=organiser.id,
        )
    )
    hours.credit(citizen, earlier, "first_aid", 96 * 60)
    db.session.flush()
