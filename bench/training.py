"""Benchmark: first-aid classes. The public listing over 100 000 sessions (paired with
/healthz through wrk, target within 3x), and booking throughput under contention: many
clients booking one session at once through gunicorn on PostgreSQL, as a share of
/healthz's throughput with the same clients (target at least 25 %), with zero
overbooking checked afterwards (seats taken = confirmed = capacity, the waitlist
numbered 1..n, no one twice).

`python -m bench.training` runs it on a database of its own (`boai_bench_training`,
or BENCH_DATABASE + "_training"); `bench.run` calls `run()` on its own database."""

import http.client
import os
import random
import re
import sys
import threading
import time
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from bench.harness import RESULTS, Server, bench_environment, fetch, fresh_database, migrate
from bench.workbench import _after_explicit_ids, _insert, _row, _tree, paired

LISTING_TARGET = 3.0
THROUGHPUT_TARGET = 0.25  # contended bookings per second / /healthz requests per second
SESSIONS = 100_000
CLIENTS = 8  # concurrent clients in the contention figure
BOOKERS = 800  # one booking attempt each
SEATS = 150  # of the contended session
SESSION_ID_BASE = 1  # explicit ids for the bulk-loaded sessions


def load(seed: int = 20261203) -> dict:
    """Bulk-load SESSIONS sessions (with their days) across the counties and cities of
    the province (the branch tree is loaded if the database has none), one contended
    session, and BOOKERS citizens with real-name profiles. Returns what run() needs."""
    from sqlalchemy import func, select

    from portal.accounts.models import RealNameProfile, User
    from portal.branches.models import Branch
    from portal.extensions import db
    from portal.timeutil import utcnow
    from portal.training.catalogue import ensure_catalogue
    from portal.training.models import ClassDay, ClassSession

    rng = random.Random(seed)
    now = utcnow()
    if not db.session.scalar(select(func.count()).select_from(Branch)):
        rows, _ = _tree(now)
        _insert(Branch, rows)
        _after_explicit_ids(["branches"])
    courses = ensure_catalogue()
    db.session.commit()
    places = list(
        db.session.execute(
            select(Branch.id, Branch.level, Branch.path).where(Branch.level.in_(("city", "county")))
        )
    )
    venues = [
        "红十字会培训教室",
        "社区活动中心",
        "中学报告厅",
        "人民医院急救培训中心",
        "职工培训中心",
    ]
    sessions, days = [], []
    day_id = 1
    for i in range(SESSIONS):
        course = rng.choice(courses)
        n_days = 2 if course.code == "JHY" else 1
        start = (now + timedelta(hours=rng.randrange(48, 365 * 24))).replace(
            minute=0, second=0, microsecond=0
        )
        capacity = rng.choice((20, 30, 40, 60, 120))
        sid = SESSION_ID_BASE + i
        branch_id, _, branch_path = places[i % len(places)]
        sessions.append(
            {
                "id": sid,
                "course_id": course.id,
                "branch_id": branch_id,
                "branch_path": branch_path,
                "capacity": capacity,
                "seats_taken": rng.choice((0, capacity // 2, capacity)),
                "waitlist_last": 0,
                "starts_at": start,
                "ends_at": start + timedelta(days=n_days - 1, hours=8),
                "booking_cutoff": start - timedelta(hours=24),
                "venue": rng.choice(venues),
                "address": "陕西省宝鸡市",
                "map_url": None,
                "instructors": "王老师",
                "restriction": "public",
                "restriction_note": None,
                "access_code": None,
                "status": "cancelled" if rng.random() < 0.05 else "scheduled",
                "cancel_reason": None,
                "cancelled_at": None,
                "created_at": now,
                "created_by_id": None,
            }
        )
        for d in range(n_days):
            begins = start + timedelta(days=d)
            days.append(
                {
                    "id": day_id,
                    "session_id": sid,
                    "day_no": d + 1,
                    "starts_at": begins,
                    "ends_at": begins + timedelta(hours=8),
                }
            )
            day_id += 1
    for chunk in range(0, len(sessions), 20_000):
        _insert(ClassSession, sessions[chunk : chunk + 20_000])
    for chunk in range(0, len(days), 20_000):
        _insert(ClassDay, days[chunk : chunk + 20_000])
    # The contended session: soon, at the first county, SEATS seats.
    county_id, _, county_path = next(p for p in places if p[1] == "county")
    contended = SESSION_ID_BASE + SESSIONS
    start = (now + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    _insert(
        ClassSession,
        [
            {
                **sessions[0],
                "id": contended,
                "course_id": courses[1].id,
                "branch_id": county_id,
                "branch_path": county_path,
                "capacity": SEATS,
                "seats_taken": 0,
                "status": "scheduled",
                "starts_at": start,
                "ends_at": start + timedelta(hours=4),
                "booking_cutoff": start - timedelta(hours=12),
            }
        ],
    )
    _insert(
        ClassDay,
        [
            {
                "id": day_id,
                "session_id": contended,
                "day_no": 1,
                "starts_at": start,
                "ends_at": start + timedelta(hours=4),
            }
        ],
    )
    first_user = (db.session.scalar(select(func.max(User.id))) or 0) + 1
    users, profiles = [], []
    for k in range(BOOKERS):
        uid = first_user + k
        users.append(
            {
                "id": uid,
                "phone": f"137{uid:08d}",
                "created_at": now,
                "care_mode": False,
                "is_active_account": True,
                "phone_verified_at": now,
            }
        )
        profiles.append(
            {
                "user_id": uid,
                "full_name": f"学员{k}",
                "doc_type": "resident_id",
                "doc_number_enc": b"x",
                "doc_number_hmac": f"bench{uid:059d}",
                "doc_number_masked": "6****************X",
                "birth_date": (now - timedelta(days=365 * 30)).date(),
                "created_at": now,
                "updated_at": now,
            }
        )
    _insert(User, users)
    _insert(RealNameProfile, profiles)
    db.session.commit()
    _after_explicit_ids(["class_sessions", "class_days", "users"])
    return {"contended": contended, "users": [u["id"] for u in users], "county": county_id}


def run(env: dict[str, str], app, ids: dict) -> list[dict]:
    from portal.extensions import db

    with Server(env) as server:
        healthz = server.base + "/healthz"
        county_args = urlencode({"area": ids["county"], "seats": "1"})
        figures = [
            paired(
                "training_listing",
                f"median latency GET /training/?area=all, {SESSIONS} sessions, no cookie",
                server.base + "/training/?area=all",
                None,
                'id="sessions"',
                healthz,
                target=LISTING_TARGET,
            ),
            paired(
                "training_listing_county",
                "median latency GET /training/ for one county, seats left only",
                f"{server.base}/training/?{county_args}",
                None,
                'id="sessions"',
                healthz,
                target=LISTING_TARGET,
            ),
        ]
        with app.app_context():
            cookies = _sessions(app, ids["users"])
            db.engine.dispose()
        figures.append(_contention(server, app, ids, cookies))
    return figures


def _sessions(app, user_ids) -> list[str]:
    from bench.harness import login_cookie
    from portal.accounts.models import User
    from portal.extensions import db

    cookies = [
        login_cookie(db.session.get(User, uid), app.config["SESSION_COOKIE_NAME"])
        for uid in user_ids
    ]
    db.session.commit()
    return cookies


_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _token(base: str, session_id: int, cookie: str) -> str:
    status, body = fetch(f"{base}/training/sessions/{session_id}", cookie)
    found = _CSRF.search(body) or re.search(r'name="csrf_token" value="([^"]+)"', body)
    if status != 200 or not found:
        raise RuntimeError(f"no booking form for the bench user ({status})")
    return found.group(1)


def _hammer(base: str, jobs: list, send) -> tuple[float, list[int]]:
    """Run `send(conn, job)` for every job with CLIENTS threads; wall time and statuses."""
    host = urlsplit(base)
    statuses: list[int] = []
    lock = threading.Lock()
    slices = [jobs[i::CLIENTS] for i in range(CLIENTS)]
    barrier = threading.Barrier(CLIENTS + 1)

    def client(mine):
        barrier.wait()
        for job in mine:
            conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
            status = send(conn, job)
            conn.close()
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=client, args=(s,)) for s in slices]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - started, statuses


def _contention(server, app, ids, cookies) -> dict:
    row = _row(
        "training_booking_contended",
        f"{len(cookies)} people book one {SEATS}-seat session with {CLIENTS} concurrent "
        "clients: bookings per second as a share of /healthz per second (same clients)",
        THROUGHPUT_TARGET,
    )
    row["unit"] = "req/s"
    session_id = ids["contended"]
    tokens = [_token(server.base, session_id, c) for c in cookies]

    def healthz(conn, _job):
        conn.request("GET", "/healthz")
        return conn.getresponse().status

    def book(conn, job):
        cookie, token = job
        body = urlencode({"csrf_token": token, "access_code": ""})
        conn.request(
            "POST",
            f"/training/sessions/{session_id}/book",
            body,
            {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        )
        return conn.getresponse().status

    base_time, base_status = _hammer(server.base, list(range(len(cookies))), healthz)
    book_time, book_status = _hammer(server.base, list(zip(cookies, tokens, strict=True)), book)
    base_rate, book_rate = len(base_status) / base_time, len(book_status) / book_time
    check = _check(app, session_id, len(cookies))
    row.update(
        value=round(book_rate, 1),
        baseline=round(base_rate, 1),
        ratio=round(book_rate / base_rate, 2),
    )
    bad = sum(s != 302 for s in book_status) + sum(s != 200 for s in base_status)
    row["ok"] = not bad and not check and row["ratio"] >= THROUGHPUT_TARGET
    row["note"] = (
        f"{len(book_status)} POSTs in {book_time:.1f} s, {len(base_status)} GET /healthz in "
        f"{base_time:.1f} s; {bad} unexpected answers; "
        + (check or f"no overbooking: {SEATS} confirmed, {len(cookies) - SEATS} waitlisted 1..n")
    )
    return row


def _check(app, session_id: int, attempts: int) -> str:
    """'' when the session holds exactly its capacity and everyone once; else what's wrong."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.training.models import Booking, ClassSession

    with app.app_context():
        rows = db.session.execute(
            select(Booking.person_key, Booking.status, Booking.waitlist_no).where(
                Booking.session_id == session_id
            )
        ).all()
        taken = db.session.get(ClassSession, session_id).seats_taken
        db.engine.dispose()
    confirmed = [r for r in rows if r.status == "confirmed"]
    waiting = sorted(r.waitlist_no for r in rows if r.status == "waitlisted")
    problems = []
    if len(rows) != attempts or len({r.person_key for r in rows}) != len(rows):
        problems.append(f"{len(rows)} bookings for {attempts} people")
    if not (len(confirmed) == taken == SEATS):
        problems.append(f"{len(confirmed)} confirmed, {taken} seats taken, {SEATS} seats")
    if waiting != list(range(1, attempts - SEATS + 1)):
        problems.append("the waitlist is not numbered 1..n")
    return "; ".join(problems)


def _ids_for_reuse() -> dict:
    """The ids a previous load made, with the contended session emptied again."""
    from sqlalchemy import delete, select

    from portal.accounts.models import User
    from portal.extensions import db
    from portal.training.models import Booking, ClassSession

    contended = SESSION_ID_BASE + SESSIONS
    db.session.execute(delete(Booking).where(Booking.session_id == contended))
    session = db.session.get(ClassSession, contended)
    session.seats_taken, session.waitlist_last = 0, 0
    users = list(
        db.session.scalars(select(User.id).where(User.phone.like("137%")).order_by(User.id))
    )
    county = session.branch_id
    db.session.commit()
    return {"contended": contended, "users": users[:BOOKERS], "county": county}


def measure_all(reuse: bool = False) -> list[dict]:
    """Load (or, with `reuse`, re-use) the database `<BENCH_DATABASE>_training` and
    measure. `bench.run` calls this; so does `python -m bench.training`."""
    from bench.harness import reuse_database

    name = os.environ.get("BENCH_DATABASE", "boai_bench") + "_training"
    url, where = (reuse_database if reuse else fresh_database)(name)
    env = {**os.environ, **bench_environment(), "DATABASE_URL": url}
    os.environ.update(env)
    from portal import create_app

    app = create_app("production", {"SQLALCHEMY_DATABASE_URI": url})
    print(f"training database: {where}")
    started = time.monotonic()
    with app.app_context():
        if reuse:
            ids = _ids_for_reuse()
        else:
            migrate(env)
            ids = load()
            print(f"loaded {SESSIONS} sessions in {time.monotonic() - started:.0f} s")
    return run(env, app, ids)


def main() -> int:
    import json

    figures = measure_all(reuse="--reuse" in sys.argv)
    from bench.run import _print_table

    _print_table(figures)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "training.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2))
    return 0 if all(f["ok"] for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
