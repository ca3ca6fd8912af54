"""Settings, read from the environment. One class per way of running the portal."""

import base64
import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

# Published in the repository on purpose: they let `make run` work with zero set-up.
# ProductionConfig refuses to start while either is in use.
DEV_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production"
DEV_FIELD_KEY = "ZGV2LW9ubHktZmllbGQta2V5LTMyLWJ5dGVzLWxvbmc="  # base64 of 32 bytes


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _is_aes256_key(value: str) -> bool:
    """A malformed key would only fail at the first profile save; refuse it at start."""
    try:
        return len(base64.b64decode(value, validate=True)) == 32
    except ValueError:
        return False


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    # AES-256-GCM key (base64, 32 bytes) for sensitive fields; a separate HMAC key
    # is derived from it for the look-up index.
    FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", DEV_FIELD_KEY)

    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'boai.sqlite3'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # Rate limiting: memory by default, Redis when configured. Memory counts in each
    # worker process on its own, so N workers would allow N times every limit: production
    # refuses it unless SINGLE_WORKER=1 says one worker process serves the portal.
    REDIS_URL = os.environ.get("REDIS_URL")
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    RATELIMIT_HEADERS_ENABLED = False
    # Moving windows: a wait ends when the oldest counted try ages out, so the 429 page
    # can name the real wait, and a burst at a window's edge cannot count double.
    RATELIMIT_STRATEGY = "moving-window"

    # Flask-Caching, for the dashboard's yearly indicator figures: shared by every worker
    # through Redis, or none at all (a per-process cache would disagree between workers).
    CACHE_TYPE = "RedisCache" if REDIS_URL else "NullCache"
    CACHE_REDIS_URL = REDIS_URL
    CACHE_KEY_PREFIX = "boai-cache:"  # the rate limiter shares the Redis database
    CACHE_NO_NULL_WARNING = True
    INDICATOR_CACHE_SECONDS = _env_int("INDICATOR_CACHE_SECONDS", 300)

    # How long a membership runs before it needs renewing (set per installation).
    MEMBERSHIP_TERM_YEARS = _env_int("MEMBERSHIP_TERM_YEARS", 3)
    # Volunteer hours: how many minutes past a shift's length a stay still counts.
    VOLUNTEER_HOURS_GRACE_MINUTES = _env_int("VOLUNTEER_HOURS_GRACE_MINUTES", 30)
    # First-aid classes: how long a freed seat is held for the head of the waitlist.
    TRAINING_OFFER_HOURS = _env_int("TRAINING_OFFER_HOURS", 24)
    # The portal's own address, for full links in SMS sent by cron commands (no request
    # to take it from); empty: the SMS carries the path only.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")

    # Visitors: a signed cookie; signed-in people: server-side sessions (both in one
    # cookie, see portal/sessions.py). A visitor's cookie is refused once older than
    # SESSION_ABSOLUTE_TIMEOUT.
    SESSION_COOKIE_NAME = "boai_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_IDLE_TIMEOUT = timedelta(minutes=_env_int("SESSION_IDLE_MINUTES", 120))
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=_env_int("SESSION_ABSOLUTE_HOURS", 72))
    STAFF_SESSION_IDLE_TIMEOUT = timedelta(minutes=_env_int("STAFF_SESSION_IDLE_MINUTES", 30))
    STAFF_SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=_env_int("STAFF_SESSION_ABSOLUTE_HOURS", 12))

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session it is bound to

    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh": "简体中文", "en": "English"}

    # SMS codes
    SMS_CODE_TTL = timedelta(minutes=10)
    SMS_CODE_MAX_ATTEMPTS = 5
    SMS_RESEND_INTERVAL = timedelta(seconds=60)
    # Put in front of every SMS by notifications.services.queue_sms, never by a caller.
    # Mainland carriers deliver only with the signature registered for the account, so it
    # is the same in every language.
    SMS_SIGNATURE = os.environ.get("SMS_SIGNATURE", "【红十字博爱】")

    # Notifications: "log" writes to the log only; a real gateway plugs in here.
    NOTIFY_BACKEND = os.environ.get("NOTIFY_BACKEND", "log")
    NOTIFY_DISPATCH_AFTER_RESPONSE = False
    SHOW_DEV_OUTBOX = False

    # Who runs the site, as the footer and the privacy policy name them (主办单位, the
    # contact for personal-information requests, the ICP filing number). The defaults are
    # placeholders for development; a deployment sets its own.
    OPERATOR_NAME_ZH = os.environ.get("OPERATOR_NAME_ZH", "示例市红十字会（开发环境）")
    OPERATOR_NAME_EN = os.environ.get(
        "OPERATOR_NAME_EN", "Example City Red Cross Society (development)"
    )
    CONTACT_PHONE = os.environ.get("CONTACT_PHONE", "010-00000000")
    CONTACT_EMAIL = os.environ.get("CONTACT_EMAIL", "privacy@example.org")
    ICP_RECORD = os.environ.get("ICP_RECORD", "京ICP备00000000号")
    # The filing number links to the ministry's public filing register, as the rules ask.
    ICP_RECORD_URL = os.environ.get("ICP_RECORD_URL", "https://beian.miit.gov.cn/")

    HSTS = False
    # argon2 cost; None: argon2-cffi's defaults (RFC 9106 low-memory profile).
    ARGON2_TIME_COST = None
    ARGON2_MEMORY_COST = None
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    # How many reverse proxies (the TLS terminator) stand in front and set
    # X-Forwarded-For / X-Forwarded-Proto. 0: requests come straight from clients.
    TRUSTED_PROXY_COUNT = _env_int("TRUSTED_PROXY_COUNT", 0)


class DevelopmentConfig(Config):
    DEBUG = True
    SHOW_DEV_OUTBOX = True
    NOTIFY_DISPATCH_AFTER_RESPONSE = True


class TestingConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    RATELIMIT_STORAGE_URI = os.environ.get("TEST_REDIS_URL") or "memory://"
    CACHE_TYPE = "NullCache"  # fresh figures; a test that wants a cache overrides this
    WTF_CSRF_ENABLED = False
    SHOW_DEV_OUTBOX = True
    # Fast argon2 parameters keep the suite quick.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    HSTS = True

    @classmethod
    def check(cls) -> None:
        """Refuse to run production with a published or missing secret, or with rate
        limits each worker would count on its own."""
        problems = []
        secret = os.environ.get("SECRET_KEY") or ""
        if cls.SECRET_KEY == DEV_SECRET_KEY or len(secret) < 32:
            problems.append("SECRET_KEY (at least 32 random characters)")
        field_key = os.environ.get("FIELD_ENCRYPTION_KEY") or ""
        if cls.FIELD_ENCRYPTION_KEY == DEV_FIELD_KEY or not _is_aes256_key(field_key):
            problems.append("FIELD_ENCRYPTION_KEY (base64 of 32 random bytes)")
        single_worker = os.environ.get("SINGLE_WORKER") == "1"
        if cls.RATELIMIT_STORAGE_URI.startswith("memory") and not single_worker:
            problems.append(
                "REDIS_URL (the rate limits every worker shares; or SINGLE_WORKER=1 when "
                "exactly one worker process serves the portal)"
            )
        if problems:
            raise RuntimeError(
                "Production needs its own secrets and a shared rate-limit store; set: "
                + ", ".join(problems)
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
