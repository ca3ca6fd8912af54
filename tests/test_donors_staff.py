# ruff: noqa: F811  (the `world` fixture is imported)
"""Staff side of donors: lists in scope without health data, every record view audited,
status steps, sample sessions and rosters, exports that mask ID numbers and need a
purpose, the dashboard indicators; a sibling branch's officer gets 404 everywhere."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.admin import indicators
from portal.audit.models import AuditEntry
from portal.branches.scope import scoped_branch_ids
from portal.donors import eligibility, marrow, organ
from portal.donors.models import MarrowRegistration, SampleSession
from portal.extensions import db
from portal.notifications.models import Notification
from portal.timeutil import today_local, utcnow
from tests.donors_world import make_session, world  # noqa: F401

EN = {"Accept-Language": "en"}


@pytest.fixture
def booked(world):
    reg = marrow.register(
        world.citizen,
        weight_kg=Decimal("62.5"),
        answers=dict.fromkeys(eligibility.questions_for("M"), False),
        contacts=[
            {"name": "张建国", "relation": "父亲", "phone": "13800001111"},
            {"name": "李秀英", "relation": "母亲", "phone": "13800002222"},
        ],
        preferences={"channel": "sms", "time": "any"},
        health_consent=True,
        registry_consent=True,
        today=today_local() - timedelta(days=8),
    )
    session = make_session(world.c)
    marrow.book(reg, session.id, world.citizen)
    organ_reg = organ.register(
        world.citizen,
        {"organs_scope": "all", "organs": [], "tissues": ["corneas"], "body": False},
        {"name": "王丽", "relation": "妻子", "phone": "13800003333", "informed": True},
        consent_given=True,
    )
    db.session.commit()
    return reg, session, organ_reg


def _audit(action):
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def test_lists_show_registrants_without_health_data(world, booked, client, login):
    login(client, world.officer)
    for url in ("/admin/donors/marrow/", "/admin/donors/organ/"):
        html = client.get(url, headers=EN).get_data(as_text=True)
        assert "张晓明" in html, url
        for secret in ("62.5", "张建国", "13800001111", "王丽", "Corneas"):
            assert secret not in html, (url, secret)
    assert _audit("sensitive_viewed") == []  # a list is not a record


def test_opening_each_record_is_audited(world, booked, client, login):
    reg, session, organ_reg = booked
    login(client, world.officer)
    html = client.get(f"/admin/donors/marrow/{reg.id}", headers=EN).get_data(as_text=True)
    assert "62.5" in html and "张建国" in html
    html = client.get(f"/admin/donors/organ/{organ_reg.id}", headers=EN).get_data(as_text=True)
    assert "Corneas" in html and "王丽" in html
    # The session is run by the city: its roster is the city's (the county gets 404).
    assert client.get(f"/admin/donors/sessions/{session.id}").status_code == 404
    login(client, world.city)
    html = client.get(f"/admin/donors/sessions/{session.id}", headers=EN).get_data(as_text=True)
    assert "张晓明" in html
    views = _audit("sensitive_viewed")
    assert [v.changes["via"] for v in views] == [
        "marrow_registration",
        "organ_registration",
        "sample_session",
    ]
    assert [v.actor_id for v in views] == [world.officer.id, world.officer.id, world.city.id]
    assert all(v.object_id == str(world.citizen.id) for v in views)
    assert "marrow_health" in views[0].changes["fields"]


def test_a_sibling_branch_gets_404_on_every_record_and_roster(world, booked, client, login):
    reg, session, organ_reg = booked
    login(client, world.sibling)
    for url in (
        f"/admin/donors/marrow/{reg.id}",
        f"/admin/donors/organ/{organ_reg.id}",
        f"/admin/donors/sessions/{session.id}",
        f"/admin/donors/sessions/{session.id}?format=csv&purpose=x",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(f"/admin/donors/marrow/{reg.id}/step", data={"step": "sampled"}).status_code
        == 404
    )
    for url in ("/admin/donors/marrow/", "/admin/donors/organ/", "/admin/donors/sessions/"):
        html = client.get(url, headers=EN).get_data(as_text=True)
        assert "张晓明" not in html and "宝鸡市中心血站" not in html, url
    db.session.refresh(reg)
    assert reg.status == marrow.SAMPLE_BOOKED and _audit("sensitive_viewed") == []
    refused = {(e.object_kind, e.object_id) for e in _audit("access_refused")}
    assert refused == {
        ("marrow_registrations", str(reg.id)),
        ("organ_registrations", str(organ_reg.id)),
        ("sample_sessions", str(session.id)),
    }  # a second try on the same object within the hour is counted, not logged again


def test_a_citizen_gets_403(world, booked, client, login):
    login(client, world.citizen)
    assert client.get("/admin/donors/marrow/").status_code == 403


def test_the_city_sees_its_counties(world, booked, client, login):
    reg, _, _ = booked
    login(client, world.city)
    assert client.get(f"/admin/donors/marrow/{reg.id}").status_code == 200


def test_exports_need_a_purpose_and_mask_id_numbers(world, booked, client, login):
    reg, session, _ = booked
    login(client, world.officer)
    r = client.get("/admin/donors/marrow/?format=csv", headers=EN)
    assert r.status_code == 400 and "Please say why" in r.get_data(as_text=True)
    assert _audit("marrow_registrants_exported") == []
    r = client.get(
        "/admin/donors/marrow/", query_string={"format": "csv", "purpose": "报送中华骨髓库"}
    )
    body = r.data.decode("utf-8")
    assert r.mimetype == "text/csv" and body.startswith("\ufeff")
    assert "张晓明" in body and "6****************X" in body and "13912345678" not in body
    entry = _audit("marrow_registrants_exported")[0]
    assert entry.changes == {"rows": 1, "purpose": "报送中华骨髓库"}
    login(client, world.city)
    r = client.get(
        f"/admin/donors/sessions/{session.id}",
        query_string={"format": "xlsx", "purpose": "现场签到"},
    )
    assert r.mimetype.endswith("spreadsheetml.sheet") and r.data[:2] == b"PK"
    assert _audit("sample_roster_exported")[0].changes["purpose"] == "现场签到"
    r = client.get("/admin/donors/organ/", query_string={"format": "csv", "purpose": "年度统计"})
    assert "QG-610302-000001" in r.data.decode("utf-8")


def test_status_steps_and_the_indicators(world, booked, client, login):
    reg, session, organ_reg = booked
    login(client, world.officer)
    assert (
        client.post(f"/admin/donors/marrow/{reg.id}/step", data={"step": "typed"}).status_code
        == 400
    )  # out of order
    assert (
        client.post(f"/admin/donors/marrow/{reg.id}/step", data={"step": "sampled"}).status_code
        == 302
    )
    db.session.refresh(reg)
    assert reg.status == marrow.SAMPLED and reg.sampled_at is not None
    assert (
        client.post(f"/admin/donors/marrow/{reg.id}/step", data={"step": "typed"}).status_code
        == 302
    )
    db.session.refresh(reg)
    assert reg.status == marrow.TYPED
    assert [e.changes["status"] for e in _audit("marrow_status_changed")] == [
        ["sample_booked", "sampled"],
        ["sampled", "typed"],
    ]

    ids = scoped_branch_ids(world.officer)
    start, end = utcnow() - timedelta(days=1), utcnow() + timedelta(days=1)
    marrow_ind = indicators.get_indicator("marrow_donors")
    organ_ind = indicators.get_indicator("organ_donors")
    assert marrow_ind.live and organ_ind.live
    assert indicators.total(marrow_ind, ids, start, end) == 1
    assert indicators.total(organ_ind, ids, start, end) == 1
    marrow.withdraw(reg, world.citizen)
    organ._end(organ_reg, world.citizen)
    db.session.commit()
    assert indicators.total(marrow_ind, ids, start, end) == 0
    assert indicators.total(organ_ind, ids, start, end) == 0


def test_a_session_is_opened_by_form(world, client, login):
    login(client, world.officer)
    day = today_local() + timedelta(days=3)
    data = {
        "branch": str(world.a.id),
        "place": "渭滨区红十字会",
        "address": "经二路 12 号",
        "day": day.isoformat(),
        "starts": "09:00",
        "ends": "11:30",
        "capacity": "20",
    }
    assert (
        client.post("/admin/donors/sessions/new", data={**data, "ends": "08:00"}).status_code == 200
    )
    assert client.post(
        "/admin/donors/sessions/new", data={**data, "branch": str(world.b.id)}
    ).status_code in (200, 404)
    r = client.post("/admin/donors/sessions/new", data=data)
    assert r.status_code == 302
    session = db.session.scalar(select(SampleSession))
    assert session.branch_id == world.a.id and session.capacity == 20
    assert session.starts_at.hour == 1 and session.starts_at.minute == 0  # 09:00 in Shanghai
    assert (
        client.get("/admin/donors/sessions/", headers=EN)
        .get_data(as_text=True)
        .count("渭滨区红十字会")
        >= 1
    )
    assert db.session.scalar(select(MarrowRegistration)) is None


def test_calling_off_a_session_frees_its_registrants(world, booked, client, login):
    reg, session, _ = booked
    login(client, world.officer)  # the county cannot call off the city's session
    assert client.post(f"/admin/donors/sessions/{session.id}/cancel").status_code == 404
    login(client, world.city)
    assert client.post(f"/admin/donors/sessions/{session.id}/cancel").status_code == 302
    db.session.refresh(reg)
    db.session.refresh(session)
    assert reg.status == marrow.CONFIRMED and session.cancelled_at is not None
    assert session.seats_taken == 0
    assert "marrow_session_cancelled" in db.session.scalars(select(Notification.kind)).all()
    assert marrow.sessions_for(reg) == []  # no longer offered
    assert _audit("sample_session_cancelled")[0].changes == {"bookings": 1}


def test_my_red_cross_shows_the_registrations(world, booked, client, login):
    login(client, world.citizen)
    html = client.get("/my", headers=EN).get_data(as_text=True)
    assert "Life-saving registrations" in html and "Sample appointment booked" in html
    assert "QG-610302-000001" in html and 'href="/account/consents"' in html


def test_in_wechat_the_export_says_to_open_a_browser(world, booked, client, login):
    from tests.conftest import WECHAT_UA

    login(client, world.officer)
    html = client.get("/admin/donors/marrow/", headers={**EN, "User-Agent": WECHAT_UA}).get_data(
        as_text=True
    )
    assert "Open this page in your browser to download" in html


def test_search_by_name_or_last_four_phone_digits(world, booked, client, login):
    login(client, world.officer)
    for q, found in (("晓明", True), ("5678", True), ("王", False), ("1234", False)):
        html = client.get("/admin/donors/marrow/", query_string={"q": q}).get_data(as_text=True)
        assert ("张晓明" in html) is found, q
