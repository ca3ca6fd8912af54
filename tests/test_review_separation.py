"""Separation of duties: nobody decides an application they made, whatever roles they
hold, for every registered kind (a kind registered later is covered without a change
here, unless its model has required columns of its own: then add them to FIELDS).

Checked in the engine (decide) and over HTTP: the item page, single approve and
reject, and bulk approve (which says which item and why, and goes on with the rest)."""

import importlib
import itertools
import re
from datetime import date

import pytest
from flask_babel import force_locale
from sqlalchemy import select
from stdnum.cn import uscc

import portal
import portal.models  # noqa: F401  (the models register their tables, as in the factory)
from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.notifications.models import Notification
from portal.review import kinds as review_kinds
from portal.review.services import OWN_APPLICATION, ReviewError, decide
from tests.service_helpers import make_volunteer

# The factory imports these; each kind registers itself when its module is imported.
for _module in portal.VIEW_MODULES:
    importlib.import_module(_module)

KINDS = [kind.key for kind in review_kinds.kinds()]
# Columns a kind's model requires beyond ReviewMixin's, per kind key (a callable gives
# each item its own value).
FIELDS: dict[str, dict] = {
    "volunteer": {
        "service_areas": "first_aid",
        "availability": "weekend_morning",
        "code_version": "1",
        # the model's setter encrypts it when the test builds the item (in the app)
        "emergency_contact": {"name": "张建国", "relation": "父亲", "phone": "13800138000"},
    },
    "group_membership": {
        "org_name": "宝鸡秦岭机床有限公司",
        "uscc": lambda: _next_code(),  # one application waits per code: each its own
        "org_type": "enterprise",
        "size": 320,
        "address": "宝鸡市渭滨区清姜路 8 号",
    },
    # A callable builds what the kind needs from the applicant and the branch.
    "hours_claim": lambda applicant, branch: _hours_claim_fields(applicant, branch),
}


def _hours_claim_fields(applicant, branch) -> dict:
    volunteer = make_volunteer(applicant, branch)
    return {
        "volunteer_id": volunteer.id,
        "served_on": date(2026, 5, 1),
        "minutes": 120,
        "service_area": "first_aid",
        "what": "协助急救培训",
        "place": "渭滨区",
        "witness": "李主任 13800138000",
    }


def test_at_least_the_home_branch_kind_is_checked():
    assert "home_branch" in KINDS


@pytest.fixture
def world(tree, make_user, grant_role):
    """The applicant holds every reviewing role over the item's county (officer and admin
    there, admin at the city and nationally); a colleague is the county's officer."""
    applicant = make_user(locale="en")
    for branch, role in ((tree.a, "officer"), (tree.a, "admin"), (tree.c, "admin")):
        grant_role(applicant, branch, role)
    grant_role(applicant, tree.n, "admin")
    colleague = grant_role(make_user(locale="en"), tree.a, "officer")
    return applicant, colleague


_serial = itertools.count(1)


def _next_code() -> str:
    body = f"91610302MA6X{next(_serial):05d}"
    return body + uscc.calc_check_digit(body)


def required_fields(key: str, applicant, branch) -> dict:
    """The columns kind `key` requires for one new item of `applicant` at `branch`."""
    fields = FIELDS.get(key, {})
    if callable(fields):
        fields = fields(applicant, branch)
    return {k: v() if callable(v) else v for k, v in fields.items()}


def application(key: str, applicant, branch):
    kind = review_kinds.get_kind(key)
    fields = required_fields(key, applicant, branch)
    item = kind.model(user_id=applicant.id, branch_id=branch.id, **fields)
    db.session.add(item)
    db.session.commit()
    return item


def untouched(item) -> bool:
    db.session.expire_all()
    status = db.session.get(type(item), item.id).status
    decided = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action.in_(["review_approved", "review_rejected"]))
    ).all()
    texts = db.session.scalars(
        select(Notification).where(Notification.kind == "review_decision")
    ).all()
    return status == "pending" and decided == [] and texts == []


@pytest.mark.parametrize("key", KINDS)
@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_the_engine_refuses_the_applicant(tree, world, key, decision):
    applicant, _ = world
    item = application(key, applicant, tree.a)
    with pytest.raises(ReviewError) as refused:
        decide(item, applicant, decision, "我自己的申请")
    assert refused.value.args == (OWN_APPLICATION,)
    db.session.commit()
    assert untouched(item)


@pytest.mark.parametrize("key", KINDS)
def test_the_item_page_offers_the_applicant_no_decision(tree, world, client, login, key):
    applicant, colleague = world
    item = application(key, applicant, tree.a)
    forms = [f'action="/admin/inbox/{key}/{item.id}/{action}"' for action in ("approve", "reject")]
    login(client, applicant)
    response = client.get(f"/admin/inbox/{key}/{item.id}")
    assert response.status_code == 200
    assert not any(form in response.get_data(as_text=True) for form in forms)
    login(client, colleague)  # the same page, for anyone else who reviews it
    assert all(
        form in client.get(f"/admin/inbox/{key}/{item.id}").get_data(as_text=True) for form in forms
    )


@pytest.mark.parametrize("key", KINDS)
@pytest.mark.parametrize(
    "action, data", [("approve", {}), ("reject", {"reason": "不批"}), ("reject", {})]
)
def test_a_single_decision_by_the_applicant_is_refused(
    tree, world, client, login, key, action, data
):
    applicant, _ = world
    item = application(key, applicant, tree.a)
    login(client, applicant)
    response = client.post(f"/admin/inbox/{key}/{item.id}/{action}", data=data)
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "You cannot decide on your own application." in page
    assert f'action="/admin/inbox/{key}/{item.id}/approve"' not in page
    assert untouched(item)


@pytest.mark.parametrize("key", KINDS)
def test_a_colleague_may_decide_it(tree, world, client, login, key):
    """The rule is about the applicant, not the item: the refusals above are not the
    item being undecidable."""
    applicant, colleague = world
    item = application(key, applicant, tree.a)
    login(client, colleague)
    assert client.post(f"/admin/inbox/{key}/{item.id}/approve").status_code == 302
    db.session.expire_all()
    assert db.session.get(type(item), item.id).status == "approved"


@pytest.mark.parametrize("key", KINDS)
def test_bulk_says_which_item_was_the_applicants_and_approves_the_rest(
    tree, world, make_user, client, login, key
):
    applicant, _ = world
    own = application(key, applicant, tree.a)
    other = application(key, make_user(), tree.a)
    login(client, applicant)
    response = client.post(
        "/admin/inbox/bulk",
        data={"item": [f"{key}:{own.id}", f"{key}:{other.id}"]},
        follow_redirects=True,
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    with force_locale("en"):  # the applicant's page is in English
        label = str(review_kinds.get_kind(key).label)
    assert f"{label} #{own.id} was not approved: You cannot decide on your own application." in page
    assert "Approved 1." in page and "could not be approved" not in page
    db.session.expire_all()
    assert db.session.get(type(own), own.id).status == "pending"
    assert db.session.get(type(other), other.id).status == "approved"
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "review_approved"))
    assert entry.object_id == str(other.id)


def test_the_refusal_reads_in_chinese(tree, world, client, login):
    applicant, _ = world
    applicant.locale = "zh"
    db.session.commit()
    item = application("home_branch", applicant, tree.a)
    login(client, applicant)
    response = client.post(f"/admin/inbox/home_branch/{item.id}/approve")
    assert response.status_code == 403
    assert re.search("您不能审批自己提交的事项", response.get_data(as_text=True))
