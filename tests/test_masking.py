"""ID numbers are shown as their first and last character only, everywhere (pages,
exports, the audit log, SMS), and no page shows a full birth date beside one: the
county (digits 1-6) and birth date (7-14) would give the whole number back."""

import re
from datetime import date

import pytest
from sqlalchemy import select
from stdnum.cn import ric

from portal.accounts.models import RealNameProfile
from portal.accounts.profiles import save_profile
from portal.audit.models import AuditEntry
from portal.branches.home_branch import KIND, request_home_branch
from portal.extensions import db
from portal.notifications.models import Notification
from portal.review.services import decide

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def rid(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


NUMBER = rid("61030219880622046")  # 渭滨区, a woman born 1988-06-22
MASKED = NUMBER[0] + "*" * 16 + NUMBER[-1]
OLD_MASKED = NUMBER[:4] + "*" * 10 + NUMBER[-4:]
BIRTH_DATE_FORMS = ("1988-06-22", "1988/06/22", "1988/6/22", "1988年6月22日", "19880622")


def assert_masked_only(html: str, masked: str = MASKED) -> None:
    assert masked in html
    assert NUMBER not in html and OLD_MASKED not in html
    # Nothing more than the first and last character either side of the stars.
    assert not re.search(r"[0-9A-Z]{2}\*{7,}|\*{7,}[0-9A-Z]{2}", html)


def assert_no_full_birth_date(html: str) -> None:
    for form in BIRTH_DATE_FORMS:
        assert form not in html


@pytest.fixture
def person(make_user):
    def make(locale="en", **fields):
        user = make_user(locale=locale)
        values = {"full_name": "张丽娟", "doc_type": "resident_id", "doc_number": NUMBER}
        values["id_consent"] = True
        save_profile(user, **{**values, **fields})
        db.session.commit()
        return user

    return make


# --- the citizen's own pages ------------------------------------------------------------


@pytest.mark.parametrize("headers", [EN, ZH])
def test_my_account_page_masks_the_number_and_shows_the_birth_year_only(
    client, login, person, headers
):
    login(client, person())
    r = client.get("/account/", headers=headers)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert_masked_only(html)
    assert_no_full_birth_date(html)
    assert "1988" in html


def test_edit_profile_page_masks_the_number_and_leaves_the_birth_date_out(client, login, person):
    user = person()
    login(client, user)
    html = client.get("/account/profile", headers=EN).get_data(as_text=True)
    assert_masked_only(html)
    assert_no_full_birth_date(html)


def test_a_passport_profile_page_never_fills_in_the_full_birth_date(client, login, person):
    user = person(doc_type="passport", doc_number="E12345678", birth_date="1970-02-03", sex="M")
    login(client, user)
    for url in ("/account/", "/account/profile"):
        html = client.get(url, headers=EN).get_data(as_text=True)
        assert "E*******8" in html and "E12345678" not in html and "E1*****78" not in html
        assert "1970-02-03" not in html and "1970" in html


def test_an_empty_birth_date_keeps_the_stored_one_for_the_same_document(client, login, person):
    user = person(doc_type="passport", doc_number="E12345678", birth_date="1970-02-03", sex="M")
    login(client, user)
    data = {"full_name": "王小明", "doc_type": "passport", "doc_number": "", "birth_date": ""}
    r = client.post("/account/profile", data=data, headers=EN)
    assert r.status_code == 302
    db.session.expire_all()
    profile = db.session.scalar(select(RealNameProfile).where(RealNameProfile.user_id == user.id))
    assert (profile.full_name, profile.birth_date) == ("王小明", date(1970, 2, 3))

    # Another kind of document is another birth date to check: it must be typed.
    data = {"full_name": "王小明", "doc_type": "taiwan_permit", "doc_number": "12345678"}
    r = client.post("/account/profile", data={**data, "birth_date": ""}, headers=EN)
    assert r.status_code == 200 and 'id="birth_date-err"' in r.get_data(as_text=True)


# --- staff pages, the audit log and its export -------------------------------------------


def test_inbox_item_page_shows_the_masked_number_without_the_birth_date(
    client, login, tree, person, make_user, grant_role
):
    officer = grant_role(make_user(locale="en"), tree.a, "officer")
    applicant = person()
    req = request_home_branch(applicant, tree.a, f"我的身份证号是{NUMBER}")
    db.session.commit()
    login(client, officer)
    r = client.get(f"/admin/inbox/{KIND}/{req.id}", headers=EN)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert_masked_only(html)
    assert "我的身份证号是" + MASKED in html  # the note's number is masked too
    assert_no_full_birth_date(html)


def test_a_reason_quoting_an_id_number_is_masked_in_the_sms_and_on_pages(
    client, login, tree, person, make_user, grant_role
):
    officer = grant_role(make_user(locale="en"), tree.a, "officer")
    applicant = person()
    req = request_home_branch(applicant, tree.a)
    db.session.commit()
    assert decide(req, officer, "reject", f"证件号{NUMBER}与资料不符") is True
    db.session.commit()

    [note] = db.session.scalars(
        select(Notification).where(Notification.kind == "review_decision")
    ).all()
    assert MASKED in note.body and NUMBER not in note.body and OLD_MASKED not in note.body
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "review_rejected")
    ).all()
    assert entry.changes["reason"] == f"证件号{MASKED}与资料不符"

    login(client, officer)
    html = client.get(f"/admin/inbox/{KIND}/{req.id}", headers=EN).get_data(as_text=True)
    assert f"证件号{MASKED}与资料不符" in html and NUMBER not in html
    login(client, applicant)
    html = client.get("/branches/mine", headers=EN).get_data(as_text=True)
    assert f"证件号{MASKED}与资料不符" in html and NUMBER not in html


def test_audit_page_and_export_mask_entries_written_with_the_old_masking(
    client, login, tree, make_user, grant_role
):
    auditor = grant_role(make_user(locale="en"), tree.a, "auditor")
    # Written before the masking was tightened: entries can never be rewritten.
    db.session.add(
        AuditEntry(
            action="review_rejected",
            branch_id=tree.a.id,
            changes={"reason": f"证件号{OLD_MASKED}与资料不符"},
        )
    )
    db.session.commit()
    login(client, auditor)
    html = client.get("/admin/audit", headers=EN).get_data(as_text=True)
    assert f"证件号{MASKED}与资料不符" in html and OLD_MASKED not in html
    r = client.get("/admin/audit", query_string={"format": "csv"}, headers=EN)
    assert r.status_code == 200
    text = r.get_data().decode("utf-8-sig")
    assert f"证件号{MASKED}与资料不符" in text and OLD_MASKED not in text
