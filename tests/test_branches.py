"""The branch tree: service rules for create/rename/move/close, path integrity after moves,
the staff pages national admins use, and the demo tree."""

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.branches import services
from portal.branches.models import UNIT_TYPES, Branch
from portal.branches.services import BranchError, TreeNotAllowed
from portal.extensions import db
from tests.conftest import count


@pytest.fixture
def tree(make_branch, make_user, grant_role):
    """national → shaanxi → baoji → {weibin → hospital, qishan}; gansu → lanzhou."""
    t = {}
    t["national"] = make_branch(name="总会")
    t["shaanxi"] = make_branch(t["national"], name="陕西", code="610000")
    t["baoji"] = make_branch(t["shaanxi"], name="宝鸡", code="610300")
    t["weibin"] = make_branch(t["baoji"], name="渭滨", code="610302")
    t["hospital"] = make_branch(t["weibin"], name="医院", unit_type="hospital")
    t["qishan"] = make_branch(t["baoji"], name="岐山", code="610323")
    t["gansu"] = make_branch(t["national"], name="甘肃", code="620000")
    t["lanzhou"] = make_branch(t["gansu"], name="兰州", code="620100")
    t["boss"] = grant_role(make_user(), t["national"], "admin")
    t["city_admin"] = grant_role(make_user(), t["baoji"], "admin")
    return t


def assert_tree_consistent() -> None:
    """Every path is its parent's path plus its own id; every depth matches the path."""
    rows = {b.id: b for b in db.session.scalars(select(Branch))}
    for b in rows.values():
        parent = rows.get(b.parent_id)
        expected = f"{parent.path if parent else '/'}{b.id}/"
        assert b.path == expected, (b.id, b.path, expected)
        assert b.depth == b.path.count("/") - 2


def _audits(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# create ----------------------------------------------------------------------------


def test_create_gives_path_and_depth(tree):
    assert tree["hospital"].path == (
        f"/{tree['national'].id}/{tree['shaanxi'].id}/{tree['baoji'].id}/"
        f"{tree['weibin'].id}/{tree['hospital'].id}/"
    )
    assert tree["hospital"].depth == 4 and tree["hospital"].unit_type == "hospital"
    assert_tree_consistent()


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"level": "mayor"}, "level"),
        ({"level": "province"}, "level"),  # not below a province
        ({"level": "national"}, "level"),
        ({"level": "city", "name_zh": "   "}, "name_zh"),
        ({"level": "city", "name_en": ""}, "name_en"),
        ({"level": "city", "code": "610300"}, "code"),  # already used by 宝鸡
        ({"level": "grassroots", "unit_type": "castle"}, "unit_type"),
    ],
)
def test_create_refuses_broken_rules(tree, kwargs, field):
    values = {"name_zh": "新", "name_en": "New", **kwargs}
    before = count(Branch)
    with pytest.raises(BranchError) as err:
        services.create_branch(parent=tree["shaanxi"], **values)
    assert err.value.field == field
    db.session.rollback()
    assert count(Branch) == before


def test_root_must_be_national(app):
    with pytest.raises(BranchError):
        services.create_branch(parent=None, level="province", name_zh="省", name_en="P")


def test_closed_branch_takes_no_children(tree):
    tree["qishan"].closed_at = services.utcnow()
    with pytest.raises(BranchError):
        services.create_branch(parent=tree["qishan"], level="grassroots", name_zh="镇", name_en="T")


def test_create_by_person_needs_national_admin_and_is_audited(tree):
    with pytest.raises(TreeNotAllowed):
        services.create_branch(
            parent=tree["baoji"],
            level="county",
            name_zh="新区",
            name_en="New",
            actor=tree["city_admin"],
        )
    branch = services.create_branch(
        parent=tree["baoji"],
        level="county",
        name_zh="新区",
        name_en="New",
        code=" 610399 ",
        actor=tree["boss"],
    )
    db.session.commit()
    assert branch.code == "610399"
    (entry,) = _audits("branch_created")
    assert entry.actor_id == tree["boss"].id and entry.branch_id == branch.id
    assert entry.object_kind == "branch" and entry.changes["parent_id"] == tree["baoji"].id


# rename -----------------------------------------------------------------------------


def test_update_changes_only_what_differs_and_audits(tree):
    changes = services.update_branch(
        tree["weibin"],
        actor=tree["boss"],
        name_zh="渭滨区红十字会",
        name_en=tree["weibin"].name_en,
        address=" 经二路 1 号 ",
    )
    db.session.commit()
    assert changes == {"name_zh": ["渭滨", "渭滨区红十字会"], "address": [None, "经二路 1 号"]}
    (entry,) = _audits("branch_updated")
    assert entry.changes["name_zh"] == ["渭滨", "渭滨区红十字会"]
    assert (
        services.update_branch(tree["weibin"], actor=tree["boss"], name_zh="渭滨区红十字会") == {}
    )
    assert len(_audits("branch_updated")) == 1


def test_a_division_code_change_reaches_the_audit_log(tree):
    changes = services.update_branch(tree["weibin"], actor=tree["boss"], code="610304")
    db.session.commit()
    assert changes == {"code": ["610302", "610304"]}
    db.session.expire_all()
    (entry,) = _audits("branch_updated")
    assert entry.changes == {"code": ["610302", "610304"]}
    assert entry.branch_id == tree["weibin"].id


def test_update_refuses_taken_code_empty_name_and_non_national(tree):
    with pytest.raises(BranchError) as err:
        services.update_branch(tree["weibin"], actor=tree["boss"], code="610323")
    assert err.value.field == "code"
    with pytest.raises(BranchError):
        services.update_branch(tree["weibin"], actor=tree["boss"], name_en=" ")
    with pytest.raises(TreeNotAllowed):
        services.update_branch(tree["weibin"], actor=tree["city_admin"], name_zh="x")
    db.session.rollback()
    assert db.session.get(Branch, tree["weibin"].id).name_en == "渭滨"


def test_update_keeps_own_code(tree):
    assert services.update_branch(tree["weibin"], actor=tree["boss"], code="610302") == {}


# move -------------------------------------------------------------------------------


def test_move_rewrites_the_whole_subtree(tree, make_branch):
    deep = make_branch(tree["hospital"].parent, name="社区", unit_type="community")
    services.move_branch(tree["baoji"], tree["gansu"], actor=tree["boss"])
    db.session.commit()
    db.session.expire_all()
    assert_tree_consistent()
    hospital = db.session.get(Branch, tree["hospital"].id)
    assert hospital.path.startswith(tree["gansu"].path)
    assert hospital.depth == 4
    assert db.session.get(Branch, deep.id).path.startswith(
        tree["gansu"].path + f"{tree['baoji'].id}/"
    )
    (entry,) = _audits("branch_moved")
    assert entry.changes == {"parent_id": [tree["shaanxi"].id, tree["gansu"].id]}


def test_move_changes_depth_when_skipping_a_level(tree):
    services.move_branch(tree["weibin"], tree["shaanxi"], actor=tree["boss"])
    db.session.commit()
    db.session.expire_all()
    assert_tree_consistent()
    assert db.session.get(Branch, tree["hospital"].id).depth == 3


def test_move_does_not_touch_branches_with_a_similar_path(make_branch, make_user, grant_role):
    """Ids 1 and 10, 2 and 12 ... share leading digits; only the real subtree moves."""
    national = make_branch()
    boss = grant_role(make_user(), national, "admin")
    provinces = [make_branch(national) for _ in range(12)]
    cities = [make_branch(p) for p in provinces]
    before = {b.id: b.path for b in db.session.scalars(select(Branch))}
    services.move_branch(cities[0], provinces[1], actor=boss)
    db.session.commit()
    db.session.expire_all()
    assert_tree_consistent()
    after = {b.id: b.path for b in db.session.scalars(select(Branch))}
    assert {i for i in after if after[i] != before[i]} == {cities[0].id}


def test_move_many_branches_in_one_statement(tree, make_branch):
    for i in range(30):
        unit = make_branch(tree["qishan"], name=f"镇{i}", unit_type="township")
        assert unit.depth == 4
    services.move_branch(tree["qishan"], tree["lanzhou"], actor=tree["boss"])
    db.session.commit()
    db.session.expire_all()
    assert_tree_consistent()
    moved = services.subtree_size(db.session.get(Branch, tree["qishan"].id))
    assert moved == 31


@pytest.mark.parametrize(
    "branch, new_parent",
    [
        ("baoji", "baoji"),  # under itself
        ("baoji", "weibin"),  # under its own county
        ("national", "gansu"),  # the root
        ("weibin", "baoji"),  # already there
        ("weibin", "qishan"),  # county under county
        ("baoji", "lanzhou"),  # city under city
    ],
)
def test_move_refuses(tree, branch, new_parent):
    paths = {b.id: b.path for b in db.session.scalars(select(Branch))}
    with pytest.raises(BranchError):
        services.move_branch(tree[branch], tree[new_parent], actor=tree["boss"])
    db.session.rollback()
    assert {b.id: b.path for b in db.session.scalars(select(Branch))} == paths
    assert _audits("branch_moved") == []


def test_move_refuses_closed_parent_and_non_national(tree):
    with pytest.raises(TreeNotAllowed):
        services.move_branch(tree["weibin"], tree["gansu"], actor=tree["city_admin"])
    tree["lanzhou"].closed_at = services.utcnow()
    with pytest.raises(BranchError):
        services.move_branch(tree["hospital"], tree["lanzhou"], actor=tree["boss"])


# close / reopen ---------------------------------------------------------------------


def test_close_and_reopen(tree):
    with pytest.raises(BranchError):  # 医院 below is still open
        services.close_branch(tree["weibin"], actor=tree["boss"])
    services.close_branch(tree["hospital"], actor=tree["boss"])
    services.close_branch(tree["weibin"], actor=tree["boss"])
    db.session.commit()
    assert not tree["weibin"].is_open and db.session.get(Branch, tree["weibin"].id) is not None
    with pytest.raises(BranchError):
        services.close_branch(tree["weibin"], actor=tree["boss"])
    with pytest.raises(BranchError):  # its parent is closed
        services.reopen_branch(tree["hospital"], actor=tree["boss"])
    services.reopen_branch(tree["weibin"], actor=tree["boss"])
    db.session.commit()
    assert tree["weibin"].is_open
    assert [e.branch_id for e in _audits("branch_closed")] == [
        tree["hospital"].id,
        tree["weibin"].id,
    ]
    assert len(_audits("branch_reopened")) == 1


def test_close_refuses_root_and_non_national(tree):
    with pytest.raises(BranchError):
        services.close_branch(tree["national"], actor=tree["boss"])
    with pytest.raises(TreeNotAllowed):
        services.close_branch(tree["qishan"], actor=tree["city_admin"])
    assert tree["qishan"].is_open


# reading ------------------------------------------------------------------------------


def test_reading_helpers(tree):
    assert [b.id for b in services.ancestors(tree["hospital"])] == [
        tree[k].id for k in ("national", "shaanxi", "baoji", "weibin")
    ]
    assert services.ancestors(tree["national"]) == []
    assert {b.id for b in services.children(tree["baoji"])} == {
        tree["weibin"].id,
        tree["qishan"].id,
    }
    assert services.child_counts([tree["baoji"].id, tree["qishan"].id]) == {tree["baoji"].id: 2}
    assert services.subtree_size(tree["shaanxi"]) == 5
    assert services.is_within(tree["hospital"], tree["shaanxi"])
    assert not services.is_within(tree["lanzhou"], tree["shaanxi"])
    found = services.find_branches(Branch.path.startswith(tree["shaanxi"].path), "6103")
    assert [b.id for b in found] == [tree["baoji"].id, tree["weibin"].id, tree["qishan"].id]
    assert services.find_branches(Branch.id > 0, "100%") == []


# HTTP: the national admin's forms -------------------------------------------------------


@pytest.fixture
def boss_client(app, login, tree):
    client = app.test_client()
    login(client, tree["boss"])
    return client


def _form(**values):
    base = {
        "level": "county",
        "name_zh": "高新区红十字会",
        "name_en": "Gaoxin District",
        "code": "",
        "unit_type": "",
        "address": "",
        "contact_phone": "",
    }
    return {**base, **values}


def test_create_through_the_form(boss_client, tree):
    r = boss_client.post(
        f"/admin/branches/{tree['baoji'].id}/new",
        data=_form(code="610371", contact_phone="0917-3212345"),
    )
    assert r.status_code == 302
    branch = db.session.scalar(select(Branch).where(Branch.code == "610371"))
    assert branch.parent_id == tree["baoji"].id and branch.level == "county"
    assert branch.contact_phone == "0917-3212345"
    assert r.headers["Location"].endswith(f"/admin/branches/{branch.id}")
    assert len(_audits("branch_created")) == 1


@pytest.mark.parametrize(
    "values",
    [
        {"name_zh": ""},
        {"name_zh": "红" * 10_000},
        {"name_zh": "渭滨\x00区"},
        {"name_en": "   "},
        {"code": "' OR 1=1 --"},
        {"code": "61030"},
        {"code": "610302"},  # taken
        {"contact_phone": "<script>alert(1)</script>"},
        {"level": "province"},  # not below a city
        {"level": "grassroots", "unit_type": ""},
        {"level": "county", "unit_type": "castle"},
    ],
)
def test_create_form_refuses_bad_input(boss_client, tree, values):
    before = count(Branch)
    r = boss_client.post(f"/admin/branches/{tree['baoji'].id}/new", data=_form(**values))
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'class="error"' in html or 'class="form-errors"' in html
    assert count(Branch) == before
    if "name_zh" not in values:
        assert "高新区红十字会" in html  # what was typed is kept


@pytest.mark.parametrize(
    "name", ["𠮷野家红十字会", "<script>x</script>", "买买提·艾力红十字会", "😀红会"]
)
def test_create_form_keeps_unusual_names_exactly(boss_client, tree, name):
    r = boss_client.post(
        f"/admin/branches/{tree['weibin'].id}/new",
        data=_form(level="grassroots", unit_type="community", name_zh=name),
    )
    assert r.status_code == 302
    assert db.session.scalar(select(Branch).where(Branch.name_zh == name)) is not None
    page = boss_client.get(r.headers["Location"]).get_data(as_text=True)
    assert "<script>x</script>" not in page


def test_edit_move_close_reopen_through_the_forms(boss_client, tree):
    weibin = tree["weibin"]
    r = boss_client.post(
        f"/admin/branches/{weibin.id}/edit",
        data={
            "name_zh": "渭滨区红十字会",
            "name_en": "Weibin",
            "code": "610302",
            "address": "红旗路15号",
            "contact_phone": "0917-3261120",
        },
    )
    assert r.status_code == 302
    db.session.expire_all()
    assert weibin.name_zh == "渭滨区红十字会" and weibin.address == "红旗路15号"

    page = boss_client.get(f"/admin/branches/{weibin.id}/move?q=甘肃").get_data(as_text=True)
    assert f'value="{tree["gansu"].id}"' in page
    assert (
        boss_client.post(
            f"/admin/branches/{weibin.id}/move", data={"new_parent_id": tree["gansu"].id}
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert weibin.parent_id == tree["gansu"].id
    assert_tree_consistent()

    r = boss_client.post(
        f"/admin/branches/{weibin.id}/move", data={"new_parent_id": tree["hospital"].id}
    )
    assert r.status_code == 200 and 'class="form-errors"' in r.get_data(as_text=True)

    assert boss_client.post(f"/admin/branches/{tree['hospital'].id}/close").status_code == 302
    db.session.expire_all()
    assert not tree["hospital"].is_open
    assert boss_client.post(f"/admin/branches/{tree['hospital'].id}/reopen").status_code == 302
    db.session.expire_all()
    assert tree["hospital"].is_open
    actions = {e.action for e in db.session.scalars(select(AuditEntry))}
    assert {"branch_updated", "branch_moved", "branch_closed", "branch_reopened"} <= actions


def test_close_form_explains_refusal(boss_client, tree):
    r = boss_client.post(f"/admin/branches/{tree['weibin'].id}/close")
    assert r.status_code == 200 and 'class="form-errors"' in r.get_data(as_text=True)
    db.session.expire_all()
    assert tree["weibin"].is_open


@pytest.mark.parametrize("who", ["city_admin", "officer"])
@pytest.mark.parametrize(
    "method, url",
    [
        ("get", "/admin/branches/{weibin}/new"),
        ("post", "/admin/branches/{weibin}/new"),
        ("post", "/admin/branches/{weibin}/edit"),
        ("post", "/admin/branches/{weibin}/move"),
        ("post", "/admin/branches/{weibin}/close"),
        ("post", "/admin/branches/{weibin}/reopen"),
    ],
)
def test_only_national_admins_change_the_tree(
    app, login, make_user, grant_role, tree, who, method, url
):
    user = tree["city_admin"] if who == "city_admin" else grant_role(make_user(), tree["baoji"])
    client = app.test_client()
    login(client, user)
    paths = {b.id: (b.path, b.name_zh, b.closed_at) for b in db.session.scalars(select(Branch))}
    data = {**_form(), "new_parent_id": tree["gansu"].id}
    r = getattr(client, method)(url.format(weibin=tree["weibin"].id), data=data)
    assert r.status_code == 403
    db.session.expire_all()
    assert {
        b.id: (b.path, b.name_zh, b.closed_at) for b in db.session.scalars(select(Branch))
    } == paths
    assert count(AuditEntry) == 0


def test_management_links_only_for_national_admins(app, login, make_user, grant_role, tree):
    client = app.test_client()
    login(client, tree["city_admin"])
    html = client.get(f"/admin/branches/{tree['weibin'].id}").get_data(as_text=True)
    assert "/edit" not in html and "/move" not in html
    assert f"/admin/branches/{tree['weibin'].id}/staff" in html  # admins see the staff link
    officer = app.test_client()
    login(officer, grant_role(make_user(), tree["baoji"], "officer"))
    html = officer.get(f"/admin/branches/{tree['weibin'].id}").get_data(as_text=True)
    assert "/staff" not in html and "/edit" not in html
    boss = app.test_client()
    login(boss, tree["boss"])
    html = boss.get(f"/admin/branches/{tree['weibin'].id}").get_data(as_text=True)
    assert f"/admin/branches/{tree['weibin'].id}/edit" in html


@pytest.mark.parametrize(
    "url",
    [
        "/admin/branches/99999999999",
        "/admin/branches/?parent=99999999999",
        "/admin/branches/?parent=abc",
        "/admin/branches/2147483648/staff",
    ],
)
def test_huge_or_junk_ids_are_not_found(boss_client, url):
    assert boss_client.get(url).status_code == 404


def test_tree_page_expands_level_by_level(boss_client, tree):
    top = boss_client.get("/admin/branches/").get_data(as_text=True)
    assert "总会" in top and f"?parent={tree['national'].id}" in top
    level = boss_client.get(f"/admin/branches/?parent={tree['baoji'].id}").get_data(as_text=True)
    assert "渭滨" in level and "岐山" in level and "医院" not in level
    assert f"?parent={tree['weibin'].id}" in level  # 渭滨 has a branch below
    assert f"?parent={tree['qishan'].id}" not in level


# demo data ------------------------------------------------------------------------------


def test_demo_tree_loads_once(app):
    from portal.demo import branches as demo

    demo.load()
    db.session.commit()
    first = count(Branch)
    demo.load()
    db.session.commit()
    assert count(Branch) == first
    baoji = demo.by_code("610300")
    counties = services.children(baoji)
    assert len(counties) == 12 and all(c.level == "county" for c in counties)
    # GB/T 2260 codes of Baoji's twelve county-level divisions, with their English names.
    assert {c.code: c.name_en.removeprefix("Red Cross Society of ") for c in counties} == {
        "610302": "Weibin District",
        "610303": "Jintai District",
        "610304": "Chencang District",
        "610305": "Fengxiang District",
        "610323": "Qishan County",
        "610324": "Fufeng County",
        "610326": "Mei County",
        "610327": "Long County",
        "610328": "Qianyang County",
        "610329": "Linyou County",
        "610330": "Feng County",
        "610331": "Taibai County",
    }
    assert {c.code: c.name_zh for c in counties}["610326"] == "眉县红十字会"
    assert demo.by_code("610302").name_zh == "渭滨区红十字会"
    units = db.session.scalars(select(Branch).where(Branch.level == "grassroots")).all()
    assert {u.unit_type for u in units} == set(UNIT_TYPES)  # every unit type appears
    company = next(u for u in units if u.unit_type == "company")
    assert company.parent.code == "610303"  # 金台区
    assert demo.by_code("620102").parent.code == "620100"
    hospital = db.session.scalar(select(Branch).where(Branch.name_zh == "宝鸡市中心医院红十字会"))
    assert hospital.unit_type == "hospital" and hospital.parent.code == "610302"
    assert demo.national().name_zh == "中国红十字会总会"
    assert_tree_consistent()


def test_demo_upgrade_renames_by_code_but_keeps_hand_edits(app):
    """A demo database made with the old English names gets the corrected ones on the
    next load; a name someone changed on the staff pages since is theirs to keep."""
    from portal.demo import branches as demo

    demo.load()
    db.session.commit()
    demo.by_code("610326").name_en = "Red Cross Society of Meixian County"  # old demo name
    demo.by_code("610330").name_en = "Feng County Red Cross"  # edited by a person
    db.session.commit()
    before = count(Branch)
    demo.load()
    db.session.commit()
    assert count(Branch) == before
    assert demo.by_code("610326").name_en == "Red Cross Society of Mei County"
    assert demo.by_code("610330").name_en == "Feng County Red Cross"


def test_demo_staff_print_their_logins(app):
    from portal.accounts.passwords import verify_password
    from portal.branches.scope import is_national_admin, scoped_branch_ids
    from portal.demo import DEMO_PASSWORD, staff
    from portal.demo import branches as demo

    demo.load()
    lines = staff.load()
    db.session.commit()
    assert "staff  13800000003 / " + DEMO_PASSWORD + "  宝鸡市红十字会 admin" in lines
    assert staff.load() == lines  # idempotent
    db.session.commit()
    from portal.accounts.models import User

    users = {u.phone: u for u in db.session.scalars(select(User))}
    assert verify_password(users["13800000005"].password_hash, DEMO_PASSWORD)
    assert is_national_admin(users["13800000001"])
    weibin_officer = set(db.session.scalars(scoped_branch_ids(users["13800000005"])))
    assert (
        demo.by_code("610302").id in weibin_officer
        and demo.by_code("610323").id not in weibin_officer
    )
