"""A citizen's home-branch request: the service rules and the /branches/mine pages."""

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.branches.home_branch import (
    HomeBranchRequest,
    ancestors,
    children_with_counts,
    request_home_branch,
    search_branches,
)
from portal.extensions import db
from portal.review.services import ReviewError, decide
from portal.timeutil import utcnow
from tests.conftest import count


@pytest.fixture
def tree(make_branch):
    n = make_branch(name="中国红十字会总会")
    p = make_branch(n, name="陕西省红十字会")
    c = make_branch(p, name="宝鸡市红十字会")
    a = make_branch(c, name="渭滨区红十字会", code="610302")
    b = make_branch(c, name="岐山县红十字会", code="610323")
    closed = make_branch(c, name="已撤销红十字会")
    closed.closed_at = utcnow()
    p2 = make_branch(n, name="甘肃省红十字会")
    db.session.commit()
    return SimpleNamespace(n=n, p=p, c=c, a=a, b=b, closed=closed, p2=p2)


@pytest.fixture
def citizen(make_user):
    # English pages, so the assertions hold whatever the Chinese catalogue says.
    return make_user(locale="en")


def requests_of(user):
    return db.session.scalars(
        select(HomeBranchRequest)
        .where(HomeBranchRequest.user_id == user.id)
        .order_by(HomeBranchRequest.id)
    ).all()


# --- service rules -------------------------------------------------------------------------


def test_a_first_request_is_an_attachment_and_a_later_one_a_transfer(tree, citizen):
    first = request_home_branch(citizen, tree.a)
    assert first.from_branch_id is None and not first.is_transfer
    first.status = "approved"
    citizen.home_branch_id = tree.a.id
    db.session.commit()
    second = request_home_branch(citizen, tree.b, "搬家了")
    assert second.from_branch_id == tree.a.id and second.is_transfer
    assert second.branch_id == tree.b.id and second.note == "搬家了"


@pytest.mark.parametrize("which", ["closed", "n", None])
def test_request_refuses_closed_national_or_missing_branches(tree, citizen, which):
    with pytest.raises(ReviewError):
        request_home_branch(citizen, getattr(tree, which) if which else None)
    assert count(HomeBranchRequest) == 0


def test_request_refuses_the_current_home_branch(tree, citizen):
    citizen.home_branch_id = tree.a.id
    with pytest.raises(ReviewError):
        request_home_branch(citizen, tree.a)
    assert count(HomeBranchRequest) == 0


def test_request_refuses_a_second_one_while_one_waits(tree, citizen):
    request_home_branch(citizen, tree.a)
    db.session.commit()
    with pytest.raises(ReviewError):
        request_home_branch(citizen, tree.b)
    assert count(HomeBranchRequest) == 1


def test_request_refuses_a_long_note(tree, citizen):
    with pytest.raises(ReviewError):
        request_home_branch(citizen, tree.a, "字" * 201)
    assert count(HomeBranchRequest) == 0


def test_picker_helpers(tree):
    assert [b.id for b in search_branches("渭滨")] == [tree.a.id]
    assert search_branches("已撤销") == []  # closed branches are not offered
    assert search_branches("中国红十字会总会") == []  # nor the national society
    assert search_branches("%") == [] and search_branches("  ") == []
    assert [b.id for b in ancestors(tree.a)] == [tree.n.id, tree.p.id, tree.c.id, tree.a.id]
    provinces = children_with_counts(None)
    assert {(b.id, below) for b, below in provinces} == {(tree.p.id, 1), (tree.p2.id, 0)}
    counties = {b.id for b, _ in children_with_counts(tree.c)}
    assert counties == {tree.a.id, tree.b.id}


# --- pages -----------------------------------------------------------------------------------


def test_my_branch_needs_login(client):
    response = client.get("/branches/mine")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_my_branch_shows_no_branch_and_the_drill_down(tree, client, citizen, login):
    login(client, citizen)
    page = client.get("/branches/mine").get_data(as_text=True)
    assert "You have not chosen your branch yet" in page
    assert "陕西省红十字会" in page and "甘肃省红十字会" in page
    page = client.get(f"/branches/mine?under={tree.p.id}").get_data(as_text=True)
    assert "宝鸡市红十字会" in page and "甘肃省红十字会" not in page
    page = client.get(f"/branches/mine?under={tree.c.id}").get_data(as_text=True)
    assert "渭滨区红十字会" in page and "岐山县红十字会" in page and "已撤销" not in page
    assert f"/branches/mine/request?branch={tree.a.id}" in page


@pytest.mark.parametrize("under", ["abc", "-1", "0", "99999999999999999999", "1.5"])
def test_drill_down_with_junk_answers_404(tree, client, citizen, login, under):
    login(client, citizen)
    assert client.get(f"/branches/mine?under={under}").status_code == 404


def test_drill_down_into_a_closed_branch_answers_404(tree, client, citizen, login):
    login(client, citizen)
    assert client.get(f"/branches/mine?under={tree.closed.id}").status_code == 404


def test_search_finds_open_branches_by_chinese_or_english_name(tree, client, citizen, login):
    login(client, citizen)
    page = client.get("/branches/mine?q=岐山").get_data(as_text=True)
    assert f"/branches/mine/request?branch={tree.b.id}" in page
    tree.a.name_en = "Weibin District Red Cross"
    db.session.commit()
    page = client.get("/branches/mine?q=weibin").get_data(as_text=True)
    assert f"/branches/mine/request?branch={tree.a.id}" in page


@pytest.mark.parametrize(
    "q", ["<script>alert(1)</script>", "' OR 1=1 --", "a\x00b", "🙂", "𠮷", "买买提·艾力", "%_\\"]
)
def test_search_survives_nasty_input(tree, client, citizen, login, q):
    login(client, citizen)
    response = client.get("/branches/mine", query_string={"q": q})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)


def test_search_too_long_shows_a_field_error(tree, client, citizen, login):
    login(client, citizen)
    page = client.get("/branches/mine", query_string={"q": "渭" * 51}).get_data(as_text=True)
    assert 'class="error"' in page and "渭" * 51 in page


def test_submit_see_and_withdraw(tree, client, citizen, login):
    login(client, citizen)
    page = client.get(f"/branches/mine/request?branch={tree.a.id}").get_data(as_text=True)
    assert "渭滨区红十字会" in page and "宝鸡市红十字会" in page

    response = client.post(
        f"/branches/mine/request?branch={tree.a.id}", data={"note": "我住在这里"}
    )
    assert response.status_code == 302
    [req] = requests_of(citizen)
    assert (req.status, req.branch_id, req.note) == ("pending", tree.a.id, "我住在这里")

    page = client.get("/branches/mine").get_data(as_text=True)
    assert "Your request is waiting" in page and "渭滨区红十字会" in page
    assert f"/branches/mine/requests/{req.id}/withdraw" in page
    assert "/branches/mine/request?branch=" not in page  # no second request while one waits

    response = client.post(f"/branches/mine/request?branch={tree.b.id}", data={"note": ""})
    assert response.status_code == 302 and len(requests_of(citizen)) == 1

    assert client.post(f"/branches/mine/requests/{req.id}/withdraw").status_code == 302
    db.session.expire_all()
    assert db.session.get(HomeBranchRequest, req.id).status == "withdrawn"
    page = client.get("/branches/mine").get_data(as_text=True)
    assert "Withdrawn" in page and "Choose your branch" in page


def test_a_long_note_is_kept_and_nothing_written(tree, client, citizen, login):
    login(client, citizen)
    note = "字" * 201
    response = client.post(f"/branches/mine/request?branch={tree.a.id}", data={"note": note})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert note in page and 'class="error"' in page
    assert count(HomeBranchRequest) == 0


@pytest.mark.parametrize("branch", ["closed", "n", "junk", "huge", "missing"])
def test_request_page_refuses_unfit_branches(tree, client, citizen, login, branch):
    login(client, citizen)
    value = {"junk": "x1", "huge": "9" * 30, "missing": "987654"}.get(branch)
    value = value or getattr(tree, branch).id
    assert client.get(f"/branches/mine/request?branch={value}").status_code == 404
    assert client.post(f"/branches/mine/request?branch={value}", data={}).status_code == 404
    assert client.get("/branches/mine/request").status_code == 404
    assert count(HomeBranchRequest) == 0


def test_nobody_else_can_withdraw_my_request(tree, client, citizen, login, make_user):
    req = request_home_branch(citizen, tree.a)
    db.session.commit()
    login(client, make_user())
    assert client.post(f"/branches/mine/requests/{req.id}/withdraw").status_code == 404
    assert client.post("/branches/mine/requests/99999999999999/withdraw").status_code == 404
    db.session.expire_all()
    assert db.session.get(HomeBranchRequest, req.id).status == "pending"


def test_withdrawing_a_decided_request_says_so(tree, client, citizen, login, make_user, grant_role):
    req = request_home_branch(citizen, tree.a)
    decide(req, grant_role(make_user(), tree.a), "approve")
    db.session.commit()
    login(client, citizen)
    response = client.post(f"/branches/mine/requests/{req.id}/withdraw", follow_redirects=True)
    assert "already been decided" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(HomeBranchRequest, req.id).status == "approved"


def test_citizen_sees_the_rejection_reason_and_then_the_new_branch(
    tree, client, citizen, login, make_user, grant_role
):
    officer = grant_role(make_user(), tree.a)
    first = request_home_branch(citizen, tree.a)
    decide(first, officer, "reject", "请先完成实名认证")
    db.session.commit()
    login(client, citizen)
    page = client.get("/branches/mine").get_data(as_text=True)
    assert "Not approved" in page and "请先完成实名认证" in page

    second = request_home_branch(citizen, tree.a)
    decide(second, officer, "approve")
    db.session.commit()
    page = client.get("/branches/mine").get_data(as_text=True)
    assert "Your branch is 渭滨区红十字会" in page
    assert "Change your branch" in page


class TestWithCsrf:
    @pytest.fixture
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_tokenless_posts_are_refused(self, tree, client, citizen, login):
        req = request_home_branch(citizen, tree.b)
        db.session.commit()
        login(client, citizen)
        assert client.post(f"/branches/mine/requests/{req.id}/withdraw").status_code == 400
        other_client = client
        assert other_client.post(f"/branches/mine/request?branch={tree.a.id}").status_code == 400
        db.session.expire_all()
        assert db.session.get(HomeBranchRequest, req.id).status == "pending"
        assert count(HomeBranchRequest) == 1

    def test_a_real_form_submission_works(self, tree, client, citizen, login):
        import re

        login(client, citizen)
        page = client.get(f"/branches/mine/request?branch={tree.a.id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post(
            f"/branches/mine/request?branch={tree.a.id}", data={"csrf_token": token, "note": ""}
        )
        assert response.status_code == 302
        assert [r.status for r in requests_of(citizen)] == ["pending"]
