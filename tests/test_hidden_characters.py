"""Free-text names and notes refuse invisible characters that change how text displays
(bidi overrides and isolates, zero-width characters, the BOM) as person names do."""

import pytest
from sqlalchemy import select

from portal.branches.home_branch import request_home_branch
from portal.branches.models import Branch, HomeBranchRequest
from portal.branches.services import BranchError, create_branch
from portal.extensions import db
from portal.review.services import ReviewError, decide
from portal.textcheck import has_hidden_characters
from tests.conftest import count

HIDDEN = ["\u202e", "\u2066", "\u200b", "\u200d", "\ufeff", "\x00", "\x1b"]
EN = {"Accept-Language": "en"}


@pytest.mark.parametrize("char", HIDDEN)
def test_hidden_characters_are_found(char):
    assert has_hidden_characters(f"渭滨{char}区")
    assert has_hidden_characters(f"note{char}", multiline=True)


@pytest.mark.parametrize("text", ["买买提·艾力", "𠮷野家", "😀红会", "O'Brien-Smith", ""])
def test_visible_text_passes(text):
    assert not has_hidden_characters(text)


def test_line_breaks_only_in_a_text_box():
    assert has_hidden_characters("第一行\n第二行")
    assert not has_hidden_characters("第一行\r\n第二行\t", multiline=True)


@pytest.fixture
def tree(make_branch, make_user, grant_role):
    national = make_branch(name="中国红十字会总会")
    city = make_branch(make_branch(national, name="陕西省红十字会"), name="宝鸡市红十字会")
    county = make_branch(city, name="渭滨区红十字会")
    boss = grant_role(make_user(), national, "admin")
    officer = grant_role(make_user(), county, "officer")
    return {"city": city, "county": county, "boss": boss, "officer": officer}


@pytest.mark.parametrize("field", ["name_zh", "name_en"])
@pytest.mark.parametrize("char", ["\u202e", "\u200b", "\ufeff"])
def test_branch_form_refuses_a_name_with_hidden_characters(app, login, tree, field, char):
    client = app.test_client()
    login(client, tree["boss"])
    values = {
        "level": "county",
        "name_zh": "高新区红十字会",
        "name_en": "Gaoxin District",
        "code": "",
        "unit_type": "",
        "address": "",
        "contact_phone": "",
    }
    values[field] = values[field][:2] + char + values[field][2:]
    before = count(Branch)
    r = client.post(f"/admin/branches/{tree['city'].id}/new", data=values, headers=EN)
    assert r.status_code == 200
    assert "Please remove the special characters." in r.get_data(as_text=True)
    assert count(Branch) == before


def test_branch_service_refuses_a_name_with_a_bidi_override(tree):
    with pytest.raises(BranchError) as refused:
        create_branch(
            parent=tree["city"],
            level="county",
            name_zh="渭滨\u202e区红十字会",
            name_en="Weibin",
            actor=tree["boss"],
        )
    assert refused.value.field == "name_zh"
    db.session.rollback()
    assert db.session.scalar(select(Branch).where(Branch.name_en == "Weibin")) is None


def test_a_home_branch_note_with_hidden_characters_is_refused(app, login, make_user, tree):
    citizen = make_user()
    with pytest.raises(ReviewError):
        request_home_branch(citizen, tree["county"], "请\u202e批准")
    client = app.test_client()
    login(client, citizen)
    r = client.post(
        f"/branches/mine/request?branch={tree['county'].id}",
        data={"note": "请\u200b批准"},
        headers=EN,
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Please remove the special characters." in html
    assert count(HomeBranchRequest) == 0


def test_a_decision_reason_with_hidden_characters_is_refused(make_user, tree):
    req = request_home_branch(make_user(), tree["county"], None)
    db.session.commit()
    with pytest.raises(ReviewError):
        decide(req, tree["officer"], "reject", "地址\u2066不符")
    assert req.status == "pending"
