"""The outbox: queueing, sending, retries, concurrent workers, the dev page and CLI."""

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from portal.extensions import db
from portal.notifications import backends, dispatch
from portal.notifications.dispatch import MAX_ATTEMPTS, dispatch_pending
from portal.notifications.models import Notification
from portal.notifications.services import mask_recipient, queue_email, queue_sms
from portal.timeutil import utcnow
from tests.conftest import count

on_postgres = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="real row-level concurrency needs PostgreSQL; SQLite serialises every writer",
)


@pytest.fixture
def app_overrides(request):
    """Per-test configuration: parametrize with indirect=True to change it."""
    return getattr(request, "param", {})


@pytest.fixture
def logs(caplog, monkeypatch):
    """caplog for the notification loggers, even after migrations/env.py's fileConfig()
    has disabled every logger that existed when it ran."""
    for name in ("portal.notifications.backends", "portal.notifications.dispatch"):
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
    with caplog.at_level(logging.INFO, logger="portal.notifications"):
        yield caplog


class Recorder:
    """A sender that remembers what it sent (thread-safe) and can be told to fail."""

    def __init__(self, fail: bool = False):
        self.fail = fail
        self.sent: list[int] = []
        self._lock = threading.Lock()

    def send(self, notification):
        if self.fail:
            raise ConnectionError("gateway down")
        with self._lock:
            self.sent.append(notification.id)


def _row(notification_id):
    db.session.expire_all()
    return db.session.get(Notification, notification_id)


def _queue(n=1, phone="13812348000", body="Your code is 123456."):
    ids = [queue_sms(phone, body, "sms_code").id for _ in range(n)]
    db.session.commit()
    return ids


# --- queueing ---------------------------------------------------------------------------


def test_queue_sms_adds_a_pending_row_and_sends_nothing(app, monkeypatch):
    recorder = Recorder()
    monkeypatch.setitem(backends.BACKENDS, "log", lambda: recorder)

    notification = queue_sms(" 13812348000 ", "Your code is 123456.", "sms_code")

    assert notification.id is not None  # flushed, so callers can refer to it
    assert notification.status == "pending" and notification.attempts == 0
    assert notification.channel == "sms" and notification.recipient == "13812348000"
    assert recorder.sent == []
    db.session.rollback()  # the caller owns the transaction: nothing was committed
    assert count(Notification) == 0


def test_queue_email_keeps_subject_and_body(app):
    notification = queue_email("wang@example.com", "Welcome", "Hello", "welcome")
    db.session.commit()
    row = _row(notification.id)
    assert (row.channel, row.recipient, row.subject, row.body, row.kind, row.status) == (
        "email",
        "wang@example.com",
        "Welcome",
        "Hello",
        "welcome",
        "pending",
    )


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("13812348000", "138****8000"),
        ("wang.li@example.com", "w***@example.com"),
        ("12345", "1***5"),
        ("", ""),
    ],
)
def test_mask_recipient(raw, masked):
    assert mask_recipient(raw) == masked


# --- dispatching ------------------------------------------------------------------------


def test_dispatch_sends_once_and_marks_sent(app):
    (nid,) = _queue()
    recorder = Recorder()

    assert dispatch_pending(sender=recorder) == 1
    assert dispatch_pending(sender=recorder) == 0

    assert recorder.sent == [nid]
    row = _row(nid)
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 1


def test_dispatch_respects_the_limit_oldest_first(app):
    ids = _queue(3)
    recorder = Recorder()
    assert dispatch_pending(limit=2, sender=recorder) == 2
    assert recorder.sent == ids[:2]
    assert _row(ids[2]).status == "pending"


def test_failures_retry_later_then_give_up(app, monkeypatch):
    (nid,) = _queue()
    failing = Recorder(fail=True)
    now = utcnow()
    monkeypatch.setattr(dispatch, "utcnow", lambda: now)

    for attempt in range(1, MAX_ATTEMPTS):
        assert dispatch_pending(sender=failing) == 0
        row = _row(nid)
        assert (row.status, row.attempts) == ("pending", attempt)
        assert "gateway down" in row.last_error
        assert row.next_attempt_at > now
        # Not tried again before its back-off is over.
        assert dispatch_pending(sender=Recorder()) == 0
        assert _row(nid).attempts == attempt
        now = row.next_attempt_at

    assert dispatch_pending(sender=failing) == 0
    row = _row(nid)
    assert (row.status, row.attempts, row.sent_at) == ("failed", MAX_ATTEMPTS, None)
    now += timedelta(days=1)
    assert dispatch_pending(sender=Recorder()) == 0  # a failed row is never retried


def test_a_retry_can_succeed(app, monkeypatch):
    (nid,) = _queue()
    dispatch_pending(sender=Recorder(fail=True))
    later = utcnow() + timedelta(hours=1)
    monkeypatch.setattr(dispatch, "utcnow", lambda: later)
    assert dispatch_pending(sender=Recorder()) == 1
    row = _row(nid)
    assert (row.status, row.attempts) == ("sent", 2)


def test_a_row_abandoned_while_sending_is_picked_up_after_its_lease(app, monkeypatch):
    (nid,) = _queue()
    assert dispatch._claim(nid)  # a worker claimed it, then died
    assert dispatch_pending(sender=Recorder()) == 0  # still within its lease: left alone

    later = utcnow() + dispatch.CLAIM_LEASE + timedelta(seconds=1)
    monkeypatch.setattr(dispatch, "utcnow", lambda: later)
    recorder = Recorder()
    assert dispatch_pending(sender=recorder) == 1
    assert recorder.sent == [nid]
    assert _row(nid).status == "sent"


def test_an_abandoned_row_with_no_tries_left_fails(app, monkeypatch):
    (nid,) = _queue()
    db.session.execute(
        update(Notification)
        .where(Notification.id == nid)
        .values(status="sending", attempts=MAX_ATTEMPTS, next_attempt_at=utcnow())
    )
    db.session.commit()
    later = utcnow() + timedelta(seconds=1)
    monkeypatch.setattr(dispatch, "utcnow", lambda: later)
    recorder = Recorder()
    assert dispatch_pending(sender=recorder) == 0
    assert recorder.sent == []
    assert _row(nid).status == "failed"


def test_a_claim_succeeds_only_once(app):
    (nid,) = _queue()
    assert dispatch._claim(nid) is True
    assert dispatch._claim(nid) is False


def _run_concurrently(app, workers, target):
    barrier = threading.Barrier(workers)
    results, errors = [], []

    def run():
        try:
            with app.app_context():  # its own scoped session and connection
                barrier.wait()
                results.append(target())
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def _concurrent_dispatchers_never_send_twice(app):
    ids = _queue(30)
    recorder = Recorder()
    results = _run_concurrently(app, 4, lambda: dispatch_pending(sender=recorder))

    assert sorted(recorder.sent) == ids  # every row sent, none twice
    assert sum(results) == len(ids)
    rows = db.session.scalars(select(Notification)).all()
    db.session.expire_all()
    assert {(r.status, r.attempts) for r in rows} == {("sent", 1)}


def test_concurrent_dispatchers_never_send_twice(app):
    _concurrent_dispatchers_never_send_twice(app)


@pytest.mark.postgres
@on_postgres
def test_concurrent_dispatchers_never_send_twice_postgres(app):
    for _ in range(5):
        _concurrent_dispatchers_never_send_twice(app)
        db.session.execute(Notification.__table__.delete())
        db.session.commit()


@pytest.mark.postgres
@on_postgres
def test_racing_claims_on_one_row_have_one_winner(app):
    for _ in range(20):
        (nid,) = _queue()
        results = _run_concurrently(app, 6, lambda nid=nid: dispatch._claim(nid))
        assert sorted(results) == [False] * 5 + [True]


# --- the logging backend ----------------------------------------------------------------


def test_the_log_line_never_holds_the_body(app, logs):
    (nid,) = _queue(body="Your code is 918273.")
    assert dispatch_pending() == 1  # config NOTIFY_BACKEND = "log"

    lines = [r.getMessage() for r in logs.records if r.name.startswith("portal.notifications")]
    assert any(f"notification {nid} sent" in line and "138****8000" in line for line in lines)
    text = logs.text
    assert "918273" not in text
    assert "13812348000" not in text


def test_a_failure_log_line_never_holds_the_body(app, logs):
    _queue(body="Your code is 918273.")
    dispatch_pending(sender=Recorder(fail=True))
    assert "failed" in logs.text
    assert "918273" not in logs.text and "13812348000" not in logs.text


def test_an_unknown_backend_is_refused(app):
    with pytest.raises(RuntimeError):
        backends.get_sender("pigeon")


def test_smtp_backend_hands_sms_to_the_log(app, logs):
    (nid,) = _queue()
    assert dispatch_pending(sender=backends.SmtpEmailBackend()) == 1
    assert f"notification {nid} sent" in logs.text


def test_smtp_backend_failure_is_a_retry(app, monkeypatch):
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", "1")  # nothing listens there
    nid = queue_email("wang@example.com", "Hi", "Body", "welcome").id
    db.session.commit()
    assert dispatch_pending(sender=backends.SmtpEmailBackend()) == 0
    row = _row(nid)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error.startswith("SendError: SMTP")


# --- the dev outbox page ----------------------------------------------------------------


@pytest.mark.parametrize("app_overrides", [{"SHOW_DEV_OUTBOX": False}], indirect=True)
def test_dev_outbox_is_404_when_switched_off(app, client):
    _queue(body="Your code is 918273.")
    response = client.get("/dev/outbox")
    assert response.status_code == 404
    assert b"918273" not in response.data


def test_dev_outbox_lists_the_newest_messages(app, client):
    _queue(phone="13812348000", body="Your code is 918273.")
    queue_email("wang@example.com", "Welcome", "Hello <b>there</b>", "welcome")
    db.session.commit()

    response = client.get("/dev/outbox")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "918273" in page
    assert "13812348000" in page and "138****8000" in page
    assert "Hello &lt;b&gt;there&lt;/b&gt;" in page  # bodies are escaped
    assert page.index("wang@example.com") < page.index("13812348000")  # newest first
    assert response.headers["Cache-Control"] == "no-store"


def test_dev_outbox_filters_by_phone(app, client):
    _queue(phone="13812348000", body="Code for the first: 111111")
    _queue(phone="13998765432", body="Code for the second: 222222")

    page = client.get("/dev/outbox?to=%2B86 139 9876 5432").get_data(as_text=True)
    assert "222222" in page and "111111" not in page

    page = client.get("/dev/outbox?to=%25").get_data(as_text=True)  # LIKE wildcards are literal
    assert "222222" not in page and "111111" not in page


def test_dev_outbox_shows_at_most_50(app, client):
    ids = _queue(55, body="bulk")
    page = client.get("/dev/outbox").get_data(as_text=True)
    assert f'id="notification-{ids[-1]}"' in page
    assert f'id="notification-{ids[5]}"' in page
    assert f'id="notification-{ids[4]}"' not in page


# --- the development after-response hook ------------------------------------------------


def _add_queueing_route(app):
    def queue_view():
        queue_sms("13812348000", "Your code is 123456.", "sms_code")
        db.session.commit()
        return "queued"

    app.add_url_rule("/_test/queue", "test_queue", queue_view)


@pytest.mark.parametrize("app_overrides", [{"NOTIFY_DISPATCH_AFTER_RESPONSE": True}], indirect=True)
def test_after_response_hook_sends_once_the_response_is_closed(app, client):
    _add_queueing_route(app)
    response = client.get("/_test/queue")
    assert response.get_data(as_text=True) == "queued"
    (row,) = db.session.scalars(select(Notification)).all()
    assert row.status == "pending"  # not sent while the page was being served

    response.close()

    assert _row(row.id).status == "sent"


def test_after_response_hook_is_off_in_testing(app, client):
    _add_queueing_route(app)
    client.get("/_test/queue").close()
    (row,) = db.session.scalars(select(Notification)).all()
    assert row.status == "pending"


# --- the command line -------------------------------------------------------------------


def test_cli_send(app):
    ids = _queue(2)
    result = app.test_cli_runner().invoke(args=["notifications", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 2 notifications" in result.output
    assert {_row(i).status for i in ids} == {"sent"}


def test_cli_worker_once(app):
    (nid,) = _queue()
    result = app.test_cli_runner().invoke(args=["notifications", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent 1 notifications" in result.output
    assert _row(nid).status == "sent"


def test_worker_loop_stops_when_asked(app, monkeypatch):
    import portal.notifications.cli as cli

    (nid,) = _queue()
    stop = threading.Event()
    recorder = Recorder()

    def dispatch_then_stop_when_idle(limit):
        sent = dispatch_pending(limit=limit, sender=recorder)
        if sent == 0:
            stop.set()  # as SIGTERM would, while the loop is idle
        return sent

    monkeypatch.setattr(cli, "dispatch_pending", dispatch_then_stop_when_idle)
    assert cli.run_worker(stop) == 1
    assert recorder.sent == [nid]


def test_worker_process_stops_cleanly_on_sigterm(app, database_url):
    (nid,) = _queue()
    env = {**os.environ, "PORTAL_CONFIG": "testing", "TEST_DATABASE_URL": database_url}
    root = Path(__file__).resolve().parent.parent
    flask = Path(sys.executable).with_name("flask")
    worker = subprocess.Popen(
        [str(flask), "--app", "wsgi", "notifications", "worker"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while _row(nid).status != "sent" and time.monotonic() < deadline:
            if worker.poll() is not None:
                pytest.fail(f"the worker exited early:\n{worker.stdout.read()}")
            time.sleep(0.1)
        assert _row(nid).status == "sent"
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=15)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, output
    assert "notification worker stopped; sent 1 notifications" in output


def test_dev_outbox_shows_shanghai_time(app, client):
    from datetime import datetime

    (nid,) = _queue()
    db.session.execute(
        update(Notification)
        .where(Notification.id == nid)
        .values(created_at=datetime(2024, 1, 1, 23, 30, 5))
    )
    db.session.commit()
    page = client.get("/dev/outbox").get_data(as_text=True)
    assert "2024-01-02 07:30:05" in page
