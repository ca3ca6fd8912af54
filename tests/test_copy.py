"""The words the portal uses: one SMS signature on every message, and Chinese that reads
as a native speaker writes it (no 红十字会红十字会, no 申请…申请, one word for "reason",
筛选 to filter and 查看 to open, a home branch that is not called membership)."""

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale
from sqlalchemy import select

from portal.accounts.services import send_code
from portal.branches.home_branch import KIND, request_home_branch
from portal.extensions import db
from portal.notifications.models import Notification
from portal.notifications.services import queue_sms, signed_sms
from portal.review.services import decide

ZH = {"Accept-Language": "zh-CN"}
SIGNATURE = "【红十字博爱】"
ZH_CATALOGUE = "portal/translations/zh/LC_MESSAGES/messages.po"


def texts() -> list[str]:
    return [n.body for n in db.session.scalars(select(Notification).order_by(Notification.id))]


def assert_signed_once(body: str) -> None:
    assert body.startswith(SIGNATURE), body
    assert body.count("【") == 1 and body.count(SIGNATURE) == 1, body
    assert "[Red Cross Boai]" not in body and "红十字会提醒" not in body, body


# --- one signature ----------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_account_sms_carries_exactly_one_signature(app, make_user, locale):
    user = make_user()
    with app.test_request_context(), force_locale(locale):
        for purpose in ("register", "login", "reset"):
            send_code("13800000001", purpose)  # no account: codes to register, notices else
            send_code(user.phone, purpose)  # an account: the other way round
    bodies = texts()
    assert len(bodies) == 6
    for body in bodies:
        assert_signed_once(body)


@pytest.mark.parametrize("locale", ["zh", "en"])
@pytest.mark.parametrize("decision, reason", [("approve", None), ("reject", "请先完成实名认证")])
def test_review_decision_sms_carries_exactly_one_signature(
    app, tree, make_user, grant_role, locale, decision, reason
):
    officer = grant_role(make_user(), tree.a, "officer")
    req = request_home_branch(make_user(locale=locale), tree.a)
    db.session.commit()
    assert decide(req, officer, decision, reason) is True
    [body] = texts()
    assert_signed_once(body)


def test_a_signature_a_caller_wrote_is_replaced_not_doubled(app):
    assert signed_sms("【红十字博爱】您好") == SIGNATURE + "您好"
    assert signed_sms("[Red Cross Boai] Hello") == SIGNATURE + "Hello"
    assert signed_sms("您好 [注意]") == SIGNATURE + "您好 [注意]"  # only a leading one
    note = queue_sms("13800000001", "您好", kind="test")
    assert note.body == SIGNATURE + "您好"


def test_the_signature_comes_from_config(app):
    app.config["SMS_SIGNATURE"] = "【宝鸡红会】"
    assert queue_sms("13800000001", "【红十字博爱】您好", kind="test").body == "【宝鸡红会】您好"


# --- the review decision SMS -----------------------------------------------------------


def test_zh_decision_sms_says_request_once(app, tree, make_user, grant_role):
    officer = grant_role(make_user(), tree.a, "officer")
    approved = request_home_branch(make_user(locale="zh"), tree.a)
    refused = request_home_branch(make_user(locale="zh"), tree.a)
    db.session.commit()
    decide(approved, officer, "approve")
    decide(refused, officer, "reject", "请先完成实名认证")
    yes, no = texts()
    assert yes == "【红十字博爱】您的所属红十字会申请已获渭滨区红十字会通过。"
    assert no == "【红十字博爱】您的所属红十字会申请未获渭滨区红十字会通过。原因：请先完成实名认证"
    for body in (yes, no):
        assert body.count("申请") == 1 and "加入" not in body


def test_en_decision_sms_says_request_once(app, tree, make_user, grant_role):
    officer = grant_role(make_user(), tree.a, "officer")
    req = request_home_branch(make_user(locale="en"), tree.a)
    db.session.commit()
    decide(req, officer, "approve")
    [body] = texts()
    assert body == f"{SIGNATURE}Home branch request: approved by {tree.a.name_en}."
    assert body.lower().count("request") == 1


# --- pages in Chinese ------------------------------------------------------------------


def test_dashboard_names_the_role_once_after_the_branch(client, login, tree, make_user, grant_role):
    officer = grant_role(make_user(), tree.a, "officer")
    login(client, officer)
    html = client.get("/admin/", headers=ZH).get_data(as_text=True)
    assert "渭滨区红十字会工作人员" in html
    assert "红十字会红十字会" not in html


def test_inbox_filters_with_shaixuan_and_opens_with_chakan(
    client, login, tree, make_user, grant_role
):
    officer = grant_role(make_user(), tree.a, "officer")
    req = request_home_branch(make_user(), tree.a)
    db.session.commit()
    login(client, officer)
    html = client.get("/admin/inbox", headers=ZH).get_data(as_text=True)
    start = html.index('action="/admin/inbox" class="inline-fields"')
    form = html[start : html.index("</form>", start)]
    assert ">筛选</button>" in form and "查看" not in form
    assert f"查看 #{req.id}</a>" in html and "查看#" not in html
    assert "所属红十字会申请" in html and "加入所属红十字会申请" not in html


def test_item_page_says_yuanyin_for_the_reason(client, login, tree, make_user, grant_role):
    officer = grant_role(make_user(), tree.a, "officer")
    req = request_home_branch(make_user(), tree.a)
    db.session.commit()
    decide(req, officer, "reject", "请先完成实名认证")
    db.session.commit()
    login(client, officer)
    html = client.get(f"/admin/inbox/{KIND}/{req.id}", headers=ZH).get_data(as_text=True)
    assert "<dt>原因</dt>" in html and "理由" not in html
    assert "红十字会红十字会" not in html


def test_home_branch_page_does_not_call_a_home_branch_membership(client, login, make_user, tree):
    login(client, make_user())
    html = client.get("/branches/mine", headers=ZH).get_data(as_text=True)
    assert "您还没有所属红十字会。" in html
    assert "您还没有加入" not in html and "红十字会红十字会" not in html


def test_the_zh_catalogue_has_none_of_the_clumsy_wordings():
    with open(ZH_CATALOGUE, "rb") as f:
        catalogue = read_po(f)
    for message in catalogue:
        text = message.string if isinstance(message.string, str) else "".join(message.string)
        assert "红十字会红十字会" not in text, message.id
        assert text.count("申请") <= 1, message.id
        assert "理由" not in text, message.id  # 原因 is the one word for "reason"
        assert "【" not in text and "红十字会提醒" not in text, message.id  # signed in one place
