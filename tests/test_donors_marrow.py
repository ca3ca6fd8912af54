# ruff: noqa: F811  (the `world` fixture is imported)
"""Marrow pre-registration: eligibility at every boundary, the two consents, encryption
at rest, the 7-day cooling-off, withdrawal, booking a sample seat, consent withdrawal."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import select, text

from portal.audit.models import AuditEntry
from portal.consent import services as consent
from portal.consent.models import ConsentRecord
from portal.consent.purposes import MARROW_HEALTH, MARROW_REGISTRY
from portal.donors import eligibility, marrow
from portal.donors.models import MarrowRegistration, SampleBooking, SampleSession
from portal.extensions import db
from portal.notifications.models import Notification
from portal.timeutil import today_local
from tests.conftest import count
from tests.donors_world import born_years_ago, make_session, marrow_form, world  # noqa: F401

EN = {"Accept-Language": "en"}
TODAY = date(2026, 12, 3)


# --- eligibility, as pure rules ---------------------------------------------------------


@pytest.mark.parametrize(
    ("years", "days_more", "ok"),
    [
        (18, 0, True),  # turning 18 today
        (18, -1, False),  # turns 18 tomorrow
        (45, 0, True),  # turning 45 today
        (45, 364, True),  # 45 and nearly a year
        (46, 0, False),  # turning 46 today
    ],
)
def test_age_boundaries(years, days_more, ok):
    born = born_years_ago(years, TODAY, days_more)
    assert (eligibility.age_refusal(born, TODAY) is None) is ok


@pytest.mark.parametrize(
    ("sex", "kg", "ok"),
    [
        ("M", "50", True),
        ("M", "49.9", False),
        ("F", "45", True),
        ("F", "44.9", False),
        ("F", "49", True),
        ("M", "120", True),
    ],
)
def test_weight_limits(sex, kg, ok):
    assert (eligibility.weight_refusal(sex, Decimal(kg)) is None) is ok


def test_pregnancy_is_asked_of_women_only():
    assert "pregnancy" in eligibility.questions_for("F")
    assert "pregnancy" not in eligibility.questions_for("M")


# --- over HTTP -------------------------------------------------------------------------


def _register(client, **over):
    return client.post("/marrow/", data=marrow_form(**over), headers=EN)


def test_pre_registration_stores_only_ciphertext_and_two_consents(world, client, login):
    login(client, world.citizen)
    page = client.get("/marrow/", headers=EN).get_data(as_text=True)
    assert "Pre-register as a donor" in page and "checked" not in page  # unticked consents
    r = _register(client)
    assert r.status_code == 302
    reg = db.session.scalar(select(MarrowRegistration))
    assert reg.status == marrow.PRE_REGISTERED and reg.branch_id == world.a.id
    assert reg.cooling_off_until == reg.registered_on + timedelta(days=7)
    assert reg.health["weight_kg"] == "62.5" and reg.contacts[1]["name"] == "李秀英"
    ledger = db.session.scalars(select(ConsentRecord).order_by(ConsentRecord.id)).all()
    assert [(c.purpose, c.action) for c in ledger] == [
        (MARROW_HEALTH, "given"),
        (MARROW_REGISTRY, "given"),
    ]
    raw = db.session.execute(text("SELECT * FROM marrow_registrations")).mappings().one()
    dump = repr(dict(raw)).encode() + b"".join(v for v in raw.values() if isinstance(v, bytes))
    for secret in ("62.5", "张建国", "李秀英", "13800001111", "父亲", "evening", "blood_infection"):
        assert secret.encode() not in dump, secret
    kinds = db.session.scalars(select(Notification.kind)).all()
    assert "marrow_received" in kinds
    status = client.get("/marrow/", headers=EN).get_data(as_text=True)
    assert "cooling-off" in status and "Withdraw my registration" in status


@pytest.mark.parametrize(
    "question",
    ["blood_infection", "chronic_disease", "cancer_or_blood", "recent_transfusion", "pregnancy"],
)
def test_each_deferral_question_stops_kindly_and_keeps_only_the_outcome(
    world, client, login, question
):
    if question == "pregnancy":
        world.citizen.profile.sex = "F"
        db.session.commit()
    login(client, world.citizen)
    r = _register(client, **{f"q_{question}": "yes"}, health_consent=None)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Thank you for wanting to help" in html
    with force_locale("en"):
        assert str(eligibility.DEFERRAL_REASONS[question]) in html
    assert count(MarrowRegistration) == 0 and count(ConsentRecord) == 0
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "marrow_deferred"))
    assert entry.changes == {"outcome": "deferred"}  # not which question


def test_age_outside_the_range_is_refused_before_the_form(world, client, login):
    world.citizen.profile.birth_date = born_years_ago(46, today_local())
    db.session.commit()
    login(client, world.citizen)
    html = client.get("/marrow/", headers=EN).get_data(as_text=True)
    assert "up to the age of 45" in html and "Pre-register as a donor" not in html
    assert _register(client).status_code == 200 and count(MarrowRegistration) == 0


def test_weight_under_the_limit_is_refused_beside_the_field(world, client, login):
    login(client, world.citizen)
    html = _register(client, weight="49.9").get_data(as_text=True)
    assert "at least 50 kg" in html and 'value="49.9"' in html
    assert count(MarrowRegistration) == 0


@pytest.mark.parametrize("missing", ["health_consent", "registry_consent"])
def test_without_both_consents_nothing_is_registered(world, client, login, missing):
    login(client, world.citizen)
    html = _register(client, **{missing: None}).get_data(as_text=True)
    assert "Without this consent we cannot register you" in html
    assert count(MarrowRegistration) == 0 and count(ConsentRecord) == 0


def _registered(world, today=TODAY):
    reg = marrow.register(
        world.citizen,
        weight_kg=Decimal("60"),
        answers=dict.fromkeys(eligibility.questions_for("M"), False),
        contacts=[
            {"name": "甲", "relation": "父", "phone": "13800001111"},
            {"name": "乙", "relation": "母", "phone": "13800002222"},
        ],
        preferences={"channel": "sms", "time": "any"},
        health_consent=True,
        registry_consent=True,
        today=today,
    )
    db.session.commit()
    return reg


def test_withdraw_on_day_7_is_in_the_cooling_off(world):
    reg = _registered(world)
    day7 = TODAY + timedelta(days=7)
    assert marrow.in_cooling_off(reg, day7) and not marrow.settle(reg, day7)
    marrow.withdraw(reg, world.citizen, "改变主意")
    db.session.commit()
    assert reg.status == marrow.WITHDRAWN and reg.health is None and reg.contacts == []
    assert reg.withdraw_reason == "改变主意"
    assert "marrow_withdrawn" in db.session.scalars(select(Notification.kind)).all()


def test_day_8_confirms(world):
    reg = _registered(world)
    assert marrow.settle(reg, TODAY + timedelta(days=8)) and reg.status == marrow.CONFIRMED
    assert "marrow_confirmed" in db.session.scalars(select(Notification.kind)).all()


def test_the_daily_run_confirms_and_reminds_once(world):
    reg = _registered(world, today_local() - timedelta(days=8))
    session = make_session(world.c, hours_ahead=12)
    assert marrow.run_daily() == (1, 0)
    marrow.book(reg, session.id, world.citizen)
    db.session.commit()
    assert marrow.run_daily() == (0, 1)
    db.session.commit()
    assert marrow.run_daily() == (0, 0)  # safe to run twice
    kinds = db.session.scalars(select(Notification.kind)).all()
    assert kinds.count("marrow_reminder") == 1 and kinds.count("marrow_confirmed") == 1


def test_booking_takes_a_seat_and_cancelling_gives_it_back(world, client, login):
    reg = _registered(world, today_local() - timedelta(days=8))
    session = make_session(world.c, capacity=1)
    sibling_session = make_session(world.b)
    login(client, world.citizen)
    page = client.get("/marrow/", headers=EN).get_data(as_text=True)
    assert "宝鸡市中心血站" in page and "Book this session" in page
    assert page.count("Book this session") == 1  # the sibling county's is not offered
    client.post(f"/marrow/sessions/{sibling_session.id}/book")
    assert count(SampleBooking) == 0
    client.post(f"/marrow/sessions/{session.id}/book")
    db.session.refresh(reg)
    db.session.refresh(session)
    assert reg.status == marrow.SAMPLE_BOOKED and session.seats_taken == 1
    assert "marrow_booked" in db.session.scalars(select(Notification.kind)).all()
    client.post("/marrow/appointment/cancel")
    db.session.refresh(reg)
    db.session.refresh(session)
    assert reg.status == marrow.CONFIRMED and session.seats_taken == 0


def test_booking_is_refused_while_cooling_off_and_when_full(world, make_user):
    reg = _registered(world, today_local())
    session = make_session(world.c, capacity=1)
    with pytest.raises(marrow.MarrowError):
        marrow.book(reg, session.id, world.citizen)
    db.session.rollback()
    reg.cooling_off_until = today_local() - timedelta(days=1)
    db.session.execute(
        SampleSession.__table__.update().values(seats_taken=1).where(SampleSession.id == session.id)
    )
    db.session.commit()
    with pytest.raises(marrow.MarrowError) as refused:
        marrow.book(reg, session.id, world.citizen)
    with force_locale("en"):
        assert "full" in str(refused.value.message)


def test_withdrawing_a_consent_withdraws_the_registration(world, client, login):
    reg = _registered(world, today_local() - timedelta(days=9))
    session = make_session(world.c)
    marrow.book(reg, session.id, world.citizen)
    db.session.commit()
    login(client, world.citizen)
    r = client.post(f"/account/consents/{MARROW_REGISTRY}/withdraw", data={"confirm": "yes"})
    assert r.status_code == 302
    db.session.refresh(reg)
    db.session.refresh(session)
    assert reg.status == marrow.WITHDRAWN and reg.health is None and session.seats_taken == 0
    assert not consent.is_given(world.citizen, MARROW_REGISTRY)
    # and registering again is possible
    assert (
        client.get("/marrow/", headers=EN).get_data(as_text=True).count("Pre-register as a donor")
        >= 1
    )


def test_withdraw_page_one_action(world, client, login):
    _registered(world, today_local())
    login(client, world.citizen)
    assert client.get("/marrow/withdraw").status_code == 200
    r = client.post("/marrow/withdraw", data={})
    assert r.status_code == 302
    assert db.session.scalar(select(MarrowRegistration.status)) == marrow.WITHDRAWN


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("weight", "abc"),
        ("weight", "-5"),
        ("weight", "NaN"),
        ("weight", "1e999999"),
        ("weight", "58.55"),
        ("weight", "251"),
        ("contact1_name", "x" * 10_000),
        ("contact1_name", "\u202e张三"),
        ("contact1_phone", "12345"),
        ("contact2_phone", "13800001111"),  # the same person twice
        ("contact2_relation", ""),
        ("channel", "pigeon"),
        ("q_chronic_disease", None),  # a question left unanswered
        ("q_chronic_disease", "maybe"),
    ],
)
def test_bad_input_is_refused_beside_the_field_and_writes_nothing(
    world, client, login, field, value
):
    login(client, world.citizen)
    r = _register(client, **{field: value})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'class="error"' in html and count(MarrowRegistration) == 0
    assert count(ConsentRecord) == 0


def test_a_weight_is_kept_to_one_decimal(world, client, login):
    login(client, world.citizen)
    _register(client, weight=" 60 公斤")
    assert db.session.scalar(select(MarrowRegistration)).health["weight_kg"] == "60.0"
