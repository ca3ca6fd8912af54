"""The privacy policy's versions. Each version's text is a pair of templates,
templates/consent/privacy/<version>_zh.html and _en.html, kept when a newer version
is published so the text a person was shown can always be read again. The last version
listed is in force."""

from datetime import date

VERSIONS: dict[str, date] = {
    "1.0": date(2026, 12, 1),  # version -> effective date
}
CURRENT = list(VERSIONS)[-1]


def template_for(version: str, locale: str) -> str:
    return f"consent/privacy/{version}_{'en' if locale == 'en' else 'zh'}.html"
