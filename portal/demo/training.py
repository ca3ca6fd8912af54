"""Demo first-aid classes in Baoji at real venues: upcoming sessions of every course
(one of them full, with a waitlist), a restricted class for a company's staff, and a
finished 救护员 class whose demo citizen 李建国 passed (so "My training" shows a
certificate to verify). Idempotent: sessions are found by course, branch and venue;
people already booked are left alone. Skips quietly without the demo branches/staff."""

from datetime import time, timedelta
from urllib.parse import quote

from sqlalchemy import select

from portal.accounts.models import User
from portal.demo.accounts import demo_citizen
from portal.demo.workbench import _by_code, _reviewer
from portal.extensions import db
from portal.timeutil import local_to_utc, today_local, utcnow
from portal.training import booking as booking_svc
from portal.training import results, sessions
from portal.training.catalogue import course_by_code, ensure_catalogue
from portal.training.errors import TrainingError
from portal.training.models import Booking, ClassDay, ClassSession

# (course, branch code, days from today, days, start, end, venue, address, seats,
#  instructors, restriction, for whom)
# fmt: off
UPCOMING = [
    ("JHY", "610302", 9, 2, time(8, 30), time(17, 0), "渭滨区红十字会培训教室", "宝鸡市渭滨区红旗路15号", 40, "王晓红、赵刚", "public", None),
    ("PJ-CPR", "610302", 4, 1, time(14, 0), time(18, 0), "宝鸡市中心医院急救培训中心", "宝鸡市渭滨区姜谭路8号", 3, "宝鸡市中心医院急诊科 刘医生", "public", None),
    ("PJ-CPR", "610303", 6, 1, time(9, 0), time(12, 30), "宝鸡文理学院高新校区体育馆", "宝鸡市金台区高新大道1号", 120, "陈静、马超", "public", None),
    ("PJ-DROWN", "610304", 12, 1, time(9, 0), time(12, 0), "陈仓区虢镇中学报告厅", "宝鸡市陈仓区虢镇东大街21号", 200, "孙磊", "schools", "陈仓区中小学"),
    ("PJ-ELDER", "610323", 8, 1, time(9, 0), time(12, 0), "岐山县凤鸣镇社区活动中心", "宝鸡市岐山县凤鸣镇西大街12号", 50, "周敏", "public", None),
    ("JHY", "610305", 15, 2, time(8, 30), time(17, 0), "凤翔区红十字会培训室", "宝鸡市凤翔区东大街58号", 36, "郭红、杨帆", "public", None),
    ("JHY", "610303", 20, 2, time(8, 30), time(17, 0), "宝鸡金台精密机械有限公司职工培训中心", "宝鸡市金台区金台大道66号", 30, "王晓红", "organisation", "宝鸡金台精密机械有限公司"),
    ("PJ-CPR", "610326", 10, 1, time(14, 30), time(18, 0), "眉县首善镇文化广场会议室", "宝鸡市眉县首善镇平阳街30号", 60, "李娜", "public", None),
    ("SZ", "610300", 30, 5, time(8, 30), time(17, 30), "宝鸡市红十字会应急救护培训基地", "宝鸡市渭滨区经二路88号", 24, "省红十字会师资组", "public", None),
]
# fmt: on

# People who book the small CPR class (3 seats) so that it is full with a waitlist.
BOOKERS = [
    ("13900000301", "田丽娟", "610302", (1985, 4, 2), "131"),
    ("13900000302", "曹志刚", "610302", (1979, 9, 9), "142"),
    ("13900000303", "冯雪", "610302", (1995, 1, 21), "153"),
    ("13900000304", "蒋涛", "610303", (1988, 6, 6), "164"),
    ("13900000305", "韩梅", "610303", (1991, 12, 12), "175"),
]
PASSED_CITIZEN = "13900000002"  # 李建国 (accounts loader)


def _map(venue: str) -> str:
    return "https://uri.amap.com/search?keyword=" + quote(venue)


def _existing(course, branch, venue) -> ClassSession | None:
    return db.session.scalar(
        select(ClassSession).where(
            ClassSession.course_id == course.id,
            ClassSession.branch_id == branch.id,
            ClassSession.venue == venue,
            ClassSession.status == "scheduled",
            ClassSession.starts_at > utcnow(),
        )
    )


def _upcoming() -> int:
    made = 0
    for code, bcode, ahead, days, start, end, venue, address, seats, who, restr, note in UPCOMING:
        branch, course = _by_code(bcode), course_by_code(code)
        actor = branch and (_reviewer(branch) or (branch.parent and _reviewer(branch.parent)))
        if branch is None or actor is None or _existing(course, branch, venue):
            continue
        plan = sessions.SessionPlan(
            course_id=course.id,
            first_day=today_local() + timedelta(days=ahead),
            days=days,
            start=start,
            end=end,
            venue=venue,
            address=address,
            map_url=_map(venue),
            capacity=seats,
            instructors=who,
            cutoff_hours=24,
            restriction=restr,
            restriction_note=note,
        )
        sessions.schedule(actor, branch, plan)
        made += 1
    db.session.flush()
    return made


def _fill_small_class() -> None:
    branch = _by_code("610302")
    course = course_by_code("PJ-CPR")
    session = branch and _existing(course, branch, "宝鸡市中心医院急救培训中心")
    if session is None:
        return
    from datetime import date

    for phone, name, region, born, seq in BOOKERS:
        user = demo_citizen(phone, name, region, date(*born), seq, branch)
        db.session.flush()
        db.session.refresh(user)
        try:
            booking_svc.book(user, session.id)
        except TrainingError:
            continue
    db.session.flush()


def _finished_class() -> None:
    """A 救护员 class two months ago at 扶风县, which 李建国 passed."""
    user = db.session.scalar(select(User).where(User.phone == PASSED_CITIZEN))
    branch = _by_code("610324")
    actor = branch and (_reviewer(branch) or (branch.parent and _reviewer(branch.parent)))
    if user is None or user.profile is None or actor is None:
        return
    if db.session.scalar(select(Booking.id).where(Booking.person_key == f"u{user.id}")):
        return
    course = course_by_code("JHY")
    first = today_local() - timedelta(days=60)
    session = ClassSession(
        course_id=course.id,
        branch_id=branch.id,
        branch_path=branch.path,
        capacity=30,
        seats_taken=0,
        waitlist_last=0,
        venue="扶风县红十字会培训教室",
        address="宝鸡市扶风县城关镇南大街9号",
        map_url=_map("扶风县红十字会"),
        instructors="王晓红",
        restriction="public",
        status="scheduled",
        created_by_id=actor.id,
    )
    for n in range(2):
        day = first + timedelta(days=n)
        session.days.append(
            ClassDay(
                day_no=n + 1,
                starts_at=local_to_utc(day, time(8, 30)),
                ends_at=local_to_utc(day, time(17, 0)),
            )
        )
    session.starts_at, session.ends_at = session.days[0].starts_at, session.days[-1].ends_at
    session.booking_cutoff = session.starts_at - timedelta(hours=24)
    db.session.add(session)
    db.session.flush()
    # Booked before the class (as it would have been): placed without the cutoff check.
    booking = booking_svc._place(
        session,
        user_id=user.id,
        booked_by_id=user.id,
        person_key=booking_svc.user_key(user.id),
        attendee_name=user.profile.full_name,
    )
    end = session.days[-1].ends_at
    for day in session.days:
        results.mark_roster(actor, session, day, {booking.id}, now=end)
    results.record_result(actor, booking, 91, True, now=end)
    db.session.flush()


def load() -> list[str]:
    ensure_catalogue()
    made = _upcoming()
    _fill_small_class()
    _finished_class()
    db.session.flush()
    return [f"training {made} new demo first-aid classes"] if made else []
