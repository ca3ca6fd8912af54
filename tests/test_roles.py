"""Granting and revoking staff roles: the rules, the audit entries, the pages, the
`create-admin` command."""

import re

import pytest
from sqlalchemy import select

from portal.accounts.models import ServerSession, User
from portal.audit.models import AuditEntry
from portal.branches import roles
from portal.branches.models import Branch, StaffRole
from portal.extensions import db
from tests.conftest import count


@pytest.fixture
def app_overrides():
    # These tests read messages in English; test_i18n_care covers the Chinese default.
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def org(make_branch, make_user, grant_role):
    """national → province → city → {county → unit, county2}; staff at the city."""
    o = {}
    o["national"] = make_branch()
    o["province"] = make_branch(o["national"])
    o["city"] = make_branch(o["province"])
    o["county"] = make_branch(o["city"])
    o["unit"] = make_branch(o["county"], unit_type="school")
    o["county2"] = make_branch(o["city"])
    o["boss"] = grant_role(make_user(), o["national"], "admin")
    o["admin"] = grant_role(make_user(), o["city"], "admin")
    o["officer"] = grant_role(make_user(), o["city"], "officer")
    o["auditor"] = grant_role(make_user(), o["city"], "auditor")
    o["person"] = make_user()
    return o


def _live(user, branch=None) -> list[StaffRole]:
    stmt = select(StaffRole).where(StaffRole.user_id == user.id, StaffRole.revoked_at.is_(None))
    if branch is not None:
        stmt = stmt.where(StaffRole.branch_id == branch.id)
    return list(db.session.scalars(stmt))


# The rules ---------------------------------------------------------------------------

RULES = [
    # actor, branch, role, allowed
    ("boss", "national", "admin", True),
    ("boss", "province", "admin", True),
    ("boss", "unit", "auditor", True),
    ("admin", "city", "officer", True),
    ("admin", "city", "auditor", True),
    ("admin", "city", "admin", False),  # no peers of oneself
    ("admin", "county", "admin", True),
    ("admin", "unit", "officer", True),
    ("admin", "province", "officer", False),  # above
    ("admin", "national", "auditor", False),
    ("officer", "county", "officer", False),
    ("auditor", "county", "auditor", False),
    ("person", "county", "officer", False),
    ("boss", "county", "mayor", False),
]


@pytest.mark.parametrize("actor, branch, role, allowed", RULES)
def test_can_grant(org, actor, branch, role, allowed):
    assert roles.can_grant(org[actor], org[branch], role) is allowed
    assert (role in roles.grantable_roles(org[actor], org[branch])) is allowed


@pytest.mark.parametrize("actor, branch, role, allowed", RULES)
def test_grant_role_follows_the_rules(org, actor, branch, role, allowed):
    before = count(StaffRole)
    if allowed:
        granted = roles.grant_role(
            actor=org[actor], user=org["person"], branch=org[branch], role=role
        )
        db.session.commit()
        assert _live(org["person"]) == [granted] and granted.granted_by_id == org[actor].id
        (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "role_granted"))
        assert entry.actor_id == org[actor].id and entry.actor_role == "admin"
        assert entry.branch_id == org[branch].id and entry.object_kind == "staff_role"
        assert entry.object_id == str(granted.id)
        assert entry.changes == {"role": role, "user_id": org["person"].id}
    else:
        with pytest.raises((roles.RoleNotAllowed, roles.RoleError)):
            roles.grant_role(actor=org[actor], user=org["person"], branch=org[branch], role=role)
        db.session.rollback()
        assert count(StaffRole) == before and count(AuditEntry) == 0


def test_no_duplicate_live_grant_but_several_branches_are_fine(org):
    roles.grant_role(actor=org["boss"], user=org["person"], branch=org["county"], role="officer")
    with pytest.raises(roles.RoleError):
        roles.grant_role(
            actor=org["boss"], user=org["person"], branch=org["county"], role="officer"
        )
    roles.grant_role(actor=org["boss"], user=org["person"], branch=org["county"], role="auditor")
    roles.grant_role(actor=org["boss"], user=org["person"], branch=org["county2"], role="officer")
    db.session.commit()
    assert len(_live(org["person"])) == 3


def test_the_database_refuses_a_duplicate_live_grant_too(org):
    from sqlalchemy.exc import IntegrityError

    for _ in range(2):
        db.session.add(
            StaffRole(user_id=org["person"].id, branch_id=org["county"].id, role="officer")
        )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_regrant_after_revoke(org):
    granted = roles.grant_role(
        actor=org["admin"], user=org["person"], branch=org["county"], role="officer"
    )
    roles.revoke_role(actor=org["admin"], staff_role=granted)
    again = roles.grant_role(
        actor=org["admin"], user=org["person"], branch=org["county"], role="officer"
    )
    db.session.commit()
    assert _live(org["person"]) == [again]


def test_grant_refuses_closed_branch_and_disabled_account(org):
    org["county2"].closed_at = roles.utcnow()
    with pytest.raises(roles.RoleError):
        roles.grant_role(
            actor=org["boss"], user=org["person"], branch=org["county2"], role="officer"
        )
    org["person"].is_active_account = False
    with pytest.raises(roles.RoleError):
        roles.grant_role(
            actor=org["boss"], user=org["person"], branch=org["county"], role="officer"
        )
    db.session.rollback()
    assert _live(org["person"]) == []


def test_grant_ends_the_grantees_sessions(app, login, org):
    login(app.test_client(), org["person"])
    roles.grant_role(actor=org["admin"], user=org["person"], branch=org["county"], role="officer")
    db.session.commit()
    rows = db.session.scalars(
        select(ServerSession).where(ServerSession.user_id == org["person"].id)
    )
    assert all(r.revoked_at is not None for r in rows)


def test_revoke_rules_and_audit(org):
    officer_role = _live(org["officer"])[0]
    admin_role = _live(org["admin"])[0]
    with pytest.raises(roles.RoleNotAllowed):  # a branch admin cannot end their own admin role
        roles.revoke_role(actor=org["admin"], staff_role=admin_role)
    with pytest.raises(roles.RoleNotAllowed):
        roles.revoke_role(actor=org["officer"], staff_role=officer_role)
    roles.revoke_role(actor=org["admin"], staff_role=officer_role)
    db.session.commit()
    assert officer_role.revoked_at is not None and officer_role.revoked_by_id == org["admin"].id
    with pytest.raises(roles.RoleError):
        roles.revoke_role(actor=org["admin"], staff_role=officer_role)
    (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "role_revoked"))
    assert entry.changes == {"role": "officer", "user_id": org["officer"].id}
    assert entry.actor_id == org["admin"].id and entry.branch_id == org["city"].id


def test_last_national_admin_stays(org, make_user, grant_role):
    boss_role = _live(org["boss"])[0]
    with pytest.raises(roles.RoleError):
        roles.revoke_role(actor=org["boss"], staff_role=boss_role)
    second = grant_role(make_user(), org["national"], "admin")
    roles.revoke_role(actor=second, staff_role=boss_role)
    db.session.commit()
    assert _live(org["boss"]) == []


def test_staff_below_lists_the_subtree(org, grant_role):
    grant_role(org["person"], org["unit"], "officer")
    below_county = roles.staff_below(org["county"])
    assert [(sr.user_id, sr.role) for sr in below_county] == [(org["person"].id, "officer")]
    assert {sr.user_id for sr in roles.staff_below(org["city"])} == {
        org["admin"].id,
        org["officer"].id,
        org["auditor"].id,
        org["person"].id,
    }


# The staff page -----------------------------------------------------------------------


def _client(app, login, user):
    client = app.test_client()
    login(client, user)
    return client


def test_staff_page_offers_only_grantable_roles(app, login, org):
    admin = _client(app, login, org["admin"])
    html = admin.get(f"/admin/branches/{org['city'].id}/staff").get_data(as_text=True)
    assert 'value="officer"' in html and 'value="admin"' not in html
    html = admin.get(f"/admin/branches/{org['county'].id}/staff").get_data(as_text=True)
    assert 'value="admin"' in html
    auditor = _client(app, login, org["auditor"])
    html = auditor.get(f"/admin/branches/{org['city'].id}/staff").get_data(as_text=True)
    assert 'name="phone"' not in html and "/revoke" not in html


def test_branch_admin_cannot_grant_admin_at_own_branch(app, login, org):
    r = _client(app, login, org["admin"]).post(
        f"/admin/branches/{org['city'].id}/staff",
        data={"phone": org["person"].phone, "role": "admin"},
    )
    assert r.status_code == 200 and 'class="error"' in r.get_data(as_text=True)
    assert _live(org["person"]) == []


@pytest.mark.parametrize(
    "phone, message",
    [
        ("", "Please enter a mobile number."),
        ("12345", "11-digit"),
        ("<script>alert(1)</script>", "11-digit"),
        ("1" * 10_000, 'class="error"'),
        ("13912345678", "No account uses this number"),
    ],
)
def test_grant_form_bad_phone(app, login, org, phone, message):
    r = _client(app, login, org["admin"]).post(
        f"/admin/branches/{org['county'].id}/staff", data={"phone": phone, "role": "officer"}
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and message in html
    assert count(StaffRole) == 4


def test_grant_form_accepts_a_written_phone(app, login, org):
    spaced = f"+86 {org['person'].phone[:3]} {org['person'].phone[3:7]} {org['person'].phone[7:]}"
    r = _client(app, login, org["admin"]).post(
        f"/admin/branches/{org['county'].id}/staff", data={"phone": spaced, "role": "auditor"}
    )
    assert r.status_code == 302
    assert [sr.role for sr in _live(org["person"], org["county"])] == ["auditor"]


def test_grant_form_duplicate_is_a_field_error(app, login, org):
    client = _client(app, login, org["admin"])
    data = {"phone": org["officer"].phone, "role": "officer"}
    r = client.post(f"/admin/branches/{org['city'].id}/staff", data=data)
    assert r.status_code == 200 and "already has this role" in r.get_data(as_text=True)
    assert len(_live(org["officer"])) == 1


def test_revoke_through_the_page(app, login, org, grant_role):
    grant_role(org["person"], org["unit"], "officer")
    target = _live(org["person"])[0]
    auditor = _client(app, login, org["auditor"])
    assert auditor.post(f"/admin/branches/roles/{target.id}/revoke").status_code == 403
    outsider = grant_role(org["person"], org["county2"], "admin")  # admin elsewhere in the city
    r = _client(app, login, outsider).post(f"/admin/branches/roles/{target.id}/revoke")
    assert r.status_code == 404
    db.session.expire_all()
    assert target.revoked_at is None
    r = _client(app, login, org["admin"]).post(
        f"/admin/branches/roles/{target.id}/revoke?back={org['city'].id}"
    )
    assert r.status_code == 302 and r.headers["Location"].endswith(
        f"/admin/branches/{org['city'].id}/staff"
    )
    db.session.expire_all()
    assert target.revoked_at is not None
    # The outsider's try is on record too, as a refusal.
    assert sorted(db.session.scalars(select(AuditEntry.action))) == [
        "access_refused",
        "role_revoked",
    ]


@pytest.mark.parametrize("back", ["2147483648", "9223372036854775808", "-1", "abc"])
def test_revoke_with_a_bad_back_link_is_404_and_revokes_nothing(app, login, org, grant_role, back):
    """`back` is read before anything changes: it used to be looked up after the commit,
    so on PostgreSQL 2**31 raised DataError with the role already gone."""
    grant_role(org["person"], org["unit"], "officer")
    target = _live(org["person"])[0]
    client = _client(app, login, org["admin"])
    r = client.post(f"/admin/branches/roles/{target.id}/revoke", query_string={"back": back})
    assert r.status_code == 404
    db.session.expire_all()
    assert target.revoked_at is None
    assert count(AuditEntry) == 0


def test_a_revoke_that_fails_after_its_first_step_writes_nothing(app, login, org, monkeypatch):
    """One request, one commit at the end: a failure after the revocation (here in the
    scope check of the back link) leaves the role live and no audit entry behind."""
    from portal.branches import views

    target = _live(org["officer"])[0]

    def broken(*args, **kwargs):
        raise RuntimeError("failure after the revocation")

    monkeypatch.setattr(views, "in_scope", broken)
    client = _client(app, login, org["admin"])
    r = client.post(f"/admin/branches/roles/{target.id}/revoke?back={org['city'].id}")
    assert r.status_code == 500
    db.session.expire_all()
    assert target.revoked_at is None
    assert count(AuditEntry) == 0


def test_admin_cannot_revoke_own_admin_role_through_the_page(app, login, org):
    own = _live(org["admin"])[0]
    r = _client(app, login, org["admin"]).post(f"/admin/branches/roles/{own.id}/revoke")
    assert r.status_code == 403
    db.session.expire_all()
    assert own.revoked_at is None


def test_export_lists_the_subtree_staff(app, login, org, grant_role):
    import io

    from openpyxl import load_workbook

    grant_role(org["person"], org["unit"], "officer")
    client = _client(app, login, org["auditor"])
    csv = client.get(f"/admin/branches/{org['county'].id}/staff/export?format=csv")
    text = csv.data.decode("utf-8-sig")
    assert len(text.strip().splitlines()) == 2  # header + the one officer below the county
    assert org["person"].masked_phone in text and org["person"].phone not in text
    xlsx = client.get(f"/admin/branches/{org['city'].id}/staff/export?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet.max_row == 5
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "staff_list_exported")
    ).first()
    assert entry.actor_id == org["auditor"].id and entry.actor_role == "auditor"


# CSRF is on for real in this class --------------------------------------------------------


class TestCsrf:
    @pytest.fixture
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_tokenless_grant_is_refused_and_real_form_works(self, app, login, org):
        client = _client(app, login, org["admin"])
        url = f"/admin/branches/{org['county'].id}/staff"
        r = client.post(url, data={"phone": org["person"].phone, "role": "officer"})
        assert r.status_code == 400 and _live(org["person"]) == []
        page = client.get(url).get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
            r'name="csrf_token" value="([^"]+)"', page
        )
        r = client.post(
            url,
            data={"phone": org["person"].phone, "role": "officer", "csrf_token": token.group(1)},
        )
        assert r.status_code == 302 and len(_live(org["person"])) == 1


# flask create-admin ------------------------------------------------------------------------


def _run(app, args, input=None):
    return app.test_cli_runner().invoke(args=["create-admin", *args], input=input)


def test_create_admin_on_an_empty_tree(app):
    from portal.accounts.passwords import verify_password
    from portal.branches.scope import is_national_admin

    good = "a long enough password"
    result = _run(app, ["138 0013 8000"], input=f"short\n{good}\n{good}\n")
    assert result.exit_code == 0, result.output
    assert "12 to 128 characters" in result.output
    user = db.session.scalar(select(User).where(User.phone == "13800138000"))
    assert verify_password(user.password_hash, good)
    national = db.session.scalar(select(Branch).where(Branch.parent_id.is_(None)))
    assert (
        national.name_zh == "中国红十字会总会" and national.name_en == "Red Cross Society of China"
    )
    assert is_national_admin(user)
    actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["user_created", "branch_created", "role_granted"]
    assert good not in str([e.changes for e in db.session.scalars(select(AuditEntry))])


def test_create_admin_reuses_user_and_tree_and_is_idempotent(app, make_user, make_branch):
    from portal.branches.scope import is_national_admin

    national = make_branch(name="总会")
    user = make_user()
    result = _run(app, [user.phone])  # no password asked for an existing account
    assert result.exit_code == 0, result.output
    assert is_national_admin(user) and count(Branch) == 1
    assert _run(app, [user.phone]).exit_code == 0
    assert len(_live(user, national)) == 1


def test_create_admin_confirmation_must_match(app):
    result = _run(app, ["13800138001"], input="a long enough password\nsomething else entirely\n")
    assert result.exit_code != 0
    assert count(User) == 0 and count(StaffRole) == 0


def test_create_admin_refuses_a_bad_phone(app):
    result = _run(app, ["12345"])
    assert result.exit_code == 2 and count(User) == 0
