"""First-aid pages over HTTP: listing, booking, waitlist, cancel refused after the
cutoff, the certificate and its public verification (no phone, no ID number), and staff
pages in scope only (a sibling branch's class answers 404)."""

from datetime import time, timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.timeutil import today_local, utcnow
from portal.training import booking as booking_svc
from portal.training import results, sessions
from portal.training.catalogue import course_by_code, ensure_catalogue
from portal.training.models import Booking, Certificate, ClassSession
from tests.conftest import add_profile, english_client


@pytest.fixture
def app_overrides():
    return {"WTF_CSRF_ENABLED": False}


@pytest.fixture
def world(staff_world):
    ensure_catalogue()
    db.session.commit()
    return staff_world


def _session(world, branch=None, code="JHY", capacity=1, days=1, ahead=10):
    plan = sessions.SessionPlan(
        course_id=course_by_code(code).id,
        first_day=today_local() + timedelta(days=ahead),
        days=days,
        start=time(9, 0),
        end=time(17, 0),
        venue="金台区红十字会会议室",
        address="宝鸡市金台区东风路36号",
        map_url=None,
        capacity=capacity,
        instructors="王老师",
        cutoff_hours=24,
    )
    s = sessions.schedule(world.users["officer"], branch or world.city, plan)
    db.session.commit()
    return s


def _citizen(make_user, login, app, name="王建国"):
    user = make_user(home_branch_id=None)
    add_profile(user, name)
    client = english_client(app)
    login(client, user)
    return user, client


def test_listing_filters_by_area_and_shows_seats(app, world, client):
    here = _session(world, capacity=5)
    _session(world, branch=world.branches["sibling"], ahead=11)
    page = english_client(app).get(f"/training/?area={world.county.id}").get_data(as_text=True)
    assert "No classes match" in page
    page = english_client(app).get(f"/training/?area={world.city.id}").get_data(as_text=True)
    assert f"/training/sessions/{here.id}" in page and "5 seats left" in page
    assert page.count("/training/sessions/") == 1
    everywhere = english_client(app).get("/training/?area=all").get_data(as_text=True)
    assert everywhere.count("/training/sessions/") == 2
    assert "<script" not in everywhere


def test_book_then_waitlist_then_cancel_promotes(app, world, make_user, login):
    s = _session(world, capacity=1)
    first, c1 = _citizen(make_user, login, app)
    second, c2 = _citizen(make_user, login, app, "李华")
    r = c1.post(f"/training/sessions/{s.id}/book", follow_redirects=True)
    assert "Your seat is booked" in r.get_data(as_text=True)
    r = c2.post(f"/training/sessions/{s.id}/book", follow_redirects=True)
    body = r.get_data(as_text=True)
    assert "waitlist" in body and "number 1 in the queue" in body
    mine = db.session.scalar(select(Booking).where(Booking.user_id == first.id))
    r = c1.post(f"/training/bookings/{mine.id}/cancel", follow_redirects=True)
    assert "cancelled" in r.get_data(as_text=True)
    theirs = db.session.scalar(select(Booking).where(Booking.user_id == second.id))
    assert theirs.status == "offered"
    r = c2.post(f"/training/bookings/{theirs.id}/accept", follow_redirects=True)
    assert "The seat is yours" in r.get_data(as_text=True)
    # someone else's booking is not found
    assert c1.get(f"/training/bookings/{theirs.id}").status_code == 404


def test_cancel_after_the_cutoff_shows_the_reason(app, world, make_user, login):
    s = _session(world, capacity=3)
    user, client = _citizen(make_user, login, app)
    client.post(f"/training/sessions/{s.id}/book")
    b = db.session.scalar(select(Booking).where(Booking.user_id == user.id))
    db.session.get(ClassSession, s.id).booking_cutoff = utcnow() - timedelta(minutes=1)
    db.session.commit()
    r = client.post(f"/training/bookings/{b.id}/cancel")
    assert r.status_code == 200
    assert "cancelled online only until" in r.get_data(as_text=True)
    assert db.session.get(Booking, b.id).status == "confirmed"


def test_certificate_page_and_public_verification(app, world, make_user, login):
    s = _session(world, capacity=3)
    user, client = _citizen(make_user, login, app)
    user.phone = "13912345678"
    db.session.commit()
    b = booking_svc.book(user, s.id)
    db.session.commit()
    end = s.days[-1].ends_at
    officer = world.users["officer"]
    results.mark_roster(officer, s, s.days[0], {b.id}, now=end)
    results.record_result(officer, b, 88, True, now=end)
    db.session.commit()
    cert = db.session.scalar(select(Certificate))
    page = client.get(f"/training/certificates/{cert.id}").get_data(as_text=True)
    assert cert.number in page and "<svg" in page and "王建国" in page
    public = english_client(app).get(f"/verify/{cert.token}")
    text = public.get_data(as_text=True)
    assert public.status_code == 200 and "王*国" in text and "Valid" in text
    assert "王建国" not in text and "13912345678" not in text and "5678" not in text
    assert "6****************X" not in text
    # a stranger cannot open the holder's certificate page
    _, stranger = _citizen(make_user, login, app, "赵六")
    assert stranger.get(f"/training/certificates/{cert.id}").status_code == 404


def test_staff_pages_in_scope_only(app, world, login):
    own = _session(world)
    sibling = _session(world, branch=world.branches["sibling"], ahead=12)
    client = english_client(app)
    login(client, world.users["officer"])
    assert client.get(f"/admin/training/sessions/{own.id}").status_code == 200
    assert client.get(f"/admin/training/sessions/{sibling.id}").status_code == 404
    assert client.get(f"/admin/training/sessions/{sibling.id}/export").status_code == 404
    r = client.post(f"/admin/training/sessions/{sibling.id}/cancel", data={"reason": "x"})
    assert r.status_code == 404
    assert db.session.get(ClassSession, sibling.id).status == "scheduled"
    citizen = english_client(app)
    login(citizen, world.users["citizen"])
    assert citizen.get("/admin/training/").status_code == 403


def test_staff_schedule_attendance_results_export_revoke(app, world, make_user, login):
    client = english_client(app)
    officer = world.users["officer"]
    login(client, officer)
    day = (today_local() + timedelta(days=14)).isoformat()
    form = {
        "branch": str(world.county.id),
        "course": str(course_by_code("JHY").id),
        "first_day": day,
        "days": "2",
        "start": "08:30",
        "end": "17:00",
        "venue": "陈仓区红十字会",
        "address": "宝鸡市陈仓区虢镇东大街21号",
        "map_url": "",
        "capacity": "abc",
        "instructors": "孙老师",
        "cutoff_hours": "24",
        "restriction": "public",
        "restriction_note": "",
    }
    r = client.post("/admin/training/new", data=form)
    assert r.status_code == 200 and "陈仓区红十字会" in r.get_data(as_text=True)
    assert db.session.scalar(select(ClassSession.id)) is None
    form["capacity"] = "20"
    r = client.post("/admin/training/new", data=form)
    assert r.status_code == 302
    s = db.session.scalar(select(ClassSession))
    assert len(s.days) == 2
    user = make_user()
    add_profile(user, "周桂兰")
    b = booking_svc.book(user, s.id)
    db.session.commit()
    # move the class into the past so attendance and results can be taken
    shift = timedelta(days=20)
    for d in s.days:
        d.starts_at -= shift
        d.ends_at -= shift
    s.starts_at -= shift
    s.ends_at -= shift
    db.session.commit()
    for d in s.days:
        r = client.post(f"/admin/training/sessions/{s.id}/days/{d.id}", data={"present": [b.id]})
        assert r.status_code == 302
    r = client.post(
        f"/admin/training/sessions/{s.id}/results",
        data={f"theory-{b.id}": "abc", f"practical-{b.id}": "pass"},
    )
    assert "whole number" in r.get_data(as_text=True)
    assert db.session.scalar(select(Certificate.id)) is None
    r = client.post(
        f"/admin/training/sessions/{s.id}/results",
        data={f"theory-{b.id}": "85", f"practical-{b.id}": "pass"},
    )
    assert r.status_code == 302
    cert = db.session.scalar(select(Certificate))
    assert cert.holder_name == "周桂兰"
    csv = client.get(f"/admin/training/sessions/{s.id}/export?format=csv").get_data(as_text=True)
    assert "周桂兰" in csv and user.phone not in csv
    xlsx = client.get(f"/admin/training/sessions/{s.id}/export?format=xlsx")
    assert xlsx.data[:2] == b"PK"
    r = client.post(f"/admin/training/certificates/{cert.id}", data={"reason": ""})
    assert "Please write the reason" in r.get_data(as_text=True)
    r = client.post(f"/admin/training/certificates/{cert.id}", data={"reason": "信息有误"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).revoked_at is not None
    assert db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "training_certificate_revoked")
    )
    verify = english_client(app).get(f"/verify/{cert.token}").get_data(as_text=True)
    assert "Revoked" in verify


def test_checkin_by_the_booking_qr(app, world, make_user, login):
    s = _session(world, capacity=3, ahead=1)
    # today's class: starts later today in Shanghai is not guaranteed, so move it to now
    now = utcnow()
    s.days[0].starts_at, s.days[0].ends_at = now - timedelta(minutes=30), now + timedelta(hours=3)
    s.starts_at, s.ends_at = s.days[0].starts_at, s.days[0].ends_at
    s.booking_cutoff = now + timedelta(minutes=10)
    db.session.commit()
    user = make_user()
    add_profile(user, "田丽娟")
    b = booking_svc.book(user, s.id)
    db.session.commit()
    client = english_client(app)
    login(client, world.users["officer"])
    page = client.get(f"/admin/training/checkin/{b.checkin_token}").get_data(as_text=True)
    assert "田丽娟" in page
    r = client.post(
        f"/admin/training/checkin/{b.checkin_token}",
        data={"day": s.days[0].id},
        follow_redirects=True,
    )
    assert "checked in" in r.get_data(as_text=True)
    assert results.attendance_map(s) == {(b.id, s.days[0].id): True}
