"""First-aid training services: booking and the waitlist, offers, cutoffs, results and
certificates, verification."""

from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from portal.cards.services import find_by_number, find_by_token
from portal.extensions import db
from portal.notifications.models import Notification
from portal.timeutil import today_local, utcnow
from portal.training import booking as booking_svc
from portal.training import certificates, results, sessions
from portal.training.catalogue import course_by_code, ensure_catalogue
from portal.training.errors import TrainingError
from portal.training.models import (
    CONFIRMED,
    OFFER_LAPSED,
    OFFERED,
    WAITLISTED,
    WITHDRAWN,
    Booking,
    Certificate,
    ClassSession,
)
from tests.conftest import add_profile


@pytest.fixture(autouse=True)
def english(app):
    """Messages are matched against their (English) msgids."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield


@pytest.fixture
def officer(tree, make_user, grant_role):
    return grant_role(make_user(), tree.a, "officer")


@pytest.fixture
def make_session(app, tree, officer):
    ensure_catalogue()
    db.session.commit()

    def make(code="JHY", capacity=2, days=2, first_day=None, cutoff_hours=24, branch=None, **kw):
        plan = sessions.SessionPlan(
            course_id=course_by_code(code).id,
            first_day=first_day or today_local() + timedelta(days=10),
            days=days,
            start=time(9, 0),
            end=time(17, 0),
            venue="渭滨区红十字会培训教室",
            address="宝鸡市渭滨区红旗路15号",
            map_url="https://uri.amap.com/marker?position=107.14,34.36",
            capacity=capacity,
            instructors="王老师、李老师",
            cutoff_hours=cutoff_hours,
            **kw,
        )
        session = sessions.schedule(officer, branch or tree.a, plan)
        db.session.commit()
        return session

    return make


@pytest.fixture
def citizen(make_user):
    def make(name="张晓明"):
        user = make_user()
        add_profile(user, name)
        return user

    return make


def _book(user, session, **kw):
    b = booking_svc.book(user, session.id, **kw)
    db.session.commit()
    return b


def test_seats_then_waitlist_in_order(make_session, citizen):
    session = make_session(capacity=2)
    people = [citizen() for _ in range(4)]
    made = [_book(p, session) for p in people]
    assert [b.status for b in made] == [CONFIRMED, CONFIRMED, WAITLISTED, WAITLISTED]
    assert [booking_svc.waitlist_position(b) for b in made[2:]] == [1, 2]
    assert db.session.get(ClassSession, session.id).seats_taken == 2


def test_one_active_booking_per_person(make_session, citizen):
    session = make_session()
    person = citizen()
    _book(person, session)
    with pytest.raises(TrainingError):
        booking_svc.book(person, session.id)


def test_the_unique_index_refuses_a_second_active_booking(make_session, citizen):
    from sqlalchemy.exc import IntegrityError

    session = make_session()
    person = citizen()
    _book(person, session)
    db.session.add(
        Booking(
            session_id=session.id,
            booked_by_id=person.id,
            person_key=f"u{person.id}",
            attendee_name="x",
            status=WAITLISTED,
            checkin_token="t-dup",
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_overlapping_sessions_are_refused(make_session, citizen):
    day = today_local() + timedelta(days=12)
    first = make_session(first_day=day, days=2)
    second = make_session(first_day=day + timedelta(days=1), days=1, code="PJ-CPR")
    person = citizen()
    _book(person, first)
    with pytest.raises(TrainingError, match="overlaps"):
        booking_svc.book(person, second.id)


def test_cancellation_offers_the_seat_to_the_head_of_the_waitlist(make_session, citizen):
    session = make_session(capacity=1)
    a, b, c = citizen(), citizen(), citizen()
    first, second, third = _book(a, session), _book(b, session), _book(c, session)
    booking_svc.cancel(first)
    db.session.commit()
    db.session.refresh(second)
    db.session.refresh(third)
    assert first.status == WITHDRAWN
    assert second.status == OFFERED and second.offer_expires_at > utcnow()
    assert third.status == WAITLISTED and booking_svc.waitlist_position(third) == 1
    sms = db.session.scalars(select(Notification).where(Notification.kind == "training_offer"))
    assert [n.recipient for n in sms] == [b.phone]
    # the seat stayed taken for the offer: a newcomer joins the queue
    late = _book(citizen(), session)
    assert late.status == WAITLISTED
    booking_svc.accept_offer(second)
    db.session.commit()
    assert second.status == CONFIRMED
    assert db.session.get(ClassSession, session.id).seats_taken == 1


def test_an_expired_offer_passes_on_and_running_twice_changes_nothing(make_session, citizen):
    session = make_session(capacity=1)
    a, b, c = citizen(), citizen(), citizen()
    first, second, third = _book(a, session), _book(b, session), _book(c, session)
    booking_svc.cancel(first)
    db.session.commit()
    later = utcnow() + timedelta(hours=25)
    assert booking_svc.expire_offers(later) == 1
    db.session.commit()
    assert booking_svc.expire_offers(later) == 0
    db.session.commit()
    db.session.refresh(second)
    db.session.refresh(third)
    assert second.status == OFFER_LAPSED
    assert third.status == OFFERED
    with pytest.raises(TrainingError):
        booking_svc.accept_offer(second)
    # the last offer lapses with no one left waiting: the seat returns to the pool
    booking_svc.expire_offers(utcnow() + timedelta(days=3))
    db.session.commit()
    assert db.session.get(ClassSession, session.id).seats_taken == 0


def test_cancel_after_the_cutoff_is_refused_with_a_clear_message(make_session, citizen):
    session = make_session(cutoff_hours=24)
    person = citizen()
    b = _book(person, session)
    after = session.booking_cutoff + timedelta(minutes=1)
    with pytest.raises(TrainingError) as refused:
        booking_svc.cancel(b, now=after)
    assert "call the branch" in str(refused.value)
    assert db.session.get(Booking, b.id).status == CONFIRMED


def test_booking_after_the_cutoff_is_refused(make_session, citizen):
    session = make_session()
    with pytest.raises(TrainingError, match="closed"):
        booking_svc.book(citizen(), session.id, now=session.booking_cutoff)


def test_restricted_session_needs_its_code(make_session, citizen):
    session = make_session(restriction="organisation", restriction_note="宝鸡金台精密机械")
    with pytest.raises(TrainingError):
        booking_svc.book(citizen(), session.id)
    assert _book(citizen(), session, access_code=session.access_code.lower()).status == CONFIRMED


def test_the_instructor_course_needs_a_valid_first_aider_certificate(make_session, citizen):
    session = make_session(code="SZ", days=5)
    with pytest.raises(TrainingError, match="certificate"):
        booking_svc.book(citizen(), session.id)


def test_group_booking_names_seats_all_or_nothing(make_session, citizen, make_user):
    session = make_session(capacity=3)
    contact = make_user()
    seats = booking_svc.parse_seats("王芳, 13800000001\n李强，13800000002\n")
    made = booking_svc.group_book(contact, session.id, seats)
    db.session.commit()
    assert [b.attendee_name for b in made] == ["王芳", "李强"]
    assert all(b.status == CONFIRMED and b.booked_by_id == contact.id for b in made)
    assert made[0].attendee_phone == "13800000001"
    too_many = booking_svc.parse_seats("赵一 13800000003\n钱二 13800000004")
    with pytest.raises(TrainingError, match="Only 1"):
        booking_svc.group_book(contact, session.id, too_many)
    db.session.rollback()
    assert db.session.get(ClassSession, session.id).seats_taken == 2
    with pytest.raises(TrainingError, match="already"):
        booking_svc.group_book(contact, session.id, booking_svc.parse_seats("王芳 13800000001"))


def _pass(session, b, officer, theory=92, practical=True):
    now = session.days[-1].ends_at
    for day in session.days:
        results.mark_roster(officer, session, day, {b.id}, now=now)
    cert = results.record_result(officer, b, theory, practical, now=now)
    db.session.commit()
    return cert


def test_a_pass_of_a_certifying_course_issues_a_numbered_certificate(
    make_session, citizen, officer, tree
):
    session = make_session()
    person = citizen("王建国")
    cert = _pass(session, _book(person, session), officer)
    code = tree.a.code or tree.a.id
    assert cert.number.startswith(f"JHY-{code}-") and cert.number.endswith("-000001")
    assert cert.holder_name == "王建国"
    assert cert.expires_on == certificates.add_months(cert.issued_on, 36)
    other = _pass(session, _book(citizen(), session), officer)
    assert other.number.endswith("-000002")


def test_no_certificate_on_a_fail_or_an_awareness_course(make_session, citizen, officer):
    session = make_session()
    failed = _book(citizen(), session)
    assert _pass(session, failed, officer, theory=60) is None
    assert failed.outcome == "failed"
    awareness = make_session(code="PJ-CPR", days=1, first_day=today_local() + timedelta(days=20))
    b = _book(citizen(), awareness)
    assert _pass(awareness, b, officer) is None
    assert b.outcome == "attended"
    assert db.session.scalars(select(Certificate)).all() == []


def test_results_wait_for_the_last_day(make_session, citizen, officer):
    session = make_session()
    b = _book(citizen(), session)
    with pytest.raises(TrainingError):
        results.record_result(officer, b, 90, True)


def test_verification_shows_valid_expired_and_revoked(app, make_session, citizen, officer):
    session = make_session()
    cert = _pass(session, _book(citizen("王建国"), session), officer)
    with app.test_request_context():
        card = find_by_token(cert.token)
        assert card.is_valid and card.masked_name == "王*国"
        assert find_by_number(cert.number, "王").number == cert.number
        assert find_by_number(cert.number, "李") is None
        cert.expires_on = date(2020, 1, 1)
        assert not find_by_token(cert.token).is_valid
        assert certificates.status(cert) == "expired"
        cert.expires_on = today_local() + timedelta(days=300)
        certificates.revoke(officer, cert, "证件信息有误")
        db.session.commit()
        assert certificates.status(cert) == "revoked"
        assert not find_by_token(cert.token).is_valid
        with pytest.raises(TrainingError):
            certificates.revoke(officer, cert, "again")


def test_reminder_60_days_before_expiry_once_with_a_refresher(app, make_session, citizen, officer):
    session = make_session()
    person = citizen()
    cert = _pass(session, _book(person, session), officer)
    cert.expires_on = today_local() + timedelta(days=50)
    db.session.commit()
    refresher = make_session(first_day=today_local() + timedelta(days=5))
    with app.test_request_context():
        assert certificates.send_reminders() == 1
        db.session.commit()
        assert certificates.send_reminders() == 0
    sms = db.session.scalar(
        select(Notification).where(Notification.kind == "training_certificate_expiring")
    )
    assert sms.recipient == person.phone and f"/training/sessions/{refresher.id}" in sms.body


def test_cancelling_a_session_tells_everyone_and_frees_the_seats(make_session, citizen, officer):
    session = make_session(capacity=1)
    a, b = _book(citizen(), session), _book(citizen(), session)
    assert sessions.cancel_session(officer, session, "场地临时维修") == 2
    db.session.commit()
    assert session.seats_taken == 0
    assert {x.status for x in (a, b)} == {"session_cancelled"}
    told = db.session.scalars(
        select(Notification).where(Notification.kind == "training_session_cancelled")
    ).all()
    assert len(told) == 2


def test_indicator_counts_first_aider_certificates(make_session, citizen, officer, tree):
    from portal.admin.indicators import get_indicator, total, year_windows
    from portal.branches.scope import ids_under

    session = make_session()
    _pass(session, _book(citizen(), session), officer)
    _, start, end = year_windows(today_local().year)
    ind = get_indicator("first_aiders")
    assert ind.live
    assert total(ind, ids_under([tree.c.path]), start, end) == 1
    assert total(ind, ids_under([tree.b.path]), start, end) == 0


def test_cli_expires_offers_once_and_reminds(app, make_session, citizen):
    session = make_session(capacity=1)
    a, b, c = citizen(), citizen(), citizen()
    first, second, third = _book(a, session), _book(b, session), _book(c, session)
    booking_svc.cancel(first)
    db.session.commit()
    db.session.get(Booking, second.id).offer_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    runner = app.test_cli_runner()
    assert "1 offers lapsed" in runner.invoke(args=["training", "expire-offers"]).output
    assert "0 offers lapsed" in runner.invoke(args=["training", "expire-offers"]).output
    db.session.expire_all()
    assert db.session.get(Booking, third.id).status == OFFERED
    assert "0 expiry reminders" in runner.invoke(args=["training", "remind"]).output


def test_more_seats_go_to_the_waitlist_first_and_fewer_than_held_is_refused(
    make_session, citizen, officer
):
    session = make_session(capacity=1)
    a, b = _book(citizen(), session), _book(citizen(), session)

    def change(capacity):
        return sessions.SessionChanges(
            venue=session.venue,
            address=session.address,
            map_url=session.map_url,
            instructors=session.instructors,
            capacity=capacity,
        )

    sessions.change_session(officer, session, change(3))
    db.session.commit()
    db.session.refresh(b)
    assert b.status == OFFERED
    assert session.seats_taken == 2 and session.capacity == 3
    with pytest.raises(TrainingError, match="2 seats are held"):
        sessions.change_session(officer, session, change(1))
    db.session.rollback()
    assert a.status == CONFIRMED


def test_a_moved_branch_takes_its_sessions_to_the_new_area(
    app, make_session, tree, make_user, grant_role
):
    from portal.branches.scope import forget_grants
    from portal.branches.services import move_branch

    session = make_session(branch=tree.g)  # 经二路社区 under 渭滨区

    def ids(area):
        return [s.id for s in sessions.listing(area, None, None, False, 1).sessions]

    assert ids(tree.a) == [session.id]
    admin = grant_role(make_user(), tree.n, "admin")
    forget_grants()
    move_branch(tree.g, tree.b, actor=admin)
    db.session.commit()
    assert ids(tree.a) == []
    assert ids(tree.b) == [session.id]
    assert session.branch_path == tree.g.path
