"""Reading ids and pages from requests (portal/ids.py): the one range every id obeys."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.ids import _ID_PATTERN, MAX_ID, as_id

NOT_IDS = [
    "",
    "0",
    "-1",
    "00",
    "007",
    " 7",
    "7 ",
    "+5",
    "1e3",
    "0x10",
    "1_000",
    "1.5",
    "１２",
    "٣",
    str(MAX_ID + 1),
    str(2**63),
    "9" * 5000,
    None,
    True,
    0,
    -3,
    MAX_ID + 1,
    2.0,
]


@pytest.mark.parametrize("value", NOT_IDS)
def test_what_is_not_an_id(value):
    assert as_id(value) is None


@pytest.mark.parametrize("value", ["1", "42", str(MAX_ID), 1, MAX_ID])
def test_what_is_an_id(value):
    assert as_id(value) == int(value)


@settings(max_examples=300, derandomize=True, database=None)
@given(st.integers(min_value=-(2**40), max_value=2**40))
def test_the_route_pattern_admits_exactly_the_ids(number):
    admitted = re.fullmatch(_ID_PATTERN, str(number)) is not None
    assert admitted == (1 <= number <= MAX_ID) == (as_id(str(number)) is not None)


@pytest.mark.parametrize(
    "number",
    [
        1,
        9,
        10,
        999_999_999,
        1_000_000_000,
        2_099_999_999,
        2_147_483_599,
        2_147_483_639,
        MAX_ID,
        MAX_ID + 1,
        2**32,
    ],
)
def test_the_route_pattern_at_each_digit_boundary(number):
    assert (re.fullmatch(_ID_PATTERN, str(number)) is not None) == (number <= MAX_ID)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("value", [str(MAX_ID + 1), str(2**63), "0", "007"])
def test_an_out_of_range_id_in_a_path_is_404_for_every_method(app, client, method, value):
    """GET and POST of /admin/branches/<id>/staff are separate rules: the range must be
    refused in the pattern, or werkzeug answers 405 for the method it checked first."""
    assert client.open(f"/admin/branches/{value}/staff", method=method).status_code == 404
