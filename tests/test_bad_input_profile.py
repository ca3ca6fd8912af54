"""Nasty values in every field of the real-name profile form: a clear error beside the
field, what was typed (other than the number) kept, no profile row written, never a 500."""

from datetime import date

import pytest
from markupsafe import escape
from stdnum.cn import ric

from portal.accounts.models import RealNameProfile
from portal.audit.models import AuditEntry
from portal.timeutil import today_local
from tests.conftest import count


def rid(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


VALID_ID = rid("61030219880622046")
WRONG_CHECKSUM = VALID_ID[:-1] + ("0" if VALID_ID[-1] != "0" else "1")
FUTURE_ID = rid("61032320300101001")
LONG = "王" * 10_000

# Values TESTING.md asks for, used in every field.
NASTY = [
    "",
    LONG,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "王\x00秀英",
    "\x00",
    "😀",
    "+86 138 0013 8000",
    "\u202eRTL override",
    "${jndi:ldap://x}",
    "../../etc/passwd",
]

RESIDENT = {
    "full_name": "王秀英",
    "doc_type": "resident_id",
    "doc_number": VALID_ID,
    "id_consent": "y",
}
PASSPORT = {
    "full_name": "José Müller",
    "doc_type": "passport",
    "doc_number": "E12345678",
    "birth_date": "1960-05-01",
    "sex": "M",
    "id_consent": "y",
}


def future(days: int = 1) -> str:
    return date.fromordinal(today_local().toordinal() + days).isoformat()


CASES = (
    [("full_name", v, RESIDENT) for v in NASTY + ["名" * 51, "王秀英2", "·"]]
    + [("doc_type", v, RESIDENT) for v in NASTY + ["RESIDENT_ID", "resident_id "]]
    + [
        ("doc_number", v, RESIDENT)
        for v in NASTY + [WRONG_CHECKSUM, FUTURE_ID, "𠮷", "买买提·艾力"]
    ]
    + [("doc_number", v, PASSPORT) for v in NASTY + ["E1234567<script>"]]
    + [("birth_date", v, PASSPORT) for v in NASTY + [future(), "1960-02-30", "1899-12-31"]]
    + [("sex", v, PASSPORT) for v in [v for v in NASTY if v] + ["male", "MF"]]
)


@pytest.fixture
def citizen(client, make_user, login):
    user = make_user()
    login(client, user)
    return user


@pytest.mark.parametrize(
    "field, value, base", CASES, ids=[f"{f}-{i}" for i, (f, _v, _b) in enumerate(CASES)]
)
def test_nasty_value_in_one_field(client, citizen, field, value, base):
    data = {**base, field: value}
    r = client.post("/account/profile", data=data, headers={"Accept-Language": "en"})
    assert r.status_code == 200, r.status_code
    page = r.text
    assert f'id="{field}-err"' in page, "the error sits beside the field"
    assert 'class="error"' in page
    if field != "full_name":
        assert f'value="{escape(data["full_name"])}"' in page, "the typed name is kept"
    assert VALID_ID not in page, "a real document number is never shown back"
    if field == "doc_number" and value:
        assert f'value="{escape(value)}"' in page, "a mistyped number is shown to fix it"
    assert count(RealNameProfile) == 0
    assert count(AuditEntry) == 0


def test_valid_number_is_asked_again_rather_than_shown_back(client, citizen):
    r = client.post(
        "/account/profile",
        data={**RESIDENT, "full_name": "<script>"},
        headers={"Accept-Language": "en"},
    )
    assert r.status_code == 200 and VALID_ID not in r.text
    assert "please type it once more" in r.text
    assert 'name="doc_number" spellcheck="false" type="text" value=""' in r.text


def test_typed_bad_name_is_kept_escaped(client, citizen):
    r = client.post("/account/profile", data={**RESIDENT, "full_name": "<b>王</b>1"})
    assert r.status_code == 200
    assert 'value="&lt;b&gt;王&lt;/b&gt;1"' in r.text and "<b>王</b>" not in r.text
    assert count(RealNameProfile) == 0


@pytest.mark.parametrize("name", ["𠮷田", "买买提·艾力", "José Müller", "O'Brien"])
def test_unusual_but_real_names_are_saved(client, citizen, name):
    r = client.post("/account/profile", data={**RESIDENT, "full_name": name})
    assert r.status_code == 302
    assert count(RealNameProfile) == 1


def test_ignored_fields_for_a_resident_id_do_not_block_saving(client, citizen):
    data = {**RESIDENT, "birth_date": "<script>", "sex": "' OR 1=1 --"}
    assert client.post("/account/profile", data=data).status_code == 302
    assert count(RealNameProfile) == 1


def test_missing_fields_entirely(client, citizen):
    r = client.post("/account/profile", data={}, headers={"Accept-Language": "en"})
    assert r.status_code == 200
    # No document type sent: the pre-selected resident ID card counts, so its number is asked.
    assert 'id="full_name-err"' in r.text and 'id="doc_number-err"' in r.text
    assert count(RealNameProfile) == 0


def test_repeated_fields_and_odd_content_types(client, citizen):
    r = client.post(
        "/account/profile",
        data={"full_name": ["王秀英", "<script>"], "doc_type": ["passport", "resident_id"]},
    )
    assert r.status_code == 200
    r = client.post("/account/profile", data="full_name=%00", content_type="text/plain")
    assert r.status_code == 200
    r = client.post(
        "/account/profile", data=b"\xff\xfe\x00", content_type="application/x-www-form-urlencoded"
    )
    assert r.status_code == 200
    assert count(RealNameProfile) == 0


def test_huge_body_is_refused_politely(client, citizen):
    r = client.post("/account/profile", data={**RESIDENT, "full_name": "王" * 1_000_000})
    assert r.status_code == 413
    assert count(RealNameProfile) == 0


@pytest.mark.parametrize("app_overrides", [{"WTF_CSRF_ENABLED": True}])
def test_profile_form_needs_its_csrf_token(client, citizen):
    r = client.post("/account/profile", data=RESIDENT)
    assert r.status_code == 400 and count(RealNameProfile) == 0
    page = client.get("/account/profile").text
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    r = client.post("/account/profile", data={**RESIDENT, "csrf_token": token})
    assert r.status_code == 302 and count(RealNameProfile) == 1
