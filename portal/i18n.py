"""Locale and care-mode choice. Order: the user's saved choice, then the session,
then the browser's Accept-Language, then Simplified Chinese."""

from flask import current_app, has_request_context, request, session
from flask_login import current_user


def select_locale() -> str:
    languages = list(current_app.config["LANGUAGES"])
    if not has_request_context():  # CLI and worker: no user, no browser
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    # werkzeug maps zh-CN / zh-Hans-CN onto "zh" through its primary-tag fallback.
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def care_mode_on() -> bool:
    if not has_request_context():
        return False
    if current_user and current_user.is_authenticated:
        return bool(current_user.care_mode)
    return bool(session.get("care_mode"))
