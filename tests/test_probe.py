"""No input may produce a 500: every route, as every kind of visitor, with hostile values.

Routes are read from `app.url_map` and field names from the code (the views' reads of
request.args / request.form and every WTForms class), so a route or form added later is
probed without editing this file. Each role gets a fresh database and a small world to
act on (a branch tree, staff, pending requests), first a fixed sweep of out-of-range ids
(exactly 404), then hypothesis with random text, NUL and bidi characters and huge numbers.
Run it on PostgreSQL too: ids there are 32-bit, and a bigger one used to raise DataError.
"""

import inspect
import os
import re
import sys
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import IntegerConverter
from wtforms.fields.core import UnboundField

from portal.accounts.models import ServerSession
from portal.branches.home_branch import KIND, HomeBranchRequest
from portal.branches.models import StaffRole
from portal.extensions import db
from portal.review import kinds as review_kinds
from portal.timeutil import utcnow
from tests.conftest import add_profile

# Hypothesis examples per role: modest for CI; PROBE_EXAMPLES=1000 for a deep local run.
EXAMPLES = int(os.environ.get("PROBE_EXAMPLES", "60"))
ROLES = ("anonymous", "citizen", "county_officer", "city_admin", "auditor", "national_admin")
OUT_OF_RANGE = (0, 2**31, 2**63, 10**30)
HUGE = ("2147483648", "9223372036854775808", "-2147483649", "1" + "0" * 40)
BOUNDARY = (
    *HUGE,
    "2147483647",
    "-1",
    "0",
    "",
    " 7 ",
    "+5",
    "1e9",
    "0x10",
    "1_000",
    "1.5",
    "１２３",  # full-width digits: int() reads them
    "٣",  # an Arabic-Indic digit, likewise
    "9" * 5000,  # more digits than int() converts
)
# A number no id can be, and text PostgreSQL cannot store (NUL) with bidi overrides.
SWEEP = (HUGE[0], "1\x00\u202e\u2066𠮷")
NASTY_CHARS = "\x00\u202e\u2066\u2069\u200b\u200d\ufeff\r\n\t𠮷😀<>'\"&%;/\\:"
LONG = ("x" * 10_000, "𠮷" * 3_000, "\u202e" * 1_000)
PLAUSIBLE = ("admin", "officer", "auditor", "csv", "xlsx", "zh", "en", "1", "on", "y", "county")
# Names the views read through a variable (`source = request.values`) or that matter
# most; the rest are found in the code below.
ALWAYS = ("page", "branch", "back", "session_id", "kind", "item", "next", "parent", "under")
_READS = re.compile(
    r"request\.(?:args|form|values)(?:\.get|\.getlist)?[\[(]\s*\"(\w+)\"|source\.get\(\"(\w+)\""
)
_ARG = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
_PORTAL = Path(__file__).resolve().parent.parent / "portal"


def _form_classes(cls=FlaskForm):
    for sub in cls.__subclasses__():
        yield sub
        yield from _form_classes(sub)


def _reads(source: str) -> set[str]:
    return {a or b for a, b in _READS.findall(source)}


def _fields(form) -> set[str]:
    return {name for name in dir(form) if isinstance(getattr(form, name, None), UnboundField)}


def field_names() -> list[str]:
    """Every query or form name the code reads: request reads in the source, every
    WTForms field, and a few names read indirectly."""
    names = set(ALWAYS)
    for path in _PORTAL.rglob("*.py"):
        names |= _reads(path.read_text())
    for form in _form_classes():
        names |= _fields(form)
    return sorted(names)


def names_read_by(app, endpoint: str) -> list[str]:
    """The names the endpoint's module reads: its request reads and the fields of the
    forms it names. Narrower than field_names(), so every route gets each of them."""
    source = inspect.getsource(sys.modules[app.view_functions[endpoint].__module__])
    names = _reads(source)
    for form in _form_classes():
        if re.search(rf"\b{form.__name__}\b", source):
            names |= _fields(form)
    return sorted(names)


def targets(app) -> list[tuple[str, object]]:
    """(method, rule) for every route and method it answers."""
    return [
        (method, rule)
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]


def is_int_arg(rule, name: str) -> bool:
    return isinstance(rule._converters[name], IntegerConverter)


def build_url(rule, values: dict) -> str:
    def one(match):
        converter, name = match.group(1), match.group(2)
        return quote(str(values[name]), safe="/" if converter == "path" else "")

    return _ARG.sub(one, rule.rule)


# The world each role acts on ---------------------------------------------------------


@pytest.fixture
def world(app, make_branch, make_user, grant_role):
    national = make_branch()
    province = make_branch(national)
    city = make_branch(province)
    county = make_branch(city)
    sibling = make_branch(province)
    users = {
        "anonymous": None,
        "citizen": make_user(home_branch_id=county.id),
        "county_officer": grant_role(make_user(), county, "officer"),
        "city_admin": grant_role(make_user(), city, "admin"),
        "auditor": grant_role(make_user(), city, "auditor"),
        "national_admin": grant_role(make_user(), national, "admin"),
    }
    for user in users.values():
        if user is not None:
            add_profile(user)
    applicant = make_user()
    add_profile(applicant)
    now = utcnow()
    for who, where in ((applicant, county), (users["citizen"], sibling)):
        db.session.add(
            HomeBranchRequest(user_id=who.id, branch_id=where.id, created_at=now, submitted_at=now)
        )
    db.session.commit()
    ids = {
        "branch_id": [national.id, city.id, county.id, sibling.id],
        "role_id": list(db.session.scalars(db.select(StaffRole.id))),
        "request_id": list(db.session.scalars(db.select(HomeBranchRequest.id))),
    }
    ids["obj_id"] = ids["request_id"]
    everything = sorted({i for group in ids.values() for i in group})
    return SimpleNamespace(users=users, ids=ids, everything=everything)


def valid_ids(world, name: str) -> list[int]:
    return world.ids.get(name, world.everything)


def signed_in(app, login, user):
    client = app.test_client()
    if user is not None:
        login(client, user)
    return client


def fresh_login(client, login, user):
    """A new session before each request: a probe may have logged out or revoked it."""
    if user is not None:
        login(client, user)


def send(client, method: str, url: str, query: dict, form: dict):
    if method == "GET":
        return client.get(url, query_string=query)
    return client.open(url, method=method, query_string=query, data=form)


def _described(method, url, query, form, response) -> str:
    return f"{method} {url} query={query!r:.300} form={form!r:.300} -> {response.status_code}"


# Strategies -----------------------------------------------------------------------------


def hostile_text():
    chars = st.one_of(st.sampled_from(NASTY_CHARS), st.characters(codec="utf-8"))
    return st.text(alphabet=chars, max_size=40)


def hostile_value(world):
    return st.one_of(
        st.sampled_from(BOUNDARY),
        st.integers(min_value=-(2**80), max_value=2**80).map(str),
        hostile_text(),
        st.sampled_from(LONG),
        st.sampled_from([*PLAUSIBLE, f"{KIND}:{world.everything[-1]}"]),
        st.sampled_from(world.everything).map(str),
    )


def path_value(world, rule, name: str):
    if is_int_arg(rule, name):
        return st.one_of(
            st.sampled_from(valid_ids(world, name)),
            st.sampled_from(OUT_OF_RANGE),
            st.integers(min_value=-(2**70), max_value=2**70),
        )
    known = [k.key for k in review_kinds.kinds()]
    return st.one_of(st.sampled_from(known or ["x"]), hostile_text().filter(bool))


# The probe ------------------------------------------------------------------------------


def _path_sweep(app, client, world, bad_values) -> int:
    checked = 0
    for method, rule in targets(app):
        int_args = [a for a in rule.arguments if is_int_arg(rule, a)]
        for arg in int_args:
            for bad in bad_values:
                values = {a: valid_ids(world, a)[0] for a in int_args}
                values.update((a, KIND) for a in rule.arguments if a not in int_args)
                values[arg] = bad
                url = build_url(rule, values)
                response = send(client, method, url, {}, {})
                assert response.status_code == 404, _described(method, url, {}, {}, response)
                checked += 1
    return checked


@pytest.mark.parametrize("role", ROLES)
def test_out_of_range_ids_in_paths_answer_404(app, login, world, role):
    """Every `<int:...>` in every route, for every visitor: an id no row can have is not
    found (404), before any login redirect or permission check, never a DataError.
    (Such requests change nothing, so one login serves the whole sweep.)"""
    client = signed_in(app, login, world.users[role])
    bad = OUT_OF_RANGE if role in ("anonymous", "national_admin") else (2**31,)
    assert _path_sweep(app, client, world, bad) >= 15 * len(bad)  # the id routes were found


@pytest.mark.parametrize("role", ("anonymous", "citizen", "national_admin"))
def test_huge_numbers_and_nul_in_every_field_never_500(app, login, world, role):
    """Each name a route's module reads, set alone to a number no id can be and to text
    with NUL, on every route, as the visitors who get past each route's door (a national admin passes
    every staff check)."""
    user = world.users[role]
    client = signed_in(app, login, user)
    for method, rule in targets(app):
        if rule.endpoint == "static":
            continue
        values = {
            a: valid_ids(world, a)[-1] if is_int_arg(rule, a) else KIND for a in rule.arguments
        }
        url = build_url(rule, values)
        for name in names_read_by(app, rule.endpoint):
            for value in SWEEP:
                query = {name: value}
                form = query if method != "GET" else {}
                if method != "GET":
                    fresh_login(client, login, user)  # the last POST may have logged out
                response = send(client, method, url, query, form)
                assert response.status_code < 500, _described(method, url, query, form, response)


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("national_admin", "/admin/?branch=2147483648"),
        ("national_admin", "/admin/inbox?branch=2147483648"),
        ("national_admin", "/admin/branches/?parent=9223372036854775808"),
        ("citizen", "/branches/mine?under=2147483648"),
        ("citizen", "/branches/mine/request?branch=2147483648"),
    ],
)
def test_out_of_range_ids_in_query_strings_answer_404(app, login, world, role, url):
    client = signed_in(app, login, world.users[role])
    assert client.get(url).status_code == 404


def test_ending_a_session_with_an_out_of_range_id_answers_404(app, login, world):
    client = signed_in(app, login, world.users["citizen"])
    for bad in HUGE:
        response = client.post("/account/sessions", data={"session_id": bad})
        assert response.status_code == 404
    assert (
        db.session.scalar(db.select(db.func.count()).where(ServerSession.revoked_at.is_not(None)))
        == 0
    )


@pytest.mark.parametrize("role", ROLES)
def test_random_input_never_500(app, login, world, role):
    """Hypothesis: random routes, path values, query strings and form fields."""
    user = world.users[role]
    client = signed_in(app, login, user)
    names = field_names()
    routes = targets(app)
    name = st.one_of(st.sampled_from(names), hostile_text())

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(target=st.sampled_from(routes), data=st.data())
    def probe(target, data):
        method, rule = target
        values = {a: data.draw(path_value(world, rule, a), label=a) for a in rule.arguments}
        url = build_url(rule, values)
        fields = st.dictionaries(name, hostile_value(world), max_size=5)
        query = data.draw(fields, label="query")
        form = data.draw(fields, label="form") if method != "GET" else {}
        fresh_login(client, login, user)
        response = send(client, method, url, query, form)
        assert response.status_code < 500, _described(method, url, query, form, response)

    probe()


def test_the_probe_knows_the_names_the_views_read(app):
    names = field_names()
    # Read by views (grep), by WTForms classes and from the fixed list: the probe would
    # go blind if discovery broke.
    for expected in ("q", "format", "session_id", "phone", "new_parent_id", "reason", "locale"):
        assert expected in names


def test_nul_in_the_audit_search_is_a_field_message(app, login, world):
    client = signed_in(app, login, world.users["national_admin"])
    for field in ("object_kind", "object_id"):
        r = client.get("/admin/audit", query_string={field: "a\x00b"})
        assert r.status_code == 200 and 'class="error"' in r.get_data(as_text=True)


def test_nul_in_the_outbox_filter_is_ignored(app, client):
    assert client.get("/dev/outbox", query_string={"to": "139\x00"}).status_code == 200
