"""SMS one-time codes: hashed at rest, 10-minute life, 5 tries, once-a-minute resend,
a newer code replaces the older one."""

import os
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts import smscodes
from portal.accounts.models import SmsCode
from portal.extensions import db
from portal.timeutil import utcnow

PHONE = "13800138000"


@pytest.fixture
def ctx(app):
    # Messages are translated lazily; the locale selector needs a request.
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        yield


def _row(issued) -> SmsCode:
    db.session.expire_all()
    return db.session.get(SmsCode, issued.row.id)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_code_is_six_digits_and_only_its_hash_is_stored(ctx):
    issued = smscodes.issue_code(PHONE, "register")
    db.session.commit()
    assert len(issued.code) == 6 and issued.code.isdigit()
    row = _row(issued)
    assert issued.code not in row.code_hash
    assert row.code_hash != issued.code
    # Not an unkeyed hash either: six digits would be reversed instantly.
    import hashlib

    assert hashlib.sha256(issued.code.encode()).hexdigest() not in row.code_hash
    assert row.expires_at - row.created_at == timedelta(minutes=10)


def test_same_code_hashes_differently_each_time(ctx, app):
    first = smscodes.issue_code(PHONE, "register")
    later = utcnow() + timedelta(seconds=61)
    second = smscodes.issue_code(PHONE, "login", now=later)
    assert first.row.code_hash != second.row.code_hash


def test_right_code_is_accepted_once(ctx):
    issued = smscodes.issue_code(PHONE, "register")
    smscodes.verify_code(PHONE, "register", issued.code)
    db.session.commit()
    assert _row(issued).consumed_at is not None
    with pytest.raises(smscodes.CodeExpired):
        smscodes.verify_code(PHONE, "register", issued.code)


def test_full_width_digits_and_spaces_are_accepted(ctx):
    issued = smscodes.issue_code(PHONE, "login")
    typed = " ".join(chr(0xFF10 + int(d)) for d in issued.code)
    smscodes.verify_code(PHONE, "login", typed)


def test_code_expires_after_ten_minutes(ctx):
    issued = smscodes.issue_code(PHONE, "register")
    just_before = issued.row.created_at + timedelta(minutes=9, seconds=59)
    just_after = issued.row.created_at + timedelta(minutes=10)
    with pytest.raises(smscodes.CodeWrong):
        smscodes.verify_code(PHONE, "register", _wrong(issued.code), now=just_before)
    with pytest.raises(smscodes.CodeExpired):
        smscodes.verify_code(PHONE, "register", issued.code, now=just_after)


def test_code_expired_by_clock_in_database(ctx):
    issued = smscodes.issue_code(PHONE, "reset")
    issued.row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(smscodes.CodeExpired) as exc:
        smscodes.verify_code(PHONE, "reset", issued.code)
    assert "expired" in str(exc.value.message)


def test_five_wrong_tries_burn_the_code_even_if_the_sixth_is_right(ctx):
    issued = smscodes.issue_code(PHONE, "login")
    remaining = []
    for _ in range(4):
        with pytest.raises(smscodes.CodeWrong) as exc:
            smscodes.verify_code(PHONE, "login", _wrong(issued.code))
        remaining.append(exc.value.remaining)
    assert remaining == [4, 3, 2, 1]
    with pytest.raises(smscodes.CodeBurned):
        smscodes.verify_code(PHONE, "login", _wrong(issued.code))
    db.session.commit()
    with pytest.raises(smscodes.CodeBurned):
        smscodes.verify_code(PHONE, "login", issued.code)
    assert _row(issued).attempts == 5
    assert _row(issued).consumed_at is None


def test_four_wrong_tries_then_the_right_one_works(ctx):
    issued = smscodes.issue_code(PHONE, "login")
    for _ in range(4):
        with pytest.raises(smscodes.CodeWrong):
            smscodes.verify_code(PHONE, "login", _wrong(issued.code))
    smscodes.verify_code(PHONE, "login", issued.code)
    assert _row(issued).consumed_at is not None


def test_malformed_codes_count_as_tries(ctx):
    issued = smscodes.issue_code(PHONE, "login")
    for junk in ["", "abcdef", "1234567", "' OR 1=1 --"]:
        with pytest.raises(smscodes.CodeWrong):
            smscodes.verify_code(PHONE, "login", junk)
    assert _row(issued).attempts == 4


def test_resend_within_a_minute_is_refused_with_a_clear_message(ctx):
    first = smscodes.issue_code(PHONE, "register")
    with pytest.raises(smscodes.ResendTooSoon) as exc:
        smscodes.issue_code(PHONE, "register", now=first.row.created_at + timedelta(seconds=20))
    assert exc.value.wait_seconds == 40
    assert "40 seconds" in str(exc.value.message)
    assert len(db.session.scalars(select(SmsCode)).all()) == 1


def test_resend_after_a_minute_supersedes_the_old_code(ctx):
    first = smscodes.issue_code(PHONE, "register")
    second = smscodes.issue_code(
        PHONE, "register", now=first.row.created_at + timedelta(seconds=60)
    )
    later = second.row.created_at + timedelta(seconds=1)
    if first.code != second.code:
        with pytest.raises(smscodes.CodeWrong):
            smscodes.verify_code(PHONE, "register", first.code, now=later)
    assert _row(first).consumed_at is not None  # replaced, whatever its digits
    smscodes.verify_code(PHONE, "register", second.code, now=later)


def test_resend_rule_is_per_phone_and_purpose(ctx):
    smscodes.issue_code(PHONE, "register")
    smscodes.issue_code(PHONE, "login")
    smscodes.issue_code("13900139000", "register")


def test_code_only_works_for_its_purpose_and_phone(ctx):
    issued = smscodes.issue_code(PHONE, "register")
    with pytest.raises(smscodes.CodeExpired):
        smscodes.verify_code(PHONE, "login", issued.code)
    with pytest.raises(smscodes.CodeExpired):
        smscodes.verify_code("13900139000", "register", issued.code)


def test_no_code_at_all(ctx):
    with pytest.raises(smscodes.CodeExpired):
        smscodes.verify_code(PHONE, "reset", "123456")


def test_unknown_purpose_is_a_programming_error(ctx):
    with pytest.raises(ValueError):
        smscodes.issue_code(PHONE, "anything")


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="parallel guesses need a server database with real concurrent transactions",
)
def test_parallel_guesses_cannot_exceed_the_try_limit(app):
    with app.test_request_context("/"):
        issued = smscodes.issue_code(PHONE, "login")
        db.session.commit()
    wrong = _wrong(issued.code)
    threads_n = 12
    barrier = threading.Barrier(threads_n)
    outcomes = []
    lock = threading.Lock()

    def guess():
        with app.app_context(), app.test_request_context("/"):
            barrier.wait()
            try:
                smscodes.verify_code(PHONE, "login", wrong)
                result = "ok"
            except smscodes.CodeError as exc:
                result = type(exc).__name__
            db.session.commit()
            db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=guess) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    row = db.session.get(SmsCode, issued.row.id)
    assert row.attempts == 5
    assert outcomes.count("CodeWrong") + outcomes.count("CodeBurned") == threads_n
    assert outcomes.count("CodeWrong") == 4  # tries 1-4; the 5th burns it
