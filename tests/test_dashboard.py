"""The staff dashboard: pending work by kind, plan indicators this year vs last year,
rolled up the tree, scoped, and a fixed number of queries however big the tree."""

import re
from datetime import date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import event, literal_column, select

from portal.admin import indicators as ind
from portal.branches.home_branch import HomeBranchRequest
from portal.branches.models import Branch
from portal.branches.scope import scoped_branch_ids
from portal.extensions import db

EN = {"Accept-Language": "en"}
THIS_YEAR = datetime(2026, 3, 1)
LAST_YEAR = datetime(2025, 3, 1)


@pytest.fixture(autouse=True)
def frozen_year(monkeypatch):
    monkeypatch.setattr("portal.admin.views.today_local", lambda: date(2026, 6, 1))


@pytest.fixture
def world(make_user, make_branch, grant_role):
    national = make_branch(name="中国红十字会总会")
    province = make_branch(national, name="陕西省红十字会")
    city = make_branch(province, name="宝鸡市红十字会")
    county = make_branch(city, name="渭滨区红十字会")
    sibling = make_branch(city, name="岐山县红十字会")
    unit = make_branch(county, name="宝鸡市中心医院红十字会", unit_type="hospital")
    gansu = make_branch(national, name="甘肃省红十字会")
    w = SimpleNamespace(
        national=national,
        province=province,
        city=city,
        county=county,
        sibling=sibling,
        unit=unit,
        gansu=gansu,
    )
    w.national_admin = grant_role(make_user(), national, "admin")
    w.city_admin = grant_role(make_user(), city, "admin")
    w.county_officer = grant_role(make_user(), county, "officer")
    w.county_auditor = grant_role(make_user(), county, "auditor")
    w.citizen = make_user()
    return w


def citizens(make_user, branch, when, n=1):
    for _ in range(n):
        make_user(home_branch_id=branch.id, created_at=when)


@pytest.fixture
def attached(world, make_user):
    """county: 2 this year; unit (below county): 1 this year + 1 last year;
    sibling county: 3 this year; another province: 5 this year."""
    citizens(make_user, world.county, THIS_YEAR, 2)
    citizens(make_user, world.unit, THIS_YEAR)
    citizens(make_user, world.unit, LAST_YEAR)
    citizens(make_user, world.sibling, THIS_YEAR, 3)
    citizens(make_user, world.gansu, THIS_YEAR, 5)
    return world


def section(html: str, branch: Branch) -> str:
    start = html.index(f'aria-labelledby="plan-{branch.id}"')
    return html[start : html.index("</section>", start)]


def figures(html: str, label: str) -> tuple[str, str]:
    """The two numbers (this year, last year) of the row whose heading holds `label`."""
    m = re.search(
        re.escape(label)
        + r'.*?</t[hd]>\s*<td class="num">([^<]*)</td>\s*<td class="num">([^<]*)</td>',
        html,
        re.S,
    )
    assert m, label
    return m.group(1).strip(), m.group(2).strip()


def dashboard(client, **params) -> str:
    r = client.get("/admin/", query_string=params, headers=EN)
    assert r.status_code == 200
    return r.get_data(as_text=True)


# --- access ---------------------------------------------------------------------


def test_anonymous_goes_to_login_and_citizen_is_refused(client, login, world):
    r = client.get("/admin/")
    assert r.status_code == 302 and "/account/login" in r.headers["Location"]
    login(client, world.citizen)
    assert client.get("/admin/").status_code == 403


# --- indicators -----------------------------------------------------------------


def test_city_admin_sees_city_totals_and_one_row_per_county(client, login, attached):
    w = attached
    login(client, w.city_admin)
    html = section(dashboard(client), w.city)
    assert figures(html, "Citizens attached to a branch") == ("6", "1")
    assert figures(html, w.county.name_zh) == ("3", "1")  # includes the hospital below it
    assert figures(html, w.sibling.name_zh) == ("3", "0")
    assert w.unit.name_zh not in html  # grandchildren roll up into their county
    # Each county's row drills down to it, keeping the indicator shown.
    assert f'href="/admin/?indicator=citizens_attached&amp;branch={w.county.id}"' in html


def test_county_officer_sees_only_their_county(client, login, attached):
    w = attached
    login(client, w.county_officer)
    page = dashboard(client)
    html = section(page, w.county)
    assert figures(html, "Citizens attached to a branch") == ("3", "1")
    assert figures(html, w.unit.name_zh) == ("1", "1")
    assert w.sibling.name_zh not in page and f"plan-{w.city.id}" not in page


def test_national_admin_sees_every_province(client, login, attached):
    w = attached
    login(client, w.national_admin)
    html = section(dashboard(client), w.national)
    assert figures(html, "Citizens attached to a branch") == ("11", "1")
    assert figures(html, w.province.name_zh) == ("6", "1")
    assert figures(html, w.gansu.name_zh) == ("5", "0")


def test_indicators_without_a_feature_show_zero_with_a_note(client, login, world):
    login(client, world.city_admin)
    html = section(dashboard(client), world.city)
    assert figures(html, "New Red Cross members") == ("0", "0")  # live (membership), none yet
    for label in (
        "New registered volunteers",
        "New certified first-aiders",
        "Stem cell (marrow) registry additions",
        "Organ and body donation registrants",
        "Boai Home community projects",
    ):
        assert figures(html, label) == ("0", "0")
    assert figures(html, "Funds raised") == ("¥0.00", "¥0.00")
    # every indicator whose feature is not built yet (features make theirs live)
    assert html.count("Recorded once the feature is live.") == sum(
        not i.live for i in ind.indicators()
    )


def test_drill_down_to_a_branch_in_scope(client, login, attached):
    w = attached
    login(client, w.city_admin)
    page = dashboard(client, branch=w.county.id)
    html = section(page, w.county)
    assert figures(html, "Citizens attached to a branch") == ("3", "1")
    assert figures(html, w.unit.name_zh) == ("1", "1")
    assert f"plan-{w.sibling.id}" not in page
    assert f"/admin/?branch={w.city.id}" in page  # "up" to the city, still in scope


@pytest.mark.parametrize("target", ["sibling", "city", "gansu"])
def test_drill_down_outside_scope_is_404(client, login, world, target):
    login(client, world.county_officer)
    r = client.get("/admin/", query_string={"branch": getattr(world, target).id})
    assert r.status_code == 404


def test_drill_down_to_missing_or_garbage_branch(client, login, world):
    login(client, world.city_admin)
    assert client.get("/admin/?branch=99999999").status_code == 404
    assert client.get("/admin/?branch=abc").status_code == 200
    assert client.get("/admin/?indicator=<script>").status_code == 200


def test_shanghai_new_year_boundary(client, login, world, make_user):
    # 2025-12-31 16:30 UTC is 2026-01-01 00:30 in Shanghai: this year.
    make_user(home_branch_id=world.county.id, created_at=datetime(2025, 12, 31, 16, 30))
    # 15:59 UTC is still 2025-12-31 23:59 in Shanghai: last year.
    make_user(home_branch_id=world.county.id, created_at=datetime(2025, 12, 31, 15, 59))
    # The very first minute of 2025 in Shanghai, and the last one of 2024 (not shown).
    make_user(home_branch_id=world.county.id, created_at=datetime(2024, 12, 31, 16, 0))
    make_user(home_branch_id=world.county.id, created_at=datetime(2024, 12, 31, 15, 59))

    citizens_attached = ind.get_indicator("citizens_attached")
    scope = select(Branch.id)
    result = ind.rollup(citizens_attached, scope, [world.county], 2026)
    assert result[world.county.id] == ind.Figures(this_year=1, last_year=2)

    start_2026 = ind.year_windows(2026)[1]
    assert start_2026 == datetime(2025, 12, 31, 16, 0)
    assert ind.total(citizens_attached, scope, start_2026, ind.year_windows(2026)[2]) == 1

    login(client, world.county_officer)
    html = section(dashboard(client), world.county)
    assert "This year (2026)" in html and "Last year (2025)" in html
    assert figures(html, "Citizens attached to a branch") == ("1", "2")


def test_rollup_service_is_scoped_by_branch_ids(world, make_user):
    citizens(make_user, world.county, THIS_YEAR, 2)
    citizens(make_user, world.sibling, THIS_YEAR, 4)
    citizens_attached = ind.get_indicator("citizens_attached")
    # The county officer's scope excludes the sibling even for the city bucket.
    scope = scoped_branch_ids(world.county_officer)
    result = ind.rollup(citizens_attached, scope, [world.city, world.county], 2026)
    assert result[world.city.id].this_year == 2
    assert result[world.county.id].this_year == 2


def test_rollup_adds_nested_buckets_up_the_tree(attached):
    w = attached
    citizens_attached = ind.get_indicator("citizens_attached")
    buckets = [w.national, w.province, w.city, w.county, w.unit, w.gansu]
    result = ind.rollup(citizens_attached, select(Branch.id), buckets, 2026)
    assert result[w.unit.id] == ind.Figures(1, 1)
    assert result[w.county.id] == ind.Figures(3, 1)
    assert result[w.city.id] == result[w.province.id] == ind.Figures(6, 1)
    assert result[w.gansu.id] == ind.Figures(5, 0)
    assert result[w.national.id] == ind.Figures(11, 1)


@pytest.fixture
def rollups(monkeypatch):
    """How many times the dashboard's figures were computed."""
    calls = []
    compute = ind.rollup_all

    def counted(*args):
        calls.append(args)
        return compute(*args)

    monkeypatch.setattr(ind, "rollup_all", counted)
    return calls


@pytest.mark.parametrize("app_overrides", [{"CACHE_TYPE": "SimpleCache"}])
def test_with_a_cache_the_figures_are_computed_once(client, login, attached, make_user, rollups):
    w = attached
    login(client, w.county_officer)
    page = dashboard(client)
    assert figures(section(page, w.county), "Citizens attached to a branch") == ("3", "1")
    assert "Figures may be up to 5 minutes old." in page
    citizens(make_user, w.county, THIS_YEAR)
    page = dashboard(client)
    assert figures(section(page, w.county), "Citizens attached to a branch") == ("3", "1")
    assert len(rollups) == 1
    # A timeout of 0 would keep them for ever: it means "do not cache" instead.
    fresh = ind.cached_rollup_all(("t",), select(Branch.id), [w.county], 2026, timeout=0)
    assert fresh["citizens_attached"][w.county.id] == ind.Figures(4, 1)


def test_without_a_cache_the_figures_are_fresh(client, login, attached, make_user, rollups):
    w = attached
    login(client, w.county_officer)
    page = dashboard(client)
    assert figures(section(page, w.county), "Citizens attached to a branch") == ("3", "1")
    assert "minutes old" not in page
    citizens(make_user, w.county, THIS_YEAR)
    page = dashboard(client)
    assert figures(section(page, w.county), "Citizens attached to a branch") == ("4", "1")
    assert len(rollups) == 2


def test_a_feature_can_make_an_indicator_live(client, login, world, make_user, monkeypatch):
    """What the donations feature will do: register facts for "funds_raised" (fen)."""
    from portal.accounts.models import User

    monkeypatch.setattr(ind, "_REGISTRY", dict(ind._REGISTRY))

    def gifts(branch_ids, start, end):
        return select(
            User.home_branch_id.label("branch_id"),
            User.created_at.label("at"),
            literal_column("12345").label("amount"),
        ).where(
            User.home_branch_id.in_(branch_ids), User.created_at >= start, User.created_at < end
        )

    ind.register_indicator("funds_raised", "Funds raised", gifts, unit="fen")
    assert [i.key for i in ind.indicators()][-1] == "funds_raised"  # keeps its place
    citizens(make_user, world.county, THIS_YEAR, 2)
    login(client, world.city_admin)
    html = section(dashboard(client, indicator="funds_raised"), world.city)
    assert figures(html, "Funds raised") == ("¥246.90", "¥0.00")
    assert figures(html, world.county.name_zh) == ("¥246.90", "¥0.00")
    assert html.count("Recorded once the feature is live.") == sum(
        not i.live for i in ind.indicators()
    )


def test_query_count_does_not_grow_with_the_tree(client, login, make_user, make_branch, grant_role):
    """One grouped query per indicator: 3 counties or 30 cost the same number of queries."""
    national = make_branch()
    admin = grant_role(make_user(), national, "admin")

    def queries_for_dashboard() -> int:
        statements = []

        def count(conn, cursor, statement, *args):
            # The session row and the logged-in user are the request's, not the page's.
            if (
                "server_sessions" not in statement
                and "FROM users \nWHERE users.id" not in statement
            ):
                statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            dashboard(client)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    login(client, admin)
    for _ in range(3):
        citizens(make_user, make_branch(national), THIS_YEAR)
    small = queries_for_dashboard()
    for _ in range(27):
        province = make_branch(national)
        citizens(make_user, make_branch(province), THIS_YEAR)
    assert queries_for_dashboard() == small


# --- pending work, roles and links ----------------------------------------------


def pending(html: str) -> int:
    m = re.search(r'kind=home_branch[^"]*">[^<]+</a>:\s*<strong>([\d,]+)</strong>', html)
    assert m
    return int(m.group(1))


@pytest.fixture
def requests_waiting(world, make_user):
    def ask(branch, status="pending"):
        db.session.add(
            HomeBranchRequest(user_id=make_user().id, branch_id=branch.id, status=status)
        )

    ask(world.county)
    ask(world.county)
    ask(world.unit)
    ask(world.sibling)
    ask(world.county, status="approved")
    ask(world.gansu)
    db.session.commit()
    return world


def test_pending_counts_are_scoped_and_link_to_the_inbox(client, login, requests_waiting):
    w = requests_waiting
    login(client, w.county_officer)
    html = dashboard(client)
    assert pending(html) == 3
    assert "/admin/inbox?kind=home_branch" in html
    assert "Home branch request" in html

    login(client, w.city_admin)
    assert pending(dashboard(client)) == 4
    login(client, w.national_admin)
    assert pending(dashboard(client)) == 5


def test_pending_counts_follow_a_drill_down(client, login, requests_waiting):
    w = requests_waiting
    login(client, w.city_admin)
    html = dashboard(client, branch=w.county.id)
    assert pending(html) == 3
    assert f"/admin/inbox?kind=home_branch&amp;branch={w.county.id}" in html


def test_auditor_sees_roles_and_audit_link_but_no_inbox(client, login, requests_waiting):
    w = requests_waiting
    login(client, w.county_auditor)
    html = dashboard(client)
    assert "Auditor at 渭滨区红十字会" in html
    assert 'href="/admin/audit"' in html and 'href="/admin/branches/"' in html
    assert 'href="/admin/inbox"' not in html and "Waiting for a decision" not in html


def test_officer_sees_inbox_but_no_audit_link(client, login, world, grant_role):
    grant_role(world.county_officer, world.sibling, "officer")
    login(client, world.county_officer)
    html = dashboard(client)
    assert "Branch officer at 渭滨区红十字会" in html and "Branch officer at 岐山县红十字会" in html
    assert 'href="/admin/inbox"' in html and 'href="/admin/audit"' not in html
    # Two separate roots, each with its own indicator section.
    assert f"plan-{world.county.id}" in html and f"plan-{world.sibling.id}" in html


def test_care_mode_and_phone_friendly_markup(client, login, world, make_user):
    care = make_user(care_mode=True)
    from portal.branches.models import StaffRole

    db.session.add(StaffRole(user_id=care.id, branch_id=world.city.id, role="admin"))
    db.session.commit()
    login(client, care)
    html = dashboard(client)
    assert 'class="care"' in html
    assert "style=" not in html and "<script>" not in html
    assert html.count('class="table-wrap"') >= 2
