"""The shared review life cycle: pending -> approved / rejected (with a reason) /
withdrawn (by the applicant). Every kind of application uses `ReviewMixin` and is
decided through `decide()` so that who, when and why, the audit entry and the SMS to
the applicant never differ between kinds.

Services add/flush only; the view commits.
"""

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, literal, update

from portal import audit
from portal.branches.scope import REVIEW_ROLES, path_under
from portal.branches.scope import acting_role as scope_acting_role
from portal.branches.services import expire_loaded
from portal.branches.signals import branch_moved
from portal.extensions import db
from portal.notifications.services import queue_sms
from portal.review import tallies
from portal.review.kinds import kind_for, kinds
from portal.review.models import APPROVED, DECISIONS, PENDING, REASON_MAX, WITHDRAWN
from portal.textcheck import HIDDEN_CHARACTERS_MESSAGE, has_hidden_characters
from portal.timeutil import utcnow


class ReviewError(ValueError):
    """A review step that breaks a rule; the message is translated text to show."""


# Separation of duties: whatever roles they hold, nobody decides their own application.
OWN_APPLICATION = _l("You cannot decide on your own application.")


def is_applicant(obj, actor) -> bool:
    """Whether `actor` made the application `obj` (then they may not decide it, whatever
    roles they hold: pages use this to leave out the decision forms)."""
    return actor is not None and obj.user_id == getattr(actor, "id", None)


@branch_moved.connect
def _follow_moved_branch(branch, old_parent_path: str, new_parent_path: str, **_):
    """A branch moved: its items' paths follow it and the counts move with them, in the
    moving transaction (branches.services.move_branch sends the signal before it rewrites
    the branches' own paths)."""
    tallies.move_subtree(branch, old_parent_path, new_parent_path)
    old_prefix = f"{old_parent_path}{branch.id}/"
    for model in move_paths(old_prefix, f"{new_parent_path}{branch.id}/"):
        expire_loaded(model.branch_path)


def move_paths(old_prefix: str, new_prefix: str) -> list[type]:
    """A branch's path changes from `old_prefix` to `new_prefix` (a move): rewrite the
    branch_path of every review item at it or below, of every kind, one UPDATE per
    table. Returns the models updated (the ORM did not see these UPDATEs)."""
    models = sorted({kind.model for kind in kinds()}, key=lambda m: m.__name__)
    for model in models:
        db.session.execute(
            update(model)
            .where(path_under(old_prefix, model.branch_path))
            .values(
                branch_path=literal(new_prefix)
                + func.substr(model.branch_path, len(old_prefix) + 1)
            )
            .execution_options(synchronize_session=False)
        )
    return models


def acting_role(actor, branch) -> str | None:
    """The reviewing role through which `actor` reaches `branch` (admin before officer),
    or None when the branch is outside their review scope. Kept under this name for
    callers of review; the rule itself is scope.acting_role's."""
    return scope_acting_role(actor, branch, REVIEW_ROLES)


def _compare_and_set(obj, **values) -> bool:
    """UPDATE ... WHERE id=:id AND status='pending'. The database decides who wins when
    two requests race: the loser's UPDATE matches no row (PostgreSQL re-checks the
    WHERE after the winner commits; SQLite serialises writers)."""
    model = type(obj)
    result = db.session.execute(
        update(model)
        .where(model.id == obj.id, model.status == PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    won = result.rowcount == 1
    if won:
        # The item left the pending state: its branch and every ancestor count one less.
        tallies.adjust(kind_for(obj).key, obj.branch.path, -1)
    # Reload either way: on success to see the new values, on failure to see the winner's.
    db.session.refresh(obj)
    return won


def decide(obj, actor, decision: str, reason: str | None = None) -> bool:
    """Approve or reject a pending item as `actor`.

    Promises: the change happens only from pending and only once, however many officers
    decide at the same moment; on success it records decided_by/at and the reason, writes
    the audit entry (review_approved / review_rejected), on approval runs the kind's
    on_approved hook, and queues an SMS to the applicant in their language (with the
    kind's decision_note, if any). Returns True when
    this call made the decision, False when the item was no longer pending.
    Refuses (ReviewError): the applicant themselves (whatever roles they hold), an actor
    without a reviewing role over the item's branch, a rejection without a reason, a
    reason longer than REASON_MAX. ValueError for an unknown decision word.
    """
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    kind = kind_for(obj)
    if is_applicant(obj, actor):
        raise ReviewError(OWN_APPLICATION)
    role = acting_role(actor, obj.branch)
    if role is None:
        raise ReviewError(_l("You cannot decide on this item."))
    reason = (reason or "").strip()
    if decision == "reject" and not reason:
        raise ReviewError(_l("Please write the reason, so the applicant knows why."))
    if has_hidden_characters(reason, multiline=True):
        raise ReviewError(HIDDEN_CHARACTERS_MESSAGE)
    if len(reason) > REASON_MAX:
        raise ReviewError(_l("Please keep the reason under %(n)d characters.", n=REASON_MAX))

    status = DECISIONS[decision]
    now = utcnow()
    if not _compare_and_set(
        obj, status=status, decided_at=now, decided_by_id=actor.id, decision_reason=reason or None
    ):
        return False

    audit.record(
        "review_approved" if status == APPROVED else "review_rejected",
        actor=actor,
        actor_role=role,
        branch_id=obj.branch_id,
        object_kind=kind.key,
        object_id=obj.id,
        changes={"reason": reason},
    )
    if status == APPROVED and kind.on_approved is not None:
        kind.on_approved(obj, actor)
    # After on_approved, so the kind's note can name what approval made (a number).
    _notify_applicant(obj, kind, status, reason)
    db.session.flush()
    return True


def withdraw(obj, user) -> bool:
    """The applicant takes back their own pending item. Returns True when withdrawn,
    False when it was no longer pending (already decided). Refuses (ReviewError)
    anyone but the applicant."""
    if user is None or obj.user_id != getattr(user, "id", None):
        raise ReviewError(_l("Only the person who applied can withdraw this."))
    now = utcnow()
    if not _compare_and_set(obj, status=WITHDRAWN, withdrawn_at=now):
        return False
    audit.record(
        "review_withdrawn",
        actor=user,
        branch_id=obj.branch_id,
        object_kind=kind_for(obj).key,
        object_id=obj.id,
    )
    db.session.flush()
    return True


def notify_received(obj) -> None:
    """Queue the "received" SMS to the applicant of `obj` (just created), in their
    language, naming the kind and the branch: the one wording every kind sends. The
    feature's view calls it after its service created the application, in the same
    transaction (the SMS kind is "<kind key>_received")."""
    kind = kind_for(obj)
    applicant = obj.user
    if applicant is None or not applicant.phone:
        return
    locale = applicant.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        body = render_template(
            "notifications/review_received.txt",
            branch=obj.branch.name(locale) if obj.branch else "",
            what=str(kind.label),
        ).strip()
    queue_sms(applicant.phone, body, kind=f"{kind.key}_received")


def _notify_applicant(obj, kind, status: str, reason: str) -> None:
    applicant = obj.user
    if applicant is None or not applicant.phone:
        return
    locale = applicant.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        note = kind.decision_note(obj) if kind.decision_note is not None else None
        body = render_template(
            "notifications/review_decision.txt",
            approved=status == APPROVED,
            branch=obj.branch.name(locale) if obj.branch else "",
            what=str(kind.label),
            reason=reason,
            note=str(note) if note else "",
            # Chinese sentences follow each other without a space.
            joiner="" if locale.startswith("zh") else " ",
        ).strip()
    queue_sms(applicant.phone, body, kind="review_decision")
