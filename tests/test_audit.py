"""The audit log pages: scoping, search filters, labels, paging, and that nothing in
the application can change an entry."""

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from portal import audit
from portal.admin.audit_query import ACTION_LABELS, AuditSearch, search_page
from portal.audit.models import AuditEntry
from portal.extensions import db
from tests.conftest import add_profile
from tests.test_migrations import empty_db_url  # noqa: F401  (a fresh database, migrated)

EN = {"Accept-Language": "en"}


@pytest.fixture
def world(make_user, make_branch, grant_role):
    """national > Shaanxi > Baoji > {Weibin > hospital, Qishan}, and staff at each level."""
    national = make_branch(name="中国红十字会总会")
    province = make_branch(national, name="陕西省红十字会")
    city = make_branch(province, name="宝鸡市红十字会")
    county = make_branch(city, name="渭滨区红十字会")
    sibling = make_branch(city, name="岐山县红十字会")
    unit = make_branch(county, name="宝鸡市中心医院红十字会", unit_type="hospital")
    w = SimpleNamespace(
        national=national, province=province, city=city, county=county, sibling=sibling, unit=unit
    )
    w.national_admin = grant_role(make_user(), national, "admin")
    w.city_admin = grant_role(make_user(), city, "admin")
    w.county_auditor = grant_role(make_user(), county, "auditor")
    w.sibling_auditor = grant_role(make_user(), sibling, "auditor")
    w.county_officer = grant_role(make_user(), county, "officer")
    w.citizen = make_user()
    return w


def add_entry(action="review_approved", branch=None, at=None, probe=False, **kw) -> AuditEntry:
    entry = audit.record(action, branch_id=branch.id if branch else None, **kw)
    if at is not None:
        entry.at = at
    if probe:
        db.session.flush()
        entry.object_id = str(entry.id)
    # Filled in before the commit: a committed entry can no longer change.
    db.session.commit()
    return entry


def visible_ids(client, **params) -> set[int]:
    """Ids of entries shown on the page, read back through their object links."""
    r = client.get("/admin/audit", query_string=params, headers=EN)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    return {e.id for e in db.session.scalars(select(AuditEntry)) if f"probe #{e.id}<" in html}


def main_part(response) -> str:
    html = response.get_data(as_text=True)
    return html[html.index("<main") : html.index("</main>")]


def probe(action="review_approved", branch=None, **kw) -> AuditEntry:
    """An entry whose object text ("probe #<id>") lets a test find it on the page."""
    return add_entry(action, branch, object_kind="probe", probe=True, **kw)


# --- who may open the log -------------------------------------------------------


def test_anonymous_is_sent_to_login(client):
    r = client.get("/admin/audit")
    assert r.status_code == 302 and "/account/login" in r.headers["Location"]


@pytest.mark.parametrize("who", ["citizen", "county_officer"])
def test_citizens_and_officers_are_refused(client, login, world, who):
    probe(branch=world.county)
    login(client, getattr(world, who))
    assert client.get("/admin/audit").status_code == 403


def test_county_auditor_sees_own_subtree_only(client, login, world):
    own = probe(branch=world.county)
    below = probe(branch=world.unit)
    sibling = probe(branch=world.sibling)
    parent = probe(branch=world.city)
    nobranch = probe(branch=None)
    login(client, world.county_auditor)
    seen = visible_ids(client)
    assert {own.id, below.id} <= seen
    assert not seen & {sibling.id, parent.id, nobranch.id}


def test_city_admin_sees_every_county_but_not_branchless_entries(client, login, world):
    entries = [probe(branch=b) for b in (world.city, world.county, world.sibling, world.unit)]
    above = probe(branch=world.province)
    nobranch = probe(branch=None)
    login(client, world.city_admin)
    seen = visible_ids(client)
    assert {e.id for e in entries} <= seen
    assert not seen & {above.id, nobranch.id}


def test_national_admin_also_sees_entries_without_a_branch(client, login, world):
    nobranch = probe("login", branch=None)
    county = probe(branch=world.county)
    login(client, world.national_admin)
    assert {nobranch.id, county.id} <= visible_ids(client)


def test_service_never_widens_scope_through_a_filter(world):
    sibling = probe(branch=world.sibling)
    user = world.county_auditor
    found = search_page(user, AuditSearch(branch_id=world.sibling.id)).rows
    assert found == []
    found = search_page(user, AuditSearch(object_kind="probe", object_id=sibling.object_id)).rows
    assert found == []


# --- search filters -------------------------------------------------------------


def test_filter_by_actor_phone_accepts_spaces_and_country_code(client, login, world, make_user):
    someone = make_user(phone="13912345678")
    theirs = probe(branch=world.county, actor=someone)
    other = probe(branch=world.county, actor=world.county_officer)
    login(client, world.city_admin)
    seen = visible_ids(client, actor="+86 139 1234 5678")
    assert theirs.id in seen and other.id not in seen


def test_filter_by_action_and_object(client, login, world):
    approved = probe("review_approved", branch=world.county)
    rejected = probe("review_rejected", branch=world.county)
    login(client, world.city_admin)
    assert visible_ids(client, action="review_rejected") == {rejected.id}
    seen = visible_ids(client, object_kind="probe", object_id=approved.object_id)
    assert seen == {approved.id}


def test_filter_by_branch_includes_the_branches_below(client, login, world):
    county = probe(branch=world.county)
    unit = probe(branch=world.unit)
    sibling = probe(branch=world.sibling)
    login(client, world.city_admin)
    seen = visible_ids(client, branch=world.county.id)
    assert {county.id, unit.id} <= seen and sibling.id not in seen


def test_date_range_is_in_shanghai_time(client, login, world):
    # 2026-03-01 16:30 UTC is 2026-03-02 00:30 in Shanghai.
    late = probe(branch=world.county, at=datetime(2026, 3, 1, 16, 30))
    # 2026-03-01 15:59 UTC is still 2026-03-01 23:59 in Shanghai.
    early = probe(branch=world.county, at=datetime(2026, 3, 1, 15, 59))
    login(client, world.city_admin)
    assert visible_ids(client, date_from="2026-03-02", date_to="2026-03-02") == {late.id}
    assert visible_ids(client, date_from="2026-03-01", date_to="2026-03-01") == {early.id}


def test_out_of_scope_branch_filter_answers_404_and_is_recorded_for_the_auditors_above(
    client, login, world
):
    """As the inbox does: the same 404 as for no branch at all; the attempt is written
    under the branch looked at, where the auditors above it (not the caller's) see it."""
    probe(branch=world.sibling)
    login(client, world.county_auditor)
    for _ in range(3):
        r = client.get("/admin/audit", query_string={"branch": world.sibling.id}, headers=EN)
        assert r.status_code == 404
    missing = client.get("/admin/audit", query_string={"branch": 99999999}, headers=EN)
    # The same page as for a branch that does not exist.
    assert main_part(r) == main_part(missing)
    refused = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "access_refused")
    ).all()
    # Three attempts in the hour: one entry, the first (repeats are summarised).
    assert [(e.actor_id, e.branch_id, e.object_kind, e.object_id) for e in refused] == [
        (world.county_auditor.id, world.sibling.id, "branch", str(world.sibling.id))
    ]
    assert refused[0].changes["attempts"] == 1

    client.get("/account/logout")
    login(client, world.sibling_auditor)
    page = client.get("/admin/audit", query_string={"action": "access_refused"}, headers=EN)
    assert "Was refused access (outside their branches)" in page.get_data(as_text=True)


def test_repeated_refusals_are_summarised_at_the_1st_10th_and_100th(client, login, world):
    login(client, world.county_auditor)
    for _ in range(100):
        client.get("/admin/audit", query_string={"branch": world.sibling.id})
    attempts = db.session.scalars(
        select(AuditEntry.changes).where(AuditEntry.action == "access_refused")
    ).all()
    assert [c["attempts"] for c in attempts] == [1, 10, 100]


def test_branch_link_from_elsewhere_is_offered_when_in_scope(client, login, world):
    probe(branch=world.unit)
    login(client, world.city_admin)  # the unit is two levels down: not in the default list
    r = client.get("/admin/audit", query_string={"branch": world.unit.id}, headers=EN)
    assert r.status_code == 200
    assert f'<option selected value="{world.unit.id}">' in r.get_data(as_text=True)


NASTY = [
    {"actor": "abc"},
    {"actor": "1" * 10_000},
    {"actor": "<script>alert(1)</script>"},
    {"actor": "' OR 1=1 --"},
    {"actor": "139\x001234"},
    {"object_kind": "x" * 500},
    {"object_id": "😀𠮷买买提·艾力" * 20},
    {"action": "drop_table"},
    {"date_from": "2026-13-45"},
    {"date_from": "2026-03-05", "date_to": "2026-03-01"},
]


@pytest.mark.parametrize("branch", ["abc", "99999999", "-1", "0"])
def test_a_branch_filter_that_is_no_branch_answers_404(client, login, world, branch):
    login(client, world.city_admin)
    assert client.get("/admin/audit", query_string={"branch": branch}).status_code == 404


@pytest.mark.parametrize("params", NASTY)
def test_bad_search_input_gets_a_field_error_not_a_crash(client, login, world, params):
    entry = probe(branch=world.county)
    login(client, world.city_admin)
    r = client.get("/admin/audit", query_string=params, headers=EN)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'class="error"' in html
    assert "Please correct the search above." in html
    assert f"probe #{entry.id}<" not in html
    assert "<script>alert(1)</script>" not in html


def test_typed_text_is_kept_after_an_error(client, login, world):
    login(client, world.city_admin)
    r = client.get("/admin/audit", query_string={"actor": "12345", "object_kind": "user"})
    html = r.get_data(as_text=True)
    assert 'value="12345"' in html and 'value="user"' in html


@pytest.mark.parametrize("page", ["99999", ""])
def test_odd_page_numbers_are_harmless(client, login, world, page):
    login(client, world.city_admin)
    assert client.get("/admin/audit", query_string={"page": page}).status_code == 200


def test_newest_first_and_paginated(client, login, world):
    start = datetime(2026, 1, 1)
    entries = [probe(branch=world.county, at=start + timedelta(minutes=i)) for i in range(51)]
    login(client, world.city_admin)
    r = client.get("/admin/audit", headers=EN)
    html = r.get_data(as_text=True)
    assert "Older entries" in html
    newest, second, oldest = entries[-1], entries[-2], entries[0]
    assert html.index(f"probe #{newest.id}<") < html.index(f"probe #{second.id}<")
    assert f"probe #{oldest.id}<" not in html
    r2 = client.get("/admin/audit", query_string={"page": 2}, headers=EN)
    page2 = r2.get_data(as_text=True)
    assert f"probe #{oldest.id}<" in page2 and "Newer entries" in page2


# --- what each row shows ---------------------------------------------------------


def test_each_audited_action_appears_with_its_label(client, login, world):
    """Entries as every feature writes them (through audit.record, as they do)."""
    for action in ACTION_LABELS:
        probe(action, branch=world.county, actor=world.county_officer, actor_role="officer")
    probe("something_new", branch=None)
    login(client, world.national_admin)
    html = ""
    for page in range(1, len(ACTION_LABELS) // 50 + 2):  # more actions than one page holds
        got = client.get("/admin/audit", query_string={"page": page}, headers=EN)
        html += got.get_data(as_text=True).split("<tbody>", 1)[1]  # rows, not the options
    with force_locale("en"):  # the page's language, not the test's own default
        labels = {action: str(label) for action, label in ACTION_LABELS.items()}
    for action, label in labels.items():
        assert label in html, action
    assert "something_new" in html  # unknown actions are shown as they are
    assert "Branch officer" in html


def test_every_action_the_portal_writes_has_a_label():
    """An action without a label shows raw in the log and cannot be picked in its filter.
    Reads every audit.record / record_for_person / record_export call with a literal
    action in portal/."""
    import ast
    import pathlib

    written = set()
    for path in pathlib.Path("portal").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            if name not in ("record", "record_for_person", "record_export"):
                continue
            first = node.args[0]
            # A literal, or a choice between literals ("review_approved" if ... else ...).
            for value in (first.body, first.orelse) if isinstance(first, ast.IfExp) else (first,):
                if isinstance(value, ast.Constant):
                    written.add(value.value)
    assert "review_approved" in written and "members_exported" in written  # the scan reads
    assert written - set(ACTION_LABELS) == set()


@pytest.mark.parametrize(
    "action",
    [
        "login",
        "login_failed",
        "role_granted",
        "role_revoked",
        "review_approved",
        "review_rejected",
        "sensitive_viewed",
    ],
)
def test_required_actions_are_searchable(client, login, world, action):
    entry = probe(action, branch=world.county)
    login(client, world.national_admin)
    assert visible_ids(client, action=action) == {entry.id}


def test_row_shows_masked_phone_name_branch_ip_and_changes(client, login, world, make_user):
    person = make_user(phone="13711112222")
    add_profile(person, "买买提·艾力")
    probe(
        "review_rejected",
        branch=world.county,
        actor=person,
        actor_role="officer",
        ip="203.0.113.9",
        changes={"reason": "资料不全"},
    )
    login(client, world.city_admin)
    html = client.get("/admin/audit", headers=EN).get_data(as_text=True)
    assert "137****2222" in html and "13711112222" not in html
    assert "买买提·艾力" in html
    assert "渭滨区红十字会" in html
    assert "203.0.113.9" in html
    assert "reason: 资料不全" in html


def test_times_are_shown_in_shanghai(client, login, world):
    probe(branch=world.county, at=datetime(2025, 12, 31, 16, 30, 5))
    login(client, world.city_admin)
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "2026-01-01 00:30:05" in html


# --- append-only ---------------------------------------------------------------


def test_no_route_can_change_the_audit_log(app):
    writes = {"POST", "PUT", "PATCH", "DELETE"}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin/audit"):
            assert not (rule.methods & writes), rule.rule
        # No view anywhere is named as if it edits or deletes audit entries.
        name = rule.endpoint.lower()
        if "audit" in name:
            assert not any(w in name for w in ("edit", "delete", "update", "remove")), name


def test_the_orm_refuses_to_edit_or_delete_an_entry(world):
    from portal.audit.models import AuditLogIsAppendOnly

    entry = probe(branch=world.county)
    entry.action = "rewritten"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(AuditEntry, entry.id).action == "review_approved"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_write_methods_are_refused(client, login, world, method):
    entry = probe(branch=world.county)
    login(client, world.national_admin)
    r = getattr(client, method)("/admin/audit", data={"id": entry.id, "action": "x"})
    assert r.status_code == 405
    db.session.expire_all()
    assert db.session.get(AuditEntry, entry.id).action == "review_approved"


def test_export_is_itself_audited_with_masked_filters(client, login, world):
    probe(branch=world.county)
    login(client, world.county_auditor)
    r = client.get(
        "/admin/audit", query_string={"format": "csv", "actor": "13912345678", "action": "login"}
    )
    assert r.status_code == 200
    logged = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "audit_exported"))
    assert logged.actor_id == world.county_auditor.id
    assert logged.actor_role == "auditor"
    assert logged.branch_id == world.county.id
    assert logged.changes["format"] == "csv"
    assert logged.changes["filters"] == {"actor": "139****5678", "action": "login"}
    assert "13912345678" not in str(logged.changes)


# --- entries written by the real services land in the right scope -------------------


def test_real_decisions_and_role_changes_are_logged_in_scope(app, client, login, world, make_user):
    """Not just audit.record: the shared decision service and the role service, as the
    inbox and branch staff pages call them, write entries each scope sees correctly."""
    from portal.branches.home_branch import HomeBranchRequest
    from portal.branches.roles import grant_role, revoke_role
    from portal.review.services import decide

    applicant = make_user()
    request = HomeBranchRequest(user_id=applicant.id, branch_id=world.county.id)
    db.session.add(request)
    db.session.commit()
    with app.test_request_context():
        assert decide(request, world.county_officer, "reject", "请先完善实名信息")
        granted = grant_role(
            actor=world.national_admin, user=make_user(), branch=world.sibling, role="officer"
        )
        revoke_role(actor=world.national_admin, staff_role=granted)
    db.session.commit()

    login(client, world.county_auditor)
    html = client.get("/admin/audit", headers=EN).get_data(as_text=True)
    assert f"home_branch #{request.id}" in html
    assert "Turned down an application" in html and "请先完善实名信息" in html
    assert "Branch officer" in html
    assert "staff_role #" not in html  # the sibling county's role changes

    login(client, world.sibling_auditor)
    html = client.get("/admin/audit", headers=EN).get_data(as_text=True).split("<tbody>", 1)[1]
    assert f"staff_role #{granted.id}" in html
    assert "Gave a staff role" in html and "Took away a staff role" in html
    assert f"home_branch #{request.id}" not in html


def test_citizen_login_is_logged_without_a_branch_for_national_admins_only(
    app, client, login, world
):
    from portal.accounts.auth import start_login

    with app.test_request_context("/account/login", environ_base={"REMOTE_ADDR": "198.51.100.7"}):
        start_login(world.citizen, "password")
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login"))
    assert entry.actor_id == world.citizen.id and entry.branch_id is None
    assert entry.actor_role is None

    login(client, world.national_admin)
    html = client.get("/admin/audit", query_string={"action": "login"}, headers=EN)
    rows = html.get_data(as_text=True).split("<tbody>", 1)[1]
    assert world.citizen.masked_phone in rows and "198.51.100.7" in rows

    login(client, world.city_admin)
    html = client.get("/admin/audit", query_string={"action": "login"}, headers=EN)
    assert "No entries match this search." in html.get_data(as_text=True)


def test_staff_login_and_failed_login_reach_the_auditors_above_them(
    app, client, login, world, make_user, grant_role
):
    """A county officer's real logins (the login form) land at their county, with their
    role: the city's auditor sees them, the sibling county's auditor does not."""
    from tests.conftest import DEFAULT_PASSWORD

    officer = world.county_officer
    form = app.test_client()
    form.post("/account/login", data={"phone": officer.phone, "password": "wrong password!"})
    form.post("/account/login", data={"phone": officer.phone, "password": DEFAULT_PASSWORD})
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action.in_(["login", "login_failed"]))
    ).all()
    assert sorted(e.action for e in entries) == ["login", "login_failed"]
    for e in entries:
        assert (e.actor_id, e.actor_role, e.branch_id) == (officer.id, "officer", world.county.id)

    city_auditor = grant_role(make_user(), world.city, "auditor")
    login(client, city_auditor)
    for action, label in (("login", "Logged in"), ("login_failed", "Failed login")):
        page = client.get("/admin/audit", query_string={"action": action}, headers=EN)
        rows = page.get_data(as_text=True).split("<tbody>", 1)[1]
        assert officer.masked_phone in rows and label in rows and "Branch officer" in rows

    login(client, world.sibling_auditor)
    for action in ("login", "login_failed"):
        page = client.get("/admin/audit", query_string={"action": action}, headers=EN)
        assert "No entries match this search." in page.get_data(as_text=True)


def test_staff_in_two_subtrees_get_one_login_entry_per_top_branch(
    app, world, make_user, grant_role
):
    from portal.accounts.auth import start_login

    person = grant_role(make_user(), world.county, "auditor")
    grant_role(person, world.unit, "officer")  # inside the county: not a top branch
    grant_role(person, world.sibling, "officer")
    grant_role(person, world.sibling, "admin")  # strongest role at that branch
    with app.test_request_context("/account/login"):
        start_login(person, "password")
    db.session.commit()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "login")).all()
    assert sorted((e.branch_id, e.actor_role) for e in entries) == sorted(
        [(world.county.id, "auditor"), (world.sibling.id, "admin")]
    )


# --- what may never reach the log -------------------------------------------------------


def test_id_numbers_are_masked_in_every_text_value_at_any_depth(world):
    entry = add_entry(
        "review_rejected",
        branch=world.county,
        changes={
            "reason": "证件号610302199001011234与资料不符",
            "nested": {
                "list": ["61030219900101123x", ("61030219900101123X",), 5],
                "deeper": {"old": "610302900101123", "password": "hunter2 hunter2"},
            },
            "not_an_id": ["6103021990010112345", "1234567890123456", "12345678901234"],
            "count": 610302199001011234,
            "code": "610302",
        },
    )
    db.session.expire_all()
    changes = db.session.get(AuditEntry, entry.id).changes
    # The first and last character only: the county and birth date are hidden.
    assert changes["reason"] == "证件号6****************4与资料不符"
    assert changes["nested"]["list"] == ["6****************x", ["6****************X"], 5]
    assert changes["nested"]["deeper"] == {"old": "6*************3"}  # the password is dropped
    # Longer or shorter digit runs are not ID numbers; numbers (not text) are left alone.
    assert changes["not_an_id"] == ["6103021990010112345", "1234567890123456", "12345678901234"]
    assert changes["count"] == 610302199001011234
    assert changes["code"] == "610302"  # a division code is not a secret
    assert "610302199001011234" not in str(changes["reason"]) + str(changes["nested"])


@pytest.mark.parametrize(
    "key", ["password", "password_hash", "sms_code", "token", "doc_number", "secret"]
)
def test_secret_keys_are_dropped_at_any_depth(world, key):
    entry = add_entry(branch=world.county, changes={key: "x", "inner": {key: "x", "kept": 1}})
    assert entry.changes == {"inner": {"kept": 1}}


# --- views of sensitive personal data ------------------------------------------------


def _applicant_with_profile(make_user, full_name="买买提·艾力"):
    person = make_user()
    add_profile(person, full_name)
    return person


def test_opening_an_item_page_logs_one_view_of_the_applicants_real_name(
    client, login, world, make_user
):
    from portal.branches.home_branch import KIND, HomeBranchRequest

    applicant = _applicant_with_profile(make_user)
    item = HomeBranchRequest(user_id=applicant.id, branch_id=world.county.id)
    db.session.add(item)
    db.session.commit()

    login(client, world.county_officer)
    page = client.get(f"/admin/inbox/{KIND}/{item.id}", headers=EN)
    assert page.status_code == 200 and "买买提·艾力" in page.get_data(as_text=True)

    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "sensitive_viewed")
    ).all()
    assert entry.actor_id == world.county_officer.id and entry.actor_role == "officer"
    assert entry.branch_id == world.county.id
    assert (entry.object_kind, entry.object_id) == ("user", str(applicant.id))
    assert entry.changes["fields"] == ["doc_number_masked", "doc_type", "full_name"]
    assert "买买提" not in str(entry.changes)  # what was seen, never the value

    login(client, world.county_auditor)
    html = client.get(
        "/admin/audit", query_string={"action": "sensitive_viewed"}, headers=EN
    ).get_data(as_text=True)
    rows = html.split("<tbody>", 1)[1]
    assert "Viewed sensitive personal data" in rows and f"user #{applicant.id}" in rows
    assert world.county_officer.masked_phone in rows

    login(client, world.sibling_auditor)
    html = client.get("/admin/audit", query_string={"action": "sensitive_viewed"}, headers=EN)
    assert "No entries match this search." in html.get_data(as_text=True)


def test_an_item_page_without_real_name_details_logs_no_view(client, login, world, make_user):
    from portal.branches.home_branch import KIND, HomeBranchRequest

    item = HomeBranchRequest(user_id=make_user().id, branch_id=world.county.id)
    db.session.add(item)
    db.session.commit()
    login(client, world.county_officer)
    assert client.get(f"/admin/inbox/{KIND}/{item.id}").status_code == 200
    assert (
        db.session.scalars(select(AuditEntry).where(AuditEntry.action == "sensitive_viewed")).all()
        == []
    )


def test_sensitive_viewed_records_field_names_only(world):
    entry = audit.sensitive_viewed(
        world.county_officer,
        42,
        ["full_name", "doc_number_masked", "full_name"],
        world.county.id,
        "officer",
        via="home_branch",
    )
    db.session.commit()
    assert entry.action == "sensitive_viewed" and entry.object_kind == "user"
    assert entry.object_id == "42" and entry.actor_role == "officer"
    assert entry.changes == {
        "fields": ["doc_number_masked", "full_name"],
        "via": "home_branch",
    }


# --- inbox downloads -------------------------------------------------------------------


def test_inbox_export_records_role_and_branch_for_the_auditors_there(
    client, login, world, make_user
):
    from portal.branches.home_branch import HomeBranchRequest

    db.session.add(HomeBranchRequest(user_id=make_user().id, branch_id=world.county.id))
    db.session.commit()

    login(client, world.county_officer)  # no branch filter: the officer's own county
    assert client.get("/admin/inbox?format=csv").status_code == 200
    login(client, world.city_admin)  # filtered to the county from above
    assert client.get(f"/admin/inbox?format=csv&branch={world.county.id}").status_code == 200
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "inbox_exported").order_by(AuditEntry.id)
    ).all()
    assert [(e.actor_id, e.actor_role, e.branch_id) for e in entries] == [
        (world.county_officer.id, "officer", world.county.id),
        (world.city_admin.id, "admin", world.county.id),
    ]

    login(client, world.county_auditor)
    html = client.get("/admin/audit", query_string={"action": "inbox_exported"}, headers=EN)
    rows = html.get_data(as_text=True).split("<tbody>", 1)[1]
    assert world.county_officer.masked_phone in rows and world.city_admin.masked_phone in rows
    login(client, world.sibling_auditor)
    html = client.get("/admin/audit", query_string={"action": "inbox_exported"}, headers=EN)
    assert "No entries match this search." in html.get_data(as_text=True)


# --- append-only in the database itself ----------------------------------------------


def test_migrated_database_refuses_to_update_or_delete_audit_entries(empty_db_url):  # noqa: F811
    """After the migrations (not db.create_all(), which the suite uses and which has no
    trigger), even a Core UPDATE or DELETE that bypasses the ORM guard is refused."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import delete, insert, inspect, text, update
    from sqlalchemy.exc import DatabaseError

    from portal import create_app

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_db_url})
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            first = conn.execute(
                insert(AuditEntry).values(at=datetime(2026, 1, 1), action="login", changes={})
            ).inserted_primary_key[0]
        refused = [
            update(AuditEntry).where(AuditEntry.id == first).values(action="rewritten"),
            delete(AuditEntry).where(AuditEntry.id == first),
            delete(AuditEntry),
        ]
        if db.engine.dialect.name == "postgresql":
            refused.append(text("TRUNCATE audit_entries"))
        for stmt in refused:
            with pytest.raises(DatabaseError, match="append-only"):
                with db.engine.begin() as conn:
                    conn.execute(stmt)
        with db.engine.connect() as conn:
            assert conn.execute(select(AuditEntry.action)).scalars().all() == ["login"]
            # New entries are still welcome.
            conn.execute(
                insert(AuditEntry).values(at=datetime(2026, 1, 2), action="logout", changes={})
            )
            conn.commit()
        downgrade(revision="0004")  # the triggers go; the table stays, and is writable
        with db.engine.begin() as conn:
            conn.execute(delete(AuditEntry))
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
