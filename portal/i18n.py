"""Locale and care-mode choice. Order: the user's saved choice, then the session,
then the browser's Accept-Language, then Simplified Chinese."""

from flask import current_app, g, has_request_context, request, session
from flask_babel import get_translations
from flask_login import current_user
from markupsafe import Markup


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


def catalogue():
    """The request's catalogue, for the templates' gettext.

    Flask-Babel finds it anew on every call (the domain, the request's Babel state, the
    locale, the cache key as a string): a page translates dozens of strings, and those
    lookups cost more than the translating. This remembers it on Flask-Babel's own
    per-request state, keyed by the locale object, so force_locale() (a message in the
    recipient's language) or refresh() (the language was just switched) still take
    effect at once. Without that state yet, Flask-Babel's own lookup answers.
    """
    state = g.get("_flask_babel")
    locale = getattr(state, "babel_locale", None)
    if locale is None:
        return get_translations()
    remembered = getattr(state, "portal_catalogue", None)
    if remembered is not None and remembered[0] is locale:
        return remembered[1]
    translations = get_translations()
    state.portal_catalogue = (locale, translations)
    return translations


def _template_gettext(string, **variables):
    # What Jinja's newstyle gettext does (the translation is trusted markup, the
    # variables are escaped into it, "%" is always applied), without its two extra
    # calls through the template context for every string.
    return Markup(catalogue().ugettext(string)) % variables


def _template_ngettext(singular, plural, num, **variables):
    variables.setdefault("num", num)
    return Markup(catalogue().ungettext(singular, plural, num)) % variables


def install_template_gettext(app) -> None:
    """Give the templates' {{ _() }}, gettext and ngettext the remembered catalogue
    (replacing what Flask-Babel installed; call after babel.init_app). Every template is
    autoescaped (Flask does so for .html files and for strings)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: catalogue().ugettext(s),
        ngettext=lambda s, p, n: catalogue().ungettext(s, p, n),
        pgettext=lambda c, s: catalogue().upgettext(c, s),
        npgettext=lambda c, s, p, n: catalogue().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals.update(
        _=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext
    )
