"""Two hundred people book thirty seats at the same moment: exactly thirty confirmed,
170 waitlisted numbered 1..170 in the order they got in line, no one twice, the seat
count at capacity. On SQLite (writers serialised on the file) and on PostgreSQL (real
concurrent transactions: the row lock of the conditional UPDATE orders them)."""

import threading
from datetime import time, timedelta

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.extensions import db
from portal.timeutil import today_local
from portal.training import booking as booking_svc
from portal.training import sessions
from portal.training.catalogue import course_by_code, ensure_catalogue
from portal.training.models import CONFIRMED, WAITLISTED, Booking, ClassSession
from tests.conftest import add_profile

PEOPLE, SEATS = 200, 30


def test_two_hundred_attempts_for_thirty_seats(app, tree, make_user, grant_role):
    officer = grant_role(make_user(), tree.a, "officer")
    ensure_catalogue()
    plan = sessions.SessionPlan(
        course_id=course_by_code("PJ-CPR").id,
        first_day=today_local() + timedelta(days=7),
        days=1,
        start=time(14, 0),
        end=time(18, 0),
        venue="宝鸡市急救中心培训室",
        address="宝鸡市渭滨区经二路",
        map_url=None,
        capacity=SEATS,
        instructors="赵老师",
        cutoff_hours=12,
    )
    session_id = sessions.schedule(officer, tree.a, plan).id
    user_ids = []
    for i in range(PEOPLE):
        user = make_user()
        add_profile(user, f"李{i}华")
        user_ids.append(user.id)
    db.session.commit()

    barrier = threading.Barrier(PEOPLE)
    errors: list[BaseException] = []

    def attempt(user_id: int) -> None:
        try:
            barrier.wait(timeout=60)  # before any connection is taken (see the pool)
            with app.app_context():
                user = db.session.get(User, user_id)
                booking_svc.book(user, session_id)
                db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(u,)) for u in user_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    db.session.expire_all()
    rows = db.session.execute(
        select(Booking.id, Booking.person_key, Booking.status, Booking.waitlist_no).where(
            Booking.session_id == session_id
        )
    ).all()
    assert len(rows) == PEOPLE
    assert len({r.person_key for r in rows}) == PEOPLE  # no one twice
    confirmed = [r for r in rows if r.status == CONFIRMED]
    waiting = sorted((r for r in rows if r.status == WAITLISTED), key=lambda r: r.waitlist_no)
    assert len(confirmed) == SEATS and len(waiting) == PEOPLE - SEATS
    assert [r.waitlist_no for r in waiting] == list(range(1, PEOPLE - SEATS + 1))
    # strict order: the queue follows arrival (row ids), and everyone seated got in first
    assert [r.id for r in waiting] == sorted(r.id for r in waiting)
    assert max(r.id for r in confirmed) < min(r.id for r in waiting)
    assert db.session.get(ClassSession, session_id).seats_taken == SEATS
    seated = db.session.scalar(
        select(func.count())
        .select_from(Booking)
        .where(Booking.session_id == session_id, Booking.status == CONFIRMED)
    )
    assert seated == SEATS
