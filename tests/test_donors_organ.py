# ruff: noqa: F811  (the `world` fixture is imported)
"""Organ / body donation wishes: 18+, consent, each amendment a new version (the latest
counts, the history shown), withdrawal with an SMS code, the e-card and its public page
that shows only the masked name, "registered" and the date."""

import re

import pytest
from sqlalchemy import select, text

from portal.accounts.models import SmsCode
from portal.consent.models import ConsentRecord
from portal.consent.purposes import ORGAN_WISH
from portal.donors import organ
from portal.donors.models import OrganRegistration, OrganWishVersion
from portal.extensions import db
from portal.notifications.models import Notification
from portal.timeutil import today_local
from tests.conftest import count
from tests.donors_world import born_years_ago, organ_form, world  # noqa: F401

EN = {"Accept-Language": "en"}


def _code_from_outbox() -> str:
    body = db.session.scalar(
        select(Notification.body)
        .where(Notification.kind == "organ_withdraw_code")
        .order_by(Notification.id.desc())
    )
    return re.search(r"\b(\d{6})\b", body).group(1)


def test_register_amend_withdraw_keeps_every_version(world, client, login, app):
    login(client, world.citizen)
    assert "Register my wish" in client.get("/organ/", headers=EN).get_data(as_text=True)
    assert client.post("/organ/", data=organ_form()).status_code == 302
    reg = db.session.scalar(select(OrganRegistration))
    assert reg.number == "QG-610302-000001" and reg.status == "registered"
    assert db.session.scalar(select(ConsentRecord.purpose)) == ORGAN_WISH
    page = client.get("/organ/", headers=EN).get_data(as_text=True)
    assert "Kidneys" in page and "Corneas" in page and "Heart" not in page

    amend_page = client.get("/organ/amend", headers=EN).get_data(as_text=True)
    assert 'value="王丽"' in amend_page and 'value="kidneys" checked' in amend_page
    r = client.post("/organ/amend", data=organ_form(organs_scope="all", organs=[], body="y"))
    assert r.status_code == 302
    db.session.expire_all()
    assert [v.version for v in reg.versions] == [1, 2]
    assert organ.latest_wish(reg).choices["organs_scope"] == "all"
    assert reg.versions[0].choices["organs"] == ["kidneys", "liver"]  # kept as it was
    history = client.get("/organ/history", headers=EN).get_data(as_text=True)
    assert "Version 1" in history and "Version 2" in history and "the one that counts" in history

    # Withdrawal: a wrong code is refused, the texted one works.
    client.post("/organ/withdraw", data={"step": "send"})
    html = client.post("/organ/withdraw", data={"code": "000000"}, headers=EN).get_data(
        as_text=True
    )
    assert db.session.scalar(select(OrganRegistration.status)) == "registered"
    assert "The code is not right" in html
    code = _code_from_outbox()
    r = client.post("/organ/withdraw", data={"code": code})
    assert r.status_code == 302
    db.session.expire_all()
    assert reg.status == "withdrawn" and [v.version for v in reg.versions] == [1, 2, 3]
    assert reg.versions[-1].action == "withdrawn" and reg.versions[0].choices is not None
    assert "organ_withdrawn" in db.session.scalars(select(Notification.kind)).all()
    assert organ.current_registration(world.citizen) is None
    # The card no longer verifies as registered.
    verify = client.get(f"/verify/{reg.card_token}", headers=EN).get_data(as_text=True)
    assert "Withdrawn" in verify


def test_withdraw_needs_the_code(world, client, login):
    login(client, world.citizen)
    client.post("/organ/", data=organ_form())
    client.post("/organ/withdraw", data={"code": "123456"})
    assert db.session.scalar(select(OrganRegistration.status)) == "registered"


def test_under_18_is_refused(world, client, login):
    world.citizen.profile.birth_date = born_years_ago(18, today_local(), days_more=-1)
    db.session.commit()
    login(client, world.citizen)
    html = client.get("/organ/", headers=EN).get_data(as_text=True)
    assert "from the age of 18" in html
    client.post("/organ/", data=organ_form())
    assert count(OrganRegistration) == 0


def test_turning_18_today_may_register(world, client, login):
    world.citizen.profile.birth_date = born_years_ago(18, today_local())
    db.session.commit()
    login(client, world.citizen)
    assert client.post("/organ/", data=organ_form()).status_code == 302
    assert count(OrganRegistration) == 1


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"consent": None}, "Without this consent"),
        ({"family_informed": None}, "Please tell a family member first"),
        ({"organs_scope": "some", "organs": []}, "Please tick the organs"),
        ({"organs_scope": "none", "tissues": [], "body": None}, "at least one thing"),
        ({"organs": ["brain"]}, "only from the list"),
        ({"family_phone": "12345"}, ""),
    ],
)
def test_bad_choices_write_nothing(world, client, login, over, message):
    login(client, world.citizen)
    r = client.post("/organ/", data=organ_form(**over), headers=EN)
    assert r.status_code == 200 and message in r.get_data(as_text=True)
    assert count(OrganRegistration) == 0 and count(OrganWishVersion) == 0


def test_raw_rows_hold_no_choice_or_family_in_clear(world, client, login):
    login(client, world.citizen)
    client.post("/organ/", data=organ_form(body="y"))
    rows = db.session.execute(text("SELECT * FROM organ_wish_versions")).mappings().all()
    dump = b"".join(
        repr(dict(r)).encode() + b"".join(v for v in r.values() if isinstance(v, bytes))
        for r in rows
    )
    for secret in ("kidneys", "corneas", "王丽", "13800003333", "妻子", "body"):
        assert secret.encode() not in dump, secret


def test_verification_page_shows_only_masked_name_status_and_date(world, client, login):
    login(client, world.citizen)
    client.post("/organ/", data=organ_form())
    reg = db.session.scalar(select(OrganRegistration))
    card = client.get("/organ/card", headers=EN).get_data(as_text=True)
    assert "<svg" in card and reg.number in card
    page = client.get(f"/verify/{reg.card_token}", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "张*明" in html and "Registered" in html
    assert today_local().isoformat() in html
    for hidden in (
        "张晓明",
        "Kidneys",
        "Liver",
        "Corneas",
        "王丽",
        "13800003333",
        "13912345678",
        "6****************X",
        reg.number,
        "渭滨区",
    ):
        assert hidden not in html, hidden


def test_withdrawing_consent_erases_every_version(world, client, login):
    login(client, world.citizen)
    client.post("/organ/", data=organ_form())
    client.post("/organ/amend", data=organ_form(organs_scope="all"))
    r = client.post(f"/account/consents/{ORGAN_WISH}/withdraw", data={"confirm": "yes"})
    assert r.status_code == 302
    reg = db.session.scalar(select(OrganRegistration))
    db.session.expire_all()
    assert reg.status == "withdrawn"
    assert all(v.choices is None and v.family is None for v in reg.versions)


def test_sms_code_rows_are_hashed(world, client, login):
    login(client, world.citizen)
    client.post("/organ/", data=organ_form())
    client.post("/organ/withdraw", data={"step": "send"})
    row = db.session.scalar(select(SmsCode).where(SmsCode.purpose == "organ_withdraw"))
    assert row is not None and _code_from_outbox() not in row.code_hash
