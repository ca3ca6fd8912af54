"""Consent (PIPL): the ledger services, the separate consent on the real-name profile,
"My consents" with withdrawal (which deletes the real-name profile), the privacy policy
page and the operator's details in the footer."""

from dataclasses import replace

import pytest
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from stdnum.cn import ric

from portal.accounts.models import RealNameProfile
from portal.accounts.profiles import save_profile
from portal.audit.models import AuditEntry
from portal.consent import policy
from portal.consent import services as consent
from portal.consent.models import ConsentRecord
from portal.consent.purposes import ID_DOCUMENT, PURPOSES, Purpose
from portal.consent.services import ConsentError
from portal.extensions import db
from tests.conftest import count

NUMBER = "61030219880622046" + ric.calc_check_digit("61030219880622046" + "0")
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}
FORM = {"full_name": "张丽娟", "doc_type": "resident_id", "doc_number": NUMBER}
VERSION = PURPOSES[ID_DOCUMENT].version
CONSENT_NEEDED = "To save your document number we need your consent"


def ledger(user=None) -> list[tuple]:
    db.session.expire_all()
    stmt = select(ConsentRecord).order_by(ConsentRecord.id)
    if user is not None:
        stmt = stmt.where(ConsentRecord.user_id == user.id)
    return [(r.purpose, r.action, r.version) for r in db.session.scalars(stmt)]


@pytest.fixture
def citizen(client, make_user, login):
    user = make_user()
    login(client, user)
    return user


@pytest.fixture
def second_purpose(monkeypatch):
    """A second purpose, as later features will add (membership, marrow...)."""
    key = "test_marrow"
    monkeypatch.setitem(
        PURPOSES, key, Purpose(key=key, label=_l("Marrow"), texts={"1": _l("Marrow text")})
    )
    return key


# --- the service ---------------------------------------------------------------------------


def test_give_records_the_current_version_once(make_user):
    user = make_user()
    row = consent.give(user, ID_DOCUMENT, ip="203.0.113.9")
    assert (row.purpose, row.action, row.version, row.ip) == (
        ID_DOCUMENT,
        "given",
        VERSION,
        "203.0.113.9",
    )
    assert consent.give(user, ID_DOCUMENT) is row  # already standing: nothing added
    db.session.commit()
    assert ledger(user) == [(ID_DOCUMENT, "given", VERSION)]
    assert consent.is_given(user, ID_DOCUMENT)


def test_give_refuses_unknown_purposes_and_other_versions(make_user):
    user = make_user()
    with pytest.raises(ConsentError):
        consent.give(user, "no_such_purpose")
    with pytest.raises(ConsentError):
        consent.give(user, ID_DOCUMENT, version="0")
    with pytest.raises(ConsentError):
        consent.withdraw(user, ID_DOCUMENT)  # never given
    assert count(ConsentRecord) == 0


def test_history_and_state_are_per_purpose_and_per_person(make_user, second_purpose):
    user, other = make_user(), make_user()
    consent.give(user, ID_DOCUMENT)
    consent.give(user, second_purpose)
    consent.withdraw(user, second_purpose)
    consent.give(other, second_purpose)
    db.session.commit()

    assert consent.is_given(user, ID_DOCUMENT)
    assert not consent.is_given(user, second_purpose)
    assert consent.is_given(other, second_purpose) and not consent.is_given(other, ID_DOCUMENT)
    assert [(r.action, r.version) for r in consent.history(user, second_purpose)] == [
        ("withdrawn", "1"),
        ("given", "1"),
    ]
    assert [r.purpose for r in consent.history(user, ID_DOCUMENT)] == [ID_DOCUMENT]
    assert len(consent.history(user)) == 3
    latest = consent.latest_by_purpose(user)
    assert {k: r.action for k, r in latest.items()} == {
        ID_DOCUMENT: "given",
        second_purpose: "withdrawn",
    }


def test_a_consent_to_an_older_text_is_not_current(make_user, monkeypatch):
    user = make_user()
    consent.give(user, ID_DOCUMENT)
    p = PURPOSES[ID_DOCUMENT]
    monkeypatch.setitem(PURPOSES, ID_DOCUMENT, replace(p, texts={**p.texts, "2": _l("New")}))
    assert not consent.is_given(user, ID_DOCUMENT)
    assert consent.is_given(user, ID_DOCUMENT, current_version=False)
    consent.give(user, ID_DOCUMENT)
    db.session.commit()
    assert ledger(user) == [(ID_DOCUMENT, "given", VERSION), (ID_DOCUMENT, "given", "2")]


def test_profile_service_needs_consent_and_writes_it_with_the_profile(make_user):
    from portal.accounts.profiles import ProfileError

    user = make_user()
    with pytest.raises(ProfileError) as exc:
        save_profile(user, full_name="<b>", doc_type="resident_id", doc_number=NUMBER)
    db.session.rollback()
    assert set(exc.value.errors) == {"id_consent", "full_name"}  # reported together
    assert count(RealNameProfile) == 0 and count(ConsentRecord) == 0

    save_profile(
        user,
        full_name="张丽娟",
        doc_type="resident_id",
        doc_number=NUMBER,
        id_consent=True,
        ip="198.51.100.7",
    )
    db.session.rollback()  # one transaction: the consent goes with the profile
    assert count(RealNameProfile) == 0 and count(ConsentRecord) == 0


# --- the profile form ----------------------------------------------------------------------


def test_the_consent_box_is_separate_and_unticked(client, citizen):
    page = client.get("/account/profile", headers=EN).text
    assert 'id="id_consent" name="id_consent" type="checkbox" value="y">' in page
    assert "checked" not in page[page.index('id="id_consent"') - 30 :]
    assert "I separately agree" in page and 'href="/privacy"' in page


def test_profile_without_consent_is_refused_beside_the_box(client, citizen):
    r = client.post("/account/profile", data=FORM, headers=EN)
    assert r.status_code == 200
    assert 'id="id_consent-err"' in r.text and CONSENT_NEEDED in r.text
    assert 'value="张丽娟"' in r.text  # what was typed is kept (not the valid number)
    assert NUMBER not in r.text and "please type it once more" in r.text
    assert count(RealNameProfile) == 0
    assert count(ConsentRecord) == 0
    assert count(AuditEntry) == 0


def test_profile_without_consent_in_chinese(client, citizen):
    r = client.post("/account/profile", data=FORM, headers=ZH)
    assert r.status_code == 200 and "保存证件号码需要您的同意" in r.text


def test_profile_with_consent_writes_the_ledger_row(client, citizen):
    r = client.post("/account/profile", data={**FORM, "id_consent": "y"}, headers=EN)
    assert r.status_code == 302
    row = db.session.scalar(select(ConsentRecord))
    assert (row.user_id, row.purpose, row.action, row.version) == (
        citizen.id,
        ID_DOCUMENT,
        "given",
        VERSION,
    )
    assert row.ip == "127.0.0.1"
    assert count(RealNameProfile) == 1

    # Once given, the form says so instead of asking again; saving adds no second row.
    page = client.get("/account/profile", headers=EN).text
    assert 'name="id_consent"' not in page and "You have agreed" in page
    assert f'action="/account/consents/{ID_DOCUMENT}/withdraw"' in page  # where it was given
    r = client.post("/account/profile", data={**FORM, "full_name": "张丽"}, headers=EN)
    assert r.status_code == 302
    assert ledger() == [(ID_DOCUMENT, "given", VERSION)]


def test_a_new_consent_text_is_asked_for_again(client, citizen, monkeypatch):
    client.post("/account/profile", data={**FORM, "id_consent": "y"})
    p = PURPOSES[ID_DOCUMENT]
    monkeypatch.setitem(PURPOSES, ID_DOCUMENT, replace(p, texts={**p.texts, "2": _l("New")}))
    r = client.post("/account/profile", data={**FORM, "doc_number": ""}, headers=EN)
    assert r.status_code == 200 and CONSENT_NEEDED in r.text
    r = client.post("/account/profile", data={**FORM, "doc_number": "", "id_consent": "y"})
    assert r.status_code == 302
    assert ledger() == [(ID_DOCUMENT, "given", VERSION), (ID_DOCUMENT, "given", "2")]


# --- My consents and withdrawal ------------------------------------------------------------


def test_my_consents_needs_login(client):
    assert client.get("/account/consents").status_code == 302
    r = client.post(f"/account/consents/{ID_DOCUMENT}/withdraw", data={"confirm": "yes"})
    assert r.status_code == 302 and "/account/login" in r.headers["Location"]


def test_my_consents_lists_each_purpose(client, citizen, second_purpose):
    page = client.get("/account/consents", headers=EN).text
    assert "Identity document number (real-name profile)" in page and "Marrow" in page
    listed = [p for p in PURPOSES.values() if p.listed_unasked]  # not the guardian's
    assert page.count("Not given.") == len(listed) and "Withdraw this consent" not in page
    assert 'href="/account/profile"' in page  # where the ID consent is asked for
    consent.give(citizen, second_purpose)
    db.session.commit()
    page = client.get("/account/consents", headers=EN).text
    assert page.count("Withdraw this consent") == 1
    assert f'action="/account/consents/{second_purpose}/withdraw"' in page
    assert 'href="/account/consents"' in client.get("/account/", headers=EN).text


def test_withdrawing_the_id_consent_warns_then_deletes_the_profile(client, citizen):
    client.post("/account/profile", data={**FORM, "id_consent": "y"})
    assert count(RealNameProfile) == 1
    url = f"/account/consents/{ID_DOCUMENT}/withdraw"

    r = client.post(url, headers=EN)  # the button on "My consents": first the warning
    assert r.status_code == 200
    assert "we delete your real-name profile" in r.text
    assert 'name="confirm" value="yes"' in r.text
    assert count(RealNameProfile) == 1 and ledger() == [(ID_DOCUMENT, "given", VERSION)]

    r = client.post(url, data={"confirm": "yes"}, headers=EN)
    assert r.status_code == 302 and r.headers["Location"] == "/account/consents"
    assert ledger() == [(ID_DOCUMENT, "given", VERSION), (ID_DOCUMENT, "withdrawn", VERSION)]
    assert count(RealNameProfile) == 0
    actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions[-2:] == ["profile_deleted", "consent_withdrawn"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "consent_withdrawn"))
    assert entry.actor_id == citizen.id
    assert entry.changes == {"purpose": ID_DOCUMENT, "version": VERSION}

    page = client.get("/account/consents", headers=EN).text
    assert "Your consent is withdrawn." in page and "Withdrawn on" in page
    assert "Add my real-name profile" in client.get("/account/", headers=EN).text
    # Adding the profile again asks for consent again.
    r = client.post("/account/profile", data=FORM, headers=EN)
    assert r.status_code == 200 and CONSENT_NEEDED in r.text


def test_a_purpose_without_effect_is_withdrawn_in_one_step(client, citizen, second_purpose):
    consent.give(citizen, second_purpose)
    db.session.commit()
    r = client.post(f"/account/consents/{second_purpose}/withdraw")
    assert r.status_code == 302
    assert ledger() == [(second_purpose, "given", "1"), (second_purpose, "withdrawn", "1")]


def test_withdrawing_what_is_not_given_or_does_not_exist(client, citizen):
    r = client.post(f"/account/consents/{ID_DOCUMENT}/withdraw", data={"confirm": "yes"})
    assert r.status_code == 302 and count(ConsentRecord) == 0
    r = client.post("/account/consents/nothing/withdraw", data={"confirm": "yes"})
    assert r.status_code == 404
    assert client.post("/account/consents/%00/withdraw").status_code == 404
    assert count(AuditEntry) == 0


def test_someone_else_cannot_withdraw_my_consent(client, citizen, make_user):
    other = make_user()
    consent.give(other, ID_DOCUMENT)
    db.session.commit()
    client.post(f"/account/consents/{ID_DOCUMENT}/withdraw", data={"confirm": "yes"})
    assert consent.is_given(other, ID_DOCUMENT)


# --- the privacy policy and the footer -----------------------------------------------------


@pytest.mark.parametrize(
    "headers, words",
    [
        (
            ZH,
            ["隐私政策", "1.0 版，自 2026-12-01 起施行", "敏感个人信息", "中华骨髓库", "撤回同意"],
        ),
        (
            EN,
            [
                "Privacy policy",
                "Version 1.0, in force from 2026-12-01",
                "separate consent",
                "China Marrow Donor Program",
                "Withdrawing consent",
            ],
        ),
    ],
)
def test_the_privacy_policy_in_each_language(client, headers, words):
    r = client.get("/privacy", headers=headers)
    assert r.status_code == 200
    for word in words:
        assert word in r.text
    assert policy.CURRENT == "1.0"
    assert client.get("/privacy/1.0", headers=headers).status_code == 200
    assert client.get("/privacy/0.9").status_code == 404


def test_an_earlier_version_stays_readable(client, monkeypatch):
    from datetime import date

    monkeypatch.setattr(policy, "VERSIONS", {"1.0": date(2026, 12, 1), "2.0": date(2027, 6, 1)})
    monkeypatch.setattr(policy, "CURRENT", "2.0")
    monkeypatch.setattr(policy, "template_for", lambda v, loc: f"consent/privacy/1.0_{loc}.html")
    page = client.get("/privacy/1.0", headers=EN).text
    assert "This is an earlier version." in page and 'href="/privacy/2.0"' in page


@pytest.fixture
def app_overrides():
    return {
        "OPERATOR_NAME_ZH": "宝鸡市红十字会",
        "OPERATOR_NAME_EN": "Baoji Red Cross Society",
        "CONTACT_PHONE": "0917-1234567",
        "CONTACT_EMAIL": "pi@example.net",
        "ICP_RECORD": "陕ICP备12345678号-1",
    }


def test_the_footer_names_the_operator_from_the_configuration(client):
    zh = client.get("/", headers=ZH).text
    footer = zh[zh.index('<footer class="site-footer">') :]
    for value in (
        "主办单位：宝鸡市红十字会",
        "0917-1234567",
        "pi@example.net",
        "陕ICP备12345678号-1",
    ):
        assert value in footer
    assert 'href="/privacy"' in footer and 'href="https://beian.miit.gov.cn/"' in footer
    en = client.get("/", headers=EN).text
    assert "Run by: Baoji Red Cross Society" in en
    # The privacy policy's contact section names them too.
    policy_page = client.get("/privacy", headers=EN).text
    assert "Phone: 0917-1234567; email: pi@example.net" in policy_page


def test_forms_collecting_personal_data_link_the_policy(client, citizen, make_branch):
    branch = make_branch(make_branch())
    for path in ("/account/profile", f"/branches/mine/request?branch={branch.id}"):
        r = client.get(path)
        assert r.status_code == 200 and 'href="/privacy"' in r.text, path
    anonymous = client.application.test_client()
    assert 'href="/privacy"' in anonymous.get("/account/register").text
