"""Demo home-branch requests for the inbox: three waiting at 渭滨区 and 岐山县 (one of
them a transfer), one approved and one rejected with a reason. Idempotent: a citizen's
request to a branch is made only once. Skips quietly when the demo citizens or
branches are missing (their loaders are other modules)."""

from datetime import timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.branches.home_branch import HomeBranchRequest, request_home_branch
from portal.branches.models import Branch, StaffRole
from portal.extensions import db
from portal.review.models import APPROVED, REJECTED
from portal.review.services import ReviewError, decide
from portal.timeutil import utcnow

WEIBIN, QISHAN = "610302", "610323"

# (citizen phone, branch code asked, home branch code before, outcome, age, note or reason)
REQUESTS = [
    ("13900000003", WEIBIN, None, None, timedelta(days=3, hours=2), "我住在渭滨区经二路。"),
    ("13900000004", WEIBIN, None, None, timedelta(hours=20), None),
    ("13900000002", QISHAN, WEIBIN, None, timedelta(days=1, hours=4), "搬到岐山县和女儿一起住。"),
    ("13900000001", QISHAN, None, APPROVED, timedelta(days=6), None),
    (
        "13900000005",
        WEIBIN,
        None,
        REJECTED,
        timedelta(days=5),
        "您住在陇县，请向陇县红十字会申请。",
    ),
]


def _by_code(code: str) -> Branch | None:
    return db.session.scalar(select(Branch).where(Branch.code == code))


def _user(phone: str) -> User | None:
    return db.session.scalar(select(User).where(User.phone == phone))


def _reviewer(branch: Branch) -> User | None:
    """A demo officer or admin holding a role right at the branch."""
    return db.session.scalar(
        select(User)
        .join(StaffRole, StaffRole.user_id == User.id)
        .where(
            StaffRole.branch_id == branch.id,
            StaffRole.revoked_at.is_(None),
            StaffRole.role.in_(("officer", "admin")),
        )
        .order_by(StaffRole.id)
        .limit(1)
    )


def load() -> list[str]:
    branches = {code: _by_code(code) for code in (WEIBIN, QISHAN)}
    if None in branches.values():
        return []
    made = 0
    for phone, code, home_code, outcome, age, text in REQUESTS:
        citizen, branch = _user(phone), branches[code]
        if citizen is None or _already_asked(citizen, branch):
            continue
        if home_code and citizen.home_branch_id is None:
            citizen.home_branch_id = branches[home_code].id  # joined earlier: this is a transfer
        try:
            req = request_home_branch(citizen, branch, None if outcome else text)
        except ReviewError:
            continue  # someone used the demo account: leave their own requests alone
        when = utcnow() - age
        req.created_at = req.submitted_at = when
        db.session.flush()
        if outcome:
            _decide(req, branch, outcome, text)
        made += 1
    waiting = db.session.scalar(
        select(db.func.count())
        .select_from(HomeBranchRequest)
        .where(
            HomeBranchRequest.status == "pending",
            HomeBranchRequest.branch_id.in_([b.id for b in branches.values()]),
        )
    )
    return [f"inbox    {waiting} home-branch requests waiting at 渭滨区 and 岐山县 ({made} new)"]


def _already_asked(citizen: User, branch: Branch) -> bool:
    return (
        db.session.scalar(
            select(HomeBranchRequest.id)
            .where(
                HomeBranchRequest.user_id == citizen.id,
                HomeBranchRequest.branch_id == branch.id,
            )
            .limit(1)
        )
        is not None
    )


def _decide(req: HomeBranchRequest, branch: Branch, outcome: str, reason: str | None) -> None:
    reviewer = _reviewer(branch)
    if reviewer is not None:
        decide(req, reviewer, "approve" if outcome == APPROVED else "reject", reason)
        return
    # No demo staff yet: record the outcome without an actor (and without an SMS).
    req.status, req.decided_at, req.decision_reason = outcome, utcnow(), reason
    if outcome == APPROVED:
        req.user.home_branch_id = branch.id
