"""The review engine's decision_note hook: the approval SMS names the number approval
made, in the applicant's language, for membership and volunteering alike; a kind without
a note and a rejection are unchanged."""

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.membership import groups
from portal.membership import services as membership
from portal.membership.charter import CHARTER_VERSION
from portal.notifications.models import Notification
from portal.review.services import decide
from portal.volunteering import services as volunteering
from tests.test_volunteering import GOOD, add_profile, details


def _membership(user, branch):
    return membership.apply(
        user, branch, "ordinary", "教师", None, "经二路 12 号", None, CHARTER_VERSION
    )


def _volunteer(user, branch):
    return volunteering.apply(user, branch, details(), agreed_code=True)


def _group(user, branch):
    return groups.apply(
        user,
        branch,
        "宝鸡秦岭机床有限公司",
        "91610302MA6X1A2B3F",
        "enterprise",
        300,
        "清姜路 8 号",
        CHARTER_VERSION,
    )


def _group_number(user):
    return groups.groups_of(user)[0].number


def _member_number(user):
    return membership.membership_of(user).number


def _volunteer_number(user):
    return volunteering.volunteer_of(user).number


KINDS = {
    "group_membership": (
        _group,
        _group_number,
        "团体会员编号为{n}。",
        "Your group member number is {n}.",
    ),
    "membership": (
        _membership,
        _member_number,
        "您的会员编号为{n}。",
        "Your member number is {n}.",
    ),
    "volunteer": (
        _volunteer,
        _volunteer_number,
        "您的志愿者编号为{n}。",
        "Your volunteer number is {n}.",
    ),
}


def _decisions(user) -> list[str]:
    return list(
        db.session.scalars(
            select(Notification.body).where(
                Notification.recipient == user.phone, Notification.kind == "review_decision"
            )
        )
    )


@pytest.mark.parametrize("locale", ["zh", "en"])
@pytest.mark.parametrize("key", sorted(KINDS))
def test_the_approval_sms_carries_the_number(app, make_user, grant_role, tree, key, locale):
    apply, number_of, zh, en = KINDS[key]
    officer = grant_role(make_user(), tree.a, "officer")
    user = make_user(locale=locale, home_branch_id=tree.a.id)
    add_profile(user)
    application = apply(user, tree.a)
    assert decide(application, officer, "approve") is True
    db.session.commit()
    [body] = _decisions(user)  # one SMS: the number is in it, not in a second one
    number = number_of(user)
    if locale == "zh":
        assert body.endswith("通过。" + zh.format(n=number))
    else:
        assert "approved by" in body and body.endswith(". " + en.format(n=number))


@pytest.mark.parametrize("key", sorted(KINDS))
def test_a_rejection_has_no_number(app, make_user, grant_role, tree, key):
    apply, _, _zh, _en = KINDS[key]
    officer = grant_role(make_user(), tree.a, "officer")
    user = make_user(locale="zh", home_branch_id=tree.a.id)
    add_profile(user)
    decide(apply(user, tree.a), officer, "reject", "资料不全")
    db.session.commit()
    [body] = _decisions(user)
    assert body.endswith("原因：资料不全") and "编号" not in body


# --- the "received" SMS: one wording for every kind ----------------------------------------


@pytest.mark.parametrize(
    "locale, expected",
    [
        ("zh", "您的{what}已由渭滨区红十字会收到，审核结果将以短信通知您。"),
        ("en", "{what}: received by {branch}. We will reply by SMS."),
    ],
)
@pytest.mark.parametrize(
    "url, data, what_zh, what_en",
    [
        (
            "/membership/",
            {
                "member_type": "ordinary",
                "occupation": "教师",
                "address": "宝鸡市渭滨区经二路 12 号",
                "agree": "y",
            },
            "入会申请",
            "Membership application",
        ),
        ("/volunteer/apply", dict(GOOD), "志愿者注册申请", "Volunteer registration"),
    ],
)
def test_each_kind_texts_that_the_application_was_received(
    app, client, login, make_user, make_branch, url, data, what_zh, what_en, locale, expected
):
    city = make_branch(make_branch(make_branch(name="总会"), name="陕西省"), name="宝鸡市红十字会")
    branch = make_branch(city, name="渭滨区红十字会")
    user = make_user(locale=locale, home_branch_id=branch.id)
    add_profile(user)
    login(client, user)
    if url == "/membership/":
        data = dict(data, branch=str(branch.id))
    assert client.post(url, data=data).status_code == 302
    [sms] = db.session.scalars(select(Notification).where(Notification.recipient == user.phone))
    assert sms.kind.endswith("_received")
    what = what_zh if locale == "zh" else what_en
    assert sms.body.endswith(expected.format(what=what, branch=branch.name(locale)))
