"""Volunteer service: sign-up rules, check-in tokens, hours arithmetic, confirmation and
running totals, stars, claims, certificates and their public verification."""

import time
from datetime import date, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.notifications.models import Notification
from portal.review.services import ReviewError, decide
from portal.timeutil import to_local, today_local, utcnow
from portal.training.catalogue import course_by_code, ensure_catalogue
from portal.volunteering import activities, certificates, checkin, claims, hours, signups
from portal.volunteering.service_models import (
    HOURS_CONFIRMED,
    HOURS_PENDING,
    ServiceHours,
    ShiftSignup,
    VolunteerServiceTotal,
    VolunteerServiceYear,
    VolunteerShift,
)
from portal.volunteering.stars import hours_text, progress, stars_for
from tests.conftest import count
from tests.service_helpers import certify, make_activity, make_volunteer


@pytest.fixture
def world(tree, make_user, grant_role):
    officer = grant_role(make_user(locale="en"), tree.a, "officer")
    volunteer = make_volunteer(make_user(locale="en"), tree.a)
    return officer, volunteer


# --- hours arithmetic ------------------------------------------------------------------

T0 = datetime(2026, 6, 1, 1, 0)  # 09:00 in Shanghai


@pytest.mark.parametrize(
    ("stay_minutes", "expected"),
    [
        (0, 0),
        (7, 0),  # under half a quarter: rounds down
        (8, 15),  # half a quarter and more: rounds up
        (52, 45),
        (53, 60),
        (180, 180),
        (200, 195),  # 3h20 -> 3h15 (within shift + grace)
        (203, 210),  # 3h23 -> 3h30
        (209, 210),  # capped at 3h30 (shift 3h + 30 min grace)
        (600, 210),  # stayed all day: still the cap
    ],
)
def test_minutes_are_capped_then_rounded_to_a_quarter(stay_minutes, expected):
    out = T0 + timedelta(minutes=stay_minutes)
    assert hours.minutes_served(T0, T0 + timedelta(hours=3), T0, out, grace=30) == expected


def test_a_shift_across_midnight_counts_its_whole_length():
    # 22:00-02:00 Shanghai on 1-2 June is 14:00-18:00 UTC on 1 June.
    start = datetime(2026, 6, 1, 14, 0)
    end = datetime(2026, 6, 1, 18, 0)
    assert to_local(start).day == 1 and to_local(end).day == 2
    minutes = hours.minutes_served(start, end, start - timedelta(minutes=5), end, grace=0)
    assert minutes == 240


def test_a_night_shift_typed_with_an_earlier_end_ends_the_next_day():
    from datetime import time as t

    from portal.volunteering.activities import shift_times

    starts, ends = shift_times(date(2026, 6, 1), t(22, 0), t(2, 0))
    assert (starts, ends) == (datetime(2026, 6, 1, 14, 0), datetime(2026, 6, 1, 18, 0))


@pytest.mark.parametrize(
    ("hours_", "stars"),
    [(99.75, 0), (100, 1), (100.25, 1), (299.75, 1), (300, 2), (600, 3), (1000, 4), (1500, 5)],
)
def test_star_thresholds(hours_, stars):
    minutes = round(hours_ * 60)
    assert stars_for(minutes) == stars


def test_progress_to_the_next_star_in_whole_minutes():
    p = progress(5985)  # 99.75 h
    assert (p.stars, p.to_next, p.percent) == (0, 15, 99)
    assert progress(90000).next_minutes is None
    assert hours_text(5985) == "99.75" and hours_text(6015) == "100.25" and hours_text(90) == "1.5"


# --- sign-up ---------------------------------------------------------------------------


def test_sign_up_takes_a_seat_and_cancelling_gives_it_back(world, tree):
    _officer, volunteer = world
    shift = make_activity(tree.a).shifts[0]
    signup = signups.sign_up(volunteer, shift)
    db.session.commit()
    assert db.session.get(VolunteerShift, shift.id).seats_taken == 1
    with pytest.raises(ReviewError):
        signups.sign_up(volunteer, shift)  # one per shift
    signups.cancel(volunteer, signup)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(VolunteerShift, shift.id).seats_taken == 0
    signups.sign_up(volunteer, db.session.get(VolunteerShift, shift.id))  # may sign up again
    db.session.commit()


def test_overlapping_shifts_are_refused_with_the_other_activity_named(world, tree):
    _officer, volunteer = world
    first = make_activity(tree.a, title="应急救护宣传进社区").shifts[0]
    second = make_activity(tree.a, shifts=((3, 2, 5),)).shifts[0]  # overlaps 2h-5h
    signups.sign_up(volunteer, first)
    db.session.commit()
    with pytest.raises(ReviewError, match="应急救护宣传进社区"):
        signups.sign_up(volunteer, second)
    assert db.session.get(VolunteerShift, second.id).seats_taken == 0


def test_a_full_shift_refuses(world, tree, make_user):
    _officer, volunteer = world
    shift = make_activity(tree.a, shifts=((2, 3, 1),)).shifts[0]
    other = make_volunteer(make_user(), tree.a, name="李娜")
    signups.sign_up(other, shift)
    db.session.commit()
    with pytest.raises(signups.SeatsGone):
        signups.sign_up(volunteer, shift)
    db.session.rollback()
    assert count(ShiftSignup) == 1


def test_cancelling_after_the_deadline_is_refused(world, tree):
    _officer, volunteer = world
    shift = make_activity(tree.a).shifts[0]
    signup = signups.sign_up(volunteer, shift)
    db.session.commit()
    with pytest.raises(ReviewError):
        signups.cancel(volunteer, signup, now=utcnow() + timedelta(hours=1, minutes=1))


def test_requirements_age_team_status_and_deadline(world, tree, make_user):
    _officer, volunteer = world
    young = make_volunteer(make_user(), tree.a, name="王小红", age=16)
    shift = make_activity(tree.a, min_age=18).shifts[0]
    assert "18" in str(signups.why_not(young, shift))
    assert signups.why_not(volunteer, shift) is None
    assert signups.why_not(None, shift) is not None
    late = utcnow() + timedelta(hours=1, minutes=1)
    assert signups.why_not(volunteer, shift, now=late) is not None
    volunteer.status = "suspended"
    assert signups.why_not(volunteer, shift) is not None


def test_a_required_certificate_must_be_valid_on_the_day_of_the_shift(world, tree):
    officer, volunteer = world
    ensure_catalogue()
    first_aider = course_by_code("JHY")
    shift = make_activity(tree.a, required_course_id=first_aider.id).shifts[0]
    with force_locale("en"):
        reason = str(signups.why_not(volunteer, shift))
    assert "Red Cross certified first-aider course" in reason
    with pytest.raises(ReviewError, match="红十字救护员培训"):
        signups.sign_up(volunteer, shift)
    db.session.rollback()

    certificate = certify(officer, volunteer.user, tree.a)
    assert signups.why_not(volunteer, shift) is None
    # Expired the day before the shift: refused again; revoked: refused too.
    certificate.expires_on = to_local(shift.starts_at).date() - timedelta(days=1)
    assert signups.why_not(volunteer, shift) is not None
    certificate.expires_on = to_local(shift.starts_at).date()
    assert signups.why_not(volunteer, shift) is None
    certificate.revoked_at = utcnow()
    assert signups.why_not(volunteer, shift) is not None
    certificate.revoked_at = None
    signups.sign_up(volunteer, shift)
    db.session.commit()


def test_an_activity_can_only_require_a_course_that_certifies(world, tree):
    officer, _volunteer = world
    ensure_catalogue()
    activity = make_activity(tree.a)
    details = activities.ActivityDetails(
        title=activity.title,
        description=activity.description,
        service_area=activity.service_area,
        address=activity.address,
        signup_deadline=activity.signup_deadline,
        contact_name=activity.contact_name,
        contact_phone=activity.contact_phone,
        required_course_id=course_by_code("PJ-CPR").id,  # awareness: no certificate
    )
    with pytest.raises(ReviewError, match="证书"):
        activities.update_activity(officer, activity, details)
    details.required_course_id = course_by_code("JHY").id
    activities.update_activity(officer, activity, details)
    db.session.commit()
    assert activity.required_course.code == "JHY"


# --- check-in tokens ---------------------------------------------------------------------


@pytest.fixture
def on_shift(world, tree):
    """The volunteer signed up for a shift that starts in 30 minutes."""
    officer, volunteer = world
    activity = make_activity(tree.a, shifts=((0.5, 3, 20),))
    shift = activity.shifts[0]
    signups.sign_up(volunteer, shift)
    db.session.commit()
    return officer, volunteer, shift


def _refused(code, fn, *args):
    with pytest.raises(checkin.CheckRefused) as caught:
        fn(*args)
    assert caught.value.code == code
    return caught.value


def test_tokens_refused_each_with_their_own_message_and_nothing_recorded(on_shift, tree, make_user):
    _officer, volunteer, shift = on_shift
    messages = set()
    old = checkin.make_token(shift.id, checkin.IN, time.time() - 120)
    messages.add(str(_refused("expired", checkin.read_token, old, shift.id)))
    token = checkin.make_token(shift.id, checkin.IN)
    messages.add(str(_refused("wrong_shift", checkin.read_token, token, shift.id + 1)))
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    messages.add(str(_refused("forged", checkin.read_token, forged, shift.id)))
    stranger = make_volunteer(make_user(), tree.a, name="赵强")
    scan = checkin.read_token(token, shift.id)
    messages.add(str(_refused("not_signed_up", checkin.check_by_scan, stranger, shift, scan)))
    signup = checkin.check_by_scan(volunteer, shift, scan)
    db.session.commit()
    assert signup.checked_in_at is not None
    first = signup.checked_in_at
    messages.add(str(_refused("already_in", checkin.check_by_scan, volunteer, shift, scan)))
    assert len(messages) == 5
    db.session.rollback()
    assert db.session.get(ShiftSignup, signup.id).checked_in_at == first
    assert count(ServiceHours) == 0


def test_check_out_before_in_is_refused_and_check_out_makes_pending_hours(on_shift):
    _officer, volunteer, shift = on_shift
    out = checkin.read_token(checkin.make_token(shift.id, checkin.OUT), shift.id)
    _refused("not_in", checkin.check_by_scan, volunteer, shift, out)
    inn = checkin.read_token(checkin.make_token(shift.id, checkin.IN), shift.id)
    signup = checkin.check_by_scan(volunteer, shift, inn, now=shift.starts_at)
    checkin.check_by_scan(volunteer, shift, out, now=shift.starts_at + timedelta(minutes=98))
    db.session.commit()
    entry = db.session.get(ShiftSignup, signup.id).hours
    assert (entry.minutes, entry.status) == (105, HOURS_PENDING)  # 1h38 -> 1h45
    _refused("already_out", checkin.check_by_scan, volunteer, shift, out)


def test_a_missing_check_out_is_closed_by_the_organiser_and_audited(on_shift):
    officer, volunteer, shift = on_shift
    signup = signups.live_signup(volunteer, shift)
    checkin.check_by_hand(officer, signup, checkin.IN, shift.starts_at)
    assert signup.hours is None
    checkin.check_by_hand(officer, signup, checkin.OUT, shift.ends_at + timedelta(hours=5))
    db.session.commit()
    assert signup.checked_out_by_id == officer.id
    assert signup.hours.minutes == 210  # capped: 3 h + 30 min grace
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("volunteer_checked_by_hand") == 2


# --- confirmation, totals, stars, notifications ------------------------------------------


def test_confirmation_counts_and_a_new_star_is_announced(on_shift):
    officer, volunteer, shift = on_shift
    # Already 99.75 h confirmed: one more quarter reaches the first star.
    hours.credit(volunteer, utcnow() - timedelta(days=3), "first_aid", 5985)
    signup = signups.live_signup(volunteer, shift)
    checkin.check_by_hand(officer, signup, checkin.IN, shift.starts_at)
    checkin.check_by_hand(officer, signup, checkin.OUT, shift.starts_at + timedelta(minutes=15))
    db.session.commit()
    assert hours.confirm(officer, [signup.hours], tree_branch(shift)) == 1
    db.session.commit()
    assert db.session.get(VolunteerServiceTotal, volunteer.id).minutes == 6000
    year = to_local(signup.checked_in_at).year
    assert db.session.get(VolunteerServiceYear, (volunteer.id, year)).minutes >= 15
    kinds = db.session.scalars(select(Notification.kind)).all()
    assert "service_hours_confirmed" in kinds and "service_new_star" in kinds
    assert hours.confirm(officer, [signup.hours], tree_branch(shift)) == 0  # twice: once


def tree_branch(shift):
    return shift.activity.branch


def test_an_adjustment_needs_a_reason_and_moves_the_totals(on_shift):
    officer, volunteer, shift = on_shift
    signup = signups.live_signup(volunteer, shift)
    checkin.check_by_hand(officer, signup, checkin.IN, shift.starts_at)
    checkin.check_by_hand(officer, signup, checkin.OUT, shift.ends_at)
    hours.confirm(officer, [signup.hours], tree_branch(shift))
    db.session.commit()
    with pytest.raises(ReviewError):
        hours.adjust(officer, signup.hours, 120, "  ", tree_branch(shift))
    with pytest.raises(ReviewError):
        hours.adjust(officer, signup.hours, 100, "迟到", tree_branch(shift))  # not a quarter
    hours.adjust(officer, signup.hours, 120, "提前离开一小时", tree_branch(shift))
    db.session.commit()
    assert db.session.get(VolunteerServiceTotal, volunteer.id).minutes == 120
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "service_hours_adjusted")
    )
    assert entry.changes["minutes"] == [180, 120]


def test_summary_totals_are_exact_integers(world):
    _officer, volunteer = world
    for _ in range(3):
        db.session.add(
            ServiceHours(
                volunteer_id=volunteer.id,
                branch_id=volunteer.branch_id,
                service_area="first_aid",
                title="急救培训助教",
                started_at=utcnow(),
                minutes=15,
                status=HOURS_CONFIRMED,
            )
        )
        hours.credit(volunteer, utcnow(), "first_aid", 15)
    db.session.commit()
    summary = hours.summary(volunteer, today_local().year)
    assert (summary.total, summary.this_year, summary.by_area) == (45, 45, [("first_aid", 45)])


# --- claims and certificates ---------------------------------------------------------------


def test_an_offline_claim_is_decided_in_the_inbox_and_credits_on_approval(world):
    officer, volunteer = world
    claim = claims.claim_hours(
        volunteer,
        today_local() - timedelta(days=2),
        150,
        "disaster_relief",
        "协助发放救灾物资",
        "陈仓区虢镇",
        "李主任 13800138000",
    )
    db.session.commit()
    assert claim.branch_id == volunteer.branch_id and claim.witness.startswith("李主任")
    assert b"13800138000" not in claim.witness_enc
    assert decide(claim, officer, "approve")
    db.session.commit()
    assert db.session.get(VolunteerServiceTotal, volunteer.id).minutes == 150


@pytest.mark.parametrize("minutes", [0, 10, 13 * 60])
def test_a_claim_in_odd_minutes_or_too_long_is_refused(world, minutes):
    _officer, volunteer = world
    with pytest.raises(ReviewError):
        claims.claim_hours(volunteer, today_local(), minutes, "first_aid", "x", "y", "z")


def test_a_certificate_freezes_the_period_and_verifies_in_public(world, client):
    _officer, volunteer = world
    db.session.add(
        ServiceHours(
            volunteer_id=volunteer.id,
            branch_id=volunteer.branch_id,
            service_area="elderly_care",
            title="博爱家园敬老服务",
            started_at=utcnow() - timedelta(days=1),
            minutes=135,
            status=HOURS_CONFIRMED,
        )
    )
    db.session.commit()
    today = today_local()
    with pytest.raises(ReviewError):
        certificates.issue(volunteer, today, today - timedelta(days=1))
    cert = certificates.issue(volunteer, date(today.year - 1, 1, 1), today)
    db.session.commit()
    assert cert.minutes == 135 and cert.number.endswith("-00001")
    from flask import url_for

    with client.application.test_request_context():
        page = client.get(url_for("cards.verify_token", token=cert.token))
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "2.25" in text and "张*明" in text and "张晓明" not in text


def test_the_reminder_goes_once_however_often_it_runs(world, tree, app):
    from portal.volunteering.reminders import send_reminders

    _officer, volunteer = world
    tomorrow_noon = to_local(utcnow()).replace(hour=12, minute=0) + timedelta(days=1)
    hours_ahead = (tomorrow_noon - to_local(utcnow())).total_seconds() / 3600
    shift = make_activity(
        tree.a, shifts=((hours_ahead, 2, 5),), signup_deadline=utcnow() + timedelta(hours=3)
    ).shifts[0]
    signups.sign_up(volunteer, shift)
    db.session.commit()
    assert send_reminders() == 1
    assert send_reminders() == 0
    result = app.test_cli_runner().invoke(args=["volunteering", "remind"])
    assert "queued 0 reminders" in result.output
    kinds = db.session.scalars(select(Notification.kind)).all()
    assert kinds.count("service_reminder") == 1


def test_cancelling_an_activity_frees_every_seat_and_tells_everyone(
    world, tree, make_user, app, login
):
    officer, volunteer = world
    other = make_volunteer(make_user(), tree.a, name="李娜")
    activity = make_activity(tree.a, shifts=((2, 3, 5), (30, 3, 5)))
    signups.sign_up(volunteer, activity.shifts[0])
    signups.sign_up(other, activity.shifts[1])
    db.session.commit()
    client = app.test_client()
    login(client, officer)
    page = client.post(
        f"/admin/volunteering/activities/{activity.id}/cancel",
        data={"reason": "暴雨预警，活动取消"},
    )
    assert page.status_code == 302
    db.session.expire_all()
    assert all(s.seats_taken == 0 for s in db.session.get(type(activity), activity.id).shifts)
    bodies = db.session.scalars(
        select(Notification.body).where(Notification.kind == "service_cancelled")
    ).all()
    assert len(bodies) == 2 and all("暴雨预警" in b for b in bodies)
    assert db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "volunteer_activity_cancelled")
    )


def test_dashboard_indicators_and_ranking_roll_up_the_tree(world, tree, make_user):
    from portal.admin import indicators as ind
    from portal.branches.scope import ids_under
    from portal.volunteering.ranking import ranking

    officer, volunteer = world
    other = make_volunteer(make_user(), tree.g, name="李娜")  # a grassroots unit under 渭滨
    when = utcnow() - timedelta(days=1)
    for v, minutes in ((volunteer, 90), (volunteer, 30), (other, 45)):
        db.session.add(
            ServiceHours(
                volunteer_id=v.id,
                branch_id=v.branch_id,
                service_area="first_aid",
                title="应急救护值守",
                started_at=when,
                minutes=minutes,
                status=HOURS_CONFIRMED,
            )
        )
        hours.credit(v, when, "first_aid", minutes)
    db.session.commit()
    year = to_local(when).year
    figures = {
        key: ind.rollup(ind.get_indicator(key), ids_under([tree.c.path]), [tree.c, tree.a], year)
        for key in ("active_volunteers", "volunteer_hours")
    }
    assert figures["active_volunteers"][tree.c.id].this_year == 2
    assert figures["volunteer_hours"][tree.a.id].this_year == 165
    assert [r.volunteer_id for r in ranking(tree.c, year)] == [volunteer.id, other.id]
    assert [r.minutes for r in ranking(tree.a, year)] == [120, 45]
    assert ranking(tree.b, year) == []
