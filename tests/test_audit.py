"""The audit log pages: scoping, search filters, labels, paging, and that nothing in
the application can change an entry."""

from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.accounts.models import RealNameProfile
from portal.admin import audit
from portal.admin.audit_query import ACTION_LABELS, AuditSearch, search_page
from portal.admin.models import AuditEntry
from portal.extensions import db

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


def test_out_of_scope_branch_filter_is_a_field_error_and_shows_nothing(client, login, world):
    hidden = probe(branch=world.sibling)
    login(client, world.county_auditor)
    r = client.get("/admin/audit", query_string={"branch": world.sibling.id}, headers=EN)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Not a valid choice" in html
    assert f"probe #{hidden.id}<" not in html


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
    {"branch": "abc"},
    {"branch": "99999999"},
]


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


@pytest.mark.parametrize("page", ["-3", "0", "abc", "99999"])
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
    html = client.get("/admin/audit", headers=EN).get_data(as_text=True)
    html = html.split("<tbody>", 1)[1]  # the rows, not the search form's options
    for action, label in ACTION_LABELS.items():
        assert str(label) in html, action
    assert "something_new" in html  # unknown actions are shown as they are
    assert "Branch officer" in html


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
    db.session.add(
        RealNameProfile(
            user_id=person.id,
            full_name="买买提·艾力",
            doc_type="resident_id",
            doc_number_enc=b"x",
            doc_number_hmac="h" * 64,
            doc_number_masked="6101**********123X",
            birth_date=date(1960, 5, 1),
        )
    )
    db.session.commit()
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
    from portal.admin.models import AuditLogIsAppendOnly

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
    from portal.admin.review import decide
    from portal.branches.attachments import BranchAttachmentRequest
    from portal.branches.roles import grant_role, revoke_role

    applicant = make_user()
    request = BranchAttachmentRequest(user_id=applicant.id, branch_id=world.county.id)
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
    assert f"branch_attachment #{request.id}" in html
    assert "Turned down an application" in html and "请先完善实名信息" in html
    assert "Branch officer" in html
    assert "staff_role #" not in html  # the sibling county's role changes

    login(client, world.sibling_auditor)
    html = client.get("/admin/audit", headers=EN).get_data(as_text=True).split("<tbody>", 1)[1]
    assert f"staff_role #{granted.id}" in html
    assert "Gave a staff role" in html and "Took away a staff role" in html
    assert f"branch_attachment #{request.id}" not in html


def test_real_login_is_logged_for_national_admins_only(app, client, login, world):
    from portal.accounts.auth import start_login

    with app.test_request_context("/account/login", environ_base={"REMOTE_ADDR": "198.51.100.7"}):
        start_login(world.citizen, "password")
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login"))
    assert entry.actor_id == world.citizen.id and entry.branch_id is None

    login(client, world.national_admin)
    html = client.get("/admin/audit", query_string={"action": "login"}, headers=EN)
    rows = html.get_data(as_text=True).split("<tbody>", 1)[1]
    assert world.citizen.masked_phone in rows and "198.51.100.7" in rows

    login(client, world.city_admin)
    html = client.get("/admin/audit", query_string={"action": "login"}, headers=EN)
    assert "No entries match this search." in html.get_data(as_text=True)
