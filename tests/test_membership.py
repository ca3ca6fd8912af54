"""Membership: apply over HTTP, a county officer approves in the inbox, the member gets a
gapless number, a card and a public verification page; refusals; renewal; resignation."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.membership import services
from portal.membership.charter import CHARTER_VERSION
from portal.membership.models import Member, MembershipApplication
from portal.notifications.models import Notification
from portal.review.services import ReviewError, decide
from portal.timeutil import today_local
from tests.conftest import add_profile, count

NAME = "张晓明"


@pytest.fixture
def world(make_branch, make_user, grant_role):
    n = make_branch(name="中国红十字会总会")
    p = make_branch(n, name="陕西省红十字会", code="610000")
    c = make_branch(p, name="宝鸡市红十字会", code="610300")
    a = make_branch(c, name="渭滨区红十字会", code="610302")
    b = make_branch(c, name="岐山县红十字会", code="610323")
    citizen = make_user(phone="13912345678", locale="en", home_branch_id=a.id)
    add_profile(citizen, NAME)
    officer = grant_role(make_user(locale="en"), a, "officer")
    sibling = grant_role(make_user(locale="en"), b, "officer")
    return SimpleNamespace(
        n=n, p=p, c=c, a=a, b=b, citizen=citizen, officer=officer, sibling=sibling
    )


def _form(where, **over):
    data = {
        "branch": str(where.id),
        "member_type": "ordinary",
        "occupation": "教师",
        "work_unit": "宝鸡市第一中学",
        "address": "宝鸡市渭滨区经二路 12 号",
        "motivation": "想帮助身边的人",
        "agree": "y",
    }
    data.update(over)
    return data


def _apply(user, branch, **over):
    values = {
        "member_type": "ordinary",
        "occupation": "教师",
        "work_unit": None,
        "address": "经二路 12 号",
        "motivation": None,
        "charter_version": CHARTER_VERSION,
    }
    values.update(over)
    return services.apply(user, branch, **values)


def test_the_whole_journey(world, client, login, app):
    citizen_client = client
    login(citizen_client, world.citizen)
    page = citizen_client.get("/membership/", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Charter version" in html and "honorary" not in html
    assert "宝鸡市红十字会" in html and "中国红十字会总会" not in html  # national not offered

    r = citizen_client.post("/membership/", data=_form(world.a))
    assert r.status_code == 302
    application = db.session.scalar(select(MembershipApplication))
    assert application.branch_id == world.a.id and application.charter_version == CHARTER_VERSION
    sms = db.session.scalars(select(Notification).where(Notification.kind == "membership_received"))
    assert [n.recipient for n in sms] == ["13912345678"]

    # The applicant cannot decide their own, even with a role.
    with pytest.raises(ReviewError):
        decide(application, world.citizen, "approve")

    officer_client = app.test_client()
    login(officer_client, world.officer)
    item = officer_client.get(f"/admin/inbox/membership/{application.id}")
    assert item.status_code == 200 and NAME in item.get_data(as_text=True)
    r = officer_client.post(f"/admin/inbox/membership/{application.id}/approve")
    assert r.status_code == 302
    db.session.expire_all()
    member = db.session.scalar(select(Member))
    assert member.number == "HY-610302-000001" and member.status == "active"
    assert member.valid_from == today_local()
    assert member.valid_until == services.add_years(today_local(), 3)
    decisions = db.session.scalars(
        select(Notification).where(Notification.kind == "review_decision")
    )
    assert len(list(decisions)) == 1  # one SMS on approval

    card = citizen_client.get("/membership/card", headers={"Accept-Language": "en"})
    html = card.get_data(as_text=True)
    assert card.status_code == 200 and "HY-610302-000001" in html and "<svg" in html
    verify = app.test_client().get(f"/verify/{member.card_token}")
    html = verify.get_data(as_text=True)
    assert verify.status_code == 200 and "HY-610302-000001" in html and "张*明" in html
    for private in (NAME, "13912345678", "6****************X", "610302199"):
        assert private not in html
    typed = app.test_client().post("/verify", data={"number": "hy-610302-000001", "surname": "张"})
    assert typed.status_code == 200 and "张*明" in typed.get_data(as_text=True)
    assert NAME not in typed.get_data(as_text=True)

    mine = citizen_client.get("/my", headers={"Accept-Language": "en"})
    assert "HY-610302-000001" in mine.get_data(as_text=True)


def test_without_a_profile_the_page_links_to_it_and_posting_writes_nothing(
    world, client, login, make_user
):
    bare = make_user(locale="en", home_branch_id=world.a.id)
    login(client, bare)
    html = client.get("/membership/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "/account/profile" in html and 'name="occupation"' not in html
    assert client.post("/membership/", data=_form(world.a)).status_code == 200
    assert count(MembershipApplication) == 0
    with pytest.raises(ReviewError):
        _apply(bare, world.a)


@pytest.mark.parametrize(
    "over, message",
    [
        ({"occupation": ""}, "Please fill in your occupation."),
        ({"address": "a\u202eb"}, "Please remove the special characters."),
        ({"agree": ""}, "Please read and agree to the charter."),
        ({"member_type": "honorary"}, "Not a valid choice"),
        ({"branch": "999999999999"}, "Not a valid choice"),
        ({"branch": "abc"}, "Not a valid choice"),
        ({"motivation": "字" * 201}, "Please type at most 200 characters."),
    ],
)
def test_bad_input_is_refused_beside_the_field_and_kept(world, client, login, over, message):
    login(client, world.citizen)
    r = client.post("/membership/", data=_form(world.a, **over), headers={"Accept-Language": "en"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and message in html
    assert "宝鸡市渭滨区经二路" in html or "address" in over  # typed values kept
    assert count(MembershipApplication) == 0


def test_one_pending_application_and_withdraw(world, client, login):
    _apply(world.citizen, world.a)
    db.session.commit()
    with pytest.raises(ReviewError):
        _apply(world.citizen, world.c)
    login(client, world.citizen)
    html = client.get("/my", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Withdraw my application" in html
    assert client.post("/membership/withdraw").status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(MembershipApplication)).status == "withdrawn"


def test_service_refuses_other_branches_and_types(world):
    with pytest.raises(ReviewError):
        _apply(world.citizen, world.b)  # not their branch nor above it
    with pytest.raises(ReviewError):
        _apply(world.citizen, world.n)  # national
    with pytest.raises(ReviewError):
        _apply(world.citizen, world.a, member_type="honorary")
    with pytest.raises(ReviewError):
        _apply(world.citizen, world.a, charter_version="old")
    assert count(MembershipApplication) == 0


def _member(world, **over) -> Member:
    application = _apply(world.citizen, world.a)
    db.session.commit()
    assert decide(application, world.officer, "approve")
    db.session.commit()
    member = db.session.scalar(select(Member))
    for key, value in over.items():
        setattr(member, key, value)
    db.session.commit()
    return member


def test_numbers_follow_on_per_branch(world, make_user):
    first = _member(world)
    other = make_user(home_branch_id=world.a.id)
    add_profile(other, "李娜")
    second = _apply(other, world.a)
    db.session.commit()
    decide(second, world.officer, "approve")
    db.session.commit()
    numbers = sorted(m.number for m in db.session.scalars(select(Member)))
    assert numbers == ["HY-610302-000001", "HY-610302-000002"] and first.number in numbers


def test_lifecycle_is_derived_from_the_end_date(world):
    member = _member(world)
    today = today_local()
    assert services.lifecycle(member, today) == "active"
    member.valid_until = today + timedelta(days=30)
    assert services.lifecycle(member, today) == "expiring"
    member.valid_until = today - timedelta(days=1)
    assert services.lifecycle(member, today) == "expired"


def test_renewal_only_near_the_end_and_from_the_later_date(world, client, login):
    member = _member(world)
    login(client, world.citizen)
    until = member.valid_until
    client.post("/membership/renew")
    db.session.expire_all()
    assert db.session.get(Member, member.id).valid_until == until  # too early: refused
    end = today_local() + timedelta(days=10)
    member = db.session.get(Member, member.id)
    member.valid_until = end
    db.session.commit()
    assert client.post("/membership/renew").status_code == 302
    db.session.expire_all()
    assert db.session.get(Member, member.id).valid_until == services.add_years(end, 3)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "membership_renewed"))
    member = db.session.get(Member, member.id)
    member.valid_until = today_local() - timedelta(days=100)
    member.status = "expired"
    db.session.commit()
    assert client.post("/membership/renew").status_code == 302
    db.session.expire_all()
    member = db.session.get(Member, member.id)
    assert member.status == "active"
    assert member.valid_until == services.add_years(today_local(), 3)


def test_resigning_ends_the_membership_and_the_card_no_longer_verifies_as_valid(
    world, client, login, app
):
    member = _member(world)
    login(client, world.citizen)
    assert client.get("/membership/resign").status_code == 200
    r = client.post("/membership/resign", data={"reason": "工作调动"})
    assert r.status_code == 302
    db.session.expire_all()
    member = db.session.get(Member, member.id)
    assert member.status == "resigned" and member.end_reason == "工作调动"
    html = (
        app.test_client()
        .get(f"/verify/{member.card_token}", headers={"Accept-Language": "en"})
        .get_data(as_text=True)
    )
    assert "Resigned" in html
    assert client.post("/membership/resign", data={}).status_code == 404
    # They may apply again; approval reuses the row with a new number.
    _apply(world.citizen, world.a)
    db.session.commit()


def test_card_page_needs_a_membership(world, client, login):
    login(client, world.citizen)
    assert client.get("/membership/card").status_code == 404
    assert client.get("/membership/", headers={"Accept-Language": "en"}).status_code == 200


def test_expire_twice_sends_each_notice_once(world, app):
    member = _member(world)
    runner = app.test_cli_runner()

    def sms(kind):
        return db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.kind == kind)
        )

    member.valid_until = today_local() + timedelta(days=20)
    db.session.commit()
    for _ in range(2):
        result = runner.invoke(args=["membership", "expire"])
        assert result.exit_code == 0, result.output
    assert sms("membership_expiring") == 1 and sms("membership_expired") == 0
    member = db.session.get(Member, member.id)
    member.valid_until = today_local() - timedelta(days=1)
    db.session.commit()
    for _ in range(2):
        assert runner.invoke(args=["membership", "expire"]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(Member, member.id).status == "expired"
    assert sms("membership_expiring") == 1 and sms("membership_expired") == 1


def test_the_members_indicator_is_live_and_counts_new_members(world):
    from portal.admin.indicators import get_indicator, total, year_windows

    _member(world)
    indicator = get_indicator("members")
    assert indicator.live
    _, start, end = year_windows(today_local().year)
    from portal.branches.models import Branch

    ids = select(Branch.id).where(Branch.id.in_([world.a.id]))
    assert total(indicator, ids, start, end) == 1
    ids = select(Branch.id).where(Branch.id.in_([world.b.id]))
    assert total(indicator, ids, start, end) == 0


def test_the_demo_loads_twice_with_members_a_pending_one_and_one_expiring(app):
    from portal.demo import load_all

    load_all()
    members = count(Member)
    load_all()
    assert count(Member) == members == 10
    assert count(MembershipApplication) == 11
    states = [services.lifecycle(m) for m in db.session.scalars(select(Member))]
    assert states.count("expiring") == 1
    numbers = {m.number for m in db.session.scalars(select(Member))}
    assert "HY-610302-000001" in numbers and "HY-610323-000003" in numbers
