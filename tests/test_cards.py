"""Card verification: a registered kind answers by token and by number + surname; the
page shows only the public facts; names are masked; QR codes are inline SVG."""

from datetime import date

import pytest

from portal.cards import services as cards
from portal.cards.services import CardKind, PublicCard, mask_name, surname_matches

HOLDER = {"name": "张晓明", "phone": "13912345678", "id": "610302199001011234"}
TOKEN = cards.new_token()


def _public(valid=True) -> PublicCard:
    return PublicCard(
        kind_label="Test card",
        masked_name=mask_name(HOLDER["name"]),
        number="TEST-000042",
        branch_name="渭滨区红十字会",
        status_label="Valid" if valid else "Expired",
        is_valid=valid,
        valid_from=date(2026, 1, 1),
        valid_until=date(2028, 12, 31),
    )


@pytest.fixture
def test_kind(monkeypatch):
    kind = CardKind(
        key="zz_test",
        label="Test card",
        by_token=lambda token: _public() if token == TOKEN else None,
        by_number=lambda number, surname: (
            _public()
            if number == "TEST-000042" and surname_matches(HOLDER["name"], surname)
            else None
        ),
    )
    monkeypatch.setitem(cards._KINDS, kind.key, kind)
    return kind


@pytest.mark.parametrize(
    "name, masked",
    [
        ("张晓明", "张*明"),
        ("李娜", "李*"),
        ("买买提·艾力", "买****力"),
        ("王", "王*"),
        ("Wang Li", "W*** L*"),
        ("", ""),
    ],
)
def test_names_are_masked(name, masked):
    assert mask_name(name) == masked


def test_surname_matching():
    assert surname_matches("张晓明", "张") and surname_matches("欧阳娜娜", "欧阳")
    assert not surname_matches("张晓明", "李") and not surname_matches("张晓明", "")
    assert surname_matches("Wang Li", "wang") and surname_matches("Li Wang", "Wang")


def test_tokens_are_unguessable_and_distinct():
    tokens = {cards.new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(len(t) >= 22 for t in tokens)


def test_the_qr_url_shows_the_masked_card_and_nothing_private(client, test_kind):
    r = client.get(f"/verify/{TOKEN}", headers={"Accept-Language": "en"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "张*明" in html and "TEST-000042" in html and "渭滨区红十字会" in html
    for private in HOLDER.values():
        assert private not in html


def test_an_unknown_token_answers_404(client, test_kind):
    r = client.get("/verify/not-a-real-token", headers={"Accept-Language": "en"})
    assert r.status_code == 404
    assert "No card matches this code" in r.get_data(as_text=True)


@pytest.mark.parametrize(
    "number, surname, found",
    [
        ("TEST-000042", "张", True),
        ("test-000042", "张", True),
        ("TEST-000042", "李", False),
        ("TEST-000041", "张", False),
    ],
)
def test_verify_by_number_and_surname(client, test_kind, number, surname, found):
    r = client.post(
        "/verify", data={"number": number, "surname": surname}, headers={"Accept-Language": "en"}
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert ("This card was issued by the Red Cross." in html) is found
    assert ("No card matches this number and surname." in html) is not found
    assert HOLDER["name"] not in html


@pytest.mark.parametrize(
    "values",
    [
        {"number": "", "surname": "张"},
        {"number": "X", "surname": ""},
        {"number": "A\u202eB", "surname": "张"},
        {"number": "1" * 41, "surname": "张"},
    ],
)
def test_verify_form_bad_input_gets_field_errors(client, test_kind, values):
    r = client.post("/verify", data=values, headers={"Accept-Language": "en"})
    assert r.status_code == 200
    assert 'class="error"' in r.get_data(as_text=True)


def test_qr_svg_is_inline_and_encodes_nothing_external():
    svg = str(cards.qr_svg("https://boai.example/verify/abc"))
    assert svg.startswith("<svg") and "http://www.w3.org/2000/svg" in svg
    assert "<image" not in svg and "href" not in svg


def test_my_red_cross_lists_the_home_branch_section(client, login, make_user, make_branch):
    citizen = make_user(locale="en")
    branch = make_branch(name="渭滨区红十字会")
    citizen.home_branch_id = branch.id
    from portal.extensions import db

    db.session.commit()
    login(client, citizen)
    html = client.get("/my").get_data(as_text=True)
    assert "My Red Cross" in html and "Your branch is 渭滨区红十字会." in html
    assert client.get("/").status_code == 200
    assert 'href="/my"' in client.get("/").get_data(as_text=True)


def test_my_red_cross_needs_a_login(client):
    r = client.get("/my")
    assert r.status_code == 302 and "/account/login" in r.headers["Location"]
