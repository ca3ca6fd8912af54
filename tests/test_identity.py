"""Pure identity rules: resident ID vectors, other documents, names, masking, birth dates, age."""

from datetime import date

import pytest
from stdnum.cn import ric

from portal.accounts import identity
from portal.accounts.identity import IdentityError
from portal.demo.accounts import check_digit, resident_id

TODAY = date(2026, 5, 20)


def rid(first17: str) -> str:
    """A number with a correct check character, computed by python-stdnum."""
    return first17 + ric.calc_check_digit(first17 + "0")


def error_text(exc_info) -> str:
    return str(exc_info.value.message)


# --- resident ID numbers -------------------------------------------------------------------


def test_valid_resident_id_gives_birth_date_and_sex():
    parsed = identity.parse_resident_id(rid("61030219880622046"), TODAY)
    assert parsed.number == rid("61030219880622046")
    assert parsed.birth_date == date(1988, 6, 22)
    assert parsed.sex == "F"  # 17th digit 6 is even

    male = identity.parse_resident_id(rid("61032319520314013"), TODAY)
    assert male.sex == "M" and male.birth_date == date(1952, 3, 14)


def test_known_published_example_is_valid():
    assert identity.parse_resident_id("360426199101010071", TODAY).sex == "M"


def test_lower_case_x_is_accepted_and_normalised():
    number = next(
        rid(f"6103021990010100{n}") for n in range(10) if rid(f"6103021990010100{n}").endswith("X")
    )
    parsed = identity.parse_resident_id(number.lower(), TODAY)
    assert parsed.number == number and parsed.number.endswith("X")


def test_spaces_dashes_and_full_width_digits_are_removed():
    number = rid("61030219880622046")
    spaced = f" {number[:6]} {number[6:14]}-{number[14:]} "
    assert identity.parse_resident_id(spaced, TODAY).number == number
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)
    assert identity.parse_resident_id(full_width, TODAY).number == number


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("", "Please enter"),
        ("61030219880622046", "18 characters"),  # 17 digits
        ("6103021988062204611", "18 characters"),
        ("61030219880622046A", "18 characters"),
        ("6103021988O622046X", "18 characters"),  # letter O inside
        ("٦١٠٣٠٢١٩٨٨٠٦٢٢٠٤٦٧", "18 characters"),  # Arabic-Indic digits
    ],
)
def test_badly_shaped_numbers_are_refused(value, fragment):
    with pytest.raises(IdentityError) as exc:
        identity.parse_resident_id(value, TODAY)
    assert fragment in error_text(exc)


def test_wrong_checksum_is_refused():
    good = rid("61030219880622046")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(IdentityError) as exc:
        identity.parse_resident_id(bad, TODAY)
    assert "not right" in error_text(exc)


def test_impossible_birth_date_is_refused():
    with pytest.raises(IdentityError) as exc:
        identity.parse_resident_id(rid("61032319990230001"), TODAY)  # 30 February
    assert "not a real date" in error_text(exc)


def test_future_birth_date_is_refused():
    with pytest.raises(IdentityError) as exc:
        identity.parse_resident_id(rid("61032320300101001"), TODAY)
    assert "future" in error_text(exc)


def test_birth_year_before_1900_is_refused():
    with pytest.raises(IdentityError) as exc:
        identity.parse_resident_id(rid("61032318890101001"), TODAY)
    assert "year" in error_text(exc)


@pytest.mark.parametrize("region", ["990000", "991234", "000000", "619999"])
def test_unknown_region_is_refused(region):
    # 619999: a known province with an unknown county; stdnum's validate() raises KeyError there.
    with pytest.raises(IdentityError) as exc:
        identity.parse_resident_id(rid(f"{region}19800101001"), TODAY)
    assert "region" in error_text(exc)


def test_county_code_newer_than_the_birth_year_is_accepted():
    # 渭滨区 (610302) exists since 1983; people born earlier were first registered there later.
    number = rid("61030219550101002")
    assert not ric.is_valid(number)
    assert identity.parse_resident_id(number, TODAY).birth_date == date(1955, 1, 1)


@pytest.mark.parametrize("region", ["810000", "820000", "830000"])
def test_residence_permits_for_hk_macao_taiwan_residents_are_accepted(region):
    parsed = identity.parse_resident_id(rid(f"{region}19600101001"), TODAY)
    assert parsed.birth_date == date(1960, 1, 1) and parsed.sex == "M"


def test_demo_check_digit_agrees_with_stdnum():
    for first17 in ["61030219880622046", "61032319520314013", "11010519491231002"]:
        assert check_digit(first17) == ric.calc_check_digit(first17 + "0")
    assert ric.is_valid(resident_id("610323", date(1952, 3, 14), "024"))


# --- other documents -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc_type, value, expected",
    [
        ("hk_macao_permit", "H12345678", "H12345678"),
        ("hk_macao_permit", "m1234567890", "M1234567890"),
        ("hk_macao_permit", "H 1234 5678", "H12345678"),
        ("taiwan_permit", "12345678", "12345678"),
        ("passport", "e12345678", "E12345678"),
        ("passport", "EA 1234567", "EA1234567"),
    ],
)
def test_other_documents_are_normalised(doc_type, value, expected):
    assert identity.normalise_document(doc_type, value) == expected


@pytest.mark.parametrize(
    "doc_type, value",
    [
        ("hk_macao_permit", "A12345678"),
        ("hk_macao_permit", "H1234567"),
        ("hk_macao_permit", "H123456789"),  # 9 digits: neither 8 nor 10
        ("taiwan_permit", "1234567"),
        ("taiwan_permit", "T1234567"),
        ("passport", "E12"),
        ("passport", "E1234567<script>"),
        ("passport", "x" * 21),
        ("passport", ""),
        ("driving_licence", "12345678"),
    ],
)
def test_bad_other_documents_are_refused(doc_type, value):
    with pytest.raises(IdentityError):
        identity.normalise_document(doc_type, value)


# --- masking -------------------------------------------------------------------------------


def test_masking_keeps_only_the_first_and_last_character():
    assert identity.mask_document("resident_id", "61010119900101123X") == "6" + "*" * 16 + "X"
    assert identity.mask_document("passport", "E12345678") == "E*******8"
    assert identity.mask_document("taiwan_permit", "12345678") == "1******8"
    assert identity.mask_document("hk_macao_permit", "H1234567890") == "H*********0"
    assert identity.mask_document("passport", "AB123") == "*****"  # too short to show any


def test_masked_resident_id_shows_neither_county_nor_birth_date():
    number = "61030219550101123X"  # 渭滨区, born 1955-01-01
    masked = identity.mask_document("resident_id", number)
    assert len(masked) == len(number)
    assert "610302" not in masked and "19550101" not in masked and "0101" not in masked


@pytest.mark.parametrize(
    "text, expected",
    [
        ("证件号61010119900101123X与资料不符", "证件号6****************X与资料不符"),
        ("old 15: 610101900101123.", "old 15: 6*************3."),
        # masked the old way (first and last 4 kept): masked again
        ("旧记录6101**********123X", "旧记录6****************X"),
        ("6101*******1123", "6*************3"),
        ("already 6****************X", "already 6****************X"),
        ("order 1234567890123456789 stays", "order 1234567890123456789 stays"),
        ("phone 13912345678 stays", "phone 13912345678 stays"),
    ],
)
def test_id_numbers_in_free_text_are_masked(text, expected):
    assert identity.mask_id_numbers_in_text(text) == expected


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("𠮷田", "𠮷田"),
        ("买买提·艾力", "买买提·艾力"),
        ("买买提 · 艾力", "买买提·艾力"),
        ("José Müller", "José Müller"),
        ("Jose\u0301 Mu\u0308ller", "José Müller"),  # decomposed accents become NFC
        ("O'Brien", "O'Brien"),
        ("O\u2019Brien", "O\u2019Brien"),
        ("Anne-Marie  Dupont", "Anne-Marie Dupont"),
        ("  王秀英\u3000", "王秀英"),
        ("アリス・スミス", "アリス・スミス"),
        ("Jean•Paul", "Jean•Paul"),
        ("黄䶮", "黄䶮"),
        ("王", "王"),
        ("名" * 50, "名" * 50),
        ("𠮷" * 50, "𠮷" * 50),  # 50 code points, 100 UTF-16 units
    ],
)
def test_good_names(value, expected):
    assert identity.normalise_name(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        None,
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "王\x00秀英",
        "王\t秀英",
        "王\n秀英",
        "王秀英2",
        "王秀英😀",
        "名" * 51,
        "·王",
        "王·",
        "王··英",
        "O''Brien",
        "-Anne",
        "\u0301abc",
        "王\u200b英",  # zero-width space
        "Robert'); DROP TABLE users;--",
    ],
)
def test_bad_names(value):
    with pytest.raises(IdentityError):
        identity.normalise_name(value)


# --- birth dates and age -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["1960-05-01", "1960/5/1", "1960.05.01", "19600501", "1960年5月1日", " 1960-5-1 "]
)
def test_birth_date_formats(value):
    assert identity.parse_birth_date(value) == date(1960, 5, 1)


@pytest.mark.parametrize(
    "value", ["", "1960-02-30", "yesterday", "01/05/1960", "1960-13-01", "٢٠٠٠-01-01"]
)
def test_bad_birth_dates(value):
    with pytest.raises(IdentityError):
        identity.parse_birth_date(value)


def test_age_counts_whole_years():
    assert identity.age_on(date(2012, 5, 20), TODAY) == 14
    assert identity.age_on(date(2012, 5, 21), TODAY) == 13
    assert identity.age_on(date(2008, 2, 29), date(2022, 2, 28)) == 13
    assert identity.age_on(date(2008, 2, 29), date(2022, 3, 1)) == 14


def test_under_14_is_refused_with_an_explanation():
    with pytest.raises(IdentityError) as exc:
        identity.check_minimum_age(date(2012, 5, 21), TODAY)
    assert "guardian" in error_text(exc)
    identity.check_minimum_age(date(2012, 5, 20), TODAY)  # 14 today: fine


def test_future_birth_date_check():
    with pytest.raises(IdentityError):
        identity.check_birth_date(date(2026, 5, 21), TODAY)
    identity.check_birth_date(TODAY, TODAY)
