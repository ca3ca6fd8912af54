"""Staff member pages: the list in scope with search and status filter, the member page
(logged as a view of personal data), revocation with a reason, CSV with masked IDs; a
sibling branch's officer gets 404 everywhere."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.membership.models import Member
from portal.timeutil import today_local
from tests.test_membership import _member, world  # noqa: F401  (the fixture)

EN = {"Accept-Language": "en"}


@pytest.fixture
def member(world):  # noqa: F811
    return _member(world)


def _actions(action):
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def test_list_search_and_status_filter(world, member, client, login):  # noqa: F811
    login(client, world.officer)
    for q in ("张晓", "HY-610302-000001", "hy-610302-000001", "5678"):
        html = client.get("/admin/membership/", query_string={"q": q}, headers=EN).get_data(
            as_text=True
        )
        assert "HY-610302-000001" in html, q
    for q in ("李", "1234", "HY-610302-000002"):
        html = client.get("/admin/membership/", query_string={"q": q}, headers=EN).get_data(
            as_text=True
        )
        assert "HY-610302-000001" not in html, q
    html = client.get("/admin/membership/?status=expiring", headers=EN).get_data(as_text=True)
    assert "HY-610302-000001" not in html
    member.valid_until = today_local() + timedelta(days=5)
    db.session.commit()
    html = client.get("/admin/membership/?status=expiring", headers=EN).get_data(as_text=True)
    assert "HY-610302-000001" in html
    assert client.get("/admin/membership/?status=junk").status_code == 200
    assert client.get("/admin/membership/?page=x").status_code == 404


def test_member_page_logged_and_revoke_needs_reason(world, member, client, login):  # noqa: F811
    login(client, world.officer)
    page = client.get(f"/admin/membership/{member.id}", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "张晓明" in html and "6****************X" in html
    assert "13912345678" not in html
    assert len(_actions("sensitive_viewed")) == 1
    r = client.post(f"/admin/membership/{member.id}/revoke", data={"reason": ""}, headers=EN)
    assert r.status_code == 200 and "Please write the reason." in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Member, member.id).status == "active"
    r = client.post(f"/admin/membership/{member.id}/revoke", data={"reason": "违反章程"})
    assert r.status_code == 302
    db.session.expire_all()
    revoked = db.session.get(Member, member.id)
    assert revoked.status == "revoked" and revoked.end_reason == "违反章程"
    [entry] = _actions("membership_revoked")
    assert entry.actor_id == world.officer.id and entry.changes == {"reason": "违反章程"}


def test_the_csv_masks_id_numbers_and_is_audited(world, member, client, login):  # noqa: F811
    login(client, world.officer)
    r = client.get("/admin/membership/?format=csv", headers=EN)
    body = r.get_data().decode("utf-8-sig")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "HY-610302-000001" in body and "6****************X" in body
    assert "13912345678" not in body
    assert len(_actions("members_exported")) == 1


def test_a_sibling_officer_gets_404_everywhere(world, member, client, login):  # noqa: F811
    login(client, world.sibling)
    html = client.get("/admin/membership/", headers=EN).get_data(as_text=True)
    assert "HY-610302-000001" not in html
    assert client.get(f"/admin/membership/?branch={world.a.id}").status_code == 404
    assert client.get(f"/admin/membership/?branch={world.a.id}&format=csv").status_code == 404
    assert client.get(f"/admin/membership/{member.id}").status_code == 404
    r = client.post(f"/admin/membership/{member.id}/revoke", data={"reason": "x"})
    assert r.status_code == 404
    body = client.get("/admin/membership/?format=csv").get_data().decode("utf-8-sig")
    assert "HY-610302-000001" not in body
    db.session.expire_all()
    assert db.session.get(Member, member.id).status == "active"
    assert len(_actions("sensitive_viewed")) == 0


def test_citizens_cannot_open_the_staff_pages(world, member, client, login):  # noqa: F811
    login(client, world.citizen)
    assert client.get("/admin/membership/").status_code == 403
    assert client.get(f"/admin/membership/{member.id}").status_code == 403
