"""The shared review life cycle (portal.review.services) and the workbench registry,
tested through the one real kind: a citizen's home-branch request."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.audit.models import AuditEntry
from portal.branches.home_branch import KIND, HomeBranchRequest, request_home_branch
from portal.extensions import db
from portal.notifications.models import Notification
from portal.review import inbox as workbench
from portal.review import kinds as review_kinds
from portal.review.services import ReviewError, acting_role, decide, withdraw
from tests.conftest import count


@pytest.fixture
def staff(make_user, grant_role):
    def make(branch, role="officer"):
        return grant_role(make_user(), branch, role)

    return make


@pytest.fixture
def ask(make_user):
    """A fresh citizen asks `branch` to be their home branch; committed."""

    def make(branch, citizen=None, note=None):
        citizen = citizen or make_user()
        req = request_home_branch(citizen, branch, note)
        db.session.commit()
        return req

    return make


def audits(action=None):
    stmt = select(AuditEntry)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return db.session.scalars(stmt).all()


def sms():
    return db.session.scalars(
        select(Notification).where(Notification.kind == "review_decision")
    ).all()


def test_a_new_request_is_pending_with_applicant_and_deciding_branch(tree, ask):
    req = ask(tree.a, note="  我住在渭滨区  ")
    assert req.status == "pending" and req.is_pending
    assert req.branch_id == tree.a.id and req.from_branch_id is None
    assert req.note == "我住在渭滨区"
    assert req.created_at is not None and req.submitted_at is not None
    assert req.decided_at is None and req.decided_by_id is None and req.decision_reason is None


def test_approve_records_who_and_when_audits_notifies_and_attaches(tree, staff, ask):
    officer = staff(tree.a)
    req = ask(tree.a)
    assert decide(req, officer, "approve") is True
    db.session.commit()

    db.session.expire_all()
    req = db.session.get(HomeBranchRequest, req.id)
    assert req.status == "approved"
    assert req.decided_by_id == officer.id and req.decided_at is not None
    assert req.decision_reason is None
    assert req.user.home_branch_id == tree.a.id  # the kind's on_approved hook ran

    [entry] = audits("review_approved")
    assert entry.actor_id == officer.id and entry.actor_role == "officer"
    assert entry.branch_id == tree.a.id
    assert (entry.object_kind, entry.object_id) == (KIND, str(req.id))
    assert entry.changes == {"reason": ""}

    [note] = sms()
    assert note.channel == "sms" and note.recipient == req.user.phone
    assert note.status == "pending"
    assert "渭滨区红十字会" in note.body


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_reject_without_a_reason_is_refused_and_changes_nothing(tree, staff, ask, reason):
    officer = staff(tree.a)
    req = ask(tree.a)
    with pytest.raises(ReviewError):
        decide(req, officer, "reject", reason)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(HomeBranchRequest, req.id).status == "pending"
    assert audits() == [] and sms() == []


def test_reject_records_reason_audits_and_sends_it(tree, staff, ask):
    officer = staff(tree.a)
    req = ask(tree.a)
    assert decide(req, officer, "reject", "  请先完成实名认证  ") is True
    db.session.commit()
    db.session.expire_all()
    req = db.session.get(HomeBranchRequest, req.id)
    assert req.status == "rejected" and req.decision_reason == "请先完成实名认证"
    assert req.user.home_branch_id is None  # not attached
    [entry] = audits("review_rejected")
    assert entry.changes == {"reason": "请先完成实名认证"}
    [note] = sms()
    assert "请先完成实名认证" in note.body


@pytest.mark.parametrize(
    "number, masked",
    [
        ("610302199001011234", "6****************4"),
        ("61030219900101123X", "6****************X"),
        ("61030219900101123x", "6****************x"),
        ("610302900101123", "6*************3"),
    ],
)
def test_an_id_number_in_a_reason_is_masked_in_the_audit_log(tree, staff, ask, number, masked):
    """The item keeps the reason as written; the log (and the SMS) never hold the number."""
    officer = staff(tree.a)
    req = ask(tree.a)
    assert decide(req, officer, "reject", f"证件号{number}与姓名不符，请核对") is True
    db.session.commit()
    db.session.expire_all()
    [entry] = audits("review_rejected")
    assert entry.changes == {"reason": f"证件号{masked}与姓名不符，请核对"}
    assert number not in str(entry.changes)
    [note] = sms()
    assert f"证件号{masked}与姓名不符" in note.body and number not in note.body


def test_reason_longer_than_the_limit_is_refused(tree, staff, ask):
    officer = staff(tree.a)
    req = ask(tree.a)
    with pytest.raises(ReviewError):
        decide(req, officer, "reject", "很" * 201)
    assert req.status == "pending" and audits() == []


def test_unknown_decision_word_is_a_programming_error(tree, staff, ask):
    req = ask(tree.a)
    with pytest.raises(ValueError):
        decide(req, staff(tree.a), "maybe")


@pytest.mark.parametrize(
    "first, second", [("approve", "reject"), ("reject", "approve"), ("approve", "approve")]
)
def test_a_decided_item_is_never_decided_again(tree, staff, ask, first, second):
    one, two = staff(tree.a), staff(tree.c, "admin")
    req = ask(tree.a)
    assert decide(req, one, first, "不符合条件") is True
    db.session.commit()
    assert decide(req, two, second, "再试一次") is False
    db.session.commit()
    db.session.expire_all()
    req = db.session.get(HomeBranchRequest, req.id)
    assert req.decided_by_id == one.id
    assert len(audits()) == 1 and len(sms()) == 1


def test_withdraw_only_by_the_applicant_and_only_while_pending(tree, staff, ask, make_user):
    req = ask(tree.a)
    with pytest.raises(ReviewError):
        withdraw(req, make_user())
    with pytest.raises(ReviewError):
        withdraw(req, staff(tree.a))  # not even the deciding officer
    assert req.status == "pending"

    assert withdraw(req, req.user) is True
    db.session.commit()
    assert req.status == "withdrawn" and req.withdrawn_at is not None
    assert withdraw(req, req.user) is False  # already withdrawn
    [entry] = audits("review_withdrawn")
    assert entry.actor_id == req.user_id and entry.branch_id == tree.a.id


def test_a_withdrawn_item_cannot_be_decided(tree, staff, ask):
    req = ask(tree.a)
    withdraw(req, req.user)
    db.session.commit()
    assert decide(req, staff(tree.a), "approve") is False
    assert req.status == "withdrawn" and req.user.home_branch_id is None
    assert audits("review_approved") == [] and sms() == []


def test_a_decided_item_cannot_be_withdrawn(tree, staff, ask):
    req = ask(tree.a)
    decide(req, staff(tree.a), "reject", "信息不全")
    db.session.commit()
    assert withdraw(req, req.user) is False
    assert req.status == "rejected" and req.withdrawn_at is None


@pytest.mark.parametrize(
    "where, role",
    [
        ("b", "officer"),
        ("x", "officer"),
        ("p2", "admin"),
        ("c", "auditor"),
        ("g", "officer"),
        (None, None),
    ],
    ids=[
        "sibling-officer",
        "other-province",
        "other-province-admin",
        "auditor-above",
        "officer-below",
        "citizen",
    ],
)
def test_decide_refuses_anyone_without_a_reviewing_role_over_the_branch(
    tree, staff, ask, make_user, where, role
):
    actor = staff(getattr(tree, where), role) if where else make_user()
    req = ask(tree.a)
    with pytest.raises(ReviewError):
        decide(req, actor, "approve")
    db.session.commit()
    db.session.expire_all()
    req = db.session.get(HomeBranchRequest, req.id)
    assert req.status == "pending" and req.user.home_branch_id is None
    assert audits() == [] and sms() == []


def test_higher_staff_decide_with_their_own_role(tree, staff, ask):
    city_admin, national_admin = staff(tree.c, "admin"), staff(tree.n, "admin")
    assert acting_role(city_admin, tree.g) == "admin"
    assert acting_role(national_admin, tree.x) == "admin"
    assert acting_role(city_admin, tree.x) is None
    req = ask(tree.g)
    decide(req, city_admin, "approve")
    db.session.commit()
    [entry] = audits("review_approved")
    assert entry.actor_role == "admin" and entry.branch_id == tree.g.id


def test_sms_uses_the_applicants_language(tree, staff, ask, make_user):
    officer = staff(tree.a)
    decide(ask(tree.a, make_user(locale="en")), officer, "approve")
    decide(ask(tree.a, make_user(locale="zh")), officer, "approve")
    db.session.commit()
    english, chinese = sorted(sms(), key=lambda n: n.id)
    assert tree.a.name_en in english.body and "approved" in english.body
    assert tree.a.name_zh in chinese.body


def test_pending_counts_are_scoped_and_name_every_kind(tree, staff, ask):
    ask(tree.a), ask(tree.g), ask(tree.b), ask(tree.x)
    decided = ask(tree.a)
    decide(decided, staff(tree.a), "approve")  # decided items are not pending
    db.session.commit()
    # Every registered kind is named, with 0 where nothing of it waits.
    none_waiting = {k.key: 0 for k in review_kinds.kinds()}
    assert workbench.pending_counts_by_kind(staff(tree.a)) == {**none_waiting, KIND: 2}
    assert workbench.pending_counts_by_kind(staff(tree.b)) == {**none_waiting, KIND: 1}
    assert workbench.pending_counts_by_kind(staff(tree.c, "admin")) == {**none_waiting, KIND: 3}
    assert workbench.pending_counts_by_kind(staff(tree.n, "admin")) == {**none_waiting, KIND: 4}
    assert workbench.pending_counts_by_kind(staff(tree.n, "auditor")) == {**none_waiting, KIND: 0}


def test_registry_finds_kinds_by_key_and_by_object(tree, ask):
    kind = review_kinds.get_kind(KIND)
    assert kind.model is HomeBranchRequest and kind.label is not None
    assert review_kinds.kind_for(ask(tree.a)) is kind
    assert review_kinds.get_kind("nope") is None and review_kinds.get_kind(None) is None
    with pytest.raises(LookupError):
        review_kinds.kind_for(object())


def test_the_database_allows_one_pending_request_per_citizen(tree, make_user):
    citizen = make_user()
    db.session.add(HomeBranchRequest(user_id=citizen.id, branch_id=tree.a.id))
    db.session.commit()
    db.session.add(HomeBranchRequest(user_id=citizen.id, branch_id=tree.b.id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    # Decided ones do not count: a citizen may ask again after an answer.
    db.session.add(HomeBranchRequest(user_id=citizen.id, branch_id=tree.b.id, status="rejected"))
    db.session.commit()
    assert count(HomeBranchRequest) == 2
