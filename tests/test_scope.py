"""The one scoping mechanism: which branches a staff member reaches, in the service and
through HTTP (the permission matrix for branch pages, staff lists, exports and grants)."""

from types import SimpleNamespace

import pytest
from sqlalchemy import func, literal, select

from portal.audit.models import AuditEntry
from portal.branches import scope
from portal.branches.models import Branch, StaffRole
from portal.extensions import db
from portal.timeutil import utcnow
from tests.conftest import count, statements_run


@pytest.fixture
def world(staff_world):
    return staff_world


def _ids(stmt) -> set[int]:
    return set(db.session.scalars(stmt))


# The service ------------------------------------------------------------------------


def test_county_officer_sees_only_their_county(world, make_branch, make_user, grant_role):
    county = world.branches["child"]
    unit = make_branch(county)
    officer = grant_role(make_user(), county, "officer")
    assert _ids(scope.scoped_branch_ids(officer)) == {county.id, unit.id}


def test_city_admin_sees_all_its_counties_and_nothing_else(world, make_branch):
    second_county = make_branch(world.branches["own"])
    got = _ids(scope.scoped_branch_ids(world.users["admin"]))
    assert got == {world.branches["own"].id, world.branches["child"].id, second_county.id}


def test_national_admin_sees_everything(world):
    assert _ids(scope.scoped_branch_ids(world.users["national"])) == _ids(select(Branch.id))
    assert scope.is_national_admin(world.users["national"])
    assert not scope.is_national_admin(world.users["admin"])


def test_citizen_and_anonymous_see_nothing(world):
    assert _ids(scope.scoped_branch_ids(world.users["citizen"])) == set()
    assert scope.active_grants(None) == []
    assert not scope.is_staff(world.users["citizen"])


def test_scope_by_role(world):
    """The auditor's scope for reviewing is empty; for auditing it is their city."""
    auditor = world.users["auditor"]
    assert _ids(scope.scoped_branch_ids(auditor, scope.REVIEW_ROLES)) == set()
    assert world.branches["child"].id in _ids(scope.scoped_branch_ids(auditor, scope.AUDIT_ROLES))
    assert scope.can_audit(auditor, world.branches["child"])
    assert not scope.can_audit(world.users["officer"], world.branches["child"])


def test_roles_at_several_branches_add_up(world, grant_role):
    officer = grant_role(world.users["officer"], world.branches["sibling"], "officer")
    got = _ids(scope.scoped_branch_ids(officer))
    assert {world.branches["own"].id, world.branches["sibling"].id} <= got
    assert world.branches["parent"].id not in got


def test_revoked_role_and_closed_branch_grant_nothing(world):
    officer = world.users["officer"]
    role = db.session.scalar(select(StaffRole).where(StaffRole.user_id == officer.id))
    role.revoked_at = utcnow()
    db.session.commit()
    assert not scope.is_staff(officer)
    admin = world.users["admin"]
    world.branches["own"].closed_at = utcnow()
    db.session.commit()
    assert scope.active_grants(admin) == []
    assert not scope.in_scope(admin, world.branches["child"])


def test_in_scope_covers_and_acting_role(world, grant_role):
    admin, own, sibling = world.users["admin"], world.branches["own"], world.branches["sibling"]
    assert scope.in_scope(admin, own) and scope.in_scope(admin, world.branches["child"])
    assert not scope.in_scope(admin, sibling) and not scope.in_scope(admin, None)
    paths = scope.scope_paths(admin)
    assert scope.covers(paths, own) and not scope.covers(paths, world.branches["parent"])
    grant_role(admin, own, "auditor")
    assert scope.acting_role(admin, world.branches["child"]) == "admin"
    assert scope.acting_role(admin, world.branches["child"], scope.AUDIT_ROLES) == "admin"
    assert scope.acting_role(world.users["auditor"], own) == "auditor"
    assert scope.acting_role(admin, sibling) is None


def test_nested_grants_collapse_to_the_higher_path(world, grant_role):
    admin = grant_role(world.users["admin"], world.branches["child"], "officer")
    assert scope.scope_paths(admin) == [world.branches["own"].path]


@pytest.mark.parametrize(
    "prefix, path, expected",
    [
        ("/1/", "/1/", True),
        ("/1/", "/1/4/17/", True),
        ("/1/", "/10/", False),
        ("/1/", "/10/1/", False),
        ("/1/4/", "/1/40/", False),
        ("/1/4/", "/1/4/0/", True),
        ("/1/4/", "/1/", False),
        ("/2/", "/12/", False),
        ("/19/", "/1/", False),
    ],
)
def test_path_under_is_an_exact_prefix_match(app, prefix, path, expected):
    """Whatever SQL the backend gets (LIKE or a range), only true descendants match."""
    assert bool(db.session.scalar(select(scope.path_under(prefix, literal(path))))) is expected


@pytest.mark.parametrize("prefix", ["", "/", "1/", "/1", "/1/%", "/1/' OR '1'='1/", "/a/"])
def test_path_under_refuses_what_is_not_a_branch_path(app, prefix):
    """On PostgreSQL the prefix is written into the SQL text: only digits and slashes."""
    with pytest.raises(ValueError):
        scope.path_under(prefix)


@pytest.mark.parametrize("junk", ["abc", "", None, -1, 0, 2**31, 10**20, "1; DROP TABLE users"])
def test_get_branch_in_scope_or_404_refuses_junk_ids(world, junk):
    from werkzeug.exceptions import NotFound

    with pytest.raises(NotFound):
        scope.get_branch_in_scope_or_404(junk, world.users["national"])


# Through HTTP: the permission matrix -------------------------------------------------

KINDS = ["citizen", "officer", "admin", "auditor", "national"]
TARGETS = ["own", "child", "sibling", "parent"]


def _expected_view(kind: str, target: str) -> int:
    if kind == "citizen":
        return 403
    if kind == "national" or target in ("own", "child"):
        return 200
    return 404


def _expected_staff_list(kind: str, target: str) -> int:
    if kind in ("citizen", "officer"):
        return 403
    return _expected_view(kind, target)


def _expected_grant(kind: str, target: str) -> int:
    if kind in ("citizen", "officer", "auditor"):
        return 403
    return 302 if _expected_view(kind, target) == 200 else 404


def count_actions() -> int:
    """Audit entries for what people did (refused access is counted apart)."""
    return db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action != "access_refused")
    )


def refusals(user, branch) -> int:
    """The "access refused" entries of `user` about `branch` (under that branch)."""
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.action == "access_refused",
            AuditEntry.actor_id == user.id,
            AuditEntry.branch_id == branch.id,
        )
    )


def _client(app, login, user):
    client = app.test_client()
    login(client, user)
    return client


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("kind", KINDS)
def test_matrix_branch_view_and_list(app, login, world, kind, target):
    client = _client(app, login, world.users[kind])
    branch = world.branches[target]
    expected = _expected_view(kind, target)
    page = client.get(f"/admin/branches/{branch.id}")
    assert page.status_code == expected
    listing = client.get(f"/admin/branches/?parent={branch.id}")
    assert listing.status_code == expected
    if expected == 200:
        assert branch.name_zh in page.get_data(as_text=True)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("kind", KINDS)
def test_matrix_staff_list_and_export(app, login, world, kind, target):
    client = _client(app, login, world.users[kind])
    branch = world.branches[target]
    expected = _expected_staff_list(kind, target)
    exports_before = count_actions()
    assert client.get(f"/admin/branches/{branch.id}/staff").status_code == expected
    csv = client.get(f"/admin/branches/{branch.id}/staff/export?format=csv")
    xlsx = client.get(f"/admin/branches/{branch.id}/staff/export?format=xlsx")
    assert csv.status_code == xlsx.status_code == expected
    if expected == 200:
        assert csv.mimetype == "text/csv" and csv.data.startswith("\ufeff".encode())
        assert xlsx.mimetype.endswith("spreadsheetml.sheet")
        assert count_actions() == exports_before + 2
    else:
        assert count_actions() == exports_before
        # Three refused requests on one branch: summarised as one entry for the hour.
        assert refusals(world.users[kind], branch) == (1 if expected == 404 else 0)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("kind", KINDS)
def test_matrix_role_grant(app, login, make_user, world, kind, target):
    client = _client(app, login, world.users[kind])
    branch = world.branches[target]
    newcomer = make_user()
    roles_before, audit_before = count(StaffRole), count_actions()
    r = client.post(
        f"/admin/branches/{branch.id}/staff", data={"phone": newcomer.phone, "role": "officer"}
    )
    expected = _expected_grant(kind, target)
    assert r.status_code == expected
    granted = db.session.scalar(select(StaffRole).where(StaffRole.user_id == newcomer.id))
    if expected == 302:
        assert granted is not None and granted.branch_id == branch.id and granted.role == "officer"
        assert granted.granted_by_id == world.users[kind].id
        assert count_actions() == audit_before + 1
    else:
        assert granted is None
        assert count(StaffRole) == roles_before and count_actions() == audit_before
        assert refusals(world.users[kind], branch) == (1 if expected == 404 else 0)


def test_anonymous_is_sent_to_login(client, world):
    r = client.get(f"/admin/branches/{world.branches['own'].id}")
    assert r.status_code == 302 and "/account/login" in r.headers["Location"]


def test_tree_roots_are_where_roles_are_held(app, login, world):
    client = _client(app, login, world.users["admin"])
    html = client.get("/admin/branches/").get_data(as_text=True)
    assert world.branches["own"].name_zh in html
    assert world.branches["parent"].name_zh not in html
    assert world.branches["sibling"].name_zh not in html


def test_tree_search_stays_in_scope(app, login, world, make_branch):
    hidden = make_branch(world.branches["sibling"], name="同名测试县")
    visible = make_branch(world.branches["own"], name="同名测试区")
    client = _client(app, login, world.users["admin"])
    html = client.get("/admin/branches/?q=同名测试").get_data(as_text=True)
    assert visible.name_zh in html and hidden.name_zh not in html


def test_grants_are_read_once_per_request_and_forgotten_after_a_change(app, world, make_user):
    from portal.branches import roles

    person, admin, child = make_user(), world.users["admin"], world.branches["child"]
    assert person.id and admin.id and child.path  # loaded now, not inside the count below
    with app.test_request_context("/"):
        with statements_run() as queries:
            assert not scope.is_staff(person)
            assert scope.active_grants(admin) == scope.active_grants(admin)
            assert scope.in_scope(admin, child)
        assert len(queries) == 2  # one read per user, whatever the number of checks
        roles.grant_role(actor=admin, user=person, branch=world.branches["child"], role="officer")
        assert scope.is_staff(person)  # the change is seen at once in the same request
    with app.test_request_context("/"):
        assert scope.in_scope(person, world.branches["child"])


# One scoping place ---------------------------------------------------------------------


def test_top_grants_keep_the_highest_branch_and_the_strongest_role(world, grant_role):
    admin, own, child = world.users["admin"], world.branches["own"], world.branches["child"]
    grant_role(admin, child, "officer")  # nested under their city admin role: dropped
    grant_role(admin, own, "auditor")  # same branch as the admin role: admin speaks
    grant_role(admin, world.branches["sibling"], "auditor")
    top = scope.top_grants(admin)
    assert {(g.branch_id, g.role) for g in top} == {
        (own.id, "admin"),
        (world.branches["sibling"].id, "auditor"),
    }
    assert [g.role for g in scope.top_grants(admin, scope.REVIEW_ROLES)] == ["admin"]
    assert scope.top_grants(world.users["citizen"]) == []
    # The national grant sorts first: the audit download is recorded under it.
    national = grant_role(world.users["auditor"], world.branches["national"], "auditor")
    first = scope.top_grants(national, scope.AUDIT_ROLES)[0]
    assert first.branch_id == world.branches["national"].id


def test_ids_under_is_the_branch_and_everything_below(world, make_branch):
    unit = make_branch(world.branches["child"])
    got = _ids(scope.ids_under((world.branches["own"].path,)))
    assert got == {world.branches["own"].id, world.branches["child"].id, unit.id}
    assert _ids(scope.ids_under((unit.path,))) == {unit.id}


def test_acting_role_for_review_is_scope_acting_role(world, grant_role):
    from portal.review import services as review

    own = world.branches["own"]
    assert review.acting_role(world.users["officer"], own) == "officer"
    assert review.acting_role(world.users["auditor"], own) is None  # auditors do not review
    assert review.acting_role(world.users["national"], own) == "admin"
    assert review.acting_role(world.users["officer"], None) is None


def test_named_permission_questions(world):
    u, b = world.users, world.branches
    assert scope.can_review(u["officer"]) and not scope.can_review(u["auditor"])
    assert scope.can_review(u["officer"], b["child"])
    assert scope.can_review(u["officer"], SimpleNamespace(branch=b["child"]))  # an application
    assert not scope.can_review(u["officer"], b["sibling"])
    assert not scope.can_review(u["officer"], SimpleNamespace(branch=None))
    assert scope.can_audit(u["auditor"]) and not scope.can_audit(u["officer"])
    assert scope.can_audit(u["admin"], b["child"]) and not scope.can_audit(u["admin"], b["parent"])
    assert scope.can_see_staff(u["auditor"], b["own"])
    assert not scope.can_see_staff(u["officer"], b["own"])
    assert scope.can_manage_tree(u["national"]) and not scope.can_manage_tree(u["admin"])
    for question in (scope.can_review, scope.can_audit):
        assert not question(u["citizen"]) and not question(None)


# Comparing paths in SQL outside scope.py would be a second scoping place to keep in step
# (and `column.startswith` is a LIKE that SQLite cannot serve from the path index; see
# scope.path_under). No file is excused: every caller goes through scope.py.
_SQL_CALLS = {"where", "filter", "filter_by", "having", "case", "and_", "or_", "not_", "join"}
# A branch's path, or an application's copy of it (ReviewMixin.branch_path).
_PATH_ATTRS = {"path", "branch_path"}
_PREFIX_METHODS = {"startswith", "like", "ilike", "contains", "endswith"}


def _sql_path_startswith(source: str) -> list[int]:
    """Lines where a prefix test on a path (`<x>.path.startswith(...)`, `.like(...)`, or
    the same on `branch_path`) builds SQL: on a model class (`Branch.path`), a table column
    (`t.c.path`), or anything inside a where/filter/case/and_/or_ call.
    `branch.path.startswith(...)` on a loaded object is plain Python and fine."""
    import ast

    found = []

    def visit(node, in_sql: bool) -> None:
        if isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr in _PREFIX_METHODS
                and isinstance(func.value, ast.Attribute)
                and func.value.attr in _PATH_ATTRS
            ):
                owner = func.value.value
                model = isinstance(owner, ast.Name) and owner.id[:1].isupper()
                column = isinstance(owner, ast.Attribute) and owner.attr == "c"
                if model or column or in_sql:
                    found.append(node.lineno)
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            in_sql = in_sql or name in _SQL_CALLS
        for child in ast.iter_child_nodes(node):
            visit(child, in_sql)

    visit(ast.parse(source), False)
    return found


def test_the_path_prefix_check_finds_sql_and_spares_loaded_objects():
    sql = "stmt.where(x.path.startswith(p))\ncase((Branch.path.startswith(p), 1))\nt.c.path.startswith(p)\n"
    assert _sql_path_startswith(sql) == [1, 2, 3]
    application = "select(M.id).where(kind.model.branch_path.like(p))\nHomeBranchRequest.branch_path.startswith(p)\n"
    assert _sql_path_startswith(application) == [1, 2]
    assert _sql_path_startswith("ok = branch.path.startswith(g.path)\n") == []
    assert _sql_path_startswith("ok = item.branch_path.startswith(g.path)\n") == []


def test_no_path_prefix_sql_outside_scope():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    scanned, offenders = set(), []
    for file in sorted((root / "portal").rglob("*.py")):
        name = file.relative_to(root).as_posix()
        if name == "portal/branches/scope.py":
            continue
        scanned.add(name)
        offenders += [f"{name}:{n}" for n in _sql_path_startswith(file.read_text("utf-8"))]
    assert offenders == [], "use scope.path_under / under_any / scope_clause instead"
    # The scan reached the code that does filter by path (through scope.py), so an empty
    # result means something.
    assert {"portal/review/inbox.py", "portal/review/services.py"} <= scanned


def test_grants_come_with_the_session_read_and_a_revocation_counts_at_once(app, login, world):
    """A staff page reads the roles in the same query as the session (no query of its
    own), and that read is fresh on every request: a revoked role is gone on the next."""

    officer = world.users["officer"]
    client = _client(app, login, officer)
    with statements_run() as statements:
        assert client.get("/admin/").status_code == 200
    with_roles = [s for s in statements if "staff_roles" in s]
    assert len(with_roles) == 1 and "server_sessions" in with_roles[0]

    role = db.session.scalar(select(StaffRole).where(StaffRole.user_id == officer.id))
    role.revoked_at = utcnow()
    db.session.commit()
    assert client.get("/admin/").status_code == 403
