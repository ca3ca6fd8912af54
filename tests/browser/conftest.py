"""Browser tests post real forms: CSRF on, like production; the dev outbox shows SMS
codes. The Chromium fixtures themselves live in tests/conftest.py, shared with feature
test modules that keep their browser test beside their other tests."""

import pytest


@pytest.fixture
def app_overrides():
    # A browser posts real forms: CSRF on, like production; the dev outbox shows SMS codes.
    return {"WTF_CSRF_ENABLED": True, "SHOW_DEV_OUTBOX": True}
