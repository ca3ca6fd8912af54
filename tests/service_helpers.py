"""Builders for the volunteer service tests: a registered volunteer, a published
activity with shifts."""

from datetime import timedelta

from portal.accounts.models import User
from portal.cards.services import new_token
from portal.extensions import db
from portal.timeutil import utcnow
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
