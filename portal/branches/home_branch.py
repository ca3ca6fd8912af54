"""A citizen's request for a home branch, or to move to another one.

The receiving branch decides, through the approval engine (kind "home_branch").
Services add/flush only; the view commits.
"""

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

from portal.accounts.models import RealNameProfile, User
from portal.accounts.phone import mask_phone
from portal.branches.models import HOME_BRANCH_NOTE_MAX, Branch, HomeBranchRequest
from portal.extensions import db
from portal.review.kinds import ReviewKind, card_select, register_kind
from portal.review.models import PENDING
from portal.review.services import ReviewError
from portal.textcheck import HIDDEN_CHARACTERS_MESSAGE, has_hidden_characters

KIND = "home_branch"


def pending_request(user) -> HomeBranchRequest | None:
    return db.session.scalar(
        select(HomeBranchRequest).where(
            HomeBranchRequest.user_id == user.id, HomeBranchRequest.status == PENDING
        )
    )


def latest_requests(user, limit: int = 5) -> list[HomeBranchRequest]:
    """The citizen's most recent requests, newest first (for their status page)."""
    return list(
        db.session.scalars(
            select(HomeBranchRequest)
            .where(HomeBranchRequest.user_id == user.id)
            .options(joinedload(HomeBranchRequest.branch))
            .order_by(HomeBranchRequest.created_at.desc(), HomeBranchRequest.id.desc())
            .limit(limit)
        )
    )


def can_receive(branch: Branch | None) -> bool:
    """Citizens attach to an open branch below the national society."""
    return branch is not None and branch.is_open and branch.level != "national"


def request_home_branch(user, branch: Branch | None, note: str | None = None) -> HomeBranchRequest:
    """Ask `branch` to become the user's home branch (a transfer when they have one).

    Refuses (ReviewError): a closed, missing or national branch; the branch that is
    already their home; a second request while one is pending; a note over HOME_BRANCH_NOTE_MAX."""
    note = (note or "").strip() or None
    if not can_receive(branch):
        raise ReviewError(_l("Please choose an open branch."))
    if user.home_branch_id == branch.id:
        raise ReviewError(_l("This is already your branch."))
    if has_hidden_characters(note, multiline=True):
        raise ReviewError(HIDDEN_CHARACTERS_MESSAGE)
    if note is not None and len(note) > HOME_BRANCH_NOTE_MAX:
        raise ReviewError(
            _l("Please keep the note under %(n)d characters.", n=HOME_BRANCH_NOTE_MAX)
        )
    if pending_request(user) is not None:
        raise ReviewError(_l("You already have a request waiting. Withdraw it first to ask again."))
    req = HomeBranchRequest(
        user_id=user.id, branch_id=branch.id, from_branch_id=user.home_branch_id, note=note
    )
    try:
        # A savepoint: if a double submit loses the race on the unique index, only this
        # insert is undone, not the caller's transaction.
        with db.session.begin_nested():
            db.session.add(req)
    except IntegrityError:
        raise ReviewError(
            _l("You already have a request waiting. Withdraw it first to ask again.")
        ) from None
    return req


SEARCH_LIMIT = 20


def search_branches(query: str, limit: int = SEARCH_LIMIT) -> list[Branch]:
    """Open branches (below national) whose Chinese or English name contains `query`,
    highest level first; the parent is loaded too so the page can say where each is."""
    query = (query or "").strip()
    if not query:
        return []
    return list(
        db.session.scalars(
            select(Branch)
            .where(
                Branch.closed_at.is_(None),
                Branch.level != "national",
                or_(
                    Branch.name_zh.contains(query, autoescape=True),
                    func.lower(Branch.name_en).contains(query.lower(), autoescape=True),
                ),
            )
            .options(joinedload(Branch.parent))
            .order_by(Branch.depth, Branch.name_zh, Branch.id)
            .limit(limit)
        )
    )


def ancestors(branch: Branch) -> list[Branch]:
    """The branch and those above it, top first, from its path: one query."""
    ids = [int(part) for part in branch.path.strip("/").split("/") if part]
    rows = {b.id: b for b in db.session.scalars(select(Branch).where(Branch.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


def children_with_counts(parent: Branch | None) -> list[tuple[Branch, int]]:
    """Open branches directly under `parent` (under the national society when None), each
    with how many open branches sit directly under it, so the page knows where to offer
    "show the branches under it". Two queries whatever the size."""
    if parent is None:
        roots = select(Branch.id).where(Branch.parent_id.is_(None))
        where = Branch.parent_id.in_(roots)
    else:
        where = Branch.parent_id == parent.id
    children = list(
        db.session.scalars(
            select(Branch)
            .where(where, Branch.closed_at.is_(None))
            .order_by(Branch.code.is_(None), Branch.code, Branch.name_zh, Branch.id)
        )
    )
    if not children:
        return []
    counts = dict(
        db.session.execute(
            select(Branch.parent_id, func.count())
            .where(Branch.parent_id.in_([c.id for c in children]), Branch.closed_at.is_(None))
            .group_by(Branch.parent_id)
        ).all()
    )
    return [(c, counts.get(c.id, 0)) for c in children]


def _attach(req: HomeBranchRequest, actor) -> None:
    """On approval the citizen's home branch becomes the receiving branch."""
    req.user.home_branch_id = req.branch_id


def _branch_name(branch: Branch | None) -> str:
    return branch.name(str(get_locale())) if branch is not None else ""


def _who(full_name: str | None, phone: str | None) -> str:
    """The applicant as a reviewer sees them: real name (if given) and masked number."""
    masked = mask_phone(phone)
    return f"{full_name} ({masked})" if full_name else masked


def _applicant(req: HomeBranchRequest) -> str:
    user = req.user
    if user is None:
        return ""
    return _who(user.profile.full_name if user.profile is not None else None, user.phone)


_FROM = aliased(Branch)
_CARDS = (
    card_select(
        HomeBranchRequest,
        HomeBranchRequest.from_branch_id,
        _FROM.name_zh.label("from_zh"),
        _FROM.name_en.label("from_en"),
        RealNameProfile.full_name,
        User.phone,
    )
    .join(User, User.id == HomeBranchRequest.user_id)
    .outerjoin(RealNameProfile, RealNameProfile.user_id == User.id)
    .outerjoin(_FROM, _FROM.id == HomeBranchRequest.from_branch_id)
)


def _summaries(cards) -> list[str]:
    en = str(get_locale()) == "en"
    # Each wording translated once for the page (without arguments, gettext returns
    # the pattern), then filled in per card.
    moves = _("%(who)s asks to move from %(old)s to %(new)s")
    joins = _("%(who)s asks for %(new)s as their branch")
    lines = []
    for card in cards:
        who = _who(card.full_name, card.phone)
        new = card.branch_en if en else card.branch_zh
        if card.from_branch_id is None:
            lines.append(joins % {"who": who, "new": new})
        else:
            old = card.from_en if en else card.from_zh
            lines.append(moves % {"who": who, "old": old, "new": new})
    return lines


def _facts(req: HomeBranchRequest) -> list[tuple[str, str]]:
    facts = [
        (_("Applicant"), _applicant(req)),
        (_("Branch asked for"), _branch_name(req.branch)),
        (_("Current branch"), _branch_name(req.from_branch) or _("None yet")),
    ]
    if req.note:
        facts.append((_("Their note"), req.note))
    return facts


register_kind(
    ReviewKind(
        key=KIND,
        label=_l("Home branch request"),
        model=HomeBranchRequest,
        cards=_CARDS,
        summaries=_summaries,
        facts=_facts,
        on_approved=_attach,
        personal_fields=("full_name",),  # the summary and _applicant show the real name
    )
)
