"""Volunteer service over HTTP: staff create and publish an activity, a volunteer signs
up and checks in and out by the QR link, the organiser confirms, the volunteer sees the
hours and a certificate; and every staff URL answers 404 to another branch's officer."""

from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from portal.extensions import db
from portal.timeutil import to_local, utcnow
from portal.training.catalogue import ensure_catalogue
from portal.volunteering import checkin
from portal.volunteering.service_models import (
    HOURS_CONFIRMED,
    PUBLISHED,
    ServiceCertificate,
    ServiceHours,
    ShiftSignup,
    VolunteerActivity,
)
from tests.conftest import DEFAULT_PASSWORD
from tests.service_helpers import make_activity, make_volunteer


def test_staff_create_a_shift_and_publish(app, tree, make_user, grant_role, login):
    officer = grant_role(make_user(locale="en"), tree.a, "officer")
    client = app.test_client()
    login(client, officer)
    deadline = to_local(utcnow() + timedelta(days=2))
    page = client.post(
        "/admin/volunteering/activities/new",
        data={
            "branch": str(tree.a.id),
            "team": "",
            "title": "博爱家园敬老助老服务",
            "description": "陪伴社区老人，测量血压。",
            "service_area": "elderly_care",
            "address": "宝鸡市渭滨区经二路街道办事处",
            "deadline_date": deadline.date().isoformat(),
            "deadline_time": "18:00",
            "contact_name": "王老师",
            "contact_phone": "0917-3245678",
        },
    )
    assert page.status_code == 302, page.get_data(as_text=True)
    activity = db.session.scalar(select(VolunteerActivity))
    day = (deadline + timedelta(days=1)).date().isoformat()
    page = client.post(
        f"/admin/volunteering/activities/{activity.id}/shifts",
        data={"day": day, "start": "22:00", "end": "02:00", "capacity": "10"},
    )
    assert page.status_code == 302
    assert client.post(f"/admin/volunteering/activities/{activity.id}/publish").status_code == 302
    db.session.expire_all()
    activity = db.session.get(VolunteerActivity, activity.id)
    assert activity.status == PUBLISHED
    shift = activity.shifts[0]
    assert shift.ends_at - shift.starts_at == timedelta(hours=4)  # across midnight
    listing = app.test_client().get(f"/volunteer/activities?place={tree.c.id}&area=elderly_care")
    assert "博爱家园敬老助老服务" in listing.get_data(as_text=True)
    other = app.test_client().get(f"/volunteer/activities?place={tree.b.id}")
    assert "博爱家园敬老助老服务" not in other.get_data(as_text=True)
    detail = app.test_client().get(f"/volunteer/activities/{activity.id}").get_data(as_text=True)
    assert "<title>博爱家园敬老助老服务" in detail and "uri.amap.com" in detail


def test_an_activity_requiring_the_first_aider_certificate_says_so_and_where_to_get_it(
    app, tree, make_user, grant_role, login
):
    officer = grant_role(make_user(locale="en"), tree.a, "officer")
    first_aider = next(c for c in ensure_catalogue() if c.code == "JHY")
    db.session.commit()
    client = app.test_client()
    login(client, officer)
    form = client.get("/admin/volunteering/activities/new").get_data(as_text=True)
    assert f'<option value="{first_aider.id}">Red Cross certified first-aider course' in form
    activity = make_activity(tree.a)
    deadline = to_local(activity.signup_deadline)
    page = client.post(
        f"/admin/volunteering/activities/{activity.id}/edit",
        data={
            "branch": str(tree.a.id),
            "team": "",
            "title": activity.title,
            "description": activity.description,
            "service_area": activity.service_area,
            "address": activity.address,
            "required_course": str(first_aider.id),
            "deadline_date": deadline.date().isoformat(),
            "deadline_time": deadline.strftime("%H:%M"),
            "contact_name": activity.contact_name,
            "contact_phone": activity.contact_phone,
        },
    )
    assert page.status_code == 302, page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(VolunteerActivity, activity.id).required_course_id == first_aider.id
    volunteer = make_volunteer(make_user(locale="en"), tree.a)
    citizen = app.test_client()
    login(citizen, volunteer.user)
    detail = citizen.get(f"/volunteer/activities/{activity.id}").get_data(as_text=True)
    assert "holding a valid Red Cross certified first-aider course certificate" in detail
    assert f"/training/?course={first_aider.id}" in detail
    assert "Sign up for this shift" not in detail  # no certificate yet: the reason instead


def test_bad_activity_input_keeps_what_was_typed_and_writes_nothing(
    app, tree, make_user, grant_role, login
):
    officer = grant_role(make_user(locale="en"), tree.a, "officer")
    client = app.test_client()
    login(client, officer)
    page = client.post(
        "/admin/volunteering/activities/new",
        data={"branch": str(tree.a.id), "title": "<script>x</script>", "deadline_date": "junk"},
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "&lt;script&gt;x&lt;/script&gt;" in text
    assert db.session.scalar(select(VolunteerActivity)) is None


def test_volunteer_signs_up_checks_in_and_out_and_gets_a_certificate(
    app, tree, make_user, grant_role, login
):
    officer = grant_role(make_user(locale="en"), tree.a, "officer")
    user = make_user(locale="en")
    volunteer = make_volunteer(user, tree.a)
    activity = make_activity(tree.a, shifts=((0.25, 2, 5),))
    shift = activity.shifts[0]
    me = app.test_client()
    login(me, user)
    assert me.post(f"/volunteer/shifts/{shift.id}/sign-up").status_code == 302
    token = checkin.make_token(shift.id, checkin.IN)
    page = me.get(f"/volunteer/check/{shift.id}?t={token}")
    assert "You are checked in" in page.get_data(as_text=True)
    again = me.get(f"/volunteer/check/{shift.id}?t={token}")
    assert "already checked in" in again.get_data(as_text=True)
    signup = db.session.scalar(select(ShiftSignup))
    signup.checked_in_at = utcnow() - timedelta(hours=1)  # as if an hour has passed
    db.session.commit()
    out = checkin.make_token(shift.id, checkin.OUT)
    assert "checked out" in me.get(f"/volunteer/check/{shift.id}?t={out}").get_data(as_text=True)
    staff = app.test_client()
    login(staff, officer)
    roster = staff.get(f"/admin/volunteering/shifts/{shift.id}/roster")
    assert roster.status_code == 200 and volunteer.number in roster.get_data(as_text=True)
    assert staff.get(f"/admin/volunteering/shifts/{shift.id}/qr").status_code == 200
    assert staff.post(f"/admin/volunteering/shifts/{shift.id}/confirm").status_code == 302
    entry = db.session.scalar(select(ServiceHours))
    assert entry.status == HOURS_CONFIRMED
    mine = me.get("/volunteer/service").get_data(as_text=True)
    assert "Confirmed hours in total" in mine
    today = to_local(utcnow()).date()
    page = me.post(
        "/volunteer/service/certificate",
        data={"period_from": today.replace(day=1).isoformat(), "period_to": today.isoformat()},
    )
    assert page.status_code == 302
    cert = db.session.scalar(select(ServiceCertificate))
    text = me.get(page.headers["Location"]).get_data(as_text=True)
    assert cert.number in text and "6****************X" in text
    with app.test_request_context():
        url = url_for("cards.verify_token", token=cert.token)
    public = app.test_client().get(url).get_data(as_text=True)
    assert cert.number in public and "张*明" in public and "张晓明" not in public


def test_a_scan_before_login_finishes_after_login(app, tree, make_user, login):
    user = make_user(locale="en")
    make_volunteer(user, tree.a)
    shift = make_activity(tree.a, shifts=((0.25, 2, 5),)).shifts[0]
    client = app.test_client()
    login(client, user)
    client.post(f"/volunteer/shifts/{shift.id}/sign-up")
    anonymous = app.test_client()
    token = checkin.make_token(shift.id, checkin.IN)
    page = anonymous.get(f"/volunteer/check/{shift.id}?t={token}")
    assert page.status_code == 302 and "login" in page.headers["Location"]
    # Logging in (a minute later, say) finishes the check-in the scan started.
    page = anonymous.post(
        "/account/login",
        data={"phone": user.phone, "password": DEFAULT_PASSWORD, "next": "/volunteer/check/resume"},
    )
    assert page.status_code == 302 and page.headers["Location"].endswith("/volunteer/check/resume")
    page = anonymous.get("/volunteer/check/resume")
    assert "You are checked in" in page.get_data(as_text=True)
    assert db.session.scalar(select(ShiftSignup.checked_in_at)) is not None
    forged = app.test_client().get(f"/volunteer/check/{shift.id}?t=nonsense")
    assert "二维码无效" in forged.get_data(as_text=True)  # Chinese: a visitor, no locale


@pytest.fixture
def foreign(app, tree, make_user, grant_role):
    """An activity of 渭滨 with a checked-out sign-up, and an officer of 甘肃's 城关."""
    outsider = grant_role(make_user(), tree.x, "officer")
    volunteer = make_volunteer(make_user(), tree.a)
    shift = make_activity(tree.a).shifts[0]
    signup = ShiftSignup(
        shift_id=shift.id,
        volunteer_id=volunteer.id,
        checked_in_at=shift.starts_at,
        checked_out_at=shift.ends_at,
    )
    db.session.add(signup)
    db.session.commit()
    return outsider, shift, signup


STAFF_URLS = [
    ("get", "/admin/volunteering/activities/{a}"),
    ("get", "/admin/volunteering/activities/{a}/edit"),
    ("post", "/admin/volunteering/activities/{a}/edit"),
    ("post", "/admin/volunteering/activities/{a}/shifts"),
    ("post", "/admin/volunteering/activities/{a}/publish"),
    ("post", "/admin/volunteering/activities/{a}/finish"),
    ("post", "/admin/volunteering/activities/{a}/cancel"),
    ("post", "/admin/volunteering/shifts/{s}/remove"),
    ("get", "/admin/volunteering/shifts/{s}/qr"),
    ("get", "/admin/volunteering/shifts/{s}/roster"),
    ("post", "/admin/volunteering/shifts/{s}/confirm"),
    ("get", "/admin/volunteering/shifts/{s}/export"),
    ("get", "/admin/volunteering/shifts/{s}/export?format=xlsx"),
    ("post", "/admin/volunteering/sign-ups/{u}/check"),
    ("post", "/admin/volunteering/sign-ups/{u}/adjust"),
    ("get", "/admin/volunteering/hours?branch={b}"),
    ("get", "/admin/volunteering/hours/export?branch={b}"),
]


@pytest.mark.parametrize(("method", "url"), STAFF_URLS)
def test_another_branchs_officer_gets_404(app, tree, login, foreign, method, url):
    outsider, shift, signup = foreign
    client = app.test_client()
    login(client, outsider)
    url = url.format(a=shift.activity_id, s=shift.id, u=signup.id, b=tree.a.id)
    assert getattr(client, method)(url).status_code == 404


def test_roster_hand_check_and_adjustment_over_http(app, tree, make_user, grant_role, login):
    officer = grant_role(make_user(locale="en"), tree.a, "officer")
    make_volunteer(make_user(), tree.a)
    shift = make_activity(tree.a).shifts[0]
    volunteer = db.session.scalar(select(ShiftSignup.volunteer_id))  # none yet
    assert volunteer is None
    from portal.volunteering import signups
    from portal.volunteering.models import Volunteer

    signup = signups.sign_up(db.session.scalar(select(Volunteer)), shift)
    db.session.commit()
    client = app.test_client()
    login(client, officer)
    day = to_local(shift.starts_at).date().isoformat()
    start = to_local(shift.starts_at).strftime("%H:%M")
    p = f"c{signup.id}-"
    page = client.post(
        f"/admin/volunteering/sign-ups/{signup.id}/check",
        data={p + "action": "out", p + "day": day, p + "at": start},
    )
    assert page.status_code == 200 and "Check this volunteer in first." in page.get_data(True)
    for action, at in (("in", start), ("out", to_local(shift.ends_at).strftime("%H:%M"))):
        page = client.post(
            f"/admin/volunteering/sign-ups/{signup.id}/check",
            data={
                p + "action": action,
                p + "day": to_local(shift.ends_at).date().isoformat() if action == "out" else day,
                p + "at": at,
            },
        )
        assert page.status_code == 302
    entry = db.session.scalar(select(ServiceHours))
    assert entry.minutes == 180
    a = f"a{signup.id}-"
    page = client.post(
        f"/admin/volunteering/sign-ups/{signup.id}/adjust",
        data={a + "hours": "2.5", a + "reason": ""},
    )
    assert page.status_code == 200 and 'value="2.5"' in page.get_data(True)
    page = client.post(
        f"/admin/volunteering/sign-ups/{signup.id}/adjust",
        data={a + "hours": "2.5", a + "reason": "中途离开半小时"},
    )
    assert page.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(ServiceHours)).minutes == 150


def test_staff_revoke_a_certificate_and_the_public_page_says_so(
    app, tree, make_user, grant_role, login
):
    from portal.volunteering import certificates
    from portal.volunteering.service_models import HOURS_CONFIRMED

    officer = grant_role(make_user(locale="en"), tree.a, "officer")
    outsider = grant_role(make_user(locale="en"), tree.b, "officer")
    volunteer = make_volunteer(make_user(), tree.a)
    db.session.add(
        ServiceHours(
            volunteer_id=volunteer.id,
            branch_id=volunteer.branch_id,
            service_area="first_aid",
            title="应急救护值守",
            started_at=utcnow() - timedelta(days=2),
            minutes=60,
            status=HOURS_CONFIRMED,
        )
    )
    db.session.commit()
    today = to_local(utcnow()).date()
    cert = certificates.issue(volunteer, today - timedelta(days=30), today)
    db.session.commit()
    other = app.test_client()
    login(other, outsider)
    found = other.get(f"/admin/volunteering/certificates?number={cert.number}")
    assert "No certificate of your branches has that number." in found.get_data(True)
    assert (
        other.post(
            f"/admin/volunteering/certificates/{cert.id}/revoke", data={"reason": "x"}
        ).status_code
        == 404
    )
    client = app.test_client()
    login(client, officer)
    page = client.get(f"/admin/volunteering/certificates?number={cert.number.lower()}")
    assert cert.number in page.get_data(True)
    assert (
        client.post(
            f"/admin/volunteering/certificates/{cert.id}/revoke", data={"reason": ""}
        ).status_code
        == 200
    )
    page = client.post(
        f"/admin/volunteering/certificates/{cert.id}/revoke",
        data={"reason": "时长录入有误，已重新出具"},
    )
    assert page.status_code == 302
    with app.test_request_context():
        url = url_for("cards.verify_token", token=cert.token)
    public = app.test_client().get(url, headers={"Accept-Language": "en"}).get_data(True)
    assert "Revoked" in public
