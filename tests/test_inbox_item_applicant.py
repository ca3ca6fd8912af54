"""The officer's item page tells who the applicant is: their real-name status (masked)
and the earlier decisions on their requests of the same kind, within the officer's
scope only; read-only, and each view of the real-name details is audit-logged."""

from datetime import timedelta

from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.branches.home_branch import KIND, HomeBranchRequest
from portal.extensions import db
from portal.timeutil import utcnow
from tests.conftest import add_profile

EN = {"Accept-Language": "en"}
MASKED = "6****************X"  # what add_profile stores


def decided(user, branch, status, reason=None, days_ago=10):
    when = utcnow() - timedelta(days=days_ago)
    req = HomeBranchRequest(
        user_id=user.id,
        branch_id=branch.id,
        status=status,
        created_at=when,
        submitted_at=when,
        decided_at=when + timedelta(days=1),
        decision_reason=reason,
    )
    db.session.add(req)
    db.session.commit()
    return req


def item_page(client, req) -> str:
    r = client.get(f"/admin/inbox/{KIND}/{req.id}", headers=EN)
    assert r.status_code == 200
    return r.get_data(as_text=True)


def section(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</section>", start)]


def test_item_page_shows_a_verified_applicant_masked(client, login, tree, make_user, grant_role):
    officer = grant_role(make_user(locale="en"), tree.a, "officer")
    applicant = make_user()
    add_profile(applicant, "张丽娟")
    req = HomeBranchRequest(user_id=applicant.id, branch_id=tree.a.id)
    db.session.add(req)
    db.session.commit()
    login(client, officer)
    status = section(item_page(client, req), "real-name-status")
    assert "Real-name profile" in status
    assert f"Given: Resident ID card {MASKED}" in status
    assert "1960-05-01" not in status  # add_profile's birth date


def test_item_page_says_when_the_applicant_has_no_real_name(
    client, login, tree, make_user, grant_role
):
    officer = grant_role(make_user(locale="en"), tree.a, "officer")
    req = HomeBranchRequest(user_id=make_user().id, branch_id=tree.a.id)
    db.session.add(req)
    db.session.commit()
    login(client, officer)
    assert "Not given yet" in section(item_page(client, req), "real-name-status")


def test_item_page_lists_earlier_decisions_on_the_same_person_in_scope_only(
    client, login, tree, make_user, grant_role
):
    officer = grant_role(make_user(locale="en"), tree.a, "officer")
    applicant = make_user()
    add_profile(applicant)
    refused = decided(applicant, tree.a, "rejected", "请先完成实名认证", days_ago=30)
    approved = decided(applicant, tree.g, "approved", days_ago=20)  # below 渭滨: in scope
    elsewhere = decided(applicant, tree.b, "rejected", "岐山县的理由", days_ago=15)
    withdrawn = decided(applicant, tree.a, "withdrawn", days_ago=12)
    someone_else = decided(make_user(), tree.a, "rejected", "别人的原因")
    req = HomeBranchRequest(user_id=applicant.id, branch_id=tree.a.id)
    db.session.add(req)
    db.session.commit()

    login(client, officer)
    earlier = section(item_page(client, req), "applicant-heading")
    assert "Not approved" in earlier and "请先完成实名认证" in earlier
    assert "Approved" in earlier and tree.g.name_en in earlier
    assert f">#{refused.id}<" in earlier and f">#{approved.id}<" in earlier
    # Newest decision first.
    assert earlier.index(f">#{approved.id}<") < earlier.index(f">#{refused.id}<")
    # Another branch's decision (岐山, outside the officer's scope), a withdrawal, someone
    # else's request and the item itself are not listed.
    assert "岐山县的理由" not in earlier and f">#{elsewhere.id}<" not in earlier
    assert f">#{withdrawn.id}<" not in earlier
    assert "别人的原因" not in earlier and f">#{someone_else.id}<" not in earlier
    assert f">#{req.id}<" not in earlier

    # The city admin above both counties sees 岐山's decision too.
    city_admin = grant_role(make_user(locale="en"), tree.c, "admin")
    login(client, city_admin)
    assert "岐山县的理由" in section(item_page(client, req), "applicant-heading")


def test_item_page_without_earlier_decisions_says_so(client, login, tree, make_user, grant_role):
    officer = grant_role(make_user(locale="en"), tree.a, "officer")
    req = HomeBranchRequest(user_id=make_user().id, branch_id=tree.a.id)
    db.session.add(req)
    db.session.commit()
    login(client, officer)
    assert "None that you can see." in section(item_page(client, req), "applicant-heading")


def test_viewing_the_status_is_audited_with_the_fields_shown(
    client, login, tree, make_user, grant_role
):
    officer = grant_role(make_user(locale="en"), tree.a, "officer")
    applicant = make_user()
    add_profile(applicant)
    decided(applicant, tree.a, "rejected", "请先完成实名认证")
    req = HomeBranchRequest(user_id=applicant.id, branch_id=tree.a.id)
    db.session.add(req)
    db.session.commit()
    login(client, officer)
    item_page(client, req)
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "sensitive_viewed")
    ).all()
    assert (entry.actor_id, entry.actor_role, entry.branch_id) == (officer.id, "officer", tree.a.id)
    assert entry.changes == {
        "fields": ["doc_number_masked", "doc_type", "full_name"],
        "via": KIND,
        "item_id": req.id,
        "earlier_decisions": 1,
    }
    assert MASKED not in str(entry.changes)


def test_the_item_page_changes_nothing(client, login, tree, make_user, grant_role):
    officer = grant_role(make_user(locale="en"), tree.a, "officer")
    applicant = make_user()
    earlier = decided(applicant, tree.a, "rejected", "请先完成实名认证")
    req = HomeBranchRequest(user_id=applicant.id, branch_id=tree.a.id)
    db.session.add(req)
    db.session.commit()
    login(client, officer)
    item_page(client, req)
    db.session.expire_all()
    again = db.session.get(HomeBranchRequest, earlier.id)
    assert (again.status, again.decision_reason) == ("rejected", "请先完成实名认证")
    assert db.session.get(HomeBranchRequest, req.id).status == "pending"
