"""Group membership (团体会员): a contact applies for their organisation over HTTP, a
county officer approves in the inbox, the group gets a TT- number (the approval SMS
names it), a card with public verification, renewal, resignation, revocation, expiry;
one group per unified social credit code; scope 404s for a sibling branch's officer."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from stdnum.cn import uscc

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.membership import groups, terms
from portal.membership.charter import CHARTER_VERSION
from portal.membership.models import GroupMember, GroupMembershipApplication, Member
from portal.notifications.models import Notification
from portal.review.services import ReviewError, decide
from portal.timeutil import today_local
from tests.conftest import add_profile, count, english_client


def code(body: str) -> str:
    """A valid code: 17 characters and the check digit stdnum computes."""
    return body + uscc.calc_check_digit(body)


CODE = code("91610302MA6X1A2B3")  # 91610302MA6X1A2B3F
SCHOOL = code("12610300435201234")
ORG = "宝鸡秦岭机床有限公司"


@pytest.fixture
def world(make_branch, make_user, grant_role):
    n = make_branch(name="中国红十字会总会")
    p = make_branch(n, name="陕西省红十字会", code="610000")
    c = make_branch(p, name="宝鸡市红十字会", code="610300")
    a = make_branch(c, name="渭滨区红十字会", code="610302")
    b = make_branch(c, name="岐山县红十字会", code="610323")
    contact = make_user(phone="13912345678", locale="en", home_branch_id=a.id)
    add_profile(contact, "张晓明")
    officer = grant_role(make_user(locale="en"), a, "officer")
    sibling = grant_role(make_user(locale="en"), b, "officer")
    return SimpleNamespace(c=c, a=a, b=b, contact=contact, officer=officer, sibling=sibling)


def _form(where, **over):
    data = {
        "branch": str(where.id),
        "org_name": ORG,
        "uscc": CODE,
        "org_type": "enterprise",
        "size": "320",
        "address": "宝鸡市渭滨区清姜路 8 号",
        "agree": "y",
    }
    data.update(over)
    return data


def _apply(user, branch, **over):
    values = dict(
        org_name=ORG,
        uscc=CODE,
        org_type="enterprise",
        size=320,
        address="清姜路 8 号",
        charter_version=CHARTER_VERSION,
    )
    values.update(over)
    return groups.apply(user, branch, **values)


def _group(world, **over) -> GroupMember:
    application = _apply(world.contact, world.a, **over)
    decide(application, world.officer, "approve")
    db.session.commit()
    return db.session.scalar(
        select(GroupMember).where(GroupMember.application_id == application.id)
    )


def _client(app, login, user):
    client = english_client(app)
    login(client, user)
    return client


def test_the_whole_journey(world, app, login):
    contact = _client(app, login, world.contact)
    page = contact.get("/membership/groups/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Charter version" in html and 'name="uscc"' in html
    r = contact.post("/membership/groups/", data=_form(world.a, uscc=CODE.lower()))
    assert r.status_code == 302
    application = db.session.scalar(select(GroupMembershipApplication))
    assert application.uscc == CODE and application.size == 320  # stored upper case
    [received] = db.session.scalars(
        select(Notification).where(Notification.kind == "group_membership_received")
    )
    assert received.recipient == "13912345678" and "Group membership application" in received.body

    with pytest.raises(ReviewError):  # the contact cannot decide their own
        decide(application, world.contact, "approve")

    officer = _client(app, login, world.officer)
    inbox = officer.get("/admin/inbox?kind=group_membership").get_data(as_text=True)
    assert ORG in inbox and "applies for group membership" in inbox
    item = officer.get(f"/admin/inbox/group_membership/{application.id}")
    assert item.status_code == 200 and CODE in item.get_data(as_text=True)
    assert (
        officer.post(f"/admin/inbox/group_membership/{application.id}/approve").status_code == 302
    )
    db.session.expire_all()
    group = db.session.scalar(select(GroupMember))
    assert group.number == "TT-610302-000001" and group.status == "active"
    assert group.user_id == world.contact.id and group.org_name == ORG
    assert group.valid_until == terms.add_years(today_local(), 3)
    assert count(Member) == 0  # a group is not an individual member
    [decision] = db.session.scalars(
        select(Notification).where(Notification.kind == "review_decision")
    )
    assert decision.body.endswith("Your group member number is TT-610302-000001.")

    card = contact.get(f"/membership/groups/{group.id}/card")
    html = card.get_data(as_text=True)
    assert card.status_code == 200 and "TT-610302-000001" in html and "<svg" in html
    assert ORG in html

    verify = app.test_client().get(f"/verify/{group.card_token}")
    html = verify.get_data(as_text=True)
    assert verify.status_code == 200
    assert "TT-610302-000001" in html and ORG in html and "渭滨区红十字会" in html
    for private in ("张晓明", "13912345678", "张*明", CODE):
        assert private not in html
    typed = app.test_client().post(
        "/verify", data={"number": "tt-610302-000001", "surname": "宝鸡秦岭"}
    )
    assert typed.status_code == 200 and ORG in typed.get_data(as_text=True)
    wrong = app.test_client().post(
        "/verify", data={"number": "TT-610302-000001", "surname": "西安"}
    )
    assert ORG not in wrong.get_data(as_text=True)

    mine = contact.get("/my").get_data(as_text=True)
    assert "TT-610302-000001" in mine and ORG in mine


@pytest.mark.parametrize(
    "over, message",
    [
        ({"uscc": "91610302MA6X1A2B3G"}, "not a valid unified social credit code"),
        ({"uscc": "12345"}, "not a valid unified social credit code"),
        ({"uscc": ""}, "Please fill in the unified social credit code."),
        ({"org_name": ""}, "Please fill in the organisation"),
        ({"org_type": "club"}, "Not a valid choice"),
        ({"size": "abc"}, "from 1 to 10000000"),
        ({"size": "0"}, "from 1 to 10000000"),
        ({"size": "99999999999999999999"}, "from 1 to 10000000"),
        ({"address": "a\u202eb"}, "Please remove the special characters."),
        ({"agree": ""}, "Please read and agree to the charter."),
        ({"branch": "abc"}, "Not a valid choice"),
    ],
)
def test_bad_input_is_refused_beside_the_field_and_kept(world, app, login, over, message):
    client = _client(app, login, world.contact)
    r = client.post("/membership/groups/", data=_form(world.a, **over))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and message in html
    assert ORG in html or "org_name" in over  # typed values kept
    assert count(GroupMembershipApplication) == 0


def _error_beside(html: str, field: str) -> str:
    start = html.index(f'id="{field}-err"')
    return html[start : html.index("</p>", start)]


def test_a_bad_code_is_reported_beside_its_field(world, app, login):
    client = _client(app, login, world.contact)
    html = client.post(
        "/membership/groups/", data=_form(world.a, uscc="91610302MA6X1A2B3G")
    ).get_data(as_text=True)
    assert "not a valid unified social credit code" in _error_beside(html, "uscc")
    assert 'value="91610302MA6X1A2B3G"' in html


def test_one_group_per_code(world, app, login, make_user):
    _group(world)
    other = make_user(locale="en", home_branch_id=world.a.id)
    add_profile(other, "李红")
    client = _client(app, login, other)
    html = client.post("/membership/groups/", data=_form(world.a)).get_data(as_text=True)
    assert "already a group member" in _error_beside(html, "uscc")
    assert count(GroupMembershipApplication) == 1


def test_one_application_waiting_per_code(world, app, login, make_user):
    _apply(world.contact, world.a)
    db.session.commit()
    other = make_user(locale="en", home_branch_id=world.a.id)
    add_profile(other, "李红")
    client = _client(app, login, other)
    html = client.post("/membership/groups/", data=_form(world.a)).get_data(as_text=True)
    assert "already waiting" in _error_beside(html, "uscc")
    assert count(GroupMembershipApplication) == 1


def test_the_database_keeps_one_group_per_code(world):
    group = _group(world)
    db.session.add(
        GroupMember(
            uscc=group.uscc,
            user_id=world.contact.id,
            branch_id=world.a.id,
            org_name="重复",
            org_type="other",
            size=1,
            address="x",
            number="TT-X-1",
            status="active",
            valid_from=today_local(),
            valid_until=today_local(),
            card_token="t",
        )
    )
    with pytest.raises(Exception):  # noqa: B017  (IntegrityError of either database)
        db.session.flush()
    db.session.rollback()


def test_numbers_are_sequential_per_branch_and_apart_from_members(world, make_user):
    first = _group(world)
    for name, body in (("李红", SCHOOL[:-1]), ("王刚", "52610300MJY12345X")):
        user = make_user(locale="zh", home_branch_id=world.a.id)
        add_profile(user, name)
        application = _apply(user, world.a, uscc=code(body), org_name=name + "单位")
        decide(application, world.officer, "approve")
    db.session.commit()
    numbers = sorted(db.session.scalars(select(GroupMember.number)))
    assert first.number == "TT-610302-000001"
    assert numbers == ["TT-610302-000001", "TT-610302-000002", "TT-610302-000003"]


def test_withdraw_renew_resign_and_apply_again(world, app, login):
    client = _client(app, login, world.contact)
    client.post("/membership/groups/", data=_form(world.a))
    assert client.post("/membership/groups/withdraw").status_code == 302
    assert db.session.scalar(select(GroupMembershipApplication)).status == "withdrawn"

    group = _group(world)
    # renewal only in the last 30 days
    assert client.post(f"/membership/groups/{group.id}/renew").status_code == 302
    assert db.session.get(GroupMember, group.id).renewed_at is None
    group.valid_until = today_local() + timedelta(days=10)
    db.session.commit()
    assert client.post(f"/membership/groups/{group.id}/renew").status_code == 302
    db.session.expire_all()
    group = db.session.get(GroupMember, group.id)
    assert group.valid_until == terms.add_years(today_local() + timedelta(days=10), 3)

    assert client.get(f"/membership/groups/{group.id}/resign").status_code == 200
    r = client.post(f"/membership/groups/{group.id}/resign", data={"reason": "单位撤销"})
    assert r.status_code == 302
    db.session.expire_all()
    group = db.session.get(GroupMember, group.id)
    assert group.status == "resigned" and group.end_reason == "单位撤销"
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"group_membership_renewed", "group_membership_resigned"} <= actions

    # Resigned: the code is free again; approval reuses the row with a new number.
    assert client.post("/membership/groups/", data=_form(world.a)).status_code == 302
    pending = groups.pending_application(world.contact)
    decide(pending, world.officer, "approve")
    db.session.commit()
    db.session.expire_all()
    again = db.session.get(GroupMember, group.id)
    assert again.status == "active" and again.number == "TT-610302-000002"
    assert count(GroupMember) == 1


def test_someone_else_cannot_open_renew_or_resign_a_group(world, app, login, make_user):
    group = _group(world)
    stranger = make_user(locale="en", home_branch_id=world.a.id)
    client = _client(app, login, stranger)
    assert client.get(f"/membership/groups/{group.id}/card").status_code == 404
    assert client.post(f"/membership/groups/{group.id}/renew").status_code == 404
    assert client.get(f"/membership/groups/{group.id}/resign").status_code == 404
    assert client.post(f"/membership/groups/{group.id}/resign").status_code == 404
    with pytest.raises(ReviewError):
        groups.resign(group, stranger)


def test_staff_list_detail_revoke_and_csv(world, app, login):
    group = _group(world)
    officer = _client(app, login, world.officer)
    members = officer.get("/admin/membership/").get_data(as_text=True)
    assert "/admin/membership/groups/" in members  # the tab
    html = officer.get("/admin/membership/groups/").get_data(as_text=True)
    assert ORG in html and group.number in html
    for q in ("秦岭", group.number.lower(), CODE, "张晓明", "5678"):
        found = officer.get("/admin/membership/groups/", query_string={"q": q})
        assert ORG in found.get_data(as_text=True), q
    assert ORG not in officer.get("/admin/membership/groups/?q=0000").get_data(as_text=True)
    assert ORG in officer.get("/admin/membership/groups/?status=active").get_data(as_text=True)
    assert ORG not in officer.get("/admin/membership/groups/?status=expired").get_data(as_text=True)

    detail = officer.get(f"/admin/membership/groups/{group.id}")
    html = detail.get_data(as_text=True)
    assert detail.status_code == 200 and CODE in html and "139****5678" in html
    viewed = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "sensitive_viewed")
        .order_by(AuditEntry.id.desc())
    )
    assert viewed.changes["group_member_id"] == group.id

    empty = officer.post(f"/admin/membership/groups/{group.id}/revoke", data={"reason": ""})
    assert empty.status_code == 200 and "Please write the reason." in empty.get_data(as_text=True)
    r = officer.post(
        f"/admin/membership/groups/{group.id}/revoke", data={"reason": "长期未参加活动"}
    )
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(GroupMember, group.id).status == "revoked"
    assert db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "group_membership_revoked")
    )

    csv = officer.get("/admin/membership/groups/?format=csv")
    text = csv.get_data().decode("utf-8-sig")
    assert csv.status_code == 200 and ORG in text and CODE in text
    assert "13912345678" not in text and "139****5678" in text
    assert db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "group_members_exported")
    )


def test_a_sibling_officer_gets_404_everywhere(world, app, login):
    group = _group(world)
    sibling = _client(app, login, world.sibling)
    assert ORG not in sibling.get("/admin/membership/groups/").get_data(as_text=True)
    assert ORG not in sibling.get("/admin/membership/groups/?format=csv").get_data(as_text=True)
    assert sibling.get(f"/admin/membership/groups/{group.id}").status_code == 404
    r = sibling.post(f"/admin/membership/groups/{group.id}/revoke", data={"reason": "x"})
    assert r.status_code == 404
    assert sibling.get(f"/admin/membership/groups/?branch={world.a.id}").status_code == 404
    assert db.session.get(GroupMember, group.id).status == "active"

    application = _apply(world.contact, world.a, uscc=SCHOOL, org_name="宝鸡中学")
    db.session.commit()
    assert sibling.get(f"/admin/inbox/group_membership/{application.id}").status_code == 404
    assert (
        sibling.post(f"/admin/inbox/group_membership/{application.id}/approve").status_code == 404
    )
    assert groups.pending_application(world.contact).status == "pending"


def test_expire_covers_groups_and_runs_twice_safely(world, app):
    group = _group(world)
    runner = app.test_cli_runner()

    def sms(kind):
        return db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.kind == kind)
        )

    group.valid_until = today_local() + timedelta(days=20)
    db.session.commit()
    for _ in range(2):
        assert runner.invoke(args=["membership", "expire"]).exit_code == 0
    assert sms("group_membership_expiring") == 1
    body = db.session.scalar(
        select(Notification.body).where(Notification.kind == "group_membership_expiring")
    )
    assert group.number in body and ORG in body
    group = db.session.get(GroupMember, group.id)
    group.valid_until = today_local() - timedelta(days=1)
    db.session.commit()
    for _ in range(2):
        assert runner.invoke(args=["membership", "expire"]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(GroupMember, group.id).status == "expired"
    assert sms("group_membership_expired") == 1


def test_the_group_indicator_counts_groups_and_members_do_not(world):
    from portal.admin.indicators import get_indicator, total, year_windows
    from portal.branches.models import Branch

    _group(world)
    _, start, end = year_windows(today_local().year)
    ids = select(Branch.id).where(Branch.id.in_([world.a.id]))
    assert total(get_indicator("group_members"), ids, start, end) == 1
    assert total(get_indicator("members"), ids, start, end) == 0


def test_without_a_profile_the_page_links_to_it(world, app, login, make_user):
    bare = make_user(locale="en", home_branch_id=world.a.id)
    client = _client(app, login, bare)
    html = client.get("/membership/groups/").get_data(as_text=True)
    assert "/account/profile" in html and 'name="uscc"' not in html
    assert client.post("/membership/groups/", data=_form(world.a)).status_code == 200
    assert count(GroupMembershipApplication) == 0
    visitor = english_client(app).get("/membership/groups/")
    assert visitor.status_code == 200 and "Log in to apply" in visitor.get_data(as_text=True)


def test_the_service_refuses_bad_values_from_any_caller(world):
    for over in (
        {"uscc": "bad"},
        {"org_type": "club"},
        {"size": 0},
        {"size": None},
        {"org_name": "  "},
        {"charter_version": "old"},
    ):
        with pytest.raises(ReviewError):
            _apply(world.contact, world.a, **over)
    with pytest.raises(ReviewError):
        _apply(world.contact, world.b)  # not their branch nor above it
    assert count(GroupMembershipApplication) == 0


def test_the_demo_has_groups_with_valid_codes_and_stays_idempotent(app):
    from portal.demo import load_all
    from portal.demo.groups import GROUPS

    load_all()
    db.session.commit()
    made = db.session.scalars(select(GroupMember)).all()
    assert len(made) == 4 and all(uscc.is_valid(g.uscc) for g in made)
    assert {g.org_type for g in made} >= {"enterprise", "school", "social_org", "government"}
    assert any(terms.lifecycle(g) == "expiring" for g in made)
    assert all(g.number.startswith("TT-6103") for g in made)
    waiting = db.session.scalars(
        select(GroupMembershipApplication).where(GroupMembershipApplication.status == "pending")
    ).all()
    assert len(waiting) == 1
    contact = db.session.scalar(select(GroupMember).order_by(GroupMember.id)).user
    assert contact.phone == "13900000002"  # the demo citizen of the browser tests
    load_all()
    db.session.commit()
    assert count(GroupMember) == 4 and count(GroupMembershipApplication) == len(GROUPS)
