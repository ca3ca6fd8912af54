"""Builders for the volunteer service tests: a registered volunteer, a published
activity with shifts."""

from datetime import time, timedelta

from portal.accounts.models import User
from portal.cards.services import new_token
from portal.extensions import db
from portal.timeutil import today_local, utcnow
from portal.training import booking, results, sessions
from portal.training.catalogue import course_by_code, ensure_catalogue
from portal.training.models import Certificate
from portal.volunteering import activities
from portal.volunteering.models import Volunteer
from portal.volunteering.service_models import PUBLISHED, VolunteerActivity, VolunteerShift
from tests.test_volunteering import add_profile

_SERIAL = iter(range(1, 10_000_000))


def make_volunteer(user: User, branch, name: str = "张晓明", age: int = 30) -> Volunteer:
    add_profile(user, name=name, age=age)
    volunteer = Volunteer(
        user_id=user.id,
        branch_id=branch.id,
        number=f"ZY-T-{next(_SERIAL):06d}",
        card_token=new_token(),
        service_areas="first_aid",
        availability="weekend_morning",
    )
    volunteer.emergency_contact = {"name": "张建国", "relation": "父亲", "phone": "13800138000"}
    db.session.add(volunteer)
    db.session.commit()
    return volunteer


def make_activity(branch, shifts=((2, 3, 20),), status=PUBLISHED, **fields) -> VolunteerActivity:
    """An activity of `branch`; each shift is (starts in hours from now, length in
    hours, capacity)."""
    now = utcnow().replace(microsecond=0)
    activity = VolunteerActivity(
        branch_id=branch.id,
        title=fields.pop("title", "博爱家园敬老助老服务"),
        description="陪伴社区老人，测量血压，讲解防跌倒知识。",
        service_area=fields.pop("service_area", "elderly_care"),
        address="宝鸡市渭滨区经二路街道办事处",
        signup_deadline=fields.pop("signup_deadline", now + timedelta(hours=1)),
        contact_name="王老师",
        contact_phone="0917-3245678",
        status=status,
        **fields,
    )
    db.session.add(activity)
    db.session.flush()
    for start, length, capacity in shifts:
        starts = now + timedelta(hours=start)
        db.session.add(
            VolunteerShift(
                activity_id=activity.id,
                starts_at=starts,
                ends_at=starts + timedelta(hours=length),
                capacity=capacity,
            )
        )
    db.session.flush()
    activities._refresh_span(activity)
    db.session.commit()
    return activity


def certify(officer, user: User, branch, code: str = "JHY") -> Certificate:
    """`user` passes a class of course `code` at `branch`, as the training pages would
    record it: booked, present every day, passed; the certificate it issued."""
    ensure_catalogue()
    plan = sessions.SessionPlan(
        course_id=course_by_code(code).id,
        first_day=today_local() + timedelta(days=3),
        days=1,
        start=time(9, 0),
        end=time(17, 0),
        venue="渭滨区红十字会培训教室",
        address="宝鸡市渭滨区红旗路15号",
        map_url="https://uri.amap.com/marker?position=107.14,34.36",
        capacity=30,
        instructors="王老师",
        cutoff_hours=24,
    )
    session = sessions.schedule(officer, branch, plan)
    seat = booking.book(user, session.id)
    ended = session.days[-1].ends_at
    results.mark_roster(officer, session, session.days[0], {seat.id}, now=ended)
    certificate = results.record_result(officer, seat, 92, True, now=ended)
    db.session.commit()
    return certificate
