"""Benchmark: the approval inbox and the staff dashboard for a whole province.

One province with 10 000 branches (10 cities, 100 counties, the rest grassroots units)
and 200 000 home-branch requests (a share of them pending, the rest decided), loaded
with bulk inserts. A province admin's /admin/inbox and /admin/ are timed against
/healthz on the same gunicorn server; a county officer's inbox is timed too, and against
the same page over 1 % of the data (SMALL_SHARE), served from a second database."""

import random
import statistics
import time
from datetime import timedelta

from bench.harness import Measurement, Server, fetch, login_cookie, measure

TARGET_RATIO = 6.0
# A page over the full data against the same page over SMALL_SHARE of it: a page's cost
# must not grow with the rows that pile up outside it.
SCALE_TARGET, SMALL_SHARE = 1.3, 0.01
# Each page is measured in ROUNDS pairs with /healthz, SECONDS each after a WARMUP:
# short pairs follow the machine's slow and fast spells more closely than long ones.
ROUNDS, SECONDS, WARMUP = 5, 3, 1
BRANCHES = 10_000
APPLICATIONS = 200_000
PENDING_SHARE = 0.10
CITIES, COUNTIES_PER_CITY = 10, 10
BATCH = 20_000
UNIT_TYPES = ("township", "community", "school", "hospital", "company")


def load(
    applications: int = APPLICATIONS,
    pending_share: float = PENDING_SHARE,
    seed: int = 20260101,
    county_pending: int = 0,
) -> dict:
    """Bulk-insert the tree, the citizens and their requests, and three staff members;
    `county_pending` more pending requests at the county officer's county (so a small
    load still fills the page being compared). Returns the ids the measurements need. Explicit ids keep it to plain INSERTs, and
    Core executemany sends them in multi-row batches (the ORM's bulk path would split
    batches wherever optional columns differ)."""
    from portal.accounts.models import User
    from portal.branches.models import Branch, HomeBranchRequest, StaffRole
    from portal.extensions import db
    from portal.timeutil import utcnow

    rng = random.Random(seed)
    now = utcnow()
    branches, deciding = _tree(now)
    _insert(Branch, branches)
    # The last grassroots unit receives no requests: its officer's inbox is empty, which
    # shows what the page costs before any data (the framework floor).
    quiet_unit = deciding.pop()
    path_of = {b["id"]: b["path"] for b in branches}

    province_admin, county_officer, unit_officer = 1, 2, 3
    county_id = branches[2 + CITIES]["id"]  # the first county
    staff = [
        {"id": province_admin, "phone": "13800009001", "created_at": now},
        {"id": county_officer, "phone": "13800009002", "created_at": now},
        {"id": unit_officer, "phone": "13800009003", "created_at": now},
    ]
    _insert(User, staff)
    _insert(
        StaffRole,
        [
            {"user_id": province_admin, "branch_id": 2, "role": "admin", "granted_at": now},
            {
                "user_id": county_officer,
                "branch_id": county_id,
                "role": "officer",
                "granted_at": now,
            },
            {
                "user_id": unit_officer,
                "branch_id": quiet_unit,
                "role": "officer",
                "granted_at": now,
            },
        ],
    )

    statuses = ("approved", "rejected", "withdrawn")
    for start in range(0, applications, BATCH):
        users, requests = [], []
        for i in range(start, min(start + BATCH, applications)):
            user_id = i + 4
            branch_id = rng.choice(deciding)
            pending = rng.random() < pending_share
            status = "pending" if pending else rng.choices(statuses, (80, 15, 5))[0]
            age = timedelta(minutes=rng.randrange(60 * 24 * (60 if pending else 730)))
            created = now - age
            decided = status in ("approved", "rejected")
            users.append(
                {
                    "id": user_id,
                    "phone": f"15{i:09d}",
                    "created_at": created,
                    "home_branch_id": branch_id if status == "approved" else None,
                }
            )
            requests.append(
                {
                    "id": i + 1,
                    "user_id": user_id,
                    "branch_id": branch_id,
                    "branch_path": path_of[branch_id],  # the ORM hook sets it otherwise
                    "from_branch_id": rng.choice(deciding) if rng.random() < 0.2 else None,
                    "status": status,
                    "created_at": created,
                    "submitted_at": created,
                    "decided_at": created + timedelta(days=2) if decided else None,
                    "decided_by_id": province_admin if decided else None,
                    "decision_reason": "资料不全" if status == "rejected" else None,
                    "withdrawn_at": created + timedelta(days=1) if status == "withdrawn" else None,
                    "note": "我住在这里" if rng.random() < 0.3 else None,
                }
            )
        _insert(User, users)
        _insert(HomeBranchRequest, requests)
    if county_pending:
        _top_up(county_id, path_of[county_id], applications, county_pending, rng, now)
    # A bulk insert skips the ORM hooks that keep the pending tallies: count once, as
    # `flask rebuild-tallies` would.
    from portal.review import tallies

    tallies.rebuild()
    db.session.commit()
    _after_explicit_ids(["branches", "users", "staff_roles", "home_branch_requests"])
    return {
        "province_admin": province_admin,
        "county_officer": county_officer,
        "unit_officer": unit_officer,
        "county_id": county_id,
        "branches": len(branches),
    }


def _top_up(county_id: int, path: str, after: int, n: int, rng, now) -> None:
    """`n` pending requests at the county, with ids after the first `after`."""
    from portal.accounts.models import User
    from portal.branches.models import HomeBranchRequest

    users, requests = [], []
    for i in range(after, after + n):
        created = now - timedelta(minutes=rng.randrange(60 * 24 * 60))
        users.append({"id": i + 4, "phone": f"15{i:09d}", "created_at": created})
        requests.append(
            {
                "id": i + 1,
                "user_id": i + 4,
                "branch_id": county_id,
                "branch_path": path,
                "status": "pending",
                "created_at": created,
                "submitted_at": created,
            }
        )
    _insert(User, users)
    _insert(HomeBranchRequest, requests)


def _insert(model, rows: list[dict]) -> None:
    from portal.extensions import db

    db.session.execute(model.__table__.insert(), rows)


def _tree(now) -> tuple[list[dict], list[int]]:
    """national(1) > 陕西(2) > 10 cities > 100 counties > grassroots up to BRANCHES in all.
    Returns the rows and the ids of counties and grassroots units (where requests go)."""
    rows = [
        _branch(
            1,
            None,
            "/1/",
            0,
            "national",
            "中国红十字会总会",
            "Red Cross Society of China",
            None,
            now,
        ),
        _branch(2, 1, "/1/2/", 1, "province", "陕西省红十字会", "Shaanxi Red Cross", "610000", now),
    ]
    next_id, counties = 3, []
    for c in range(CITIES):
        city_id = next_id
        rows.append(
            _branch(
                city_id,
                2,
                f"/1/2/{city_id}/",
                2,
                "city",
                f"第{c + 1}市红十字会",
                f"City {c + 1} Red Cross",
                f"61{c + 1:02d}00",
                now,
            )
        )
        next_id += 1
        for k in range(COUNTIES_PER_CITY):
            rows.append(
                _branch(
                    next_id,
                    city_id,
                    f"/1/2/{city_id}/{next_id}/",
                    3,
                    "county",
                    f"第{c + 1}市第{k + 1}县红十字会",
                    f"County {c + 1}-{k + 1} Red Cross",
                    f"61{c + 1:02d}{k + 1:02d}",
                    now,
                )
            )
            counties.append((next_id, f"/1/2/{city_id}/{next_id}/"))
            next_id += 1
    grassroots = []
    n = 0
    while next_id <= BRANCHES:
        county_id, path = counties[n % len(counties)]
        rows.append(
            _branch(
                next_id,
                county_id,
                f"{path}{next_id}/",
                4,
                "grassroots",
                f"基层组织{n + 1}",
                f"Unit {n + 1}",
                None,
                now,
                unit_type=UNIT_TYPES[n % len(UNIT_TYPES)],
            )
        )
        grassroots.append(next_id)
        next_id += 1
        n += 1
    return rows, [cid for cid, _ in counties] + grassroots


def _branch(id_, parent_id, path, depth, level, name_zh, name_en, code, now, unit_type=None):
    return {
        "id": id_,
        "parent_id": parent_id,
        "path": path,
        "depth": depth,
        "level": level,
        "name_zh": name_zh,
        "name_en": name_en,
        "code": code,
        "unit_type": unit_type,
        "created_at": now,
    }


def _after_explicit_ids(tables: list[str]) -> None:
    """Move PostgreSQL's id sequences past the ids we chose, then VACUUM ANALYZE: planner
    statistics, and the visibility map that index-only scans need (autovacuum would set
    it on a live server; right after a bulk load it is still empty)."""
    from sqlalchemy import text

    from portal.extensions import db

    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            for table in tables:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(
            text("VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE")
        )


def prepare_small(app, reuse: bool = False) -> str:
    """The second database (`app` is bound to it): SMALL_SHARE of the applications, the
    same tree, and a page of pending items at the county officer's county, as in the
    full data. Returns the county officer's cookie there."""
    from portal.accounts.models import User
    from portal.extensions import db
    from portal.review.inbox import PAGE_SIZE

    with app.app_context():
        if not reuse:
            started = time.monotonic()
            small = round(APPLICATIONS * SMALL_SHARE)
            load(applications=small, county_pending=2 * PAGE_SIZE)
            print(
                f"loaded the small data ({small} applications) in {time.monotonic() - started:.0f} s"
            )
        cookie = login_cookie(db.session.get(User, 2), app.config["SESSION_COOKIE_NAME"])
        db.session.commit()
        db.engine.dispose()
    return cookie


def run(
    env: dict[str, str], app, reuse: bool = False, small=None, wanted=lambda name: True
) -> list[dict]:
    """Load the data (unless `reuse`: the database already holds it), serve it, measure;
    returns the figures for bench/results. `small`: (its environment, the county
    officer's cookie) for the database prepare_small loaded, to compare with.
    `wanted(name)`: whether to measure the figure of that name (/healthz always)."""
    from sqlalchemy import func, select

    from portal.accounts.models import User
    from portal.branches.models import Branch
    from portal.extensions import db

    with app.app_context():
        started = time.monotonic()
        if reuse:
            ids = {
                "province_admin": 1,
                "county_officer": 2,
                "unit_officer": 3,
                "branches": db.session.scalar(select(func.count()).select_from(Branch)),
            }
        else:
            ids = load()
            print(
                f"loaded {ids['branches']} branches and {APPLICATIONS} applications "
                f"in {time.monotonic() - started:.0f} s"
            )
        from flask_babel import force_locale, gettext

        with app.test_request_context(), force_locale(app.config["BABEL_DEFAULT_LOCALE"]):
            empty_inbox_text = gettext("Nothing is waiting. Well done!")
        cookie_name = app.config["SESSION_COOKIE_NAME"]
        admin = login_cookie(db.session.get(User, ids["province_admin"]), cookie_name)
        officer = login_cookie(db.session.get(User, ids["county_officer"]), cookie_name)
        quiet = login_cookie(db.session.get(User, ids["unit_officer"]), cookie_name)
        db.session.commit()

    scale = f"{ids['branches']} branches, {APPLICATIONS} applications"
    with Server(env) as server:
        healthz = server.base + "/healthz"
        base = _measured(
            "healthz", "median latency GET /healthz (baseline)", healthz, None, '"status":"ok"'
        )
        figures = [base]
        for name, figure, path, cookie, expect in [
            (
                "inbox_province_admin",
                f"median latency GET /admin/inbox, province admin ({scale})",
                "/admin/inbox",
                admin,
                'name="item"',
            ),
            (
                "inbox_county_officer",
                f"median latency GET /admin/inbox, county officer ({scale})",
                "/admin/inbox",
                officer,
                'name="item"',
            ),
            (
                "inbox_empty",
                "median latency GET /admin/inbox, an officer with nothing pending (page floor)",
                "/admin/inbox",
                quiet,
                empty_inbox_text,
            ),
            (
                "inbox_page_20",
                f"median latency GET /admin/inbox?page=20, province admin ({scale})",
                "/admin/inbox?page=20",
                admin,
                'name="item"',
            ),
            (
                "dashboard_province_admin",
                f"median latency GET /admin/, province admin ({scale})",
                "/admin/",
                admin,
                None,
            ),
        ]:
            if wanted(name):
                figures.append(paired(name, figure, server.base + path, cookie, expect, healthz))
        if small is not None:
            small_env, small_cookie = small
            with Server(small_env) as small_server:
                figures.append(
                    paired(
                        "inbox_county_scale",
                        f"GET /admin/inbox, county officer: {scale} against "
                        f"{SMALL_SHARE:.0%} of the applications",
                        server.base + "/admin/inbox",
                        officer,
                        'name="item"',
                        small_server.base + "/admin/inbox",
                        base_cookie=small_cookie,
                        target=SCALE_TARGET,
                        against="the same page over the small data",
                    )
                )
    return figures


def _row(name, figure, target=None) -> dict:
    return {
        "name": name,
        "figure": figure,
        "value": None,
        "unit": "ms",
        "baseline": None,
        "ratio": None,
        "target": target,
        "ok": False,
    }


def _answers(url, cookie, expect, row) -> bool:
    """The URL answers 200 with the expected text (a redirect to the login page must
    never pass for a fast page); if not, says so in the row."""
    status, body = fetch(url, cookie)
    if status != 200 or (expect and expect not in body):
        row["note"] = f"answered {status}" + ("" if status != 200 else f" without {expect!r}")
        return False
    return True


def _measured(name, figure, url, cookie, expect) -> dict:
    row = _row(name, figure)
    if _answers(url, cookie, expect, row):
        m: Measurement = measure(url, cookie, SECONDS)
        row.update(value=round(m.median_ms, 2), ratio=1.0, ok=m.errors == 0)
        row["note"] = f"{m.tool}: {m.requests} requests, {m.errors} errors"
    return row


def paired(
    name,
    figure,
    url,
    cookie,
    expect,
    base_url,
    base_cookie=None,
    target=TARGET_RATIO,
    against="/healthz",
    spread_ips=False,
) -> dict:
    """The page against a baseline (/healthz unless told) in ROUNDS pairs, the baseline
    measured just before the page each time, so a machine that slows down or speeds up
    moves both sides of a pair alike. The ratio is the median of the pairs' ratios (a
    disturbed pair or two cannot decide it); value and baseline are the medians of the
    page's and the baseline's medians."""
    row = _row(name, figure, target)
    if not _answers(url, cookie, expect, row):
        return row
    if base_cookie is not None and not _answers(base_url, base_cookie, expect, row):
        return row
    pairs = [
        (
            measure(base_url, base_cookie, SECONDS, warmup=WARMUP, spread_ips=spread_ips),
            measure(url, cookie, SECONDS, warmup=WARMUP, spread_ips=spread_ips),
        )
        for _ in range(ROUNDS)
    ]
    ratios = [page.median_ms / base.median_ms for base, page in pairs]
    errors = sum(page.errors + base.errors for base, page in pairs)
    row.update(
        value=round(statistics.median(page.median_ms for _, page in pairs), 2),
        baseline=round(statistics.median(base.median_ms for base, _ in pairs), 2),
        ratio=round(statistics.median(ratios), 2),
    )
    row["ok"] = errors == 0 and row["ratio"] <= target
    row["note"] = (
        f"{pairs[0][1].tool}, {ROUNDS} pairs with {against}: ratios "
        + ", ".join(f"{r:.2f}" for r in ratios)
        + f"; {sum(page.requests for _, page in pairs)} requests, {errors} errors"
    )
    return row
