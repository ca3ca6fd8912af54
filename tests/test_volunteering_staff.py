"""Staff side of volunteering: the scoped list, search, filters, detail (audited view),
status changes, CSV export, teams; a sibling branch's officer gets 404 everywhere."""

from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.review.services import decide
from portal.volunteering import services
from portal.volunteering.models import Volunteer, VolunteerTeam, VolunteerTeamMember
from tests.conftest import count, english_client
from tests.test_volunteering import add_profile, details


@pytest.fixture
def world(tree, make_user, grant_role):
    """A volunteer at 渭滨 (tree.a) and one at its community (tree.g); officers at 渭滨,
    at its sibling 岐山 (tree.b) and at the city."""
    a_officer = grant_role(make_user(locale="en"), tree.a, "officer")
    volunteers = []
    for name, branch, phone in (("张晓明", tree.a, "13900001234"), ("李红", tree.g, "13900005678")):
        user = make_user(phone=phone, home_branch_id=branch.id)
        add_profile(user, name=name, id_masked="6****************1")
        application = services.apply(user, branch, details(), agreed_code=True)
        decide(application, a_officer, "approve")
        db.session.commit()
        volunteers.append(services.volunteer_of(user))
    return {
        "a": a_officer,
        "b": grant_role(make_user(locale="en"), tree.b, "officer"),
        "city": grant_role(make_user(locale="en"), tree.c, "admin"),
        "volunteers": volunteers,
    }


@pytest.fixture
def as_user(app, login):
    def make(user):
        client = english_client(app)
        login(client, user)
        return client

    return make


def test_the_list_shows_the_scope_and_searches(world, as_user):
    client = as_user(world["a"])
    html = client.get("/admin/volunteering/").get_data(as_text=True)
    assert "张晓明" in html and "李红" in html
    assert "李红" not in client.get("/admin/volunteering/?q=5678x").get_data(as_text=True)
    by_phone = client.get("/admin/volunteering/?q=1234").get_data(as_text=True)
    assert "张晓明" in by_phone and "李红" not in by_phone
    by_number = client.get(f"/admin/volunteering/?q={world['volunteers'][1].number}")
    assert "李红" in by_number.get_data(as_text=True)
    suspended = client.get("/admin/volunteering/?status=suspended").get_data(as_text=True)
    assert "张晓明" not in suspended
    for junk in ("?status=%00", "?team=-1", "?area=x" * 3, "?q=" + "x" * 500):
        assert client.get("/admin/volunteering/" + junk).status_code == 200
    assert client.get("/admin/volunteering/?page=abc").status_code == 404


def test_a_sibling_officer_sees_nothing_and_gets_404(world, as_user):
    client = as_user(world["b"])
    html = client.get("/admin/volunteering/").get_data(as_text=True)
    assert "张晓明" not in html and "李红" not in html
    v = world["volunteers"][0]
    assert client.get(f"/admin/volunteering/{v.id}").status_code == 404
    data = {"status": "suspended", "reason": "测试"}
    assert client.post(f"/admin/volunteering/{v.id}/status", data=data).status_code == 404
    export = client.get("/admin/volunteering/export").get_data(as_text=True)
    assert v.number not in export
    db.session.refresh(v)
    assert v.status == "active"


def test_citizens_get_403(world, as_user, make_user):
    client = as_user(make_user())
    assert client.get("/admin/volunteering/").status_code == 403
    assert client.get("/admin/volunteering/teams").status_code == 403


def test_the_detail_page_is_an_audited_view(world, as_user):
    v = world["volunteers"][1]
    response = as_user(world["city"]).get(f"/admin/volunteering/{v.id}")
    assert response.status_code == 200
    assert "13800138000" in response.get_data(as_text=True)  # the emergency contact
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "sensitive_viewed"))
    assert entry.object_id == str(v.user_id) and entry.changes["volunteer_id"] == v.id


def test_status_change_needs_a_reason_and_is_audited(world, as_user):
    v = world["volunteers"][0]
    client = as_user(world["a"])
    bad = client.post(f"/admin/volunteering/{v.id}/status", data={"status": "suspended"})
    assert bad.status_code == 200 and "write the reason" in bad.get_data(as_text=True)
    junk = client.post(f"/admin/volunteering/{v.id}/status", data={"status": "boss", "reason": "x"})
    assert junk.status_code == 200
    db.session.refresh(v)
    assert v.status == "active"
    ok = client.post(
        f"/admin/volunteering/{v.id}/status", data={"status": "suspended", "reason": "长期未参加"}
    )
    assert ok.status_code == 302
    db.session.refresh(v)
    assert v.status == "suspended" and v.status_reason == "长期未参加"
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "volunteer_status_changed")
    )
    assert entry.changes["status"] == ["active", "suspended"]
    # the public card says so
    assert not services._by_token(v.card_token).is_valid


def test_csv_export_masks_the_id_number(world, as_user):
    response = as_user(world["a"]).get("/admin/volunteering/export")
    assert response.status_code == 200
    text = response.get_data().decode("utf-8-sig")
    assert "张晓明" in text and "6****************1" in text
    assert world["volunteers"][0].number in text
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "volunteers_exported"))
    xlsx = as_user(world["a"]).get("/admin/volunteering/export?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    cells = [c.value for row in load_workbook(BytesIO(xlsx.data)).active.iter_rows() for c in row]
    assert "6****************1" in cells and "张晓明" in cells


def test_teams_take_volunteers_of_the_subtree_only(world, as_user, tree, make_user):
    client = as_user(world["a"])
    assert client.get("/admin/volunteering/teams/new").status_code == 200
    bad = client.post(
        "/admin/volunteering/teams/new",
        data={"branch": str(tree.a.id), "name": "", "service_area": "first_aid"},
    )
    assert bad.status_code == 200 and count(VolunteerTeam) == 0
    # a branch outside the scope is not a choice
    outside = client.post(
        "/admin/volunteering/teams/new",
        data={"branch": str(tree.b.id), "name": "队", "service_area": "first_aid"},
    )
    assert outside.status_code == 200 and count(VolunteerTeam) == 0
    response = client.post(
        "/admin/volunteering/teams/new",
        data={
            "branch": str(tree.g.id),
            "name": "经二路社区志愿服务队",
            "service_area": "boai_home",
            "leader_name": "李红",
        },
    )
    assert response.status_code == 302
    team = db.session.scalar(select(VolunteerTeam))
    zhang, li = world["volunteers"]
    # 张晓明 is registered at 渭滨, above the community: not in its subtree
    refused = client.post(
        f"/admin/volunteering/teams/{team.id}/members", data={"number": zhang.number}
    )
    assert refused.status_code == 200 and count(VolunteerTeamMember) == 0
    added = client.post(f"/admin/volunteering/teams/{team.id}/members", data={"number": li.number})
    assert added.status_code == 302 and count(VolunteerTeamMember) == 1
    again = client.post(f"/admin/volunteering/teams/{team.id}/members", data={"number": li.number})
    assert again.status_code == 200 and count(VolunteerTeamMember) == 1
    assert "李红" in client.get(f"/admin/volunteering/teams/{team.id}").get_data(as_text=True)
    filtered = client.get(f"/admin/volunteering/?team={team.id}").get_data(as_text=True)
    assert "李红" in filtered and "张晓明" not in filtered
    assert db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "volunteer_team_member_added")
    )

    sibling = as_user(world["b"])
    assert sibling.get(f"/admin/volunteering/teams/{team.id}").status_code == 404
    post = sibling.post(f"/admin/volunteering/teams/{team.id}/members", data={"number": li.number})
    assert post.status_code == 404
    assert team.name not in sibling.get("/admin/volunteering/teams").get_data(as_text=True)


def test_numbers_differ_between_branches(world):
    numbers = [v.number for v in world["volunteers"]]
    assert len(set(numbers)) == 2 and all(n.endswith("-000001") for n in numbers)
    assert count(Volunteer) == 2
