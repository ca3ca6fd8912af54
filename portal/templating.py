"""What every template can use: locale, care mode, time and money formatting, and the
named permission questions (can_review, can_audit, can_grant, can_manage_tree,
can_see_staff) about the logged-in user."""

from datetime import date, datetime

from flask import Flask, current_app, has_request_context, request
from flask_babel import format_date, format_datetime, get_locale
from flask_login import current_user

from portal.accounts.identity import mask_id_numbers_in_text
from portal.branches import roles, scope
from portal.i18n import care_mode_on


def is_wechat() -> bool:
    if not has_request_context():  # a message body rendered by the CLI
        return False
    return "MicroMessenger" in (request.user_agent.string or "")


def localtime(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """A stored UTC datetime in Asia/Shanghai (Flask-Babel's timezone)."""
    return format_datetime(value, fmt) if value else ""


def localdate(value: date | None) -> str:
    return format_date(value, "yyyy-MM-dd") if value else ""


def mask_ids(value) -> str:
    """Free text someone typed (a reason, a note) with any ID number in it masked."""
    return mask_id_numbers_in_text(str(value)) if value is not None else ""


def yuan(fen: int | None) -> str:
    """Integer fen shown as yuan with two decimals."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


def figure(n: int, unit: str) -> str:
    """A plan-indicator figure: money (fen) as yuan, minutes as whole hours, anything
    else as a whole number."""
    if unit == "minutes":
        return f"{n // 60:,}"
    return yuan(n) if unit == "fen" else f"{n:,}"


def _current_user_is_staff() -> bool:
    if not has_request_context():
        return False
    return current_user.is_authenticated and scope.is_staff(current_user)


def _permission_helpers() -> dict:
    """scope.py's named permission questions (and roles.py's "may grant a role here"),
    bound to the logged-in user, so a template asks `can_review(item)` instead of a view
    passing ready-made booleans, and a link and the check behind it cannot drift apart.
    Each reads the per-request grants memo (scope.active_grants): asking once per row
    costs no query. Anonymous users and citizens get False everywhere."""

    def can_grant(branch, role: str | None = None) -> bool:
        # Without a role: may they grant any role at all here (show the grant form)?
        if branch is None:
            return False
        if role is not None:
            return roles.can_grant(current_user, branch, role)
        return bool(roles.grantable_roles(current_user, branch))

    return {
        "can_review": lambda obj_or_branch=scope.ANYWHERE: scope.can_review(
            current_user, obj_or_branch
        ),
        "can_audit": lambda branch=scope.ANYWHERE: scope.can_audit(current_user, branch),
        "can_grant": can_grant,
        "can_manage_tree": lambda: scope.can_manage_tree(current_user),
        "can_see_staff": lambda branch: scope.can_see_staff(current_user, branch),
    }


def _operator() -> dict:
    """Who runs the site, from the configuration, for the footer and the privacy policy."""
    config = current_app.config
    english = str(get_locale()) == "en"
    return {
        "operator_name": config["OPERATOR_NAME_EN" if english else "OPERATOR_NAME_ZH"],
        "contact_phone": config["CONTACT_PHONE"],
        "contact_email": config["CONTACT_EMAIL"],
        "icp_record": config["ICP_RECORD"],
        "icp_record_url": config["ICP_RECORD_URL"],
    }


def init_templating(app: Flask) -> None:
    app.jinja_env.filters.update(
        localtime=localtime, localdate=localdate, yuan=yuan, figure=figure, mask_ids=mask_ids
    )

    @app.context_processor
    def common():
        return {
            "care_mode": care_mode_on(),
            "current_locale": str(get_locale()),
            "languages": current_app.config["LANGUAGES"],
            "in_wechat": is_wechat(),
            "show_dev_outbox": current_app.config["SHOW_DEV_OUTBOX"],
            "current_user_is_staff": _current_user_is_staff(),
            **_permission_helpers(),
            **_operator(),
        }
