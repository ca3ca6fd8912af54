"""A friendly name for the device behind a session ("WeChat on Android"), from its user agent.

Only a handful of browsers and systems matter to our users; anything else is
"a web browser" on "an unknown device" rather than a guess that looks wrong.
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

# Checked in order: in-app browsers and Chromium forks announce "Chrome" and
# "Safari" too, so the specific names must win.
BROWSERS = [
    ("MicroMessenger", _l("WeChat")),
    ("wxwork", _l("WeCom")),
    ("AlipayClient", _l("Alipay")),
    ("DingTalk", _l("DingTalk")),
    (" QQ/", _l("QQ")),
    ("MQQBrowser", _l("QQ Browser")),
    ("QQBrowser", _l("QQ Browser")),
    ("UCBrowser", _l("UC Browser")),
    ("baiduboxapp", _l("Baidu")),
    ("HuaweiBrowser", _l("Huawei Browser")),
    ("MiuiBrowser", _l("Xiaomi Browser")),
    ("SamsungBrowser", _l("Samsung Internet")),
    ("Edg", _l("Edge")),
    ("OPR/", _l("Opera")),
    ("Firefox/", _l("Firefox")),
    ("FxiOS", _l("Firefox")),
    ("CriOS", _l("Chrome")),
    ("Chrome/", _l("Chrome")),
    ("Safari/", _l("Safari")),
]

SYSTEMS = [
    ("HarmonyOS", _l("HarmonyOS")),
    ("OpenHarmony", _l("HarmonyOS")),
    ("Android", _l("Android")),
    ("iPhone", _l("iPhone")),
    ("iPad", _l("iPad")),
    ("Windows", _l("Windows")),
    ("Macintosh", _l("Mac")),
    ("CrOS", _l("Chromebook")),
    ("Linux", _l("Linux")),
]


def _first_match(user_agent: str, table) -> str | None:
    for needle, name in table:
        if needle in user_agent:
            return str(name)
    return None


def describe_device(user_agent: str | None) -> str:
    """E.g. "WeChat on Android", "Chrome on Windows", "Safari on iPhone"."""
    ua = user_agent or ""
    browser = _first_match(ua, BROWSERS) or _("A web browser")
    system = _first_match(ua, SYSTEMS)
    if system is None:
        return browser
    return _("%(browser)s on %(system)s", browser=browser, system=system)
