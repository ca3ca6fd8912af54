"""The real-name profile: the save service (encryption, one document per account, audit,
age), the "My account" and profile pages, and the demo citizens."""

import logging
import os
import threading
from datetime import date

import pytest
from flask import current_app
from sqlalchemy import select, text
from stdnum.cn import ric

from portal import crypto
from portal.accounts import profiles
from portal.accounts.models import RealNameProfile
from portal.accounts.profiles import ProfileError, document_number, save_profile
from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.timeutil import today_local
from tests.conftest import count

TODAY = date(2026, 5, 20)


@pytest.fixture
def app_overrides():
    # These tests read messages in English; test_i18n_care covers the Chinese default.
    return {"BABEL_DEFAULT_LOCALE": "en"}


def rid(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


NUMBER = rid("61030219880622046")  # a woman born 1988-06-22
OTHER_NUMBER = rid("61032319520314013")  # a man born 1952-03-14


def save(user, **fields):
    values = {
        "full_name": "张丽娟",
        "doc_type": "resident_id",
        "doc_number": NUMBER,
        "id_consent": True,
        "today": TODAY,
    }
    values.update(fields)
    profile = save_profile(user, **values)
    db.session.commit()
    return profile


def refused(user, **fields) -> dict:
    with pytest.raises(ProfileError) as exc:
        save(user, **fields)
    db.session.rollback()
    with current_app.test_request_context():  # the locale is chosen per request
        return {k: str(v) for k, v in exc.value.errors.items()}


# --- the service ---------------------------------------------------------------------------


def test_resident_id_profile_is_stored_encrypted_indexed_and_masked(make_user):
    user = make_user()
    profile = save(user, doc_number=NUMBER.lower(), full_name=" 张丽娟 ")
    assert profile.full_name == "张丽娟"
    assert profile.birth_date == date(1988, 6, 22) and profile.sex == "F"
    assert profile.doc_number_masked == NUMBER[0] + "*" * 16 + NUMBER[-1]
    assert profile.doc_number_hmac == crypto.blind_index(f"resident_id:{NUMBER}", "doc_number")
    assert NUMBER.encode() not in profile.doc_number_enc
    assert document_number(profile) == NUMBER
    assert crypto.decrypt(profile.doc_number_enc, "doc_number") == NUMBER


def test_ciphertext_is_bound_to_its_context(make_user):
    from cryptography.exceptions import InvalidTag

    profile = save(make_user())
    with pytest.raises(InvalidTag):
        crypto.decrypt(profile.doc_number_enc, "something_else")


def test_plain_number_is_nowhere_in_the_stored_row(make_user, database_url):
    user = make_user()
    save(user)
    db.session.expire_all()
    row = db.session.execute(select(RealNameProfile.__table__)).one()
    for value in row:
        if isinstance(value, bytes):
            assert NUMBER.encode() not in value
        else:
            assert NUMBER not in str(value) and NUMBER[6:14] + NUMBER[14:] not in str(value)
    if db.engine.dialect.name == "postgresql":
        row_text = db.session.scalar(text("SELECT t::text FROM real_name_profiles t"))
        # the masked form (first and last character only) is there
        assert NUMBER not in row_text and NUMBER[0] + "*" * 16 + NUMBER[-1] in row_text
    elif database_url.startswith("sqlite:///"):
        db.session.remove()
        db.engine.dispose()  # make sure everything is on disk
        raw = open(database_url.removeprefix("sqlite:///"), "rb").read()
        assert NUMBER.encode() not in raw
        assert "张丽娟".encode() in raw  # the check reads the real file


def test_same_document_on_a_second_account_is_refused(make_user):
    save(make_user())
    other = make_user()
    errors = refused(other, doc_number=f" {NUMBER[:6]} {NUMBER[6:]} ", full_name="李四")
    assert "already linked to another account" in errors["doc_number"]
    assert count(RealNameProfile) == 1
    assert (
        db.session.scalar(select(RealNameProfile).where(RealNameProfile.user_id == other.id))
        is None
    )


def test_same_number_under_another_document_type_is_a_different_document(make_user):
    save(make_user(), doc_type="taiwan_permit", doc_number="12345678", birth_date="1960-01-01")
    save(make_user(), doc_type="passport", doc_number="12345678", birth_date="1970-01-01")
    assert count(RealNameProfile) == 2


@pytest.mark.parametrize(
    "number, message",
    [
        (NUMBER, "resident ID number"),
        (NUMBER.lower(), "resident ID number"),
        ("H12345678", "travel permit"),
        ("M1234567890", "travel permit"),
    ],
)
def test_a_resident_id_or_permit_typed_as_a_passport_is_refused(make_user, number, message):
    """Otherwise the per-type look-up would let a second account hold the same document."""
    save(make_user())
    errors = refused(make_user(), doc_type="passport", doc_number=number, birth_date="1988-06-22")
    assert message in errors["doc_number"]
    assert count(RealNameProfile) == 1


def test_lost_race_on_the_unique_index_gives_the_same_error(make_user, monkeypatch):
    save(make_user())
    # Both requests passed the look-up before either committed: only the index can tell.
    monkeypatch.setattr(profiles, "document_in_use", lambda *a, **kw: False)
    errors = refused(make_user(), full_name="李四")
    assert "already linked to another account" in errors["doc_number"]
    assert count(RealNameProfile) == 1


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="needs PostgreSQL: SQLite serialises writers, so there is no real race",
)
def test_two_accounts_racing_for_one_document(app, make_user, monkeypatch):
    # Both get past the look-up, as two requests a millisecond apart would: the unique
    # index must then stop the second one, and it must read as the same field error.
    monkeypatch.setattr(profiles, "document_in_use", lambda *a, **kw: False)
    users = [make_user().id, make_user().id]
    barrier = threading.Barrier(len(users))
    outcomes = []

    def attempt(user_id):
        from portal.accounts.models import User

        with app.test_request_context():  # its own app context, so its own db session
            user = db.session.get(User, user_id)
            barrier.wait()
            try:
                save(user)
                outcomes.append("saved")
            except ProfileError as exc:
                db.session.rollback()
                outcomes.append(str(exc.errors.get("doc_number")))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes)[-1] == "saved" and outcomes.count("saved") == 1
    assert any("already linked" in o for o in outcomes)
    assert count(RealNameProfile) == 1


def test_under_14_is_refused_and_nothing_written(make_user):
    errors = refused(make_user(), doc_number=rid("61030220130101002"))
    assert "guardian" in errors["doc_number"]
    errors = refused(
        make_user(), doc_type="passport", doc_number="E12345678", birth_date="2012-05-21"
    )
    assert "guardian" in errors["birth_date"]
    assert count(RealNameProfile) == 0
    save(make_user(), doc_type="passport", doc_number="E12345678", birth_date="2012-05-20")


def test_other_documents_need_a_birth_date_and_take_the_sex_given(make_user):
    user = make_user()
    errors = refused(user, doc_type="passport", doc_number="E12345678", birth_date="")
    assert "birth date" in errors["birth_date"]
    errors = refused(
        user, doc_type="passport", doc_number="E12345678", birth_date="2030-01-01", sex="X"
    )
    assert "future" in errors["birth_date"] and "sex" in errors
    profile = save(
        user, doc_type="hk_macao_permit", doc_number="h12345678", birth_date="1975年3月8日", sex="M"
    )
    assert (profile.birth_date, profile.sex) == (date(1975, 3, 8), "M")
    assert profile.doc_number_masked == "H*******8"
    assert document_number(profile) == "H12345678"


def test_resident_id_ignores_a_typed_birth_date_and_sex(make_user):
    profile = save(make_user(), birth_date="2000-01-01", sex="M")
    assert (profile.birth_date, profile.sex) == (date(1988, 6, 22), "F")


def test_all_field_errors_come_back_together(make_user):
    errors = refused(make_user(), full_name="<script>", doc_number="123")
    assert set(errors) == {"full_name", "doc_number"}


def test_unknown_document_type_is_refused(make_user):
    errors = refused(make_user(), doc_type="driving_licence")
    assert "doc_type" in errors


def test_audit_lists_field_names_never_the_number(make_user):
    user = make_user()
    profile = save(user)
    save(user, full_name="张丽", doc_number="")  # keep the number
    save(user, full_name="张丽", doc_number=OTHER_NUMBER)
    save(user, full_name="张丽", doc_number=OTHER_NUMBER)  # nothing changed: no entry
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["profile_created", "profile_updated", "profile_updated"]
    assert all(e.actor_id == user.id and e.object_id == str(profile.id) for e in entries)
    assert set(entries[0].changes["fields"]) == {
        "full_name",
        "doc_type",
        "birth_date",
        "sex",
        "doc_number",
    }
    assert entries[1].changes == {"fields": ["full_name"]}
    assert set(entries[2].changes["fields"]) == {"birth_date", "sex", "doc_number"}
    for e in entries:
        assert NUMBER not in repr(e.changes) and OTHER_NUMBER not in repr(e.changes)


def test_empty_number_keeps_the_stored_one_unless_the_type_changes(make_user):
    user = make_user()
    before = save(user).doc_number_enc
    profile = save(user, full_name="张丽", doc_number="  ")
    assert profile.doc_number_enc == before and document_number(profile) == NUMBER
    errors = refused(user, doc_type="passport", doc_number="", birth_date="1988-06-22")
    assert "new document" in errors["doc_number"]
    db.session.expire_all()
    assert db.session.scalar(select(RealNameProfile.doc_type)) == "resident_id"


def test_changing_to_a_document_already_used_elsewhere_is_refused(make_user):
    save(make_user(), doc_number=OTHER_NUMBER, full_name="李建国")
    user = make_user()
    save(user)
    errors = refused(user, doc_number=OTHER_NUMBER)
    assert "already linked" in errors["doc_number"]
    db.session.expire_all()
    mine = db.session.scalar(select(RealNameProfile).where(RealNameProfile.user_id == user.id))
    assert document_number(mine) == NUMBER


# --- pages ---------------------------------------------------------------------------------

EN = {"Accept-Language": "en"}


def test_pages_need_login(client):
    for path in ("/account/", "/account/profile"):
        r = client.get(path)
        assert r.status_code == 302 and "/account/login" in r.headers["Location"]
    r = client.post("/account/profile", data={"full_name": "王秀英"})
    assert r.status_code == 302
    assert count(RealNameProfile) == 0


def test_my_account_without_profile_invites_to_add_it(client, make_user, login):
    user = make_user(phone="13912345678")
    login(client, user)
    page = client.get("/account/", headers=EN).text
    assert "139****5678" in page and "13912345678" not in page
    assert "Add my real-name profile" in page
    for endpoint in (
        "/account/profile",
        "/account/password",
        "/account/sessions",
        "/branches/mine",
    ):
        assert f'href="{endpoint}"' in page


def test_adding_a_profile_through_the_form(client, make_user, login, caplog):
    user = make_user()
    login(client, user)
    caplog.set_level(logging.DEBUG)
    r = client.post(
        "/account/profile",
        data={
            "full_name": "买买提 · 艾力",
            "doc_type": "resident_id",
            "doc_number": NUMBER.lower(),
            "id_consent": "y",
        },
        headers=EN,
    )
    assert r.status_code == 302 and r.headers["Location"].endswith("/account/")
    assert NUMBER not in r.headers["Location"]
    profile = db.session.scalar(select(RealNameProfile))
    assert (profile.user_id, profile.full_name) == (user.id, "买买提·艾力")
    assert NUMBER not in caplog.text and NUMBER.lower() not in caplog.text

    page = client.get("/account/", headers=EN).text
    assert "买买提·艾力" in page and profile.doc_number_masked in page and NUMBER not in page
    # The birth year only: the full date beside the masked number tells too much.
    assert "1988-06-22" not in page and "06-22" not in page and "1988" in page
    assert "Birth year" in page and "Female" in page
    assert "Your real-name profile is saved." in page

    form = client.get("/account/profile", headers=EN).text
    assert NUMBER not in form and profile.doc_number_masked in form
    assert 'name="doc_number" spellcheck="false" type="text" value=""' in form
    assert 'value="买买提·艾力"' in form


def test_saving_the_form_with_an_empty_number_keeps_it(client, make_user, login):
    user = make_user()
    save(user)
    login(client, user)
    r = client.post(
        "/account/profile",
        data={"full_name": "张丽", "doc_type": "resident_id", "doc_number": ""},
    )
    assert r.status_code == 302
    db.session.expire_all()
    profile = db.session.scalar(select(RealNameProfile))
    assert profile.full_name == "张丽" and document_number(profile) == NUMBER


def test_duplicate_document_through_the_form(client, make_user, login):
    save(make_user())
    user = make_user()
    login(client, user)
    r = client.post(
        "/account/profile",
        data={
            "full_name": "李四",
            "doc_type": "resident_id",
            "doc_number": NUMBER,
            "id_consent": "y",
        },
        headers=EN,
    )
    assert r.status_code == 200
    assert "already linked to another account" in r.text
    assert 'id="doc_number-err"' in r.text and 'value="李四"' in r.text
    assert NUMBER not in r.text  # someone's real number is not echoed back
    assert count(RealNameProfile) == 1


def test_race_lost_at_commit_shows_the_field_error(client, make_user, login, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    user = make_user()
    login(client, user)
    real_commit = db.session.commit

    def failing_commit():
        db.session.rollback()
        monkeypatch.setattr(db.session, "commit", real_commit)
        raise IntegrityError("INSERT", {}, Exception("doc_number_hmac"))

    monkeypatch.setattr(db.session, "commit", failing_commit)
    r = client.post(
        "/account/profile",
        data={
            "full_name": "李四",
            "doc_type": "resident_id",
            "doc_number": NUMBER,
            "id_consent": "y",
        },
        headers=EN,
    )
    assert r.status_code == 200 and "already linked to another account" in r.text
    assert NUMBER not in r.text
    assert count(RealNameProfile) == 0


def test_under_14_through_the_form(client, make_user, login):
    login(client, make_user())
    today = today_local()
    born = date(today.year - 10, 1, 1)
    r = client.post(
        "/account/profile",
        data={
            "full_name": "王小明",
            "doc_type": "passport",
            "doc_number": "E12345678",
            "birth_date": born.isoformat(),
            "id_consent": "y",
        },
        headers=EN,
    )
    assert r.status_code == 200 and "guardian" in r.text and 'id="birth_date-err"' in r.text
    assert count(RealNameProfile) == 0


def test_edit_form_prefills_a_permit_profile(client, make_user, login):
    user = make_user()
    save(user, doc_type="taiwan_permit", doc_number="12345678", birth_date="1970-02-03", sex="M")
    login(client, user)
    page = client.get("/account/profile", headers=EN).text
    assert "1******8" in page and "12345678" not in page and "12****78" not in page
    # The stored birth date is not filled in beside the masked number: the year is said,
    # and an empty box keeps it.
    assert "1970-02-03" not in page and "born in 1970" in page
    assert 'checked id="doc_type-3"' in page
    assert '<option selected value="M">' in page


def test_profile_posts_are_rate_limited_per_account(client, make_user, login):
    login(client, make_user())
    data = {"full_name": "<script>", "doc_type": "resident_id", "doc_number": "1"}
    codes = [client.post("/account/profile", data=data).status_code for _ in range(31)]
    assert codes[:30] == [200] * 30 and codes[30] == 429


# --- demo data -----------------------------------------------------------------------------


def test_demo_citizens_load_once(app):
    from portal.accounts.models import User
    from portal.accounts.passwords import verify_password
    from portal.branches.models import StaffRole
    from portal.demo import DEMO_PASSWORD
    from portal.demo import accounts as demo

    lines = demo.load()
    db.session.commit()
    assert demo.load() == lines
    db.session.commit()
    assert len(lines) >= 6 and lines[0] == f"citizen  13900000001 / {DEMO_PASSWORD}  王秀英"
    users = db.session.scalars(select(User).order_by(User.phone)).all()
    assert len(users) == len(demo.CITIZENS) == count(RealNameProfile)
    assert {u.profile.full_name for u in users} >= {"买买提·艾力", "黄䶮"}
    for user in users:
        assert user.phone_verified_at is not None
        assert verify_password(user.password_hash, DEMO_PASSWORD)
        assert ric.is_valid(document_number(user.profile))
        assert 1950 <= user.profile.birth_date.year <= 2000
    assert count(StaffRole) == 0
